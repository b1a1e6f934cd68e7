package sim_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// TestImageReferenceConformance runs sim.ImageReferenceRules through real
// aws-sdk-go-v2 clients over HTTP, then checks DescribeImageReferences
// against the whole local cloud: SSM parameters come from its Parameter
// Store.
func TestImageReferenceConformance(t *testing.T) {
	sim.RunRules(t, sim.ImageReferenceRules, overHTTP)
	t.Run("EachResourceTypeReferencingAnAMIIsReportedOverHTTP", testEachResourceTypeReferencingAnAMIIsReportedOverHTTP)
}

func testEachResourceTypeReferencingAnAMIIsReportedOverHTTP(t *testing.T) {
	env := cloudtest.New(t, localcloud.Options{Seed: sim.TestSeed})
	ctx := t.Context()
	const region = "us-east-1"
	acct := env.Cloud.World.Account()
	addImage := func(name string) string {
		id, err := env.Cloud.World.AddImage(region, sim.ImageSpec{Name: name, Available: true})
		if err != nil {
			t.Fatalf("add image %s: %v", name, err)
		}
		return id
	}
	used, next, unused := addImage("app-1"), addImage("app-2"), addImage("app-3")

	// Three instances of the AMI: one stays running, one is stopped, one
	// terminated.
	run, err := env.EC2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(used), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(3), MaxCount: aws.Int32(3),
	})
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	var ids []string
	for _, i := range run.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	env.Advance(sim.DefaultEC2Config().PendingTime)
	running, stopped, terminated := ids[0], ids[1], ids[2]
	sim.SetInstanceState(t, env.Cloud.World, region, stopped, sim.InstanceStopped)
	if _, err := env.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{terminated}}); err != nil {
		t.Fatalf("TerminateInstances: %v", err)
	}
	env.Advance(sim.DefaultEC2Config().ShutdownTime)

	// Two versions of one template name the AMI; a third names the next.
	lt, err := env.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(used), InstanceType: ec2types.InstanceTypeT3Micro},
	})
	if err != nil {
		t.Fatalf("CreateLaunchTemplate: %v", err)
	}
	ltID := aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
	for _, img := range []string{used, next} {
		if _, err := env.EC2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(ltID), SourceVersion: aws.String("1"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(img)},
		}); err != nil {
			t.Fatalf("CreateLaunchTemplateVersion: %v", err)
		}
	}

	// An aws:ec2:image parameter names the AMI; a text parameter holding
	// the same id is not an AMI reference; a second aws:ec2:image
	// parameter names the next AMI.
	put := func(name, value, dataType string) {
		if _, err := env.SSM.PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString, DataType: aws.String(dataType),
		}); err != nil {
			t.Fatalf("PutParameter %s: %v", name, err)
		}
	}
	put("/golden/web", used, "aws:ec2:image")
	put("/notes/web", used, "text")
	put("/golden/next", next, "aws:ec2:image")
	env.Settle()

	out, err := env.EC2.DescribeImageReferences(ctx, &ec2.DescribeImageReferencesInput{
		ImageIds: []string{used, unused, next}, IncludeAllResourceTypes: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("DescribeImageReferences: %v", err)
	}
	var got []string
	for _, r := range out.ImageReferences {
		got = append(got, aws.ToString(r.ImageId)+" "+string(r.ResourceType)+" "+aws.ToString(r.Arn))
	}
	instanceRefs := []string{}
	for _, id := range []string{running, stopped, terminated} {
		instanceRefs = append(instanceRefs, fmt.Sprintf("%s ec2:Instance arn:aws:ec2:%s:%s:instance/%s", used, region, acct, id))
	}
	slices.Sort(instanceRefs)
	want := append(instanceRefs,
		fmt.Sprintf("%s ec2:LaunchTemplate arn:aws:ec2:%s:%s:launch-template/%s", used, region, acct, ltID),
		fmt.Sprintf("%s ssm:Parameter arn:aws:ssm:%s:%s:parameter/golden/web", used, region, acct),
		fmt.Sprintf("%s ec2:LaunchTemplate arn:aws:ec2:%s:%s:launch-template/%s", next, region, acct, ltID),
		fmt.Sprintf("%s ssm:Parameter arn:aws:ssm:%s:%s:parameter/golden/next", next, region, acct),
	)
	if !slices.Equal(got, want) {
		t.Fatalf("references\n  %q\nwant\n  %q", got, want)
	}

	// Narrowed to what still runs: the running instance and the parameter.
	out, err = env.EC2.DescribeImageReferences(ctx, &ec2.DescribeImageReferencesInput{
		ImageIds: []string{used},
		ResourceTypes: []ec2types.ResourceTypeRequest{
			{ResourceType: ec2types.ImageReferenceResourceTypeEc2Instance, ResourceTypeOptions: []ec2types.ResourceTypeOption{{
				OptionName: ec2types.ImageReferenceOptionNameStateName, OptionValues: []string{"pending", "running"},
			}}},
			{ResourceType: ec2types.ImageReferenceResourceTypeSsmParameter},
		},
	})
	if err != nil {
		t.Fatalf("DescribeImageReferences narrowed: %v", err)
	}
	got = got[:0]
	for _, r := range out.ImageReferences {
		got = append(got, string(r.ResourceType)+" "+aws.ToString(r.Arn))
	}
	want = []string{
		fmt.Sprintf("ec2:Instance arn:aws:ec2:%s:%s:instance/%s", region, acct, running),
		fmt.Sprintf("ssm:Parameter arn:aws:ssm:%s:%s:parameter/golden/web", region, acct),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("narrowed references %q, want %q", got, want)
	}

	// The SDK's paginator walks the answer page by page.
	p := ec2.NewDescribeImageReferencesPaginator(env.EC2, &ec2.DescribeImageReferencesInput{
		ImageIds: []string{used, next}, IncludeAllResourceTypes: aws.Bool(true), MaxResults: aws.Int32(5),
	})
	pages, n := 0, 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		n += len(page.ImageReferences)
	}
	if pages != 2 || n != 7 {
		t.Fatalf("the paginator read %d references in %d pages, want 7 in 2", n, pages)
	}
	// Overwriting the parameter with the next AMI moves its reference.
	if _, err := env.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/golden/web"), Value: aws.String(next), Overwrite: aws.Bool(true)}); err != nil {
		t.Fatalf("PutParameter overwrite: %v", err)
	}
	env.Settle()
	out, err = env.EC2.DescribeImageReferences(ctx, &ec2.DescribeImageReferencesInput{
		ImageIds: []string{used, next}, ResourceTypes: []ec2types.ResourceTypeRequest{{ResourceType: ec2types.ImageReferenceResourceTypeSsmParameter}},
	})
	if err != nil {
		t.Fatalf("DescribeImageReferences after the overwrite: %v", err)
	}
	got = got[:0]
	for _, r := range out.ImageReferences {
		got = append(got, aws.ToString(r.ImageId)+" "+aws.ToString(r.Arn))
	}
	want = []string{
		fmt.Sprintf("%s arn:aws:ssm:%s:%s:parameter/golden/next", next, region, acct),
		fmt.Sprintf("%s arn:aws:ssm:%s:%s:parameter/golden/web", next, region, acct),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("after the overwrite %q, want %q", got, want)
	}
}
