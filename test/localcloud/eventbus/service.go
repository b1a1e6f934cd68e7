package eventbus

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// DefaultBus is the only event bus the local cloud models.
const DefaultBus = "default"

// Limits from the EventBridge API reference and quotas page.
const (
	maxEntriesPerPutEvents = 10
	defaultMaxRequestBytes = 256 * 1024
	maxTargetsPerRule      = 5
	maxTargetsPerCall      = 10
	maxNameLength          = 64
	maxDescriptionLength   = 512
	maxListLimit           = 100
	defaultMaxRetries      = 185
	defaultMaxEventAge     = 24 * time.Hour
	minMaxEventAge         = 60 * time.Second
)

// Options configures an EventBridge.
type Options struct {
	// Clock runs deliveries and schedules. Required.
	Clock *clock.Sim
	// Target receives every delivery (Lambda and Step Functions models, or a
	// Recorder in tests). Required.
	Target Target
	// Account is the account the bus belongs to; DefaultAccount if empty.
	Account string
	// Seed makes event ids, retry jitter and chaos draws repeatable.
	Seed uint64
	// Latency is the time from an event reaching the bus to the first
	// delivery attempt; 100 ms if zero. Delivery is never inline in PutEvents.
	Latency time.Duration
	// MaxRequestBytes bounds the summed size of a PutEvents request's entries,
	// computed as the EventBridge user guide describes; 256 KiB if zero.
	MaxRequestBytes int
}

// EventBridge models Amazon EventBridge's default event bus in every region:
// rules with event patterns and schedules, targets with input shaping, and
// at-least-once delivery on the simulated clock. Methods with SDK signatures
// are the API; the others are the harness's controls. It is safe for
// concurrent use.
type EventBridge struct {
	mu       sync.Mutex
	clock    *clock.Sim
	target   Target
	account  string
	latency  time.Duration
	maxBytes int
	rng      *rand.Rand
	regions  map[string]*bus

	chaos      map[string]Chaos // by rule name; "" is every rule
	deliveries []Delivery
	ingested   []IngestedEvent
}

// IngestedEvent is one event that reached a bus, as the harness sees it.
type IngestedEvent struct {
	Region string
	// JSON is the event in the envelope targets receive by default.
	JSON []byte
	// IngestedAt is when the bus accepted it.
	IngestedAt time.Time
}

// bus is one region's default event bus.
type bus struct {
	region string
	rules  map[string]*rule
	// index maps an exact source to the rules that may match it (those
	// requiring it and those accepting any source); wildcard holds the latter.
	// Rebuilt lazily after changes.
	index    map[string][]*rule
	wildcard []*rule
	dirty    bool
}

type rule struct {
	name         string
	arn          string
	description  string
	roleARN      string
	patternText  *string
	pattern      *Pattern
	scheduleText *string
	schedule     Schedule
	state        types.RuleState
	targets      []*ruleTarget
	createdBy    string

	timer *clock.Timer
	gen   uint64 // bumped on every change, so stale timers do nothing
}

type ruleTarget struct {
	sdk         types.Target
	transformer *inputTransformer
	inputPath   *jsonPath
	maxRetries  int
	maxAge      time.Duration
}

// New returns an EventBridge with no rules.
func New(opts Options) *EventBridge {
	if opts.Clock == nil {
		panic("eventbus.New: Options.Clock is required")
	}
	if opts.Target == nil {
		panic("eventbus.New: Options.Target is required")
	}
	b := &EventBridge{
		clock:    opts.Clock,
		target:   opts.Target,
		account:  opts.Account,
		latency:  opts.Latency,
		maxBytes: opts.MaxRequestBytes,
		rng:      rand.New(rand.NewPCG(opts.Seed, 0xeb0b)),
		regions:  map[string]*bus{},
		chaos:    map[string]Chaos{},
	}
	if b.account == "" {
		b.account = DefaultAccount
	}
	if b.latency <= 0 {
		b.latency = 100 * time.Millisecond
	}
	if b.maxBytes <= 0 {
		b.maxBytes = defaultMaxRequestBytes
	}
	return b
}

// DefaultAccount is the account the bus answers as unless Options say
// otherwise; it is the local cloud's account (sim.DefaultAccount).
const DefaultAccount = "123456789012"

// ServiceEvent is an event emitted by an AWS service model, in the fields of
// the EventBridge envelope. Empty fields are filled in by Publish.
type ServiceEvent struct {
	ID         string
	Version    string
	DetailType string
	Source     string
	Account    string
	Time       time.Time
	Region     string
	Resources  []string
	Detail     json.RawMessage
}

// Publish puts a service event (any source, including aws.*, which
// PutEvents refuses) on its region's default bus, exactly as a PutEvents
// entry would go. The simulated World calls it with its own lock held (see
// package simbridge), so it only records the event and schedules routing on
// the clock; it never calls back into the caller.
func (b *EventBridge) Publish(ev ServiceEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ev.ID == "" {
		ev.ID = b.uuid()
	}
	if ev.Version == "" {
		ev.Version = "0"
	}
	if ev.Account == "" {
		ev.Account = b.account
	}
	if ev.Region == "" {
		ev.Region = api.DefaultRegion
	}
	if ev.Time.IsZero() {
		ev.Time = b.clock.Now()
	}
	if len(ev.Detail) == 0 {
		ev.Detail = json.RawMessage("{}")
	}
	b.ingest(ev, nil)
}

// Ingested returns every event that reached a bus, oldest first.
func (b *EventBridge) Ingested() []IngestedEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]IngestedEvent(nil), b.ingested...)
}

// region returns a region's bus, creating it on first use.
func (b *EventBridge) region(name string) *bus {
	r, ok := b.regions[name]
	if !ok {
		r = &bus{region: name, rules: map[string]*rule{}, dirty: true}
		b.regions[name] = r
	}
	return r
}

func (b *EventBridge) uuid() string {
	x, y := b.rng.Uint64(), b.rng.Uint64()
	x = (x &^ 0xf000) | 0x4000
	y = (y &^ (0xc << 60)) | (0x8 << 60)
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", x>>32, (x>>16)&0xffff, x&0xffff, y>>48, y&0xffffffffffff)
}

func (b *EventBridge) ruleARN(region, name string) string {
	return fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", region, b.account, name)
}

// Errors, in EventBridge's words.

func validationError(format string, args ...any) *api.Error {
	return api.Errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

func notNull(field string) *api.Error {
	return validationError("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
}

func ruleNotFound(name string) *api.Error {
	return api.Errorf(http.StatusBadRequest, "ResourceNotFoundException", "Rule %s does not exist on EventBus %s.", name, DefaultBus)
}

var nameRE = regexp.MustCompile(`^[\.\-_A-Za-z0-9]+$`)

func checkName(field string, v *string) *api.Error {
	if v == nil {
		return notNull(field)
	}
	s := *v
	if len(s) < 1 || len(s) > maxNameLength {
		return validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length between 1 and %d", s, field, maxNameLength)
	}
	if !nameRE.MatchString(s) {
		return validationError(`1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+`, s, field)
	}
	return nil
}

// busFor resolves EventBusName (a name or an ARN); only the default bus
// exists in the local cloud.
func (b *EventBridge) busFor(ctx context.Context, name *string) (*bus, *api.Error) {
	region := api.Region(ctx)
	n := aws.ToString(name)
	if n == "" || n == DefaultBus || n == fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", region, b.account, DefaultBus) {
		return b.region(region), nil
	}
	return nil, api.Errorf(http.StatusBadRequest, "ResourceNotFoundException", "Event bus %s does not exist.", n)
}

// PutRule creates or replaces a rule. As in EventBridge, omitted fields of
// an existing rule are not kept; its targets are.
func (b *EventBridge) PutRule(ctx context.Context, in *eventbridge.PutRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error) {
	in, _, done := api.Begin(ctx, &b.mu, in)
	defer done()
	if err := checkName("name", in.Name); err != nil {
		return nil, err
	}
	if in.EventPattern == nil && in.ScheduleExpression == nil {
		return nil, validationError("Parameter(s) EventPattern or ScheduleExpression must be specified.")
	}
	if d := aws.ToString(in.Description); utf8.RuneCountInString(d) > maxDescriptionLength {
		return nil, validationError("1 validation error detected: Value '%s' at 'description' failed to satisfy constraint: Member must have length less than or equal to %d", d, maxDescriptionLength)
	}
	state := in.State
	switch state {
	case "":
		state = types.RuleStateEnabled
	case types.RuleStateEnabled, types.RuleStateDisabled, types.RuleStateEnabledWithAllCloudtrailManagementEvents:
	default:
		return nil, validationError("1 validation error detected: Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]", state)
	}
	var pattern *Pattern
	if in.EventPattern != nil {
		p, err := CompilePattern(*in.EventPattern)
		if err != nil {
			return nil, api.Errorf(http.StatusBadRequest, "InvalidEventPatternException", "%s", err.Error())
		}
		pattern = p
	}
	var schedule Schedule
	if in.ScheduleExpression != nil {
		s, err := ParseSchedule(*in.ScheduleExpression)
		if err != nil {
			return nil, validationError("Parameter ScheduleExpression is not valid.")
		}
		schedule = s
	}

	bs, aerr := b.busFor(ctx, in.EventBusName)
	if aerr != nil {
		return nil, aerr
	}
	name := *in.Name
	r, ok := bs.rules[name]
	if !ok {
		r = &rule{name: name, arn: b.ruleARN(bs.region, name), createdBy: b.account}
		bs.rules[name] = r
	}
	r.description = aws.ToString(in.Description)
	r.roleARN = aws.ToString(in.RoleArn)
	r.patternText, r.pattern = copyString(in.EventPattern), pattern
	r.scheduleText, r.schedule = copyString(in.ScheduleExpression), schedule
	r.state = state
	bs.dirty = true
	b.rearm(bs, r)
	return &eventbridge.PutRuleOutput{RuleArn: aws.String(r.arn)}, nil
}

func copyString(s *string) *string {
	if s == nil {
		return nil
	}
	v := *s
	return &v
}

func (b *EventBridge) lookupRule(ctx context.Context, name *string, busName *string) (*bus, *rule, *api.Error) {
	if err := checkName("name", name); err != nil {
		return nil, nil, err
	}
	bs, err := b.busFor(ctx, busName)
	if err != nil {
		return nil, nil, err
	}
	r, ok := bs.rules[*name]
	if !ok {
		return nil, nil, ruleNotFound(*name)
	}
	return bs, r, nil
}

// DescribeRule returns a rule.
func (b *EventBridge) DescribeRule(ctx context.Context, in *eventbridge.DescribeRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error) {
	in, _, done := api.Begin(ctx, &b.mu, in)
	defer done()
	_, r, err := b.lookupRule(ctx, in.Name, in.EventBusName)
	if err != nil {
		return nil, err
	}
	sdk := r.toSDK()
	return &eventbridge.DescribeRuleOutput{
		Arn:                sdk.Arn,
		CreatedBy:          aws.String(r.createdBy),
		Description:        sdk.Description,
		EventBusName:       sdk.EventBusName,
		EventPattern:       sdk.EventPattern,
		Name:               sdk.Name,
		RoleArn:            sdk.RoleArn,
		ScheduleExpression: sdk.ScheduleExpression,
		State:              sdk.State,
	}, nil
}

func (r *rule) toSDK() types.Rule {
	out := types.Rule{
		Arn:                aws.String(r.arn),
		EventBusName:       aws.String(DefaultBus),
		EventPattern:       copyString(r.patternText),
		Name:               aws.String(r.name),
		ScheduleExpression: copyString(r.scheduleText),
		State:              r.state,
	}
	if r.description != "" {
		out.Description = aws.String(r.description)
	}
	if r.roleARN != "" {
		out.RoleArn = aws.String(r.roleARN)
	}
	return out
}

// Pagination tokens are opaque to clients; ours carry the next item's key.
func pageToken(key string) *string {
	return aws.String(base64.RawURLEncoding.EncodeToString([]byte("v1:" + key)))
}

func parsePageToken(tok *string) (string, *api.Error) {
	if tok == nil {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*tok)
	if err != nil || !strings.HasPrefix(string(raw), "v1:") {
		// The API reference names this error InvalidToken.
		return "", api.Errorf(http.StatusBadRequest, "InvalidToken", "The provided token is not valid.")
	}
	return strings.TrimPrefix(string(raw), "v1:"), nil
}

func pageLimit(limit *int32) (int, *api.Error) {
	if limit == nil {
		return maxListLimit, nil
	}
	if *limit < 1 || *limit > maxListLimit {
		return 0, validationError("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", *limit, maxListLimit)
	}
	return int(*limit), nil
}

// ListRules lists rules by name, optionally by prefix, a page at a time.
func (b *EventBridge) ListRules(ctx context.Context, in *eventbridge.ListRulesInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListRulesOutput, error) {
	in, _, done := api.Begin(ctx, &b.mu, in)
	defer done()
	limit, aerr := pageLimit(in.Limit)
	if aerr != nil {
		return nil, aerr
	}
	start, aerr := parsePageToken(in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	bs, aerr := b.busFor(ctx, in.EventBusName)
	if aerr != nil {
		return nil, aerr
	}
	names := make([]string, 0, len(bs.rules))
	for n := range bs.rules {
		if strings.HasPrefix(n, aws.ToString(in.NamePrefix)) && n >= start {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := &eventbridge.ListRulesOutput{Rules: []types.Rule{}}
	for i, n := range names {
		if i == limit {
			out.NextToken = pageToken(n)
			break
		}
		out.Rules = append(out.Rules, bs.rules[n].toSDK())
	}
	return out, nil
}

// EnableRule enables a rule; a scheduled rule starts firing again.
func (b *EventBridge) EnableRule(ctx context.Context, in *eventbridge.EnableRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.EnableRuleOutput, error) {
	in, _, done := api.Begin(ctx, &b.mu, in)
	defer done()
	if err := b.setState(ctx, in.Name, in.EventBusName, types.RuleStateEnabled); err != nil {
		return nil, err
	}
	return &eventbridge.EnableRuleOutput{}, nil
}

// DisableRule disables a rule: it matches no events and fires no schedule.
func (b *EventBridge) DisableRule(ctx context.Context, in *eventbridge.DisableRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.DisableRuleOutput, error) {
	in, _, done := api.Begin(ctx, &b.mu, in)
	defer done()
	if err := b.setState(ctx, in.Name, in.EventBusName, types.RuleStateDisabled); err != nil {
		return nil, err
	}
	return &eventbridge.DisableRuleOutput{}, nil
}

// setState enables or disables a rule; mu is held.
func (b *EventBridge) setState(ctx context.Context, name, busName *string, state types.RuleState) error {
	bs, r, err := b.lookupRule(ctx, name, busName)
	if err != nil {
		return err
	}
	if r.state == state || (state == types.RuleStateEnabled && r.enabled()) {
		return nil
	}
	r.state = state
	bs.dirty = true
	b.rearm(bs, r)
	return nil
}

func (r *rule) enabled() bool { return r.state != types.RuleStateDisabled }

// DeleteRule deletes a rule, refusing while it has targets. Deleting a rule
// that does not exist succeeds, as it does in EventBridge.
func (b *EventBridge) DeleteRule(ctx context.Context, in *eventbridge.DeleteRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.DeleteRuleOutput, error) {
	in, _, done := api.Begin(ctx, &b.mu, in)
	defer done()
	if err := checkName("name", in.Name); err != nil {
		return nil, err
	}
	bs, aerr := b.busFor(ctx, in.EventBusName)
	if aerr != nil {
		return nil, aerr
	}
	r, ok := bs.rules[*in.Name]
	if !ok {
		return &eventbridge.DeleteRuleOutput{}, nil
	}
	if len(r.targets) > 0 {
		return nil, validationError("Rule can't be deleted since it has targets.")
	}
	r.gen++
	r.timer.Stop()
	delete(bs.rules, r.name)
	bs.dirty = true
	return &eventbridge.DeleteRuleOutput{}, nil
}

// arnRE accepts the general ARN shape arn:partition:service:region:account:resource.
var arnRE = regexp.MustCompile(`^arn:aws[a-z\-]*:[a-z0-9\-]+:[a-z0-9\-]*:[0-9]*:.+$`)

// supportedTarget reports whether the local cloud can deliver to arn: Lambda
// functions and Step Functions state machines.
func supportedTarget(arn string) bool {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) < 6 {
		return false
	}
	switch parts[2] {
	case "lambda":
		return strings.HasPrefix(parts[5], "function")
	case "states":
		return strings.HasPrefix(parts[5], "stateMachine")
	}
	return false
}

// PutTargets adds or updates targets of a rule. Malformed requests fail as a
// whole, as in EventBridge; a target the local cloud cannot deliver to is
// reported in FailedEntries with the code UnsupportedTarget.
func (b *EventBridge) PutTargets(ctx context.Context, in *eventbridge.PutTargetsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error) {
	in, _, done := api.Begin(ctx, &b.mu, in)
	defer done()
	if err := checkName("rule", in.Rule); err != nil {
		return nil, err
	}
	if in.Targets == nil {
		return nil, notNull("targets")
	}
	if n := len(in.Targets); n < 1 || n > maxTargetsPerCall {
		return nil, validationError("1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length between 1 and %d", maxTargetsPerCall)
	}
	compiled := make([]*ruleTarget, len(in.Targets))
	for i, t := range in.Targets {
		rt, err := compileTarget(i+1, t)
		if err != nil {
			return nil, err
		}
		compiled[i] = rt
	}

	bs, err := b.busFor(ctx, in.EventBusName)
	if err != nil {
		return nil, err
	}
	r, ok := bs.rules[*in.Rule]
	if !ok {
		return nil, ruleNotFound(*in.Rule)
	}
	out := &eventbridge.PutTargetsOutput{FailedEntries: []types.PutTargetsResultEntry{}}
	next := append([]*ruleTarget(nil), r.targets...)
	for _, rt := range compiled {
		id := aws.ToString(rt.sdk.Id)
		if !supportedTarget(aws.ToString(rt.sdk.Arn)) {
			out.FailedEntries = append(out.FailedEntries, types.PutTargetsResultEntry{
				TargetId:     aws.String(id),
				ErrorCode:    aws.String("UnsupportedTarget"),
				ErrorMessage: aws.String(fmt.Sprintf("The local cloud delivers only to Lambda functions and Step Functions state machines, not to %s.", aws.ToString(rt.sdk.Arn))),
			})
			continue
		}
		replaced := false
		for j, old := range next {
			if aws.ToString(old.sdk.Id) == id {
				next[j], replaced = rt, true
			}
		}
		if !replaced {
			next = append(next, rt)
		}
	}
	if len(next) > maxTargetsPerRule {
		return nil, api.Errorf(http.StatusBadRequest, "LimitExceededException", "The requested resource exceeds the maximum number allowed.")
	}
	r.targets = next
	out.FailedEntryCount = int32(len(out.FailedEntries))
	return out, nil
}

// compileTarget validates one target (i is its 1-based position, used in
// messages the way the API's validation messages are).
func compileTarget(i int, t types.Target) (*ruleTarget, *api.Error) {
	field := fmt.Sprintf("targets.%d.member", i)
	if err := checkName(field+".id", t.Id); err != nil {
		return nil, err
	}
	if t.Arn == nil {
		return nil, notNull(field + ".arn")
	}
	id, arn := *t.Id, *t.Arn
	if !arnRE.MatchString(arn) {
		return nil, validationError("Parameter %s is not valid. Reason: Provided Arn is not in correct format.", arn)
	}
	if strings.Split(arn, ":")[2] == "states" && aws.ToString(t.RoleArn) == "" {
		return nil, validationError("RoleArn is required for target %s.", arn)
	}
	set := 0
	for _, present := range []bool{t.Input != nil, t.InputPath != nil, t.InputTransformer != nil} {
		if present {
			set++
		}
	}
	if set > 1 {
		return nil, validationError("Only one of Input, InputPath, or InputTransformer must be provided for target %s.", id)
	}
	rt := &ruleTarget{sdk: t, maxRetries: defaultMaxRetries, maxAge: defaultMaxEventAge}
	if t.Input != nil {
		if len(*t.Input) > maxInputChars {
			return nil, validationError("1 validation error detected: Value at '%s.input' failed to satisfy constraint: Member must have length less than or equal to %d", field, maxInputChars)
		}
		if _, err := decodeJSON([]byte(*t.Input)); err != nil {
			return nil, validationError("Input for target %s is not a valid JSON text.", id)
		}
	}
	if t.InputPath != nil {
		if len(*t.InputPath) > maxInputPathChars {
			return nil, validationError("1 validation error detected: Value at '%s.inputPath' failed to satisfy constraint: Member must have length less than or equal to %d", field, maxInputPathChars)
		}
		p, err := compileJSONPath(*t.InputPath)
		if err != nil {
			return nil, validationError("InputPath for target %s is not a valid JSON path: %s", id, err.Error())
		}
		rt.inputPath = &p
	}
	if it := t.InputTransformer; it != nil {
		if it.InputTemplate == nil {
			return nil, notNull(field + ".inputTransformer.inputTemplate")
		}
		tr, err := compileTransformer(it.InputPathsMap, *it.InputTemplate)
		if err != nil {
			return nil, validationError("InputTransformer for target %s is not valid: %s", id, err.Error())
		}
		rt.transformer = tr
	}
	if rp := t.RetryPolicy; rp != nil {
		if v := rp.MaximumRetryAttempts; v != nil {
			if *v < 0 || *v > defaultMaxRetries {
				return nil, validationError("1 validation error detected: Value '%d' at '%s.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member must have value between 0 and %d", *v, field, defaultMaxRetries)
			}
			rt.maxRetries = int(*v)
		}
		if v := rp.MaximumEventAgeInSeconds; v != nil {
			age := time.Duration(*v) * time.Second
			if age < minMaxEventAge || age > defaultMaxEventAge {
				return nil, validationError("1 validation error detected: Value '%d' at '%s.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value between 60 and 86400", *v, field)
			}
			rt.maxAge = age
		}
	}
	return rt, nil
}

// RemoveTargets removes targets from a rule; ids it does not have are
// ignored.
func (b *EventBridge) RemoveTargets(ctx context.Context, in *eventbridge.RemoveTargetsInput, _ ...func(*eventbridge.Options)) (*eventbridge.RemoveTargetsOutput, error) {
	in, _, done := api.Begin(ctx, &b.mu, in)
	defer done()
	if err := checkName("rule", in.Rule); err != nil {
		return nil, err
	}
	if in.Ids == nil {
		return nil, notNull("ids")
	}
	if n := len(in.Ids); n < 1 || n > 100 {
		return nil, validationError("1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must have length between 1 and 100")
	}
	bs, err := b.busFor(ctx, in.EventBusName)
	if err != nil {
		return nil, err
	}
	r, ok := bs.rules[*in.Rule]
	if !ok {
		return nil, ruleNotFound(*in.Rule)
	}
	remove := map[string]bool{}
	for _, id := range in.Ids {
		remove[id] = true
	}
	kept := r.targets[:0:0]
	for _, t := range r.targets {
		if !remove[aws.ToString(t.sdk.Id)] {
			kept = append(kept, t)
		}
	}
	r.targets = kept
	return &eventbridge.RemoveTargetsOutput{FailedEntries: []types.RemoveTargetsResultEntry{}}, nil
}

// ListTargetsByRule lists a rule's targets in the order they were added.
func (b *EventBridge) ListTargetsByRule(ctx context.Context, in *eventbridge.ListTargetsByRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error) {
	in, _, done := api.Begin(ctx, &b.mu, in)
	defer done()
	if err := checkName("rule", in.Rule); err != nil {
		return nil, err
	}
	limit, aerr := pageLimit(in.Limit)
	if aerr != nil {
		return nil, aerr
	}
	start, aerr := parsePageToken(in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	bs, aerr := b.busFor(ctx, in.EventBusName)
	if aerr != nil {
		return nil, aerr
	}
	r, ok := bs.rules[*in.Rule]
	if !ok {
		return nil, ruleNotFound(*in.Rule)
	}
	out := &eventbridge.ListTargetsByRuleOutput{Targets: []types.Target{}}
	started := start == ""
	for _, t := range r.targets {
		id := aws.ToString(t.sdk.Id)
		if !started {
			if id != start {
				continue
			}
			started = true
		}
		if len(out.Targets) == limit {
			out.NextToken = pageToken(id)
			break
		}
		out.Targets = append(out.Targets, t.sdk)
	}
	return out, nil
}

// requiredEventFields are the envelope fields TestEventPattern insists on.
var requiredEventFields = []string{"id", "account", "source", "time", "region", "resources", "detail-type"}

// TestEventPattern reports whether an event matches a pattern.
func (b *EventBridge) TestEventPattern(_ context.Context, in *eventbridge.TestEventPatternInput, _ ...func(*eventbridge.Options)) (*eventbridge.TestEventPatternOutput, error) {
	// Not api.Begin: a pure function of its input; it takes no lock.
	if in == nil {
		in = &eventbridge.TestEventPatternInput{}
	}
	if in.EventPattern == nil {
		return nil, notNull("eventPattern")
	}
	if in.Event == nil {
		return nil, notNull("event")
	}
	p, err := CompilePattern(*in.EventPattern)
	if err != nil {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidEventPatternException", "%s", err.Error())
	}
	ev, err := ParseEvent([]byte(*in.Event))
	if err != nil {
		return nil, validationError("Parameter Event is not valid.")
	}
	for _, f := range requiredEventFields {
		if ev.root.get(f) == nil {
			return nil, validationError("Parameter Event is not valid.")
		}
	}
	return &eventbridge.TestEventPatternOutput{Result: p.Match(ev)}, nil
}

// entrySize is a PutEvents entry's size as the user guide computes it.
func entrySize(e types.PutEventsRequestEntry) int {
	n := len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Detail))
	if e.Time != nil {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// PutEvents accepts up to ten entries and answers each with an event id or
// an error code. Accepted events are routed on the clock, never inline.
func (b *EventBridge) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	in, region, done := api.Begin(ctx, &b.mu, in)
	defer done()
	if in.Entries == nil {
		return nil, notNull("entries")
	}
	if n := len(in.Entries); n < 1 || n > maxEntriesPerPutEvents {
		return nil, validationError("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and %d", maxEntriesPerPutEvents)
	}
	total := 0
	for _, e := range in.Entries {
		total += entrySize(e)
	}
	if total > b.maxBytes {
		return nil, validationError("Total size of the entries in the request is over the limit.")
	}
	out := &eventbridge.PutEventsOutput{Entries: make([]types.PutEventsResultEntry, len(in.Entries))}
	for i, e := range in.Entries {
		code, msg := b.checkEntry(ctx, e)
		if code != "" {
			out.Entries[i] = types.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String(msg)}
			out.FailedEntryCount++
			continue
		}
		t := b.clock.Now()
		if e.Time != nil {
			t = *e.Time
		}
		ev := ServiceEvent{
			ID: b.uuid(), Version: "0", DetailType: *e.DetailType, Source: *e.Source,
			Account: b.account, Time: t.UTC(), Region: region,
			Resources: append([]string{}, e.Resources...), Detail: json.RawMessage(*e.Detail),
		}
		b.ingest(ev, nil)
		out.Entries[i] = types.PutEventsResultEntry{EventId: aws.String(ev.ID)}
	}
	return out, nil
}

// checkEntry validates one PutEvents entry, returning an error code and
// message for the result entry, or "" if the entry is accepted.
func (b *EventBridge) checkEntry(ctx context.Context, e types.PutEventsRequestEntry) (string, string) {
	switch {
	case aws.ToString(e.Source) == "":
		return "InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."
	case aws.ToString(e.DetailType) == "":
		return "InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."
	case aws.ToString(e.Detail) == "":
		return "InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument."
	case strings.HasPrefix(*e.Source, "aws."):
		return "NotAuthorizedForSourceException", "Not authorized for the source."
	}
	if doc, err := decodeJSON([]byte(*e.Detail)); err != nil {
		return "MalformedDetail", "Detail is malformed."
	} else if _, ok := doc.(map[string]any); !ok {
		return "MalformedDetail", "Detail is malformed."
	}
	if _, err := b.busFor(ctx, e.EventBusName); err != nil {
		return "ResourceNotFoundException", err.Message
	}
	return "", ""
}
