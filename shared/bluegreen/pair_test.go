package bluegreen

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

const (
	tgBlue  = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web-blue/1"
	tgGreen = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web-green/2"
	tgOther = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/other/3"
	lsn     = "arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/web/4/5"
)

func member(name, tg string, desired int) rollout.Group {
	g := rollout.Group{Key: rollout.GroupKey{Region: "us-east-1", Name: name}, LaunchTemplateID: "lt-1", LaunchTemplateVersion: "3",
		Desired: desired, TargetGroupARNs: []string{tg},
		Tags: map[string]string{TagStrategy: "blue-green", TagPair: "web", TagRole: "web", rollout.TagEnabled: "true"}}
	for i := 0; i < desired; i++ {
		g.Instances = append(g.Instances, rollout.Instance{ID: name + "-i", Lifecycle: "InService"})
	}
	return g
}

// declared is a valid pair: web-blue live at 100, web-green idle at 0.
func declared() Pair {
	return Pair{Name: "web", Groups: []rollout.Group{member("web-green", tgGreen, 0), member("web-blue", tgBlue, 4)},
		Forwards: []Forward{{ListenerARN: lsn, Groups: []WeightedTargetGroup{{tgBlue, 100}, {tgGreen, 0}}}}}
}

func TestAPairDeclaredAsDocumentedIsPrepared(t *testing.T) {
	p, err := Prepare(declared())
	if err != nil {
		t.Fatal(err)
	}
	if p.Live.Name != "web-blue" || p.Idle.Name != "web-green" || p.Live.TargetGroup != tgBlue || p.Idle.TargetGroup != tgGreen ||
		p.Role != "web" || p.Forward.Owner() != lsn {
		t.Errorf("prepared %+v", p)
	}
	// The colours swap when the weight is on the other group.
	d := declared()
	d.Groups = []rollout.Group{member("web-green", tgGreen, 4), member("web-blue", tgBlue, 0)}
	d.Forwards[0].Groups = []WeightedTargetGroup{{tgBlue, 0}, {tgGreen, 100}}
	if p, err := Prepare(d); err != nil || p.Live.Name != "web-green" || p.Idle.Name != "web-blue" {
		t.Errorf("swapped: %+v, %v", p, err)
	}
	// A rule's action serves as well as a listener's, and other target
	// groups may sit in the action at weight 0.
	d = declared()
	d.Forwards = []Forward{{RuleARN: lsn + "/rule/9", Groups: []WeightedTargetGroup{{tgOther, 0}, {tgBlue, 1}, {tgGreen, 0}}}}
	if p, err := Prepare(d); err != nil || p.Forward.Owner() != lsn+"/rule/9" || p.Live.Name != "web-blue" {
		t.Errorf("a rule's action: %+v, %v", p, err)
	}
}

func TestAnIdleGroupWhoseInstancesAreLeavingIsPrepared(t *testing.T) {
	// The previous rollout scaled it to zero a moment ago.
	p := declared()
	p.Groups[0].Instances = []rollout.Instance{{ID: "i-1", Lifecycle: "Terminating"}, {ID: "i-2", Lifecycle: "Terminating:Wait"}, {ID: "i-3", Lifecycle: "Detaching"}}
	if got, err := Prepare(p); err != nil || got.Idle.Name != "web-green" {
		t.Fatalf("Prepare = %+v, %v", got, err)
	}
	p.Groups[0].Instances = append(p.Groups[0].Instances, rollout.Instance{ID: "i-4", Lifecycle: "Pending"})
	if _, err := Prepare(p); err == nil || !strings.Contains(err.Error(), "still has 1 instances") {
		t.Fatalf("an idle group with a pending instance: %v", err)
	}
}

func TestEachRefusalSaysWhyAndNamesThePair(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Pair)
		want string
	}{
		{"one group", func(p *Pair) { p.Groups = p.Groups[:1] }, "exactly two groups; 1"},
		{"three groups", func(p *Pair) { p.Groups = append(p.Groups, member("web-red", tgOther, 0)) }, "exactly two groups; 3"},
		{"a rolling group", func(p *Pair) { p.Groups[0].Tags[TagStrategy] = "rolling" }, "is not tagged phoenix:strategy=blue-green"},
		{"a typo in the strategy", func(p *Pair) { p.Groups[0].Tags[TagStrategy] = "blue/green" }, `phoenix:strategy is "blue/green"`},
		{"another pair's group", func(p *Pair) { p.Groups[1].Tags[TagPair] = "api" }, `has phoenix:pair="api"`},
		{"a group Phoenix may not touch", func(p *Pair) { p.Groups[1].Tags[rollout.TagEnabled] = "false" }, "web-blue is not tagged phoenix:enabled=true"},
		{"different roles", func(p *Pair) { p.Groups[1].Tags[TagRole] = "api" }, "different roles"},
		{"different templates", func(p *Pair) { p.Groups[1].LaunchTemplateID = "lt-2" }, "different launch templates"},
		{"a launch configuration", func(p *Pair) { p.Groups[0].LaunchTemplateID, p.Groups[0].LaunchConfigurationName = "", "web-lc" },
			"uses a launch configuration"},
		{"two target groups on one group", func(p *Pair) { p.Groups[1].TargetGroupARNs = []string{tgBlue, tgOther} }, "attached to 2 target groups"},
		{"one target group for both", func(p *Pair) { p.Groups[0].TargetGroupARNs = []string{tgBlue} }, "both groups are attached to target group"},
		{"no action with both", func(p *Pair) { p.Forwards[0].Groups = []WeightedTargetGroup{{tgBlue, 100}} }, "no listener or rule forwards to both"},
		{"two actions with both", func(p *Pair) {
			p.Forwards = append(p.Forwards, Forward{RuleARN: "rule/2", Groups: p.Forwards[0].Groups})
		},
			"2 actions forward to both target groups"},
		{"six target groups", func(p *Pair) {
			for i := 0; i < 4; i++ {
				p.Forwards[0].Groups = append(p.Forwards[0].Groups, WeightedTargetGroup{tgOther + string(rune('a'+i)), 0})
			}
		}, "names 6 target groups; AWS allows at most 5"},
		{"traffic split at the start", func(p *Pair) { p.Forwards[0].Groups = []WeightedTargetGroup{{tgBlue, 90}, {tgGreen, 10}} }, "weights must be all on one group"},
		{"no traffic at all", func(p *Pair) { p.Forwards[0].Groups = []WeightedTargetGroup{{tgBlue, 0}, {tgGreen, 0}} }, "weights must be all on one group"},
		{"a third group serving", func(p *Pair) { p.Forwards[0].Groups = append(p.Forwards[0].Groups, WeightedTargetGroup{tgOther, 5}) },
			"has weight 5; only the pair's may serve"},
		{"an idle group with instances", func(p *Pair) { p.Groups[0] = member("web-green", tgGreen, 2) }, "idle group web-green still has 2 instances"},
		{"an idle group scaling out", func(p *Pair) { p.Groups[0].Desired = 1 }, "idle group web-green still has 0 instances (desired 1)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := declared()
			tc.edit(&p)
			_, err := Prepare(p)
			var re *RefusalError
			if !errors.As(err, &re) || re.Pair != "web" || !strings.Contains(re.Reason, tc.want) {
				t.Errorf("got %v, want a refusal saying %q", err, tc.want)
			}
		})
	}
}

func TestStepsAndWeights(t *testing.T) {
	for in, want := range map[string][]int{"": {10, 50, 100}, "100": {100}, "5, 25,50 100": {5, 25, 50, 100}, "1;100": {1, 100}, "10%,100%": {10, 100}} {
		got, err := ParseSteps(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseSteps(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"10,50", "0,100", "50,10,100", "10,10,100", "ten,100", "101", "1,2,3,4,5,6,7,8,9,10,100"} {
		if got, err := ParseSteps(bad); err == nil {
			t.Errorf("ParseSteps(%q) = %v, want an error", bad, got)
		}
	}
	f := Forward{ListenerARN: lsn, Groups: []WeightedTargetGroup{{tgOther, 0}, {tgBlue, 100}, {tgGreen, 0}}}
	w := Weights(f, tgBlue, tgGreen, 10)
	if !slices.Equal(w, []WeightedTargetGroup{{tgOther, 0}, {tgBlue, 90}, {tgGreen, 10}}) {
		t.Errorf("10%%: %v", w)
	}
	f.Groups = w
	if s := Share(f, tgGreen); s != 10 {
		t.Errorf("share %v", s)
	}
	// Back in one call: everything on the old group.
	if w := Weights(f, tgGreen, tgBlue, 100); !slices.Equal(w, []WeightedTargetGroup{{tgOther, 0}, {tgBlue, 100}, {tgGreen, 0}}) {
		t.Errorf("rollback: %v", w)
	}
	if ScaleDownAllowed(50, 10, 4) || ScaleDownAllowed(100, 3, 4) || !ScaleDownAllowed(100, 4, 4) {
		t.Error("the old group may be scaled down only when the new one serves everything with the floor healthy")
	}
}

func TestOnePerPairKeepsTheFirstGroupOfEachPair(t *testing.T) {
	bg := func(region, name, pair string) rollout.Group {
		return rollout.Group{Key: rollout.GroupKey{Region: region, Name: name}, Tags: map[string]string{TagStrategy: StrategyBlueGreen, TagPair: pair}}
	}
	rolling := rollout.Group{Key: rollout.GroupKey{Region: "us-east-1", Name: "api"}, Tags: map[string]string{TagPair: "web"}}
	in := []rollout.Group{
		bg("us-east-1", "web-green", "web"), rolling, bg("us-east-1", "web-blue", "web"),
		bg("eu-west-1", "web-green", "web"), // the same pair name in another region is another pair
		bg("us-east-1", "lone", ""),         // no pair name: kept for Prepare to refuse
	}
	var got []string
	for _, g := range OnePerPair(in) {
		got = append(got, g.Key.String())
	}
	want := []string{"us-east-1/api", "us-east-1/web-blue", "eu-west-1/web-green", "us-east-1/lone"}
	if !slices.Equal(got, want) {
		t.Fatalf("OnePerPair = %v, want %v", got, want)
	}
}
