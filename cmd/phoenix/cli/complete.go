package cli

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/spf13/cobra"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// completeGroups completes a group name with the Phoenix groups of the
// region (tagged phoenix:enabled): one DescribeAutoScalingGroups listing,
// filtered by Auto Scaling. Any failure (no credentials, no region)
// completes nothing rather than printing an error into the shell.
func (a *app) completeGroups(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	if cmd.Name() != "status" && len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx := cmd.Context()
	s, err := a.session(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(s.asg, &autoscaling.DescribeAutoScalingGroupsInput{
		Filters:    []astypes.Filter{{Name: aws.String("tag-key"), Values: []string{rollout.TagEnabled}}},
		MaxRecords: aws.Int32(100),
	})
	var names []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		for _, g := range page.AutoScalingGroups {
			if name := aws.ToString(g.AutoScalingGroupName); strings.HasPrefix(name, prefix) {
				names = append(names, name)
			}
		}
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
