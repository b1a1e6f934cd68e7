package states

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// nameRetention is how long a closed execution's name stays taken.
const nameRetention = 90 * 24 * time.Hour

func validationMissing(field string) *api.Error {
	return api.Errorf(http.StatusBadRequest, "ValidationException",
		"1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
}

// checkName applies the naming rules Step Functions documents for state
// machines and executions: 1 to 80 characters, none of them white space,
// brackets, wildcards, the listed punctuation or control characters.
func checkName(name string) *api.Error {
	if name == "" || utf8.RuneCountInString(name) > 80 {
		return api.Errorf(http.StatusBadRequest, "InvalidName", "Invalid Name: '%s' (a name must be 1 to 80 characters long)", name)
	}
	for _, r := range name {
		switch {
		case r <= 0x20, r >= 0x7f && r <= 0x9f, r == 0xfffe, r == 0xffff, r >= 0xd800 && r <= 0xdfff:
			return api.Errorf(http.StatusBadRequest, "InvalidName", "Invalid Name: '%s'", name)
		case strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r):
			return api.Errorf(http.StatusBadRequest, "InvalidName", "Invalid Name: '%s'", name)
		}
	}
	return nil
}

var (
	roleARN         = regexp.MustCompile(`^arn:aws:iam::\d{12}:role/.+$`)
	stateMachineARN = regexp.MustCompile(`^arn:aws:states:([a-z0-9-]+):(\d{12}):stateMachine:([^:]+)$`)
	executionARN    = regexp.MustCompile(`^arn:aws:states:([a-z0-9-]+):(\d{12}):execution:([^:]+):([^:]+)$`)
)

func invalidArn(arn string) *api.Error {
	return api.Errorf(http.StatusBadRequest, "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", arn)
}

func (s *Service) machineArn(region, name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", region, s.account, name)
}

// lookupMachine finds a state machine by ARN in the request's region.
func (s *Service) lookupMachine(arn *string) (*stateMachine, *api.Error) {
	if arn == nil || *arn == "" {
		return nil, validationMissing("stateMachineArn")
	}
	if !stateMachineARN.MatchString(*arn) {
		return nil, invalidArn(*arn)
	}
	m, ok := s.machines[*arn]
	if !ok {
		return nil, api.Errorf(http.StatusBadRequest, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", *arn)
	}
	return m, nil
}

func (s *Service) lookupExecution(arn *string) (*execution, *api.Error) {
	if arn == nil || *arn == "" {
		return nil, validationMissing("executionArn")
	}
	if !executionARN.MatchString(*arn) {
		return nil, invalidArn(*arn)
	}
	x, ok := s.executions[*arn]
	if !ok {
		return nil, api.Errorf(http.StatusBadRequest, "ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", *arn)
	}
	return x, nil
}

// maybeRemove deletes a state machine marked for deletion once its last
// execution has closed.
func (s *Service) maybeRemove(m *stateMachine) {
	if m.deleting && m.running == 0 {
		delete(s.machines, m.arn)
	}
}

// CreateStateMachine creates a STANDARD state machine. A second call with
// the same name, definition, type and configurations returns the existing
// machine; one that differs fails with StateMachineAlreadyExists.
func (s *Service) CreateStateMachine(ctx context.Context, in *sfn.CreateStateMachineInput, _ ...func(*sfn.Options)) (*sfn.CreateStateMachineOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case in.Name == nil:
		return nil, validationMissing("name")
	case in.Definition == nil:
		return nil, validationMissing("definition")
	case in.RoleArn == nil:
		return nil, validationMissing("roleArn")
	}
	if err := checkName(*in.Name); err != nil {
		return nil, err
	}
	if !roleARN.MatchString(*in.RoleArn) {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", *in.RoleArn)
	}
	typ := in.Type
	if typ == "" {
		typ = types.StateMachineTypeStandard
	}
	if typ != types.StateMachineTypeStandard {
		return nil, api.Errorf(http.StatusBadRequest, "StateMachineTypeNotSupported", "The local cloud supports STANDARD state machines only, not %s", typ)
	}
	if in.Publish || in.VersionDescription != nil {
		return nil, api.Errorf(http.StatusBadRequest, "ValidationException", "The local cloud does not support state machine versions")
	}
	def, err := ParseDefinition(*in.Definition)
	if err != nil {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidDefinition", "%s", err.Error())
	}
	region := api.Region(ctx)
	arn := s.machineArn(region, *in.Name)
	if old, ok := s.machines[arn]; ok && !old.deleting {
		if old.definition == *in.Definition && old.typ == typ && sameConfig(old.logging, in.LoggingConfiguration) && sameConfig(old.tracing, in.TracingConfiguration) {
			// Step Functions ignores a differing role or tags on an
			// idempotent create.
			return &sfn.CreateStateMachineOutput{StateMachineArn: aws.String(arn), CreationDate: aws.Time(old.created)}, nil
		}
		return nil, api.Errorf(http.StatusBadRequest, "StateMachineAlreadyExists", "State Machine Already Exists: '%s'", arn)
	} else if ok {
		return nil, api.Errorf(http.StatusBadRequest, "StateMachineDeleting", "State machine is being deleted: '%s'", arn)
	}
	m := &stateMachine{arn: arn, name: *in.Name, region: region, definition: *in.Definition, def: def,
		roleArn: *in.RoleArn, typ: typ, created: s.clock.Now(), revision: s.uuid(),
		logging: in.LoggingConfiguration, tracing: in.TracingConfiguration}
	s.machines[arn] = m
	return &sfn.CreateStateMachineOutput{StateMachineArn: aws.String(arn), CreationDate: aws.Time(m.created)}, nil
}

func sameConfig[T any](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return fmt.Sprintf("%+v", *a) == fmt.Sprintf("%+v", *b)
}

// UpdateStateMachine replaces a state machine's definition or role.
// Running executions keep the definition they started with.
func (s *Service) UpdateStateMachine(ctx context.Context, in *sfn.UpdateStateMachineInput, _ ...func(*sfn.Options)) (*sfn.UpdateStateMachineOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, aerr := s.lookupMachine(in.StateMachineArn)
	if aerr != nil {
		return nil, aerr
	}
	if m.deleting {
		return nil, api.Errorf(http.StatusBadRequest, "StateMachineDeleting", "State machine is being deleted: '%s'", m.arn)
	}
	if in.Definition == nil && in.RoleArn == nil && in.LoggingConfiguration == nil && in.TracingConfiguration == nil {
		return nil, api.Errorf(http.StatusBadRequest, "MissingRequiredParameter", "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified")
	}
	if in.Publish || in.VersionDescription != nil {
		return nil, api.Errorf(http.StatusBadRequest, "ValidationException", "The local cloud does not support state machine versions")
	}
	var def *Definition
	if in.Definition != nil {
		d, err := ParseDefinition(*in.Definition)
		if err != nil {
			return nil, api.Errorf(http.StatusBadRequest, "InvalidDefinition", "%s", err.Error())
		}
		def = d
	}
	if in.RoleArn != nil && !roleARN.MatchString(*in.RoleArn) {
		return nil, invalidArn(*in.RoleArn)
	}
	if def != nil {
		m.def, m.definition = def, *in.Definition
	}
	if in.RoleArn != nil {
		m.roleArn = *in.RoleArn
	}
	if in.LoggingConfiguration != nil {
		m.logging = in.LoggingConfiguration
	}
	if in.TracingConfiguration != nil {
		m.tracing = in.TracingConfiguration
	}
	m.revision = s.uuid()
	return &sfn.UpdateStateMachineOutput{UpdateDate: aws.Time(s.clock.Now()), RevisionId: aws.String(m.revision)}, nil
}

// DescribeStateMachine returns a state machine's definition and settings.
func (s *Service) DescribeStateMachine(ctx context.Context, in *sfn.DescribeStateMachineInput, _ ...func(*sfn.Options)) (*sfn.DescribeStateMachineOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, aerr := s.lookupMachine(in.StateMachineArn)
	if aerr != nil {
		return nil, aerr
	}
	status := types.StateMachineStatusActive
	if m.deleting {
		status = types.StateMachineStatusDeleting
	}
	logging := m.logging
	if logging == nil {
		logging = &types.LoggingConfiguration{Level: types.LogLevelOff}
	}
	tracing := m.tracing
	if tracing == nil {
		tracing = &types.TracingConfiguration{Enabled: false}
	}
	return &sfn.DescribeStateMachineOutput{
		StateMachineArn: aws.String(m.arn), Name: aws.String(m.name), Definition: aws.String(m.definition),
		RoleArn: aws.String(m.roleArn), Type: m.typ, CreationDate: aws.Time(m.created), Status: status,
		RevisionId: aws.String(m.revision), LoggingConfiguration: logging, TracingConfiguration: tracing,
	}, nil
}

// DeleteStateMachine marks a state machine for deletion; it disappears once
// its running executions have closed, and accepts no new executions.
func (s *Service) DeleteStateMachine(ctx context.Context, in *sfn.DeleteStateMachineInput, _ ...func(*sfn.Options)) (*sfn.DeleteStateMachineOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.StateMachineArn == nil || *in.StateMachineArn == "" {
		return nil, validationMissing("stateMachineArn")
	}
	if !stateMachineARN.MatchString(*in.StateMachineArn) {
		return nil, invalidArn(*in.StateMachineArn)
	}
	// Deleting a machine that does not exist succeeds, as in AWS.
	if m, ok := s.machines[*in.StateMachineArn]; ok {
		m.deleting = true
		s.maybeRemove(m)
	}
	return &sfn.DeleteStateMachineOutput{}, nil
}

// pageToken encodes a position in a listing; it is opaque to clients.
func pageToken(offset int) *string {
	return aws.String(base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset))))
}

func parsePageToken(tok *string) (int, *api.Error) {
	if tok == nil || *tok == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*tok)
	n, convErr := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
	if err != nil || convErr != nil || !strings.HasPrefix(string(raw), "offset:") || n < 0 {
		return 0, api.Errorf(http.StatusBadRequest, "InvalidToken", "Invalid Token: 'Invalid pagination token'")
	}
	return n, nil
}

// pageBounds checks MaxResults (0 means the default of 100, at most 1000)
// and the token, and returns the slice bounds and the next token.
func pageBounds(total int, max int32, tok *string) (int, int, *string, *api.Error) {
	if max < 0 || max > 1000 {
		return 0, 0, nil, api.Errorf(http.StatusBadRequest, "ValidationException",
			"1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000", max)
	}
	if max == 0 {
		max = 100
	}
	start, aerr := parsePageToken(tok)
	if aerr != nil {
		return 0, 0, nil, aerr
	}
	if start > total {
		start = total
	}
	end := start + int(max)
	var next *string
	if end < total {
		next = pageToken(end)
	} else {
		end = total
	}
	return start, end, next, nil
}

// ListStateMachines lists the region's state machines by name.
func (s *Service) ListStateMachines(ctx context.Context, in *sfn.ListStateMachinesInput, _ ...func(*sfn.Options)) (*sfn.ListStateMachinesOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	region := api.Region(ctx)
	var all []*stateMachine
	for _, m := range s.machines {
		if m.region == region {
			all = append(all, m)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	start, end, next, aerr := pageBounds(len(all), in.MaxResults, in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	out := &sfn.ListStateMachinesOutput{NextToken: next, StateMachines: []types.StateMachineListItem{}}
	for _, m := range all[start:end] {
		out.StateMachines = append(out.StateMachines, types.StateMachineListItem{
			StateMachineArn: aws.String(m.arn), Name: aws.String(m.name), Type: m.typ, CreationDate: aws.Time(m.created)})
	}
	return out, nil
}

// StartExecution starts an execution. With a name already used, a running
// execution with the same input is returned (StartExecution is idempotent
// for STANDARD workflows); a different input, or a closed execution whose
// name is still retained (90 days), fails with ExecutionAlreadyExists.
func (s *Service) StartExecution(ctx context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.StateMachineArn == nil || *in.StateMachineArn == "" {
		return nil, validationMissing("stateMachineArn")
	}
	input := "{}"
	if in.Input != nil {
		input = *in.Input
	}
	x, aerr := s.startExecution(api.Region(ctx), *in.StateMachineArn, aws.ToString(in.Name), input, in.TraceHeader)
	if aerr != nil {
		return nil, aerr
	}
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String(x.arn), StartDate: aws.Time(x.start)}, nil
}

// startExecution is StartExecution under the lock, shared with the
// states:startExecution integration.
func (s *Service) startExecution(region, smArn, name, input string, trace *string) (*execution, *api.Error) {
	m, aerr := s.lookupMachine(&smArn)
	if aerr != nil {
		return nil, aerr
	}
	if m.deleting {
		return nil, api.Errorf(http.StatusBadRequest, "StateMachineDeleting", "State machine is being deleted: '%s'", m.arn)
	}
	if name == "" {
		name = s.uuid()
	} else if aerr := checkName(name); aerr != nil {
		return nil, aerr
	}
	if len(input) > s.limits.MaxPayloadBytes {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidExecutionInput", "Invalid Execution Input: 'The input is %d bytes, more than the maximum of %d'", len(input), s.limits.MaxPayloadBytes)
	}
	inputVal, err := parseJSON(input)
	if err != nil {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidExecutionInput", "Invalid Execution Input: '%v'", err)
	}
	arn := fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", m.region, s.account, m.name, name)
	if old, ok := s.executions[arn]; ok {
		now := s.clock.Now()
		switch {
		case !old.closed && old.input == input:
			return old, nil
		case old.closed && now.Sub(old.stop) >= nameRetention:
			// The name is free again; the new execution replaces the record.
			s.dropExecution(old)
		default:
			return nil, api.Errorf(http.StatusBadRequest, "ExecutionAlreadyExists", "Execution Already Exists: '%s'", arn)
		}
	}
	x := &execution{svc: s, arn: arn, name: name, region: m.region, machine: m, def: m.def, roleArn: m.roleArn,
		input: input, inputVal: inputVal, status: types.ExecutionStatusRunning, start: s.clock.Now(), trace: trace}
	x.root = &run{exec: x, def: m.def}
	s.executions[arn] = x
	s.execOrder = append(s.execOrder, x)
	m.running++
	s.executionStarted(x)
	x.emit(nil, types.HistoryEventTypeExecutionStarted, func(ev *types.HistoryEvent) {
		ev.ExecutionStartedEventDetails = &types.ExecutionStartedEventDetails{
			Input: aws.String(input), InputDetails: notTruncated(), RoleArn: aws.String(m.roleArn)}
	})
	// The first state's entered event follows no event (previousEventId
	// 0), as in the histories Step Functions returns.
	x.root.prev = 0
	if m.def.TimeoutSeconds > 0 {
		x.timeout = s.at(x.start.Add(time.Duration(m.def.TimeoutSeconds)*time.Second), "states:execution-timeout "+name, func() {
			x.finish(types.ExecutionStatusTimedOut, nil, &StateError{Name: ErrTimeout, Cause: "The execution timed out after " + itoa(int(m.def.TimeoutSeconds)) + " seconds."})
		})
	}
	s.soon("states:start "+name, func() { x.enter(x.root, x.def.StartAt, deepCopy(inputVal)) })
	return x, nil
}

func (s *Service) dropExecution(x *execution) {
	delete(s.executions, x.arn)
	for i, e := range s.execOrder {
		if e == x {
			s.execOrder = append(s.execOrder[:i], s.execOrder[i+1:]...)
			break
		}
	}
}

// DescribeExecution returns an execution's status, input and, once closed,
// its output or error.
func (s *Service) DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, aerr := s.lookupExecution(in.ExecutionArn)
	if aerr != nil {
		return nil, aerr
	}
	out := &sfn.DescribeExecutionOutput{
		ExecutionArn: aws.String(x.arn), StateMachineArn: aws.String(x.machine.arn), Name: aws.String(x.name),
		Status: x.status, StartDate: aws.Time(x.start), Input: aws.String(x.input),
		InputDetails: &types.CloudWatchEventsExecutionDataDetails{Included: true},
		Error:        x.errName, Cause: x.cause, TraceHeader: x.trace, RedriveCount: aws.Int32(0),
		RedriveStatus: types.ExecutionRedriveStatusNotRedrivable,
	}
	if x.closed {
		out.StopDate = aws.Time(x.stop)
	}
	if x.output != nil {
		out.Output = x.output
		out.OutputDetails = &types.CloudWatchEventsExecutionDataDetails{Included: true}
	}
	return out, nil
}

// ListExecutions lists a state machine's executions, newest first,
// optionally only those with a status.
func (s *Service) ListExecutions(ctx context.Context, in *sfn.ListExecutionsInput, _ ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.MapRunArn != nil {
		return nil, api.Errorf(http.StatusBadRequest, "ValidationException", "The local cloud has no Distributed Map runs")
	}
	m, aerr := s.lookupMachine(in.StateMachineArn)
	if aerr != nil {
		return nil, aerr
	}
	switch in.StatusFilter {
	case "", types.ExecutionStatusRunning, types.ExecutionStatusSucceeded, types.ExecutionStatusFailed,
		types.ExecutionStatusTimedOut, types.ExecutionStatusAborted, types.ExecutionStatusPendingRedrive:
	default:
		return nil, api.Errorf(http.StatusBadRequest, "ValidationException",
			"1 validation error detected: Value '%s' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]", in.StatusFilter)
	}
	var all []*execution
	for i := len(s.execOrder) - 1; i >= 0; i-- {
		x := s.execOrder[i]
		if x.machine == m && (in.StatusFilter == "" || x.status == in.StatusFilter) {
			all = append(all, x)
		}
	}
	start, end, next, aerr := pageBounds(len(all), in.MaxResults, in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	out := &sfn.ListExecutionsOutput{NextToken: next, Executions: []types.ExecutionListItem{}}
	for _, x := range all[start:end] {
		item := types.ExecutionListItem{ExecutionArn: aws.String(x.arn), StateMachineArn: aws.String(m.arn),
			Name: aws.String(x.name), Status: x.status, StartDate: aws.Time(x.start), RedriveCount: aws.Int32(0)}
		if x.closed {
			item.StopDate = aws.Time(x.stop)
		}
		out.Executions = append(out.Executions, item)
	}
	return out, nil
}

// StopExecution aborts a running execution. Stopping a closed execution
// changes nothing.
func (s *Service) StopExecution(ctx context.Context, in *sfn.StopExecutionInput, _ ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, aerr := s.lookupExecution(in.ExecutionArn)
	if aerr != nil {
		return nil, aerr
	}
	if !x.closed {
		var serr *StateError
		if in.Error != nil || in.Cause != nil {
			serr = &StateError{Name: aws.ToString(in.Error), Cause: aws.ToString(in.Cause)}
		}
		x.finish(types.ExecutionStatusAborted, nil, serr)
	}
	return &sfn.StopExecutionOutput{StopDate: aws.Time(x.stop)}, nil
}

// GetExecutionHistory pages through an execution's events, oldest first
// unless ReverseOrder is set.
func (s *Service) GetExecutionHistory(ctx context.Context, in *sfn.GetExecutionHistoryInput, _ ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, aerr := s.lookupExecution(in.ExecutionArn)
	if aerr != nil {
		return nil, aerr
	}
	start, end, next, aerr := pageBounds(len(x.events), in.MaxResults, in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	include := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	out := &sfn.GetExecutionHistoryOutput{NextToken: next, Events: make([]types.HistoryEvent, 0, end-start)}
	for i := start; i < end; i++ {
		idx := i
		if in.ReverseOrder {
			idx = len(x.events) - 1 - i
		}
		ev := x.events[idx]
		if !include {
			ev = stripData(ev)
		}
		out.Events = append(out.Events, ev)
	}
	return out, nil
}

// SendTaskSuccess completes a task waiting on its token with output.
func (s *Service) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.Output == nil {
		return nil, validationMissing("output")
	}
	t, aerr := s.lookupToken(in.TaskToken)
	if aerr != nil {
		return nil, aerr
	}
	if len(*in.Output) > s.limits.MaxPayloadBytes {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidOutput", "Invalid Output: 'The output is %d bytes, more than the maximum of %d'", len(*in.Output), s.limits.MaxPayloadBytes)
	}
	v, err := parseJSON(*in.Output)
	if err != nil {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidOutput", "Invalid Output: '%v'", err)
	}
	t.succeeded(v)
	return &sfn.SendTaskSuccessOutput{}, nil
}

// SendTaskFailure fails a task waiting on its token with an error and cause.
func (s *Service) SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, aerr := s.lookupToken(in.TaskToken)
	if aerr != nil {
		return nil, aerr
	}
	if len(aws.ToString(in.Error)) > 256 || len(aws.ToString(in.Cause)) > 32768 {
		return nil, api.Errorf(http.StatusBadRequest, "ValidationException", "1 validation error detected: the error must be at most 256 characters and the cause at most 32768")
	}
	t.failed(&StateError{Name: aws.ToString(in.Error), Cause: aws.ToString(in.Cause)})
	return &sfn.SendTaskFailureOutput{}, nil
}

// SendTaskHeartbeat tells a task waiting on its token that its worker is
// still alive, restarting its HeartbeatSeconds timer.
func (s *Service) SendTaskHeartbeat(ctx context.Context, in *sfn.SendTaskHeartbeatInput, _ ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, aerr := s.lookupToken(in.TaskToken)
	if aerr != nil {
		return nil, aerr
	}
	if t.heartbeat > 0 {
		t.armHeartbeat()
	}
	return &sfn.SendTaskHeartbeatOutput{}, nil
}

// TokenStateMachine returns the ARN of the state machine whose execution
// issued a task token, so that SendTaskSuccess, SendTaskFailure and
// SendTaskHeartbeat can be authorized against it; ok is false for a token
// the service never issued.
func (s *Service) TokenStateMachine(token string) (arn string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[token]
	if !ok {
		return "", false
	}
	return t.x.machine.arn, true
}
