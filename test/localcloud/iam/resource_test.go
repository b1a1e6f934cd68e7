package iam

import (
	"encoding/json"
	"strings"
	"testing"
)

func resourcePolicy(t *testing.T, statements ...map[string]any) *Policy {
	t.Helper()
	list := make([]any, len(statements))
	for i, s := range statements {
		list[i] = s
	}
	p, err := ParseResourcePolicy("key policy", map[string]any{"Version": "2012-10-17", "Statement": list})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAResourcePolicyStatementCoversTheCallersItNames(t *testing.T) {
	t.Parallel()
	const role = "arn:aws:iam::123456789012:role/phoenix-NotifyRole-ABC"
	session := Principal{RoleARN: role, Session: "fn"}
	req := Request{Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:123456789012:key/k"}
	allow := func(principal any) map[string]any {
		return map[string]any{"Effect": "Allow", "Principal": principal, "Action": "kms:*", "Resource": "*"}
	}
	for _, tc := range []struct {
		name       string
		principal  any
		caller     Caller
		want       Decision
		viaAccount bool
	}{
		{"the account root delegates to the account's roles", map[string]any{"AWS": "arn:aws:iam::123456789012:root"}, Caller{Principal: session}, Allowed, true},
		{"a bare account id delegates the same way", map[string]any{"AWS": 123456789012}, Caller{Principal: session}, Allowed, true},
		{"another account's root does not cover the role", map[string]any{"AWS": "arn:aws:iam::210987654321:root"}, Caller{Principal: session}, ImplicitDeny, false},
		{"the role's ARN covers its sessions directly", map[string]any{"AWS": []any{"arn:aws:iam::123456789012:role/other", role}}, Caller{Principal: session}, Allowed, false},
		{"the session's ARN covers that session", map[string]any{"AWS": session.ARN()}, Caller{Principal: session}, Allowed, false},
		{"another session of the role is not that session", map[string]any{"AWS": "arn:aws:sts::123456789012:assumed-role/phoenix-NotifyRole-ABC/other"}, Caller{Principal: session}, ImplicitDeny, false},
		{"* covers everyone, services too", "*", Caller{Service: "cloudwatch.amazonaws.com"}, Allowed, false},
		{"a service principal covers that service", map[string]any{"Service": []any{"events.amazonaws.com", "cloudwatch.amazonaws.com"}}, Caller{Service: "cloudwatch.amazonaws.com"}, Allowed, false},
		{"the account root does not cover a service", map[string]any{"AWS": "arn:aws:iam::123456789012:root"}, Caller{Service: "cloudwatch.amazonaws.com", Account: "123456789012"}, ImplicitDeny, false},
		{"a service principal does not cover a role", map[string]any{"Service": "cloudwatch.amazonaws.com"}, Caller{Principal: session}, ImplicitDeny, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := EvaluateResource(resourcePolicy(t, allow(tc.principal)), tc.caller, req)
			if got.Decision != tc.want || got.ViaAccount != tc.viaAccount {
				t.Errorf("got %s (via account %v), want %s (via account %v)", got.Decision, got.ViaAccount, tc.want, tc.viaAccount)
			}
		})
	}
}

func TestADirectGrantOutranksADelegationAndADenyOutranksBoth(t *testing.T) {
	t.Parallel()
	const role = "arn:aws:iam::123456789012:role/r"
	caller := Caller{Principal: Principal{RoleARN: role, Session: "s"}}
	req := Request{Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:123456789012:key/k"}
	root := map[string]any{"Sid": "Root", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}
	direct := map[string]any{"Sid": "Role", "Effect": "Allow", "Principal": map[string]any{"AWS": role}, "Action": "kms:Decrypt", "Resource": "*"}
	deny := map[string]any{"Sid": "NoDecrypt", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
	if got := EvaluateResource(resourcePolicy(t, root, direct), caller, req); got.Decision != Allowed || got.ViaAccount || got.Statement != "Role" {
		t.Errorf("root and role statements: %+v, want the role's direct grant", got)
	}
	if got := EvaluateResource(resourcePolicy(t, root, direct, deny), caller, req); got.Decision != ExplicitDeny || got.Statement != "NoDecrypt" {
		t.Errorf("with a deny: %+v, want the explicit deny", got)
	}
}

func TestParseResourcePolicyRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		statement map[string]any
		want      string
	}{
		{"a statement without a principal", map[string]any{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}, "no Principal"},
		{"NotPrincipal", map[string]any{"Effect": "Deny", "NotPrincipal": map[string]any{"AWS": "123456789012"}, "Action": "kms:*", "Resource": "*"}, "NotPrincipal"},
		{"a federated principal", map[string]any{"Effect": "Allow", "Principal": map[string]any{"Federated": "cognito-identity.amazonaws.com"}, "Action": "kms:*", "Resource": "*"}, "Federated"},
		{"a string principal other than *", map[string]any{"Effect": "Allow", "Principal": "cloudwatch.amazonaws.com", "Action": "kms:*", "Resource": "*"}, "must be"},
		{"a user, which the local cloud has not", map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::123456789012:user/alice"}, "Action": "kms:*", "Resource": "*"}, "user/alice"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseResourcePolicy("p", map[string]any{"Statement": []any{tc.statement}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

// Any JSON document is either refused by ParseResourcePolicy or evaluable
// for a role and a service without a panic.
func FuzzParseResourcePolicy(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}`)
	f.Add(`{"Statement":{"Effect":"Allow","Principal":{"Service":["cloudwatch.amazonaws.com"]},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}}`)
	f.Add(`{"Statement":[{"Effect":"Deny","Principal":"*","NotAction":"kms:Describe*","Resource":"*"}]}`)
	f.Fuzz(func(t *testing.T, text string) {
		var doc any
		if json.Unmarshal([]byte(text), &doc) != nil {
			return
		}
		p, err := ParseResourcePolicy("fuzz", doc)
		if err != nil {
			return
		}
		req := Request{Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:123456789012:key/k", Context: map[string][]string{"aws:SourceAccount": {"123456789012"}}}
		EvaluateResource(p, Caller{Principal: Principal{RoleARN: "arn:aws:iam::123456789012:role/r", Session: "s"}}, req)
		EvaluateResource(p, Caller{Service: "cloudwatch.amazonaws.com"}, req)
	})
}
