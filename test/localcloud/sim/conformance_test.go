package sim_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// TestConformance runs every EC2, Elastic Load Balancing v2 and Auto
// Scaling rule through real aws-sdk-go-v2 clients against a stepped local
// cloud over HTTP: request serialization, error codes and HTTP statuses,
// pagination tokens and the SDK's retries are all on the path. The rules
// after sim.Rules exist over HTTP only: they check what only a client sees
// (typed errors, retries, the SDK's paginators).
func TestConformance(t *testing.T) {
	sim.RunRules(t, sim.Rules, overHTTP)
	t.Run("ASecondRefreshIsRefusedWithTheTypedInstanceRefreshInProgressFault", testSecondRefreshTypedFault)
	t.Run("RollbackToLatestIsRefusedWithTheTypedIrreversibleInstanceRefreshFault", testRollbackToLatestTypedFault)
	t.Run("AThrottledCallIsRetriedByTheSDKUntilItSucceeds", testThrottledCallIsRetried)
	t.Run("ThrottlingThatOutlastsTheRetriesReachesTheCallerWithEachServicesCode", testThrottlingOutlastsRetries)
	t.Run("TheSDKPaginatorWalksDescribeInstancesPageByPage", testDescribeInstancesPaginator)
}

// overHTTP is the Backend of a fresh local cloud served on a loopback port.
func overHTTP(t testing.TB) *sim.TestCloud {
	t.Helper()
	env := cloudtest.New(t, localcloud.Options{Seed: sim.TestSeed})
	return &sim.TestCloud{
		World: env.Cloud.World,
		Clock: env.Cloud.Clock,
		Clients: func(region string) sim.Clients {
			r := env.InRegion(region).WithoutClientValidation()
			return sim.Clients{EC2: r.EC2, ELB: r.ELB, AutoScaling: r.AutoScaling}
		},
		SetAlarm: func(t testing.TB, region, name, state string) { holdAlarm(t, env.InRegion(region), name, state) },
		OverHTTP: true,
	}
}

// holdAlarm makes the alarm exist and sets its state through the
// CloudWatch API. The alarm watches a metric nobody publishes and ignores
// missing data, so CloudWatch's own evaluations keep whatever state
// SetAlarmState gave it, as they do in AWS.
func holdAlarm(t testing.TB, env *cloudtest.Env, name, state string) {
	t.Helper()
	ctx := t.Context()
	_, err := env.CloudWatch.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String(name),
		Namespace:          aws.String("Phoenix/Conformance"),
		MetricName:         aws.String(name),
		Statistic:          cwtypes.StatisticSum,
		Period:             aws.Int32(60),
		EvaluationPeriods:  aws.Int32(1),
		Threshold:          aws.Float64(0),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		TreatMissingData:   aws.String("ignore"),
	})
	if err != nil {
		t.Fatalf("PutMetricAlarm %s: %v", name, err)
	}
	_, err = env.CloudWatch.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName:   aws.String(name),
		StateValue:  cwtypes.StateValue(state),
		StateReason: aws.String("set by the conformance test"),
	})
	if err != nil {
		t.Fatalf("SetAlarmState %s %s: %v", name, state, err)
	}
}

// refreshingGroup starts a cloud with group "web" of two instances on
// version 1 of a launch template whose version 2 launches the same image,
// and a refresh of the group to desired, still in progress.
func refreshingGroup(t *testing.T, desired string) *cloudtest.Env {
	t.Helper()
	env := cloudtest.New(t, localcloud.Options{Seed: sim.TestSeed})
	ctx := t.Context()
	img, err := env.Cloud.World.AddImage("us-east-1", sim.ImageSpec{Name: "app", Available: true})
	if err != nil {
		t.Fatalf("add image: %v", err)
	}
	data := &ec2types.RequestLaunchTemplateData{ImageId: aws.String(img), InstanceType: ec2types.InstanceTypeT3Micro}
	lt, err := env.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"), LaunchTemplateData: data})
	if err != nil {
		t.Fatalf("CreateLaunchTemplate: %v", err)
	}
	ltID := lt.LaunchTemplate.LaunchTemplateId
	if _, err := env.EC2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: ltID, LaunchTemplateData: data}); err != nil {
		t.Fatalf("CreateLaunchTemplateVersion: %v", err)
	}
	_, err = env.AutoScaling.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(0), MaxSize: aws.Int32(4), DesiredCapacity: aws.Int32(2),
		LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateId: ltID, Version: aws.String("1")},
		AvailabilityZones: []string{"us-east-1a", "us-east-1b"},
	})
	if err != nil {
		t.Fatalf("CreateAutoScalingGroup: %v", err)
	}
	env.RunUntil(t, 10*time.Minute, "the group is in service", func() bool { return inService(t, env) == 2 })
	_, err = env.AutoScaling.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{
		AutoScalingGroupName: aws.String("web"),
		DesiredConfiguration: &astypes.DesiredConfiguration{LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: ltID, Version: aws.String(desired)}},
		Preferences:          &astypes.RefreshPreferences{CheckpointPercentages: []int32{50, 100}},
	})
	if err != nil {
		t.Fatalf("StartInstanceRefresh: %v", err)
	}
	return env
}

// inService counts group web's InService instances through the API.
func inService(t *testing.T, env *cloudtest.Env) int {
	t.Helper()
	out, err := env.AutoScaling.DescribeAutoScalingGroups(t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		t.Fatalf("DescribeAutoScalingGroups: %v", err)
	}
	n := 0
	for _, i := range out.AutoScalingGroups[0].Instances {
		if i.LifecycleState == astypes.LifecycleStateInService {
			n++
		}
	}
	return n
}

// wantStatus fails unless err came back with the HTTP status.
func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("error %v: want an HTTP %d response", err, status)
	}
}

// testSecondRefreshTypedFault: only one refresh per group may be active,
// and a caller can tell with errors.As, as the SDK documents, not only by
// comparing codes.
func testSecondRefreshTypedFault(t *testing.T) {
	t.Parallel()
	env := refreshingGroup(t, "2")
	_, err := env.AutoScaling.StartInstanceRefresh(t.Context(), &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})
	var fault *astypes.InstanceRefreshInProgressFault
	if !errors.As(err, &fault) || fault.ErrorCode() != "InstanceRefreshInProgress" {
		t.Fatalf("second StartInstanceRefresh: %v; want *types.InstanceRefreshInProgressFault", err)
	}
	wantStatus(t, err, http.StatusBadRequest)
}

// testRollbackToLatestTypedFault: rollback is refused when the desired
// configuration uses $Latest, with the typed fault callers match on.
func testRollbackToLatestTypedFault(t *testing.T) {
	t.Parallel()
	env := refreshingGroup(t, "$Latest")
	_, err := env.AutoScaling.RollbackInstanceRefresh(t.Context(), &autoscaling.RollbackInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})
	var fault *astypes.IrreversibleInstanceRefreshFault
	if !errors.As(err, &fault) || fault.ErrorCode() != "IrreversibleInstanceRefresh" {
		t.Fatalf("RollbackInstanceRefresh of a $Latest refresh: %v; want *types.IrreversibleInstanceRefreshFault", err)
	}
	wantStatus(t, err, http.StatusBadRequest)
}

// testThrottledCallIsRetried: throttling errors are retryable, so the
// standard retryer tries again and the caller sees only the success, after
// as many attempts as the throttle lasted plus one.
func testThrottledCallIsRetried(t *testing.T) {
	t.Parallel()
	env := cloudtest.New(t, localcloud.Options{Seed: sim.TestSeed})
	id, err := env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: "autoscaling", Operation: "DescribeAutoScalingGroups", Times: 2})
	if err != nil {
		t.Fatalf("add fault: %v", err)
	}
	out, err := env.AutoScaling.DescribeAutoScalingGroups(t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil {
		t.Fatalf("DescribeAutoScalingGroups after two throttles: %v; want the SDK to retry past them", err)
	}
	attempts, ok := retry.GetAttemptResults(out.ResultMetadata)
	if !ok || len(attempts.Results) != 3 {
		t.Fatalf("attempts = %+v, want three: two throttled, one answered", attempts.Results)
	}
	if r := firedRule(t, env, id); r.Fired != 2 {
		t.Fatalf("the throttle fired %d times, want 2", r.Fired)
	}
}

// testThrottlingOutlastsRetries: when every attempt is throttled the
// caller gets the service's own throttling code and status, after the
// standard retryer's three attempts.
func testThrottlingOutlastsRetries(t *testing.T) {
	t.Parallel()
	env := cloudtest.New(t, localcloud.Options{Seed: sim.TestSeed})
	cases := []struct {
		service, operation, code string
		status                   int
		call                     func() error
	}{
		{"autoscaling", "DescribeAutoScalingGroups", "Throttling", http.StatusBadRequest, func() error {
			_, err := env.AutoScaling.DescribeAutoScalingGroups(t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{})
			return err
		}},
		{"ec2", "DescribeInstances", "RequestLimitExceeded", http.StatusServiceUnavailable, func() error {
			_, err := env.EC2.DescribeInstances(t.Context(), &ec2.DescribeInstancesInput{})
			return err
		}},
	}
	for _, c := range cases {
		id, err := env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: c.service, Operation: c.operation})
		if err != nil {
			t.Fatalf("add fault: %v", err)
		}
		err = c.call()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != c.code {
			t.Fatalf("%s %s always throttled: %v; want %s", c.service, c.operation, err, c.code)
		}
		wantStatus(t, err, c.status)
		if r := firedRule(t, env, id); r.Fired != retry.DefaultMaxAttempts {
			t.Fatalf("%s %s was tried %d times, want the standard retryer's %d", c.service, c.operation, r.Fired, retry.DefaultMaxAttempts)
		}
	}
}

// firedRule returns the fault rule with id, with its counters.
func firedRule(t *testing.T, env *cloudtest.Env, id string) faults.Rule {
	t.Helper()
	rules := env.Cloud.Faults.Rules()
	i := slices.IndexFunc(rules, func(r faults.Rule) bool { return r.ID == id })
	if i < 0 {
		t.Fatalf("fault rule %s is gone", id)
	}
	return rules[i]
}

// testDescribeInstancesPaginator: the NextToken DescribeInstances answers
// is one the SDK's paginator can follow to the end (it stops with an error
// on a repeated token), and the pages hold every instance once.
func testDescribeInstancesPaginator(t *testing.T) {
	t.Parallel()
	env := cloudtest.New(t, localcloud.Options{Seed: sim.TestSeed})
	img, err := env.Cloud.World.AddImage("us-east-1", sim.ImageSpec{Name: "app", Available: true})
	if err != nil {
		t.Fatalf("add image: %v", err)
	}
	run, err := env.EC2.RunInstances(t.Context(), &ec2.RunInstancesInput{
		ImageId: aws.String(img), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(12), MaxCount: aws.Int32(12),
	})
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	var want, got []string
	for _, i := range run.Instances {
		want = append(want, aws.ToString(i.InstanceId))
	}
	pages := 0
	p := ec2.NewDescribeInstancesPaginator(env.EC2, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				got = append(got, aws.ToString(i.InstanceId))
			}
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if pages != 3 || !slices.Equal(got, want) {
		t.Fatalf("%d pages holding %v, want 3 pages holding each of %v once", pages, got, want)
	}
}
