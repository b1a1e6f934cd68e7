package eventbus

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// numericLimit bounds the numbers EventBridge compares as numbers: the
// matching engine (aws/event-ruler) turns each number into a fixed-point
// string with six decimal places over -5e9..+5e9, so anything outside that
// range can only match by its literal text.
const numericLimit = 5e9

// reservedInOr are the operator names that cannot be field names inside a
// $or branch, because they would make the branch ambiguous with a match
// expression.
var reservedInOr = map[string]bool{
	"anything-but": true, "cidr": true, "equals-ignore-case": true, "exact": true,
	"exists": true, "numeric": true, "prefix": true, "suffix": true, "wildcard": true,
}

// PatternError reports why an event pattern was refused. Its Error text is
// the message EventBridge puts in an InvalidEventPatternException.
type PatternError struct {
	// Reason is the engine's explanation, e.g. "Empty arrays are not allowed".
	Reason string
	// Line and Column locate the token that made the pattern invalid (1-based).
	Line, Column int
	// Source is the pattern text as given.
	Source string
}

// Error formats the error as EventBridge does.
func (e *PatternError) Error() string {
	return fmt.Sprintf("Event pattern is not valid. Reason: %s\n at [Source: (String)%q; line: %d, column: %d]",
		e.Reason, e.Source, e.Line, e.Column)
}

// Pattern is a compiled event pattern. It is immutable and safe for
// concurrent use.
type Pattern struct {
	root   *objNode
	source string
	// sources lists the exact "source" values every alternative of the
	// pattern requires, or is nil when some alternative accepts any source.
	// The bus indexes rules by it.
	sources []string
}

// String returns the pattern text it was compiled from.
func (p *Pattern) String() string { return p.source }

// Sources returns the exact top-level "source" values the pattern requires
// (sorted, without duplicates), or nil if it can match an event from any
// source.
func (p *Pattern) Sources() []string { return p.sources }

// Match reports whether the event matches the pattern.
func (p *Pattern) Match(ev *Event) bool {
	if ev == nil {
		return false
	}
	return p.root.match(&ev.root)
}

// MatchJSON parses eventJSON and reports whether it matches the pattern.
func (p *Pattern) MatchJSON(eventJSON []byte) (bool, error) {
	ev, err := ParseEvent(eventJSON)
	if err != nil {
		return false, err
	}
	return p.Match(ev), nil
}

// objNode is one JSON object level of a pattern: every field must match and,
// for each $or group, at least one alternative must match the same object.
type objNode struct {
	fields []*fieldNode // sorted by key
	ors    [][]*objNode
	// absenceOnly is true when nothing below this node can be satisfied by a
	// present value (only exists:false leaves). Such a node matched against an
	// array of objects must hold for every element, as the engine checks
	// absence against all array elements it has not ruled out.
	absenceOnly bool
}

// fieldNode is one key of an objNode: leaf matchers, a nested object, or both
// (when a key is repeated in the pattern text).
type fieldNode struct {
	key  string
	leaf *leafNode
	sub  *objNode
}

// leafNode holds the alternatives of a leaf array: the field matches if any
// of them matches.
type leafNode struct {
	matchers    []matcher
	existsTrue  bool
	existsFalse bool
}

// CompilePattern parses and validates an event pattern. A bad pattern gives a
// *PatternError whose message follows EventBridge's.
func CompilePattern(src string) (*Pattern, error) {
	c := &compiler{src: src, dec: json.NewDecoder(strings.NewReader(src))}
	c.dec.UseNumber()
	root, err := c.compile()
	if err != nil {
		return nil, err
	}
	p := &Pattern{root: root, source: src}
	p.sources = requiredSources(root)
	return p, nil
}

type compiler struct {
	src string
	dec *json.Decoder
}

// errStop unwinds the recursive descent once an error has been recorded.
type compileFailure struct{ err *PatternError }

func (c *compiler) fail(format string, args ...any) {
	off := int(c.dec.InputOffset())
	if off > len(c.src) {
		off = len(c.src)
	}
	line := 1 + strings.Count(c.src[:off], "\n")
	col := off - strings.LastIndex(c.src[:off], "\n")
	panic(compileFailure{&PatternError{Reason: fmt.Sprintf(format, args...), Line: line, Column: col, Source: c.src}})
}

func (c *compiler) compile() (root *objNode, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(compileFailure)
			if !ok {
				panic(r)
			}
			root, err = nil, f.err
		}
	}()
	if strings.TrimSpace(c.src) == "" {
		c.fail("Filter is not an object")
	}
	if tok := c.next(); tok != json.Delim('{') {
		c.fail("Filter is not an object")
	}
	b := c.object(false)
	// The engine stops reading at the end of the filter object; the local
	// cloud refuses trailing text instead, as the text is not valid JSON and a
	// pattern AWS might accept that way is a mistake worth hearing about.
	if _, err := c.dec.Token(); !errors.Is(err, io.EOF) {
		c.fail("Unexpected content after the end of the filter")
	}
	return b.build(), nil
}

// next returns the next token, turning syntax errors into pattern errors.
func (c *compiler) next() json.Token {
	tok, err := c.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			c.fail("Unexpected end-of-input")
		}
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			c.fail("%s", syn.Error())
		}
		c.fail("%s", err.Error())
	}
	return tok
}

// objBuilder collects an object's fields; a repeated key merges (objects) or
// replaces (leaves), as in the engine's path-keyed rule map.
type objBuilder struct {
	fields map[string]*fieldBuilder
	ors    [][]*objBuilder
}

type fieldBuilder struct {
	leaf *leafNode
	sub  *objBuilder
}

func (b *objBuilder) field(key string) *fieldBuilder {
	if b.fields == nil {
		b.fields = map[string]*fieldBuilder{}
	}
	f, ok := b.fields[key]
	if !ok {
		f = &fieldBuilder{}
		b.fields[key] = f
	}
	return f
}

func (b *objBuilder) build() *objNode {
	n := &objNode{}
	keys := make([]string, 0, len(b.fields))
	for k := range b.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	positive := false
	for _, k := range keys {
		fb := b.fields[k]
		f := &fieldNode{key: k, leaf: fb.leaf}
		if fb.sub != nil {
			f.sub = fb.sub.build()
			if !f.sub.absenceOnly {
				positive = true
			}
		}
		if f.leaf != nil && (f.leaf.existsTrue || len(f.leaf.matchers) > 0) {
			positive = true
		}
		n.fields = append(n.fields, f)
	}
	for _, group := range b.ors {
		alts := make([]*objNode, len(group))
		for i, a := range group {
			alts[i] = a.build()
			if !alts[i].absenceOnly {
				positive = true
			}
		}
		n.ors = append(n.ors, alts)
	}
	n.absenceOnly = !positive
	return n
}

// object parses the members of an object whose '{' was just read.
func (c *compiler) object(inOr bool) *objBuilder {
	b := &objBuilder{}
	present := false
	for {
		tok := c.next()
		if tok == json.Delim('}') {
			break
		}
		key, _ := tok.(string)
		present = true
		if key == "$or" {
			c.or(b)
			continue
		}
		if inOr && reservedInOr[key] {
			c.fail("%s is Ruler reserved fieldName which cannot be used inside $or.", key)
		}
		switch c.next() {
		case json.Delim('{'):
			f := b.field(key)
			sub := c.object(inOr)
			if f.sub == nil {
				f.sub = sub
			} else {
				f.sub.merge(sub)
			}
		case json.Delim('['):
			b.field(key).leaf = c.values()
		default:
			c.fail("%q must be an object or an array", key)
		}
	}
	if !present {
		c.fail("Empty objects are not allowed")
	}
	return b
}

func (b *objBuilder) merge(o *objBuilder) {
	for k, f := range o.fields {
		mine := b.field(k)
		if f.leaf != nil {
			mine.leaf = f.leaf
		}
		if f.sub != nil {
			if mine.sub == nil {
				mine.sub = f.sub
			} else {
				mine.sub.merge(f.sub)
			}
		}
	}
	b.ors = append(b.ors, o.ors...)
}

// or parses the array that follows a "$or" key.
func (c *compiler) or(b *objBuilder) {
	if c.next() != json.Delim('[') {
		c.fail("It must be an Array followed with $or.")
	}
	var alts []*objBuilder
	for {
		tok := c.next()
		if tok == json.Delim(']') {
			break
		}
		if tok != json.Delim('{') {
			c.fail("Only JSON object is allowed in array of $or relationship.")
		}
		alts = append(alts, c.object(true))
	}
	if len(alts) < 2 {
		c.fail("There must have at least 2 Objects in $or relationship.")
	}
	b.ors = append(b.ors, alts)
}

// values parses a leaf array whose '[' was just read.
func (c *compiler) values() *leafNode {
	l := &leafNode{}
	n := 0
	for {
		tok := c.next()
		if tok == json.Delim(']') {
			break
		}
		n++
		switch v := tok.(type) {
		case json.Delim:
			if v != '{' {
				c.fail("Match value must be String, number, true, false, or null")
			}
			c.expression(l)
		case string:
			l.matchers = append(l.matchers, newExactString(v))
		case json.Number:
			l.matchers = append(l.matchers, exactNumber(string(v)))
		case bool:
			l.matchers = append(l.matchers, exactBool(v))
		case nil:
			l.matchers = append(l.matchers, exactNull{})
		}
	}
	if n == 0 {
		c.fail("Empty arrays are not allowed")
	}
	return l
}

// expression parses a match expression object whose '{' was just read.
func (c *compiler) expression(l *leafNode) {
	tok := c.next()
	name, ok := tok.(string)
	if !ok {
		c.fail("Match expression name not found")
	}
	switch name {
	case "exact":
		s, ok := c.next().(string)
		if !ok {
			c.fail("exact match pattern must be a string")
		}
		l.matchers = append(l.matchers, newExactString(s))
		c.closeExpression()
	case "prefix", "suffix":
		s, fold := c.stringOrIgnoreCase(name)
		l.matchers = append(l.matchers, affixMatcher{text: s, suffix: name == "suffix", fold: fold})
		c.closeExpression()
	case "equals-ignore-case":
		s, ok := c.next().(string)
		if !ok {
			c.fail("equals-ignore-case match pattern must be a string")
		}
		l.matchers = append(l.matchers, equalsFold(s))
		c.closeExpression()
	case "wildcard":
		s, ok := c.next().(string)
		if !ok {
			c.fail("wildcard match pattern must be a string")
		}
		l.matchers = append(l.matchers, c.wildcard(s))
		c.closeExpression()
	case "numeric":
		if c.next() != json.Delim('[') {
			c.fail("Value of numeric must be an array.")
		}
		l.matchers = append(l.matchers, c.numeric())
		if c.next() != json.Delim('}') {
			c.fail("Too many elements in numeric expression")
		}
	case "anything-but":
		l.matchers = append(l.matchers, c.anythingBut())
	case "exists":
		switch c.next() {
		case true:
			l.existsTrue = true
		case false:
			l.existsFalse = true
		default:
			c.fail("exists match pattern must be either true or false.")
		}
		c.closeExpression()
	case "cidr":
		s, ok := c.next().(string)
		if !ok {
			// The engine reuses the prefix message here; kept verbatim.
			c.fail("prefix match pattern must be a string")
		}
		pfx, reason := parseCIDR(s)
		if reason != "" {
			c.fail("%s", reason)
		}
		l.matchers = append(l.matchers, cidrMatcher{pfx})
		c.closeExpression()
	default:
		c.fail("Unrecognized match type %s", name)
	}
}

func (c *compiler) closeExpression() {
	if c.next() != json.Delim('}') {
		c.fail("Only one key allowed in match expression")
	}
}

// stringOrIgnoreCase reads either "text" or {"equals-ignore-case": "text"}
// as the operand of the prefix or suffix operator op.
func (c *compiler) stringOrIgnoreCase(op string) (string, bool) {
	switch v := c.next().(type) {
	case string:
		return v, false
	case json.Delim:
		if v == '{' {
			if k, _ := c.next().(string); k != "equals-ignore-case" {
				c.fail("Unsupported %s pattern: %s", op, k)
			}
			s, ok := c.next().(string)
			if !ok {
				c.fail("equals-ignore-case match pattern must be a string")
			}
			c.closeExpression()
			return s, true
		}
	}
	c.fail("%s match pattern must be a string", op)
	return "", false
}

func (c *compiler) wildcard(s string) wildcardMatcher {
	w, reason := compileWildcard(s)
	if reason != "" {
		c.fail("%s", reason)
	}
	return w
}

func (c *compiler) number(tok json.Token, msg string) float64 {
	n, ok := tok.(json.Number)
	if !ok {
		c.fail("%s", msg)
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f < -numericLimit || f > numericLimit {
		c.fail("Value must be between -5.0E9 and 5.0E9, inclusive")
	}
	return f
}

// numeric parses the operator/operand list after "numeric": [.
func (c *compiler) numeric() matcher {
	tok := c.next()
	op, ok := tok.(string)
	if !ok {
		c.fail("Invalid member in numeric match: %v", tokenText(tok))
	}
	r := numericRange{lo: math.Inf(-1), hi: math.Inf(1)}
	switch op {
	case "=":
		v := c.number(c.next(), "Value of equals must be numeric")
		if c.next() != json.Delim(']') {
			c.fail("Too many elements in numeric expression")
		}
		return numericEquals{q: quantize(v)}
	case ">", ">=":
		r.lo, r.loOpen = c.number(c.next(), "Value of "+op+" must be numeric"), op == ">"
		tok = c.next()
		if tok == json.Delim(']') {
			return r
		}
		op2, ok := tok.(string)
		if !ok {
			c.fail("Bad value in numeric range: %v", tokenText(tok))
		}
		if op2 != "<" && op2 != "<=" {
			c.fail("Bad numeric range operator: %s", op2)
		}
		r.hi, r.hiOpen = c.number(c.next(), "Value of "+op2+" must be numeric"), op2 == "<"
		if c.next() != json.Delim(']') {
			c.fail("Too many terms in numeric range expression")
		}
		if r.lo >= r.hi {
			c.fail("Bottom must be less than top")
		}
		return r
	case "<", "<=":
		r.hi, r.hiOpen = c.number(c.next(), "Value of "+op+" must be numeric"), op == "<"
		if c.next() != json.Delim(']') {
			c.fail("Too many elements in numeric expression")
		}
		return r
	default:
		c.fail("Unrecognized numeric range operator: %s", op)
	}
	return nil
}

// anythingBut parses the value after "anything-but".
func (c *compiler) anythingBut() matcher {
	tok := c.next()
	if tok == json.Delim('{') {
		op, ok := c.next().(string)
		if !ok {
			c.fail("Anything-But expression name not found")
		}
		var m matcher
		switch op {
		case "prefix", "suffix":
			s, ok := c.next().(string)
			if !ok {
				c.fail("prefix/suffix match pattern must be a string")
			}
			if s == "" {
				c.fail("Null prefix/suffix not allowed")
			}
			m = notMatcher{affixMatcher{text: s, suffix: op == "suffix"}}
		case "equals-ignore-case":
			var alts anyOf
			for _, s := range c.stringOrList("Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.") {
				alts = append(alts, equalsFold(s))
			}
			m = notMatcher{alts}
		case "wildcard":
			var alts anyOf
			for _, s := range c.stringOrList("Inside anything-but/wildcard list, number|start|null|boolean is not supported.") {
				alts = append(alts, c.wildcard(s))
			}
			m = notMatcher{alts}
		default:
			c.fail("Unsupported anything-but pattern: %s", op)
		}
		c.closeExpression()
		c.closeExpression()
		return m
	}
	set := anythingBut{}
	switch v := tok.(type) {
	case string:
		set.strs = []string{v}
	case json.Number:
		set.nums = []int64{quantize(c.number(v, ""))}
	case json.Delim:
		if v != '[' {
			c.fail("Value of anything-but must be an array or single string/number value.")
		}
		for {
			t := c.next()
			if t == json.Delim(']') {
				break
			}
			switch e := t.(type) {
			case string:
				set.strs = append(set.strs, e)
			case json.Number:
				set.nums = append(set.nums, quantize(c.number(e, "")))
			default:
				c.fail("Inside anything but list, start|null|boolean is not supported.")
			}
		}
		if (len(set.strs) > 0) == (len(set.nums) > 0) {
			c.fail("Inside anything but list, either all values are number or string, mixed type is not supported")
		}
	default:
		c.fail("Value of anything-but must be an array or single string/number value.")
	}
	if c.next() != json.Delim('}') {
		c.fail("Too many elements in numeric expression")
	}
	return set
}

// stringOrList reads a string or a non-empty array of strings.
func (c *compiler) stringOrList(msg string) []string {
	switch v := c.next().(type) {
	case string:
		return []string{v}
	case json.Delim:
		if v == '[' {
			var out []string
			for {
				t := c.next()
				if t == json.Delim(']') {
					break
				}
				s, ok := t.(string)
				if !ok {
					c.fail("%s", msg)
				}
				out = append(out, s)
			}
			if len(out) == 0 {
				c.fail("Empty arrays are not allowed")
			}
			return out
		}
	}
	c.fail("%s", msg)
	return nil
}

func tokenText(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		return string(v)
	case nil:
		return "null"
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// parseCIDR accepts an IPv4 or IPv6 prefix, or a bare address as a /32 or
// /128 range as the engine does; a refusal comes back as the engine's reason.
func parseCIDR(s string) (netip.Prefix, string) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, "Malformed CIDR, one '/' required"
		}
		return netip.PrefixFrom(a, a.BitLen()), ""
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, "Invalid CIDR: " + s
	}
	return p.Masked(), ""
}

// requiredSources returns the exact values of the top-level "source" field
// that every alternative of the pattern needs, or nil if any source can match.
func requiredSources(n *objNode) []string {
	set, ok := sourcesOf(n)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func sourcesOf(n *objNode) (map[string]bool, bool) {
	for _, f := range n.fields {
		if f.key != "source" || f.sub != nil || f.leaf == nil || f.leaf.existsFalse || f.leaf.existsTrue {
			continue
		}
		set := map[string]bool{}
		for _, m := range f.leaf.matchers {
			s, ok := m.(exactString)
			if !ok {
				return nil, false
			}
			set[s.s] = true
		}
		return set, true
	}
	// No direct constraint: every branch of one $or group must constrain it.
	for _, group := range n.ors {
		union := map[string]bool{}
		all := true
		for _, alt := range group {
			s, ok := sourcesOf(alt)
			if !ok {
				all = false
				break
			}
			for k := range s {
				union[k] = true
			}
		}
		if all {
			return union, true
		}
	}
	return nil, false
}
