package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// The invariants are only worth their checks if they can fail. This test
// plays a quiet scenario that must pass, then breaks the world behind
// Phoenix's back, one rule at a time, and wants the observer to name each
// broken rule.
func TestTheInvariantsCatchWhatTheyForbid(t *testing.T) {
	t.Parallel()
	sc := scenario{
		seed: 7001,
		groups: []groupPlan{{name: "alpha", size: 2, version: "1", role: "alpha", tags: map[string]string{
			"phoenix:checkpoints": "100", "phoenix:bake": "0",
		}}, {name: "bravo", size: 1, version: "1", role: "bravo", shares: "alpha"}},
		actions:     []action{{at: time.Minute, kind: actStart, group: "alpha", image: behHealthy, id: "tamper-1"}},
		sampleEvery: 45 * time.Second,
		// The lifecycle acts at once on anything out of use; here nothing
		// is, and it must find so.
		lifecycle: lifecyclePlan{every: 20 * time.Minute, keepVersions: 2, keepRollback: 1, maxActions: 500, roleOnFirstImages: true},
	}
	r := newSoakRig(t, sc.seed, sc.lifecycle.parameters())
	c := &campaign{r: r, sc: sc, obs: newObserver(r, sc), images: map[string]string{}}
	c.setup(t)
	c.run(t)
	o := c.obs
	for _, v := range o.violations {
		t.Errorf("the untouched scenario broke an invariant: %s", o.describe(v))
	}
	if t.Failed() {
		t.FailNow()
	}
	w := o.read()
	rec, ok := w.ledger.rollouts["tamper-1"]
	if !ok || rec.status != "finalized" {
		t.Fatalf("rollout tamper-1 = %+v, want it finalized\n%s", rec, c.outcome())
	}

	caught := func(what, inv string, check func()) {
		t.Helper()
		before := len(o.violations)
		check()
		var names []string
		for _, v := range o.violations[before:] {
			if v.inv == inv {
				t.Logf("%s: caught: %s", what, o.describe(v))
				return
			}
			names = append(names, v.inv)
		}
		t.Errorf("%s went unnoticed: want a %s violation, got %v", what, inv, names)
	}
	put := func(item map[string]ddbtypes.AttributeValue) {
		t.Helper()
		if _, err := o.db.PutItem(o.ctx, &dynamodb.PutItemInput{TableName: aws.String(r.table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	str := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	num := func(v int64) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(v)} }

	caught("a lease left to a finished execution", invLease, func() {
		put(map[string]ddbtypes.AttributeValue{
			"pk": str("GROUP#" + region + "#alpha"), "sk": str("LEASE"), "owner": str("tamper-1"),
			"executionArn": str(rec.execARN), "expiresAt": num(r.env.Now().Add(time.Hour).Unix()),
		})
		o.sample()
		if _, err := o.db.DeleteItem(o.ctx, &dynamodb.DeleteItemInput{TableName: aws.String(r.table), Key: map[string]ddbtypes.AttributeValue{
			"pk": str("GROUP#" + region + "#alpha"), "sk": str("LEASE"),
		}}); err != nil {
			t.Fatal(err)
		}
	})

	caught("an instance taken out with nothing forcing it", invCapacity, func() {
		id := ""
		for _, in := range w.groups["alpha"].instances {
			id = in.id
		}
		if _, err := r.env.Cloud.World.AutoScaling().TerminateInstanceInAutoScalingGroup(o.ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
			InstanceId: aws.String(id), ShouldDecrementDesiredCapacity: aws.Bool(false),
		}); err != nil {
			t.Fatal(err)
		}
		o.sample()
	})

	caught("a shared template's default moved to a version one of its groups alone validated", invDefaultVersion, func() {
		if d := r.defaultVersion(o.fleets["alpha"].launchTemplate); d != 1 {
			t.Fatalf("the template alpha shares with bravo has default %d after alpha finalized, want 1", d)
		}
		if _, err := r.env.Cloud.World.EC2().ModifyLaunchTemplate(o.ctx, &ec2.ModifyLaunchTemplateInput{
			LaunchTemplateId: aws.String(o.fleets["alpha"].launchTemplate), DefaultVersion: aws.String(fmt.Sprint(rec.to.number)),
		}); err != nil {
			t.Fatal(err)
		}
		o.sample()
	})

	caught("a default version nobody validated", invDefaultVersion, func() {
		lt := o.fleets["alpha"].launchTemplate
		v, err := r.env.Cloud.World.EC2().CreateLaunchTemplateVersion(o.ctx, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(lt), SourceVersion: aws.String("1"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: ec2types.InstanceTypeT3Small},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.env.Cloud.World.EC2().ModifyLaunchTemplate(o.ctx, &ec2.ModifyLaunchTemplateInput{
			LaunchTemplateId: aws.String(lt), DefaultVersion: aws.String(fmt.Sprint(aws.ToInt64(v.LaunchTemplateVersion.VersionNumber))),
		}); err != nil {
			t.Fatal(err)
		}
		o.sample()
	})

	ec2c := r.env.Cloud.World.EC2()
	caught("an AMI a group runs, deprecated behind Phoenix's back", invInUseKept, func() {
		if _, err := ec2c.EnableImageDeprecation(o.ctx, &ec2.EnableImageDeprecationInput{
			ImageId: aws.String(rec.to.image), DeprecateAt: aws.Time(r.env.Now().Add(time.Hour)),
		}); err != nil {
			t.Fatal(err)
		}
		o.sample()
		if _, err := ec2c.DisableImageDeprecation(o.ctx, &ec2.DisableImageDeprecationInput{ImageId: aws.String(rec.to.image)}); err != nil {
			t.Fatal(err)
		}
	})

	caught("the last-known-good's AMI disabled", invRollbacks, func() {
		if _, err := ec2c.DisableImage(o.ctx, &ec2.DisableImageInput{ImageId: aws.String(rec.to.image)}); err != nil {
			t.Fatal(err)
		}
		o.finish(o.read())
		if _, err := ec2c.EnableImage(o.ctx, &ec2.EnableImageInput{ImageId: aws.String(rec.to.image)}); err != nil {
			t.Fatal(err)
		}
	})

	caught("a last-known-good no rollout finalized", invLedgerAgrees, func() {
		put(map[string]ddbtypes.AttributeValue{
			"pk": str("GROUP#" + region + "#alpha"), "sk": str("LKG"), "launchTemplateId": str(o.fleets["alpha"].launchTemplate),
			"version": num(1), "imageId": str(o.fleets["alpha"].image), "rolloutId": str("nobody"),
		})
		o.finish(o.read())
	})

	caught("a ledger that reopened an ended rollout", invLedgerAgrees, func() {
		if _, err := o.db.UpdateItem(o.ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(r.table), Key: map[string]ddbtypes.AttributeValue{"pk": str("ROLLOUT#tamper-1"), "sk": str("META")},
			UpdateExpression:          aws.String("SET #s = :s"),
			ExpressionAttributeNames:  map[string]string{"#s": "status"},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": str("refreshing")},
		}); err != nil {
			t.Fatal(err)
		}
		o.finish(o.read())
	})

	caught("an end nobody was told of", invNotified, func() {
		if _, err := o.db.UpdateItem(o.ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(r.table), Key: map[string]ddbtypes.AttributeValue{"pk": str("ROLLOUT#tamper-1"), "sk": str("META")},
			UpdateExpression:          aws.String("SET #s = :s, #r = :r"),
			ExpressionAttributeNames:  map[string]string{"#s": "status", "#r": "reason"},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": str("reverted"), ":r": str("tampered")},
		}); err != nil {
			t.Fatal(err)
		}
		o.finish(o.read())
	})

	caught("a refused rollout with no record", invEnded, func() {
		// A second rollout whose group does not exist is refused and
		// recorded; its record then disappears.
		c.images["tamper-2"] = c.images["tamper-1"]
		c.do(t, action{kind: actStart, id: "tamper-2", group: "nowhere"})
		r.env.RunUntil(t, time.Hour, "tamper-2 to end", func() bool {
			return !strings.Contains(c.busy(o.read()), "tamper-2")
		})
		if _, err := o.db.DeleteItem(o.ctx, &dynamodb.DeleteItemInput{TableName: aws.String(r.table), Key: map[string]ddbtypes.AttributeValue{
			"pk": str("ROLLOUT#tamper-2"), "sk": str("META"),
		}}); err != nil {
			t.Fatal(err)
		}
		o.finish(o.read())
	})

	caught("a rollout the ledger ended with its task still parked", invToken, func() {
		// A rollout parks in Await at once (checkpoint delay and warmup
		// keep the refresh far from its first checkpoint); the ledger is
		// then told it finalized.
		img, err := r.env.Cloud.World.AddImage(region, sim.ImageSpec{Name: "tamper-5-image", Available: true})
		if err != nil {
			t.Fatal(err)
		}
		c.images["tamper-5"] = img
		c.do(t, action{kind: actStart, id: "tamper-5", group: "alpha"})
		r.env.RunUntil(t, time.Hour, "tamper-5 to park", func() bool { return o.read().ledger.rollouts["tamper-5"].token != "" })
		if _, err := o.db.UpdateItem(o.ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(r.table), Key: map[string]ddbtypes.AttributeValue{"pk": str("ROLLOUT#tamper-5"), "sk": str("META")},
			UpdateExpression:          aws.String("SET #s = :s"),
			ExpressionAttributeNames:  map[string]string{"#s": "status"},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": str("finalized")},
		}); err != nil {
			t.Fatal(err)
		}
		o.sample()
	})

	// Two rollouts of one group in flight: executions held in their
	// Jitter state (startAt an hour ahead), each with a record that says
	// it refreshes alpha.
	for _, id := range []string{"tamper-3", "tamper-4"} {
		in := fmt.Sprintf(`{"request":{"rolloutId":%q,"target":{"region":%q,"group":"alpha"},"mode":"image","imageId":%q,"trigger":{"kind":"manual","source":"soak"},"startAt":%q}}`,
			id, region, c.images["tamper-1"], r.env.Now().Add(time.Hour).Format(time.RFC3339))
		out, err := r.env.Cloud.StepFunctions.StartExecution(o.ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(r.machine), Name: aws.String(id), Input: aws.String(in)})
		if err != nil {
			t.Fatal(err)
		}
		put(map[string]ddbtypes.AttributeValue{
			"pk": str("ROLLOUT#" + id), "sk": str("META"), "rolloutId": str(id), "region": str(region), "group": str("alpha"),
			"status": str("refreshing"), "executionArn": str(aws.ToString(out.ExecutionArn)),
		})
	}
	r.env.Settle()
	caught("two rollouts of one group in flight", invOneAtATime, func() { o.sample() })
	caught("an execution still running at the end", invQuiesced, func() { o.finish(o.read()) })

	caught("the version a group runs deleted", invInUseKept, func() {
		out, err := ec2c.DeleteLaunchTemplateVersions(o.ctx, &ec2.DeleteLaunchTemplateVersionsInput{
			LaunchTemplateId: aws.String(o.fleets["alpha"].launchTemplate), Versions: []string{fmt.Sprint(rec.to.number)},
		})
		if err != nil || len(out.SuccessfullyDeletedLaunchTemplateVersions) != 1 {
			t.Fatalf("delete version %d: %v %+v", rec.to.number, err, out)
		}
		o.sample()
	})
	caught("a version deleted that no lifecycle run logged", invLogged, func() { o.finish(o.read()) })
}
