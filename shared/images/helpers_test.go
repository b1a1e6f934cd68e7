package images_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/dynamo"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

const (
	region  = "us-east-1"
	account = sim.DefaultAccount
	foreign = "210987654321"
)

// requireDynamoDB skips the test loudly when dynalite is not installed, or
// fails it when PHOENIX_REQUIRE_CONFORMANCE is set, as `make unit` does.
func requireDynamoDB(t *testing.T) {
	t.Helper()
	dynamo.Require(t, "image publishing tests against DynamoDB")
}

// newCloud starts a local cloud, with DynamoDB when db is set.
func newCloud(t *testing.T, db bool) *cloudtest.Env {
	t.Helper()
	if db {
		requireDynamoDB(t)
	}
	return cloudtest.New(t, localcloud.Options{Seed: 1, DynamoDB: db})
}

// table is the ledger table, which holds the publishing queue too.
const table = "phoenix-ledger"

// createTable makes the ledger table.
func createTable(t *testing.T, env *cloudtest.Env) *dynamodb.Client {
	t.Helper()
	db := dynamodb.NewFromConfig(env.Config)
	in := ledger.TableSchema()
	in.TableName = aws.String(table)
	if _, err := db.CreateTable(context.Background(), in); err != nil {
		t.Fatalf("create table: %v", err)
	}
	return db
}

// ownImage makes an available image of the test account with tags.
func ownImage(t *testing.T, env *cloudtest.Env, name, arch string, tags map[string]string) string {
	t.Helper()
	id, err := env.Cloud.World.AddImage(region, sim.ImageSpec{Name: name, Architecture: arch, Tags: tags, Available: true})
	if err != nil {
		t.Fatalf("add image %s: %v", name, err)
	}
	return id
}

// groupSpec is an Auto Scaling group to create for a test.
type groupSpec struct {
	name  string
	tags  map[string]string
	image string
	// types, when several, become a mixed instances policy's overrides;
	// one is the launch template's type.
	types []string
}

// createGroup makes a launch template and an empty group on it.
func createGroup(t *testing.T, env *cloudtest.Env, g groupSpec) {
	t.Helper()
	ctx := context.Background()
	lt, err := env.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("lt-" + g.name),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(g.image), InstanceType: ec2types.InstanceType(g.types[0])},
	})
	if err != nil {
		t.Fatalf("create launch template for %s: %v", g.name, err)
	}
	spec := &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("1")}
	in := &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(g.name), MinSize: aws.Int32(0), MaxSize: aws.Int32(2), DesiredCapacity: aws.Int32(0),
		AvailabilityZones: []string{region + "a"},
	}
	if len(g.types) > 1 {
		var overrides []astypes.LaunchTemplateOverrides
		for _, ty := range g.types {
			overrides = append(overrides, astypes.LaunchTemplateOverrides{InstanceType: aws.String(ty)})
		}
		in.MixedInstancesPolicy = &astypes.MixedInstancesPolicy{LaunchTemplate: &astypes.LaunchTemplate{LaunchTemplateSpecification: spec, Overrides: overrides}}
	} else {
		in.LaunchTemplate = spec
	}
	for k, v := range g.tags {
		in.Tags = append(in.Tags, astypes.Tag{Key: aws.String(k), Value: aws.String(v), PropagateAtLaunch: aws.Bool(false)})
	}
	if _, err := env.AutoScaling.CreateAutoScalingGroup(ctx, in); err != nil {
		t.Fatalf("create group %s: %v", g.name, err)
	}
}

// putImageParameter writes an aws:ec2:image parameter through the real
// SSM client and lets Parameter Store's validation run.
func putImageParameter(t *testing.T, env *cloudtest.Env, name, imageID string, overwrite bool) {
	t.Helper()
	_, err := env.SSM.PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(imageID), Type: ssmtypes.ParameterTypeString,
		DataType: aws.String(publish.DataTypeImage), Overwrite: aws.Bool(overwrite),
	})
	if err != nil {
		t.Fatalf("put parameter %s: %v", name, err)
	}
	env.Settle()
}

// eventsOf returns the events the cloud emitted with the detail-type, as
// EventBridge would deliver them.
func eventsOf(t *testing.T, env *cloudtest.Env, detailType string) []sim.Event {
	t.Helper()
	var out []sim.Event
	for _, ev := range env.Cloud.World.Events() {
		if ev.DetailType == detailType {
			out = append(out, ev)
		}
	}
	return out
}

func key(name string) rollout.GroupKey { return rollout.GroupKey{Region: region, Name: name} }

// webTags are the tags of an enabled web group in a wave.
func webTags(wave string) map[string]string {
	t := map[string]string{rollout.TagEnabled: "true", publish.TagRole: "web"}
	if wave != "" {
		t[publish.TagWave] = wave
	}
	return t
}

// approved are the tags a publishable web image carries.
func approved() map[string]string {
	return map[string]string{publish.TagRole: "web", "phoenix:approved": "true"}
}

// within fails the test unless cond holds before limit simulated time.
func within(t *testing.T, env *cloudtest.Env, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	env.RunUntil(t, limit, what, cond)
}
