package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// wakeWindow is how far back from the newest rollout a global halt looks
// for rollouts in flight to wake: the longest lease a stack may configure
// (LeaseTTLSeconds). An older rollout, if any, still reverts at its next
// step, which reads the flag.
const wakeWindow = 7 * 24 * time.Hour

// haltDoc is the JSON of `phoenix halt`.
type haltDoc struct {
	Halt haltView `json:"halt"`
	// Woken are the rollouts in flight on the groups the halt covers.
	Woken []wokenView `json:"woken"`
}

// wokenView is one rollout a halt reached.
type wokenView struct {
	RolloutID string           `json:"rolloutId"`
	Group     rollout.GroupKey `json:"target"`
	// Action is "signalled" (a halted signal was recorded and, when
	// Resumed, the parked step woken so the rollout reverts now),
	// "already-reverting", or "preparing" (Prepare will refuse it).
	Action  string `json:"action"`
	Resumed bool   `json:"resumed"`
}

// resumeDoc is the JSON of `phoenix resume`.
type resumeDoc struct {
	// Cleared is the halt that was cleared; absent when none was set.
	Cleared *haltView `json:"cleared,omitempty"`
	// StillHalted is a global halt that still covers the group.
	StillHalted *haltView `json:"stillHalted,omitempty"`
	Scope       string    `json:"scope"`
	Group       string    `json:"group,omitempty"`
}

const haltLong = `Set the halt flag, for one group or (without GROUP) for every group. While it is
set no rollout starts on the groups it covers, and every rollout in flight on them
reverts: the command wakes each one with a halted signal, so it reverts now rather
than at its next refresh event. A revert under way is left to finish.

The halt records who set it (the caller's ARN), when, and --reason, which every
refused or reverted rollout then names. phoenix resume clears it.`

const haltExample = `  phoenix halt web --reason "incident 4711: 5xx on checkout"
  phoenix halt --reason "change freeze until Monday"`

func (a *app) haltCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:               "halt [GROUP] --reason TEXT",
		Short:             "Halt rollouts on a group, or on every group, and revert those in flight",
		Long:              haltLong,
		Example:           haltExample,
		Args:              argsUsage(cobra.MaximumNArgs(1)),
		ValidArgsFunction: a.completeGroups,
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return usage("--reason is required: the people whose rollouts stop will read it")
			}
			group := ""
			if len(args) == 1 {
				group = args[0]
			}
			return a.halt(cmd.Context(), group, strings.TrimSpace(reason))
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required)")
	return cmd
}

func (a *app) halt(ctx context.Context, group, reason string) error {
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	var key rollout.GroupKey
	if group != "" {
		if _, err := s.group(ctx, group); err != nil {
			return err
		}
		key = s.key(group)
	}
	who, err := s.whoAmI(ctx)
	if err != nil {
		return err
	}
	now := a.env.Now()
	h := rollout.Halt{Group: key, Reason: reason, By: who.ARN, At: now}
	if err := s.ledger.SetHalt(ctx, h); err != nil {
		return s.awsError("set the halt flag", err)
	}
	woken, err := a.wakeInFlight(ctx, s, h, now)
	if err != nil {
		return err
	}
	doc := haltDoc{Halt: viewHalt(h), Woken: woken}
	return a.emit(doc, func(w io.Writer) { writeHalt(w, doc, s.region) })
}

// wakeInFlight sends a halted signal to every rollout in flight on the
// groups h covers: the group's, or for a global halt those of every
// rollout the ledger's time index shows unfinished within wakeWindow.
func (a *app) wakeInFlight(ctx context.Context, s *session, h rollout.Halt, now time.Time) ([]wokenView, error) {
	var keys []rollout.GroupKey
	if !h.Global() {
		keys = append(keys, h.Group)
	} else {
		// The window ends at the newest rollout when that is earlier than
		// the local clock: a local cloud's simulated clock may run far
		// behind it, and on AWS this only widens the window.
		newest, err := s.ledger.Recent(ctx, time.Time{}, 1)
		if err != nil {
			return nil, s.awsError("list recent rollouts", err)
		}
		end := now
		if len(newest) == 1 && newest[0].StartedAt.Before(end) {
			end = newest[0].StartedAt
		}
		recent, err := s.ledger.Recent(ctx, end.Add(-wakeWindow), 0)
		if err != nil {
			return nil, s.awsError("list recent rollouts", err)
		}
		for _, r := range recent {
			if !r.Status.Terminal() && !slices.Contains(keys, r.Group) {
				keys = append(keys, r.Group)
			}
		}
	}
	woken := []wokenView{}
	for _, key := range keys {
		active, ok, err := s.ledger.ActiveRollout(ctx, key)
		if err != nil {
			return nil, s.awsError("read the rollout in flight on "+key.Name, err)
		}
		if !ok || active.Status.Terminal() {
			continue
		}
		wv := wokenView{RolloutID: active.ID, Group: key, Action: "signalled"}
		switch active.Status {
		case rollout.StatusReverting:
			wv.Action = "already-reverting"
		default:
			sig := rollout.Signal{Kind: rollout.SignalHalted, RefreshID: active.RefreshID, Reason: h.String(), At: now}
			resumed, preparing, err := s.wake(ctx, active, sig)
			if err != nil {
				return nil, err
			}
			if preparing {
				// Not recorded yet: Prepare reads the flag and refuses.
				wv.Action = "preparing"
			}
			wv.Resumed = resumed
		}
		woken = append(woken, wv)
	}
	return woken, nil
}

func writeHalt(w io.Writer, doc haltDoc, region string) {
	fmt.Fprintln(w, doc.Halt.Message+".")
	if len(doc.Woken) == 0 {
		fmt.Fprintln(w, "No rollout was in flight on the groups it covers.")
		return
	}
	for _, wv := range doc.Woken {
		switch {
		case wv.Action == "already-reverting":
			fmt.Fprintf(w, "Rollout %s on %s is already reverting.\n", wv.RolloutID, groupText(wv.Group, region))
		case wv.Action == "preparing":
			fmt.Fprintf(w, "Rollout %s on %s is being prepared; Prepare will refuse it.\n", wv.RolloutID, groupText(wv.Group, region))
		case wv.Resumed:
			fmt.Fprintf(w, "Rollout %s on %s was woken and reverts now.\n", wv.RolloutID, groupText(wv.Group, region))
		default:
			fmt.Fprintf(w, "Rollout %s on %s reverts at its next step.\n", wv.RolloutID, groupText(wv.Group, region))
		}
	}
}

const resumeLong = `Clear the halt flag of one group, or (without GROUP) the global one. Rollouts
already reverted stay reverted; new ones may start. A group's own halt and the
global halt are separate flags: clearing one leaves the other.`

const resumeExample = `  phoenix resume web
  phoenix resume`

func (a *app) resumeCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "resume [GROUP]",
		Short:             "Clear the halt flag of a group, or the global one",
		Long:              resumeLong,
		Example:           resumeExample,
		Args:              argsUsage(cobra.MaximumNArgs(1)),
		ValidArgsFunction: a.completeGroups,
		RunE: func(cmd *cobra.Command, args []string) error {
			group := ""
			if len(args) == 1 {
				group = args[0]
			}
			return a.resume(cmd.Context(), group)
		},
	}
}

func (a *app) resume(ctx context.Context, group string) error {
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	halts, err := s.ledger.Halts(ctx)
	if err != nil {
		return s.awsError("read halts", err)
	}
	var key rollout.GroupKey
	doc := resumeDoc{Scope: "global"}
	if group != "" {
		key, doc.Scope, doc.Group = s.key(group), "group", group
	}
	for _, h := range halts {
		if h.Group == key {
			hv := viewHalt(h)
			doc.Cleared = &hv
		} else if h.Global() && group != "" {
			hv := viewHalt(h)
			doc.StillHalted = &hv
		}
	}
	if doc.Cleared == nil && group != "" {
		// Nothing to clear: say so, unless the name is a typo.
		if _, err := s.group(ctx, group); err != nil {
			return err
		}
	}
	if err := s.ledger.ClearHalt(ctx, key); err != nil {
		return s.awsError("clear the halt flag", err)
	}
	return a.emit(doc, func(w io.Writer) { writeResume(w, doc) })
}

func writeResume(w io.Writer, doc resumeDoc) {
	scope := "every group"
	if doc.Group != "" {
		scope = doc.Group
	}
	if doc.Cleared == nil {
		fmt.Fprintf(w, "No halt was set for %s.\n", scope)
	} else {
		fmt.Fprintf(w, "Cleared: %s.\n", doc.Cleared.Message)
	}
	if doc.StillHalted != nil {
		fmt.Fprintf(w, "Still halted: %s.\n", doc.StillHalted.Message)
	}
}
