package cli

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// emit writes one command's document: doc as indented JSON with
// --output json, else what table writes.
func (a *app) emit(doc any, table func(w io.Writer)) error {
	if a.g.output == outputJSON {
		enc := json.NewEncoder(a.env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return fail(ExitFailed, "write JSON: %v", err)
		}
		return nil
	}
	table(a.env.Stdout)
	return nil
}

// newTable returns a tabwriter for aligned columns; the caller flushes it.
func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// row writes tab-separated cells and a newline.
func row(w io.Writer, cells ...string) { fmt.Fprintln(w, strings.Join(cells, "\t")) }

// timeText writes a time for tables: UTC, to the second; "-" for none.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// durationText writes a duration the way people say it: 1h23m, 5m, 90s
// becomes 1m30s; zero is "0s".
func durationText(d time.Duration) string {
	d = d.Round(time.Second)
	if d == 0 {
		return "0s"
	}
	s := d.String() // 1h2m3s, 5m0s, 2h0m0s, 45s
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// seconds is a duration as whole seconds, the unit of Phoenix's tags and
// of the JSON the CLI prints.
func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// versionText writes a launch template version and its image.
func versionText(v rollout.Version) string {
	if v.Number == 0 {
		return "-"
	}
	if v.ImageID == "" {
		return "v" + strconv.FormatInt(v.Number, 10)
	}
	return fmt.Sprintf("v%d (%s)", v.Number, v.ImageID)
}

// dash stands in for an empty cell.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clip shortens s to n runes for a table cell.
func clip(s string, n int) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

// groupText names a group for a table: its name, with its region when it
// is not the session's.
func groupText(k rollout.GroupKey, region string) string {
	if k.Region == region || k.Region == "" {
		return k.Name
	}
	return k.String()
}

// sortedKeys returns a map's keys in order.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// haltView is a halt as the CLI prints it.
type haltView struct {
	// Scope is "global" or "group".
	Scope  string    `json:"scope"`
	Region string    `json:"region,omitempty"`
	Group  string    `json:"group,omitempty"`
	Reason string    `json:"reason"`
	By     string    `json:"by,omitempty"`
	At     time.Time `json:"at"`
	// Message is the sentence Phoenix records when the halt refuses or
	// reverts a rollout.
	Message string `json:"message"`
}

func viewHalt(h rollout.Halt) haltView {
	v := haltView{Scope: "global", Reason: h.Reason, By: h.By, At: h.At, Message: h.String()}
	if !h.Global() {
		v.Scope, v.Region, v.Group = "group", h.Group.Region, h.Group.Name
	}
	return v
}
