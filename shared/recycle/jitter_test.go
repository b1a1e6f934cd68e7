package recycle

import (
	"fmt"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func TestOffset(t *testing.T) {
	t.Parallel()
	web := rollout.GroupKey{Region: "us-east-1", Name: "web"}
	t.Run("the same event and group always get the same offset", func(t *testing.T) {
		t.Parallel()
		if a, b := Offset("ev-1", web, 30*time.Minute), Offset("ev-1", rollout.GroupKey{Region: "us-east-1", Name: "web"}, 30*time.Minute); a != b {
			t.Fatalf("%s then %s", a, b)
		}
	})
	t.Run("offsets are whole seconds within [0, jitter) and spread over it", func(t *testing.T) {
		t.Parallel()
		const jitter = 30 * time.Minute
		buckets := make([]int, 6)
		for i := range 600 {
			o := Offset(fmt.Sprintf("ev-%d", i), web, jitter)
			if o < 0 || o >= jitter || o%time.Second != 0 {
				t.Fatalf("offset %s outside [0, %s) or not whole seconds", o, jitter)
			}
			buckets[o/(5*time.Minute)]++
		}
		for i, n := range buckets {
			// 100 expected per five minutes; a hash far from uniform
			// would bunch the night's starts.
			if n < 60 || n > 140 {
				t.Errorf("five-minute bucket %d holds %d of 600 offsets", i, n)
			}
		}
	})
	t.Run("groups of one night get different offsets", func(t *testing.T) {
		t.Parallel()
		seen := map[time.Duration]bool{}
		for i := range 20 {
			seen[Offset("ev-1", rollout.GroupKey{Region: "us-east-1", Name: fmt.Sprintf("g%d", i)}, 30*time.Minute)] = true
		}
		if len(seen) < 18 {
			t.Fatalf("20 groups share %d offsets", len(seen))
		}
	})
	t.Run("no jitter, or less than a second, is no offset", func(t *testing.T) {
		t.Parallel()
		for _, j := range []time.Duration{0, -time.Minute, 500 * time.Millisecond} {
			if o := Offset("ev-1", web, j); o != 0 {
				t.Errorf("jitter %s gave offset %s", j, o)
			}
		}
	})
}
