package steps

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The fleet returns an image EC2 still lists whatever its state, and leaves
// out instance types the region does not offer (shared/fleet's package
// doc); Prepare refuses both, saying why, and changes nothing.
func TestPrepareRefusesWhatTheFleetReadsAsUnusable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name   string
		change func(w *world, st *State)
		reason string
	}{
		{"an image deregistered since it was published is refused as deregistered", func(w *world, _ *State) {
			w.fleet.PutImage("eu-west-1", rollout.Image{ID: "ami-new", State: "deregistered", Architecture: "arm64"})
		}, "image ami-new is deregistered, not available"},
		{"an image EC2 no longer shows is refused as missing", func(_ *world, st *State) {
			st.Request.ImageID = "ami-gone"
		}, "image ami-gone does not exist in eu-west-1"},
		{"an instance type the region does not offer is refused naming it", func(w *world, _ *State) {
			w.fleet.PutVersion(rollout.TemplateVersion{LaunchTemplateID: "lt-1", Number: 3, ImageID: "ami-old", InstanceType: "z9.huge"})
		}, "instance type z9.huge is not offered in eu-west-1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			st := imageRequest()
			tc.change(w, &st)
			_, err := w.deps.Prepare(ctx, at(st, t0))
			var pe *rollout.PreflightError
			errorAs(t, err, &pe)
			if !strings.Contains(pe.Reason, tc.reason) {
				t.Errorf("reason = %q, want it to say %q", pe.Reason, tc.reason)
			}
			if c := w.fleet.Changes(); len(c) != 0 {
				t.Errorf("changes made: %v", c)
			}
			if w.status(t) != rollout.StatusRefused || w.leased(t) {
				t.Errorf("status %s, leased %v; want refused and released", w.status(t), w.leased(t))
			}
			if !slices.Equal(w.notes.DetailTypes(), []string{DetailRefused}) {
				t.Errorf("notifications = %v", w.notes.DetailTypes())
			}
		})
	}
}
