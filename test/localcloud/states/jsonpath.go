package states

import (
	"fmt"
	"strconv"
	"strings"
)

// Path is a compiled JSONPath expression in the dialect Step Functions
// accepts: $ (or $$ for the context object), .name, ['name'], [n], [*], .*,
// ..name, [a:b:c], [n,m] and simple filters [?(@.x op literal)].
type Path struct {
	src     string
	context bool // starts with $$: evaluated against the context object
	steps   []pathStep
}

type stepKind int

const (
	stepName stepKind = iota
	stepIndex
	stepWildcard
	stepUnion   // several names or indexes
	stepSlice   // [start:end:step]
	stepDescend // ..name or ..*
	stepFilter
)

type pathStep struct {
	kind    stepKind
	name    string
	index   int
	names   []string
	indexes []int
	slice   [3]*int
	filter  *pathFilter
}

type pathFilter struct {
	path  *Path // relative to @
	op    string
	value any // literal compared against; unused when op is empty (existence test)
}

// String returns the expression as written.
func (p *Path) String() string { return p.src }

// Context reports whether the path reads the context object ($$).
func (p *Path) Context() bool { return p.context }

// Definite reports whether the path selects at most one node. Indefinite
// paths (wildcards, slices, unions, filters, descent) yield arrays.
func (p *Path) Definite() bool {
	for _, s := range p.steps {
		if s.kind != stepName && s.kind != stepIndex {
			return false
		}
	}
	return true
}

// ParsePath compiles a JSONPath expression.
func ParsePath(src string) (*Path, error) {
	p := &Path{src: src}
	s := src
	switch {
	case strings.HasPrefix(s, "$$"):
		p.context = true
		s = s[2:]
	case strings.HasPrefix(s, "$"):
		s = s[1:]
	case strings.HasPrefix(s, "@"):
		// Relative paths appear only inside filters.
		s = s[1:]
	default:
		return nil, fmt.Errorf("the path %q must begin with '$'", src)
	}
	for len(s) > 0 {
		var st pathStep
		var err error
		switch {
		case strings.HasPrefix(s, ".."):
			s = s[2:]
			name, rest := splitName(s)
			if name == "" {
				return nil, fmt.Errorf("the path %q has '..' without a name", src)
			}
			st = pathStep{kind: stepDescend, name: name}
			s = rest
		case s[0] == '.':
			s = s[1:]
			name, rest := splitName(s)
			if name == "" {
				return nil, fmt.Errorf("the path %q has an empty field name", src)
			}
			if name == "*" {
				st = pathStep{kind: stepWildcard}
			} else {
				st = pathStep{kind: stepName, name: name}
			}
			s = rest
		case s[0] == '[':
			st, s, err = parseBracket(s, src)
			if err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("the path %q has an unexpected character %q", src, s[0])
		}
		p.steps = append(p.steps, st)
	}
	return p, nil
}

// splitName reads a dot-notation field name, which runs to the next '.' or
// '[' (Step Functions accepts spaces and punctuation in such names).
func splitName(s string) (string, string) {
	i := strings.IndexAny(s, ".[")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

func parseBracket(s, src string) (pathStep, string, error) {
	// s starts with '['. Find the matching ']' outside quotes and parentheses.
	depth, quote := 0, byte(0)
	end := -1
	for i := 1; i < len(s) && end < 0; i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\':
			i++ // skip the escaped character
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ']' && depth == 0:
			end = i
		}
	}
	if end < 0 {
		return pathStep{}, "", fmt.Errorf("the path %q has an unclosed '['", src)
	}
	body, rest := strings.TrimSpace(s[1:end]), s[end+1:]
	switch {
	case body == "*":
		return pathStep{kind: stepWildcard}, rest, nil
	case strings.HasPrefix(body, "?("):
		f, err := parseFilter(body, src)
		return pathStep{kind: stepFilter, filter: f}, rest, err
	case strings.HasPrefix(body, "'") || strings.HasPrefix(body, "\""):
		var names []string
		for _, part := range splitTop(body, ',') {
			part = strings.TrimSpace(part)
			n, err := unquote(part)
			if err != nil {
				return pathStep{}, "", fmt.Errorf("the path %q has a bad quoted name %s", src, part)
			}
			names = append(names, n)
		}
		if len(names) == 1 {
			return pathStep{kind: stepName, name: names[0]}, rest, nil
		}
		return pathStep{kind: stepUnion, names: names}, rest, nil
	case strings.Contains(body, ":"):
		parts := strings.Split(body, ":")
		if len(parts) > 3 {
			return pathStep{}, "", fmt.Errorf("the path %q has a bad slice [%s]", src, body)
		}
		var st pathStep
		st.kind = stepSlice
		for i, part := range parts {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			n, err := strconv.Atoi(part)
			if err != nil {
				return pathStep{}, "", fmt.Errorf("the path %q has a bad slice [%s]", src, body)
			}
			st.slice[i] = &n
		}
		return st, rest, nil
	default:
		var idx []int
		for _, part := range strings.Split(body, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				return pathStep{}, "", fmt.Errorf("the path %q has a bad index [%s]", src, body)
			}
			idx = append(idx, n)
		}
		if len(idx) == 1 {
			return pathStep{kind: stepIndex, index: idx[0]}, rest, nil
		}
		return pathStep{kind: stepUnion, indexes: idx}, rest, nil
	}
}

// splitTop splits s on sep outside quotes.
func splitTop(s string, sep byte) []string {
	var out []string
	quote := byte(0)
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\':
			i++ // skip the escaped character
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func unquote(s string) (string, error) {
	if len(s) < 2 || s[0] != s[len(s)-1] || (s[0] != '\'' && s[0] != '"') {
		return "", fmt.Errorf("not a quoted string")
	}
	var b strings.Builder
	for i := 1; i < len(s)-1; i++ {
		if s[i] == '\\' && i+1 < len(s)-1 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

var filterOps = []string{"==", "!=", "<=", ">=", "<", ">"}

func parseFilter(body, src string) (*pathFilter, error) {
	inner := strings.TrimSpace(body[2 : len(body)-1])
	if !strings.HasSuffix(body, ")") || !strings.HasPrefix(inner, "@") {
		return nil, fmt.Errorf("the path %q has an unsupported filter %s", src, body)
	}
	for _, op := range filterOps {
		if i := strings.Index(inner, op); i > 0 {
			rel, err := ParsePath(strings.TrimSpace(inner[:i]))
			if err != nil {
				return nil, err
			}
			lit := strings.TrimSpace(inner[i+len(op):])
			var v any
			if strings.HasPrefix(lit, "'") {
				s, err := unquote(lit)
				if err != nil {
					return nil, fmt.Errorf("the path %q has a bad literal %s", src, lit)
				}
				v = s
			} else if v, err = parseJSON(lit); err != nil {
				return nil, fmt.Errorf("the path %q has a bad literal %s", src, lit)
			}
			return &pathFilter{path: rel, op: op, value: v}, nil
		}
	}
	rel, err := ParsePath(inner)
	if err != nil {
		return nil, err
	}
	return &pathFilter{path: rel}, nil
}

// errPathNotFound is returned when a definite path selects nothing.
type errPathNotFound struct{ path string }

// Error implements error.
func (e *errPathNotFound) Error() string {
	return fmt.Sprintf("the JSONPath '%s' could not be found in the input", e.path)
}

// Get evaluates the path against data (or ctx for $$ paths). A definite path
// returns the single value it selects and an error if there is none; an
// indefinite path returns an array of every value selected.
func (p *Path) Get(data, ctx any) (any, error) {
	root := data
	if p.context {
		root = ctx
	}
	nodes := []any{root}
	for _, st := range p.steps {
		var next []any
		for _, n := range nodes {
			next = st.apply(n, next)
		}
		nodes = next
	}
	if p.Definite() {
		if len(nodes) == 0 {
			return nil, &errPathNotFound{p.src}
		}
		return nodes[0], nil
	}
	if nodes == nil {
		nodes = []any{}
	}
	return nodes, nil
}

func (st pathStep) apply(n any, out []any) []any {
	switch st.kind {
	case stepName:
		if m, ok := n.(map[string]any); ok {
			if v, ok := m[st.name]; ok {
				out = append(out, v)
			}
		}
	case stepIndex:
		if a, ok := n.([]any); ok {
			i := st.index
			if i < 0 {
				i += len(a)
			}
			if i >= 0 && i < len(a) {
				out = append(out, a[i])
			}
		}
	case stepWildcard:
		switch t := n.(type) {
		case []any:
			out = append(out, t...)
		case map[string]any:
			for _, k := range sortedKeys(t) {
				out = append(out, t[k])
			}
		}
	case stepUnion:
		for _, name := range st.names {
			out = pathStep{kind: stepName, name: name}.apply(n, out)
		}
		for _, i := range st.indexes {
			out = pathStep{kind: stepIndex, index: i}.apply(n, out)
		}
	case stepSlice:
		a, ok := n.([]any)
		if !ok {
			return out
		}
		start, end, step := 0, len(a), 1
		if st.slice[2] != nil {
			step = *st.slice[2]
		}
		if step <= 0 {
			return out
		}
		if st.slice[0] != nil {
			start = clampIndex(*st.slice[0], len(a))
		}
		if st.slice[1] != nil {
			end = clampIndex(*st.slice[1], len(a))
		}
		for i := start; i < end; i += step {
			out = append(out, a[i])
		}
	case stepDescend:
		out = descend(n, st.name, out)
	case stepFilter:
		var elems []any
		switch t := n.(type) {
		case []any:
			elems = t
		case map[string]any:
			for _, k := range sortedKeys(t) {
				elems = append(elems, t[k])
			}
		}
		for _, e := range elems {
			if st.filter.match(e) {
				out = append(out, e)
			}
		}
	}
	return out
}

func clampIndex(i, n int) int {
	if i < 0 {
		i += n
	}
	if i < 0 {
		return 0
	}
	if i > n {
		return n
	}
	return i
}

func descend(n any, name string, out []any) []any {
	switch t := n.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			if name == "*" || k == name {
				out = append(out, t[k])
			}
		}
		for _, k := range sortedKeys(t) {
			out = descend(t[k], name, out)
		}
	case []any:
		for _, e := range t {
			if name == "*" {
				out = append(out, e)
			}
			out = descend(e, name, out)
		}
	}
	return out
}

func (f *pathFilter) match(e any) bool {
	v, err := f.path.Get(e, nil)
	if err != nil {
		return false
	}
	if f.op == "" {
		return true
	}
	if a, ok := number(v); ok {
		b, ok := number(f.value)
		if !ok {
			return f.op == "!="
		}
		switch f.op {
		case "==":
			return a == b
		case "!=":
			return a != b
		case "<":
			return a < b
		case "<=":
			return a <= b
		case ">":
			return a > b
		case ">=":
			return a >= b
		}
	}
	if a, ok := v.(string); ok {
		b, ok := f.value.(string)
		if !ok {
			return f.op == "!="
		}
		switch f.op {
		case "==":
			return a == b
		case "!=":
			return a != b
		case "<":
			return a < b
		case "<=":
			return a <= b
		case ">":
			return a > b
		case ">=":
			return a >= b
		}
	}
	switch f.op {
	case "==":
		return jsonEqual(v, f.value)
	case "!=":
		return !jsonEqual(v, f.value)
	}
	return false
}

// ParseReferencePath compiles a path that must select a single node by field
// names and indexes only, as ResultPath, Choice Variable and the *Path
// comparison fields require.
func ParseReferencePath(src string) (*Path, error) {
	p, err := ParsePath(src)
	if err != nil {
		return nil, err
	}
	if !p.Definite() {
		return nil, fmt.Errorf("the path %q is not a reference path: it may select several values", src)
	}
	return p, nil
}

// Set returns a copy of data with value written where the reference path
// points, creating objects for missing fields on the way.
func (p *Path) Set(data, value any) (any, error) {
	if len(p.steps) == 0 {
		return value, nil
	}
	root := deepCopy(data)
	if root == nil {
		root = map[string]any{}
	}
	holder := &root
	for i, st := range p.steps {
		last := i == len(p.steps)-1
		switch st.kind {
		case stepName:
			m, ok := (*holder).(map[string]any)
			if !ok {
				return nil, fmt.Errorf("unable to apply ResultPath %s: the value at step %d is a %s, not an object", p.src, i+1, typeName(*holder))
			}
			if last {
				m[st.name] = value
				return root, nil
			}
			child, ok := m[st.name]
			if !ok || child == nil {
				child = map[string]any{}
				m[st.name] = child
			}
			// Maps are reference types: descend by re-reading through a
			// small holder so that the write above lands in root.
			h := child
			holder = &h
			if _, isMap := child.(map[string]any); !isMap {
				if _, isArr := child.([]any); !isArr {
					return nil, fmt.Errorf("unable to apply ResultPath %s: the field %q holds a %s", p.src, st.name, typeName(child))
				}
			}
		case stepIndex:
			a, ok := (*holder).([]any)
			if !ok || st.index < 0 || st.index >= len(a) {
				return nil, fmt.Errorf("unable to apply ResultPath %s: index %d is not in an array", p.src, st.index)
			}
			if last {
				a[st.index] = value
				return root, nil
			}
			h := a[st.index]
			holder = &h
		default:
			return nil, fmt.Errorf("unable to apply ResultPath %s: it is not a reference path", p.src)
		}
	}
	return root, nil
}
