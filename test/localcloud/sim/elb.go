package sim

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// ELB serves the Elastic Load Balancing v2 operations of the model:
// Application Load Balancers, listeners and their rules with weighted
// forward actions, instance target groups and target health. Each method has the aws-sdk-go-v2 client
// method's signature.
type ELB struct {
	w *World
}

// ELB returns the Elastic Load Balancing v2 API object of the World.
func (w *World) ELB() *ELB { return &ELB{w: w} }

// elbErr returns an Elastic Load Balancing client error (HTTP 400).
func elbErr(code, format string, args ...any) *api.Error {
	return api.Errorf(http.StatusBadRequest, code, format, args...)
}

func tgNotFound() error {
	return elbErr("TargetGroupNotFound", "One or more target groups not found")
}

func lbNotFound() error {
	return elbErr("LoadBalancerNotFound", "One or more load balancers not found")
}

func listenerNotFound() error {
	return elbErr("ListenerNotFound", "One or more listeners not found")
}

// elbNamePattern is the rule for load balancer and target group names: up
// to 32 letters, digits and hyphens, not starting or ending with a hyphen.
var elbNamePattern = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$`)

// elbHex returns the 16 hex digits that end ELB ARNs.
func (w *World) elbHex() string { return fmt.Sprintf("%016x", w.rng.Uint64()) }

// elbARN builds an Elastic Load Balancing ARN in the region and account.
func (w *World) elbARN(region, resource string) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:%s", region, w.account, resource)
}

// defaultVPC returns the region's VPC id, the one load balancers are put in.
func (w *World) defaultVPC(r *Region) string {
	h := fnv.New64a()
	h.Write([]byte(w.account + "/" + r.Name))
	return fmt.Sprintf("vpc-%017x", h.Sum64()&0xfffffffffffffff|0x100000000000000)
}

// --- load balancers --------------------------------------------------------

// CreateLoadBalancer creates an Application Load Balancer. It needs subnets
// in at least two zones (the model maps the subnets, in order, to the
// region's zones); it is provisioning for EC2Config.LoadBalancerProvisioning,
// then active. A second call with the same name and settings returns the
// same load balancer. Network and gateway load balancers are not modelled.
func (e *ELB) CreateLoadBalancer(ctx context.Context, in *elb.CreateLoadBalancerInput, _ ...func(*elb.Options)) (*elb.CreateLoadBalancerOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	name := aws.ToString(in.Name)
	if err := checkELBName("load balancer", name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "internal-") {
		return nil, api.Validation("Load balancer name '%s' cannot begin with 'internal-'", name)
	}
	typ := string(in.Type)
	if typ == "" {
		typ = string(elbtypes.LoadBalancerTypeEnumApplication)
	}
	if typ != string(elbtypes.LoadBalancerTypeEnumApplication) {
		return nil, api.Validation("The local cloud models application load balancers only, not '%s'", typ)
	}
	scheme := string(in.Scheme)
	if scheme == "" {
		scheme = string(elbtypes.LoadBalancerSchemeEnumInternetFacing)
	}
	subnets := append([]string(nil), in.Subnets...)
	for _, m := range in.SubnetMappings {
		subnets = append(subnets, aws.ToString(m.SubnetId))
	}
	if len(subnets) < 2 {
		return nil, api.Validation("At least two subnets in two different Availability Zones must be specified")
	}
	if len(subnets) > len(zoneNames(r.Name)) {
		return nil, api.Validation("A load balancer cannot be attached to multiple subnets in the same Availability Zone")
	}
	for _, lb := range w.loadBalancers(r) {
		if lb.Name != name {
			continue
		}
		if lb.Scheme != scheme || strings.Join(lb.Subnets, ",") != strings.Join(subnets, ",") {
			return nil, elbErr("DuplicateLoadBalancerName", "A load balancer with the same name '%s' exists, but with different settings", name)
		}
		return &elb.CreateLoadBalancerOutput{LoadBalancers: []elbtypes.LoadBalancer{w.renderLB(r, lb)}}, nil
	}
	hex := w.elbHex()
	lb := &LoadBalancer{
		ARN:       w.elbARN(r.Name, "loadbalancer/app/"+name+"/"+hex),
		Name:      name,
		Scheme:    scheme,
		Type:      typ,
		State:     string(elbtypes.LoadBalancerStateEnumProvisioning),
		VpcID:     w.defaultVPC(r),
		Subnets:   subnets,
		AZs:       zoneNames(r.Name)[:len(subnets)],
		Security:  append([]string(nil), in.SecurityGroups...),
		CreatedAt: w.now(),
		Tags:      elbTagMap(in.Tags),
		seq:       w.nextSeq(),
	}
	prefix := ""
	if scheme == string(elbtypes.LoadBalancerSchemeEnumInternal) {
		prefix = "internal-"
	}
	lb.DNSName = fmt.Sprintf("%s%s-%d.%s.elb.amazonaws.com", prefix, name, 1000000000+w.rng.Uint64()%9000000000, r.Name)
	w.loadBalancers(r)[lb.ARN] = lb
	w.schedule(w.cfg().LoadBalancerProvisioning, "elb active "+name, func() {
		lb.State = string(elbtypes.LoadBalancerStateEnumActive)
	})
	return &elb.CreateLoadBalancerOutput{LoadBalancers: []elbtypes.LoadBalancer{w.renderLB(r, lb)}}, nil
}

// checkELBName applies the naming rule of load balancers and target groups.
func checkELBName(kind, name string) error {
	switch {
	case name == "":
		return api.Validation("A %s name must be specified", kind)
	case len(name) > 32:
		return api.Validation("The %s name '%s' cannot be longer than '32' characters", kind, name)
	case !elbNamePattern.MatchString(name):
		return api.Validation("The %s name '%s' can only contain characters that are alphanumeric characters or hyphens(-) and cannot begin or end with a hyphen", kind, name)
	}
	return nil
}

func (w *World) renderLB(r *Region, lb *LoadBalancer) elbtypes.LoadBalancer {
	out := elbtypes.LoadBalancer{
		LoadBalancerArn:       aws.String(lb.ARN),
		LoadBalancerName:      aws.String(lb.Name),
		DNSName:               aws.String(lb.DNSName),
		CanonicalHostedZoneId: aws.String("Z35SXDOTRQ7X7K"),
		CreatedTime:           aws.Time(lb.CreatedAt),
		Scheme:                elbtypes.LoadBalancerSchemeEnum(lb.Scheme),
		Type:                  elbtypes.LoadBalancerTypeEnum(lb.Type),
		State:                 &elbtypes.LoadBalancerState{Code: elbtypes.LoadBalancerStateEnum(lb.State)},
		VpcId:                 aws.String(lb.VpcID),
		IpAddressType:         elbtypes.IpAddressTypeIpv4,
		SecurityGroups:        append([]string(nil), lb.Security...),
	}
	for i, s := range lb.Subnets {
		out.AvailabilityZones = append(out.AvailabilityZones, elbtypes.AvailabilityZone{
			SubnetId: aws.String(s),
			ZoneName: aws.String(lb.AZs[i]),
		})
	}
	return out
}

// elbPage applies Marker and PageSize (1-400) to n items ordered by
// creation, returning the index range and the next marker.
func elbPage(marker *string, pageSize *int32, n int) (lo, hi int, next *string, err error) {
	if pageSize != nil && (*pageSize < 1 || *pageSize > 400) {
		return 0, 0, nil, api.Validation("1 validation error detected: Value '%d' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400", *pageSize)
	}
	if m := aws.ToString(marker); m != "" {
		v, perr := strconv.Atoi(m)
		if perr != nil || v < 0 || v > n {
			return 0, 0, nil, api.Validation("The marker '%s' is not valid", m)
		}
		lo = v
	}
	hi = n
	if pageSize != nil && lo+int(*pageSize) < n {
		hi = lo + int(*pageSize)
		next = aws.String(strconv.Itoa(hi))
	}
	return lo, hi, next, nil
}

// DescribeLoadBalancers describes load balancers by ARN, by name, or all.
func (e *ELB) DescribeLoadBalancers(ctx context.Context, in *elb.DescribeLoadBalancersInput, _ ...func(*elb.Options)) (*elb.DescribeLoadBalancersOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	if len(in.LoadBalancerArns) > 0 && len(in.Names) > 0 {
		return nil, api.Validation("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	lbs := w.loadBalancers(r)
	var list []*LoadBalancer
	switch {
	case len(in.LoadBalancerArns) > 0:
		for _, arn := range in.LoadBalancerArns {
			lb, ok := lbs[arn]
			if !ok {
				return nil, lbNotFound()
			}
			list = append(list, lb)
		}
	case len(in.Names) > 0:
		for _, n := range in.Names {
			var found *LoadBalancer
			for _, lb := range lbs {
				if lb.Name == n {
					found = lb
				}
			}
			if found == nil {
				return nil, elbErr("LoadBalancerNotFound", "Load balancers '[%s]' not found", n)
			}
			list = append(list, found)
		}
	default:
		for _, lb := range lbs {
			list = append(list, lb)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	lo, hi, next, err := elbPage(in.Marker, in.PageSize, len(list))
	if err != nil {
		return nil, err
	}
	out := &elb.DescribeLoadBalancersOutput{LoadBalancers: []elbtypes.LoadBalancer{}, NextMarker: next}
	for _, lb := range list[lo:hi] {
		out.LoadBalancers = append(out.LoadBalancers, w.renderLB(r, lb))
	}
	return out, nil
}

// DeleteLoadBalancer deletes a load balancer and its listeners; target
// groups it used become unused. Deleting one that does not exist succeeds,
// as the ELB API reference documents.
func (e *ELB) DeleteLoadBalancer(ctx context.Context, in *elb.DeleteLoadBalancerInput, _ ...func(*elb.Options)) (*elb.DeleteLoadBalancerOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	arn := aws.ToString(in.LoadBalancerArn)
	if arn == "" {
		return nil, api.Validation("A load balancer ARN must be specified")
	}
	lbs := w.loadBalancers(r)
	if _, ok := lbs[arn]; !ok {
		return &elb.DeleteLoadBalancerOutput{}, nil
	}
	delete(lbs, arn)
	var affected []string
	for larn, l := range w.listenersOf(r) {
		if l.LoadBalancerARN == arn {
			affected = append(affected, l.TargetGroupARNs...)
			delete(w.listenersOf(r), larn)
		}
	}
	w.tgUseChanged(r, affected)
	return &elb.DeleteLoadBalancerOutput{}, nil
}

// --- listeners -------------------------------------------------------------

// CreateListener adds a listener whose default actions forward to target
// groups (fixed-response and redirect actions are kept but route nothing),
// checked and answered as normalizeActions and checkActionTargets say:
// one routing action; a forward action names at most 5 existing target
// groups, each once, with weights 0-999, all in one VPC and serving no
// other load balancer. The target groups it forwards to, weight 0
// included, start health checking their targets. The listener gets a
// default rule (DescribeRules) whose actions are its default actions.
func (e *ELB) CreateListener(ctx context.Context, in *elb.CreateListenerInput, _ ...func(*elb.Options)) (*elb.CreateListenerOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	lb, ok := w.loadBalancers(r)[aws.ToString(in.LoadBalancerArn)]
	if !ok {
		return nil, lbNotFound()
	}
	proto := string(in.Protocol)
	if proto == "" {
		proto = "HTTP"
	}
	if proto != "HTTP" && proto != "HTTPS" {
		return nil, api.Validation("Listener protocol '%s' must be one of 'HTTPS, HTTP'", proto)
	}
	if proto == "HTTPS" && len(in.Certificates) == 0 {
		return nil, api.Validation("A certificate must be specified for HTTPS listeners")
	}
	port := aws.ToInt32(in.Port)
	if port < 1 || port > 65535 {
		return nil, api.Validation("A listener port must be specified between 1 and 65535")
	}
	if len(in.DefaultActions) == 0 {
		return nil, api.Validation("A default action must be specified")
	}
	actions, tgARNs, err := normalizeActions(in.DefaultActions, "defaultActions")
	if err != nil {
		return nil, err
	}
	if err := w.checkActionTargets(r, lb, tgARNs, w.lbTargetGroupsBut(r, lb.ARN, nil, "")); err != nil {
		return nil, err
	}
	for _, l := range w.listenersOf(r) {
		if l.LoadBalancerARN == lb.ARN && l.Port == port {
			return nil, elbErr("DuplicateListener", "A listener already exists on this port for this load balancer '%s'", lb.ARN)
		}
	}
	lbID := lb.ARN[strings.Index(lb.ARN, "loadbalancer/")+len("loadbalancer/"):]
	l := &Listener{
		ARN:             w.elbARN(r.Name, "listener/"+lbID+"/"+w.elbHex()),
		LoadBalancerARN: lb.ARN,
		Protocol:        proto,
		Port:            port,
		Tags:            elbTagMap(in.Tags),
		actions:         actions,
		rules:           map[string]*ListenerRule{},
		seq:             w.nextSeq(),
	}
	l.DefaultRuleARN = defaultRuleARN(l.ARN)
	w.listenersOf(r)[l.ARN] = l
	w.tgUseChanged(r, l.refreshTargetGroups())
	return &elb.CreateListenerOutput{Listeners: []elbtypes.Listener{renderListener(l)}}, nil
}

func renderListener(l *Listener) elbtypes.Listener {
	return elbtypes.Listener{
		ListenerArn:     aws.String(l.ARN),
		LoadBalancerArn: aws.String(l.LoadBalancerARN),
		Port:            aws.Int32(l.Port),
		Protocol:        elbtypes.ProtocolEnum(l.Protocol),
		DefaultActions:  cloneActions(l.actions),
	}
}

// DescribeListeners describes listeners by ARN or of one load balancer.
func (e *ELB) DescribeListeners(ctx context.Context, in *elb.DescribeListenersInput, _ ...func(*elb.Options)) (*elb.DescribeListenersOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	lbARN := aws.ToString(in.LoadBalancerArn)
	if (lbARN == "") == (len(in.ListenerArns) == 0) {
		return nil, api.Validation("You must specify either listener ARNs or a load balancer ARN")
	}
	ls := w.listenersOf(r)
	var list []*Listener
	if lbARN != "" {
		if _, ok := w.loadBalancers(r)[lbARN]; !ok {
			return nil, lbNotFound()
		}
		for _, l := range ls {
			if l.LoadBalancerARN == lbARN {
				list = append(list, l)
			}
		}
	} else {
		for _, arn := range in.ListenerArns {
			l, ok := ls[arn]
			if !ok {
				return nil, listenerNotFound()
			}
			list = append(list, l)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	lo, hi, next, err := elbPage(in.Marker, in.PageSize, len(list))
	if err != nil {
		return nil, err
	}
	out := &elb.DescribeListenersOutput{Listeners: []elbtypes.Listener{}, NextMarker: next}
	for _, l := range list[lo:hi] {
		out.Listeners = append(out.Listeners, renderListener(l))
	}
	return out, nil
}

// DeleteListener deletes a listener and its rules; target groups no other
// listener or rule uses become unused.
func (e *ELB) DeleteListener(ctx context.Context, in *elb.DeleteListenerInput, _ ...func(*elb.Options)) (*elb.DeleteListenerOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	l, ok := w.listenersOf(r)[aws.ToString(in.ListenerArn)]
	if !ok {
		return nil, listenerNotFound()
	}
	delete(w.listenersOf(r), l.ARN)
	w.tgUseChanged(r, l.TargetGroupARNs)
	return &elb.DeleteListenerOutput{}, nil
}

// --- target groups ---------------------------------------------------------

// Target group attribute defaults of an instance target group of an
// Application Load Balancer.
var tgAttributeDefaults = map[string]string{
	"deregistration_delay.timeout_seconds":                                           "300",
	"stickiness.enabled":                                                             "false",
	"stickiness.type":                                                                "lb_cookie",
	"stickiness.lb_cookie.duration_seconds":                                          "86400",
	"stickiness.app_cookie.cookie_name":                                              "",
	"stickiness.app_cookie.duration_seconds":                                         "86400",
	"load_balancing.algorithm.type":                                                  "round_robin",
	"load_balancing.algorithm.anomaly_mitigation":                                    "off",
	"load_balancing.cross_zone.enabled":                                              "use_load_balancer_configuration",
	"slow_start.duration_seconds":                                                    "0",
	"target_group_health.dns_failover.minimum_healthy_targets.count":                 "1",
	"target_group_health.dns_failover.minimum_healthy_targets.percentage":            "off",
	"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      "1",
	"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
}

// healthCheckSettings is the subset of CreateTargetGroup and
// ModifyTargetGroup members that configure health checks.
type healthCheckSettings struct {
	enabled             *bool
	protocol            string
	port, path          *string
	interval, timeout   *int32
	healthy, unhealthy  *int32
	matcher             *elbtypes.Matcher
	targetGroupProtocol string
}

// applyHealthCheck sets hc from s, leaving unset members as they are, and
// checks the result against the documented ranges.
func applyHealthCheck(hc *HealthCheck, s healthCheckSettings) error {
	if s.enabled != nil {
		if !*s.enabled {
			return api.Validation("Health check enabled must be true for target groups with target type 'instance'")
		}
		hc.Enabled = true
	}
	if s.protocol != "" {
		if s.protocol != "HTTP" && s.protocol != "HTTPS" {
			return api.Validation("Health check protocol '%s' is not supported for target groups with the %s protocol", s.protocol, s.targetGroupProtocol)
		}
		hc.Protocol = s.protocol
	}
	if s.port != nil {
		p := *s.port
		if p != "traffic-port" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return api.Validation("Health check port '%s' must be 'traffic-port' or a number between 1 and 65535", p)
			}
		}
		hc.Port = p
	}
	if s.path != nil {
		p := *s.path
		if p == "" || p[0] != '/' || len(p) > 1024 {
			return api.Validation("Health check path must begin with a '/' character and be at most 1024 characters long")
		}
		hc.Path = p
	}
	if s.interval != nil {
		if *s.interval < 5 || *s.interval > 300 {
			return api.Validation("Health check interval must be between 5 and 300 seconds")
		}
		hc.IntervalSeconds = *s.interval
	}
	if s.timeout != nil {
		if *s.timeout < 2 || *s.timeout > 120 {
			return api.Validation("Health check timeout must be between 2 and 120 seconds")
		}
		hc.TimeoutSeconds = *s.timeout
	}
	if s.healthy != nil {
		if *s.healthy < 2 || *s.healthy > 10 {
			return api.Validation("Healthy threshold count must be between 2 and 10")
		}
		hc.HealthyThreshold = *s.healthy
	}
	if s.unhealthy != nil {
		if *s.unhealthy < 2 || *s.unhealthy > 10 {
			return api.Validation("Unhealthy threshold count must be between 2 and 10")
		}
		hc.UnhealthyThreshold = *s.unhealthy
	}
	if s.matcher != nil {
		if s.matcher.GrpcCode != nil {
			return api.Validation("A gRPC matcher applies only to target groups with protocol version GRPC")
		}
		codes := aws.ToString(s.matcher.HttpCode)
		if _, err := parseMatcher(codes); err != nil {
			return err
		}
		hc.Matcher = codes
	}
	if hc.TimeoutSeconds >= hc.IntervalSeconds {
		return api.Validation("Health check timeout '%d' must be smaller than the interval '%d'", hc.TimeoutSeconds, hc.IntervalSeconds)
	}
	return nil
}

// codeRange is an inclusive range of HTTP codes.
type codeRange struct{ lo, hi int }

// parseMatcher parses an HTTP matcher ("200", "200,202", "200-299"); codes
// must lie within 200-499 for Application Load Balancers.
func parseMatcher(s string) ([]codeRange, error) {
	bad := api.Validation("Health check matcher HTTP code '%s' must be a value, list or range of values between 200 and 499", s)
	if s == "" {
		return nil, bad
	}
	var out []codeRange
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, bad
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, bad
			}
		}
		if a < 200 || b > 499 {
			return nil, bad
		}
		out = append(out, codeRange{a, b})
	}
	return out, nil
}

// matcherAccepts reports whether code satisfies the matcher.
func matcherAccepts(matcher string, code int) bool {
	ranges, err := parseMatcher(matcher)
	if err != nil {
		return false
	}
	for _, r := range ranges {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// CreateTargetGroup creates an instance target group (protocol HTTP or
// HTTPS) with the health check defaults of the ELB documentation: HTTP on
// the traffic port, path /, every 30 s, 5 s timeout, 5 healthy and 2
// unhealthy checks, matcher 200. A second call with the same name and
// settings returns the same target group.
func (e *ELB) CreateTargetGroup(ctx context.Context, in *elb.CreateTargetGroupInput, _ ...func(*elb.Options)) (*elb.CreateTargetGroupOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	name := aws.ToString(in.Name)
	if err := checkELBName("target group", name); err != nil {
		return nil, err
	}
	ttype := string(in.TargetType)
	if ttype == "" {
		ttype = string(elbtypes.TargetTypeEnumInstance)
	}
	if ttype != string(elbtypes.TargetTypeEnumInstance) {
		return nil, api.Validation("The local cloud models target groups of target type 'instance' only, not '%s'", ttype)
	}
	proto := string(in.Protocol)
	if proto == "" {
		return nil, api.Validation("A protocol must be specified")
	}
	if proto != "HTTP" && proto != "HTTPS" {
		return nil, api.Validation("The local cloud models HTTP and HTTPS target groups only, not '%s'", proto)
	}
	if in.Port == nil {
		return nil, api.Validation("A port must be specified")
	}
	if *in.Port < 1 || *in.Port > 65535 {
		return nil, api.Validation("Port must be between 1 and 65535")
	}
	if aws.ToString(in.VpcId) == "" {
		return nil, api.Validation("A VPC ID must be specified")
	}
	hc := HealthCheck{
		Enabled: true, Protocol: "HTTP", Port: "traffic-port", Path: "/",
		IntervalSeconds: 30, TimeoutSeconds: 5, HealthyThreshold: 5, UnhealthyThreshold: 2, Matcher: "200",
	}
	if err := applyHealthCheck(&hc, healthCheckSettings{
		enabled: in.HealthCheckEnabled, protocol: string(in.HealthCheckProtocol), port: in.HealthCheckPort, path: in.HealthCheckPath,
		interval: in.HealthCheckIntervalSeconds, timeout: in.HealthCheckTimeoutSeconds,
		healthy: in.HealthyThresholdCount, unhealthy: in.UnhealthyThresholdCount, matcher: in.Matcher, targetGroupProtocol: proto,
	}); err != nil {
		return nil, err
	}
	for _, tg := range r.TargetGroups {
		if tg.Name != name {
			continue
		}
		if tg.Protocol != proto || tg.Port != *in.Port || tg.VpcID != aws.ToString(in.VpcId) || tg.HealthCheck != hc {
			return nil, elbErr("DuplicateTargetGroupName", "A target group with the same name '%s' exists, but with different settings", name)
		}
		return &elb.CreateTargetGroupOutput{TargetGroups: []elbtypes.TargetGroup{w.renderTG(r, tg)}}, nil
	}
	tg := &TargetGroup{
		ARN:         w.elbARN(r.Name, "targetgroup/"+name+"/"+w.elbHex()),
		Name:        name,
		Targets:     map[string]*Target{},
		Protocol:    proto,
		Port:        *in.Port,
		VpcID:       aws.ToString(in.VpcId),
		TargetType:  ttype,
		HealthCheck: hc,
		Attributes:  map[string]string{},
		Tags:        elbTagMap(in.Tags),
		CreatedAt:   w.now(),
		seq:         w.nextSeq(),
	}
	for k, v := range tgAttributeDefaults {
		tg.Attributes[k] = v
	}
	r.TargetGroups[tg.ARN] = tg
	return &elb.CreateTargetGroupOutput{TargetGroups: []elbtypes.TargetGroup{w.renderTG(r, tg)}}, nil
}

func (w *World) renderTG(r *Region, tg *TargetGroup) elbtypes.TargetGroup {
	hc := tg.HealthCheck
	return elbtypes.TargetGroup{
		TargetGroupArn:             aws.String(tg.ARN),
		TargetGroupName:            aws.String(tg.Name),
		Protocol:                   elbtypes.ProtocolEnum(tg.Protocol),
		ProtocolVersion:            aws.String("HTTP1"),
		Port:                       aws.Int32(tg.Port),
		VpcId:                      aws.String(tg.VpcID),
		TargetType:                 elbtypes.TargetTypeEnum(tg.TargetType),
		IpAddressType:              elbtypes.TargetGroupIpAddressTypeEnumIpv4,
		HealthCheckEnabled:         aws.Bool(hc.Enabled),
		HealthCheckProtocol:        elbtypes.ProtocolEnum(hc.Protocol),
		HealthCheckPort:            aws.String(hc.Port),
		HealthCheckPath:            aws.String(hc.Path),
		HealthCheckIntervalSeconds: aws.Int32(hc.IntervalSeconds),
		HealthCheckTimeoutSeconds:  aws.Int32(hc.TimeoutSeconds),
		HealthyThresholdCount:      aws.Int32(hc.HealthyThreshold),
		UnhealthyThresholdCount:    aws.Int32(hc.UnhealthyThreshold),
		Matcher:                    &elbtypes.Matcher{HttpCode: aws.String(hc.Matcher)},
		LoadBalancerArns:           w.tgLoadBalancers(r, tg),
	}
}

// findTG returns a target group by ARN.
func findTG(r *Region, arn string) (*TargetGroup, error) {
	if arn == "" {
		return nil, api.Validation("A target group ARN must be specified")
	}
	tg, ok := r.TargetGroups[arn]
	if !ok {
		return nil, tgNotFound()
	}
	return tg, nil
}

// DescribeTargetGroups describes target groups by ARN, by name, of one load
// balancer, or all.
func (e *ELB) DescribeTargetGroups(ctx context.Context, in *elb.DescribeTargetGroupsInput, _ ...func(*elb.Options)) (*elb.DescribeTargetGroupsOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	given := 0
	for _, b := range []bool{len(in.TargetGroupArns) > 0, len(in.Names) > 0, aws.ToString(in.LoadBalancerArn) != ""} {
		if b {
			given++
		}
	}
	if given > 1 {
		return nil, api.Validation("Target group names, target group ARNs, and a load balancer ARN cannot be specified at the same time")
	}
	var list []*TargetGroup
	switch {
	case len(in.TargetGroupArns) > 0:
		for _, arn := range in.TargetGroupArns {
			tg, err := findTG(r, arn)
			if err != nil {
				return nil, err
			}
			list = append(list, tg)
		}
	case len(in.Names) > 0:
		for _, n := range in.Names {
			var found *TargetGroup
			for _, tg := range r.TargetGroups {
				if tg.Name == n {
					found = tg
				}
			}
			if found == nil {
				return nil, tgNotFound()
			}
			list = append(list, found)
		}
	case aws.ToString(in.LoadBalancerArn) != "":
		lbARN := aws.ToString(in.LoadBalancerArn)
		if _, ok := w.loadBalancers(r)[lbARN]; !ok {
			return nil, lbNotFound()
		}
		for _, tg := range r.TargetGroups {
			if contains(w.tgLoadBalancers(r, tg), lbARN) {
				list = append(list, tg)
			}
		}
	default:
		for _, tg := range r.TargetGroups {
			list = append(list, tg)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	lo, hi, next, err := elbPage(in.Marker, in.PageSize, len(list))
	if err != nil {
		return nil, err
	}
	out := &elb.DescribeTargetGroupsOutput{TargetGroups: []elbtypes.TargetGroup{}, NextMarker: next}
	for _, tg := range list[lo:hi] {
		out.TargetGroups = append(out.TargetGroups, w.renderTG(r, tg))
	}
	return out, nil
}

// ModifyTargetGroup changes health check settings. A new interval applies
// from each target's next check on.
func (e *ELB) ModifyTargetGroup(ctx context.Context, in *elb.ModifyTargetGroupInput, _ ...func(*elb.Options)) (*elb.ModifyTargetGroupOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	tg, err := findTG(r, aws.ToString(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	hc := tg.HealthCheck
	if err := applyHealthCheck(&hc, healthCheckSettings{
		enabled: in.HealthCheckEnabled, protocol: string(in.HealthCheckProtocol), port: in.HealthCheckPort, path: in.HealthCheckPath,
		interval: in.HealthCheckIntervalSeconds, timeout: in.HealthCheckTimeoutSeconds,
		healthy: in.HealthyThresholdCount, unhealthy: in.UnhealthyThresholdCount, matcher: in.Matcher, targetGroupProtocol: tg.Protocol,
	}); err != nil {
		return nil, err
	}
	tg.HealthCheck = hc
	return &elb.ModifyTargetGroupOutput{TargetGroups: []elbtypes.TargetGroup{w.renderTG(r, tg)}}, nil
}

// DeleteTargetGroup deletes a target group no listener forwards to; one in
// use is refused with ResourceInUse. Its registered targets are unaffected.
func (e *ELB) DeleteTargetGroup(ctx context.Context, in *elb.DeleteTargetGroupInput, _ ...func(*elb.Options)) (*elb.DeleteTargetGroupOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	tg, err := findTG(r, aws.ToString(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	if w.tgInUse(r, tg) {
		return nil, elbErr("ResourceInUse", "Target group '%s' is currently in use by a listener or a rule", tg.ARN)
	}
	for _, t := range tg.Targets {
		t.stopTimers()
	}
	delete(r.TargetGroups, tg.ARN)
	return &elb.DeleteTargetGroupOutput{}, nil
}

// DescribeTargetGroupAttributes lists every attribute with its value.
func (e *ELB) DescribeTargetGroupAttributes(ctx context.Context, in *elb.DescribeTargetGroupAttributesInput, _ ...func(*elb.Options)) (*elb.DescribeTargetGroupAttributesOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	tg, err := findTG(r, aws.ToString(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	return &elb.DescribeTargetGroupAttributesOutput{Attributes: renderAttributes(tg)}, nil
}

func renderAttributes(tg *TargetGroup) []elbtypes.TargetGroupAttribute {
	out := make([]elbtypes.TargetGroupAttribute, 0, len(tg.Attributes))
	for _, k := range slices.Sorted(maps.Keys(tg.Attributes)) {
		out = append(out, elbtypes.TargetGroupAttribute{Key: aws.String(k), Value: aws.String(tg.Attributes[k])})
	}
	return out
}

// ModifyTargetGroupAttributes changes attributes. deregistration_delay
// (0-3600 seconds), stickiness.enabled and slow_start.duration_seconds are
// checked; other known keys are stored as given; unknown keys are refused.
// Every change is checked before any is applied.
func (e *ELB) ModifyTargetGroupAttributes(ctx context.Context, in *elb.ModifyTargetGroupAttributesInput, _ ...func(*elb.Options)) (*elb.ModifyTargetGroupAttributesOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	tg, err := findTG(r, aws.ToString(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	if len(in.Attributes) == 0 {
		return nil, api.Validation("Attributes must be specified")
	}
	for _, a := range in.Attributes {
		k, v := aws.ToString(a.Key), aws.ToString(a.Value)
		if _, ok := tgAttributeDefaults[k]; !ok {
			return nil, elbErr("InvalidConfigurationRequest", "Target group attribute key '%s' is not recognized", k)
		}
		switch k {
		case "deregistration_delay.timeout_seconds":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 3600 {
				return nil, elbErr("InvalidConfigurationRequest", "Deregistration delay timeout must be an integer between 0 and 3600 seconds, not '%s'", v)
			}
		case "slow_start.duration_seconds":
			n, err := strconv.Atoi(v)
			if err != nil || (n != 0 && (n < 30 || n > 900)) {
				return nil, elbErr("InvalidConfigurationRequest", "Slow start duration must be 0 or between 30 and 900 seconds, not '%s'", v)
			}
		case "stickiness.enabled":
			if v != "true" && v != "false" {
				return nil, elbErr("InvalidConfigurationRequest", "Stickiness enabled must be 'true' or 'false', not '%s'", v)
			}
		}
	}
	for _, a := range in.Attributes {
		tg.Attributes[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	return &elb.ModifyTargetGroupAttributesOutput{Attributes: renderAttributes(tg)}, nil
}

// --- tags ------------------------------------------------------------------

func elbTagMap(tags []elbtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// tagsOfARN returns the tag map of a load balancer, target group, listener
// or rule, with the not-found error of its kind.
func (w *World) tagsOfARN(r *Region, arn string) (map[string]string, error) {
	switch {
	case strings.Contains(arn, ":targetgroup/"):
		tg, ok := r.TargetGroups[arn]
		if !ok {
			return nil, tgNotFound()
		}
		return tg.Tags, nil
	case strings.Contains(arn, ":loadbalancer/"):
		lb, ok := w.loadBalancers(r)[arn]
		if !ok {
			return nil, lbNotFound()
		}
		return lb.Tags, nil
	case strings.Contains(arn, ":listener/"):
		l, ok := w.listenersOf(r)[arn]
		if !ok {
			return nil, listenerNotFound()
		}
		return l.Tags, nil
	case strings.Contains(arn, ":listener-rule/"):
		l, rule, err := w.findRule(r, arn)
		if err != nil {
			return nil, err
		}
		if rule == nil {
			if l.defaultRuleTags == nil {
				l.defaultRuleTags = map[string]string{}
			}
			return l.defaultRuleTags, nil
		}
		if rule.Tags == nil {
			rule.Tags = map[string]string{}
		}
		return rule.Tags, nil
	}
	return nil, api.Validation("'%s' is not a valid load balancer, target group, listener or rule ARN", arn)
}

// AddTags adds or overwrites tags on load balancers, target groups and
// listeners (at most 50 per resource).
func (e *ELB) AddTags(ctx context.Context, in *elb.AddTagsInput, _ ...func(*elb.Options)) (*elb.AddTagsOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	if len(in.ResourceArns) == 0 || len(in.Tags) == 0 {
		return nil, api.Validation("Resource ARNs and tags must be specified")
	}
	if err := checkTagList(in.Tags); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, t := range in.Tags {
		seen[aws.ToString(t.Key)] = true
	}
	var maps []map[string]string
	for _, arn := range in.ResourceArns {
		m, err := w.tagsOfARN(r, arn)
		if err != nil {
			return nil, err
		}
		n := len(m)
		for k := range seen {
			if _, ok := m[k]; !ok {
				n++
			}
		}
		if n > 50 {
			return nil, elbErr("TooManyTags", "The quota for the number of tags that can be assigned to a resource (50) has been reached")
		}
		maps = append(maps, m)
	}
	for _, m := range maps {
		for _, t := range in.Tags {
			m[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return &elb.AddTagsOutput{}, nil
}

// checkTagList checks tags to add: keys of 1-128 characters not starting
// with "aws:", values of at most 256, no key twice, at most 50.
func checkTagList(tags []elbtypes.Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		k := aws.ToString(t.Key)
		if k == "" || len(k) > 128 || len(aws.ToString(t.Value)) > 256 {
			return api.Validation("Tag keys must be 1-128 characters and values at most 256 characters")
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return api.Validation("Tag keys starting with 'aws:' are reserved")
		}
		if seen[k] {
			return elbErr("DuplicateTagKeys", "Tag key '%s' is duplicated", k)
		}
		seen[k] = true
	}
	if len(seen) > 50 {
		return elbErr("TooManyTags", "The quota for the number of tags that can be assigned to a resource (50) has been reached")
	}
	return nil
}

// RemoveTags removes tag keys from load balancers, target groups and
// listeners.
func (e *ELB) RemoveTags(ctx context.Context, in *elb.RemoveTagsInput, _ ...func(*elb.Options)) (*elb.RemoveTagsOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	if len(in.ResourceArns) == 0 || len(in.TagKeys) == 0 {
		return nil, api.Validation("Resource ARNs and tag keys must be specified")
	}
	var maps []map[string]string
	for _, arn := range in.ResourceArns {
		m, err := w.tagsOfARN(r, arn)
		if err != nil {
			return nil, err
		}
		maps = append(maps, m)
	}
	for _, m := range maps {
		for _, k := range in.TagKeys {
			delete(m, k)
		}
	}
	return &elb.RemoveTagsOutput{}, nil
}

// DescribeTags describes the tags of up to 20 resources.
func (e *ELB) DescribeTags(ctx context.Context, in *elb.DescribeTagsInput, _ ...func(*elb.Options)) (*elb.DescribeTagsOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	if len(in.ResourceArns) == 0 {
		return nil, api.Validation("Resource ARNs must be specified")
	}
	if len(in.ResourceArns) > 20 {
		return nil, api.Validation("1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to 20")
	}
	out := &elb.DescribeTagsOutput{TagDescriptions: []elbtypes.TagDescription{}}
	for _, arn := range in.ResourceArns {
		m, err := w.tagsOfARN(r, arn)
		if err != nil {
			return nil, err
		}
		d := elbtypes.TagDescription{ResourceArn: aws.String(arn), Tags: []elbtypes.Tag{}}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			d.Tags = append(d.Tags, elbtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
		}
		out.TagDescriptions = append(out.TagDescriptions, d)
	}
	return out, nil
}
