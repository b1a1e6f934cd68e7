package states

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Definition is a compiled, validated state machine (or the branch of a
// Parallel state, or the item processor of a Map state).
type Definition struct {
	Comment        string
	StartAt        string
	States         map[string]*State
	TimeoutSeconds int64
}

// State is one compiled state. Fields that do not apply to its Type are zero.
type State struct {
	Name string
	Type string
	Next string
	End  bool

	InputPath      optPath
	OutputPath     optPath
	Parameters     *Template
	ResultSelector *Template
	ResultPath     resultPath

	// Pass.
	Result    any
	hasResult bool

	// Task.
	Resource             string
	resource             *resource
	TimeoutSeconds       int64
	TimeoutSecondsPath   *Path
	HeartbeatSeconds     int64
	HeartbeatSecondsPath *Path

	Retry []*Retrier
	Catch []*Catcher

	// Choice.
	Choices []*ChoiceRule
	Default string

	// Wait.
	Seconds       *int64
	SecondsPath   *Path
	Timestamp     *time.Time
	TimestampPath *Path

	// Fail.
	Error     string
	Cause     string
	ErrorPath *Template
	CausePath *Template

	// Parallel.
	Branches []*Definition

	// Map.
	Processor                      *Definition
	ItemsPath                      *Path
	ItemSelector                   *Template
	MaxConcurrency                 int64
	MaxConcurrencyPath             *Path
	ToleratedFailureCount          int64
	ToleratedFailureCountPath      *Path
	ToleratedFailurePercentage     float64
	ToleratedFailurePercentagePath *Path
}

// Retrier is one member of a Retry field.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds float64
	MaxAttempts     int
	BackoffRate     float64
	MaxDelaySeconds float64 // 0 means no cap
	JitterFull      bool
}

// Catcher is one member of a Catch field.
type Catcher struct {
	ErrorEquals []string
	Next        string
	ResultPath  resultPath
}

// Defaults of the Retry fields, from the States language specification.
const (
	DefaultIntervalSeconds = 1
	DefaultMaxAttempts     = 3
	DefaultBackoffRate     = 2.0
	// DefaultTaskTimeoutSeconds is the TimeoutSeconds Step Functions applies
	// to a Task that sets none.
	DefaultTaskTimeoutSeconds = 99999999
)

// defErrors collects validation problems in the order they are found, each
// as "CODE: message at /location", the form InvalidDefinition messages take.
type defErrors struct{ list []string }

func (e *defErrors) add(code, loc, msg string) {
	if loc == "" {
		e.list = append(e.list, fmt.Sprintf("%s: %s", code, msg))
		return
	}
	e.list = append(e.list, fmt.Sprintf("%s: %s at %s", code, msg, loc))
}

func (e *defErrors) schema(loc, msg string) { e.add("SCHEMA_VALIDATION_FAILED", loc, msg) }

// DefinitionError reports why a definition was refused. Its message has the
// shape of Step Functions' InvalidDefinition message.
type DefinitionError struct{ Problems []string }

// Error implements error.
func (e *DefinitionError) Error() string {
	return "Invalid State Machine Definition: '" + strings.Join(e.Problems, ", ") + "'"
}

// allowedFields lists the fields each state type accepts.
var allowedFields = map[string][]string{
	"Pass":     {"Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "Result"},
	"Task":     {"Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Retry", "Catch", "Credentials"},
	"Choice":   {"Type", "Comment", "InputPath", "OutputPath", "Choices", "Default"},
	"Wait":     {"Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
	"Succeed":  {"Type", "Comment", "InputPath", "OutputPath"},
	"Fail":     {"Type", "Comment", "Error", "ErrorPath", "Cause", "CausePath"},
	"Parallel": {"Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Branches", "Retry", "Catch"},
	"Map": {"Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch",
		"ItemsPath", "ItemSelector", "ItemProcessor", "Iterator", "MaxConcurrency", "MaxConcurrencyPath",
		"ToleratedFailureCount", "ToleratedFailureCountPath", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "Label"},
}

// ParseDefinition parses and validates an Amazon States Language document
// in the JSONPath query language. It returns a *DefinitionError listing
// every problem found.
func ParseDefinition(src string) (*Definition, error) {
	v, err := parseJSON(src)
	if err != nil {
		return nil, &DefinitionError{Problems: []string{"INVALID_JSON_DESCRIPTION: " + err.Error()}}
	}
	errs := &defErrors{}
	m, ok := v.(map[string]any)
	if !ok {
		errs.schema("/", "The definition must be a JSON object")
		return nil, &DefinitionError{Problems: errs.list}
	}
	if ql, ok := m["QueryLanguage"]; ok && ql != "JSONPath" {
		errs.schema("/QueryLanguage", fmt.Sprintf("The query language %v is not supported by the local cloud's Step Functions engine; only JSONPath is", ql))
		return nil, &DefinitionError{Problems: errs.list}
	}
	for k := range m {
		switch k {
		case "Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage":
		default:
			errs.schema("/"+k, fmt.Sprintf("Field '%s' is not supported", k))
		}
	}
	names := map[string]string{}
	d := compileMachine(m, "", errs, names, true)
	if len(errs.list) > 0 {
		return nil, &DefinitionError{Problems: errs.list}
	}
	return d, nil
}

// compileMachine compiles a machine or sub-machine found at loc ("" for the
// top level). names records every state name seen in the whole document,
// because state names must be unique across nested machines too.
func compileMachine(m map[string]any, loc string, errs *defErrors, names map[string]string, top bool) *Definition {
	d := &Definition{States: map[string]*State{}}
	d.Comment, _ = m["Comment"].(string)
	start, ok := m["StartAt"].(string)
	if !ok || start == "" {
		errs.schema(locOr(loc), "These fields are required: [StartAt]")
	}
	d.StartAt = start
	if top {
		if t, ok := m["TimeoutSeconds"]; ok {
			n, isInt := integer(t)
			if !isInt || n < 1 || n > math.MaxInt32*4 {
				errs.schema("/TimeoutSeconds", "The value for the field 'TimeoutSeconds' must be a positive integer")
			}
			d.TimeoutSeconds = n
		}
	}
	states, ok := m["States"].(map[string]any)
	if !ok || len(states) == 0 {
		errs.schema(locOr(loc), "These fields are required: [States]")
		return d
	}
	stateNames := sortedKeys(states)
	for _, name := range stateNames {
		sloc := loc + "/States/" + name
		if prev, dup := names[name]; dup {
			errs.add("DUPLICATE_STATE_NAME", sloc, fmt.Sprintf("Duplicate State name: %s (also at %s)", name, prev))
			continue
		}
		names[name] = sloc
		if len(name) > 80 {
			errs.schema(sloc, "State names must be at most 80 characters long")
		}
		sm, ok := states[name].(map[string]any)
		if !ok {
			errs.schema(sloc, "A state must be an object")
			continue
		}
		if s := compileState(name, sm, sloc, errs, names); s != nil {
			d.States[name] = s
		}
	}
	checkTransitions(d, loc, errs)
	return d
}

func locOr(loc string) string {
	if loc == "" {
		return "/"
	}
	return loc
}

func compileState(name string, m map[string]any, loc string, errs *defErrors, names map[string]string) *State {
	typ, _ := m["Type"].(string)
	allowed, known := allowedFields[typ]
	if !known {
		errs.schema(loc+"/Type", "The value for the field 'Type' must be one of Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map")
		return nil
	}
	s := &State{Name: name, Type: typ}
	for k := range m {
		if !contains(allowed, k) {
			errs.schema(loc+"/"+k, fmt.Sprintf("Field '%s' is not supported", k))
		}
	}
	// Transitions.
	next, hasNext := m["Next"]
	end, hasEnd := m["End"]
	switch typ {
	case "Choice", "Succeed", "Fail":
	default:
		if hasNext {
			n, ok := next.(string)
			if !ok || n == "" {
				errs.schema(loc+"/Next", "The value for the field 'Next' must be a non-empty string")
			}
			s.Next = n
		}
		if hasEnd {
			b, ok := end.(bool)
			if !ok {
				errs.schema(loc+"/End", "The value for the field 'End' must be a boolean")
			}
			s.End = b
		}
		if hasNext == (hasEnd && s.End) {
			errs.schema(loc, "A state must have exactly one of 'Next' or 'End': true")
		}
	}
	// Input and output processing.
	s.InputPath = compileOptPath(m, "InputPath", loc, errs)
	s.OutputPath = compileOptPath(m, "OutputPath", loc, errs)
	if rp, ok := m["ResultPath"]; ok {
		s.ResultPath = compileResultPath(rp, loc+"/ResultPath", errs)
	}
	if p, ok := m["Parameters"]; ok && typ != "Map" {
		s.Parameters = compileTemplateField(p, loc+"/Parameters", "Parameters", errs)
	}
	if p, ok := m["ResultSelector"]; ok {
		s.ResultSelector = compileTemplateField(p, loc+"/ResultSelector", "ResultSelector", errs)
	}
	switch typ {
	case "Pass":
		s.Result, s.hasResult = m["Result"]
	case "Task":
		compileTask(s, m, loc, errs)
	case "Choice":
		compileChoice(s, m, loc, errs)
	case "Wait":
		compileWait(s, m, loc, errs)
	case "Fail":
		compileFail(s, m, loc, errs)
	case "Parallel":
		branches, ok := m["Branches"].([]any)
		if !ok || len(branches) == 0 {
			errs.schema(loc, "These fields are required: [Branches]")
		}
		for i, b := range branches {
			bm, ok := b.(map[string]any)
			bloc := fmt.Sprintf("%s/Branches[%d]", loc, i)
			if !ok {
				errs.schema(bloc, "A branch must be an object")
				continue
			}
			rejectUnknown(bm, bloc, errs, "StartAt", "States", "Comment")
			s.Branches = append(s.Branches, compileMachine(bm, bloc, errs, names, false))
		}
	case "Map":
		compileMap(s, m, loc, errs, names)
	}
	if typ == "Task" || typ == "Parallel" || typ == "Map" {
		s.Retry = compileRetry(m["Retry"], loc, errs)
		s.Catch = compileCatch(m["Catch"], loc, errs)
	}
	return s
}

func rejectUnknown(m map[string]any, loc string, errs *defErrors, allowed ...string) {
	for _, k := range sortedKeys(m) {
		if !contains(allowed, k) {
			errs.schema(loc+"/"+k, fmt.Sprintf("Field '%s' is not supported", k))
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func compileOptPath(m map[string]any, field, loc string, errs *defErrors) optPath {
	v, ok := m[field]
	if !ok {
		return optPath{}
	}
	if v == nil {
		return optPath{set: true, null: true}
	}
	s, _ := v.(string)
	p, err := ParsePath(s)
	if err != nil {
		errs.schema(loc+"/"+field, fmt.Sprintf("The value for the field '%s' must be a valid JSONPath", field))
		return optPath{}
	}
	return optPath{set: true, path: p}
}

func compileResultPath(v any, loc string, errs *defErrors) resultPath {
	if v == nil {
		return resultPath{set: true, null: true}
	}
	s, _ := v.(string)
	p, err := ParseReferencePath(s)
	if err != nil || p.context {
		errs.schema(loc, "The value for the field 'ResultPath' must be a valid ReferencePath")
		return resultPath{}
	}
	return resultPath{set: true, path: p}
}

func compileTemplateField(v any, loc, field string, errs *defErrors) *Template {
	t, err := CompileTemplate(v)
	if err != nil {
		errs.schema(loc, fmt.Sprintf("The value for the field '%s' is invalid: %v", field, err))
		return nil
	}
	return t
}

func compilePathField(m map[string]any, field, loc string, errs *defErrors) *Path {
	v, ok := m[field]
	if !ok {
		return nil
	}
	s, _ := v.(string)
	p, err := ParseReferencePath(s)
	if err != nil {
		errs.schema(loc+"/"+field, fmt.Sprintf("The value for the field '%s' must be a valid ReferencePath", field))
		return nil
	}
	return p
}

func positiveInt(m map[string]any, field, loc string, errs *defErrors, min int64) (int64, bool) {
	v, ok := m[field]
	if !ok {
		return 0, false
	}
	n, isInt := integer(v)
	if !isInt || n < min {
		errs.schema(loc+"/"+field, fmt.Sprintf("The value for the field '%s' must be an integer of at least %d", field, min))
		return 0, false
	}
	return n, true
}

func compileTask(s *State, m map[string]any, loc string, errs *defErrors) {
	res, _ := m["Resource"].(string)
	if res == "" {
		errs.schema(loc, "These fields are required: [Resource]")
	} else if r, problem := parseResource(res); problem != "" {
		errs.schema(loc+"/Resource", problem)
	} else {
		s.resource = r
	}
	s.Resource = res
	s.TimeoutSeconds = DefaultTaskTimeoutSeconds
	if n, ok := positiveInt(m, "TimeoutSeconds", loc, errs, 1); ok {
		s.TimeoutSeconds = n
	}
	s.TimeoutSecondsPath = compilePathField(m, "TimeoutSecondsPath", loc, errs)
	if _, ok := m["TimeoutSeconds"]; ok && s.TimeoutSecondsPath != nil {
		errs.schema(loc, "'TimeoutSeconds' and 'TimeoutSecondsPath' are mutually exclusive")
	}
	if n, ok := positiveInt(m, "HeartbeatSeconds", loc, errs, 1); ok {
		s.HeartbeatSeconds = n
		if _, set := m["TimeoutSeconds"]; set && n >= s.TimeoutSeconds {
			errs.schema(loc+"/HeartbeatSeconds", "The value for the field 'HeartbeatSeconds' must be smaller than the value for the field 'TimeoutSeconds'")
		}
	}
	s.HeartbeatSecondsPath = compilePathField(m, "HeartbeatSecondsPath", loc, errs)
	if _, ok := m["HeartbeatSeconds"]; ok && s.HeartbeatSecondsPath != nil {
		errs.schema(loc, "'HeartbeatSeconds' and 'HeartbeatSecondsPath' are mutually exclusive")
	}
}

func compileChoice(s *State, m map[string]any, loc string, errs *defErrors) {
	list, ok := m["Choices"].([]any)
	if !ok || len(list) == 0 {
		errs.schema(loc, "These fields are required: [Choices]")
		return
	}
	for i, c := range list {
		if r := compileChoiceRule(c, fmt.Sprintf("%s/Choices[%d]", loc, i), true, errs); r != nil {
			s.Choices = append(s.Choices, r)
		}
	}
	if d, ok := m["Default"]; ok {
		ds, isStr := d.(string)
		if !isStr || ds == "" {
			errs.schema(loc+"/Default", "The value for the field 'Default' must be a non-empty string")
		}
		s.Default = ds
	}
}

func compileWait(s *State, m map[string]any, loc string, errs *defErrors) {
	n := 0
	for _, f := range []string{"Seconds", "SecondsPath", "Timestamp", "TimestampPath"} {
		if _, ok := m[f]; ok {
			n++
		}
	}
	if n != 1 {
		errs.schema(loc, "A Wait state must have exactly one of 'Seconds', 'SecondsPath', 'Timestamp' or 'TimestampPath'")
	}
	if v, ok := positiveInt(m, "Seconds", loc, errs, 0); ok {
		s.Seconds = &v
	}
	if v, ok := m["Timestamp"]; ok {
		str, _ := v.(string)
		t, valid := parseTimestamp(str)
		if !valid {
			errs.schema(loc+"/Timestamp", "The value for the field 'Timestamp' must be a valid ISO 8601 timestamp")
		}
		s.Timestamp = &t
	}
	s.SecondsPath = compilePathField(m, "SecondsPath", loc, errs)
	s.TimestampPath = compilePathField(m, "TimestampPath", loc, errs)
}

func compileFail(s *State, m map[string]any, loc string, errs *defErrors) {
	for _, pair := range [][2]string{{"Error", "ErrorPath"}, {"Cause", "CausePath"}} {
		_, a := m[pair[0]]
		_, b := m[pair[1]]
		if a && b {
			errs.schema(loc, fmt.Sprintf("'%s' and '%s' are mutually exclusive", pair[0], pair[1]))
		}
	}
	s.Error, _ = m["Error"].(string)
	s.Cause, _ = m["Cause"].(string)
	for _, f := range []string{"ErrorPath", "CausePath"} {
		v, ok := m[f]
		if !ok {
			continue
		}
		str, _ := v.(string)
		t, err := compileDynamic(f, str)
		if err != nil {
			errs.schema(loc+"/"+f, fmt.Sprintf("The value for the field '%s' must be a valid JSONPath or intrinsic function", f))
			continue
		}
		if f == "ErrorPath" {
			s.ErrorPath = t
		} else {
			s.CausePath = t
		}
	}
}

func compileMap(s *State, m map[string]any, loc string, errs *defErrors, names map[string]string) {
	proc, hasProc := m["ItemProcessor"].(map[string]any)
	iter, hasIter := m["Iterator"].(map[string]any)
	switch {
	case hasProc && hasIter:
		errs.schema(loc, "'ItemProcessor' and 'Iterator' are mutually exclusive")
	case hasProc:
		ploc := loc + "/ItemProcessor"
		rejectUnknown(proc, ploc, errs, "StartAt", "States", "Comment", "ProcessorConfig")
		if cfg, ok := proc["ProcessorConfig"].(map[string]any); ok {
			if mode, ok := cfg["Mode"]; ok && mode != "INLINE" {
				errs.schema(ploc+"/ProcessorConfig/Mode", fmt.Sprintf("The processor mode %v is not supported by the local cloud; only INLINE is", mode))
			}
		}
		s.Processor = compileMachine(proc, ploc, errs, names, false)
	case hasIter:
		iloc := loc + "/Iterator"
		rejectUnknown(iter, iloc, errs, "StartAt", "States", "Comment")
		s.Processor = compileMachine(iter, iloc, errs, names, false)
	default:
		errs.schema(loc, "These fields are required: [ItemProcessor]")
	}
	if _, ok := m["ItemSelector"]; ok {
		if _, legacy := m["Parameters"]; legacy {
			errs.schema(loc, "'ItemSelector' and 'Parameters' are mutually exclusive")
		}
		s.ItemSelector = compileTemplateField(m["ItemSelector"], loc+"/ItemSelector", "ItemSelector", errs)
	} else if p, ok := m["Parameters"]; ok {
		// Parameters is the legacy name of ItemSelector on Map states.
		s.ItemSelector = compileTemplateField(p, loc+"/Parameters", "Parameters", errs)
	}
	if v, ok := m["ItemsPath"]; ok {
		str, _ := v.(string)
		p, err := ParseReferencePath(str)
		if err != nil {
			errs.schema(loc+"/ItemsPath", "The value for the field 'ItemsPath' must be a valid ReferencePath")
		}
		s.ItemsPath = p
	}
	if n, ok := positiveInt(m, "MaxConcurrency", loc, errs, 0); ok {
		s.MaxConcurrency = n
	}
	s.MaxConcurrencyPath = compilePathField(m, "MaxConcurrencyPath", loc, errs)
	if n, ok := positiveInt(m, "ToleratedFailureCount", loc, errs, 0); ok {
		s.ToleratedFailureCount = n
	} else {
		s.ToleratedFailureCount = -1
	}
	s.ToleratedFailureCountPath = compilePathField(m, "ToleratedFailureCountPath", loc, errs)
	s.ToleratedFailurePercentage = -1
	if v, ok := m["ToleratedFailurePercentage"]; ok {
		f, isNum := number(v)
		if !isNum || f < 0 || f > 100 {
			errs.schema(loc+"/ToleratedFailurePercentage", "The value for the field 'ToleratedFailurePercentage' must be a number between 0 and 100")
		}
		s.ToleratedFailurePercentage = f
	}
	s.ToleratedFailurePercentagePath = compilePathField(m, "ToleratedFailurePercentagePath", loc, errs)
}

func compileErrorEquals(v any, loc string, errs *defErrors) []string {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		errs.schema(loc, "These fields are required: [ErrorEquals]")
		return nil
	}
	var out []string
	for i, e := range list {
		s, ok := e.(string)
		if !ok || s == "" {
			errs.schema(fmt.Sprintf("%s/ErrorEquals[%d]", loc, i), "An error name must be a non-empty string")
			continue
		}
		if strings.HasPrefix(s, "States.") && !predefined[s] {
			errs.schema(fmt.Sprintf("%s/ErrorEquals[%d]", loc, i), fmt.Sprintf("The error name %s is not a predefined error; names starting with 'States.' are reserved", s))
		}
		out = append(out, s)
	}
	if contains(out, ErrALL) && len(out) > 1 {
		errs.schema(loc+"/ErrorEquals", "'States.ALL' must appear alone in the 'ErrorEquals' array")
	}
	return out
}

func compileRetry(v any, loc string, errs *defErrors) []*Retrier {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		errs.schema(loc+"/Retry", "The value for the field 'Retry' must be an array")
		return nil
	}
	var out []*Retrier
	for i, e := range list {
		rloc := fmt.Sprintf("%s/Retry[%d]", loc, i)
		m, ok := e.(map[string]any)
		if !ok {
			errs.schema(rloc, "A retrier must be an object")
			continue
		}
		rejectUnknown(m, rloc, errs, "ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment")
		r := &Retrier{ErrorEquals: compileErrorEquals(m["ErrorEquals"], rloc, errs),
			IntervalSeconds: DefaultIntervalSeconds, MaxAttempts: DefaultMaxAttempts, BackoffRate: DefaultBackoffRate}
		if n, ok := positiveInt(m, "IntervalSeconds", rloc, errs, 1); ok {
			r.IntervalSeconds = float64(n)
		}
		if n, ok := positiveInt(m, "MaxAttempts", rloc, errs, 0); ok {
			r.MaxAttempts = int(n)
		}
		if n, ok := positiveInt(m, "MaxDelaySeconds", rloc, errs, 1); ok {
			r.MaxDelaySeconds = float64(n)
		}
		if b, ok := m["BackoffRate"]; ok {
			f, isNum := number(b)
			if !isNum || f < 1 {
				errs.schema(rloc+"/BackoffRate", "The value for the field 'BackoffRate' must be a number of at least 1.0")
			}
			r.BackoffRate = f
		}
		if j, ok := m["JitterStrategy"]; ok {
			switch j {
			case "FULL":
				r.JitterFull = true
			case "NONE":
			default:
				errs.schema(rloc+"/JitterStrategy", "The value for the field 'JitterStrategy' must be FULL or NONE")
			}
		}
		if contains(r.ErrorEquals, ErrALL) && i != len(list)-1 {
			errs.schema(rloc, "A retrier with 'States.ALL' must be the last retrier in the 'Retry' array")
		}
		out = append(out, r)
	}
	return out
}

func compileCatch(v any, loc string, errs *defErrors) []*Catcher {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		errs.schema(loc+"/Catch", "The value for the field 'Catch' must be an array")
		return nil
	}
	var out []*Catcher
	for i, e := range list {
		cloc := fmt.Sprintf("%s/Catch[%d]", loc, i)
		m, ok := e.(map[string]any)
		if !ok {
			errs.schema(cloc, "A catcher must be an object")
			continue
		}
		rejectUnknown(m, cloc, errs, "ErrorEquals", "Next", "ResultPath", "Comment")
		c := &Catcher{ErrorEquals: compileErrorEquals(m["ErrorEquals"], cloc, errs)}
		c.Next, _ = m["Next"].(string)
		if c.Next == "" {
			errs.schema(cloc, "These fields are required: [Next]")
		}
		if rp, ok := m["ResultPath"]; ok {
			c.ResultPath = compileResultPath(rp, cloc+"/ResultPath", errs)
		}
		if contains(c.ErrorEquals, ErrALL) && i != len(list)-1 {
			errs.schema(cloc, "A catcher with 'States.ALL' must be the last catcher in the 'Catch' array")
		}
		out = append(out, c)
	}
	return out
}

// checkTransitions verifies that every transition names a state of the same
// machine, that every state can be reached from StartAt, and that the
// machine can end.
func checkTransitions(d *Definition, loc string, errs *defErrors) {
	missing := func(target, at string) {
		errs.add("MISSING_TRANSITION_TARGET", at, fmt.Sprintf("Missing 'Next' target: %s", target))
	}
	if _, ok := d.States[d.StartAt]; d.StartAt != "" && !ok {
		missing(d.StartAt, loc+"/StartAt")
	}
	edges := map[string][]string{}
	terminal := false
	for _, name := range sortedStateNames(d) {
		s := d.States[name]
		sloc := loc + "/States/" + name
		add := func(target, at string) {
			if target == "" {
				return
			}
			if _, ok := d.States[target]; !ok {
				missing(target, at)
				return
			}
			edges[name] = append(edges[name], target)
		}
		add(s.Next, sloc+"/Next")
		for i, c := range s.Choices {
			add(c.Next, fmt.Sprintf("%s/Choices[%d]/Next", sloc, i))
		}
		add(s.Default, sloc+"/Default")
		for i, c := range s.Catch {
			add(c.Next, fmt.Sprintf("%s/Catch[%d]/Next", sloc, i))
		}
		if s.End || s.Type == "Succeed" || s.Type == "Fail" {
			terminal = true
		}
	}
	if !terminal {
		errs.add("MISSING_END_STATE", "", "Workflow has no terminal state")
		return
	}
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, t := range edges[n] {
			walk(t)
		}
	}
	if _, ok := d.States[d.StartAt]; ok {
		walk(d.StartAt)
		for _, name := range sortedStateNames(d) {
			if !seen[name] {
				errs.add("MISSING_TRANSITION_TARGET", loc+"/States/"+name, fmt.Sprintf("State \"%s\" is not reachable.", name))
			}
		}
	}
}

func sortedStateNames(d *Definition) []string {
	out := make([]string, 0, len(d.States))
	for n := range d.States {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// resource is a parsed Task Resource.
type resource struct {
	kind    string // resLambdaARN, resLambda, resSNS, resDynamoDB, resStates, resSDK
	arn     string
	service string // the service of an optimized or SDK integration
	action  string // the API action, as written
	pattern string // "", "sync", "sync:2" or "waitForTaskToken"
}

// Kinds of Task resources.
const (
	resLambdaARN = "lambda-arn"
	resLambda    = "lambda"
	resSNS       = "sns"
	resDynamoDB  = "dynamodb"
	resStates    = "states"
	resSDK       = "aws-sdk"
)

var (
	lambdaARN   = regexp.MustCompile(`^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$`)
	serviceARN  = regexp.MustCompile(`^arn:aws:states:[a-z0-9-]*:\d{0,12}:([a-z0-9-]+):([A-Za-z0-9-]+)(?::([A-Za-z0-9]+))?(?:\.(sync(?::2)?|waitForTaskToken))?$`)
	dynamoOps   = map[string]bool{"getItem": true, "putItem": true, "updateItem": true}
	statesOps   = map[string]bool{"startExecution": true}
	patternsFor = map[string][]string{
		resLambda:   {"", "waitForTaskToken"},
		resSNS:      {"", "waitForTaskToken"},
		resDynamoDB: {""},
		resStates:   {"", "sync", "sync:2", "waitForTaskToken"},
		resSDK:      {"", "waitForTaskToken"},
	}
)

// parseResource recognizes a Task resource; the problem, if any, is worded
// as Step Functions words it in InvalidDefinition messages.
func parseResource(arn string) (*resource, string) {
	unknown := fmt.Sprintf("The resource provided %s is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.", arn)
	if lambdaARN.MatchString(arn) {
		return &resource{kind: resLambdaARN, arn: arn, service: "lambda"}, ""
	}
	m := serviceARN.FindStringSubmatch(arn)
	if m == nil {
		return nil, unknown
	}
	r := &resource{arn: arn, pattern: m[4]}
	switch {
	case m[1] == "lambda" && m[2] == "invoke" && m[3] == "":
		r.kind, r.service, r.action = resLambda, "lambda", "invoke"
	case m[1] == "sns" && m[2] == "publish" && m[3] == "":
		r.kind, r.service, r.action = resSNS, "sns", "publish"
	case m[1] == "dynamodb" && dynamoOps[m[2]] && m[3] == "":
		r.kind, r.service, r.action = resDynamoDB, "dynamodb", m[2]
	case m[1] == "states" && statesOps[m[2]] && m[3] == "":
		r.kind, r.service, r.action = resStates, "states", m[2]
	case m[1] == "aws-sdk" && m[3] != "":
		r.kind, r.service, r.action = resSDK, m[2], m[3]
	default:
		return nil, unknown
	}
	if !contains(patternsFor[r.kind], r.pattern) {
		return nil, fmt.Sprintf("The resource provided %s does not support the .%s service integration pattern", arn, r.pattern)
	}
	return r, ""
}
