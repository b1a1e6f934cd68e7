package publish

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

const (
	acct    = "123456789012"
	foreign = "210987654321"
	region  = "us-east-1"
)

// goodImage is an image every default check accepts.
func goodImage() Image {
	return Image{
		Kind: KindAMI, EventID: "ev-1", EventTime: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Source: "ami-0a1b2c3d4e5f67890",
		Region: region, IDs: map[string]string{region: "ami-0a1b2c3d4e5f67890"}, Name: "web-1.4.0", Owner: acct,
		Architecture: "x86_64", State: "available", CreatedAt: time.Date(2026, 3, 2, 8, 50, 0, 0, time.UTC),
		Tags: map[string]string{TagRole: "web", "phoenix:approved": "true"},
	}
}

func codes(rejs []Rejection) []string {
	var out []string
	for _, r := range rejs {
		out = append(out, r.Code)
	}
	return out
}

func TestProvenanceRules(t *testing.T) {
	t.Parallel()
	base := Policy{Region: region, Account: acct}
	cases := []struct {
		name   string
		policy Policy
		img    func(i *Image)
		want   []string
	}{
		{"the deploying account's own available image passes the default policy", base, func(*Image) {}, nil},
		{"with no allow-list another account's image is refused", base, func(i *Image) { i.Owner = foreign }, []string{CodeForeignOwner}},
		{"an allow-listed account's image passes", Policy{Region: region, Account: acct, AllowedOwners: []string{foreign}}, func(i *Image) { i.Owner = foreign }, nil},
		{"an allow-list replaces the deploying account", Policy{Region: region, Account: acct, AllowedOwners: []string{foreign}}, func(*Image) {}, []string{CodeForeignOwner}},
		{"without an account or allow-list every image is refused", Policy{Region: region}, func(*Image) {}, []string{CodeNoOwnerConfig}},
		{"a pending image is refused", base, func(i *Image) { i.State = "pending" }, []string{CodeNotAvailable}},
		{"a deregistered image is refused", base, func(i *Image) { i.State = "deregistered" }, []string{CodeNotAvailable}},
		{"an image of another region is refused", base, func(i *Image) {
			i.Region = "eu-west-1"
			i.IDs = map[string]string{"eu-west-1": "ami-0a1b2c3d4e5f67890"}
		}, []string{CodeOtherRegion}},
		{"an image with no AMI in the region is refused", base, func(i *Image) { i.IDs = map[string]string{"eu-west-1": "ami-0a1b2c3d4e5f67890"} }, []string{CodeOtherRegion}},
		{"a missing required tag is refused", Policy{Region: region, Account: acct, RequiredTags: map[string]string{"phoenix:scanned": "*"}}, func(*Image) {}, []string{CodeMissingTag}},
		{"a required tag with another value is refused", Policy{Region: region, Account: acct, RequiredTags: map[string]string{"phoenix:approved": "yes"}}, func(*Image) {}, []string{CodeMissingTag}},
		{"a required tag with any value passes under *", Policy{Region: region, Account: acct, RequiredTags: map[string]string{"phoenix:approved": AnyValue}}, func(*Image) {}, nil},
		{"every problem is reported at once", Policy{Region: region, Account: acct, RequiredTags: map[string]string{"a": "*", "b": "*"}}, func(i *Image) {
			i.Owner, i.State = foreign, "failed"
		}, []string{CodeNotAvailable, CodeForeignOwner, CodeMissingTag, CodeMissingTag}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			img := goodImage()
			c.img(&img)
			got := c.policy.Check(img)
			if !slices.Equal(codes(got), c.want) {
				t.Fatalf("codes %v, want %v (%v)", codes(got), c.want, got)
			}
			for _, r := range got {
				if !strings.HasSuffix(r.Reason, ".") || strings.ToUpper(r.Reason[:1]) != r.Reason[:1] {
					t.Errorf("reason %q is not a sentence", r.Reason)
				}
			}
		})
	}
}

func TestPolicyParsersRejectTyposInsteadOfGuessing(t *testing.T) {
	t.Parallel()
	if got, err := ParseOwners(" 123456789012,210987654321 123456789012 "); err != nil || !slices.Equal(got, []string{acct, foreign}) {
		t.Errorf("owners: %v, %v", got, err)
	}
	if got, err := ParseOwners(""); err != nil || got != nil {
		t.Errorf("empty owners: %v, %v; want none (the default policy)", got, err)
	}
	for _, bad := range []string{"12345678901", "1234567890123", "self", "123456789012;x"} {
		if _, err := ParseOwners(bad); err == nil {
			t.Errorf("owners %q accepted", bad)
		}
	}
	tags, err := ParseRequiredTags("phoenix:approved=true, team = platform ,scan=*,")
	if err != nil || len(tags) != 3 || tags["phoenix:approved"] != "true" || tags["team"] != "platform" || tags["scan"] != AnyValue {
		t.Errorf("tags: %v, %v", tags, err)
	}
	if tags, err := ParseRequiredTags("k=v=w"); err != nil || tags["k"] != "v=w" {
		t.Errorf("a value may hold '=': %v, %v", tags, err)
	}
	for _, bad := range []string{"approved", "=true", "a=1,a=2"} {
		if _, err := ParseRequiredTags(bad); err == nil {
			t.Errorf("required tags %q accepted", bad)
		}
	}
}

// group is a candidate with the given tags and instance types.
func group(name string, tags map[string]string, types ...string) Candidate {
	return Candidate{Key: rollout.GroupKey{Region: region, Name: name}, Tags: tags, InstanceTypes: types}
}

func enabledRole(role string, extra ...string) map[string]string {
	tags := map[string]string{rollout.TagEnabled: "true"}
	if role != "" {
		tags[TagRole] = role
	}
	for i := 0; i+1 < len(extra); i += 2 {
		tags[extra[i]] = extra[i+1]
	}
	return tags
}

var archs = map[string][]string{"t3.micro": {"x86_64"}, "m7g.large": {"arm64"}, "m5.large": {"x86_64"}}

func TestTargetingRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		img       func(i *Image)
		cands     []Candidate
		targets   []string
		skipped   []string
		skipMatch string
	}{
		{"an enabled group of the image's role takes it",
			func(*Image) {}, []Candidate{group("web", enabledRole("web"), "t3.micro")}, []string{"web"}, nil, ""},
		{"a group of another role does not",
			func(*Image) {}, []Candidate{group("api", enabledRole("api"), "t3.micro")}, nil, nil, ""},
		{"a group without phoenix:enabled=true does not",
			func(*Image) {}, []Candidate{group("web", map[string]string{TagRole: "web", rollout.TagEnabled: "false"}, "t3.micro"), group("web2", map[string]string{TagRole: "web"}, "t3.micro")}, nil, nil, ""},
		{"an unreadable phoenix:enabled counts as disabled",
			func(*Image) {}, []Candidate{group("web", map[string]string{TagRole: "web", rollout.TagEnabled: "sure"}, "t3.micro")}, nil, nil, ""},
		{"a group without a role takes no published image",
			func(*Image) {}, []Candidate{group("web", enabledRole(""), "t3.micro")}, nil, nil, ""},
		{"an image without a role goes to no group, not even role-less ones",
			func(i *Image) { delete(i.Tags, TagRole) }, []Candidate{group("web", enabledRole(""), "t3.micro"), group("w", enabledRole("web"), "t3.micro")}, nil, nil, ""},
		{"roles compare exactly after trimming spaces",
			func(i *Image) { i.Tags[TagRole] = " web " }, []Candidate{group("a", enabledRole("web"), "t3.micro"), group("b", enabledRole("Web"), "t3.micro")}, []string{"a"}, nil, ""},
		{"a group whose instance types cannot run the architecture is skipped with a reason",
			func(i *Image) { i.Architecture = "arm64" }, []Candidate{group("web", enabledRole("web"), "t3.micro"), group("web-graviton", enabledRole("web"), "m7g.large")},
			[]string{"web-graviton"}, []string{"web"}, "is arm64 but instance type t3.micro"},
		{"one unfit type among a group's overrides skips the group",
			func(*Image) {}, []Candidate{group("web", enabledRole("web"), "m5.large", "m7g.large")}, nil, []string{"web"}, "m7g.large"},
		{"a type the region does not offer skips the group",
			func(*Image) {}, []Candidate{group("web", enabledRole("web"), "z9.huge")}, nil, []string{"web"}, "not offered"},
		{"a group whose types are unknown is skipped",
			func(*Image) {}, []Candidate{group("web", enabledRole("web"))}, nil, []string{"web"}, "cannot tell which instance types"},
		{"a launch configuration group is skipped",
			func(*Image) {}, []Candidate{{Key: rollout.GroupKey{Region: region, Name: "old"}, Tags: enabledRole("web"), InstanceTypes: []string{"t3.micro"}, LaunchConfiguration: true}},
			nil, []string{"old"}, "launch configuration"},
		{"an unreadable wave skips the group rather than guess its wave",
			func(*Image) {}, []Candidate{group("web", enabledRole("web", TagWave, "first"), "t3.micro")}, nil, []string{"web"}, "phoenix:wave"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			img := goodImage()
			c.img(&img)
			targets, skips := Targets(img, c.cands, archs)
			var gotT, gotS []string
			for _, tg := range targets {
				gotT = append(gotT, tg.Group.Name)
			}
			for _, s := range skips {
				gotS = append(gotS, s.Group.Name)
				if !strings.Contains(s.Reason, c.skipMatch) {
					t.Errorf("skip reason %q does not mention %q", s.Reason, c.skipMatch)
				}
			}
			if !slices.Equal(gotT, c.targets) || !slices.Equal(gotS, c.skipped) {
				t.Fatalf("targets %v skips %v, want %v and %v", gotT, gotS, c.targets, c.skipped)
			}
		})
	}
}

func TestWaveRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		tags map[string]string
		want int
		err  bool
	}{
		{"a group without phoenix:wave rolls in wave 1, after the canaries", map[string]string{}, DefaultWave, false},
		{"wave 0 is the canary wave", map[string]string{TagWave: "0"}, 0, false},
		{"spaces around the number are allowed", map[string]string{TagWave: " 3 "}, 3, false},
		{"wave 9 is the last", map[string]string{TagWave: "9"}, 9, false},
		{"wave 10 is out of bounds", map[string]string{TagWave: "10"}, 0, true},
		{"a negative wave is out of bounds", map[string]string{TagWave: "-1"}, 0, true},
		{"a word is not a wave", map[string]string{TagWave: "canary"}, 0, true},
		{"an empty value is not a wave", map[string]string{TagWave: ""}, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseWave(c.tags)
			if (err != nil) != c.err || got != c.want {
				t.Fatalf("got %d, %v; want %d, error %v", got, err, c.want, c.err)
			}
		})
	}
}

func key(name string) rollout.GroupKey { return rollout.GroupKey{Region: region, Name: name} }

func TestPlanRules(t *testing.T) {
	t.Parallel()
	targets := []Target{{Group: key("w1-b"), Wave: 1}, {Group: key("w2-a"), Wave: 2}, {Group: key("canary"), Wave: 0}, {Group: key("w1-a"), Wave: 1}, {Group: key("w1-c"), Wave: 1}, {Group: key("w5"), Wave: 5}}
	t.Run("waves run lowest first with groups by name, and a batch never mixes waves", func(t *testing.T) {
		t.Parallel()
		p := PlanWaves(targets, 2)
		var got []string
		for _, b := range p.Batches {
			var names []string
			for _, g := range b.Groups {
				names = append(names, g.Name)
			}
			got = append(got, strings.Join(names, "+")+"@"+string(rune('0'+b.Wave)))
		}
		want := []string{"canary@0", "w1-a+w1-b@1", "w1-c@1", "w2-a@2", "w5@5"}
		if !slices.Equal(got, want) {
			t.Fatalf("batches %v, want %v", got, want)
		}
		if p.Len() != len(targets) || len(p.Waves) != 4 {
			t.Fatalf("plan has %d groups in %d waves", p.Len(), len(p.Waves))
		}
		for i, b := range p.Batches {
			if b.Index != i {
				t.Errorf("batch %d has index %d", i, b.Index)
			}
		}
	})
	t.Run("max in flight defaults to 5 and is capped at 40", func(t *testing.T) {
		t.Parallel()
		if ClampInFlight(0) != DefaultMaxInFlight || ClampInFlight(-3) != DefaultMaxInFlight || ClampInFlight(500) != MaxMaxInFlight || ClampInFlight(7) != 7 {
			t.Fatal("ClampInFlight does not keep its bounds")
		}
		var many []Target
		for i := range 12 {
			many = append(many, Target{Group: key(string(rune('a' + i))), Wave: 1})
		}
		p := PlanWaves(many, 0)
		if len(p.Batches) != 3 || len(p.Batches[0].Groups) != 5 || len(p.Batches[2].Groups) != 2 {
			t.Fatalf("12 groups at the default in-flight made batches %+v", p.Batches)
		}
	})
	t.Run("no targets make an empty plan", func(t *testing.T) {
		t.Parallel()
		if p := PlanWaves(nil, 3); p.Len() != 0 || len(p.Batches) != 0 {
			t.Fatalf("plan %+v", p)
		}
	})
}

func TestExecutionNameRules(t *testing.T) {
	t.Parallel()
	web := key("web")
	t.Run("names are deterministic", func(t *testing.T) {
		t.Parallel()
		first, second := RolloutName("ev-1", web), RolloutName("ev-1", key("web"))
		if first != second || CampaignName(region, "ami-0a1b2c3d") != CampaignName("us-east-1", "ami-0a1b2c3d") {
			t.Fatal("the same input named two executions")
		}
	})
	t.Run("names are valid Step Functions names, even for long and odd input", func(t *testing.T) {
		t.Parallel()
		odd := []rollout.GroupKey{web, key(strings.Repeat("g", 255)), key("web blue#1/ünïcode"), {}}
		for _, g := range odd {
			for _, n := range []string{RolloutName(strings.Repeat("e", 256), g), RolloutName("", g), CampaignName(g.Region, g.Name)} {
				if !rollout.ValidExecutionName(n) {
					t.Errorf("invalid name %q (%d characters)", n, len(n))
				}
			}
		}
	})
	t.Run("inputs that read alike still get distinct names", func(t *testing.T) {
		t.Parallel()
		pairs := [][2]string{
			{RolloutName("ev-1", key("web.blue")), RolloutName("ev-1", key("web_blue"))},
			{RolloutName("ev-1", key("web")), RolloutName("ev-2", key("web"))},
			{RolloutName("a-b", key("c")), RolloutName("a", key("b-c"))},
			{RolloutName("ev-1", rollout.GroupKey{Region: "us-east-1", Name: "web"}), RolloutName("ev-1", rollout.GroupKey{Region: "us-east-2", Name: "web"})},
			{RolloutName("ev", key(strings.Repeat("x", 100)+"1")), RolloutName("ev", key(strings.Repeat("x", 100)+"2"))},
			{CampaignName(region, "ami-0a1b2c3d"), CampaignName("us-west-2", "ami-0a1b2c3d")},
		}
		for _, p := range pairs {
			if p[0] == p[1] {
				t.Errorf("two inputs both named %q", p[0])
			}
		}
	})
	t.Run("a rollout name shows its group for people", func(t *testing.T) {
		t.Parallel()
		if n := RolloutName("ev-1", key("web-blue")); !strings.HasPrefix(n, "img-web-blue-") {
			t.Fatalf("name %q hides the group", n)
		}
	})
	t.Run("names outside the allowed characters are invalid", func(t *testing.T) {
		t.Parallel()
		for _, n := range []string{"", "a b", "a:b", strings.Repeat("a", 81), "ä"} {
			if rollout.ValidExecutionName(n) {
				t.Errorf("%q passed as valid", n)
			}
		}
	})
}
