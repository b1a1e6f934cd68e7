package recycle

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/emf"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func inst(id, lifecycle, version, image string, age time.Duration) rollout.Instance {
	in := rollout.Instance{ID: id, Lifecycle: lifecycle, LaunchTemplateVersion: version, ImageID: image}
	if age >= 0 {
		in.LaunchTime = night0.Add(-age)
	}
	return in
}

func TestComputeDrift(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	v3 := &rollout.TemplateVersion{LaunchTemplateID: "lt-1", Number: 3, ImageID: "ami-3"}
	g := rollout.Group{Key: rollout.GroupKey{Region: "us-east-1", Name: "web"}, Instances: []rollout.Instance{
		inst("i-ok", "InService", "3", "ami-3", day),
		inst("i-oldversion", "InService", "2", "ami-2", 2*day),
		inst("i-sameversion-otherimage", "InService", "3", "ami-x", day),
		inst("i-old", "InService", "3", "ami-3", 8*day),
		inst("i-pending", "Pending", "3", "ami-3", 0),
		inst("i-leaving", "Terminating", "1", "ami-1", 30*day),
		inst("i-unknown-launch", "InService", "3", "ami-3", -1),
	}}
	cases := []struct {
		name                                     string
		g                                        rollout.Group
		desired                                  *rollout.TemplateVersion
		instances, offVersion, offImage, overAge int
		oldest                                   time.Duration
		offenders                                string
		note                                     string
	}{
		{"every kind of drift is counted; leaving instances are not judged", g, v3, 6, 1, 2, 1, 8 * day,
			"i-old,i-oldversion,i-sameversion-otherimage", ""},
		{"an unresolved version judges age only", g, nil, 6, 0, 0, 1, 8 * day, "i-old", "could not be resolved"},
		{"an SSM alias image judges versions and age, not images", g,
			&rollout.TemplateVersion{LaunchTemplateID: "lt-1", Number: 3, ImageID: "resolve:ssm:/golden/ami"}, 6, 1, 0, 1, 8 * day,
			"i-old,i-oldversion", "SSM alias"},
		{"a group without instances drifts nowhere", rollout.Group{Key: g.Key}, v3, 0, 0, 0, 0, 0, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := ComputeDrift(tc.g, tc.desired, 7*day, night0)
			if d.Instances != tc.instances || d.OffVersion != tc.offVersion || d.OffImage != tc.offImage || d.OverMaxAge != tc.overAge {
				t.Errorf("counts: %d instances, %d off version, %d off image, %d over age; want %d %d %d %d",
					d.Instances, d.OffVersion, d.OffImage, d.OverMaxAge, tc.instances, tc.offVersion, tc.offImage, tc.overAge)
			}
			if d.OldestAgeSeconds != int64(tc.oldest/time.Second) {
				t.Errorf("oldest %d s, want %s", d.OldestAgeSeconds, tc.oldest)
			}
			if got := strings.Join(d.Offenders, ","); got != tc.offenders {
				t.Errorf("offenders %s, want %s (oldest first)", got, tc.offenders)
			}
			if !strings.Contains(d.Note, tc.note) || (tc.note == "") != (d.Note == "") {
				t.Errorf("note %q, want one saying %q", d.Note, tc.note)
			}
			if d.Drifting() != (tc.offVersion+tc.offImage+tc.overAge > 0) || d.At != night0 || d.MaxAgeSeconds != int64(7*day/time.Second) {
				t.Errorf("report %+v", d)
			}
		})
	}
	t.Run("offenders are bounded, the oldest kept", func(t *testing.T) {
		t.Parallel()
		big := rollout.Group{Key: g.Key}
		for i := range MaxOffenders + 10 {
			big.Instances = append(big.Instances, inst(fmt.Sprintf("i-%03d", i), "InService", "3", "ami-3", time.Duration(100-i)*day))
		}
		d := ComputeDrift(big, v3, 7*day, night0)
		if d.OverMaxAge != MaxOffenders+10 || len(d.Offenders) != MaxOffenders || d.Offenders[0] != "i-000" {
			t.Fatalf("%d over age, offenders %v", d.OverMaxAge, d.Offenders)
		}
	})
}

func TestDriftMetricLine(t *testing.T) {
	t.Parallel()
	d := Drift{Group: rollout.GroupKey{Region: "us-east-1", Name: "web"}, At: night0, EventID: "ev-1", OffVersion: 1, OffImage: 2, OverMaxAge: 3, OldestAgeSeconds: 700000}
	b, err := d.MetricLine().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(b, &line); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"InstancesOffVersion": 1.0, "InstancesOffImage": 2.0, "InstancesOverMaxAge": 3.0, "OldestInstanceAgeSeconds": 700000.0,
		"Group": "web", "region": "us-east-1", "eventId": "ev-1"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v (line %s)", k, line[k], v, b)
		}
	}
	l := d.MetricLine()
	if l.Namespace != "Phoenix" || l.Time != night0 || l.DimensionSets != nil || l.Metrics[3].Unit != emf.UnitSeconds {
		t.Errorf("line %+v; want namespace Phoenix, the report's time, Group plus the rollup", l)
	}
	if s := string(b); !strings.Contains(s, `"Dimensions":[["Group"],[]]`) {
		t.Errorf("dimension sets in %s, want [[Group] []]", s)
	}
}
