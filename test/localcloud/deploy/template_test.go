package deploy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const sample = `
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Env:
    Type: String
    Default: dev
  Retries:
    Type: Number
    Default: 3
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "phoenix-${Env}-ledger"
  Fn:
    Type: AWS::Serverless::Function
    DependsOn: Table
    Properties:
      Environment:
        Variables:
          TABLE: !Ref Table
          TABLE_ARN: !GetAtt Table.Arn
          REGION_AND_ACCOUNT: !Sub "${AWS::Region}/${AWS::AccountId}"
          LITERAL: !Sub "${!NotAVar}"
          MODE: !If [IsProd, strict, relaxed]
          NOTHING: !If [IsProd, x, !Ref AWS::NoValue]
          JOINED: !Join [":", [a, !Ref Env, c]]
          SECOND: !Select [1, !Split [",", "x,y,z"]]
          LONG: {"Fn::Sub": ["${A}-${B}", {A: one, B: !Ref Env}]}
`

type fakeResolver struct {
	params map[string]any
	conds  map[string]any
}

func (f fakeResolver) Ref(name string) (any, error) {
	switch name {
	case "AWS::Region":
		return "us-east-1", nil
	case "AWS::AccountId":
		return "123456789012", nil
	case "Table":
		return "phoenix-dev-ledger", nil
	}
	if v, ok := f.params[name]; ok {
		return v, nil
	}
	return nil, errors.New("no such name " + name)
}

func (f fakeResolver) GetAtt(res, attr string) (any, error) {
	if res == "Table" && attr == "Arn" {
		return "arn:aws:dynamodb:us-east-1:123456789012:table/phoenix-dev-ledger", nil
	}
	return nil, errors.New("no attribute " + res + "." + attr)
}

func (f fakeResolver) Condition(name string) (bool, error) {
	c, ok := f.conds[name]
	if !ok {
		return false, errors.New("no condition " + name)
	}
	return EvalCondition(c, f)
}

func TestParseAndResolveTheShortAndLongIntrinsicForms(t *testing.T) {
	tpl, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if got := tpl.Resources["Fn"].DependsOn; !reflect.DeepEqual(got, []string{"Table"}) {
		t.Fatalf("DependsOn = %v", got)
	}
	if got := References(tpl.Resources["Fn"].Properties); !reflect.DeepEqual(got, []string{"AWS::AccountId", "AWS::NoValue", "AWS::Region", "Env", "Table"}) {
		t.Fatalf("References = %v", got)
	}
	r := fakeResolver{params: map[string]any{"Env": "dev"}, conds: tpl.Conditions}
	v, err := Resolve(tpl.Resources["Fn"].Properties, r)
	if err != nil {
		t.Fatal(err)
	}
	vars := v.(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)
	want := map[string]any{
		"TABLE":              "phoenix-dev-ledger",
		"TABLE_ARN":          "arn:aws:dynamodb:us-east-1:123456789012:table/phoenix-dev-ledger",
		"REGION_AND_ACCOUNT": "us-east-1/123456789012",
		"LITERAL":            "${NotAVar}",
		"MODE":               "relaxed",
		"JOINED":             "a:dev:c",
		"SECOND":             "y",
		"LONG":               "one-dev",
	}
	if !reflect.DeepEqual(vars, want) {
		t.Fatalf("resolved variables:\n got %v\nwant %v", vars, want)
	}
}

func TestTemplateErrorsNameTheProblem(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"an unknown tag", "Resources:\n  A:\n    Type: X\n    Properties: {P: !Bogus x}\n", "unknown tag !Bogus"},
		{"a resource without a type", "Resources:\n  A:\n    Properties: {}\n", "resource A has no Type"},
		{"no resources", "Parameters: {}\n", "no Resources"},
		{"an unknown section", "Resourcez: {}\n", `unknown top-level section "Resourcez"`},
		{"a duplicate key", "Resources:\n  A:\n    Type: X\n  A:\n    Type: Z\n", `duplicate key "A"`},
		{"an unquoted yes, a boolean to the SAM CLI's YAML 1.1", "Resources:\n  A:\n    Type: X\n    Properties:\n      Values:\n        - \"true\"\n        - yes\n", `line 7: unquoted "yes" is the boolean true to YAML 1.1`},
		{"an unquoted off", "Resources:\n  A:\n    Type: X\n    Properties: {Enabled: off}\n", `line 4: unquoted "off" is the boolean false`},
		{"an unquoted on as a key", "Resources:\n  A:\n    Type: X\n    Properties:\n      on: push\n", `line 5: unquoted "on"`},
		{"a time of day, a base-60 number to YAML 1.1", "Resources:\n  A:\n    Type: X\n    Properties: {At: 1:30}\n", `unquoted "1:30" is a base-60 number`},
		{"a leading zero, octal to YAML 1.1", "Resources:\n  A:\n    Type: X\n    Properties: {Mode: 0755}\n", `unquoted "0755" is an octal number`},
		{"a GetAtt without an attribute", "Resources:\n  A:\n    Type: X\n    Properties: {P: !GetAtt B}\n", "needs Resource.Attribute"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestUnsupportedIntrinsicsFailLoudly(t *testing.T) {
	_, err := Resolve(Intrinsic{Fn: "Fn::FindInMap", Arg: []any{"M", "a", "b"}}, fakeResolver{})
	if err == nil || !strings.Contains(err.Error(), "Fn::FindInMap is not supported") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("Resources: {A: {Type: X, Properties: {P: !Sub '${A.B}'}}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tpl, err := Parse(b)
		if err != nil {
			return
		}
		for _, r := range tpl.Resources {
			_, _ = Resolve(r.Properties, fakeResolver{conds: tpl.Conditions})
		}
	})
}
