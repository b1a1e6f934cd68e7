package iam

import (
	"errors"
	"strings"
	"testing"
)

const groupARN = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0f1e:autoScalingGroupName/web"

func mustPolicy(t *testing.T, doc map[string]any) *Policy {
	t.Helper()
	p, err := ParsePolicy("test", doc)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return p
}

func stmt(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func doc(stmts ...map[string]any) map[string]any {
	list := make([]any, len(stmts))
	for i, s := range stmts {
		list[i] = s
	}
	return map[string]any{"Version": "2012-10-17", "Statement": list}
}

func tags(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

// enabledStatement is PinPhoenixGroups with the given condition values.
func enabledStatement(values ...any) map[string]any {
	return stmt("Sid", "PinPhoenixGroups", "Effect", "Allow", "Action", "autoscaling:UpdateAutoScalingGroup",
		"Resource", "arn:aws:autoscaling:*:123456789012:autoScalingGroup:*:autoScalingGroupName/*",
		"Condition", map[string]any{"StringEqualsIgnoreCase": map[string]any{"aws:ResourceTag/phoenix:enabled": values}})
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		policy map[string]any
		req    Request
		want   Decision
	}{
		{"an action no statement names is implicitly denied",
			doc(stmt("Effect", "Allow", "Action", "ec2:DescribeImages", "Resource", "*")),
			Request{Action: "ec2:DescribeInstances", Resource: "*"}, ImplicitDeny},
		{"an action is matched case-insensitively",
			doc(stmt("Effect", "Allow", "Action", "EC2:describeimages", "Resource", "*")),
			Request{Action: "ec2:DescribeImages", Resource: "*"}, Allowed},
		{"a trailing wildcard in an action matches every action with that prefix",
			doc(stmt("Effect", "Allow", "Action", "ec2:Describe*", "Resource", "*")),
			Request{Action: "ec2:DescribeLaunchTemplateVersions", Resource: "*"}, Allowed},
		{"a question mark in an action matches exactly one character",
			doc(stmt("Effect", "Allow", "Action", "states:SendTask?ailure", "Resource", "*")),
			Request{Action: "states:SendTaskFailure", Resource: "*"}, Allowed},
		{"a wildcard in an action does not match another service",
			doc(stmt("Effect", "Allow", "Action", "ec2:*", "Resource", "*")),
			Request{Action: "autoscaling:DescribeAutoScalingGroups", Resource: "*"}, ImplicitDeny},
		{"a resource pattern with wildcards matches the ARN",
			doc(stmt("Effect", "Allow", "Action", "ec2:ModifyLaunchTemplate", "Resource", "arn:aws:ec2:*:123456789012:launch-template/*")),
			Request{Action: "ec2:ModifyLaunchTemplate", Resource: "arn:aws:ec2:us-east-1:123456789012:launch-template/lt-0abc"}, Allowed},
		{"a resource of another account is not matched",
			doc(stmt("Effect", "Allow", "Action", "ec2:ModifyLaunchTemplate", "Resource", "arn:aws:ec2:*:123456789012:launch-template/*")),
			Request{Action: "ec2:ModifyLaunchTemplate", Resource: "arn:aws:ec2:us-east-1:999999999999:launch-template/lt-0abc"}, ImplicitDeny},
		{"resources are matched case-sensitively",
			doc(stmt("Effect", "Allow", "Action", "sns:Publish", "Resource", "arn:aws:sns:us-east-1:123456789012:Topic")),
			Request{Action: "sns:Publish", Resource: "arn:aws:sns:us-east-1:123456789012:topic"}, ImplicitDeny},
		{"an action without resource-level permissions needs Resource *",
			doc(stmt("Effect", "Allow", "Action", "states:SendTaskSuccess", "Resource", "arn:aws:states:*:*:stateMachine:*")),
			Request{Action: "states:SendTaskSuccess", Resource: "*"}, ImplicitDeny},
		{"an explicit Deny wins over an Allow",
			doc(stmt("Effect", "Allow", "Action", "ec2:*", "Resource", "*"),
				stmt("Effect", "Deny", "Action", "ec2:RunInstances", "Resource", "*")),
			Request{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:123456789012:instance/*"}, ExplicitDeny},
		{"NotAction allows every action but the ones it names",
			doc(stmt("Effect", "Allow", "NotAction", "iam:*", "Resource", "*")),
			Request{Action: "iam:PassRole", Resource: "*"}, ImplicitDeny},
		{"NotResource allows every resource but the ones it names",
			doc(stmt("Effect", "Allow", "Action", "sns:Publish", "NotResource", "arn:aws:sns:*:*:secret")),
			Request{Action: "sns:Publish", Resource: "arn:aws:sns:us-east-1:123456789012:public"}, Allowed},
		{"StringEqualsIgnoreCase matches a tag value in another case",
			doc(enabledStatement("true", "yes", "on", "1")),
			Request{Action: "autoscaling:UpdateAutoScalingGroup", Resource: groupARN, Context: tags("aws:ResourceTag/phoenix:enabled", "YES")}, Allowed},
		{"StringEquals does not match a tag value in another case",
			doc(stmt("Effect", "Allow", "Action", "events:PutEvents", "Resource", "*",
				"Condition", map[string]any{"StringEquals": map[string]any{"events:source": "phoenix.rollouts"}})),
			Request{Action: "events:PutEvents", Resource: "*", Context: tags("events:source", "Phoenix.Rollouts")}, ImplicitDeny},
		{"a condition key missing from the request fails the condition",
			doc(enabledStatement("true")),
			Request{Action: "autoscaling:UpdateAutoScalingGroup", Resource: groupARN}, ImplicitDeny},
		{"an IfExists condition holds when its key is missing",
			doc(stmt("Effect", "Allow", "Action", "ec2:RunInstances", "Resource", "*",
				"Condition", map[string]any{"ArnLikeIfExists": map[string]any{"ec2:LaunchTemplate": "arn:aws:ec2:*:*:launch-template/*"}})),
			Request{Action: "ec2:RunInstances", Resource: "*"}, Allowed},
		{"a negated operator holds when its key is missing",
			doc(stmt("Effect", "Allow", "Action", "sns:Publish", "Resource", "*",
				"Condition", map[string]any{"StringNotEquals": map[string]any{"aws:ResourceTag/env": "prod"}})),
			Request{Action: "sns:Publish", Resource: "*"}, Allowed},
		{"a negated operator fails when a value matches",
			doc(stmt("Effect", "Allow", "Action", "sns:Publish", "Resource", "*",
				"Condition", map[string]any{"StringNotEquals": map[string]any{"aws:ResourceTag/env": []any{"prod", "staging"}}})),
			Request{Action: "sns:Publish", Resource: "*", Context: tags("aws:ResourceTag/env", "staging")}, ImplicitDeny},
		{"condition keys are matched case-insensitively",
			doc(enabledStatement("true")),
			Request{Action: "autoscaling:UpdateAutoScalingGroup", Resource: groupARN, Context: tags("AWS:RESOURCETAG/Phoenix:Enabled", "true")}, Allowed},
		{"every condition must hold",
			doc(stmt("Effect", "Allow", "Action", "events:PutEvents", "Resource", "*",
				"Condition", map[string]any{
					"StringEquals": map[string]any{"events:source": "phoenix.rollouts"},
					"StringLike":   map[string]any{"events:detail-type": "Rollout *"}})),
			Request{Action: "events:PutEvents", Resource: "*", Context: tags("events:source", "phoenix.rollouts", "events:detail-type", "Campaign Started")}, ImplicitDeny},
		{"StringLike matches with wildcards",
			doc(stmt("Effect", "Allow", "Action", "events:PutEvents", "Resource", "*",
				"Condition", map[string]any{"StringLike": map[string]any{"events:detail-type": "Rollout *"}})),
			Request{Action: "events:PutEvents", Resource: "*", Context: tags("events:detail-type", "Rollout Finalized")}, Allowed},
		{"ArnLike matches each ARN component as a glob",
			doc(stmt("Effect", "Allow", "Action", "ec2:RunInstances", "Resource", "*",
				"Condition", map[string]any{"ArnLike": map[string]any{"ec2:LaunchTemplate": "arn:aws:ec2:*:123456789012:launch-template/*"}})),
			Request{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:123456789012:instance/*", Context: tags("ec2:LaunchTemplate", "arn:aws:ec2:eu-west-1:123456789012:launch-template/lt-1")}, Allowed},
		{"ArnLike does not let a wildcard span components",
			doc(stmt("Effect", "Allow", "Action", "ec2:RunInstances", "Resource", "*",
				"Condition", map[string]any{"ArnLike": map[string]any{"ec2:LaunchTemplate": "arn:aws:ec2:*:launch-template/*"}})),
			Request{Action: "ec2:RunInstances", Resource: "*", Context: tags("ec2:LaunchTemplate", "arn:aws:ec2:us-east-1:123456789012:launch-template/lt-1")}, ImplicitDeny},
		{"Bool compares the text true",
			doc(stmt("Effect", "Deny", "Action", "*", "Resource", "*",
				"Condition", map[string]any{"Bool": map[string]any{"aws:SecureTransport": false}}),
				stmt("Effect", "Allow", "Action", "*", "Resource", "*")),
			Request{Action: "sns:Publish", Resource: "*", Context: tags("aws:SecureTransport", "false")}, ExplicitDeny},
		{"Null true holds only when the key is absent",
			doc(stmt("Effect", "Allow", "Action", "ec2:CreateTags", "Resource", "*",
				"Condition", map[string]any{"Null": map[string]any{"aws:RequestTag/owner": "true"}})),
			Request{Action: "ec2:CreateTags", Resource: "*", Context: tags("aws:RequestTag/owner", "me")}, ImplicitDeny},
		{"ForAllValues holds when every request tag key is listed",
			doc(stmt("Effect", "Allow", "Action", "ec2:CreateTags", "Resource", "*",
				"Condition", map[string]any{"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []any{"Name", "owner"}}})),
			Request{Action: "ec2:CreateTags", Resource: "*", Context: tags("aws:TagKeys", "Name", "aws:TagKeys", "owner")}, Allowed},
		{"ForAllValues fails when one request tag key is not listed",
			doc(stmt("Effect", "Allow", "Action", "ec2:CreateTags", "Resource", "*",
				"Condition", map[string]any{"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []any{"Name"}}})),
			Request{Action: "ec2:CreateTags", Resource: "*", Context: tags("aws:TagKeys", "Name", "aws:TagKeys", "owner")}, ImplicitDeny},
		{"ForAnyValue holds when one request tag key is listed",
			doc(stmt("Effect", "Allow", "Action", "ec2:CreateTags", "Resource", "*",
				"Condition", map[string]any{"ForAnyValue:StringLike": map[string]any{"aws:TagKeys": "phoenix:*"}})),
			Request{Action: "ec2:CreateTags", Resource: "*", Context: tags("aws:TagKeys", "Name", "aws:TagKeys", "phoenix:enabled")}, Allowed},
		{"ForAnyValue fails when the key is missing",
			doc(stmt("Effect", "Allow", "Action", "ec2:CreateTags", "Resource", "*",
				"Condition", map[string]any{"ForAnyValue:StringLike": map[string]any{"aws:TagKeys": "*"}})),
			Request{Action: "ec2:CreateTags", Resource: "*"}, ImplicitDeny},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Evaluate([]*Policy{mustPolicy(t, tc.policy)}, tc.req)
			if got.Decision != tc.want {
				t.Errorf("got %s, want %s", got.Decision, tc.want)
			}
		})
	}
}

// TestUnquotedYesDefect holds the template's tag-gated group statements as
// the SAM CLI reads them (PyYAML, YAML 1.1: an unquoted yes and on become
// the boolean true) against the quoted fix. IAM compares a boolean
// condition value as the text "true", so under the old reading a group
// tagged phoenix:enabled=yes or on was refused on AWS.
func TestUnquotedYesDefect(t *testing.T) {
	t.Parallel()
	oldReading := mustPolicy(t, doc(enabledStatement(true, "true", true, "1")))
	fixed := mustPolicy(t, doc(enabledStatement("true", "yes", "on", "1")))
	for _, tc := range []struct {
		tag        string
		old, fixed Decision
	}{
		{"yes", ImplicitDeny, Allowed},
		{"on", ImplicitDeny, Allowed},
		{"Yes", ImplicitDeny, Allowed},
		{"true", Allowed, Allowed},
		{"1", Allowed, Allowed},
		{"no", ImplicitDeny, ImplicitDeny},
	} {
		t.Run("a group tagged phoenix:enabled="+tc.tag, func(t *testing.T) {
			t.Parallel()
			req := Request{Action: "autoscaling:UpdateAutoScalingGroup", Resource: groupARN, Context: tags("aws:ResourceTag/phoenix:enabled", tc.tag)}
			if got := Evaluate([]*Policy{oldReading}, req).Decision; got != tc.old {
				t.Errorf("under the YAML 1.1 reading: got %s, want %s", got, tc.old)
			}
			if got := Evaluate([]*Policy{fixed}, req).Decision; got != tc.fixed {
				t.Errorf("under the quoted fix: got %s, want %s", got, tc.fixed)
			}
		})
	}
}

func TestParsePolicyRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		doc  map[string]any
		want string
	}{
		{"an operator the evaluator does not know", doc(stmt("Effect", "Allow", "Action", "*", "Resource", "*",
			"Condition", map[string]any{"DateGreaterThan": map[string]any{"aws:CurrentTime": "2020-01-01"}})), "not supported"},
		{"an effect other than Allow or Deny", doc(stmt("Effect", "allow", "Action", "*", "Resource", "*")), "Allow or Deny"},
		{"a statement without a resource", doc(stmt("Effect", "Allow", "Action", "*")), "Resource"},
		{"a statement with both Action and NotAction", doc(stmt("Effect", "Allow", "Action", "*", "NotAction", "iam:*", "Resource", "*")), "exactly one"},
		{"a principal in an identity-based policy", doc(stmt("Effect", "Allow", "Action", "*", "Resource", "*", "Principal", "*")), "resource-based"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePolicy("p", tc.doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestAccessDeniedMessage(t *testing.T) {
	t.Parallel()
	var roles Roles
	roles.Put("arn:aws:iam::123456789012:role/phoenix-PrepareFunctionRole-ABC", []*Policy{mustPolicy(t, doc(enabledStatement("true")))})
	p := Principal{RoleARN: "arn:aws:iam::123456789012:role/phoenix-PrepareFunctionRole-ABC", Session: "phoenix-PrepareFunction-XYZ"}
	err := roles.Authorize(p, []Request{{Action: "autoscaling:UpdateAutoScalingGroup", Resource: groupARN, Context: tags("aws:ResourceTag/phoenix:enabled", "yes")}})
	want := "User: arn:aws:sts::123456789012:assumed-role/phoenix-PrepareFunctionRole-ABC/phoenix-PrepareFunction-XYZ is not authorized to perform: autoscaling:UpdateAutoScalingGroup on resource: " + groupARN + " because no identity-based policy allows the autoscaling:UpdateAutoScalingGroup action"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	var denied *AccessDenied
	if !errors.As(err, &denied) {
		t.Fatalf("got %T, want *AccessDenied", err)
	}
	dec, derr := DecodeFailure(denied.Encoded())
	if derr != nil || dec["allowed"] != false {
		t.Errorf("encoded message decodes to %v (%v)", dec, derr)
	}
}
