package sim

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// Lifecycle hooks, as the API reference (PutLifecycleHook, LifecycleHook,
// LifecycleHookSpecification, CompleteLifecycleAction,
// RecordLifecycleActionHeartbeat, DeleteLifecycleHook) and the user guide
// ("Amazon EC2 Auto Scaling lifecycle hooks") describe them:
//
//   - A hook pauses instances the group launches (transition
//     autoscaling:EC2_INSTANCE_LAUNCHING, state Pending:Wait) or terminates
//     (autoscaling:EC2_INSTANCE_TERMINATING, Terminating:Wait) until its
//     lifecycle action is completed with CONTINUE or ABANDON, or its
//     heartbeat timeout (30-7200 s, default 3600) passes and DefaultResult
//     (CONTINUE or ABANDON, default ABANDON) applies.
//   - RecordLifecycleActionHeartbeat restarts the heartbeat timeout; an
//     instance waits at most its global timeout, 48 hours or 100 times the
//     heartbeat timeout, whichever is smaller.
//   - A group has at most 50 hooks; a hook name is unique within its group
//     and a second PutLifecycleHook of the name updates the hook in place
//     (LifecycleTransition is required only for a new hook).
//   - DeleteLifecycleHook completes the hook's outstanding actions first:
//     ABANDON for launching instances, CONTINUE for terminating ones.
//
// What the hooks do to instances lives in asg_lifecycle_actions.go.

// The lifecycle transitions, which are also the lifecycle hook types.
const (
	TransitionLaunching   = "autoscaling:EC2_INSTANCE_LAUNCHING"
	TransitionTerminating = "autoscaling:EC2_INSTANCE_TERMINATING"
)

// The results of a lifecycle action.
const (
	ResultContinue = "CONTINUE"
	ResultAbandon  = "ABANDON"
)

// Limits of lifecycle hooks, from the API reference and the quotas page.
const (
	defaultHeartbeatTimeout = 3600
	minHeartbeatTimeout     = 30
	maxHeartbeatTimeout     = 7200
	// maxGlobalTimeout is 48 hours; a hook's global timeout is the smaller
	// of it and 100 heartbeat timeouts.
	maxGlobalTimeout = 172800
	maxHooksPerGroup = 50
	// lifecycleActionTokenLength is the length of a token (a UUID) the API
	// accepts.
	lifecycleActionTokenLength = 36
)

// hookNamePattern is the pattern the API reference gives lifecycle hook
// names (AsciiStringMaxLen255 with [A-Za-z0-9\-_\/]+).
var hookNamePattern = regexp.MustCompile(`^[A-Za-z0-9\-_/]+$`)

// LifecycleHook is one lifecycle hook of a group.
type LifecycleHook struct {
	Name             string `json:"name"`
	Transition       string `json:"transition"`
	HeartbeatTimeout int32  `json:"heartbeatTimeout"`
	DefaultResult    string `json:"defaultResult"`
	// NotificationMetadata is nil when none was given.
	NotificationMetadata *string `json:"notificationMetadata,omitempty"`
	RoleARN              string  `json:"roleArn,omitempty"`
}

// GlobalTimeout is the longest an instance waits on the hook, in seconds.
func (h *LifecycleHook) GlobalTimeout() int32 {
	return min(maxGlobalTimeout, 100*h.HeartbeatTimeout)
}

// describe renders a hook as the SDK's LifecycleHook.
func (h *LifecycleHook) describe(group string) types.LifecycleHook {
	out := types.LifecycleHook{
		AutoScalingGroupName: aws.String(group),
		LifecycleHookName:    aws.String(h.Name),
		LifecycleTransition:  aws.String(h.Transition),
		HeartbeatTimeout:     aws.Int32(h.HeartbeatTimeout),
		GlobalTimeout:        aws.Int32(h.GlobalTimeout()),
		DefaultResult:        aws.String(h.DefaultResult),
		NotificationMetadata: h.NotificationMetadata,
	}
	if h.RoleARN != "" {
		out.RoleARN = aws.String(h.RoleARN)
	}
	return out
}

// hook returns the group's hook of that name, or nil.
func (g *Group) hook(name string) *LifecycleHook {
	for _, h := range g.Hooks {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// hooksFor returns the group's hooks of one transition, oldest first.
func (g *Group) hooksFor(transition string) []*LifecycleHook {
	var out []*LifecycleHook
	for _, h := range g.Hooks {
		if h.Transition == transition {
			out = append(out, h)
		}
	}
	return out
}

// hookChange is a PutLifecycleHook or a LifecycleHookSpecification: every
// field nil when not given.
type hookChange struct {
	name, transition, defaultResult, metadata, target, role *string
	heartbeat                                               *int32
}

// checkHookName applies the API's constraints on a hook name; member is
// the request member's name in AWS's messages.
func checkHookName(name *string, member string) error {
	switch n := aws.ToString(name); {
	case name == nil:
		return missing(member)
	case n == "":
		return api.Validation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length greater than or equal to 1", member)
	case len(n) > 255:
		return api.Validation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to 255", member)
	case !hookNamePattern.MatchString(n):
		return api.Validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9\\-_\\/]+", n, member)
	}
	return nil
}

// applyHookChange validates a change against the hook it updates (nil for
// a new hook) and returns the hook as it will be. prefix is the request
// member path of the change ("" for PutLifecycleHook).
func applyHookChange(old *LifecycleHook, c hookChange, prefix string) (*LifecycleHook, error) {
	if err := checkHookName(c.name, prefix+"lifecycleHookName"); err != nil {
		return nil, err
	}
	h := &LifecycleHook{Name: *c.name, HeartbeatTimeout: defaultHeartbeatTimeout, DefaultResult: ResultAbandon}
	if old != nil {
		cp := *old
		h = &cp
	}
	if c.transition != nil {
		switch *c.transition {
		case TransitionLaunching, TransitionTerminating:
			h.Transition = *c.transition
		default:
			return nil, api.Validation("Invalid Lifecycle Transition %s. Valid lifecycle transitions are %s and %s.", *c.transition, TransitionLaunching, TransitionTerminating)
		}
	} else if old == nil {
		return nil, api.Validation("LifecycleTransition is required when creating a lifecycle hook: %s or %s.", TransitionLaunching, TransitionTerminating)
	}
	if c.heartbeat != nil {
		if v := *c.heartbeat; v < minHeartbeatTimeout || v > maxHeartbeatTimeout {
			return nil, api.Validation("Heartbeat timeout must be between %d and %d seconds; %d is not valid.", minHeartbeatTimeout, maxHeartbeatTimeout, v)
		}
		h.HeartbeatTimeout = *c.heartbeat
	}
	if c.defaultResult != nil {
		switch *c.defaultResult {
		case ResultContinue, ResultAbandon:
			h.DefaultResult = *c.defaultResult
		default:
			return nil, api.Validation("Invalid DefaultResult %s. Valid values are %s and %s.", *c.defaultResult, ResultContinue, ResultAbandon)
		}
	}
	if c.metadata != nil {
		m := *c.metadata
		switch {
		case m == "":
			return nil, api.Validation("1 validation error detected: Value at '%snotificationMetadata' failed to satisfy constraint: Member must have length greater than or equal to 1", prefix)
		case len(m) > 4000:
			return nil, api.Validation("1 validation error detected: Value at '%snotificationMetadata' failed to satisfy constraint: Member must have length less than or equal to 4000", prefix)
		case strings.IndexFunc(m, func(r rune) bool { return r != '\t' && r != '\n' && r != '\r' && (r < 0x20 || r > 0x7e) }) >= 0:
			return nil, api.Validation("1 validation error detected: Value at '%snotificationMetadata' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u007e]+", prefix)
		}
		h.NotificationMetadata = aws.String(m)
	}
	if c.target != nil && *c.target != "" {
		// Notifications to SNS or SQS are not modelled: Auto Scaling would
		// publish a test message on the call, which the local cloud cannot,
		// and the lifecycle action events on EventBridge are its only
		// notification.
		return nil, api.Validation("The local cloud does not send lifecycle notifications to SNS or SQS (NotificationTargetARN %s); lifecycle actions are announced on EventBridge only.", *c.target)
	}
	if c.role != nil {
		if len(*c.role) > 255 {
			return nil, api.Validation("1 validation error detected: Value at '%sroleARN' failed to satisfy constraint: Member must have length less than or equal to 255", prefix)
		}
		h.RoleARN = *c.role
	}
	return h, nil
}

// hookSpecsFrom validates CreateAutoScalingGroup's
// LifecycleHookSpecificationList: every hook is new, so each needs its
// transition, and names are unique.
func hookSpecsFrom(specs []types.LifecycleHookSpecification) ([]*LifecycleHook, error) {
	if len(specs) > maxHooksPerGroup {
		return nil, asgError(codeLimitExceeded, "You may not create more than %d lifecycle hooks for an Auto Scaling group.", maxHooksPerGroup)
	}
	var out []*LifecycleHook
	for i, s := range specs {
		prefix := "lifecycleHookSpecificationList.member." + strconv.Itoa(i+1) + "."
		if s.LifecycleTransition == nil {
			return nil, missing(prefix + "lifecycleTransition")
		}
		h, err := applyHookChange(nil, hookChange{
			name: s.LifecycleHookName, transition: s.LifecycleTransition, defaultResult: s.DefaultResult,
			metadata: s.NotificationMetadata, target: s.NotificationTargetARN, role: s.RoleARN, heartbeat: s.HeartbeatTimeout,
		}, prefix)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(out, func(o *LifecycleHook) bool { return o.Name == h.Name }) {
			return nil, api.Validation("The lifecycle hook name %s is given more than once in LifecycleHookSpecificationList.", h.Name)
		}
		out = append(out, h)
	}
	return out, nil
}

// PutLifecycleHook creates a lifecycle hook or updates the one of the same
// name in place. It returns ValidationError for bad input or an unknown
// group and LimitExceeded for a 51st hook.
func (a *AutoScaling) PutLifecycleHook(ctx context.Context, in *autoscaling.PutLifecycleHookInput, _ ...func(*autoscaling.Options)) (*autoscaling.PutLifecycleHookOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	if err := checkHookName(in.LifecycleHookName, "lifecycleHookName"); err != nil {
		return nil, err
	}
	_, g, err := a.group(region, in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	old := g.hook(*in.LifecycleHookName)
	if old == nil && len(g.Hooks) >= maxHooksPerGroup {
		return nil, asgError(codeLimitExceeded, "You may not create more than %d lifecycle hooks for Auto Scaling group %s.", maxHooksPerGroup, g.Name)
	}
	h, err := applyHookChange(old, hookChange{
		name: in.LifecycleHookName, transition: in.LifecycleTransition, defaultResult: in.DefaultResult,
		metadata: in.NotificationMetadata, target: in.NotificationTargetARN, role: in.RoleARN, heartbeat: in.HeartbeatTimeout,
	}, "")
	if err != nil {
		return nil, err
	}
	if old == nil {
		g.Hooks = append(g.Hooks, h)
	} else {
		// In place: actions already waiting on the hook see its new
		// settings from their next heartbeat or timeout on.
		*old = *h
	}
	return &autoscaling.PutLifecycleHookOutput{}, nil
}

// DescribeLifecycleHooks lists a group's lifecycle hooks (those named, or
// all), oldest first. Names that match no hook are left out; an unknown
// group is a ValidationError.
func (a *AutoScaling) DescribeLifecycleHooks(ctx context.Context, in *autoscaling.DescribeLifecycleHooksInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeLifecycleHooksOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	_, g, err := a.group(region, in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	if len(in.LifecycleHookNames) > maxHooksPerGroup {
		return nil, api.Validation("1 validation error detected: Value at 'lifecycleHookNames' failed to satisfy constraint: Member must have length less than or equal to %d", maxHooksPerGroup)
	}
	out := &autoscaling.DescribeLifecycleHooksOutput{LifecycleHooks: []types.LifecycleHook{}}
	for _, h := range g.Hooks {
		if len(in.LifecycleHookNames) == 0 || slices.Contains(in.LifecycleHookNames, h.Name) {
			out.LifecycleHooks = append(out.LifecycleHooks, h.describe(g.Name))
		}
	}
	return out, nil
}

// DeleteLifecycleHook deletes a hook, first completing its outstanding
// lifecycle actions: ABANDON for launching instances, CONTINUE for
// terminating ones. A hook that does not exist is a ValidationError.
func (a *AutoScaling) DeleteLifecycleHook(ctx context.Context, in *autoscaling.DeleteLifecycleHookInput, _ ...func(*autoscaling.Options)) (*autoscaling.DeleteLifecycleHookOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	if err := checkHookName(in.LifecycleHookName, "lifecycleHookName"); err != nil {
		return nil, err
	}
	r, g, err := a.group(region, in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	h := g.hook(*in.LifecycleHookName)
	if h == nil {
		return nil, api.Validation("No Lifecycle Hook found with name %s for Auto Scaling group %s.", *in.LifecycleHookName, g.Name)
	}
	result := ResultContinue
	if h.Transition == TransitionLaunching {
		result = ResultAbandon
	}
	for _, gi := range g.sortedInstances() {
		for _, act := range slices.Clone(gi.actions) {
			if act.hook == h && !act.done {
				a.w.completeAction(r, g, gi, act, result, "Lifecycle Hook Deleted")
			}
		}
	}
	g.Hooks = slices.DeleteFunc(g.Hooks, func(o *LifecycleHook) bool { return o == h })
	return &autoscaling.DeleteLifecycleHookOutput{}, nil
}

// DescribeLifecycleHookTypes lists the lifecycle transitions a hook can
// have.
func (a *AutoScaling) DescribeLifecycleHookTypes(ctx context.Context, in *autoscaling.DescribeLifecycleHookTypesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeLifecycleHookTypesOutput, error) {
	_, _, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	return &autoscaling.DescribeLifecycleHookTypesOutput{LifecycleHookTypes: []string{TransitionLaunching, TransitionTerminating}}, nil
}

// CompleteLifecycleAction completes the lifecycle action of a hook for
// one instance, named by its token or its instance id, with CONTINUE or
// ABANDON. An action that is not waiting (already completed, timed out,
// or never started) is a ValidationError, as in AWS ("No active Lifecycle
// Action found with ...").
func (a *AutoScaling) CompleteLifecycleAction(ctx context.Context, in *autoscaling.CompleteLifecycleActionInput, _ ...func(*autoscaling.Options)) (*autoscaling.CompleteLifecycleActionOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	result := aws.ToString(in.LifecycleActionResult)
	switch {
	case in.LifecycleActionResult == nil:
		return nil, missing("lifecycleActionResult")
	case result != ResultContinue && result != ResultAbandon:
		return nil, api.Validation("Invalid LifecycleActionResult %s. Valid values are %s and %s.", result, ResultContinue, ResultAbandon)
	}
	r, g, gi, act, err := a.activeAction(region, in.AutoScalingGroupName, in.LifecycleHookName, in.LifecycleActionToken, in.InstanceId)
	if err != nil {
		return nil, err
	}
	a.w.completeAction(r, g, gi, act, result, "Lifecycle Action Completed with "+result+" Result")
	return &autoscaling.CompleteLifecycleActionOutput{}, nil
}

// RecordLifecycleActionHeartbeat restarts the heartbeat timeout of a
// waiting lifecycle action, never past the hook's global timeout.
func (a *AutoScaling) RecordLifecycleActionHeartbeat(ctx context.Context, in *autoscaling.RecordLifecycleActionHeartbeatInput, _ ...func(*autoscaling.Options)) (*autoscaling.RecordLifecycleActionHeartbeatOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	r, g, gi, act, err := a.activeAction(region, in.AutoScalingGroupName, in.LifecycleHookName, in.LifecycleActionToken, in.InstanceId)
	if err != nil {
		return nil, err
	}
	a.w.heartbeat(r, g, gi, act)
	return &autoscaling.RecordLifecycleActionHeartbeatOutput{}, nil
}

// activeAction finds the waiting lifecycle action a CompleteLifecycleAction
// or RecordLifecycleActionHeartbeat names: the hook's action for the token
// or, without one, for the instance.
func (a *AutoScaling) activeAction(region string, group, hook, token, instance *string) (*Region, *Group, *GroupInstance, *lifecycleAction, error) {
	if err := checkHookName(hook, "lifecycleHookName"); err != nil {
		return nil, nil, nil, nil, err
	}
	tok, id := aws.ToString(token), aws.ToString(instance)
	switch {
	case token != nil && len(tok) != lifecycleActionTokenLength:
		return nil, nil, nil, nil, api.Validation("1 validation error detected: Value '%s' at 'lifecycleActionToken' failed to satisfy constraint: Member must have length %s %d", tok,
			map[bool]string{true: "greater than or equal to", false: "less than or equal to"}[len(tok) < lifecycleActionTokenLength], lifecycleActionTokenLength)
	case tok == "" && id == "":
		return nil, nil, nil, nil, api.Validation("Either a LifecycleActionToken or an InstanceId must be specified.")
	}
	r, g, err := a.group(region, group)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	for _, gi := range g.sortedInstances() {
		if id != "" && gi.InstanceID != id {
			continue
		}
		for _, act := range gi.actions {
			if !act.done && act.hook.Name == *hook && (tok == "" || act.token == tok) {
				return r, g, gi, act, nil
			}
		}
	}
	if tok != "" {
		return nil, nil, nil, nil, api.Validation("No active Lifecycle Action found with token %s", tok)
	}
	return nil, nil, nil, nil, api.Validation("No active Lifecycle Action found with instance ID %s", id)
}
