package states

import (
	"fmt"
	"testing"
)

// TestChoiceOperators evaluates every comparison operator, its Path form,
// the type tests and the boolean combinators against one input.
func TestChoiceOperators(t *testing.T) {
	input := mustParse(t, `{"s":"beta","n":20,"f":1.5,"b":true,"t":"2026-01-05T09:00:00Z","z":null,
		"other":{"s":"beta","n":20,"b":true,"t":"2026-01-05T10:00:00+01:00"},"star":"a*b","path":"C:\\dir"}`)
	cases := []struct {
		rule string
		want bool
	}{
		{`"Variable":"$.s","StringEquals":"beta"`, true},
		{`"Variable":"$.s","StringEquals":"Beta"`, false},
		{`"Variable":"$.s","StringLessThan":"gamma"`, true},
		{`"Variable":"$.s","StringGreaterThan":"alpha"`, true},
		{`"Variable":"$.s","StringLessThanEquals":"beta"`, true},
		{`"Variable":"$.s","StringGreaterThanEquals":"betb"`, false},
		{`"Variable":"$.n","StringEquals":"20"`, false},
		{`"Variable":"$.s","StringEqualsPath":"$.other.s"`, true},
		{`"Variable":"$.s","StringLessThanPath":"$.other.s"`, false},
		{`"Variable":"$.s","StringMatches":"b*a"`, true},
		{`"Variable":"$.s","StringMatches":"*et*"`, true},
		{`"Variable":"$.s","StringMatches":"b*x"`, false},
		{`"Variable":"$.star","StringMatches":"a\\*b"`, true},
		{`"Variable":"$.s","StringMatches":"b\\*a"`, false},
		{`"Variable":"$.path","StringMatches":"C:\\\\*"`, true},
		{`"Variable":"$.n","NumericEquals":20`, true},
		{`"Variable":"$.n","NumericEquals":20.0`, true},
		{`"Variable":"$.n","NumericLessThan":20`, false},
		{`"Variable":"$.n","NumericGreaterThan":19.5`, true},
		{`"Variable":"$.n","NumericLessThanEquals":20`, true},
		{`"Variable":"$.f","NumericGreaterThanEquals":1.5`, true},
		{`"Variable":"$.s","NumericEquals":0`, false},
		{`"Variable":"$.n","NumericEqualsPath":"$.other.n"`, true},
		{`"Variable":"$.f","NumericLessThanPath":"$.other.n"`, true},
		{`"Variable":"$.n","NumericGreaterThanPath":"$.other.n"`, false},
		{`"Variable":"$.n","NumericLessThanEqualsPath":"$.other.n"`, true},
		{`"Variable":"$.n","NumericGreaterThanEqualsPath":"$.other.n"`, true},
		{`"Variable":"$.b","BooleanEquals":true`, true},
		{`"Variable":"$.b","BooleanEquals":false`, false},
		{`"Variable":"$.b","BooleanEqualsPath":"$.other.b"`, true},
		{`"Variable":"$.t","TimestampEquals":"2026-01-05T09:00:00Z"`, true},
		{`"Variable":"$.t","TimestampLessThan":"2026-01-05T09:00:01Z"`, true},
		{`"Variable":"$.t","TimestampGreaterThan":"2026-01-05T08:59:59Z"`, true},
		{`"Variable":"$.t","TimestampLessThanEquals":"2026-01-05T09:00:00Z"`, true},
		{`"Variable":"$.t","TimestampGreaterThanEquals":"2026-01-05T09:00:01Z"`, false},
		{`"Variable":"$.t","TimestampEqualsPath":"$.other.t"`, true},
		{`"Variable":"$.s","TimestampEquals":"2026-01-05T09:00:00Z"`, false},
		{`"Variable":"$.t","TimestampLessThanPath":"$.other.t"`, false},
		{`"Variable":"$.t","TimestampGreaterThanEqualsPath":"$.other.t"`, true},
		{`"Variable":"$.t","TimestampLessThanEqualsPath":"$.other.t"`, true},
		{`"Variable":"$.t","TimestampGreaterThanPath":"$.other.t"`, false},
		{`"Variable":"$.s","StringGreaterThanPath":"$.other.s"`, false},
		{`"Variable":"$.s","StringLessThanEqualsPath":"$.other.s"`, true},
		{`"Variable":"$.s","StringGreaterThanEqualsPath":"$.other.s"`, true},
		{`"Variable":"$.z","IsNull":true`, true},
		{`"Variable":"$.s","IsNull":true`, false},
		{`"Variable":"$.s","IsNull":false`, true},
		{`"Variable":"$.missing","IsPresent":false`, true},
		{`"Variable":"$.z","IsPresent":true`, true},
		{`"Variable":"$.f","IsNumeric":true`, true},
		{`"Variable":"$.s","IsNumeric":true`, false},
		{`"Variable":"$.s","IsString":true`, true},
		{`"Variable":"$.n","IsString":false`, true},
		{`"Variable":"$.b","IsBoolean":true`, true},
		{`"Variable":"$.z","IsBoolean":true`, false},
		{`"Variable":"$.t","IsTimestamp":true`, true},
		{`"Variable":"$.s","IsTimestamp":true`, false},
		{`"And":[{"Variable":"$.n","NumericGreaterThanEquals":20},{"Variable":"$.n","NumericLessThan":30}]`, true},
		{`"And":[{"Variable":"$.n","NumericGreaterThanEquals":20},{"Variable":"$.n","NumericLessThan":20}]`, false},
		{`"Or":[{"Variable":"$.n","NumericEquals":1},{"Variable":"$.s","StringEquals":"beta"}]`, true},
		{`"Or":[{"Variable":"$.n","NumericEquals":1},{"Variable":"$.s","StringEquals":"x"}]`, false},
		{`"Not":{"Variable":"$.s","StringEquals":"Private"}`, true},
		{`"And":[{"Variable":"$.missing","IsPresent":true},{"Variable":"$.missing","NumericEquals":1}]`, false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("the rule {%s} is %v", tc.rule, tc.want), func(t *testing.T) {
			errs := &defErrors{}
			r := compileChoiceRule(mustParse(t, `{`+tc.rule+`,"Next":"X"}`), "/States/C/Choices[0]", true, errs)
			if len(errs.list) > 0 {
				t.Fatalf("rule refused: %v", errs.list)
			}
			got, err := r.Match(input, nil)
			if err != nil {
				t.Fatalf("match: %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestChoiceSpecExample runs the States language specification's Choice
// example: the first matching rule wins, Default catches the rest.
func testChoiceSpecExample(t *testing.T, backend Backend) {
	def := `{"StartAt":"ChoiceStateX","States":{
		"ChoiceStateX":{"Type":"Choice","Choices":[
			{"Not":{"Variable":"$.type","StringEquals":"Private"},"Next":"Public"},
			{"Variable":"$.value","NumericEquals":0,"Next":"ValueIsZero"},
			{"And":[{"Variable":"$.value","NumericGreaterThanEquals":20},{"Variable":"$.value","NumericLessThan":30}],"Next":"ValueInTwenties"}
		],"Default":"DefaultState"},
		"Public":{"Type":"Pass","End":true},
		"ValueIsZero":{"Type":"Pass","End":true},
		"ValueInTwenties":{"Type":"Pass","End":true},
		"DefaultState":{"Type":"Fail","Error":"DefaultStateError","Cause":"No Matches!"}}}`
	cases := []struct {
		input string
		path  []string
	}{
		{`{"type":"Public"}`, []string{"ChoiceStateX", "Public"}},
		{`{"type":"Private","value":0}`, []string{"ChoiceStateX", "ValueIsZero"}},
		{`{"type":"Private","value":22}`, []string{"ChoiceStateX", "ValueInTwenties"}},
		{`{"type":"Private","value":35}`, []string{"ChoiceStateX", "DefaultState"}},
	}
	for _, tc := range cases {
		t.Run("the input "+tc.input+" goes to "+tc.path[1], func(t *testing.T) {
			h := newHarness(t, backend, Integrations{})
			exec, _ := h.runDef(def, tc.input)
			if got := h.entered(exec); !equalStrings(got, tc.path) {
				t.Fatalf("entered %v, want %v", got, tc.path)
			}
		})
	}
}

// TestWildcardMatch checks StringMatches' pattern language on its own.
func TestWildcardMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"log-*.txt", "log-2026.txt", true},
		{"log-*.txt", "log-2026.csv", false},
		{"*.log", "a.log.log", true},
		{"a*b*c", "abbbc", true},
		{"a*b*c", "acb", false},
		{`\*`, "*", true},
		{`\*`, "x", false},
		{`\\`, `\`, true},
		{"exact", "exact", true},
		{"exact", "exactly", false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q matching %q is %v", tc.pattern, tc.s, tc.want), func(t *testing.T) {
			if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}
