package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// completeGroups completes a group name with the Phoenix groups of the
// region (tagged phoenix:enabled): one DescribeAutoScalingGroups listing,
// filtered by Auto Scaling, through the fleet's shallow listing, which
// asks EC2 nothing. Any failure (no credentials, no region) completes
// nothing rather than printing an error into the shell.
func (a *app) completeGroups(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	if cmd.Name() != "status" && len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx := cmd.Context()
	s, err := a.session(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	groups, err := s.fleet.GroupsTaggedShallow(ctx, s.region, rollout.TagEnabled)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, g := range groups {
		if strings.HasPrefix(g.Key.Name, prefix) {
			names = append(names, g.Key.Name)
		}
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
