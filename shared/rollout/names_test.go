package rollout

import (
	"strings"
	"testing"
)

func TestExecutionName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("g", 255)
	t.Run("names are the ones Phoenix gave before the move, so exactly-once holds across an upgrade", func(t *testing.T) {
		t.Parallel()
		// Computed with shared/publish's executionName before it moved
		// here: a changed name would let a redelivered event start a
		// second execution after a deploy.
		golden := []struct {
			got, want string
		}{
			{ExecutionName("img", "web", "rollout", "ev-1", "us-east-1", "web"), "img-web-b5ecc123b45323d9fda5d43f"},
			{ExecutionName("cmp", "ami-0a1b2c3d", "campaign", "us-east-1", "ami-0a1b2c3d"), "cmp-ami-0a1b2c3d-2a6422bc634cb46cdf9e8ce0"},
			{ExecutionName("img", long, "rollout", "e", "us-east-1", long), "img-" + strings.Repeat("g", 51) + "-83a744919ca6e5bcced4036d"},
			{ExecutionName("img", "", "rollout"), "img-fd77140e94659fab63273eab"},
			{ExecutionName("img", "web blue#1/ünïcode", "x"), "img-web_blue_1__n_code-028f0df5b8596fbcd10c9720"},
		}
		for _, g := range golden {
			if g.got != g.want {
				t.Errorf("got %q, want %q", g.got, g.want)
			}
		}
	})
	t.Run("names are valid Step Functions names whatever the input", func(t *testing.T) {
		t.Parallel()
		for _, n := range []string{
			ExecutionName("rcy", long, "a", long),
			ExecutionName("", "", ""),
			ExecutionName("a very long prefix:with colons", "x", "y"),
			ExecutionName("rcy", "名前 with spaces/and#hashes"),
		} {
			if !ValidExecutionName(n) {
				t.Errorf("invalid name %q (%d characters)", n, len(n))
			}
		}
	})
	t.Run("parts that concatenate alike still name distinct executions", func(t *testing.T) {
		t.Parallel()
		pairs := [][2]string{
			{ExecutionName("rcy", "web", "a-b", "c"), ExecutionName("rcy", "web", "a", "b-c")},
			{ExecutionName("rcy", "web", "ab"), ExecutionName("rcy", "web", "a", "b")},
			{ExecutionName("rcy", "web.blue", "web.blue"), ExecutionName("rcy", "web_blue", "web_blue")},
		}
		for _, p := range pairs {
			if p[0] == p[1] {
				t.Errorf("two inputs both named %q", p[0])
			}
		}
	})
	t.Run("the readable part and the prefix show", func(t *testing.T) {
		t.Parallel()
		if n := ExecutionName("rcy", "web-blue", "x"); !strings.HasPrefix(n, "rcy-web-blue-") {
			t.Fatalf("name %q hides its prefix or group", n)
		}
	})
	t.Run("names outside the allowed characters are invalid", func(t *testing.T) {
		t.Parallel()
		for _, n := range []string{"", "a b", "a:b", strings.Repeat("a", 81), "ä"} {
			if ValidExecutionName(n) {
				t.Errorf("%q passed as valid", n)
			}
		}
	})
}

func FuzzExecutionName(f *testing.F) {
	f.Add("rcy", "web", "ev-1", "us-east-1")
	f.Add("", "", "", "")
	f.Add("ü", "名前 with spaces/and#hashes", "x", "")
	f.Fuzz(func(t *testing.T, prefix, readable, a, b string) {
		if n := ExecutionName(prefix, readable, a, b); !ValidExecutionName(n) {
			t.Fatalf("invalid execution name %q from (%q, %q, %q, %q)", n, prefix, readable, a, b)
		}
	})
}
