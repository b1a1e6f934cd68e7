package differential

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// The Elastic Load Balancing v2 comparisons: target groups and their
// attributes, Application Load Balancers, listeners, tags and targets.

var (
	elbTGARN       = regexp.MustCompile(`^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/[a-z0-9-]+/[0-9a-f]{16}$`)
	elbLBARN       = regexp.MustCompile(`^arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/[a-z0-9-]+/[0-9a-f]{16}$`)
	elbListenerARN = regexp.MustCompile(`^arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/[a-z0-9-]+/[0-9a-f]{16}/[0-9a-f]{16}$`)
	elbDNS         = regexp.MustCompile(`^[a-z0-9-]+\.us-east-1\.elb\.amazonaws\.com$`)
)

// elbNet is one side's network: a VPC and two subnets. moto checks that
// they exist, so its side uses its default VPC; the local cloud does not
// model VPCs and accepts any ids.
type elbNet struct {
	vpc     string
	subnets []string
}

func elbSetup(t *testing.T) (*pair, [2]*elb.Client, [2]elbNet) {
	t.Helper()
	p := newPair(t)
	cs := [2]*elb.Client{elb.NewFromConfig(p.LocalConfig), elb.NewFromConfig(p.MotoConfig)}
	m := ec2.NewFromConfig(p.MotoConfig)
	subs, err := m.DescribeSubnets(bg, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	if err != nil || len(subs.Subnets) < 2 {
		t.Fatalf("moto default subnets: %v (%d)", err, len(subs.Subnets))
	}
	sort.Slice(subs.Subnets, func(i, j int) bool {
		return aws.ToString(subs.Subnets[i].AvailabilityZone) < aws.ToString(subs.Subnets[j].AvailabilityZone)
	})
	nets := [2]elbNet{
		{vpc: "vpc-0d1ff0000000000a1", subnets: []string{"subnet-0d1ff00000000000a", "subnet-0d1ff00000000000b"}},
		{vpc: aws.ToString(subs.Subnets[0].VpcId), subnets: []string{aws.ToString(subs.Subnets[0].SubnetId), aws.ToString(subs.Subnets[1].SubnetId)}},
	}
	return p, cs, nets
}

// elbTG renders what a client reads of a target group (not its ARN).
func elbTG(tg elbtypes.TargetGroup) string {
	m := ""
	if tg.Matcher != nil {
		m = aws.ToString(tg.Matcher.HttpCode)
	}
	return strings.Join([]string{
		aws.ToString(tg.TargetGroupName), string(tg.Protocol), itoa(int64(aws.ToInt32(tg.Port))), string(tg.TargetType),
		"hc=" + string(tg.HealthCheckProtocol), aws.ToString(tg.HealthCheckPort), aws.ToString(tg.HealthCheckPath),
		itoa(int64(aws.ToInt32(tg.HealthCheckIntervalSeconds))) + "s", itoa(int64(aws.ToInt32(tg.HealthCheckTimeoutSeconds))) + "s",
		itoa(int64(aws.ToInt32(tg.HealthyThresholdCount))) + "/" + itoa(int64(aws.ToInt32(tg.UnhealthyThresholdCount))),
		"matcher=" + m, "enabled=" + map[bool]string{true: "true", false: "false"}[aws.ToBool(tg.HealthCheckEnabled)],
		"lbs=" + itoa(int64(len(tg.LoadBalancerArns))),
	}, " ")
}

func elbCreateTG(t *testing.T, cs [2]*elb.Client, nets [2]elbNet, name string) ([2]*elb.CreateTargetGroupOutput, [2]outcome) {
	t.Helper()
	return ec2Each(t, cs, func(c *elb.Client, s int) (*elb.CreateTargetGroupOutput, error) {
		return c.CreateTargetGroup(bg, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(80), VpcId: aws.String(nets[s].vpc), Tags: []elbtypes.Tag{{Key: aws.String("app"), Value: aws.String(name)}}})
	})
}

// CreateTargetGroup defaults, its idempotency and errors,
// DescribeTargetGroups, ModifyTargetGroup, the attributes and
// DeleteTargetGroup.
func TestELBTargetGroups(t *testing.T) {
	_, cs, nets := elbSetup(t)
	created, out := elbCreateTG(t, cs, nets, "blue")
	ec2OK(t, "CreateTargetGroup", out)
	arn := [2]string{aws.ToString(created[0].TargetGroups[0].TargetGroupArn), aws.ToString(created[1].TargetGroups[0].TargetGroupArn)}
	ec2Match(t, "TargetGroupArn", elbTGARN, arn)
	ec2Same(t, "CreateTargetGroup defaults", [2]string{elbTG(created[0].TargetGroups[0]), elbTG(created[1].TargetGroups[0])})
	ec2Same(t, "CreateTargetGroup VpcId", [2]bool{aws.ToString(created[0].TargetGroups[0].VpcId) == nets[0].vpc, aws.ToString(created[1].TargetGroups[0].VpcId) == nets[1].vpc})

	// The same name and settings again: ELB documents that the call
	// succeeds (idempotent); moto refuses it.
	again, out := elbCreateTG(t, cs, nets, "blue")
	ec2Want(t, "CreateTargetGroup again, same settings", out, outcome{}, outcome{"DuplicateTargetGroupName", 400})
	if again[0] != nil && aws.ToString(again[0].TargetGroups[0].TargetGroupArn) != arn[0] {
		t.Errorf("local cloud CreateTargetGroup again returned %s, want the same %s", aws.ToString(again[0].TargetGroups[0].TargetGroupArn), arn[0])
	}
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.CreateTargetGroupOutput, error) {
		return c.CreateTargetGroup(bg, &elb.CreateTargetGroupInput{Name: aws.String("blue"), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(8080), VpcId: aws.String(nets[s].vpc)})
	})
	ec2Agree(t, "CreateTargetGroup same name, other port", out)
	if out[0].Code != "DuplicateTargetGroupName" {
		t.Errorf("CreateTargetGroup same name, other port: %+v", out[0])
	}
	for _, bad := range []string{"-blue", "blue_green", strings.Repeat("a", 33)} {
		_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.CreateTargetGroupOutput, error) {
			return c.CreateTargetGroup(bg, &elb.CreateTargetGroupInput{Name: aws.String(bad), Protocol: elbtypes.ProtocolEnumHttp,
				Port: aws.Int32(80), VpcId: aws.String(nets[s].vpc)})
		})
		ec2Agree(t, "CreateTargetGroup name "+bad, out)
		if out[0].Code != "ValidationError" {
			t.Errorf("CreateTargetGroup name %q: %+v", bad, out[0])
		}
	}
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.CreateTargetGroupOutput, error) {
		return c.CreateTargetGroup(bg, &elb.CreateTargetGroupInput{Name: aws.String("slow"), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(80), VpcId: aws.String(nets[s].vpc), HealthCheckIntervalSeconds: aws.Int32(10), HealthCheckTimeoutSeconds: aws.Int32(10)})
	})
	ec2Agree(t, "CreateTargetGroup timeout = interval", out)
	if out[0].Code != "ValidationError" {
		t.Errorf("CreateTargetGroup timeout = interval: %+v", out[0])
	}

	// A second group with its own health check.
	green, out := ec2Each(t, cs, func(c *elb.Client, s int) (*elb.CreateTargetGroupOutput, error) {
		return c.CreateTargetGroup(bg, &elb.CreateTargetGroupInput{Name: aws.String("green"), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(8080), VpcId: aws.String(nets[s].vpc), HealthCheckPath: aws.String("/health"), HealthCheckIntervalSeconds: aws.Int32(10),
			HealthCheckTimeoutSeconds: aws.Int32(3), HealthyThresholdCount: aws.Int32(3), UnhealthyThresholdCount: aws.Int32(4),
			Matcher: &elbtypes.Matcher{HttpCode: aws.String("200-299")}})
	})
	ec2OK(t, "CreateTargetGroup green", out)
	ec2Same(t, "CreateTargetGroup green", [2]string{elbTG(green[0].TargetGroups[0]), elbTG(green[1].TargetGroups[0])})
	greenARN := [2]string{aws.ToString(green[0].TargetGroups[0].TargetGroupArn), aws.ToString(green[1].TargetGroups[0].TargetGroupArn)}

	describe := func(in func(s int) *elb.DescribeTargetGroupsInput) ([2]*elb.DescribeTargetGroupsOutput, [2]outcome) {
		return ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DescribeTargetGroupsOutput, error) {
			return c.DescribeTargetGroups(bg, in(s))
		})
	}
	render := func(r *elb.DescribeTargetGroupsOutput) string {
		if r == nil {
			return "<nil>"
		}
		var parts []string
		for _, tg := range r.TargetGroups {
			parts = append(parts, elbTG(tg))
		}
		return strings.Join(parts, " | ")
	}
	for _, c := range []struct {
		what string
		in   func(s int) *elb.DescribeTargetGroupsInput
	}{
		{"all", func(int) *elb.DescribeTargetGroupsInput { return &elb.DescribeTargetGroupsInput{} }},
		{"by name", func(int) *elb.DescribeTargetGroupsInput {
			return &elb.DescribeTargetGroupsInput{Names: []string{"green"}}
		}},
		{"by arn", func(s int) *elb.DescribeTargetGroupsInput {
			return &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{greenARN[s], arn[s]}}
		}},
	} {
		r, out := describe(c.in)
		ec2OK(t, "DescribeTargetGroups "+c.what, out)
		ec2Same(t, "DescribeTargetGroups "+c.what, [2]string{render(r[0]), render(r[1])})
	}
	_, out = describe(func(int) *elb.DescribeTargetGroupsInput {
		return &elb.DescribeTargetGroupsInput{Names: []string{"nope"}}
	})
	ec2Agree(t, "DescribeTargetGroups unknown name", out)
	if out[0].Code != "TargetGroupNotFound" {
		t.Errorf("DescribeTargetGroups unknown name: %+v", out[0])
	}
	_, out = describe(func(s int) *elb.DescribeTargetGroupsInput {
		return &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{strings.Replace(arn[s], "/blue/", "/gone/", 1)}}
	})
	ec2Agree(t, "DescribeTargetGroups unknown arn", out)
	if out[0].Code != "TargetGroupNotFound" {
		t.Errorf("DescribeTargetGroups unknown arn: %+v", out[0])
	}
	pg, out := describe(func(int) *elb.DescribeTargetGroupsInput {
		return &elb.DescribeTargetGroupsInput{PageSize: aws.Int32(1)}
	})
	ec2OK(t, "DescribeTargetGroups PageSize", out)
	// moto ignores PageSize here (recorded).
	if len(pg[0].TargetGroups) != 1 || pg[0].NextMarker == nil || len(pg[1].TargetGroups) != 2 || pg[1].NextMarker != nil {
		t.Errorf("DescribeTargetGroups PageSize 1 of 2: local cloud %d, marker %v (want 1, a marker); moto %d, marker %v (recorded: 2, none)",
			len(pg[0].TargetGroups), pg[0].NextMarker != nil, len(pg[1].TargetGroups), pg[1].NextMarker != nil)
	}

	// ModifyTargetGroup.
	mod, out := ec2Each(t, cs, func(c *elb.Client, s int) (*elb.ModifyTargetGroupOutput, error) {
		return c.ModifyTargetGroup(bg, &elb.ModifyTargetGroupInput{TargetGroupArn: aws.String(arn[s]), HealthCheckPath: aws.String("/ready"),
			HealthCheckIntervalSeconds: aws.Int32(15), Matcher: &elbtypes.Matcher{HttpCode: aws.String("200,302")}})
	})
	ec2OK(t, "ModifyTargetGroup", out)
	ec2Same(t, "ModifyTargetGroup", [2]string{elbTG(mod[0].TargetGroups[0]), elbTG(mod[1].TargetGroups[0])})
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.ModifyTargetGroupOutput, error) {
		return c.ModifyTargetGroup(bg, &elb.ModifyTargetGroupInput{TargetGroupArn: aws.String(strings.Replace(arn[s], "/blue/", "/gone/", 1)), HealthCheckPath: aws.String("/x")})
	})
	ec2Agree(t, "ModifyTargetGroup unknown", out)
	if out[0].Code != "TargetGroupNotFound" {
		t.Errorf("ModifyTargetGroup unknown: %+v", out[0])
	}

	// Attributes.
	attrs := func() [2]map[string]string {
		r, out := ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DescribeTargetGroupAttributesOutput, error) {
			return c.DescribeTargetGroupAttributes(bg, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(arn[s])})
		})
		ec2OK(t, "DescribeTargetGroupAttributes", out)
		var m [2]map[string]string
		for s := range r {
			m[s] = map[string]string{}
			for _, a := range r[s].Attributes {
				m[s][aws.ToString(a.Key)] = aws.ToString(a.Value)
			}
		}
		return m
	}
	a := attrs()
	var onlyLocal, onlyMoto []string
	for k, v := range a[0] {
		mv, ok := a[1][k]
		if !ok {
			onlyLocal = append(onlyLocal, k)
		} else if mv != v {
			t.Errorf("attribute %s: local cloud %q, moto %q", k, v, mv)
		}
	}
	for k := range a[1] {
		if _, ok := a[0][k]; !ok {
			onlyMoto = append(onlyMoto, k)
		}
	}
	sort.Strings(onlyLocal)
	sort.Strings(onlyMoto)
	// The keys both return agree in value (above); the local cloud also
	// returns the documented ALB attributes moto lacks, and moto returns
	// a load balancer attribute (waf.fail_open.enabled) as a target
	// group's (recorded).
	if got := strings.Join(onlyLocal, ","); got != "load_balancing.algorithm.anomaly_mitigation,stickiness.app_cookie.cookie_name,stickiness.app_cookie.duration_seconds,stickiness.lb_cookie.duration_seconds,"+
		"target_group_health.dns_failover.minimum_healthy_targets.count,target_group_health.dns_failover.minimum_healthy_targets.percentage,"+
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count,target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage" {
		t.Errorf("attributes only the local cloud returns: %s", got)
	}
	if got := strings.Join(onlyMoto, ","); got != "waf.fail_open.enabled" {
		t.Errorf("attributes only moto returns: %s (recorded: waf.fail_open.enabled)", got)
	}
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.ModifyTargetGroupAttributesOutput, error) {
		return c.ModifyTargetGroupAttributes(bg, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn[s]), Attributes: []elbtypes.TargetGroupAttribute{
			{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("30")},
			{Key: aws.String("stickiness.enabled"), Value: aws.String("true")},
		}})
	})
	ec2OK(t, "ModifyTargetGroupAttributes", out)
	a = attrs()
	ec2Same(t, "deregistration_delay after modify", [2]string{a[0]["deregistration_delay.timeout_seconds"], a[1]["deregistration_delay.timeout_seconds"]})
	ec2Same(t, "stickiness.enabled after modify", [2]string{a[0]["stickiness.enabled"], a[1]["stickiness.enabled"]})
	for _, bad := range []struct {
		attr elbtypes.TargetGroupAttribute
		moto outcome
	}{
		{elbtypes.TargetGroupAttribute{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("9999")}, outcome{"ValidationError", 400}},
		{elbtypes.TargetGroupAttribute{Key: aws.String("no.such.attribute"), Value: aws.String("1")}, outcome{}},
	} {
		_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.ModifyTargetGroupAttributesOutput, error) {
			return c.ModifyTargetGroupAttributes(bg, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn[s]), Attributes: []elbtypes.TargetGroupAttribute{bad.attr}})
		})
		ec2Want(t, "ModifyTargetGroupAttributes "+aws.ToString(bad.attr.Key)+"="+aws.ToString(bad.attr.Value), out, outcome{"InvalidConfigurationRequest", 400}, bad.moto)
	}

	// DeleteTargetGroup, twice.
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DeleteTargetGroupOutput, error) {
		return c.DeleteTargetGroup(bg, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(greenARN[s])})
	})
	ec2OK(t, "DeleteTargetGroup", out)
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DeleteTargetGroupOutput, error) {
		return c.DeleteTargetGroup(bg, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(greenARN[s])})
	})
	ec2Agree(t, "DeleteTargetGroup twice", out)
	if out[0].Code != "TargetGroupNotFound" {
		t.Errorf("DeleteTargetGroup twice: %+v", out[0])
	}
	r, out := describe(func(int) *elb.DescribeTargetGroupsInput { return &elb.DescribeTargetGroupsInput{} })
	ec2OK(t, "DescribeTargetGroups after delete", out)
	ec2Same(t, "DescribeTargetGroups after delete", [2]string{render(r[0]), render(r[1])})
}

// elbLB renders what a client reads of a load balancer (not ids).
func elbLB(lb elbtypes.LoadBalancer) string {
	state := ""
	if lb.State != nil {
		state = string(lb.State.Code)
	}
	return strings.Join([]string{aws.ToString(lb.LoadBalancerName), string(lb.Type), string(lb.Scheme), state, string(lb.IpAddressType),
		itoa(int64(len(lb.AvailabilityZones))) + "zones"}, " ")
}

// CreateLoadBalancer, DescribeLoadBalancers, listeners, tags, targets and
// deletion.
func TestELBLoadBalancersListenersTargets(t *testing.T) {
	p, cs, nets := elbSetup(t)
	tgs, out := elbCreateTG(t, cs, nets, "web")
	ec2OK(t, "CreateTargetGroup", out)
	tg := [2]string{aws.ToString(tgs[0].TargetGroups[0].TargetGroupArn), aws.ToString(tgs[1].TargetGroups[0].TargetGroupArn)}
	create := func(name string) ([2]*elb.CreateLoadBalancerOutput, [2]outcome) {
		return ec2Each(t, cs, func(c *elb.Client, s int) (*elb.CreateLoadBalancerOutput, error) {
			return c.CreateLoadBalancer(bg, &elb.CreateLoadBalancerInput{Name: aws.String(name), Subnets: nets[s].subnets,
				Tags: []elbtypes.Tag{{Key: aws.String("app"), Value: aws.String(name)}}})
		})
	}
	lbs, out := create("web")
	ec2OK(t, "CreateLoadBalancer", out)
	lb := [2]string{aws.ToString(lbs[0].LoadBalancers[0].LoadBalancerArn), aws.ToString(lbs[1].LoadBalancers[0].LoadBalancerArn)}
	ec2Match(t, "LoadBalancerArn", elbLBARN, lb)
	ec2Match(t, "DNSName", elbDNS, [2]string{aws.ToString(lbs[0].LoadBalancers[0].DNSName), aws.ToString(lbs[1].LoadBalancers[0].DNSName)})
	// Without a Scheme ELB creates an internet-facing load balancer; moto
	// leaves the scheme empty (recorded).
	ec2Same(t, "CreateLoadBalancer", [2]string{elbLB(lbs[0].LoadBalancers[0]), strings.Replace(elbLB(lbs[1].LoadBalancers[0]), "application  ", "application internet-facing ", 1)})
	if lbs[1].LoadBalancers[0].Scheme != "" {
		t.Errorf("moto CreateLoadBalancer Scheme %q; recorded divergence: empty", lbs[1].LoadBalancers[0].Scheme)
	}
	// The same name and settings again: ELB documents that the call
	// succeeds with the same load balancer; moto makes a second one.
	again, out := create("web")
	ec2OK(t, "CreateLoadBalancer again", out)
	if aws.ToString(again[0].LoadBalancers[0].LoadBalancerArn) != lb[0] || aws.ToString(again[1].LoadBalancers[0].LoadBalancerArn) == lb[1] {
		t.Errorf("CreateLoadBalancer again: local cloud same ARN %v (want true), moto same ARN %v (recorded: false, a second load balancer)",
			aws.ToString(again[0].LoadBalancers[0].LoadBalancerArn) == lb[0], aws.ToString(again[1].LoadBalancers[0].LoadBalancerArn) == lb[1])
	}
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.CreateLoadBalancerOutput, error) {
		return c.CreateLoadBalancer(bg, &elb.CreateLoadBalancerInput{Name: aws.String("one-subnet"), Subnets: nets[s].subnets[:1]})
	})
	ec2Want(t, "CreateLoadBalancer with one subnet", out, outcome{"ValidationError", 400}, outcome{})
	_, out = create("other")
	ec2OK(t, "CreateLoadBalancer other", out)

	describe := func(in func(s int) *elb.DescribeLoadBalancersInput) ([2]*elb.DescribeLoadBalancersOutput, [2]outcome) {
		return ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DescribeLoadBalancersOutput, error) {
			return c.DescribeLoadBalancers(bg, in(s))
		})
	}
	render := func(r *elb.DescribeLoadBalancersOutput) string {
		if r == nil {
			return "<nil>"
		}
		var parts []string
		for _, l := range r.LoadBalancers {
			parts = append(parts, elbLB(l))
		}
		sort.Strings(parts)
		return strings.Join(parts, " | ")
	}
	p.Local.Advance(2 * time.Minute)
	for _, c := range []struct {
		what string
		in   func(s int) *elb.DescribeLoadBalancersInput
	}{
		{"by name", func(int) *elb.DescribeLoadBalancersInput {
			return &elb.DescribeLoadBalancersInput{Names: []string{"web"}}
		}},
		{"by arn", func(s int) *elb.DescribeLoadBalancersInput {
			return &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{lb[s]}}
		}},
	} {
		r, out := describe(c.in)
		ec2OK(t, "DescribeLoadBalancers "+c.what, out)
		ec2Same(t, "DescribeLoadBalancers "+c.what, [2]string{render(r[0]), strings.ReplaceAll(render(r[1]), "application  ", "application internet-facing ")})
	}
	all, out := describe(func(int) *elb.DescribeLoadBalancersInput { return &elb.DescribeLoadBalancersInput{} })
	ec2OK(t, "DescribeLoadBalancers all", out)
	// moto also holds the one-subnet and the second "web" load balancer.
	if got := [2]int{len(all[0].LoadBalancers), len(all[1].LoadBalancers)}; got != [2]int{2, 4} {
		t.Errorf("DescribeLoadBalancers all: local cloud %d (want 2), moto %d (recorded divergences: 4)", got[0], got[1])
	}
	_, out = describe(func(int) *elb.DescribeLoadBalancersInput {
		return &elb.DescribeLoadBalancersInput{Names: []string{"nope"}}
	})
	ec2Agree(t, "DescribeLoadBalancers unknown name", out)
	if out[0].Code != "LoadBalancerNotFound" {
		t.Errorf("DescribeLoadBalancers unknown name: %+v", out[0])
	}
	pg, out := describe(func(int) *elb.DescribeLoadBalancersInput {
		return &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(1)}
	})
	ec2OK(t, "DescribeLoadBalancers PageSize", out)
	ec2Same(t, "DescribeLoadBalancers PageSize 1: page length and marker", [2]string{
		itoa(int64(len(pg[0].LoadBalancers))) + map[bool]string{true: "+marker"}[pg[0].NextMarker != nil],
		itoa(int64(len(pg[1].LoadBalancers))) + map[bool]string{true: "+marker"}[pg[1].NextMarker != nil],
	})
	// Creation order, page by page: the first is "web" on both.
	ec2Same(t, "DescribeLoadBalancers first page is web", [2]bool{aws.ToString(pg[0].LoadBalancers[0].LoadBalancerArn) == lb[0], aws.ToString(pg[1].LoadBalancers[0].LoadBalancerArn) == lb[1]})
	if pg[0].NextMarker != nil {
		next, err := cs[ec2Local].DescribeLoadBalancers(bg, &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(1), Marker: pg[0].NextMarker})
		if err != nil || len(next.LoadBalancers) != 1 || aws.ToString(next.LoadBalancers[0].LoadBalancerName) != "other" || next.NextMarker != nil {
			t.Errorf("local cloud DescribeLoadBalancers page 2: %v %+v", err, next)
		}
	}

	// Listeners.
	listen := func(lbARN, tgARN [2]string, port int32) ([2]*elb.CreateListenerOutput, [2]outcome) {
		return ec2Each(t, cs, func(c *elb.Client, s int) (*elb.CreateListenerOutput, error) {
			return c.CreateListener(bg, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN[s]), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(port),
				DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN[s])}}})
		})
	}
	ls, out := listen(lb, tg, 80)
	ec2OK(t, "CreateListener", out)
	listener := [2]string{aws.ToString(ls[0].Listeners[0].ListenerArn), aws.ToString(ls[1].Listeners[0].ListenerArn)}
	ec2Match(t, "ListenerArn", elbListenerARN, listener)
	for s := range ls {
		l := ls[s].Listeners[0]
		if aws.ToString(l.LoadBalancerArn) != lb[s] || aws.ToInt32(l.Port) != 80 || l.Protocol != elbtypes.ProtocolEnumHttp || len(l.DefaultActions) != 1 ||
			l.DefaultActions[0].Type != elbtypes.ActionTypeEnumForward || aws.ToString(l.DefaultActions[0].TargetGroupArn) != tg[s] {
			t.Errorf("%s CreateListener: %+v", ec2SideName[s], l)
		}
	}
	_, out = listen(lb, tg, 80)
	ec2Want(t, "CreateListener on a port in use", out, outcome{"DuplicateListener", 400}, outcome{})
	gone := [2]string{strings.Replace(lb[0], "/web/", "/gone/", 1), strings.Replace(lb[1], "/web/", "/gone/", 1)}
	_, out = listen(gone, tg, 81)
	ec2Agree(t, "CreateListener unknown load balancer", out)
	if out[0].Code != "LoadBalancerNotFound" {
		t.Errorf("CreateListener unknown load balancer: %+v", out[0])
	}
	_, out = listen(lb, [2]string{strings.Replace(tg[0], "/web/", "/gone/", 1), strings.Replace(tg[1], "/web/", "/gone/", 1)}, 82)
	ec2Agree(t, "CreateListener unknown target group", out)
	if out[0].Code != "TargetGroupNotFound" {
		t.Errorf("CreateListener unknown target group: %+v", out[0])
	}
	dl, out := ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DescribeListenersOutput, error) {
		return c.DescribeListeners(bg, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(lb[s])})
	})
	ec2OK(t, "DescribeListeners", out)
	// moto holds the duplicate listener too.
	if len(dl[0].Listeners) != 1 || aws.ToString(dl[0].Listeners[0].ListenerArn) != listener[0] || len(dl[1].Listeners) != 2 || aws.ToString(dl[1].Listeners[0].ListenerArn) != listener[1] {
		t.Errorf("DescribeListeners: local cloud %d (want 1, the listener), moto %d (recorded: 2, the listener first)", len(dl[0].Listeners), len(dl[1].Listeners))
	}
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DescribeListenersOutput, error) {
		return c.DescribeListeners(bg, &elb.DescribeListenersInput{ListenerArns: []string{listener[s] + "0"}})
	})
	ec2Agree(t, "DescribeListeners unknown", out)
	if out[0].Code != "ListenerNotFound" {
		t.Errorf("DescribeListeners unknown: %+v", out[0])
	}
	// The target group now names its load balancer and cannot be deleted.
	used, out := ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DescribeTargetGroupsOutput, error) {
		return c.DescribeTargetGroups(bg, &elb.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(lb[s])})
	})
	ec2OK(t, "DescribeTargetGroups by load balancer", out)
	// moto names the load balancer once per listener (two, above).
	ec2Same(t, "target group's load balancers", [2]bool{
		strings.Join(used[0].TargetGroups[0].LoadBalancerArns, ",") == lb[0],
		strings.Join(slices.Compact(used[1].TargetGroups[0].LoadBalancerArns), ",") == lb[1],
	})
	if strings.Join(used[0].TargetGroups[0].LoadBalancerArns, ",") != lb[0] || len(used[1].TargetGroups[0].LoadBalancerArns) != 2 {
		t.Errorf("target group's load balancers: local cloud %v (want [%s]), moto %v (recorded: it twice)", used[0].TargetGroups[0].LoadBalancerArns, lb[0], used[1].TargetGroups[0].LoadBalancerArns)
	}
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DeleteTargetGroupOutput, error) {
		return c.DeleteTargetGroup(bg, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg[s])})
	})
	ec2Agree(t, "DeleteTargetGroup in use", out)
	if out[0].Code != "ResourceInUse" {
		t.Errorf("DeleteTargetGroup in use: %+v", out[0])
	}

	// Tags on a load balancer, a target group and a listener.
	for _, res := range [][2]string{lb, tg, listener} {
		_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.AddTagsOutput, error) {
			return c.AddTags(bg, &elb.AddTagsInput{ResourceArns: []string{res[s]}, Tags: []elbtypes.Tag{{Key: aws.String("stage"), Value: aws.String("canary")}, {Key: aws.String("app"), Value: aws.String("x")}}})
		})
		ec2OK(t, "AddTags", out)
		_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.RemoveTagsOutput, error) {
			return c.RemoveTags(bg, &elb.RemoveTagsInput{ResourceArns: []string{res[s]}, TagKeys: []string{"stage"}})
		})
		ec2OK(t, "RemoveTags", out)
	}
	dt, out := ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DescribeTagsOutput, error) {
		return c.DescribeTags(bg, &elb.DescribeTagsInput{ResourceArns: []string{lb[s], tg[s], listener[s]}})
	})
	ec2OK(t, "DescribeTags", out)
	tagsOf := func(r *elb.DescribeTagsOutput, arns [3]string) string {
		var parts []string
		for i, d := range r.TagDescriptions {
			var kv []string
			for _, tg := range d.Tags {
				kv = append(kv, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
			}
			sort.Strings(kv)
			parts = append(parts, itoa(int64(i))+":"+map[bool]string{true: "ok", false: "other"}[aws.ToString(d.ResourceArn) == arns[i]]+":"+strings.Join(kv, ","))
		}
		return strings.Join(parts, " ")
	}
	ec2Same(t, "DescribeTags", [2]string{tagsOf(dt[0], [3]string{lb[0], tg[0], listener[0]}), tagsOf(dt[1], [3]string{lb[1], tg[1], listener[1]})})
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DescribeTagsOutput, error) {
		return c.DescribeTags(bg, &elb.DescribeTagsInput{ResourceArns: []string{gone[s]}})
	})
	ec2Want(t, "DescribeTags unknown load balancer", out, outcome{"LoadBalancerNotFound", 400}, outcome{})
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.AddTagsOutput, error) {
		return c.AddTags(bg, &elb.AddTagsInput{ResourceArns: []string{tg[s]}, Tags: []elbtypes.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("k"), Value: aws.String("2")}}})
	})
	ec2Want(t, "AddTags with a key twice", out, outcome{"DuplicateTagKeys", 400}, outcome{})

	// Targets: two running instances on each side.
	ecs := ec2Clients(p)
	image := ec2Register(t, p, ecs, "target-image")
	run, out := ec2Run(t, ecs, image, 2)
	ec2OK(t, "RunInstances", out)
	p.Local.Advance(time.Minute)
	inst := [2][]string{ec2InstanceIDs(run[0]), ec2InstanceIDs(run[1])}
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.RegisterTargetsOutput, error) {
		return c.RegisterTargets(bg, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tg[s]), Targets: []elbtypes.TargetDescription{{Id: aws.String(inst[s][0])}, {Id: aws.String(inst[s][1]), Port: aws.Int32(8080)}}})
	})
	ec2OK(t, "RegisterTargets", out)
	health := func() [2]string {
		r, out := ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DescribeTargetHealthOutput, error) {
			return c.DescribeTargetHealth(bg, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg[s])})
		})
		ec2OK(t, "DescribeTargetHealth", out)
		var got [2]string
		for s := range r {
			var parts []string
			for _, d := range r[s].TargetHealthDescriptions {
				n := "?"
				for i, id := range inst[s] {
					if aws.ToString(d.Target.Id) == id {
						n = itoa(int64(i))
					}
				}
				parts = append(parts, n+":"+itoa(int64(aws.ToInt32(d.Target.Port)))+":"+string(d.TargetHealth.State)+":"+string(d.TargetHealth.Reason))
			}
			sort.Strings(parts)
			got[s] = strings.Join(parts, " ")
		}
		return got
	}
	// Right after registration ELB reports initial (registration in
	// progress); moto reports healthy at once (recorded).
	if got := health(); got[0] != "0:80:initial:Elb.RegistrationInProgress 1:8080:initial:Elb.RegistrationInProgress" || got[1] != "0:80:healthy: 1:8080:healthy:" {
		t.Errorf("DescribeTargetHealth right after RegisterTargets: local cloud %q (want initial), moto %q (recorded: healthy)", got[0], got[1])
	}
	p.Local.Advance(10 * time.Minute)
	got := health()
	ec2Same(t, "DescribeTargetHealth once checked", got)
	if got[0] != "0:80:healthy: 1:8080:healthy:" {
		t.Errorf("DescribeTargetHealth once checked: %q", got[0])
	}
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.RegisterTargetsOutput, error) {
		return c.RegisterTargets(bg, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tg[s]), Targets: []elbtypes.TargetDescription{{Id: aws.String("i-0123456789abcdef0")}}})
	})
	ec2Want(t, "RegisterTargets unknown instance", out, outcome{"InvalidTarget", 400}, outcome{})
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DeregisterTargetsOutput, error) {
		return c.DeregisterTargets(bg, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(tg[s]), Targets: []elbtypes.TargetDescription{{Id: aws.String(inst[s][1]), Port: aws.Int32(8080)}}})
	})
	ec2OK(t, "DeregisterTargets", out)
	// ELB drains a deregistered target for the deregistration delay (300 s
	// by default); moto drops it at once (recorded). moto also lists the
	// unknown instance it accepted above.
	if got := health(); got[0] != "0:80:healthy: 1:8080:draining:Target.DeregistrationInProgress" || got[1] != "0:80:healthy: ?:80:healthy:" {
		t.Errorf("DescribeTargetHealth right after DeregisterTargets: local cloud %q (want draining), moto %q (recorded: gone)", got[0], got[1])
	}
	p.Local.Advance(6 * time.Minute)
	if got := health(); got[0] != "0:80:healthy:" {
		t.Errorf("DescribeTargetHealth after the deregistration delay: local cloud %q", got[0])
	}
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DeregisterTargetsOutput, error) {
		return c.DeregisterTargets(bg, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(tg[s]), Targets: []elbtypes.TargetDescription{{Id: aws.String("i-0fedcba9876543210")}}})
	})
	ec2Agree(t, "DeregisterTargets not registered", out)
	if out[0].Code != "InvalidTarget" {
		t.Errorf("DeregisterTargets not registered: %+v", out[0])
	}

	// Deleting: the listener, then the load balancer (twice), then the
	// target group, now unused.
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DeleteListenerOutput, error) {
		return c.DeleteListener(bg, &elb.DeleteListenerInput{ListenerArn: aws.String(listener[s])})
	})
	ec2OK(t, "DeleteListener", out)
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DeleteListenerOutput, error) {
		return c.DeleteListener(bg, &elb.DeleteListenerInput{ListenerArn: aws.String(listener[s])})
	})
	ec2Agree(t, "DeleteListener twice", out)
	if out[0].Code != "ListenerNotFound" {
		t.Errorf("DeleteListener twice: %+v", out[0])
	}
	for i := 0; i < 2; i++ {
		_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DeleteLoadBalancerOutput, error) {
			return c.DeleteLoadBalancer(bg, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lb[s])})
		})
		ec2OK(t, "DeleteLoadBalancer", out)
	}
	_, out = describe(func(s int) *elb.DescribeLoadBalancersInput {
		return &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{lb[s]}}
	})
	ec2Agree(t, "DescribeLoadBalancers deleted", out)
	if out[0].Code != "LoadBalancerNotFound" {
		t.Errorf("DescribeLoadBalancers deleted: %+v", out[0])
	}
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DeleteTargetGroupOutput, error) {
		return c.DeleteTargetGroup(bg, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg[s])})
	})
	ec2OK(t, "DeleteTargetGroup unused", out)
}
