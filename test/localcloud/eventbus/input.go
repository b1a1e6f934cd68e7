package eventbus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Limits of target input settings, from the PutTargets API reference.
const (
	maxInputChars     = 8192
	maxInputPathChars = 256
	maxInputVariables = 100
)

// Names of the variables EventBridge predefines for input templates.
const (
	varRuleARN       = "aws.events.rule-arn"
	varRuleName      = "aws.events.rule-name"
	varEvent         = "aws.events.event"
	varEventJSON     = "aws.events.event.json"
	varIngestionTime = "aws.events.event.ingestion-time"
)

// jsonPath is the subset of JSONPath EventBridge evaluates: $, dotted
// members, ['quoted'] members, [n] indices and * wildcards.
type jsonPath struct {
	text  string
	steps []pathStep
}

type pathStep struct {
	key      string
	index    int
	isIndex  bool
	wildcard bool
}

func compileJSONPath(s string) (jsonPath, error) {
	p := jsonPath{text: s}
	if !strings.HasPrefix(s, "$") {
		return p, fmt.Errorf("a JSON path starts with $")
	}
	rest := s[1:]
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			name := rest[:end]
			if name == "" {
				return p, fmt.Errorf("empty member name in %q", s)
			}
			if name == "*" {
				p.steps = append(p.steps, pathStep{wildcard: true})
			} else {
				p.steps = append(p.steps, pathStep{key: name})
			}
			rest = rest[end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return p, fmt.Errorf("unclosed [ in %q", s)
			}
			inner := rest[1:end]
			switch {
			case inner == "*":
				p.steps = append(p.steps, pathStep{wildcard: true})
			case len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0]:
				p.steps = append(p.steps, pathStep{key: inner[1 : len(inner)-1]})
			default:
				n, err := strconv.Atoi(inner)
				if err != nil || n < 0 {
					return p, fmt.Errorf("bad index [%s] in %q", inner, s)
				}
				p.steps = append(p.steps, pathStep{index: n, isIndex: true})
			}
			rest = rest[end+1:]
		default:
			return p, fmt.Errorf("unexpected %q in %q", rest[0], s)
		}
	}
	return p, nil
}

// eval returns the value at the path in a document decoded with UseNumber.
// A wildcard gathers every match into an array.
func (p jsonPath) eval(doc any) (any, bool) {
	return evalSteps(doc, p.steps)
}

func evalSteps(cur any, steps []pathStep) (any, bool) {
	for i, st := range steps {
		switch {
		case st.wildcard:
			var elems []any
			switch c := cur.(type) {
			case []any:
				elems = c
			case map[string]any:
				for _, k := range sortedKeys(c) {
					elems = append(elems, c[k])
				}
			default:
				return nil, false
			}
			out := []any{}
			for _, e := range elems {
				if v, ok := evalSteps(e, steps[i+1:]); ok {
					out = append(out, v)
				}
			}
			return out, true
		case st.isIndex:
			arr, ok := cur.([]any)
			if !ok || st.index >= len(arr) {
				return nil, false
			}
			cur = arr[st.index]
		default:
			obj, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			v, ok := obj[st.key]
			if !ok {
				return nil, false
			}
			cur = v
		}
	}
	return cur, true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var variableNameRE = regexp.MustCompile(`^[A-Za-z0-9_\-]+$`)

// inputTransformer is a validated InputTransformer.
type inputTransformer struct {
	paths    map[string]jsonPath
	template string
}

func compileTransformer(pathsMap map[string]string, template string) (*inputTransformer, error) {
	if template == "" {
		return nil, fmt.Errorf("InputTemplate is required")
	}
	if len(template) > maxInputChars {
		return nil, fmt.Errorf("InputTemplate is longer than %d characters", maxInputChars)
	}
	if len(pathsMap) > maxInputVariables {
		return nil, fmt.Errorf("InputPathsMap has more than %d entries", maxInputVariables)
	}
	t := &inputTransformer{paths: map[string]jsonPath{}, template: template}
	for name, path := range pathsMap {
		if strings.HasPrefix(name, "aws.") {
			return nil, fmt.Errorf("InputPathsMap key %s is reserved", name)
		}
		if !variableNameRE.MatchString(name) {
			return nil, fmt.Errorf("InputPathsMap key %q may only contain letters, digits, _ and -", name)
		}
		if len(path) > maxInputPathChars {
			return nil, fmt.Errorf("InputPathsMap value for %s is longer than %d characters", name, maxInputPathChars)
		}
		p, err := compileJSONPath(path)
		if err != nil {
			return nil, fmt.Errorf("InputPathsMap value for %s: %w", name, err)
		}
		t.paths[name] = p
	}
	return t, nil
}

// renderContext is what a template can refer to besides the event's fields.
type renderContext struct {
	doc           any    // the event, decoded with UseNumber
	eventJSON     []byte // the full event
	eventNoDetail []byte // the event without its detail field
	ruleName      string
	ruleARN       string
	ingestionTime string
}

// render fills the template. A variable outside a JSON string is replaced
// by its JSON form (strings quoted); inside a string, string values go in raw
// and unescaped, as EventBridge documents. A variable whose path is missing
// from the event becomes null (outside a string) or nothing (inside one).
// Placeholders that name no variable are left as they are.
func (t *inputTransformer) render(rc *renderContext) []byte {
	var out bytes.Buffer
	tpl := t.template
	inString, escaped := false, false
	for i := 0; i < len(tpl); i++ {
		c := tpl[i]
		if c == '<' {
			if end := strings.IndexByte(tpl[i+1:], '>'); end >= 0 {
				name := tpl[i+1 : i+1+end]
				if val, ok := t.lookup(name, rc); ok {
					out.WriteString(substitute(val, inString))
					i += end + 1
					continue
				}
			}
		}
		out.WriteByte(c)
		switch {
		case escaped:
			escaped = false
		case c == '\\' && inString:
			escaped = true
		case c == '"':
			inString = !inString
		}
	}
	return minify(out.Bytes())
}

// substitution is a variable's value: raw JSON text, or a Go string.
type substitution struct {
	json    []byte
	str     string
	isStr   bool
	missing bool
}

func substitute(v substitution, inString bool) string {
	switch {
	case v.missing && inString:
		return ""
	case v.missing:
		return "null"
	case v.isStr && inString:
		return v.str
	case v.isStr:
		return string(marshalJSON(v.str))
	}
	return string(v.json)
}

func (t *inputTransformer) lookup(name string, rc *renderContext) (substitution, bool) {
	switch name {
	case varRuleARN:
		return substitution{str: rc.ruleARN, isStr: true}, true
	case varRuleName:
		return substitution{str: rc.ruleName, isStr: true}, true
	case varIngestionTime:
		return substitution{str: rc.ingestionTime, isStr: true}, true
	case varEvent:
		return substitution{json: rc.eventNoDetail}, true
	case varEventJSON:
		return substitution{json: rc.eventJSON}, true
	}
	p, ok := t.paths[name]
	if !ok {
		return substitution{}, false
	}
	v, found := p.eval(rc.doc)
	if !found {
		return substitution{missing: true}, true
	}
	if s, ok := v.(string); ok {
		return substitution{str: s, isStr: true}, true
	}
	return substitution{json: marshalJSON(v)}, true
}

// marshalJSON encodes v without HTML escaping, as EventBridge sends '<'
// and '&' through unchanged.
func marshalJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte("null")
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// minify compacts JSON output ("The JSON that is passed to the target is
// minified"); text that is not JSON is passed as it is.
func minify(b []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return b
	}
	return out.Bytes()
}

// decodeJSON decodes with UseNumber so numbers keep their literal form.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}
