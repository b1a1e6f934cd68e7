package rollout

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const tgA, tgB = "arn:tg/a", "arn:tg/b"
	newInst := func(id, lifecycle, health string) Instance {
		return Instance{ID: id, Lifecycle: lifecycle, Health: health, LaunchTemplateVersion: "4", LaunchTime: t0}
	}
	oldInst := Instance{ID: "i-old", Lifecycle: "InService", Health: "Healthy", LaunchTemplateVersion: "3", LaunchTime: t0.Add(-time.Hour)}
	healthyIn := func(id string) []TargetState {
		return []TargetState{{TargetGroupARN: tgA, InstanceID: id, State: "healthy"}, {TargetGroupARN: tgB, InstanceID: id, State: "healthy"}}
	}
	base := func() ValidationInput {
		return ValidationInput{
			Group: Group{Desired: 2, TargetGroupARNs: []string{tgA, tgB},
				Instances: []Instance{oldInst, newInst("i-new", "InService", "Healthy")}},
			Targets:     healthyIn("i-new"),
			Alarms:      map[string]string{"web-5xx": "OK"},
			GuardAlarms: []string{"web-5xx"},
			To:          Version{LaunchTemplateID: "lt-1", Number: 4},
			Warmup:      5 * time.Minute,
			Now:         t0.Add(10 * time.Minute),
		}
	}
	cases := []struct {
		name   string
		change func(in *ValidationInput)
		want   Verdict
		reason string
	}{
		{"every new instance in service and healthy in every target group passes", func(*ValidationInput) {}, VerdictPass, "in service and healthy"},
		{"an unhealthy new instance fails validation", func(in *ValidationInput) {
			in.Targets[1].State, in.Targets[1].Reason = "unhealthy", "Target.ResponseCodeMismatch"
		}, VerdictFail, "unhealthy in target group arn:tg/b"},
		{"an unhealthy new instance within its warmup is inconclusive", func(in *ValidationInput) {
			in.Targets[0].State = "unhealthy"
			in.Now = t0.Add(time.Minute)
		}, VerdictInconclusive, "unhealthy"},
		{"a new instance the group marks unhealthy after warmup fails", func(in *ValidationInput) {
			in.Group.Instances[1].Health = "Unhealthy"
		}, VerdictFail, "is Unhealthy in the group"},
		{"a guard alarm in ALARM fails validation", func(in *ValidationInput) { in.Alarms["web-5xx"] = "ALARM" }, VerdictFail, "web-5xx is in ALARM"},
		{"a guard alarm that disappeared fails validation", func(in *ValidationInput) { delete(in.Alarms, "web-5xx") }, VerdictFail, "no longer exists"},
		{"a guard alarm with insufficient data does not fail validation", func(in *ValidationInput) { in.Alarms["web-5xx"] = "INSUFFICIENT_DATA" }, VerdictPass, ""},
		{"a new instance still initial in a target group is inconclusive", func(in *ValidationInput) { in.Targets[0].State = "initial" }, VerdictInconclusive, "initial"},
		{"a new instance still pending is inconclusive", func(in *ValidationInput) { in.Group.Instances[1].Lifecycle = "Pending:Wait" }, VerdictInconclusive, "not yet InService"},
		{"a new instance not yet registered in a target group is inconclusive", func(in *ValidationInput) { in.Targets = in.Targets[:1] }, VerdictInconclusive, "not yet registered"},
		{"no instance on the new version yet is inconclusive", func(in *ValidationInput) {
			in.Group.Instances = []Instance{oldInst}
		}, VerdictInconclusive, "no instance runs"},
		{"an unhealthy old instance does not fail the new version", func(in *ValidationInput) {
			in.Group.Instances[0].Health = "Unhealthy"
		}, VerdictPass, ""},
		{"an alarm beats waiting instances: fail, not inconclusive", func(in *ValidationInput) {
			in.Alarms["web-5xx"] = "ALARM"
			in.Targets[0].State = "initial"
		}, VerdictFail, "ALARM"},
		{"a group with no instance is unvalidated, never a pass", func(in *ValidationInput) {
			in.Group.Desired, in.Group.Instances, in.Targets = 0, nil, nil
		}, VerdictUnvalidated, "no instance (desired capacity 0)"},
		{"a group scaled in to zero, its new instances leaving, is unvalidated", func(in *ValidationInput) {
			in.Group.Desired = 0
			in.Group.Instances[0].Lifecycle, in.Group.Instances[1].Lifecycle = "Terminating", "Terminating"
		}, VerdictUnvalidated, "nothing running launch template version 4"},
		{"a group with no instance still fails on a guard alarm in ALARM", func(in *ValidationInput) {
			in.Group.Desired, in.Group.Instances, in.Targets = 0, nil, nil
			in.Alarms["web-5xx"] = "ALARM"
		}, VerdictFail, "web-5xx is in ALARM"},
		{"a recycle counts only instances launched since the rollout began", func(in *ValidationInput) {
			in.Group.Instances = []Instance{{ID: "i-same-old", Lifecycle: "InService", Health: "Healthy", LaunchTemplateVersion: "4", LaunchTime: t0.Add(-time.Hour)}}
			in.Since = t0
		}, VerdictInconclusive, "no instance runs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := base()
			tc.change(&in)
			v := Validate(in)
			if v.Verdict != tc.want {
				t.Fatalf("verdict = %s (%v), want %s", v.Verdict, v.Reasons, tc.want)
			}
			if tc.reason != "" && !strings.Contains(strings.Join(v.Reasons, " "), tc.reason) {
				t.Errorf("reasons %q do not say %q", v.Reasons, tc.reason)
			}
			for _, r := range v.Reasons {
				if !strings.HasSuffix(r, ".") {
					t.Errorf("reason %q is not a sentence", r)
				}
			}
		})
	}
}
