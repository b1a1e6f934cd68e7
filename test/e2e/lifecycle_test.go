package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
)

// lifecycleNight is the image lifecycle schedule's firing n nights after
// recycleStart's (template default cron(30 4 * * ? *)).
func lifecycleNight(n int) time.Time {
	return time.Date(2026, time.January, 5+n, 4, 30, 0, 0, time.UTC)
}

// lifecycleLog reads the region's lifecycle log.
func (r *rig) lifecycleLog() []ledger.LifecycleEntry {
	r.t.Helper()
	entries, err := ledger.New(r.ddb, r.table).LifecycleLog(r.ctx, region, time.Time{}, 0)
	if err != nil {
		r.t.Fatalf("read the lifecycle log: %v", err)
	}
	return entries
}

// summaries returns the nightly lifecycle summaries the topic received.
func (r *rig) summaries() []string {
	var out []string
	for _, m := range r.env.Cloud.SNS.Messages(r.topic) {
		if strings.HasPrefix(m.Subject, "Phoenix image lifecycle") {
			out = append(out, m.Subject+"\n"+m.Message)
		}
	}
	return out
}

// TestTheNightlyImageLifecyclePlansByDefaultAndChangesNothing deploys the
// template as a new stack has it (ImageLifecycle=plan) and lets its
// schedule fire: the night logs what an apply would do, sends one summary
// and leaves every image and version as it was.
func TestTheNightlyImageLifecyclePlansByDefaultAndChangesNothing(t *testing.T) {
	r := newRecycleRig(t, 71, map[string]string{"RecycleMaxPerNight": "0", "LifecycleKeepVersions": "1"})
	web := r.newFleet(fleetSpec{name: "web", size: 2})
	// Two versions nobody uses, on images that carry a role.
	for i := 0; i < 2; i++ {
		img := r.image(fmt.Sprintf("web-old-%d", i), "healthy")
		if _, err := r.env.EC2.CreateTags(r.ctx, &ec2.CreateTagsInput{Resources: []string{img},
			Tags: []ec2types.Tag{{Key: aws.String(lifecycle.TagRole), Value: aws.String("web")}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.env.EC2.CreateLaunchTemplateVersion(r.ctx, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(web.launchTemplate), SourceVersion: aws.String("1"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(img)},
		}); err != nil {
			t.Fatal(err)
		}
	}
	r.env.RunUntil(t, 48*time.Hour, "the first lifecycle night", func() bool { return len(r.summaries()) > 0 })
	if now := r.env.Now(); now.Before(lifecycleNight(0)) {
		t.Fatalf("a summary before the schedule fired: %v", now)
	}
	sums := r.summaries()
	if len(sums) != 1 || !strings.Contains(sums[0], "(plan)") || !strings.Contains(sums[0], "nothing was done") {
		t.Fatalf("summaries %q\n%s", sums, r.functionLogs())
	}
	log := r.lifecycleLog()
	deletes := 0
	for _, e := range log {
		if e.Mode != lifecycle.LogModePlan || e.Result != "" || e.By != lifecycle.ByNightly {
			t.Errorf("a plan night logged %+v", e)
		}
		if e.Action == lifecycle.ActionDeleteVersion {
			deletes++
		}
	}
	if deletes != 1 {
		t.Errorf("the plan deletes %d versions, want 1 (version 2: not the default, not the newest, not used): %+v", deletes, log)
	}
	out, err := r.env.EC2.DescribeLaunchTemplateVersions(r.ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(web.launchTemplate)})
	if err != nil || len(out.LaunchTemplateVersions) != 3 {
		t.Errorf("a plan night changed the template: %d versions, %v", len(out.LaunchTemplateVersions), err)
	}
}
