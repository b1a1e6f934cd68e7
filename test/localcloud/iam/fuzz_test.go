package iam

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// Any JSON document is either refused by ParsePolicy or evaluable without
// a panic.
func FuzzParsePolicy(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`)
	f.Add(`{"Statement":{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"arn:aws:s3:::b/*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["a*"]}}}}`)
	f.Add(`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:ResourceTag/x":[true,"yes",1]},"Null":{"k":"true"}}}]}`)
	f.Fuzz(func(t *testing.T, text string) {
		var doc any
		if json.Unmarshal([]byte(text), &doc) != nil {
			return
		}
		p, err := ParsePolicy("fuzz", doc)
		if err != nil {
			return
		}
		Evaluate([]*Policy{p}, Request{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:1:instance/*",
			Context: map[string][]string{"aws:TagKeys": {"a", "b"}, "aws:ResourceTag/x": {"yes"}}})
	})
}

// glob agrees with the regular expression its pattern stands for.
func FuzzGlob(f *testing.F) {
	f.Add("arn:aws:ec2:*:123:launch-template/*", "arn:aws:ec2:us-east-1:123:launch-template/lt-1")
	f.Add("a*b?c", "aXXbYc")
	f.Add("**", "")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			// Policies and requests are JSON text, hence UTF-8.
			return
		}
		var re strings.Builder
		re.WriteString(`(?s)^`)
		for _, r := range pattern {
			switch r {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`$`)
		want := regexp.MustCompile(re.String()).MatchString(s)
		if got := glob(pattern, s); got != want {
			t.Errorf("glob(%q, %q) = %v, want %v", pattern, s, got, want)
		}
	})
}
