package contract_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/shared/config"
	"github.com/phoenix-rollouts/phoenix/test/contract"
	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/dynamo"
)

func TestTheTemplateHasOneFunctionPerDesignedFolder(t *testing.T) {
	r := loadRepo(t)
	inTemplate := keys(r.functions(t))
	if design := designFunctions(t, r.root); !slices.Equal(inTemplate, design) {
		t.Errorf("the template's functions/<name> CodeUris are %s; docs/design.md names %s", joined(inTemplate), joined(design))
	}
}

func TestEveryFunctionFolderHasExactlyOneTemplateFunction(t *testing.T) {
	r := loadRepo(t)
	entries, err := os.ReadDir(filepath.Join(r.root, "functions"))
	if os.IsNotExist(err) {
		t.Skip("\n\n*** NOT RUN: there is no functions/ folder yet; the template's functions cannot be checked against the code ***\n")
	}
	if err != nil {
		t.Fatal(err)
	}
	// A function is a folder with a main.go; others (functions/internal)
	// hold what the mains share.
	var onDisk []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(r.root, "functions", e.Name(), "main.go")); e.IsDir() && err == nil {
			onDisk = append(onDisk, e.Name())
		}
	}
	if inTemplate := keys(r.functions(t)); !slices.Equal(onDisk, inTemplate) {
		t.Errorf("functions/ holds %s; the template deploys %s", joined(onDisk), joined(inTemplate))
	}
}

func TestFunctionsAreGoOnArmWithTracing(t *testing.T) {
	r := loadRepo(t)
	g := r.tpl.Globals["Function"]
	for field, want := range map[string]any{"Runtime": "provided.al2023", "Handler": "bootstrap", "Tracing": "Active"} {
		if g[field] != want {
			t.Errorf("Globals.Function.%s = %v, want %v", field, g[field], want)
		}
	}
	if !slices.Equal(strs(g["Architectures"]), []string{"arm64"}) {
		t.Errorf("Globals.Function.Architectures = %v, want [arm64]", g["Architectures"])
	}
	for _, field := range []string{"Timeout", "MemorySize"} {
		if g[field] == nil {
			t.Errorf("Globals.Function.%s is not set", field)
		}
	}
	// How sam build builds them: TestSamBuildRunsTheProjectsOwnBuildForEveryFunction.
}

func TestEveryFunctionGetsTheDesignsEnvironment(t *testing.T) {
	r := loadRepo(t)
	vars, _ := getPath(r.tpl.Globals["Function"], "Environment", "Variables").(map[string]any)
	want := []string{"PHOENIX_TABLE", "PHOENIX_TOPIC_ARN", "PHOENIX_EVENT_BUS", "PHOENIX_DEFAULT_CHECKPOINTS", "PHOENIX_DEFAULT_MIN_HEALTHY",
		"PHOENIX_DEFAULT_MAX_HEALTHY", "PHOENIX_DEFAULT_CHECKPOINT_DELAY", "PHOENIX_DEFAULT_BAKE", "PHOENIX_DEFAULT_GUARD_WINDOW", "PHOENIX_LEASE_TTL",
		"PHOENIX_AWAIT_TIMEOUT", "PHOENIX_ACCOUNT_ID"}
	if got := keys(vars); !equalSets(got, want) {
		t.Errorf("Globals environment %s, want %s", joined(got), joined(want))
	}
	for name, v := range vars {
		ref, ok := v.(deploy.Intrinsic)
		target, _ := ref.Arg.(string)
		if !ok || ref.Fn != "Ref" {
			t.Errorf("%s = %v; want a Ref of a parameter or resource", name, v)
			continue
		}
		_, isParam := r.tpl.Parameters[target]
		_, isRes := r.tpl.Resources[target]
		if !isParam && !isRes && target != "AWS::AccountId" {
			t.Errorf("%s refers to %s, which the template does not declare", name, target)
		}
	}
	for _, p := range []string{"DefaultCheckpoints", "DefaultMinHealthy", "DefaultMaxHealthy", "DefaultCheckpointDelaySeconds", "DefaultBakeSeconds",
		"DefaultGuardWindowSeconds", "LeaseTTLSeconds", "AwaitTimeoutSeconds", "ValidationRechecks", "RecheckSeconds", "NotificationEmail"} {
		if _, ok := r.tpl.Parameters[p]; !ok {
			t.Errorf("no parameter %s", p)
		}
	}
	if d := r.tpl.Parameters["NotificationEmail"].Default; d != "" {
		t.Errorf("NotificationEmail defaults to %v; it must be optional", d)
	}
}

// Every function's environment, as the template sets it (Globals and its
// own variables, resolved as a deployment with the parameters' defaults
// would, plus Lambda's AWS_REGION), loads through config.Load with the
// Needs its main asks for: a variable a function cannot do without is set
// for it, and every value the template gives passes the checks the cold
// start makes.
func TestEveryFunctionsEnvironmentLoadsUnderItsNeeds(t *testing.T) {
	r := loadRepo(t)
	global, _ := getPath(r.tpl.Globals["Function"], "Environment", "Variables").(map[string]any)
	needsCall := regexp.MustCompile(`config\.Needs\{([^}]*)\}`)
	field := regexp.MustCompile(`^\s*([A-Za-z]+):\s*true\s*$`)
	for folder, fn := range r.functions(t) {
		t.Run(folder, func(t *testing.T) {
			main, err := os.ReadFile(filepath.Join(r.root, "functions", folder, "main.go"))
			if err != nil {
				t.Fatal(err)
			}
			m := needsCall.FindAllStringSubmatch(string(main), -1)
			if len(m) != 1 {
				t.Fatalf("main.go builds config.Needs %d times; want once", len(m))
			}
			var needs config.Needs
			nv := reflect.ValueOf(&needs).Elem()
			for _, part := range strings.Split(m[0][1], ",") {
				if strings.TrimSpace(part) == "" {
					continue
				}
				f := field.FindStringSubmatch(part)
				if f == nil || !nv.FieldByName(f[1]).IsValid() {
					t.Fatalf("cannot read %q of config.Needs{%s}", part, m[0][1])
				}
				nv.FieldByName(f[1]).SetBool(true)
			}
			vars := map[string]any{}
			for k, v := range global {
				vars[k] = v
			}
			own, _ := getPath(fn.Properties, "Environment", "Variables").(map[string]any)
			for k, v := range own {
				vars[k] = v
			}
			env, err := contract.ExampleValues(r.tpl, vars)
			if err != nil {
				t.Fatal(err)
			}
			env[config.EnvRegion] = contract.ExampleRegion
			if _, err := config.Load(config.Map(env), needs); err != nil {
				t.Errorf("%s with %+v: %v", fn.Name, needs, err)
			}
		})
	}
}

// statement is one IAM statement of a template policy.
type statement struct {
	owner     string // function folder or "state machine"
	sid       string
	actions   []string
	resources []any
	condition map[string]any
}

// statements returns every inline statement of the functions' and the state
// machine's Policies, failing on managed policies and on SAM policy
// templates other than LambdaInvokePolicy, whose scope cannot be read here.
func statements(t *testing.T, r *repo) []statement {
	t.Helper()
	owners := map[string]deploy.Resource{"state machine": r.tpl.Resources[contract.StateMachineID]}
	for folder, fn := range r.functions(t) {
		owners[folder] = fn
	}
	var out []statement
	for owner, res := range owners {
		list, ok := res.Properties["Policies"].([]any)
		if !ok {
			t.Errorf("%s has no Policies list", owner)
			continue
		}
		for _, p := range list {
			m, ok := p.(map[string]any)
			if !ok {
				t.Errorf("%s: policy %v is a managed policy, not least privilege", owner, p)
				continue
			}
			if _, ok := m["LambdaInvokePolicy"]; ok && len(m) == 1 {
				continue
			}
			stmts, ok := m["Statement"].([]any)
			if !ok {
				t.Errorf("%s: policy %v is neither an inline document nor LambdaInvokePolicy", owner, keys(m))
				continue
			}
			for _, s := range stmts {
				sm, _ := s.(map[string]any)
				st := statement{owner: owner, actions: strs(sm["Action"]), condition: map[string]any{}}
				st.sid, _ = sm["Sid"].(string)
				if res, ok := sm["Resource"].([]any); ok {
					st.resources = res
				} else {
					st.resources = []any{sm["Resource"]}
				}
				if c, ok := sm["Condition"].(map[string]any); ok {
					st.condition = c
				}
				if sm["Effect"] != "Allow" || sm["NotAction"] != nil || sm["NotResource"] != nil || len(st.actions) == 0 {
					t.Errorf("%s %s: want an Allow with an Action list, got %v", owner, st.sid, sm)
				}
				out = append(out, st)
			}
		}
	}
	return out
}

// withoutResourceLevelPermissions are the actions IAM only grants on "*"
// (EC2's and Elastic Load Balancing's Describe actions, the image ones
// included, have no resource-level permissions).
var withoutResourceLevelPermissions = []string{
	"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeInstanceRefreshes",
	"ec2:DescribeImages", "ec2:DescribeInstances", "ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeInstanceTypes",
	"ec2:DescribeImageAttribute", "ec2:DescribeImageReferences",
	"elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeListeners",
	"elasticloadbalancing:DescribeRules",
	"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries",
	"logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
	"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
}

func TestNoPolicyGrantsAWildcardActionOrAWildcardResourceItCouldScope(t *testing.T) {
	r := loadRepo(t)
	for _, st := range statements(t, r) {
		for _, a := range st.actions {
			if strings.Contains(a, "*") {
				t.Errorf("%s %s grants %q", st.owner, st.sid, a)
			}
		}
		if slices.Contains(st.resources, any("*")) {
			for _, a := range st.actions {
				if !slices.Contains(withoutResourceLevelPermissions, a) {
					t.Errorf("%s %s grants %s on \"*\", but IAM can scope it", st.owner, st.sid, a)
				}
			}
		}
	}
}

// fleetWrites are the actions that change a fleet, and the functions that
// docs/design.md gives each job that needs them.
var fleetWrites = map[string][]string{
	"prepare":       {"ec2:CreateLaunchTemplateVersion", "autoscaling:UpdateAutoScalingGroup", "ec2:RunInstances", "ec2:CreateTags", "iam:PassRole"},
	"start-refresh": {"autoscaling:StartInstanceRefresh", "ec2:RunInstances", "ec2:CreateTags", "iam:PassRole"},
	"finalize":      {"ec2:ModifyLaunchTemplate", "autoscaling:UpdateAutoScalingGroup", "ec2:RunInstances", "ec2:CreateTags", "iam:PassRole"},
	"pin":           {"ec2:ModifyLaunchTemplate", "autoscaling:UpdateAutoScalingGroup", "ec2:RunInstances", "ec2:CreateTags", "iam:PassRole"},
	// Blue/green: the idle group's version and capacity, the old group's
	// capacity, and the weights of the pair's forward action.
	"shift": {"autoscaling:UpdateAutoScalingGroup", "ec2:RunInstances", "ec2:CreateTags", "iam:PassRole",
		"elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule"},
	"switch-back": {"autoscaling:UpdateAutoScalingGroup", "ec2:RunInstances", "ec2:CreateTags", "iam:PassRole",
		"elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule"},
	"revert": {"autoscaling:RollbackInstanceRefresh", "autoscaling:CancelInstanceRefresh", "autoscaling:StartInstanceRefresh",
		"ec2:ModifyLaunchTemplate", "ec2:RunInstances", "ec2:CreateTags", "iam:PassRole"},
}

func TestOnlyTheStepsThatChangeFleetsMayChangeThemAndOnlyPhoenixGroups(t *testing.T) {
	r := loadRepo(t)
	isWrite := map[string]bool{}
	for _, as := range fleetWrites {
		for _, a := range as {
			isWrite[a] = true
		}
	}
	got := map[string][]string{}
	for _, st := range statements(t, r) {
		for _, a := range st.actions {
			if !isWrite[a] {
				continue
			}
			got[st.owner] = append(got[st.owner], a)
			tagged := getPath(st.condition, "StringEqualsIgnoreCase", "aws:ResourceTag/phoenix:enabled")
			switch {
			case strings.HasPrefix(a, "autoscaling:") && !slices.Contains(strs(tagged), "true"):
				t.Errorf("%s may call %s on groups without phoenix:enabled=true (condition %v)", st.owner, a, st.condition)
			case a == "ec2:RunInstances" && getPath(st.condition, "ArnLike", "ec2:LaunchTemplate") == nil:
				t.Errorf("%s may launch instances without a launch template", st.owner)
			case a == "ec2:CreateTags" && getPath(st.condition, "StringEquals", "ec2:CreateAction") != "RunInstances":
				t.Errorf("%s may tag anything, not only what it launches", st.owner)
			case a == "iam:PassRole" && getPath(st.condition, "StringEquals", "iam:PassedToService") != "ec2.amazonaws.com":
				t.Errorf("%s may pass roles to any service", st.owner)
			}
		}
	}
	for owner := range got {
		if !equalSets(got[owner], fleetWrites[owner]) {
			t.Errorf("%s may %s, want %s", owner, joined(got[owner]), joined(fleetWrites[owner]))
		}
	}
	for owner := range fleetWrites {
		if got[owner] == nil {
			t.Errorf("%s cannot do its job: none of %s", owner, joined(fleetWrites[owner]))
		}
	}
}

func TestOnlyTheParkingFunctionsResumeTasksAndOnlyOfTheRolloutStateMachine(t *testing.T) {
	r := loadRepo(t)
	name := r.tpl.Resources[contract.StateMachineID].Properties["Name"]
	sub, ok := name.(deploy.Intrinsic)
	if !ok || sub.Fn != "Fn::Sub" {
		t.Fatalf("the state machine's Name is %v; a fixed !Sub name lets policies name it without a circular reference", name)
	}
	wantARN := "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:" + sub.Arg.(string)
	var owners []string
	for _, st := range statements(t, r) {
		if !slices.ContainsFunc(st.actions, func(a string) bool { return strings.HasPrefix(a, "states:SendTask") }) {
			continue
		}
		owners = append(owners, st.owner)
		if len(st.resources) != 1 || st.resources[0] != (deploy.Intrinsic{Fn: "Fn::Sub", Arg: wantARN}) {
			t.Errorf("%s resumes tasks of %v, want %s", st.owner, st.resources, wantARN)
		}
	}
	if !equalSets(owners, []string{"await", "refresh-events", "alarm-events"}) {
		t.Errorf("SendTask* granted to %s, want await, refresh-events and alarm-events", joined(owners))
	}
}

func TestTheStateMachineMayInvokeExactlyTheFunctionsItCalls(t *testing.T) {
	r := loadRepo(t)
	sm := r.tpl.Resources[contract.StateMachineID]
	var invokable []string
	for _, p := range sm.Properties["Policies"].([]any) {
		if fn := getPath(p, "LambdaInvokePolicy", "FunctionName"); fn != nil {
			ref, _ := fn.(deploy.Intrinsic)
			name, _ := ref.Arg.(string)
			invokable = append(invokable, name)
		}
	}
	var called []string
	for _, v := range r.subs {
		if att, ok := v.(deploy.Intrinsic); ok && att.Fn == "Fn::GetAtt" {
			called = append(called, att.Arg.([]any)[0].(string))
		}
	}
	if !equalSets(invokable, called) {
		t.Errorf("LambdaInvokePolicy for %s; the definition calls %s", joined(invokable), joined(called))
	}
	if getPath(sm.Properties, "Tracing", "Enabled") != true {
		t.Error("state machine tracing is off")
	}
	if getPath(sm.Properties, "Logging", "Destinations") == nil || getPath(sm.Properties, "Logging", "Level") == nil {
		t.Error("state machine logging has no destination or level")
	}
	if sm.Properties["DefinitionUri"] != contract.DefinitionFile {
		t.Errorf("DefinitionUri %v", sm.Properties["DefinitionUri"])
	}
}

func TestTheLedgerAndTopicAreDurableAndEncrypted(t *testing.T) {
	r := loadRepo(t)
	tables := r.tpl.OfType("AWS::DynamoDB::Table")
	if len(tables) != 1 {
		t.Fatalf("%d tables, want the one ledger", len(tables))
	}
	p := tables[0].Properties
	checks := map[string]struct{ got, want any }{
		"billing":   {p["BillingMode"], "PAY_PER_REQUEST"},
		"PITR":      {getPath(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"), true},
		"SSE":       {getPath(p, "SSESpecification", "SSEEnabled"), true},
		"key":       {toJSON(t, p["KeySchema"]), `[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}]`},
		"index":     {getPath(p["GlobalSecondaryIndexes"].([]any)[0], "IndexName"), "byTime"},
		"index key": {toJSON(t, getPath(p["GlobalSecondaryIndexes"].([]any)[0], "KeySchema")), `[{"AttributeName":"gsi1pk","KeyType":"HASH"},{"AttributeName":"gsi1sk","KeyType":"RANGE"}]`},
		"attributes": {toJSON(t, p["AttributeDefinitions"]), `[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"S"},` +
			`{"AttributeName":"gsi1pk","AttributeType":"S"},{"AttributeName":"gsi1sk","AttributeType":"S"}]`},
	}
	for name, c := range checks {
		if c.got != c.want {
			t.Errorf("ledger %s: %v, want %v", name, c.got, c.want)
		}
	}
	// The topic's key is checked by
	// TestTheTopicTakesCloudWatchAlarmsAndEveryPublisherCanUseItsKey.
	if topics := r.tpl.OfType("AWS::SNS::Topic"); len(topics) != 1 || topics[0].Properties["KmsMasterKeyId"] == nil {
		t.Errorf("want one encrypted topic, got %v", topics)
	}
	for _, out := range []string{"StateMachineArn", "LedgerTableName", "NotificationTopicArn", "DashboardName"} {
		if r.tpl.Outputs[out] == nil {
			t.Errorf("no output %s", out)
		}
	}
}

func TestTheTemplateDeploysOnTheLocalCloud(t *testing.T) {
	dynamo.Require(t, "template deploy (the ledger table needs dynalite)")
	root, err := contract.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	env := cloudtest.New(t, localcloud.Options{Seed: 1, DynamoDB: true})
	ctx := context.Background()
	bins := t.TempDir()
	stack, err := deploy.File(ctx, env.Cloud, filepath.Join(root, contract.TemplateFile), deploy.Options{
		StackName: "phoenix",
		// Deploying checks the template, not the functions' code: the
		// bootstraps are never invoked here.
		Bootstrap: func(codeURI string) (string, error) {
			dir := filepath.Join(bins, filepath.Base(filepath.Clean(codeURI)))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return "", err
			}
			path := filepath.Join(dir, "bootstrap")
			return path, os.WriteFile(path, []byte("#!/bin/sh\nexit 1\n"), 0o755)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sm, err := env.StepFunctions.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(stack.Resources[contract.StateMachineID].PhysicalID)})
	if err != nil {
		t.Fatal(err)
	}
	def := aws.ToString(sm.Definition)
	if strings.Contains(def, "${") || !strings.Contains(def, stack.Resources["PrepareFunction"].Attrs["Arn"]) {
		t.Errorf("the deployed definition is not fully substituted:\n%s", def)
	}
	if got, want := aws.ToString(sm.Name), "phoenix-rollout"; got != want {
		t.Errorf("state machine name %s, want %s (the functions' policies name it)", got, want)
	}
	rules, err := env.EventBridge.ListRules(ctx, &eventbridge.ListRulesInput{})
	if err != nil {
		t.Fatal(err)
	}
	// One rule for instance refresh progress, three for image publishing
	// (Image Builder, EC2 AMI, Parameter Store), one for alarms, and the
	// two nightly schedules: the recycle's and the image lifecycle's.
	sources := map[string]bool{}
	var schedules []string
	for _, r := range rules.Rules {
		if expr := aws.ToString(r.ScheduleExpression); expr != "" {
			schedules = append(schedules, expr)
			continue
		}
		var p struct {
			Source []string `json:"source"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(r.EventPattern)), &p); err != nil || len(p.Source) != 1 {
			t.Errorf("rule %s: pattern %s does not name one source", aws.ToString(r.Name), aws.ToString(r.EventPattern))
			continue
		}
		sources[p.Source[0]] = true
	}
	want := map[string]bool{"aws.autoscaling": true, "aws.imagebuilder": true, "aws.ec2": true, "aws.ssm": true, "aws.cloudwatch": true}
	if len(rules.Rules) != 7 || !reflect.DeepEqual(sources, want) {
		t.Errorf("rules on sources %v, want one each on %v", sources, want)
	}
	slices.Sort(schedules)
	if !slices.Equal(schedules, []string{"cron(0 3 * * ? *)", "cron(30 4 * * ? *)"}) {
		t.Errorf("schedules %q, want the nightly recycle's default cron(0 3 * * ? *) and the image lifecycle's cron(30 4 * * ? *)", schedules)
	}
}

// Task tokens travel in the executions' data (the Await payload): logging
// it would put a means of resuming any parked rollout in a log group. The
// ledger keeps each rollout's timeline instead.
func TestNoStateMachineLogsExecutionData(t *testing.T) {
	r := loadRepo(t)
	for _, sm := range r.tpl.OfType("AWS::Serverless::StateMachine") {
		logging, _ := sm.Properties["Logging"].(map[string]any)
		if logging == nil {
			continue
		}
		if logging["IncludeExecutionData"] != false {
			t.Errorf("%s logs execution data (IncludeExecutionData %v), which holds task tokens", sm.Name, logging["IncludeExecutionData"])
		}
	}
}

// No role is granted a DynamoDB action the ledger (the table's one owner)
// never calls: least privilege, read from the code rather than a list.
func TestRolesGrantOnlyTheDynamoDBActionsTheLedgerCalls(t *testing.T) {
	r := loadRepo(t)
	files, err := filepath.Glob(filepath.Join(r.root, "shared", "ledger", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	call := regexp.MustCompile(`\bl\.db\.([A-Z][A-Za-z]+)\(|dynamodb\.New([A-Z][A-Za-z]+)Paginator\(`)
	used := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllStringSubmatch(string(src), -1) {
			used["dynamodb:"+m[1]+m[2]] = true
		}
	}
	if !used["dynamodb:PutItem"] || !used["dynamodb:Query"] {
		t.Fatalf("read %v from shared/ledger; the pattern no longer finds the calls", keys(used))
	}
	for _, st := range statements(t, r) {
		for _, a := range st.actions {
			if strings.HasPrefix(a, "dynamodb:") && !used[a] {
				t.Errorf("%s (%s) grants %s, which the ledger never calls (it calls %s)", st.owner, st.sid, a, joined(keys(used)))
			}
		}
	}
}
