package states

import (
	"fmt"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/internal/wildcard"
)

// ChoiceRule is a compiled Choice rule: a comparison of Variable with a
// literal or a second path, a type test, or And/Or/Not of nested rules.
type ChoiceRule struct {
	Next string

	variable  *Path
	op        string // comparison operator without the "Path" suffix
	byPath    bool   // the operand is read through operand2
	operand   any
	operand2  *Path
	and, or   []*ChoiceRule
	not       *ChoiceRule
	condition string // the operator as written, for messages
}

// comparisonOps maps every comparison operator to the JSON type of its
// literal operand.
var comparisonOps = map[string]string{
	"StringEquals": "string", "StringLessThan": "string", "StringGreaterThan": "string",
	"StringLessThanEquals": "string", "StringGreaterThanEquals": "string", "StringMatches": "string",
	"NumericEquals": "number", "NumericLessThan": "number", "NumericGreaterThan": "number",
	"NumericLessThanEquals": "number", "NumericGreaterThanEquals": "number",
	"BooleanEquals":   "boolean",
	"TimestampEquals": "timestamp", "TimestampLessThan": "timestamp", "TimestampGreaterThan": "timestamp",
	"TimestampLessThanEquals": "timestamp", "TimestampGreaterThanEquals": "timestamp",
	"IsNull": "boolean", "IsPresent": "boolean", "IsNumeric": "boolean", "IsString": "boolean",
	"IsBoolean": "boolean", "IsTimestamp": "boolean",
}

// hasPathForm lists the operators that also come as an "...Path" variant.
func hasPathForm(op string) bool {
	return !strings.HasPrefix(op, "Is") && op != "StringMatches"
}

// compileChoiceRule compiles one rule; top says whether it is a member of
// Choices (which must have Next) rather than nested in And/Or/Not (which
// must not).
func compileChoiceRule(v any, loc string, top bool, errs *defErrors) *ChoiceRule {
	m, ok := v.(map[string]any)
	if !ok {
		errs.schema(loc, "A choice rule must be an object")
		return nil
	}
	r := &ChoiceRule{}
	if next, ok := m["Next"]; ok {
		s, isStr := next.(string)
		if !top {
			errs.schema(loc+"/Next", "A nested choice rule must not have a 'Next' field")
		} else if !isStr || s == "" {
			errs.schema(loc+"/Next", "The value for the field 'Next' must be a non-empty string")
		}
		r.Next = s
	} else if top {
		errs.schema(loc, "These fields are required: [Next]")
	}
	var ops []string
	for k := range m {
		switch k {
		case "Next", "Comment", "Variable":
			continue
		case "And", "Or", "Not":
			ops = append(ops, k)
			continue
		}
		base := strings.TrimSuffix(k, "Path")
		if _, known := comparisonOps[k]; known {
			ops = append(ops, k)
		} else if _, known := comparisonOps[base]; known && base != k && hasPathForm(base) {
			ops = append(ops, k)
		} else {
			errs.schema(loc+"/"+k, fmt.Sprintf("Field '%s' is not supported", k))
		}
	}
	if len(ops) != 1 {
		errs.schema(loc, "A choice rule must have exactly one comparison operator or And, Or, Not")
		return r
	}
	op := ops[0]
	r.condition = op
	switch op {
	case "And", "Or":
		list, ok := m[op].([]any)
		if !ok || len(list) == 0 {
			errs.schema(loc+"/"+op, fmt.Sprintf("The value for the field '%s' must be a non-empty array of choice rules", op))
			return r
		}
		for i, sub := range list {
			c := compileChoiceRule(sub, fmt.Sprintf("%s/%s[%d]", loc, op, i), false, errs)
			if op == "And" {
				r.and = append(r.and, c)
			} else {
				r.or = append(r.or, c)
			}
		}
		if _, ok := m["Variable"]; ok {
			errs.schema(loc+"/Variable", "A rule with '"+op+"' must not have a 'Variable' field")
		}
		return r
	case "Not":
		r.not = compileChoiceRule(m["Not"], loc+"/Not", false, errs)
		return r
	}
	vs, ok := m["Variable"].(string)
	if !ok {
		errs.schema(loc, "These fields are required: [Variable]")
		return r
	}
	p, err := ParseReferencePath(vs)
	if err != nil {
		errs.schema(loc+"/Variable", "The value for the field 'Variable' must be a valid JSONPath")
		return r
	}
	r.variable = p
	base := op
	if _, known := comparisonOps[op]; !known {
		base = strings.TrimSuffix(op, "Path")
		r.byPath = true
	}
	r.op = base
	if r.byPath {
		s, ok := m[op].(string)
		p2, err := ParseReferencePath(s)
		if !ok || err != nil {
			errs.schema(loc+"/"+op, fmt.Sprintf("The value for the field '%s' must be a valid JSONPath", op))
			return r
		}
		r.operand2 = p2
		return r
	}
	val := m[op]
	switch comparisonOps[base] {
	case "string":
		if _, ok := val.(string); !ok {
			errs.schema(loc+"/"+op, fmt.Sprintf("The value for the field '%s' must be a string", op))
		}
	case "number":
		if _, ok := number(val); !ok {
			errs.schema(loc+"/"+op, fmt.Sprintf("The value for the field '%s' must be a number", op))
		}
	case "boolean":
		if _, ok := val.(bool); !ok {
			errs.schema(loc+"/"+op, fmt.Sprintf("The value for the field '%s' must be a boolean", op))
		}
	case "timestamp":
		s, _ := val.(string)
		if _, ok := parseTimestamp(s); !ok {
			errs.schema(loc+"/"+op, fmt.Sprintf("The value for the field '%s' must be a valid timestamp", op))
		}
	}
	r.operand = val
	return r
}

// parseTimestamp accepts the RFC 3339 profile of ISO 8601 that Step Functions
// requires (an uppercase T and either Z or a numeric offset).
func parseTimestamp(s string) (time.Time, bool) {
	if !strings.Contains(s, "T") {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// Match evaluates the rule against the Choice state's effective input.
func (r *ChoiceRule) Match(input, ctx any) (bool, error) {
	switch {
	case r.and != nil:
		for _, c := range r.and {
			ok, err := c.Match(input, ctx)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.or != nil:
		for _, c := range r.or {
			ok, err := c.Match(input, ctx)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.not != nil:
		ok, err := r.not.Match(input, ctx)
		return !ok, err
	}
	v, err := r.variable.Get(input, ctx)
	missing := err != nil
	if r.op == "IsPresent" {
		return !missing == r.operand.(bool), nil
	}
	if missing {
		return false, runtimeErrorf("Invalid path '%s': The choice state's condition path references an invalid value.", r.variable.src)
	}
	operand := r.operand
	if r.byPath {
		operand, err = r.operand2.Get(input, ctx)
		if err != nil {
			return false, runtimeErrorf("Invalid path '%s': The choice state's condition path references an invalid value.", r.operand2.src)
		}
	}
	return compare(r.op, v, operand), nil
}

func compare(op string, v, operand any) bool {
	switch op {
	case "IsNull":
		return (v == nil) == operand.(bool)
	case "IsNumeric":
		_, isNum := number(v)
		return isNum == operand.(bool)
	case "IsString":
		_, isStr := v.(string)
		return isStr == operand.(bool)
	case "IsBoolean":
		_, isBool := v.(bool)
		return isBool == operand.(bool)
	case "IsTimestamp":
		s, isStr := v.(string)
		_, isTS := parseTimestamp(s)
		return (isStr && isTS) == operand.(bool)
	case "BooleanEquals":
		a, ok1 := v.(bool)
		b, ok2 := operand.(bool)
		return ok1 && ok2 && a == b
	case "StringMatches":
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		return ok1 && ok2 && wildcardMatch(b, a)
	}
	switch {
	case strings.HasPrefix(op, "String"):
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false
		}
		return ordered(op, strings.Compare(a, b))
	case strings.HasPrefix(op, "Numeric"):
		a, ok1 := number(v)
		b, ok2 := number(operand)
		if !ok1 || !ok2 {
			return false
		}
		c := 0
		if a < b {
			c = -1
		} else if a > b {
			c = 1
		}
		return ordered(op, c)
	case strings.HasPrefix(op, "Timestamp"):
		as, ok1 := v.(string)
		bs, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false
		}
		a, ok1 := parseTimestamp(as)
		b, ok2 := parseTimestamp(bs)
		if !ok1 || !ok2 {
			return false
		}
		return ordered(op, a.Compare(b))
	}
	return false
}

func ordered(op string, c int) bool {
	switch {
	case strings.HasSuffix(op, "LessThanEquals"):
		return c <= 0
	case strings.HasSuffix(op, "GreaterThanEquals"):
		return c >= 0
	case strings.HasSuffix(op, "LessThan"):
		return c < 0
	case strings.HasSuffix(op, "GreaterThan"):
		return c > 0
	case strings.HasSuffix(op, "Equals"):
		return c == 0
	}
	return false
}

// wildcardMatch implements StringMatches: '*' matches any run of characters,
// "\*" a literal asterisk and "\\" a literal backslash.
func wildcardMatch(pattern, s string) bool {
	return wildcard.Match(pattern, s, wildcard.Syntax{Escape: true})
}
