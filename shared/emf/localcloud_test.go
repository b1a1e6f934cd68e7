package emf_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/emf"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
)

// What Phoenix writes, the local cloud's CloudWatch Logs extraction (which
// follows AWS's embedded metric format specification, tested in its own
// module) turns into metrics: one per dimension set the writer gives, the
// rollup included, at the line's own time.
func TestPhoenixsOwnEMFLinesAreValid(t *testing.T) {
	at := time.UnixMilli(1574109732004).UTC()
	var buf bytes.Buffer
	err := emf.Write(&buf, emf.Line{
		Namespace: "Phoenix", Time: at.Add(1500 * time.Millisecond),
		Dimensions: map[string]string{"Outcome": "finalized"},
		Metrics:    []emf.Metric{{Name: "RolloutOutcomes", Unit: emf.UnitCount, Value: 1}},
		Properties: map[string]any{"rolloutId": "r-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := monitoring.ExtractEMF("us-east-1", strings.TrimSuffix(buf.String(), "\n"), at)
	if err != nil {
		t.Fatalf("%s: %v", buf.String(), err)
	}
	if len(got) != 2 || got[0].Value != 1 || got[0].Unit != "Count" || !got[0].Timestamp.Equal(at.Add(1500*time.Millisecond)) {
		t.Fatalf("got %+v", got)
	}
}
