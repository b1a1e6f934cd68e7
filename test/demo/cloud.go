package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
)

// region is where the demo's cloud runs.
const region = "us-east-1"

// cloud is the local cloud the stories run on, served on a loopback port,
// with template.yaml deployed and SDK clients pointed at it. The stories
// use the clients only; the clock is the one thing driven in process (as
// POST /_phoenix/clock/advance would drive it), because stepping it event
// by event over HTTP would cost a request per event.
type cloud struct {
	local *localcloud.Cloud
	url   string
	srv   *http.Server
	stack *deploy.Stack

	machine  string // the rollout state machine
	campaign string // the campaign state machine
	table    string // the ledger table
	topic    string // the notification topic

	ec2  *ec2.Client
	asg  *autoscaling.Client
	elb  *elasticloadbalancingv2.Client
	cw   *cloudwatch.Client
	sfn  *sfn.Client
	lam  *lambda.Client
	ddb  *dynamodb.Client
	http *http.Client
}

// startCloud starts a stepped local cloud with DynamoDB at start, serves it
// on 127.0.0.1 and deploys the template with the functions built in
// cfg.Functions and the stack parameters params (the others keep their
// defaults).
func startCloud(ctx context.Context, cfg Config, start time.Time, params map[string]string) (*cloud, error) {
	tpl, err := filepath.Abs(cfg.Template)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(tpl); err != nil {
		return nil, fmt.Errorf("template: %w (run from the repository root or give -template)", err)
	}
	bins, err := filepath.Abs(cfg.Functions)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bins); err != nil {
		return nil, fmt.Errorf("functions: %w (run `make functions` first, or `make demo`)", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	url := "http://" + l.Addr().String()
	lc, err := localcloud.New(localcloud.Options{Seed: cfg.Seed, DynamoDB: true, Start: start, Endpoint: url})
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("start the local cloud: %w", err)
	}
	c := &cloud{local: lc, url: url, srv: &http.Server{Handler: lc.Handler(), ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = c.srv.Serve(l) }()
	c.stack, err = deploy.File(ctx, lc, tpl, deploy.Options{BinDir: bins, Parameters: params})
	if err != nil {
		c.close()
		return nil, fmt.Errorf("deploy %s: %w", cfg.Template, err)
	}
	// New functions are Pending until the clock next runs its events.
	lc.Clock.Settle()
	for name, into := range map[string]*string{"StateMachineArn": &c.machine, "CampaignStateMachineArn": &c.campaign, "LedgerTableName": &c.table, "NotificationTopicArn": &c.topic} {
		if *into, err = c.output(name); err != nil {
			c.close()
			return nil, err
		}
	}
	sdk := localcloud.ClientConfig(url, region)
	c.ec2 = ec2.NewFromConfig(sdk)
	c.asg = autoscaling.NewFromConfig(sdk)
	c.elb = elasticloadbalancingv2.NewFromConfig(sdk)
	c.cw = cloudwatch.NewFromConfig(sdk)
	c.sfn = sfn.NewFromConfig(sdk)
	c.lam = lambda.NewFromConfig(sdk)
	c.ddb = dynamodb.NewFromConfig(sdk)
	c.http = &http.Client{Timeout: 30 * time.Second}
	return c, nil
}

func (c *cloud) output(name string) (string, error) {
	o, ok := c.stack.Outputs[name].(map[string]any)
	if !ok {
		return "", fmt.Errorf("the stack has no output %s", name)
	}
	v, _ := o["Value"].(string)
	if v == "" {
		return "", fmt.Errorf("the stack output %s has no value", name)
	}
	return v, nil
}

// functions returns the stack's functions: logical id to physical name.
func (c *cloud) functions() map[string]string {
	out := map[string]string{}
	for _, id := range c.stack.Order {
		d := c.stack.Resources[id]
		if d.Type == "AWS::Serverless::Function" || d.Type == "AWS::Lambda::Function" {
			out[id] = d.PhysicalID
		}
	}
	return out
}

// now is the simulated time.
func (c *cloud) now() time.Time { return c.local.Clock.Now() }

// advanceTo moves simulated time to t, running everything due.
func (c *cloud) advanceTo(t time.Time) { c.local.Clock.AdvanceTo(t) }

func (c *cloud) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.srv.Shutdown(ctx)
	_ = c.local.Close()
}

// lambdaLog reads a function's log text through the local cloud's admin
// API (its stand-in for CloudWatch Logs).
func (c *cloud) lambdaLog(ctx context.Context, function string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+localcloud.AdminPrefix+"lambda/logs?function="+function+"&region="+region, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("lambda logs of %s: %s: %s", function, resp.Status, b)
	}
	var out struct {
		Log string `json:"log"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", fmt.Errorf("lambda logs of %s: %w", function, err)
	}
	return out.Log, nil
}

// Message is one message published to the stack's topic, as its
// subscribers receive it.
type Message struct {
	Subject string            `json:"subject"`
	Text    string            `json:"text"`
	Attrs   map[string]string `json:"attributes,omitempty"`
	At      time.Time         `json:"at"`
}

// topicMessages reads every message published to the stack's notification
// topic through the local cloud's admin API (its stand-in for an email
// subscription), oldest first.
func (c *cloud) topicMessages(ctx context.Context) ([]Message, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+localcloud.AdminPrefix+"sns/messages?topicArn="+url.QueryEscape(c.topic), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("messages of %s: %s: %s", c.topic, resp.Status, b)
	}
	var out struct {
		Messages []struct {
			Subject           string
			Message           string
			MessageAttributes map[string]struct{ StringValue *string }
			Time              time.Time
		} `json:"messages"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("messages of %s: %w", c.topic, err)
	}
	msgs := make([]Message, 0, len(out.Messages))
	for _, m := range out.Messages {
		msg := Message{Subject: m.Subject, Text: m.Message, At: m.Time, Attrs: map[string]string{}}
		for k, v := range m.MessageAttributes {
			msg.Attrs[k] = aws.ToString(v.StringValue)
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// invocations counts a function's invocations: the START lines Lambda
// writes to its log, one per invocation attempt.
func (c *cloud) invocations(ctx context.Context, function string) (int, error) {
	text, err := c.lambdaLog(ctx, function)
	if err != nil {
		return 0, err
	}
	return strings.Count(text, "START RequestId:"), nil
}

// str is aws.ToString, short.
func str(p *string) string { return aws.ToString(p) }
