package eventbus

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Event is a parsed event ready to be matched against many patterns: it is
// parsed once, then every rule walks the same tree without allocating.
type Event struct {
	root value
	raw  []byte
}

// JSON returns the event text the Event was parsed from.
func (e *Event) JSON() []byte { return e.raw }

type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// value is one JSON value of an event. Numbers keep their literal text (for
// exact matching, as the engine does) and, when within the engine's range,
// their fixed-point form for numeric comparison.
type value struct {
	kind kind
	b    bool
	s    string // string value or number literal
	q    int64  // fixed-point number (6 decimals), valid if qok
	qok  bool
	arr  []value
	obj  []member // sorted by key
}

type member struct {
	key string
	val value
}

// ParseEvent parses an event (any JSON object: an EventBridge envelope or, for
// contract tests, a bare sample).
func ParseEvent(data []byte) (*Event, error) {
	raw, err := decodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("parse event: %w", err)
	}
	if _, ok := raw.(map[string]any); !ok {
		return nil, fmt.Errorf("parse event: not a JSON object")
	}
	return &Event{root: toValue(raw), raw: data}, nil
}

func toValue(x any) value {
	switch v := x.(type) {
	case nil:
		return value{kind: kindNull}
	case bool:
		return value{kind: kindBool, b: v}
	case json.Number:
		out := value{kind: kindNumber, s: string(v)}
		if f, err := strconv.ParseFloat(string(v), 64); err == nil && f >= -numericLimit && f <= numericLimit {
			out.q, out.qok = quantize(f), true
		}
		return out
	case string:
		return value{kind: kindString, s: v}
	case []any:
		out := value{kind: kindArray, arr: make([]value, len(v))}
		for i, e := range v {
			out.arr[i] = toValue(e)
		}
		return out
	case map[string]any:
		out := value{kind: kindObject, obj: make([]member, 0, len(v))}
		for k, e := range v {
			out.obj = append(out.obj, member{key: k, val: toValue(e)})
		}
		sort.Slice(out.obj, func(i, j int) bool { return out.obj[i].key < out.obj[j].key })
		return out
	}
	return value{kind: kindNull}
}

// quantize mirrors the engine's ComparableNumber: six decimal places,
// truncated, over a range shifted to be non-negative.
func quantize(f float64) int64 { return int64(1e6 * (numericLimit + f)) }

// get returns the member named key, or nil.
func (v *value) get(key string) *value {
	obj := v.obj
	if len(obj) <= 8 {
		for i := range obj {
			if obj[i].key == key {
				return &obj[i].val
			}
		}
		return nil
	}
	i := sort.Search(len(obj), func(i int) bool { return obj[i].key >= key })
	if i < len(obj) && obj[i].key == key {
		return &obj[i].val
	}
	return nil
}

// match reports whether the object node holds for v (nil when absent). A
// missing or non-object value is matched as an empty object, so only
// absence conditions can hold on it.
func (n *objNode) match(v *value) bool {
	if v != nil && v.kind == kindArray {
		if len(v.arr) == 0 {
			return n.match(nil)
		}
		if n.absenceOnly {
			for i := range v.arr {
				if !n.match(&v.arr[i]) {
					return false
				}
			}
			return true
		}
		for i := range v.arr {
			if n.match(&v.arr[i]) {
				return true
			}
		}
		return false
	}
	if v != nil && v.kind != kindObject {
		v = nil
	}
	for _, f := range n.fields {
		var fv *value
		if v != nil {
			fv = v.get(f.key)
		}
		if f.leaf != nil && !f.leaf.match(fv) {
			return false
		}
		if f.sub != nil && !f.sub.match(fv) {
			return false
		}
	}
	for _, group := range n.ors {
		ok := false
		for _, alt := range group {
			if alt.match(v) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// match reports whether any alternative of the leaf holds for v. Arrays are
// flattened (an event array matches if any element does); objects are not
// leaves, so for leaf purposes they count as absent.
func (l *leafNode) match(v *value) bool {
	present := hasLeaf(v)
	if l.existsTrue && present {
		return true
	}
	if l.existsFalse && !present {
		return true
	}
	if !present || len(l.matchers) == 0 {
		return false
	}
	return l.anyLeaf(v)
}

func (l *leafNode) anyLeaf(v *value) bool {
	switch v.kind {
	case kindArray:
		for i := range v.arr {
			if l.anyLeaf(&v.arr[i]) {
				return true
			}
		}
		return false
	case kindObject:
		return false
	}
	for _, m := range l.matchers {
		if m.match(v) {
			return true
		}
	}
	return false
}

func hasLeaf(v *value) bool {
	if v == nil {
		return false
	}
	switch v.kind {
	case kindObject:
		return false
	case kindArray:
		for i := range v.arr {
			if hasLeaf(&v.arr[i]) {
				return true
			}
		}
		return false
	}
	return true
}

// matcher tests one leaf (never an array or object) of an event.
type matcher interface {
	match(v *value) bool
}

// exactString matches an equal string. A pattern string that is an IP
// address also matches other spellings of that address, as the engine turns
// such strings into address ranges.
type exactString struct {
	s    string
	ip   netip.Addr
	isIP bool
}

func newExactString(s string) exactString {
	m := exactString{s: s}
	if a, err := netip.ParseAddr(s); err == nil {
		m.ip, m.isIP = a, true
	}
	return m
}

func (m exactString) match(v *value) bool {
	if v.kind != kindString {
		return false
	}
	if v.s == m.s {
		return true
	}
	if !m.isIP || !strings.ContainsAny(v.s, ".:") {
		return false
	}
	a, err := netip.ParseAddr(v.s)
	return err == nil && a == m.ip
}

// exactNumber matches a number with the same literal text or, within the
// engine's range, the same value to six decimal places (300 = 3.0e2).
type exactNumberMatcher struct {
	text string
	q    int64
	qok  bool
}

func exactNumber(text string) matcher {
	m := exactNumberMatcher{text: text}
	if f, err := strconv.ParseFloat(text, 64); err == nil && f >= -numericLimit && f <= numericLimit {
		m.q, m.qok = quantize(f), true
	}
	return m
}

func (m exactNumberMatcher) match(v *value) bool {
	if v.kind != kindNumber {
		return false
	}
	return v.s == m.text || (m.qok && v.qok && v.q == m.q)
}

type exactBool bool

func (m exactBool) match(v *value) bool { return v.kind == kindBool && v.b == bool(m) }

type exactNull struct{}

func (exactNull) match(v *value) bool { return v.kind == kindNull }

// affixMatcher is prefix or suffix matching, optionally ignoring case.
type affixMatcher struct {
	text   string
	suffix bool
	fold   bool
}

func (m affixMatcher) match(v *value) bool {
	if v.kind != kindString {
		return false
	}
	s := v.s
	if !m.fold {
		if m.suffix {
			return strings.HasSuffix(s, m.text)
		}
		return strings.HasPrefix(s, m.text)
	}
	if isASCII(s) && isASCII(m.text) {
		if len(s) < len(m.text) {
			return false
		}
		if m.suffix {
			return strings.EqualFold(s[len(s)-len(m.text):], m.text)
		}
		return strings.EqualFold(s[:len(m.text)], m.text)
	}
	ls, lt := strings.ToLower(s), strings.ToLower(m.text)
	if m.suffix {
		return strings.HasSuffix(ls, lt)
	}
	return strings.HasPrefix(ls, lt)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

type equalsFold string

func (m equalsFold) match(v *value) bool {
	return v.kind == kindString && strings.EqualFold(v.s, string(m))
}

// numericRange matches JSON numbers within bounds (infinite when unset).
type numericRange struct {
	lo, hi         float64
	loOpen, hiOpen bool
}

func (m numericRange) match(v *value) bool {
	if v.kind != kindNumber || !v.qok {
		return false
	}
	q := v.q
	if lo := m.lo; lo > -numericLimit-1 {
		ql := quantize(lo)
		if q < ql || (m.loOpen && q == ql) {
			return false
		}
	}
	if hi := m.hi; hi < numericLimit+1 {
		qh := quantize(hi)
		if q > qh || (m.hiOpen && q == qh) {
			return false
		}
	}
	return true
}

type numericEquals struct{ q int64 }

func (m numericEquals) match(v *value) bool { return v.kind == kindNumber && v.qok && v.q == m.q }

// anythingBut matches any present leaf that equals none of the listed
// strings (or numbers, compared numerically).
type anythingBut struct {
	strs []string
	nums []int64
}

func (m anythingBut) match(v *value) bool {
	switch v.kind {
	case kindString:
		for _, s := range m.strs {
			if v.s == s {
				return false
			}
		}
	case kindNumber:
		for _, n := range m.nums {
			if v.qok && v.q == n {
				return false
			}
		}
	}
	return true
}

// notMatcher is anything-but applied to prefix, suffix, equals-ignore-case or
// wildcard: it matches every present leaf the inner matcher does not.
type notMatcher struct{ inner matcher }

func (m notMatcher) match(v *value) bool { return !m.inner.match(v) }

type anyOf []matcher

func (m anyOf) match(v *value) bool {
	for _, x := range m {
		if x.match(v) {
			return true
		}
	}
	return false
}

type cidrMatcher struct{ prefix netip.Prefix }

func (m cidrMatcher) match(v *value) bool {
	if v.kind != kindString {
		return false
	}
	a, err := netip.ParseAddr(v.s)
	return err == nil && m.prefix.Contains(a)
}

// wildcardMatcher matches a string against literal segments separated by
// '*' (zero or more characters): segs has one more element than there are
// wildcards, and empty segments stand for a wildcard at either end.
type wildcardMatcher struct{ segs []string }

// compileWildcard validates the engine's wildcard syntax: '*' is a wildcard,
// "\*" and "\\" are literal, any other escape and "**" are errors. Positions
// are byte offsets in the quoted value, as the engine reports them. A
// refusal comes back as the engine's reason (capitalised, so not an error).
func compileWildcard(s string) (wildcardMatcher, string) {
	var w wildcardMatcher
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*':
			if i+1 < len(s) && s[i+1] == '*' {
				return w, fmt.Sprintf("Consecutive wildcard characters at pos %d", i+1)
			}
			w.segs = append(w.segs, cur.String())
			cur.Reset()
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '\\') {
				cur.WriteByte(s[i+1])
				i++
				continue
			}
			return w, fmt.Sprintf("Invalid escape character at pos %d", i+1)
		default:
			cur.WriteByte(c)
		}
	}
	w.segs = append(w.segs, cur.String())
	return w, ""
}

func (m wildcardMatcher) match(v *value) bool {
	return v.kind == kindString && m.matchString(v.s)
}

func (m wildcardMatcher) matchString(s string) bool {
	n := len(m.segs)
	if n == 1 {
		return s == m.segs[0]
	}
	first, last := m.segs[0], m.segs[n-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	// With '*' as the only wildcard, placing each middle segment at its
	// leftmost occurrence never loses a match.
	mid := s[len(first) : len(s)-len(last)]
	for _, seg := range m.segs[1 : n-1] {
		i := strings.Index(mid, seg)
		if i < 0 {
			return false
		}
		mid = mid[i+len(seg):]
	}
	return true
}
