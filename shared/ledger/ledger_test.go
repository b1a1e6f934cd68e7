package ledger

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/phoenix-rollouts/phoenix/shared/internal/testlog"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/dynamo"
)

// t0 is the tests' "now": ledger methods take time from their callers.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// requireDynamoDB skips the test loudly when dynalite is not installed, or
// fails it when PHOENIX_REQUIRE_CONFORMANCE is set, as `make unit` does.
func requireDynamoDB(t *testing.T) {
	t.Helper()
	dynamo.Require(t, "ledger tests against DynamoDB")
}

// testEnv is a local cloud with DynamoDB and one table laid out by
// TableSchema, shared by the subtests of one test: each subtest uses its
// own groups and rollout ids, so they may run in parallel.
type testEnv struct {
	cloud  *cloudtest.Env
	client *dynamodb.Client
	table  string
	// logs collects what the ledger logs, JSON lines.
	logs *testlog.Buffer
	l    *Ledger
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	requireDynamoDB(t)
	cloud := cloudtest.New(t, localcloud.Options{Seed: 1, DynamoDB: true})
	client := dynamodb.NewFromConfig(cloud.Config)
	in := TableSchema()
	in.TableName = aws.String("phoenix-ledger")
	if _, err := client.CreateTable(context.Background(), in); err != nil {
		t.Fatalf("create table: %v", err)
	}
	logs := &testlog.Buffer{}
	l := New(client, *in.TableName).WithLogger(slog.New(slog.NewJSONHandler(logs, nil)))
	return &testEnv{cloud: cloud, client: client, table: *in.TableName, logs: logs, l: l}
}

// count returns how many log lines carry msg and every attribute in kv
// (written as `"key":value` JSON fragments).
func (e *testEnv) count(msg string, kv ...string) int {
	n := 0
	for line := range strings.Lines(e.logs.String()) {
		if !strings.Contains(line, `"msg":"`+msg+`"`) {
			continue
		}
		all := true
		for _, f := range kv {
			all = all && strings.Contains(line, f)
		}
		if all {
			n++
		}
	}
	return n
}

var _ io.Writer = (*testlog.Buffer)(nil)

// names hands out unique rollout ids and group names within a test run.
var names atomic.Int64

func uniqueID(prefix string) string { return fmt.Sprintf("%s-%d", prefix, names.Add(1)) }

func uniqueGroup() rollout.GroupKey {
	return rollout.GroupKey{Region: "eu-west-1", Name: uniqueID("web#blue")}
}

// newRollout returns a rollout record as Prepare would write it.
func newRollout(group rollout.GroupKey, startedAt time.Time) rollout.Rollout {
	return rollout.Rollout{
		ID:           uniqueID("r"),
		Group:        group,
		Mode:         rollout.ModeImage,
		Trigger:      rollout.Trigger{Kind: "image-published", Source: "aws.imagebuilder", EventID: uniqueID("ev")},
		Status:       rollout.StatusPreparing,
		From:         rollout.Version{LaunchTemplateID: "lt-0abc", Number: 3, ImageID: "ami-old"},
		To:           rollout.Version{LaunchTemplateID: "lt-0abc", Number: 4, ImageID: "ami-new"},
		ExecutionARN: "arn:aws:states:eu-west-1:123456789012:execution:phoenix:" + startedAt.Format("150405"),
		StartedAt:    startedAt,
		Steps:        []rollout.Step{{Key: "prepare", At: startedAt, Detail: "version 4 created"}},
	}
}

// put records r, failing the test on error.
func (e *testEnv) put(t *testing.T, r rollout.Rollout) rollout.Rollout {
	t.Helper()
	got, err := e.l.PutRollout(context.Background(), r)
	if err != nil {
		t.Fatalf("PutRollout(%s): %v", r.ID, err)
	}
	return got
}
