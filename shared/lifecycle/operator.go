package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Plan reads one region as a run would and returns its plan, writing
// nothing: what `phoenix images plan` shows. The plan is made with now as
// the run's time, so it says what a run at now would do.
func (s Service) Plan(ctx context.Context, now time.Time, region string) (Plan, error) {
	snap, err := s.snapshot(ctx, now, region)
	if err != nil {
		return Plan{}, err
	}
	return Decide(snap, s.Policy)
}

// ErrNotPhoenixImage is Restore's answer for an image that is not this
// account's: Phoenix restores only images it may stage.
var ErrNotPhoenixImage = errors.New("not an image of this account")

// ErrLaterRecord is Restore's answer when the ledger kept a record written
// after the restore's time.
var ErrLaterRecord = errors.New("the ledger holds a later record")

// Restore undoes a deprecation or a disable of one image by hand (`phoenix
// images restore AMI`): it enables the image, removes its deprecation, and
// clears the ledger's stages and its out-of-use time, so that the image
// waits the whole of DeprecateAfter again before a run deprecates it, if
// it is still out of use then; reason, when given, is logged with the
// rule. It acts whatever the stack's
// ImageLifecycle mode (restoring never retires anything) and logs the
// action with run.By. Restoring an image that is neither deprecated nor
// disabled changes nothing in EC2 and is logged as skipped. Errors:
// *rollout.NotFoundError for an image that does not exist (deregistered
// already), ErrNotPhoenixImage, ErrLaterRecord, *rollout.TransientError.
func (s Service) Restore(ctx context.Context, run Run, region, imageID, reason string) (LogEntry, error) {
	entry := LogEntry{Action: ActionRestore, Target: imageID, Rule: "restored by hand (phoenix images restore)"}
	if reason = strings.TrimSpace(reason); reason != "" {
		entry.Rule += ": " + reason
	}
	img, err := s.Images.OwnImage(ctx, region, imageID)
	if err != nil {
		return entry, err
	}
	if img.Owner != s.Account {
		return entry, fmt.Errorf("image %s is owned by %s: %w", imageID, img.Owner, ErrNotPhoenixImage)
	}
	records, err := s.Ledger.ImageRecords(ctx, region)
	if err != nil {
		return entry, err
	}
	t := records[imageID]
	staged := img.State == "disabled" || !img.DeprecatedAt.IsZero()
	switch {
	case !staged && !t.Staged() && t.UnusedSince.IsZero():
		entry.Result = ResultSkipped("neither deprecated nor disabled")
	case staged:
		if err := s.Images.Restore(ctx, region, imageID); err != nil {
			return entry, err
		}
		entry.Result = ResultDone
	default:
		entry.Result = ResultDone
	}
	if entry.Result == ResultDone {
		t.Deprecated, t.DisabledAt, t.UnusedSince = false, time.Time{}, time.Time{}
		if err := s.Ledger.PutImageRecord(ctx, region, imageID, t, run.ID, run.Now); err != nil {
			return entry, err
		}
		// The ledger keeps a later night's record over an earlier write (a
		// clock behind the night's): then the next night would stage the
		// image again at once, so say so rather than report a restore that
		// does not hold.
		after, err := s.Ledger.ImageRecords(ctx, region)
		if err != nil {
			return entry, err
		}
		if a := after[imageID]; a.Staged() || !a.UnusedSince.IsZero() {
			return entry, fmt.Errorf("image %s is enabled again, but the ledger holds a record written after %s (is this clock behind?); "+
				"the next night would stage it again: run the restore again: %w", imageID, run.Now.UTC().Format(time.RFC3339), ErrLaterRecord)
		}
	}
	logged := []LogEntry{entry}
	err = s.log(ctx, run, region, LogModeApply, logged)
	return logged[0], err
}
