package rollout

import (
	"errors"
	"testing"
)

func TestNextRevertStep(t *testing.T) {
	from := Version{LaunchTemplateID: "lt-1", Number: 3, ImageID: "ami-old"}
	to := Version{LaunchTemplateID: "lt-1", Number: 4, ImageID: "ami-new"}
	lkg := from
	// on is a group that launches version config and has an instance on
	// each of versions.
	on := func(config string, versions ...string) Group {
		g := Group{LaunchTemplateID: "lt-1", LaunchTemplateVersion: config}
		for i, v := range versions {
			g.Instances = append(g.Instances, Instance{ID: string(rune('a' + i)), Lifecycle: "InService", LaunchTemplateVersion: v})
		}
		return g
	}
	ref := func(status string, eligible bool) *Refresh {
		return &Refresh{ID: "rf-1", Status: status, RollbackEligible: eligible, LaunchTemplateID: "lt-1", Version: "4"}
	}
	cases := []struct {
		name      string
		in        RevertInput
		phase     RevertPhase
		act       bool
		revertErr bool
	}{
		{"revert uses rollback while the refresh runs", RevertInput{Refresh: ref(RefreshInProgress, true), Group: on("3", "3", "4")}, RevertRollback, true, false},
		{"a rollback already asked for is not asked again", RevertInput{Phase: RevertRollback, Refresh: ref(RefreshInProgress, true), Group: on("3", "3", "4")}, RevertRollback, false, false},
		{"a running refresh that cannot be rolled back is cancelled", RevertInput{Refresh: ref(RefreshInProgress, false), Group: on("3", "3", "4")}, RevertCancel, true, false},
		{"a cancel under way is waited for", RevertInput{Phase: RevertCancel, Refresh: ref(RefreshCancelling, false), Group: on("3", "3", "4")}, RevertCancel, false, false},
		{"revert uses a refresh back after the refresh succeeded", RevertInput{Refresh: ref(RefreshSuccessful, false), Group: on("4", "4", "4")}, RevertRefreshBack, true, false},
		{"a cancelled refresh that left new instances is refreshed back", RevertInput{Phase: RevertCancel, Refresh: ref(RefreshCancelled, false), Group: on("3", "3", "4")}, RevertRefreshBack, true, false},
		{"a cancelled refresh that replaced nothing is done", RevertInput{Phase: RevertCancel, Refresh: ref(RefreshCancelled, false), Group: on("3", "3", "3")}, RevertDone, false, false},
		{"a rollback in progress is waited for", RevertInput{Refresh: ref(RefreshRollbackInProgress, false), Group: on("3", "3", "4")}, RevertRollback, false, false},
		{"a successful rollback with the fleet on the old version is done", RevertInput{Phase: RevertRollback, Refresh: ref(RefreshRollbackSuccessful, false), Group: on("3", "3", "3")}, RevertDone, false, false},
		{"a failed rollback is followed by a refresh back", RevertInput{Phase: RevertRollback, Refresh: ref(RefreshRollbackFailed, false), Group: on("3", "3", "4")}, RevertRefreshBack, true, false},
		{"no refresh started means nothing to undo", RevertInput{Group: on("3", "3", "3")}, RevertDone, false, false},
		{"a refresh back still running is waited for", RevertInput{Phase: RevertRefreshBack, Refresh: ref(RefreshSuccessful, false), Back: &Refresh{ID: "rf-2", Status: RefreshInProgress}, Group: on("4", "3", "4")}, RevertRefreshBack, false, false},
		{"a successful refresh back with the fleet on last-known-good is done", RevertInput{Phase: RevertRefreshBack, Back: &Refresh{ID: "rf-2", Status: RefreshSuccessful}, Group: on("3", "3", "3")}, RevertDone, false, false},
		{"a failed refresh back needs a human", RevertInput{Phase: RevertRefreshBack, Back: &Refresh{ID: "rf-2", Status: RefreshFailed, StatusReason: "launch failed"}, Group: on("4", "3", "4")}, "", false, true},
		{"a successful refresh back that left instances behind needs a human", RevertInput{Phase: RevertRefreshBack, Back: &Refresh{ID: "rf-2", Status: RefreshSuccessful}, Group: on("3", "3", "4")}, "", false, true},
		{"an empty group whose refresh succeeded still launches the new version: it is refreshed back, not done", RevertInput{Refresh: ref(RefreshSuccessful, false), Group: on("4")}, RevertRefreshBack, true, false},
		{"an empty group whose refresh was cancelled still launches the old version: done", RevertInput{Phase: RevertCancel, Refresh: ref(RefreshCancelled, false), Group: on("3")}, RevertDone, false, false},
		{"a successful refresh back that left the group launching another version needs a human", RevertInput{Phase: RevertRefreshBack, Back: &Refresh{ID: "rf-2", Status: RefreshSuccessful}, Group: on("4")}, "", false, true},
		{"a lost answer to the refresh back is started again", RevertInput{Phase: RevertRefreshBack, Group: on("4", "4", "4")}, RevertRefreshBack, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := tc.in
			in.Rollout = Rollout{ID: "r1", From: from, To: to}
			in.Target = lkg
			step, err := NextRevertStep(in)
			if tc.revertErr {
				var rf *RevertFailedError
				if !errors.As(err, &rf) {
					t.Fatalf("err = %v, want a *RevertFailedError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			eq(t, step.Phase, tc.phase)
			eq(t, step.Act, tc.act)
			if step.Reason == "" {
				t.Error("no reason given")
			}
		})
	}
}
