package wildcard

import "testing"

func TestMatch(t *testing.T) {
	plain, ec2, iam := Syntax{Escape: true}, Syntax{One: true, Escape: true}, Syntax{One: true}
	cases := []struct {
		name       string
		pattern, s string
		syn        Syntax
		want       bool
	}{
		{"a star matches any run, none included", "web-*", "web-", plain, true},
		{"a star matches across separators", "arn:aws:ec2:*:123:launch-template/*", "arn:aws:ec2:us-east-1:123:launch-template/lt-1", iam, true},
		{"a star in the pattern is a wildcard even where the text has one", "a*", "a*b", iam, true},
		{"stars backtrack", "*ab*ab", "xabyabab", plain, true},
		{"the text must be used up", "web", "web-1", plain, false},
		{"a question mark is one character where the syntax has it", "i-?", "i-1", ec2, true},
		{"a question mark is literal where it has not", "i-?", "i-1", plain, false},
		{"a question mark is never zero characters", "i-?", "i-", iam, false},
		{"an escaped star is literal", `a\*`, "a*", ec2, true},
		{"an escaped star matches no other character", `a\*`, "ab", plain, false},
		{"a backslash is literal where there is no escape", `a\b`, `a\b`, iam, true},
		{"a trailing backslash is literal", `a\`, `a\`, ec2, true},
		{"matching is by character, not byte", "é*", "éa", plain, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Match(tc.pattern, tc.s, tc.syn); got != tc.want {
				t.Errorf("Match(%q, %q, %+v) = %v, want %v", tc.pattern, tc.s, tc.syn, got, tc.want)
			}
		})
	}
}
