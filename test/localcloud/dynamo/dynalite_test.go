package dynamo

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// dynamoAPI is the part of DynamoDB the tests use, with the SDK client's
// signatures.
type dynamoAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

var _ dynamoAPI = (*dynamodb.Client)(nil)

// requireDynalite starts dynalite for a test. Without the npm packages the
// test is skipped loudly, or fails when PHOENIX_REQUIRE_CONFORMANCE is set
// (as `make unit` does).
func requireDynalite(t *testing.T) *Server {
	t.Helper()
	Require(t, "DynamoDB tests")
	srv, err := Start(context.Background(), Options{Output: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return srv
}

// testWriter sends dynalite's output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// clientFor returns a real DynamoDB client whose requests go through the
// forwarding handler, as they will through the local cloud's endpoint.
func clientFor(t *testing.T, h http.Handler) *dynamodb.Client {
	t.Helper()
	front := httptest.NewServer(h)
	t.Cleanup(front.Close)
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(front.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", ""),
	})
}

func TestAConditionalPutSucceedsOnceThroughTheForwardingHandler(t *testing.T) {
	srv := requireDynalite(t)
	var db dynamoAPI = clientFor(t, srv.Handler())
	ctx := context.Background()
	created, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("rollout-locks"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	if arn := aws.ToString(created.TableDescription.TableArn); !strings.HasSuffix(arn, ":table/rollout-locks") {
		t.Fatalf("TableArn %q", arn)
	}
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("rollout-locks")})
	if err != nil {
		t.Fatal(err)
	}
	if desc.Table.TableStatus != types.TableStatusActive {
		t.Fatalf("table is %s right after CreateTable; dynalite must run with --createTableMs 0", desc.Table.TableStatus)
	}

	lock := func(owner string) error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String("rollout-locks"),
			Item: map[string]types.AttributeValue{
				"pk":    &types.AttributeValueMemberS{Value: "asg/web"},
				"owner": &types.AttributeValueMemberS{Value: owner},
			},
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		})
		return err
	}
	if err := lock("rollout-1"); err != nil {
		t.Fatalf("first conditional put: %v", err)
	}
	err = lock("rollout-2")
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("second conditional put = %v, want ConditionalCheckFailedException", err)
	}
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String("rollout-locks"),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "asg/web"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if owner, _ := got.Item["owner"].(*types.AttributeValueMemberS); owner == nil || owner.Value != "rollout-1" {
		t.Fatalf("the lock is held by %v, want rollout-1", got.Item["owner"])
	}
}

func TestTheHandlerForwardsHeadersBodyAndStatusUnchanged(t *testing.T) {
	srv := requireDynalite(t)
	front := httptest.NewServer(srv.Handler())
	defer front.Close()
	req, err := http.NewRequest(http.MethodPost, front.URL+"/", strings.NewReader(`{"TableName":"missing"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.DescribeTable")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260105/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00")
	req.Header.Set("X-Amz-Date", "20260105T090000Z")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "ResourceNotFoundException") {
		t.Fatalf("status %d, body %s; want dynalite's 400 ResourceNotFoundException", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Amz-Crc32") == "" || resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Fatalf("dynalite's headers were not passed back: %v", resp.Header)
	}
}

func TestAMissingInstallationNamesTheNpmCommand(t *testing.T) {
	_, err := Start(context.Background(), Options{NodeDir: t.TempDir()})
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "npm ci --prefix test/node") {
		t.Fatalf("Start without dynalite = %v, want ErrNotInstalled naming the npm command", err)
	}
}

func TestClosingStopsDynaliteAndFreesItsPort(t *testing.T) {
	srv := requireDynalite(t)
	pid := srv.Pid()
	host := strings.TrimPrefix(srv.Endpoint(), "http://")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("dynalite (pid %d) is still running after Close", pid)
	}
	if conn, err := net.DialTimeout("tcp", host, time.Second); err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections after Close", host)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("a second Close = %v", err)
	}
}

func TestTwoDynalitesRunSideBySide(t *testing.T) {
	requireDynalite(t)
	servers := make([]*Server, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Go(func() { servers[i], errs[i] = Start(context.Background(), Options{}) })
	}
	wg.Wait()
	for i, s := range servers {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		t.Cleanup(func() { _ = s.Close() })
	}
	if servers[0].Endpoint() == servers[1].Endpoint() {
		t.Fatalf("both listen on %s", servers[0].Endpoint())
	}
}

func TestDynamoDBRequestsAreRecognisedByTheirTarget(t *testing.T) {
	cases := []struct {
		name, target string
		want         bool
	}{
		{"a DynamoDB operation is recognised", "DynamoDB_20120810.PutItem", true},
		{"another awsJson service is not", "AmazonSSM.GetParameter", false},
		{"a request without a target is not", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			if tc.target != "" {
				r.Header.Set("X-Amz-Target", tc.target)
			}
			if got := IsDynamoDBRequest(r); got != tc.want {
				t.Fatalf("IsDynamoDBRequest(%q) = %v, want %v", tc.target, got, tc.want)
			}
		})
	}
}
