package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Clients are the AWS operations a deployment calls. Each interface uses the
// aws-sdk-go-v2 signatures, so the local cloud's models and real SDK clients
// both fit. DynamoDB may be nil when the template declares no table.
type Clients struct {
	Lambda interface {
		CreateFunction(context.Context, *lambda.CreateFunctionInput, ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error)
	}
	Events interface {
		PutRule(context.Context, *eventbridge.PutRuleInput, ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error)
		PutTargets(context.Context, *eventbridge.PutTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error)
	}
	StepFunctions interface {
		CreateStateMachine(context.Context, *sfn.CreateStateMachineInput, ...func(*sfn.Options)) (*sfn.CreateStateMachineOutput, error)
	}
	SNS interface {
		CreateTopic(context.Context, *sns.CreateTopicInput, ...func(*sns.Options)) (*sns.CreateTopicOutput, error)
		Subscribe(context.Context, *sns.SubscribeInput, ...func(*sns.Options)) (*sns.SubscribeOutput, error)
	}
	CloudWatch interface {
		PutMetricAlarm(context.Context, *cloudwatch.PutMetricAlarmInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error)
		PutDashboard(context.Context, *cloudwatch.PutDashboardInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutDashboardOutput, error)
	}
	SSM interface {
		PutParameter(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	}
	DynamoDB interface {
		CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	}
	// IAM, when set, receives each SAM-made execution role with its
	// policies; nil deploys without recording them.
	IAM Roles
	// KMS creates AWS::KMS::Key and AWS::KMS::Alias resources (kms.go); a
	// template that declares one fails without it.
	KMS KeyStore
}

// Options configures a deployment.
type Options struct {
	// StackName prefixes generated physical names ("phoenix" if empty).
	StackName string
	// Region and Account answer AWS::Region and AWS::AccountId.
	Region  string
	Account string
	// Parameters override template parameter defaults.
	Parameters map[string]string
	// TemplateDir is where relative paths (DefinitionUri, CodeUri) start.
	TemplateDir string
	// Bootstrap returns the path of the built `bootstrap` executable for a
	// function's CodeUri (as resolved, relative to TemplateDir). The
	// default looks for BinDir/<last element of CodeUri>/bootstrap.
	Bootstrap func(codeURI string) (string, error)
	// BinDir is where the default Bootstrap looks ("bin/functions" under
	// TemplateDir if empty); the Makefile builds functions there.
	BinDir string
}

// Stack is what a deployment created.
type Stack struct {
	Name string
	// Resources by logical id, in creation order in Order.
	Resources map[string]*Deployed
	Order     []string
	// Outputs are the template's outputs, resolved.
	Outputs map[string]any
	// Unenforced lists resources accepted but not modelled (IAM, logs),
	// so a report can say what the local cloud did not check.
	Unenforced []string
}

// Deployed is one created resource.
type Deployed struct {
	LogicalID  string
	Type       string
	PhysicalID string
	Attrs      map[string]string
	// Role is the execution role of a function or state machine.
	Role string
}

// ARN returns the resource's Arn attribute, or its physical id.
func (d *Deployed) ARN() string {
	if a := d.Attrs["Arn"]; a != "" {
		return a
	}
	return d.PhysicalID
}

// deployer carries one deployment's state.
type deployer struct {
	ctx    context.Context
	tpl    *Template
	cl     Clients
	opts   Options
	params map[string]any
	stack  *Stack
	conds  map[string]bool
}

// Deploy creates every resource the template declares, in dependency
// order. A resource type, property, event type or intrinsic the local cloud
// does not understand fails the deployment with an error naming it; nothing
// is skipped silently.
func Deploy(ctx context.Context, tpl *Template, cl Clients, opts Options) (*Stack, error) {
	if opts.StackName == "" {
		opts.StackName = "phoenix"
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Account == "" {
		opts.Account = "123456789012"
	}
	if opts.BinDir == "" {
		opts.BinDir = filepath.Join(opts.TemplateDir, "bin", "functions")
	}
	if opts.Bootstrap == nil {
		opts.Bootstrap = func(codeURI string) (string, error) {
			p := filepath.Join(opts.BinDir, filepath.Base(filepath.Clean(codeURI)), "bootstrap")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("no built function at %s for CodeUri %s: run `make functions`", p, codeURI)
			}
			return filepath.Abs(p)
		}
	}
	d := &deployer{ctx: ctx, tpl: tpl, cl: cl, opts: opts, conds: map[string]bool{},
		stack: &Stack{Name: opts.StackName, Resources: map[string]*Deployed{}}}
	if err := d.bindParameters(); err != nil {
		return nil, err
	}
	order, err := d.order()
	if err != nil {
		return nil, err
	}
	for _, name := range order {
		r := tpl.Resources[name]
		if r.Condition != "" {
			ok, err := d.Condition(r.Condition)
			if err != nil {
				return nil, fmt.Errorf("resource %s: %w", name, err)
			}
			if !ok {
				continue
			}
		}
		if err := d.create(r); err != nil {
			return nil, fmt.Errorf("resource %s (%s): %w", name, r.Type, err)
		}
		d.stack.Order = append(d.stack.Order, name)
	}
	if len(tpl.Outputs) > 0 {
		out, err := Resolve(tpl.Outputs, d)
		if err != nil {
			return nil, fmt.Errorf("outputs: %w", err)
		}
		d.stack.Outputs, _ = out.(map[string]any)
	}
	return d.stack, nil
}

// bindParameters checks overrides and fills defaults.
func (d *deployer) bindParameters() error {
	d.params = map[string]any{}
	for name := range d.opts.Parameters {
		if _, ok := d.tpl.Parameters[name]; !ok {
			return fmt.Errorf("parameter %s is not declared by the template", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.tpl.Parameters)) {
		p := d.tpl.Parameters[name]
		var v any
		if s, ok := d.opts.Parameters[name]; ok {
			v = s
		} else if p.Default != nil {
			v = p.Default
		} else {
			return fmt.Errorf("parameter %s has no default and no value was given", name)
		}
		s, err := scalarString(v)
		if err != nil {
			return fmt.Errorf("parameter %s: %w", name, err)
		}
		if len(p.AllowedValues) > 0 {
			allowed := false
			for _, a := range p.AllowedValues {
				if as, _ := scalarString(a); as == s {
					allowed = true
				}
			}
			if !allowed {
				return fmt.Errorf("parameter %s: %q is not one of its AllowedValues %v", name, s, p.AllowedValues)
			}
		}
		switch p.Type {
		case "Number":
			if _, err := strconv.ParseFloat(s, 64); err != nil {
				return fmt.Errorf("parameter %s: %q is not a Number", name, s)
			}
			d.params[name] = s
		case "CommaDelimitedList", "List<String>":
			var list []any
			for _, part := range strings.Split(s, ",") {
				list = append(list, strings.TrimSpace(part))
			}
			d.params[name] = list
		default:
			d.params[name] = s
		}
	}
	return nil
}

// order sorts resources so that each comes after what it references.
func (d *deployer) order() ([]string, error) {
	deps := map[string][]string{}
	for _, name := range d.tpl.ResourceNames() {
		r := d.tpl.Resources[name]
		var ds []string
		refs := References(r.Properties)
		// Globals apply to every function and state machine, so what they
		// reference must exist first too.
		switch r.Type {
		case "AWS::Serverless::Function":
			refs = append(refs, References(d.tpl.Globals["Function"])...)
		case "AWS::Serverless::StateMachine":
			refs = append(refs, References(d.tpl.Globals["StateMachine"])...)
		}
		for _, ref := range refs {
			if _, ok := d.tpl.Resources[ref]; ok {
				ds = append(ds, ref)
			}
		}
		for _, dep := range r.DependsOn {
			if _, ok := d.tpl.Resources[dep]; !ok {
				return nil, fmt.Errorf("resource %s depends on %s, which the template does not declare", name, dep)
			}
			ds = append(ds, dep)
		}
		deps[name] = ds
	}
	var out []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(n string, path []string) error
	visit = func(n string, path []string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("circular dependency: %s", strings.Join(append(path, n), " -> "))
		case 2:
			return nil
		}
		state[n] = 1
		for _, dep := range deps[n] {
			if err := visit(dep, append(path, n)); err != nil {
				return err
			}
		}
		state[n] = 2
		out = append(out, n)
		return nil
	}
	for _, n := range d.tpl.ResourceNames() {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Ref implements Resolver.
func (d *deployer) Ref(name string) (any, error) {
	switch name {
	case "AWS::Region":
		return d.opts.Region, nil
	case "AWS::AccountId":
		return d.opts.Account, nil
	case "AWS::StackName":
		return d.opts.StackName, nil
	case "AWS::StackId":
		return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/local", d.opts.Region, d.opts.Account, d.opts.StackName), nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	}
	if v, ok := d.params[name]; ok {
		return v, nil
	}
	if r, ok := d.stack.Resources[name]; ok {
		return r.PhysicalID, nil
	}
	if r, ok := d.tpl.Resources[name]; ok {
		if r.Condition != "" {
			if on, err := d.Condition(r.Condition); err == nil && !on {
				return nil, fmt.Errorf("Ref %s: resource not created (its Condition %s is false)", name, r.Condition)
			}
		}
		return nil, fmt.Errorf("Ref %s: resource not created yet (a dependency the local cloud did not see)", name)
	}
	return nil, fmt.Errorf("Ref %s: no such parameter or resource", name)
}

// GetAtt implements Resolver.
func (d *deployer) GetAtt(res, attr string) (any, error) {
	r, ok := d.stack.Resources[res]
	if !ok {
		return nil, fmt.Errorf("GetAtt %s.%s: no such resource created", res, attr)
	}
	v, ok := r.Attrs[attr]
	if !ok {
		return nil, fmt.Errorf("GetAtt %s.%s: %s has no attribute %s in the local cloud", res, attr, r.Type, attr)
	}
	return v, nil
}

// Condition implements Resolver.
func (d *deployer) Condition(name string) (bool, error) {
	if v, ok := d.conds[name]; ok {
		return v, nil
	}
	expr, ok := d.tpl.Conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s is not declared", name)
	}
	v, err := EvalCondition(expr, d)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	d.conds[name] = v
	return v, nil
}

// kind describes how one resource type is deployed.
type kind struct {
	// props are the properties the local cloud applies; accepted are
	// properties it accepts without modelling them (IAM, encryption).
	props, accepted []string
	create          func(d *deployer, r Resource, props map[string]any) (*Deployed, error)
	// unenforced marks types accepted but not modelled at all.
	unenforced bool
}

var kinds map[string]kind

func init() {
	kinds = map[string]kind{
		"AWS::Serverless::Function": {
			props:    []string{"FunctionName", "CodeUri", "Handler", "Runtime", "Architectures", "MemorySize", "Timeout", "Environment", "Events", "Description", "Tracing"},
			accepted: []string{"Policies", "Role", "Tags", "ReservedConcurrentExecutions", "LoggingConfig", "PermissionsBoundary"},
			create:   (*deployer).function,
		},
		"AWS::Serverless::StateMachine": {
			props:    []string{"Name", "Definition", "DefinitionUri", "DefinitionSubstitutions", "Events", "Type", "Role"},
			accepted: []string{"Policies", "Tracing", "Logging", "Tags", "PermissionsBoundary"},
			create:   (*deployer).stateMachine,
		},
		"AWS::DynamoDB::Table": {
			props:    []string{"TableName", "AttributeDefinitions", "KeySchema", "BillingMode", "ProvisionedThroughput", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "Tags"},
			accepted: []string{"PointInTimeRecoverySpecification", "SSESpecification", "TimeToLiveSpecification", "DeletionProtectionEnabled"},
			create:   (*deployer).table,
		},
		"AWS::SNS::Topic": {
			props:  []string{"TopicName", "DisplayName", "KmsMasterKeyId", "Subscription", "Tags", "FifoTopic"},
			create: (*deployer).topic,
		},
		"AWS::CloudWatch::Alarm": {
			props: []string{"AlarmName", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "InsufficientDataActions",
				"MetricName", "Namespace", "Dimensions", "Statistic", "ExtendedStatistic", "Period", "EvaluationPeriods",
				"DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData", "Unit"},
			create: (*deployer).alarm,
		},
		"AWS::CloudWatch::Dashboard": {props: []string{"DashboardName", "DashboardBody"}, create: (*deployer).dashboard},
		"AWS::Events::Rule": {
			props:  []string{"Name", "Description", "EventPattern", "ScheduleExpression", "State", "EventBusName", "Targets"},
			create: (*deployer).rule,
		},
		"AWS::SSM::Parameter": {
			props:  []string{"Name", "Type", "Value", "DataType", "Description", "Tier", "AllowedPattern", "Tags"},
			create: (*deployer).parameter,
		},
		"AWS::KMS::Key":           {props: kmsKeyProps, create: (*deployer).kmsKey},
		"AWS::KMS::Alias":         {props: []string{"AliasName", "TargetKeyId"}, create: (*deployer).kmsAlias},
		"AWS::IAM::Role":          {unenforced: true},
		"AWS::IAM::Policy":        {unenforced: true},
		"AWS::IAM::ManagedPolicy": {unenforced: true},
		"AWS::Lambda::Permission": {unenforced: true},
		"AWS::Logs::LogGroup":     {unenforced: true},
	}
}

// SupportedTypes lists the resource types Deploy understands, sorted.
func SupportedTypes() []string { return slices.Sorted(maps.Keys(kinds)) }

func (d *deployer) create(r Resource) error {
	k, ok := kinds[r.Type]
	if !ok {
		return fmt.Errorf("resource type %s is not supported by the local cloud (supported: %s)", r.Type, strings.Join(SupportedTypes(), ", "))
	}
	if k.unenforced {
		dep := &Deployed{LogicalID: r.Name, Type: r.Type, Attrs: map[string]string{}}
		dep.PhysicalID = d.physicalName(r.Name, 64)
		dep.Attrs["Arn"] = fmt.Sprintf("arn:aws:iam::%s:%s/%s", d.opts.Account, strings.ToLower(strings.TrimPrefix(r.Type, "AWS::")), dep.PhysicalID)
		d.stack.Resources[r.Name] = dep
		d.stack.Unenforced = append(d.stack.Unenforced, r.Name+" ("+r.Type+")")
		return nil
	}
	props := r.Properties
	if r.Type == "AWS::Serverless::Function" {
		props = mergeGlobals(d.tpl.Globals["Function"], props)
	}
	if r.Type == "AWS::Serverless::StateMachine" {
		props = mergeGlobals(d.tpl.Globals["StateMachine"], props)
	}
	known := map[string]bool{}
	for _, p := range append(slices.Clone(k.props), k.accepted...) {
		known[p] = true
	}
	for _, p := range slices.Sorted(maps.Keys(props)) {
		if !known[p] {
			return fmt.Errorf("property %s is not supported by the local cloud", p)
		}
	}
	resolved, err := Resolve(props, d)
	if err != nil {
		return err
	}
	m, _ := resolved.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	dep, err := k.create(d, r, m)
	if err != nil {
		return err
	}
	dep.LogicalID, dep.Type = r.Name, r.Type
	d.stack.Resources[r.Name] = dep
	return nil
}

// mergeGlobals applies a SAM Globals section under a resource's properties:
// the resource wins, and maps (Environment.Variables) merge key by key.
func mergeGlobals(globals, props map[string]any) map[string]any {
	if len(globals) == 0 {
		return props
	}
	out := map[string]any{}
	for k, v := range globals {
		out[k] = v
	}
	for k, v := range props {
		gm, gok := out[k].(map[string]any)
		pm, pok := v.(map[string]any)
		if gok && pok {
			out[k] = mergeGlobals(gm, pm)
			continue
		}
		out[k] = v
	}
	return out
}

// physicalName makes a CloudFormation-style name: stack-LogicalId-HASH.
func (d *deployer) physicalName(logical string, max int) string {
	sum := sha256.Sum256([]byte(d.opts.StackName + "/" + logical))
	suffix := strings.ToUpper(hex.EncodeToString(sum[:])[:12])
	name := d.opts.StackName + "-" + logical
	if len(name)+13 > max {
		name = name[:max-13]
	}
	return name + "-" + suffix
}

// into converts resolved properties into an SDK input struct: template
// properties carry the API's member names, which the SDK uses as field
// names. Numbers written as strings (CloudFormation passes !Ref of a Number
// parameter as a string) are converted where the field is numeric; a
// property with no matching field is an error naming it.
func into(props map[string]any, drop []string, dst any) error {
	m := map[string]any{}
	for k, v := range props {
		if !slices.Contains(drop, k) {
			m[k] = v
		}
	}
	return assign(reflect.ValueOf(dst).Elem(), m, "")
}

func assign(dst reflect.Value, v any, path string) error {
	if v == nil {
		return nil
	}
	switch dst.Kind() {
	case reflect.Pointer:
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		return assign(dst.Elem(), v, path)
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want a mapping, got %T", orDefault(path, "properties"), v)
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			f := dst.FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, k) })
			if !f.IsValid() || !f.CanSet() {
				return fmt.Errorf("%s: unknown member %s", orDefault(path, "properties"), k)
			}
			if err := assign(f, m[k], joinPath(path, k)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: want a list, got %T", path, v)
		}
		out := reflect.MakeSlice(dst.Type(), len(list), len(list))
		for i, e := range list {
			if err := assign(out.Index(i), e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		dst.Set(out)
		return nil
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want a mapping, got %T", path, v)
		}
		out := reflect.MakeMap(dst.Type())
		for k, e := range m {
			ev := reflect.New(dst.Type().Elem()).Elem()
			if err := assign(ev, e, joinPath(path, k)); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(dst.Type().Key()), ev)
		}
		dst.Set(out)
		return nil
	}
	s, err := scalarString(v)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	switch dst.Kind() {
	case reflect.String:
		dst.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%s: %q is not a boolean", path, s)
		}
		dst.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %q is not a whole number", path, s)
		}
		dst.SetInt(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%s: %q is not a number", path, s)
		}
		dst.SetFloat(f)
	default:
		return fmt.Errorf("%s: cannot set a %s", path, dst.Type())
	}
	return nil
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func str(m map[string]any, key string) string {
	s, _ := scalarString(m[key])
	if m[key] == nil {
		return ""
	}
	return s
}

func intOf(m map[string]any, key string) (*int32, error) {
	if m[key] == nil {
		return nil, nil
	}
	s, err := scalarString(m[key])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not a whole number", key, s)
	}
	return aws.Int32(int32(n)), nil
}

func (d *deployer) function(r Resource, p map[string]any) (*Deployed, error) {
	name := str(p, "FunctionName")
	if name == "" {
		name = d.physicalName(r.Name, 64)
	}
	code := str(p, "CodeUri")
	if code == "" {
		return nil, fmt.Errorf("CodeUri is required (an S3 location is not supported by the local cloud)")
	}
	rules, err := d.planEvents(r, p)
	if err != nil {
		return nil, err
	}
	bin, err := d.opts.Bootstrap(code)
	if err != nil {
		return nil, err
	}
	role := d.roleFor(r, p)
	if err := d.putRole(r, p, role); err != nil {
		return nil, err
	}
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Handler:      aws.String(orDefault(str(p, "Handler"), "bootstrap")),
		Runtime:      lambdatypes.Runtime(str(p, "Runtime")),
		Role:         aws.String(role),
		Code:         &lambdatypes.FunctionCode{S3Bucket: aws.String("local"), S3Key: aws.String(bin)},
		Description:  optString(str(p, "Description")),
	}
	if in.MemorySize, err = intOf(p, "MemorySize"); err != nil {
		return nil, err
	}
	if in.Timeout, err = intOf(p, "Timeout"); err != nil {
		return nil, err
	}
	if archs, ok := p["Architectures"].([]any); ok {
		for _, a := range archs {
			s, _ := scalarString(a)
			in.Architectures = append(in.Architectures, lambdatypes.Architecture(s))
		}
	}
	if env, ok := p["Environment"].(map[string]any); ok {
		vars := map[string]string{}
		if vm, ok := env["Variables"].(map[string]any); ok {
			for k, v := range vm {
				s, err := scalarString(v)
				if err != nil {
					return nil, fmt.Errorf("Environment.Variables.%s: %w", k, err)
				}
				vars[k] = s
			}
		}
		in.Environment = &lambdatypes.Environment{Variables: vars}
	}
	if t := str(p, "Tracing"); t != "" {
		mode := lambdatypes.TracingModePassThrough
		if t == "Active" {
			mode = lambdatypes.TracingModeActive
		}
		in.TracingConfig = &lambdatypes.TracingConfig{Mode: mode}
	}
	out, err := d.cl.Lambda.CreateFunction(d.ctx, in)
	if err != nil {
		return nil, err
	}
	dep := &Deployed{PhysicalID: name, Attrs: map[string]string{"Arn": aws.ToString(out.FunctionArn)}, Role: role}
	if err := d.putEvents(rules, dep.Attrs["Arn"]); err != nil {
		return nil, err
	}
	return dep, nil
}

// roleFor returns the Role property or the ARN of the role SAM would make.
func (d *deployer) roleFor(r Resource, p map[string]any) string {
	if role := str(p, "Role"); role != "" {
		return role
	}
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", d.opts.Account, d.physicalName(r.Name+"Role", 64))
}

// placeholder matches ${Name} in a state machine definition.
var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_.:]+)\}`)

func (d *deployer) stateMachine(r Resource, p map[string]any) (*Deployed, error) {
	var text string
	switch {
	case p["Definition"] != nil && p["DefinitionUri"] != nil:
		return nil, fmt.Errorf("give Definition or DefinitionUri, not both")
	case p["Definition"] != nil:
		b, err := json.Marshal(p["Definition"])
		if err != nil {
			return nil, err
		}
		text = string(b)
	default:
		uri, ok := p["DefinitionUri"].(string)
		if !ok || uri == "" {
			return nil, fmt.Errorf("DefinitionUri must be a local path (an S3 location is not supported by the local cloud)")
		}
		b, err := os.ReadFile(filepath.Join(d.opts.TemplateDir, uri))
		if err != nil {
			return nil, fmt.Errorf("DefinitionUri: %w", err)
		}
		text = string(b)
		if ext := strings.ToLower(filepath.Ext(uri)); ext == ".yaml" || ext == ".yml" {
			js, err := yamlToJSON(b)
			if err != nil {
				return nil, fmt.Errorf("DefinitionUri %s: %w", uri, err)
			}
			text = js
		}
	}
	subs, _ := p["DefinitionSubstitutions"].(map[string]any)
	var missing []string
	text = placeholder.ReplaceAllStringFunc(text, func(m string) string {
		key := m[2 : len(m)-1]
		v, ok := subs[key]
		if !ok {
			missing = append(missing, key)
			return m
		}
		s, err := scalarString(v)
		if err != nil {
			missing = append(missing, key)
			return m
		}
		return s
	})
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("the definition uses ${%s} but DefinitionSubstitutions does not define it", strings.Join(slices.Compact(missing), "}, ${"))
	}
	if t := str(p, "Type"); t != "" && t != "STANDARD" {
		return nil, fmt.Errorf("state machine type %s is not supported by the local cloud (STANDARD only)", t)
	}
	rules, err := d.planEvents(r, p)
	if err != nil {
		return nil, err
	}
	name := str(p, "Name")
	if name == "" {
		name = d.physicalName(r.Name, 80)
	}
	role := d.roleFor(r, p)
	if err := d.putRole(r, p, role); err != nil {
		return nil, err
	}
	out, err := d.cl.StepFunctions.CreateStateMachine(d.ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String(name),
		Definition: aws.String(text),
		RoleArn:    aws.String(role),
	})
	if err != nil {
		return nil, err
	}
	arn := aws.ToString(out.StateMachineArn)
	dep := &Deployed{PhysicalID: arn, Attrs: map[string]string{"Arn": arn, "Name": name}, Role: role}
	if err := d.putEvents(rules, arn); err != nil {
		return nil, err
	}
	return dep, nil
}

// eventRule is one rule a SAM Events entry asks for.
type eventRule struct {
	name   string
	rule   *eventbridge.PutRuleInput
	target ebtypes.Target
}

// planEvents checks a SAM function's or state machine's Events and builds
// the rules they ask for, before anything is created, so that an
// unsupported event fails the deployment without leaving half a resource.
func (d *deployer) planEvents(r Resource, p map[string]any) ([]eventRule, error) {
	evs, _ := p["Events"].(map[string]any)
	var out []eventRule
	for _, evName := range slices.Sorted(maps.Keys(evs)) {
		ev, ok := evs[evName].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("event %s must be a mapping", evName)
		}
		typ, _ := ev["Type"].(string)
		props, _ := ev["Properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
		}
		rule := &eventbridge.PutRuleInput{State: ebtypes.RuleStateEnabled}
		tgt := ebtypes.Target{Id: aws.String(orDefault(nested(props, "Target", "Id"), r.Name+evName+"Target"))}
		var allowed []string
		switch typ {
		case "EventBridgeRule", "CloudWatchEvent":
			allowed = []string{"Pattern", "EventBusName", "Input", "InputPath", "InputTransformer", "RuleName", "State", "Target", "RetryPolicy", "DeadLetterConfig"}
			if props["Pattern"] == nil {
				return nil, fmt.Errorf("event %s: Pattern is required", evName)
			}
			pat, err := json.Marshal(props["Pattern"])
			if err != nil {
				return nil, fmt.Errorf("event %s: %w", evName, err)
			}
			rule.EventPattern = aws.String(string(pat))
			rule.EventBusName = optString(str(props, "EventBusName"))
		case "Schedule":
			allowed = []string{"Schedule", "Input", "Enabled", "State", "Name", "Description", "RetryPolicy", "DeadLetterConfig"}
			rule.ScheduleExpression = aws.String(str(props, "Schedule"))
			rule.Description = optString(str(props, "Description"))
			if e, ok := props["Enabled"].(bool); ok && !e {
				rule.State = ebtypes.RuleStateDisabled
			}
		default:
			return nil, fmt.Errorf("event %s: event type %s is not supported by the local cloud (EventBridgeRule, CloudWatchEvent, Schedule)", evName, typ)
		}
		for _, k := range slices.Sorted(maps.Keys(props)) {
			if !slices.Contains(allowed, k) {
				return nil, fmt.Errorf("event %s: property %s is not supported by the local cloud for %s events", evName, k, typ)
			}
		}
		if s := str(props, "State"); s != "" {
			rule.State = ebtypes.RuleState(s)
		}
		name := orDefault(str(props, "RuleName"), str(props, "Name"))
		if name == "" {
			name = d.physicalName(r.Name+evName, 64)
		}
		rule.Name = aws.String(name)
		if err := targetInput(props, &tgt); err != nil {
			return nil, fmt.Errorf("event %s: %w", evName, err)
		}
		if r.Type == "AWS::Serverless::StateMachine" {
			// SAM makes a role that lets EventBridge start the execution;
			// EventBridge refuses a Step Functions target without one.
			tgt.RoleArn = aws.String(fmt.Sprintf("arn:aws:iam::%s:role/%s", d.opts.Account, d.physicalName(r.Name+evName+"Role", 64)))
		}
		out = append(out, eventRule{name: name, rule: rule, target: tgt})
	}
	return out, nil
}

// putEvents creates planned rules with target as their target.
func (d *deployer) putEvents(rules []eventRule, target string) error {
	for _, er := range rules {
		if _, err := d.cl.Events.PutRule(d.ctx, er.rule); err != nil {
			return fmt.Errorf("rule %s: %w", er.name, err)
		}
		t := er.target
		t.Arn = aws.String(target)
		if err := d.putTargets(er.name, er.rule.EventBusName, []ebtypes.Target{t}); err != nil {
			return fmt.Errorf("rule %s: %w", er.name, err)
		}
	}
	return nil
}

// targetInput copies Input, InputPath, InputTransformer, RetryPolicy and
// DeadLetterConfig onto a target.
func targetInput(props map[string]any, t *ebtypes.Target) error {
	sub := map[string]any{}
	for _, k := range []string{"Input", "InputPath", "InputTransformer", "RetryPolicy", "DeadLetterConfig"} {
		if v, ok := props[k]; ok {
			sub[k] = v
		}
	}
	if len(sub) == 0 {
		return nil
	}
	var parsed ebtypes.Target
	if err := into(sub, nil, &parsed); err != nil {
		return err
	}
	t.Input, t.InputPath, t.InputTransformer = parsed.Input, parsed.InputPath, parsed.InputTransformer
	t.RetryPolicy, t.DeadLetterConfig = parsed.RetryPolicy, parsed.DeadLetterConfig
	return nil
}

func (d *deployer) putTargets(rule string, bus *string, ts []ebtypes.Target) error {
	out, err := d.cl.Events.PutTargets(d.ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), EventBusName: bus, Targets: ts})
	if err != nil {
		return err
	}
	if out.FailedEntryCount > 0 {
		f := out.FailedEntries[0]
		return fmt.Errorf("target %s refused: %s: %s", aws.ToString(f.TargetId), aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage))
	}
	return nil
}

func (d *deployer) table(r Resource, p map[string]any) (*Deployed, error) {
	if d.cl.DynamoDB == nil {
		return nil, fmt.Errorf("the template declares a DynamoDB table but the local cloud runs without DynamoDB (start it with DynamoDB enabled)")
	}
	var in dynamodb.CreateTableInput
	if err := into(p, []string{"PointInTimeRecoverySpecification", "SSESpecification", "TimeToLiveSpecification", "DeletionProtectionEnabled"}, &in); err != nil {
		return nil, err
	}
	if in.TableName == nil {
		in.TableName = aws.String(d.physicalName(r.Name, 255))
	}
	if _, err := d.cl.DynamoDB.CreateTable(d.ctx, &in); err != nil {
		return nil, err
	}
	// dynalite answers with its own account in the ARN; the stack's is the
	// cloud's account, which policies naming the table must match.
	arn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", d.opts.Region, d.opts.Account, aws.ToString(in.TableName))
	return &Deployed{PhysicalID: aws.ToString(in.TableName), Attrs: map[string]string{"Arn": arn}}, nil
}

func (d *deployer) topic(r Resource, p map[string]any) (*Deployed, error) {
	name := str(p, "TopicName")
	if name == "" {
		name = d.physicalName(r.Name, 256)
	}
	attrs := map[string]string{}
	if v := str(p, "KmsMasterKeyId"); v != "" {
		attrs["KmsMasterKeyId"] = v
	}
	if v := str(p, "DisplayName"); v != "" {
		attrs["DisplayName"] = v
	}
	if v, ok := p["FifoTopic"]; ok {
		attrs["FifoTopic"], _ = scalarString(v)
	}
	out, err := d.cl.SNS.CreateTopic(d.ctx, &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
	if err != nil {
		return nil, err
	}
	arn := aws.ToString(out.TopicArn)
	subs, _ := p["Subscription"].([]any)
	for i, s := range subs {
		m, _ := s.(map[string]any)
		if _, err := d.cl.SNS.Subscribe(d.ctx, &sns.SubscribeInput{TopicArn: aws.String(arn),
			Protocol: aws.String(str(m, "Protocol")), Endpoint: aws.String(str(m, "Endpoint"))}); err != nil {
			return nil, fmt.Errorf("Subscription[%d]: %w", i, err)
		}
	}
	return &Deployed{PhysicalID: arn, Attrs: map[string]string{"TopicArn": arn, "TopicName": name}}, nil
}

func (d *deployer) alarm(r Resource, p map[string]any) (*Deployed, error) {
	var in cloudwatch.PutMetricAlarmInput
	if err := into(p, nil, &in); err != nil {
		return nil, err
	}
	if in.AlarmName == nil {
		in.AlarmName = aws.String(d.physicalName(r.Name, 255))
	}
	if _, err := d.cl.CloudWatch.PutMetricAlarm(d.ctx, &in); err != nil {
		return nil, err
	}
	name := aws.ToString(in.AlarmName)
	return &Deployed{PhysicalID: name, Attrs: map[string]string{
		"Arn": fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", d.opts.Region, d.opts.Account, name)}}, nil
}

func (d *deployer) rule(r Resource, p map[string]any) (*Deployed, error) {
	name := str(p, "Name")
	if name == "" {
		name = d.physicalName(r.Name, 64)
	}
	in := &eventbridge.PutRuleInput{
		Name: aws.String(name), Description: optString(str(p, "Description")),
		ScheduleExpression: optString(str(p, "ScheduleExpression")), EventBusName: optString(str(p, "EventBusName")),
		State: ebtypes.RuleState(orDefault(str(p, "State"), "ENABLED")),
	}
	if p["EventPattern"] != nil {
		b, err := json.Marshal(p["EventPattern"])
		if err != nil {
			return nil, err
		}
		in.EventPattern = aws.String(string(b))
	}
	out, err := d.cl.Events.PutRule(d.ctx, in)
	if err != nil {
		return nil, err
	}
	if ts, ok := p["Targets"].([]any); ok && len(ts) > 0 {
		var targets []ebtypes.Target
		if err := into(map[string]any{"Targets": ts}, nil, &struct{ Targets *[]ebtypes.Target }{&targets}); err != nil {
			return nil, fmt.Errorf("Targets: %w", err)
		}
		if err := d.putTargets(name, in.EventBusName, targets); err != nil {
			return nil, err
		}
	}
	return &Deployed{PhysicalID: name, Attrs: map[string]string{"Arn": aws.ToString(out.RuleArn)}}, nil
}

func (d *deployer) parameter(r Resource, p map[string]any) (*Deployed, error) {
	var in ssm.PutParameterInput
	if err := into(p, []string{"Tags"}, &in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		in.Name = aws.String(d.physicalName(r.Name, 128))
	}
	if _, err := d.cl.SSM.PutParameter(d.ctx, &in); err != nil {
		return nil, err
	}
	return &Deployed{PhysicalID: aws.ToString(in.Name), Attrs: map[string]string{"Type": string(in.Type), "Value": aws.ToString(in.Value)}}, nil
}

func nested(m map[string]any, keys ...string) string {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[k]
	}
	s, _ := cur.(string)
	return s
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
