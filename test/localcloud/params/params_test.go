package params

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// ParameterStoreAPI is the part of the SSM client the rule tests use, with
// the SDK's signatures.
type ParameterStoreAPI interface {
	PutParameter(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	GetParameter(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	GetParameters(context.Context, *ssm.GetParametersInput, ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
	GetParametersByPath(context.Context, *ssm.GetParametersByPathInput, ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error)
	GetParameterHistory(context.Context, *ssm.GetParameterHistoryInput, ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error)
	LabelParameterVersion(context.Context, *ssm.LabelParameterVersionInput, ...func(*ssm.Options)) (*ssm.LabelParameterVersionOutput, error)
	DeleteParameter(context.Context, *ssm.DeleteParameterInput, ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
	DescribeParameters(context.Context, *ssm.DescribeParametersInput, ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error)
}

var (
	_ ParameterStoreAPI = (*ParameterStore)(nil)
	_ ParameterStoreAPI = (*ssm.Client)(nil)
	_ Images            = (*sim.EC2)(nil)
	_ EventSink         = (*sim.World)(nil)
)

const region = "eu-west-1"

// env is one TestCloud with a Parameter Store client for region.
type env struct {
	t     *testing.T
	clk   *clock.Sim
	world *sim.World
	ps    ParameterStoreAPI
	ctx   context.Context
	// client gives a client for another region of the same cloud; pass
	// it a context for that region too.
	client func(region string) ParameterStoreAPI
}

// newEnv starts a TestCloud from backend.
func newEnv(t *testing.T, backend Backend) *env {
	t.Helper()
	tc := backend(t)
	return &env{t: t, clk: tc.Clock, world: tc.World, ps: tc.Client(region), ctx: api.WithRequest(context.Background(), api.Request{Region: region}), client: tc.Client}
}

// put writes a String parameter.
func (e *env) put(name, value string, overwrite bool) int64 {
	e.t.Helper()
	out, err := e.ps.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: types.ParameterTypeString, Overwrite: aws.Bool(overwrite)})
	if err != nil {
		e.t.Fatalf("PutParameter %s: %v", name, err)
	}
	return out.Version
}

// get reads a parameter through a selector.
func (e *env) get(name string) (types.Parameter, error) {
	out, err := e.ps.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		return types.Parameter{}, err
	}
	return *out.Parameter, nil
}

// image registers an AMI in the region and waits until it is available.
func (e *env) image(name string) string {
	e.t.Helper()
	out, err := e.world.EC2().RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String(name), Architecture: ec2types.ArchitectureValuesX8664})
	if err != nil {
		e.t.Fatal(err)
	}
	e.clk.Advance(sim.DefaultEC2Config().ImageAvailableDelay)
	return aws.ToString(out.ImageId)
}

// changes returns the "Parameter Store Change" event details so far.
func (e *env) changes() []ChangeEvent {
	var out []ChangeEvent
	for _, ev := range e.world.Events() {
		if ev.DetailType != "Parameter Store Change" {
			continue
		}
		var c ChangeEvent
		if err := json.Unmarshal(ev.Detail, &c); err != nil {
			e.t.Fatal(err)
		}
		if ev.Source != "aws.ssm" || len(ev.Resources) != 1 || !strings.HasPrefix(ev.Resources[0], "arn:aws:ssm:eu-west-1:123456789012:parameter/") {
			e.t.Fatalf("event envelope %+v", ev)
		}
		out = append(out, c)
	}
	return out
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("got %v, want AWS error %s", err, code)
	}
}

func testParameterNamesFollowTheDocumentedRules(t *testing.T, backend Backend) {
	cases := []struct {
		name, param, code string
	}{
		{"a plain name is accepted", "golden-ami_1.0", ""},
		{"a fully qualified hierarchy is accepted", "/phoenix/web/ami", ""},
		{"names may not begin with aws", "awsThing", "ValidationException"},
		{"names may not begin with ssm in any case", "/SSM/thing", "ValidationException"},
		{"a hierarchy must begin with a slash", "phoenix/web", "ValidationException"},
		{"a hierarchy has no empty level", "/phoenix//web", "ValidationException"},
		{"names use letters, digits and . - _ only", "/phoenix/web ami", "ValidationException"},
		{"a hierarchy has at most fifteen levels", strings.Repeat("/l", 16), "HierarchyLevelLimitExceededException"},
		{"the ARN of a parameter is at most 1011 characters", "/" + strings.Repeat("n", 1000), "ValidationException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, backend)
			_, err := e.ps.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String(c.param), Value: aws.String("v"), Type: types.ParameterTypeString})
			if c.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantCode(t, err, c.code)
		})
	}
}

func testPutParameterVersionsAndOverwriteRules(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	if v := e.put("/app/ami", "ami-1", false); v != 1 {
		t.Fatalf("first version %d, want 1", v)
	}
	_, err := e.ps.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("/app/ami"), Value: aws.String("ami-2"), Type: types.ParameterTypeString})
	wantCode(t, err, "ParameterAlreadyExists")
	out, err := e.ps.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("/app/ami"), Value: aws.String("ami-2"), Overwrite: aws.Bool(true)})
	if err != nil {
		t.Fatalf("overwrite without a type (the type is kept): %v", err)
	}
	if out.Version != 2 || out.Tier != types.ParameterTierStandard {
		t.Fatalf("overwrite gave version %d tier %s, want 2 Standard", out.Version, out.Tier)
	}
	p, err := e.get("/app/ami")
	if err != nil || aws.ToString(p.Value) != "ami-2" || p.Type != types.ParameterTypeString || p.Version != 2 || aws.ToString(p.DataType) != "text" {
		t.Fatalf("latest %+v, %v", p, err)
	}
	cases := []struct {
		name string
		in   ssm.PutParameterInput
		code string
	}{
		{"tags and overwrite cannot be used together", ssm.PutParameterInput{Name: aws.String("/app/ami"), Value: aws.String("x"), Overwrite: aws.Bool(true), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}, "ValidationException"},
		{"a new parameter needs a type", ssm.PutParameterInput{Name: aws.String("/app/new"), Value: aws.String("x")}, "ValidationException"},
		{"a value is required", ssm.PutParameterInput{Name: aws.String("/app/new"), Type: types.ParameterTypeString}, "ValidationException"},
		{"standard values are at most 4096 characters", ssm.PutParameterInput{Name: aws.String("/app/new"), Type: types.ParameterTypeString, Value: aws.String(strings.Repeat("x", 4097))}, "ValidationException"},
		{"the advanced tier is not modelled", ssm.PutParameterInput{Name: aws.String("/app/new"), Type: types.ParameterTypeString, Value: aws.String("x"), Tier: types.ParameterTierAdvanced}, "ValidationException"},
		{"an allowed pattern must match the value", ssm.PutParameterInput{Name: aws.String("/app/new"), Type: types.ParameterTypeString, Value: aws.String("abc"), AllowedPattern: aws.String(`^\d+$`)}, "ParameterPatternMismatchException"},
		{"unknown data types are refused", ssm.PutParameterInput{Name: aws.String("/app/new"), Type: types.ParameterTypeString, Value: aws.String("x"), DataType: aws.String("integer-ish")}, "ValidationException"},
		{"aws:ec2:image is for String parameters only", ssm.PutParameterInput{Name: aws.String("/app/new"), Type: types.ParameterTypeStringList, Value: aws.String("ami-12345678"), DataType: aws.String("aws:ec2:image")}, "ValidationException"},
		{"a text parameter cannot become aws:ec2:image", ssm.PutParameterInput{Name: aws.String("/app/ami"), Value: aws.String("ami-12345678"), Overwrite: aws.Bool(true), DataType: aws.String("aws:ec2:image")}, "ValidationException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.ps.PutParameter(e.ctx, &c.in)
			wantCode(t, err, c.code)
		})
	}
}

func testGetParameterSelectsVersionsAndLabels(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	e.put("/app/ami", "v1", false)
	e.put("/app/ami", "v2", true)
	e.put("/app/ami", "v3", true)
	if _, err := e.ps.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/ami"), ParameterVersion: aws.Int64(2), Labels: []string{"stable"}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, sel, value, selector, code string
	}{
		{"a bare name reads the latest version", "/app/ami", "v3", "", ""},
		{"name:version reads that version", "/app/ami:1", "v1", ":1", ""},
		{"name:label reads the labelled version", "/app/ami:stable", "v2", ":stable", ""},
		{"the ARN designates the parameter", "arn:aws:ssm:eu-west-1:123456789012:parameter/app/ami", "v3", "", ""},
		{"a missing version is ParameterVersionNotFound", "/app/ami:9", "", "", "ParameterVersionNotFound"},
		{"a missing label is ParameterVersionNotFound", "/app/ami:canary", "", "", "ParameterVersionNotFound"},
		{"a missing parameter is ParameterNotFound", "/app/other", "", "", "ParameterNotFound"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := e.get(c.sel)
			if c.code != "" {
				wantCode(t, err, c.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(p.Value) != c.value || aws.ToString(p.Selector) != c.selector || aws.ToString(p.Name) != "/app/ami" {
				t.Fatalf("got %s (selector %q, name %s), want %s (selector %q)", aws.ToString(p.Value), aws.ToString(p.Selector), aws.ToString(p.Name), c.value, c.selector)
			}
		})
	}
	t.Run("GetParameters lists the names it cannot resolve", func(t *testing.T) {
		out, err := e.ps.GetParameters(e.ctx, &ssm.GetParametersInput{Names: []string{"/app/ami:1", "/nope", "/app/ami:7"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Parameters) != 1 || aws.ToString(out.Parameters[0].Value) != "v1" || strings.Join(out.InvalidParameters, ",") != "/nope,/app/ami:7" {
			t.Fatalf("parameters %+v invalid %v", out.Parameters, out.InvalidParameters)
		}
	})
}

func testLabelsMoveBetweenVersionsAndInvalidLabelsAreReported(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	e.put("/app/ami", "v1", false)
	e.put("/app/ami", "v2", true)
	label := func(v int64, labels ...string) *ssm.LabelParameterVersionOutput {
		t.Helper()
		out, err := e.ps.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/ami"), ParameterVersion: aws.Int64(v), Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	label(1, "live")
	out := label(2, "live", "1bad", "awsy", "ok.label-1")
	if strings.Join(out.InvalidLabels, ",") != "1bad,awsy" || out.ParameterVersion != 2 {
		t.Fatalf("invalid labels %v version %d, want 1bad,awsy and 2", out.InvalidLabels, out.ParameterVersion)
	}
	hist, err := e.ps.GetParameterHistory(e.ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/app/ami")})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Parameters) != 2 || len(hist.Parameters[0].Labels) != 0 || strings.Join(hist.Parameters[1].Labels, ",") != "live,ok.label-1" {
		t.Fatalf("history labels %v / %v, want none on 1 and live,ok.label-1 on 2", hist.Parameters[0].Labels, hist.Parameters[1].Labels)
	}
	_, err = e.ps.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/ami"), ParameterVersion: aws.Int64(5), Labels: []string{"x"}})
	wantCode(t, err, "ParameterVersionNotFound")
	many := []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"}
	_, err = e.ps.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/ami"), Labels: many})
	wantCode(t, err, "ParameterVersionLabelLimitExceeded")
}

func testGetParametersByPathReturnsChildrenOrTheWholeSubtree(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	for _, n := range []string{"/app/a", "/app/b", "/app/web/ami", "/app/web/deep/x", "/other/a", "/apple"} {
		e.put(n, "v", false)
	}
	names := func(recursive bool, path string) string {
		t.Helper()
		var got []string
		var token *string
		for range 10 {
			out, err := e.ps.GetParametersByPath(e.ctx, &ssm.GetParametersByPathInput{Path: aws.String(path), Recursive: aws.Bool(recursive), MaxResults: aws.Int32(2), NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range out.Parameters {
				got = append(got, aws.ToString(p.Name))
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
		return strings.Join(got, ",")
	}
	if got := names(false, "/app"); got != "/app/a,/app/b" {
		t.Errorf("one level under /app: %s", got)
	}
	if got := names(true, "/app/"); got != "/app/a,/app/b,/app/web/ami,/app/web/deep/x" {
		t.Errorf("recursively under /app/: %s", got)
	}
	_, err := e.ps.GetParametersByPath(e.ctx, &ssm.GetParametersByPathInput{Path: aws.String("app")})
	wantCode(t, err, "ValidationException")
}

func testDeleteParameterRemovesEveryVersion(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	e.put("/app/ami", "v1", false)
	e.put("/app/ami", "v2", true)
	if _, err := e.ps.DeleteParameter(e.ctx, &ssm.DeleteParameterInput{Name: aws.String("/app/ami")}); err != nil {
		t.Fatal(err)
	}
	_, err := e.get("/app/ami:1")
	wantCode(t, err, "ParameterNotFound")
	_, err = e.ps.DeleteParameter(e.ctx, &ssm.DeleteParameterInput{Name: aws.String("/app/ami")})
	wantCode(t, err, "ParameterNotFound")
	if v := e.put("/app/ami", "again", false); v != 1 {
		t.Fatalf("a re-created parameter starts at version %d, want 1", v)
	}
}

func testEveryChangeEmitsAParameterStoreChangeEvent(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	_, err := e.ps.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("/app/ami"), Value: aws.String("v1"), Type: types.ParameterTypeString, Description: aws.String("Golden AMI")})
	if err != nil {
		t.Fatal(err)
	}
	e.put("/app/ami", "v2", true)
	if _, err := e.ps.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/ami"), Labels: []string{"live"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ps.DeleteParameter(e.ctx, &ssm.DeleteParameterInput{Name: aws.String("/app/ami")}); err != nil {
		t.Fatal(err)
	}
	got := e.changes()
	want := []ChangeEvent{
		{Operation: "Create", Name: "/app/ami", Type: "String", DataType: "text", Description: "Golden AMI"},
		{Operation: "Update", Name: "/app/ami", Type: "String", DataType: "text", Description: "Golden AMI"},
		{Operation: "LabelParameterVersion", Name: "/app/ami", Type: "String", DataType: "text", Description: "Golden AMI"},
		{Operation: "Delete", Name: "/app/ami", Type: "String", DataType: "text", Description: "Golden AMI"},
	}
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if ev := e.world.Events()[0]; ev.Resources[0] != "arn:aws:ssm:eu-west-1:123456789012:parameter/app/ami" {
		t.Errorf("resource %s", ev.Resources[0])
	}
}

func testAnImageParameterIsValidatedAgainstTheRegionsAMIs(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	good := e.image("golden-1")
	putImage := func(value string, overwrite bool) int64 {
		t.Helper()
		out, err := e.ps.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("/app/ami"), Value: aws.String(value), Type: types.ParameterTypeString, DataType: aws.String("aws:ec2:image"), Overwrite: aws.Bool(overwrite)})
		if err != nil {
			t.Fatalf("PutParameter %s returned %v; AWS answers success and validates later", value, err)
		}
		return out.Version
	}
	t.Run("an AMI that does not exist is accepted by the call but never stored", func(t *testing.T) {
		if v := putImage("ami-0123456789abcdef0", false); v != 1 {
			t.Fatalf("version %d, want 1", v)
		}
		e.clk.Settle()
		_, err := e.get("/app/ami")
		wantCode(t, err, "ParameterNotFound")
		evs := e.changes()
		if len(evs) != 1 || evs[0].Exception != "Unable to Describe Resource" || evs[0].Operation != "Create" || evs[0].DataType != "aws:ec2:image" {
			t.Fatalf("events %+v, want one Create failure with exception Unable to Describe Resource", evs)
		}
	})
	t.Run("an available AMI is stored at once", func(t *testing.T) {
		putImage(good, false)
		p, err := e.get("/app/ami")
		if err != nil || aws.ToString(p.Value) != good || aws.ToString(p.DataType) != "aws:ec2:image" {
			t.Fatalf("stored %+v, %v", p, err)
		}
	})
	t.Run("an update to a malformed id leaves the previous value", func(t *testing.T) {
		if v := putImage("not-an-ami", true); v != 2 {
			t.Fatalf("version %d, want 2", v)
		}
		e.clk.Settle()
		p, err := e.get("/app/ami")
		if err != nil || aws.ToString(p.Value) != good || p.Version != 1 {
			t.Fatalf("after a failed update: %+v, %v", p, err)
		}
		evs := e.changes()
		if last := evs[len(evs)-1]; last.Operation != "Update" || last.Exception == "" {
			t.Fatalf("last event %+v, want an Update failure", last)
		}
	})
	t.Run("an AMI still pending fails validation", func(t *testing.T) {
		out, err := e.world.EC2().RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String("golden-2")})
		if err != nil {
			t.Fatal(err)
		}
		putImage(aws.ToString(out.ImageId), true)
		e.clk.Settle()
		if p, _ := e.get("/app/ami"); aws.ToString(p.Value) != good {
			t.Fatalf("value %s, want the previous %s", aws.ToString(p.Value), good)
		}
	})
	t.Run("an AMI of another region fails validation", func(t *testing.T) {
		other := api.WithRequest(context.Background(), api.Request{Region: "us-west-2"})
		ps := e.client("us-west-2")
		_, err := ps.PutParameter(other, &ssm.PutParameterInput{Name: aws.String("/app/ami"), Value: aws.String(good), Type: types.ParameterTypeString, DataType: aws.String("aws:ec2:image")})
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Settle()
		if _, err := ps.GetParameter(other, &ssm.GetParameterInput{Name: aws.String("/app/ami")}); err == nil {
			t.Fatal("an AMI of eu-west-1 was accepted in us-west-2")
		}
	})
}

func testSecureStringValuesAreShownOnlyWithDecryption(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	if _, err := e.ps.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("/app/secret"), Value: aws.String("hunter2"), Type: types.ParameterTypeSecureString}); err != nil {
		t.Fatal(err)
	}
	plain, err := e.ps.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("/app/secret"), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(plain.Parameter.Value) != "hunter2" {
		t.Fatalf("with decryption: %+v, %v", plain, err)
	}
	hidden, err := e.ps.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("/app/secret")})
	if err != nil || strings.Contains(aws.ToString(hidden.Parameter.Value), "hunter2") || aws.ToString(hidden.Parameter.Value) == "" {
		t.Fatalf("without decryption the value is %q", aws.ToString(hidden.Parameter.Value))
	}
	meta, err := e.ps.DescribeParameters(e.ctx, &ssm.DescribeParametersInput{})
	if err != nil || len(meta.Parameters) != 1 || aws.ToString(meta.Parameters[0].KeyId) != "alias/aws/ssm" {
		t.Fatalf("metadata %+v, %v; want the default key alias/aws/ssm", meta, err)
	}
}

func testDescribeParametersFilters(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	e.put("/app/a", "v", false)
	e.put("/app/web/b", "v", false)
	e.put("/db/c", "v", false)
	if _, err := e.ps.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("/app/list"), Value: aws.String("a,b"), Type: types.ParameterTypeStringList}); err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	cases := []struct {
		name string
		in   ssm.DescribeParametersInput
		want string
	}{
		{"no filter lists everything by name", ssm.DescribeParametersInput{}, "/app/a,/app/list,/app/web/b,/db/c"},
		{"the legacy Name filter matches a prefix", ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"/app/w"}}}}, "/app/web/b"},
		{"a Type filter selects StringList", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: str("Type"), Values: []string{"StringList"}}}}, "/app/list"},
		{"a Path filter is one level by default", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: str("Path"), Values: []string{"/app"}}}}, "/app/a,/app/list"},
		{"a recursive Path filter takes the subtree", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: str("Path"), Option: str("Recursive"), Values: []string{"/app"}}}}, "/app/a,/app/list,/app/web/b"},
		{"a Name filter can match a substring", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: str("Name"), Option: str("Contains"), Values: []string{"web"}}}}, "/app/web/b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := e.ps.DescribeParameters(e.ctx, &c.in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range out.Parameters {
				got = append(got, aws.ToString(p.Name))
			}
			if strings.Join(got, ",") != c.want {
				t.Fatalf("got %v, want %s", got, c.want)
			}
		})
	}
	_, err := e.ps.DescribeParameters(e.ctx, &ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: str("Color"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidFilterKey")
}
