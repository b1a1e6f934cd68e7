package publish

import (
	"slices"
	"testing"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func TestACandidateIsTheGroupAsTargetingReadsIt(t *testing.T) {
	t.Parallel()
	key := rollout.GroupKey{Region: "us-east-1", Name: "web"}
	tags := map[string]string{rollout.TagEnabled: "true", TagRole: "web"}
	onTemplate := rollout.Group{Key: key, Tags: tags, LaunchTemplateID: "lt-1", LaunchTemplateVersion: "$Default"}
	cases := []struct {
		name         string
		group        rollout.Group
		templateType string
		needs        bool
		types        []string
		lc           bool
	}{
		{"a template group launches its template version's type", onTemplate, "t3.micro", true, []string{"t3.micro"}, false},
		{"a template that names no type, or is gone, leaves the group without types", onTemplate, "", true, nil, false},
		{"overrides decide, sorted and once each, and the template is not read", func() rollout.Group {
			g := onTemplate
			g.MixedInstances, g.InstanceTypes = true, []string{"m7g.large", "m5.large", "m7g.large"}
			return g
		}(), "", false, []string{"m5.large", "m7g.large"}, false},
		{"attribute-based overrides launch types Phoenix cannot tell", func() rollout.Group {
			g := onTemplate
			g.MixedInstances, g.AttributeBased, g.InstanceTypes = true, true, []string{"m5.large"}
			return g
		}(), "t3.micro", false, nil, false},
		{"a launch configuration group is marked and has no types", rollout.Group{Key: key, Tags: tags, LaunchConfigurationName: "web-lc"}, "", false, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := NeedsTemplateType(tc.group); got != tc.needs {
				t.Errorf("NeedsTemplateType = %v, want %v", got, tc.needs)
			}
			c := CandidateOf(tc.group, tc.templateType)
			if c.Key != key || c.Tags[TagRole] != "web" || c.LaunchConfiguration != tc.lc || !slices.Equal(c.InstanceTypes, tc.types) {
				t.Errorf("got %+v, want types %v, launch configuration %v", c, tc.types, tc.lc)
			}
		})
	}
	t.Run("the candidate's tags are its own copy", func(t *testing.T) {
		t.Parallel()
		g := onTemplate
		g.Tags = map[string]string{TagRole: "web"}
		c := CandidateOf(g, "t3.micro")
		c.Tags[TagRole] = "db"
		if g.Tags[TagRole] != "web" {
			t.Error("changing the candidate's tags changed the group's")
		}
	})
}
