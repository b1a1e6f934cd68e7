package keys

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
)

const (
	acct   = "123456789012"
	region = "us-east-1"
	role   = "arn:aws:iam::123456789012:role/phoenix-NotifyRole-ABC"
)

// adminStatement lets the account administer the key through IAM, as every
// key policy that passes the lockout check does.
const adminStatement = `{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}`

func policy(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

func mustKey(t *testing.T, s *Store, in KeyInput) Key {
	t.Helper()
	k, err := s.CreateKey(region, in)
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return k
}

func wantCode(t *testing.T, err error, code string) *Error {
	t.Helper()
	var ke *Error
	if !errors.As(err, &ke) || ke.Code != code {
		t.Fatalf("got %v, want KMS %s", err, code)
	}
	return ke
}

func identity(t *testing.T, doc map[string]any) []*iam.Policy {
	t.Helper()
	p, err := iam.ParsePolicy("role policy", doc)
	if err != nil {
		t.Fatal(err)
	}
	return []*iam.Policy{p}
}

func allowKMS(resource string) map[string]any {
	return map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": []any{"kms:GenerateDataKey", "kms:Decrypt"}, "Resource": resource}}}
}

// roleCaller is a function's session of role calling through SNS.
func roleCaller(identity []*iam.Policy) Caller {
	return Caller{Caller: iam.Caller{Principal: iam.Principal{RoleARN: role, Session: "notify"}}, Identity: identity,
		Context: map[string][]string{"kms:ViaService": {"sns.us-east-1.amazonaws.com"}, "kms:CallerAccount": {acct}}}
}

// cloudWatch is CloudWatch publishing an alarm of the account.
var cloudWatch = Caller{Caller: iam.Caller{Service: "cloudwatch.amazonaws.com"},
	Context: map[string][]string{"kms:ViaService": {"sns.us-east-1.amazonaws.com"}, "aws:SourceAccount": {acct},
		"aws:SourceArn": {"arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"}}}

func TestAKeyIsFoundByIdARNAliasNameAndAliasARN(t *testing.T) {
	s := New(Options{Seed: 3})
	k := mustKey(t, s, KeyInput{Description: "topic key"})
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(k.ID) {
		t.Fatalf("key id %q is not UUID-shaped", k.ID)
	}
	if want := "arn:aws:kms:us-east-1:123456789012:key/" + k.ID; k.ARN != want {
		t.Fatalf("ARN %s, want %s", k.ARN, want)
	}
	aliasARN, err := s.CreateAlias(region, "alias/phoenix-topic", k.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{k.ID, k.ARN, "alias/phoenix-topic", aliasARN} {
		got, err := s.Resolve(region, id)
		if err != nil || got.ARN != k.ARN {
			t.Errorf("Resolve(%s) = %s, %v; want %s", id, got.ARN, err, k.ARN)
		}
	}
	t.Run("an alias belongs to its region", func(t *testing.T) {
		ke := wantCode(t, func() error { _, err := s.Resolve("eu-west-1", "alias/phoenix-topic"); return err }(), "NotFoundException")
		if ke.Message != "Alias arn:aws:kms:eu-west-1:123456789012:alias/phoenix-topic is not found." {
			t.Errorf("message %q", ke.Message)
		}
	})
	t.Run("an unknown key id is named by its ARN", func(t *testing.T) {
		ke := wantCode(t, func() error { _, err := s.Resolve(region, "0b1e4c2a-1111-4222-8333-444455556666"); return err }(), "NotFoundException")
		if ke.Message != "Key 'arn:aws:kms:us-east-1:123456789012:key/0b1e4c2a-1111-4222-8333-444455556666' does not exist" {
			t.Errorf("message %q", ke.Message)
		}
		if !strings.HasSuffix(ke.ServiceMessage(), "(Service: AWSKMS; Status Code: 400; Error Code: NotFoundException; Request ID: "+ke.RequestID+"; Proxy: null)") {
			t.Errorf("service message %q", ke.ServiceMessage())
		}
	})
}

func TestKeyIdsRepeatWithTheSeed(t *testing.T) {
	ids := func(seed uint64) []string {
		s := New(Options{Seed: seed})
		var out []string
		for range 3 {
			out = append(out, mustKey(t, s, KeyInput{}).ID)
		}
		return out
	}
	a, b, c := ids(5), ids(5), ids(6)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("same seed, different ids: %v and %v", a, b)
	}
	if a[0] == c[0] || a[0] == a[1] {
		t.Errorf("ids do not vary: seed 5 %v, seed 6 %v", a, c)
	}
	t.Run("refusals and the managed key do not shift the ids of later keys", func(t *testing.T) {
		s := New(Options{Seed: 5})
		managed, _ := s.Resolve(region, ManagedSNSAlias)
		if _, err := s.Resolve(region, "alias/nope"); err == nil {
			t.Fatal("an unknown alias resolved")
		}
		if first := mustKey(t, s, KeyInput{}).ID; first != a[0] {
			t.Errorf("first key %s after other requests, %s without", first, a[0])
		}
		again, _ := New(Options{Seed: 5}).Resolve(region, ManagedSNSAlias)
		if again.ID != managed.ID {
			t.Errorf("managed key %s, then %s in a store with the same seed", managed.ID, again.ID)
		}
	})
}

func TestAliasesFollowKMSRules(t *testing.T) {
	s := New(Options{})
	k := mustKey(t, s, KeyInput{})
	if _, err := s.CreateAlias(region, "alias/ops", k.ARN); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, alias, target, code string }{
		{"alias/aws/ is reserved for AWS managed keys", "alias/aws/mine", k.ID, "NotAuthorizedException"},
		{"an alias name is unique in its region", "alias/ops", k.ID, "AlreadyExistsException"},
		{"an alias needs the alias/ prefix", "ops", k.ID, "ValidationException"},
		{"an alias must name an existing key", "alias/other", "0b1e4c2a-1111-4222-8333-444455556666", "NotFoundException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.CreateAlias(region, c.alias, c.target)
			_ = wantCode(t, err, c.code)
		})
	}
}

func TestANewKeyPolicyMustLetTheAccountManageTheKey(t *testing.T) {
	cloudWatchOnly := `{"Sid":"CloudWatch","Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*"}`
	cases := []struct {
		name   string
		in     KeyInput
		code   string
		inText string
	}{
		{"no policy gives KMS's default, which passes", KeyInput{}, "", ""},
		{"the account administering through IAM passes", KeyInput{Policy: policy(adminStatement, cloudWatchOnly)}, "", ""},
		{"a policy only for CloudWatch locks the account out", KeyInput{Policy: policy(cloudWatchOnly)}, "MalformedPolicyDocumentException", "The new key policy will not allow you to update the key policy in the future."},
		{"a conditional grant of PutKeyPolicy does not count", KeyInput{Policy: policy(`{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`)}, "MalformedPolicyDocumentException", "will not allow you to update"},
		{"an explicit deny of PutKeyPolicy locks the account out", KeyInput{Policy: policy(adminStatement, `{"Effect":"Deny","Principal":"*","Action":"kms:PutKeyPolicy","Resource":"*"}`)}, "MalformedPolicyDocumentException", "will not allow you to update"},
		{"the check can be bypassed", KeyInput{Policy: policy(cloudWatchOnly), BypassPolicyLockoutSafetyCheck: true}, "", ""},
		{"a statement without a principal is malformed", KeyInput{Policy: `{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`}, "MalformedPolicyDocumentException", "has no Principal"},
		{"a policy that is not JSON is malformed", KeyInput{Policy: `Statement: []`}, "MalformedPolicyDocumentException", "not valid JSON"},
		{"NotPrincipal is refused rather than guessed", KeyInput{Policy: policy(adminStatement, `{"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"kms:*","Resource":"*"}`)}, "MalformedPolicyDocumentException", "NotPrincipal"},
		{"a user principal is refused: the local cloud has no users", KeyInput{Policy: policy(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"kms:*","Resource":"*"}`)}, "MalformedPolicyDocumentException", "user/alice"},
		{"an unknown key spec is refused", KeyInput{KeySpec: "AES_256"}, "ValidationException", "keySpec"},
		{"the pending window is 7 to 30 days", KeyInput{PendingWindowInDays: 5}, "ValidationException", "PendingWindowInDays"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := New(Options{})
			_, err := s.CreateKey(region, c.in)
			if c.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			ke := wantCode(t, err, c.code)
			if !strings.Contains(ke.Message, c.inText) {
				t.Errorf("message %q lacks %q", ke.Message, c.inText)
			}
			if len(s.Keys(region)) != 0 {
				t.Errorf("a refused key was stored")
			}
		})
	}
}

func TestTheAWSManagedKeyOfSNSAdmitsTheAccountThroughSNSAndNoService(t *testing.T) {
	s := New(Options{})
	k, err := s.Resolve(region, ManagedSNSAlias)
	if err != nil {
		t.Fatal(err)
	}
	if !k.Managed || !strings.Contains(k.Policy, `"Id":"auto-sns-1"`) {
		t.Fatalf("managed key %+v", k)
	}
	if again, _ := s.Resolve(region, ManagedSNSAlias); again.ARN != k.ARN {
		t.Errorf("a second use made another key: %s, then %s", k.ARN, again.ARN)
	}
	t.Run("a role of the account needs no key permission of its own", func(t *testing.T) {
		if err := s.Authorize(k, roleCaller(nil), "kms:GenerateDataKey"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a role calling KMS directly, not through SNS, is refused", func(t *testing.T) {
		c := roleCaller(identity(t, allowKMS("*")))
		delete(c.Context, "kms:ViaService")
		_ = wantCode(t, s.Authorize(k, c, "kms:Decrypt"), "AccessDeniedException")
	})
	t.Run("CloudWatch is refused", func(t *testing.T) {
		ke := wantCode(t, s.Authorize(k, cloudWatch, "kms:GenerateDataKey"), "AccessDeniedException")
		if !ke.Denied.ResourcePolicy {
			t.Errorf("refusal %+v not attributed to the key policy", ke.Denied)
		}
	})
	t.Run("it cannot be disabled or aliased", func(t *testing.T) {
		_ = wantCode(t, s.SetEnabled(region, k.ID, false), "NotAuthorizedException")
		_, err := s.CreateAlias(region, "alias/mine", k.ID)
		_ = wantCode(t, err, "NotAuthorizedException")
	})
}

func TestKeyPolicyAndIdentityPolicyDecideTogether(t *testing.T) {
	cloudWatchStatement := `{"Sid":"CloudWatchAlarmsPublish","Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":["kms:GenerateDataKey*","kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}`
	cases := []struct {
		name     string
		policy   string
		caller   func(keyARN string) Caller
		action   string
		want     string // "" for allowed, else the end of AWS's message
		resource bool   // whether the key policy is what refused
	}{
		{"the account root delegates to IAM, whose policy allows", policy(adminStatement),
			func(arn string) Caller { return roleCaller(identity(t, allowKMS(arn))) }, "kms:GenerateDataKey", "", false},
		{"the account root delegates to IAM, whose policy does not allow", policy(adminStatement),
			func(arn string) Caller {
				return roleCaller(identity(t, allowKMS("arn:aws:kms:us-east-1:123456789012:key/other")))
			}, "kms:GenerateDataKey",
			"because no identity-based policy allows the kms:GenerateDataKey action", false},
		{"a key policy naming the role needs no identity policy", policy(adminStatement, `{"Effect":"Allow","Principal":{"AWS":"`+role+`"},"Action":"kms:GenerateDataKey","Resource":"*"}`),
			func(string) Caller { return roleCaller(nil) }, "kms:GenerateDataKey", "", false},
		{"a key policy that neither names nor delegates refuses whatever IAM allows", policy(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/other"},"Action":"kms:*","Resource":"*"}`),
			func(arn string) Caller { return roleCaller(identity(t, allowKMS("*"))) }, "kms:Decrypt",
			"because no resource-based policy allows the kms:Decrypt action", true},
		{"an explicit deny in the key policy wins", policy(adminStatement, `{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*"}`),
			func(arn string) Caller { return roleCaller(identity(t, allowKMS(arn))) }, "kms:Decrypt",
			"with an explicit deny in a resource-based policy", true},
		{"an explicit deny in the role's policy wins over the key policy", policy(adminStatement, `{"Effect":"Allow","Principal":{"AWS":"`+role+`"},"Action":"kms:*","Resource":"*"}`),
			func(string) Caller {
				return roleCaller(identity(t, map[string]any{"Statement": []any{map[string]any{"Effect": "Deny", "Action": "kms:*", "Resource": "*"}}}))
			}, "kms:GenerateDataKey", "with an explicit deny in an identity-based policy", false},
		{"CloudWatch is admitted by a statement for its service principal", policy(adminStatement, cloudWatchStatement),
			func(string) Caller { return cloudWatch }, "kms:GenerateDataKey", "", false},
		{"the account's root statement does not admit CloudWatch", policy(adminStatement),
			func(string) Caller { return cloudWatch }, "kms:GenerateDataKey", "because no resource-based policy allows the kms:GenerateDataKey action", true},
		{"CloudWatch acting for another account is not admitted", policy(adminStatement, cloudWatchStatement),
			func(string) Caller {
				c := cloudWatch
				c.Context = map[string][]string{"aws:SourceAccount": {"210987654321"}}
				return c
			}, "kms:Decrypt", "because no resource-based policy allows the kms:Decrypt action", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := New(Options{})
			k := mustKey(t, s, KeyInput{Policy: c.policy, BypassPolicyLockoutSafetyCheck: true})
			err := s.Authorize(k, c.caller(k.ARN), c.action)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			ke := wantCode(t, err, "AccessDeniedException")
			if !strings.HasSuffix(ke.Message, c.want) || !strings.Contains(ke.Message, " is not authorized to perform: "+c.action+" on resource: "+k.ARN+" ") {
				t.Errorf("message %q, want it to name %s on %s and end %q", ke.Message, c.action, k.ARN, c.want)
			}
			if ke.Denied == nil || ke.Denied.ResourcePolicy != c.resource {
				t.Errorf("denial %+v, want ResourcePolicy %v", ke.Denied, c.resource)
			}
		})
	}
}

func TestADisabledKeyIsNotUsable(t *testing.T) {
	s := New(Options{})
	k := mustKey(t, s, KeyInput{Disabled: true})
	ke := wantCode(t, s.Usable(k), "DisabledException")
	if ke.Message != k.ARN+" is disabled." {
		t.Errorf("message %q", ke.Message)
	}
	if err := s.SetEnabled(region, k.ID, true); err != nil {
		t.Fatal(err)
	}
	k, _ = s.Resolve(region, k.ID)
	if err := s.Usable(k); err != nil {
		t.Fatalf("enabled key: %v", err)
	}
}
