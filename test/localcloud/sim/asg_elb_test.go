package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// targetGroup makes a load balancer with a listener forwarding to a new
// target group (so that the target group health checks its targets) and
// returns the target group's ARN.
func (f *fixture) targetGroup(name string) string {
	f.t.Helper()
	e := f.elb
	lb, err := e.CreateLoadBalancer(f.ctx, &elb.CreateLoadBalancerInput{Name: aws.String(name + "-lb"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		f.t.Fatalf("create load balancer: %v", err)
	}
	f.w.Lock()
	vpc := f.w.defaultVPC(f.w.region(testRegion))
	f.w.Unlock()
	tg, err := e.CreateTargetGroup(f.ctx, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(vpc)})
	if err != nil {
		f.t.Fatalf("create target group: %v", err)
	}
	tgARN := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	_, err = e.CreateListener(f.ctx, &elb.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}},
	})
	if err != nil {
		f.t.Fatalf("create listener: %v", err)
	}
	return tgARN
}

// elbGroup creates a group with ELB health checks in the target group.
func (f *fixture) elbGroup(name, ltID, tgARN string, desired, grace int32) {
	f.t.Helper()
	_, err := f.as.CreateAutoScalingGroup(f.ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(name), MinSize: aws.Int32(0), MaxSize: aws.Int32(2*desired + 2), DesiredCapacity: aws.Int32(desired),
		LaunchTemplate:    &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ltID), Version: aws.String("1")},
		AvailabilityZones: []string{"us-east-1a", "us-east-1b"}, TargetGroupARNs: []string{tgARN},
		HealthCheckType: aws.String("ELB"), HealthCheckGracePeriod: aws.Int32(grace),
	})
	if err != nil {
		f.t.Fatalf("create group: %v", err)
	}
}

func testELBHealthChecks(t *testing.T, backend Backend) {
	t.Parallel()
	t.Run("with ELB health checks a replacement counts only once its target is healthy", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, backend)
		tg := f.targetGroup("web-tg")
		lt := f.template("web-lt", f.image("app-v1", ""))
		f.version(lt, f.image("app-v2", ""))
		f.elbGroup("web", lt, tg, 2, 300)
		f.until(30*time.Minute, "both targets are healthy", func() bool { return f.grp("web").ready == 2 })
		id := f.refresh(&autoscaling.StartInstanceRefreshInput{
			AutoScalingGroupName: aws.String("web"),
			DesiredConfiguration: &types.DesiredConfiguration{LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String("2")}},
			Preferences:          &types.RefreshPreferences{MinHealthyPercentage: aws.Int32(50), InstanceWarmup: aws.Int32(0), CheckpointPercentages: []int32{50, 100}, CheckpointDelay: aws.Int32(60)},
		})
		var first *GroupInstance
		f.until(time.Hour, "the first replacement counts", func() bool {
			for _, gi := range f.grp("web").Instances {
				if gi.launchedBy != nil && gi.Ready {
					first = gi
					return true
				}
			}
			return false
		})
		f.w.Lock()
		state, _, _ := f.w.targetHealth(f.w.region(testRegion), tg, first.InstanceID)
		since := f.clk.Now().Sub(first.InServiceTime)
		f.w.Unlock()
		// The application answers 60 s after the instance runs; the load
		// balancer needs a passing check after that.
		if state != TargetHealthy || since < time.Minute {
			t.Errorf("replacement counted %s after InService with target %s; want at least 1m and healthy", since, state)
		}
		f.waitStatus("web", id, RefreshSuccessful, 2*time.Hour)
	})
	t.Run("an instance failing ELB health checks after the grace period is replaced", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, backend)
		tg := f.targetGroup("bad-tg")
		lt := f.template("bad-lt", f.image("bad-app", string(BehaviorUnhealthy)))
		f.elbGroup("bad", lt, tg, 1, 120)
		var replacedAt, inService time.Time
		f.until(time.Hour, "the unhealthy instance is replaced", func() bool {
			g := f.grp("bad")
			for _, a := range g.Activities {
				if strings.Contains(a.Cause, "an ELB system health check failure") {
					gi := g.Instances[strings.TrimPrefix(a.Description, "Terminating EC2 instance: ")]
					if gi == nil {
						t.Fatalf("the replaced instance left the group before draining")
					}
					replacedAt, inService = a.StartTime, gi.InServiceTime
					return true
				}
			}
			return false
		})
		if replacedAt.Sub(inService) < 120*time.Second {
			t.Errorf("instance replaced %s after InService, inside the 120 s grace period", replacedAt.Sub(inService))
		}
	})
	t.Run("an instance is deregistered and drained before it is terminated", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, backend)
		tg := f.targetGroup("drain-tg")
		lt := f.template("drain-lt", f.image("drain-app", ""))
		f.elbGroup("drain", lt, tg, 2, 300)
		f.until(30*time.Minute, "both targets are healthy", func() bool { return f.grp("drain").ready == 2 })
		if _, err := f.as.SetDesiredCapacity(f.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("drain"), DesiredCapacity: aws.Int32(1)}); err != nil {
			t.Fatalf("scale in: %v", err)
		}
		f.w.Lock()
		var victim *GroupInstance
		for _, gi := range f.grp("drain").Instances {
			if gi.LifecycleState == LifecycleTerminating {
				victim = gi
			}
		}
		state, _, _ := f.w.targetHealth(f.w.region(testRegion), tg, victim.InstanceID)
		ec2State := victim.inst.State
		f.w.Unlock()
		if state != TargetDraining || ec2State != InstanceRunning {
			t.Fatalf("right after scale in: target %s, instance %s; want draining and still running", state, ec2State)
		}
		f.until(time.Hour, "the victim is gone", func() bool { return f.grp("drain").Instances[victim.InstanceID] == nil })
	})
}
