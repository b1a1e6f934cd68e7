package differential

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// The Lambda comparisons: the configuration operations Phoenix's CLI and
// the local cloud's deploy use. Both sides take the same CreateFunction
// request, a .zip package holding a `bootstrap` script; moto also needs
// the execution role to exist in its IAM (lamMotoRole), the local cloud
// checks only the role ARN's form. Invoke is not compared: moto runs code
// only in Docker, which this machine does not have.
//
// Timing differs by design: a new function is Pending, and an updated one
// InProgress, on the local cloud until its clock runs (p.Local.Settle());
// moto's are Active and Successful at once.

const lamRole = "arn:aws:iam::123456789012:role/phoenix"

var (
	lamLastModifiedLocal = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$`)
	lamLastModifiedMoto  = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$`)
	lamRevision          = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// lamMotoRole creates the execution role in moto's IAM (the module takes
// no IAM client, and the local cloud has no IAM API to mirror it on).
func lamMotoRole(t *testing.T) {
	t.Helper()
	form := url.Values{"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {"phoenix"},
		"AssumeRolePolicyDocument": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`}}
	req, err := http.NewRequest(http.MethodPost, motoURL+"/", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// moto routes by the credential scope's service; it checks no signature.
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDMOTO/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("moto IAM CreateRole: %v", err)
	}
	defer resp.Body.Close()
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK {
		t.Fatalf("moto IAM CreateRole: %d %s", resp.StatusCode, body)
	}
}

// lamZip is a deployment package: an executable `bootstrap` script.
func lamZip(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	f, err := w.CreateHeader(h)
	if err == nil {
		_, err = f.Write([]byte("#!/bin/sh\necho bootstrap\n"))
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type lamEnv struct {
	p   *pair
	c   [2]*lambda.Client
	zip []byte
}

func lamSetup(t *testing.T) *lamEnv {
	t.Helper()
	p := newPair(t)
	lamMotoRole(t)
	return &lamEnv{p: p, c: [2]*lambda.Client{lambda.NewFromConfig(p.LocalConfig), lambda.NewFromConfig(p.MotoConfig)}, zip: lamZip(t)}
}

func lamCall[R any](t *testing.T, e *lamEnv, call func(c *lambda.Client) (R, error)) ([2]R, [2]outcome) {
	t.Helper()
	return ec2Each(t, e.c, func(c *lambda.Client, _ int) (R, error) { return call(c) })
}

// lamInput is a CreateFunction request with nothing but the required
// members; tweak adds the rest.
func (e *lamEnv) lamInput(name string, tweak func(*lambda.CreateFunctionInput)) *lambda.CreateFunctionInput {
	in := &lambda.CreateFunctionInput{FunctionName: aws.String(name), Role: aws.String(lamRole),
		Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Code: &ltypes.FunctionCode{ZipFile: e.zip}}
	if tweak != nil {
		tweak(in)
	}
	return in
}

func (e *lamEnv) lamCreate(t *testing.T, name string, tweak func(*lambda.CreateFunctionInput)) ([2]*lambda.CreateFunctionOutput, [2]outcome) {
	t.Helper()
	return lamCall(t, e, func(c *lambda.Client) (*lambda.CreateFunctionOutput, error) {
		return c.CreateFunction(bg, e.lamInput(name, tweak))
	})
}

// lamFull is the configuration a Phoenix function is deployed with.
func lamFull(in *lambda.CreateFunctionInput) {
	in.Environment = &ltypes.Environment{Variables: map[string]string{"TABLE": "phoenix", "STAGE": "prod"}}
	in.Timeout, in.MemorySize = aws.Int32(30), aws.Int32(256)
	in.Architectures = []ltypes.Architecture{ltypes.ArchitectureArm64}
	in.Description = aws.String("rollout worker")
	in.Tags = map[string]string{"app": "phoenix"}
}

// lamView renders what both sides must agree on of a function's
// configuration: everything but LastModified, RevisionId, LoggingConfig,
// State and LastUpdateStatus (compared on their own).
func lamView(c ltypes.FunctionConfiguration) string {
	var env []string
	if c.Environment != nil {
		for k, v := range c.Environment.Variables {
			env = append(env, k+"="+v)
		}
	}
	sort.Strings(env)
	tracing, storage := "", int32(0)
	if c.TracingConfig != nil {
		tracing = string(c.TracingConfig.Mode)
	}
	if c.EphemeralStorage != nil {
		storage = aws.ToInt32(c.EphemeralStorage.Size)
	}
	return strings.Join([]string{
		aws.ToString(c.FunctionName), aws.ToString(c.FunctionArn), string(c.Runtime), aws.ToString(c.Handler), aws.ToString(c.Role),
		fmt.Sprintf("timeout=%d memory=%d", aws.ToInt32(c.Timeout), aws.ToInt32(c.MemorySize)),
		fmt.Sprint("arch=", c.Architectures), "env=" + strings.Join(env, ","), "description=" + aws.ToString(c.Description),
		fmt.Sprintf("code=%d/%s", c.CodeSize, aws.ToString(c.CodeSha256)), "version=" + aws.ToString(c.Version),
		"package=" + string(c.PackageType), "tracing=" + tracing, fmt.Sprintf("storage=%d", storage),
		fmt.Sprintf("vpc=%v", c.VpcConfig != nil),
	}, " | ")
}

// lamConfig converts an operation output (which repeats the configuration
// members) to a FunctionConfiguration.
func lamConfig(v any) ltypes.FunctionConfiguration {
	switch o := v.(type) {
	case *lambda.CreateFunctionOutput:
		return ltypes.FunctionConfiguration{FunctionName: o.FunctionName, FunctionArn: o.FunctionArn, Runtime: o.Runtime, Handler: o.Handler, Role: o.Role,
			Timeout: o.Timeout, MemorySize: o.MemorySize, Architectures: o.Architectures, Environment: o.Environment, Description: o.Description,
			CodeSize: o.CodeSize, CodeSha256: o.CodeSha256, Version: o.Version, PackageType: o.PackageType, TracingConfig: o.TracingConfig,
			EphemeralStorage: o.EphemeralStorage, VpcConfig: o.VpcConfig, State: o.State, LastUpdateStatus: o.LastUpdateStatus,
			LastModified: o.LastModified, RevisionId: o.RevisionId, LoggingConfig: o.LoggingConfig, StateReasonCode: o.StateReasonCode}
	case *lambda.GetFunctionConfigurationOutput:
		return ltypes.FunctionConfiguration{FunctionName: o.FunctionName, FunctionArn: o.FunctionArn, Runtime: o.Runtime, Handler: o.Handler, Role: o.Role,
			Timeout: o.Timeout, MemorySize: o.MemorySize, Architectures: o.Architectures, Environment: o.Environment, Description: o.Description,
			CodeSize: o.CodeSize, CodeSha256: o.CodeSha256, Version: o.Version, PackageType: o.PackageType, TracingConfig: o.TracingConfig,
			EphemeralStorage: o.EphemeralStorage, VpcConfig: o.VpcConfig, State: o.State, LastUpdateStatus: o.LastUpdateStatus,
			LastModified: o.LastModified, RevisionId: o.RevisionId, LoggingConfig: o.LoggingConfig, StateReasonCode: o.StateReasonCode}
	case *lambda.UpdateFunctionConfigurationOutput:
		return ltypes.FunctionConfiguration{FunctionName: o.FunctionName, FunctionArn: o.FunctionArn, Runtime: o.Runtime, Handler: o.Handler, Role: o.Role,
			Timeout: o.Timeout, MemorySize: o.MemorySize, Architectures: o.Architectures, Environment: o.Environment, Description: o.Description,
			CodeSize: o.CodeSize, CodeSha256: o.CodeSha256, Version: o.Version, PackageType: o.PackageType, TracingConfig: o.TracingConfig,
			EphemeralStorage: o.EphemeralStorage, VpcConfig: o.VpcConfig, State: o.State, LastUpdateStatus: o.LastUpdateStatus,
			LastModified: o.LastModified, RevisionId: o.RevisionId, LoggingConfig: o.LoggingConfig, StateReasonCode: o.StateReasonCode}
	}
	panic(fmt.Sprintf("lamConfig: %T", v))
}

// lamSame compares two configurations' views.
func lamSame(t *testing.T, what string, cfg [2]ltypes.FunctionConfiguration) {
	t.Helper()
	ec2Same(t, what, [2]string{lamView(cfg[0]), lamView(cfg[1])})
}

// lamState checks the state and last update status of each side.
func lamState(t *testing.T, what string, cfg [2]ltypes.FunctionConfiguration, local, moto string) {
	t.Helper()
	for s, want := range [2]string{local, moto} {
		if got := fmt.Sprintf("%s/%s", cfg[s].State, cfg[s].LastUpdateStatus); got != want {
			t.Errorf("%s: %s state/last update %s, want %s", what, ec2SideName[s], got, want)
		}
	}
}

// lamRecorded checks the fields each side fills its own way: LastModified
// (Lambda's "+0000" layout on the local cloud, nanoseconds and "Z" on
// moto), RevisionId and LoggingConfig (absent on moto).
func lamRecorded(t *testing.T, what string, cfg [2]ltypes.FunctionConfiguration) {
	t.Helper()
	l, m := cfg[0], cfg[1]
	if !lamLastModifiedLocal.MatchString(aws.ToString(l.LastModified)) || !lamLastModifiedMoto.MatchString(aws.ToString(m.LastModified)) {
		t.Errorf("%s LastModified: local cloud %q (want %s), moto %q (recorded %s)", what, aws.ToString(l.LastModified), lamLastModifiedLocal, aws.ToString(m.LastModified), lamLastModifiedMoto)
	}
	if !lamRevision.MatchString(aws.ToString(l.RevisionId)) || m.RevisionId != nil {
		t.Errorf("%s RevisionId: local cloud %q (want a UUID), moto %v (recorded: none)", what, aws.ToString(l.RevisionId), m.RevisionId)
	}
	if l.LoggingConfig == nil || l.LoggingConfig.LogFormat != ltypes.LogFormatText || aws.ToString(l.LoggingConfig.LogGroup) != "/aws/lambda/"+aws.ToString(l.FunctionName) || m.LoggingConfig != nil {
		t.Errorf("%s LoggingConfig: local cloud %+v (want Text, /aws/lambda/<name>), moto %+v (recorded: none)", what, l.LoggingConfig, m.LoggingConfig)
	}
}

func lamNames(fs []ltypes.FunctionConfiguration) string {
	var n []string
	for _, f := range fs {
		n = append(n, aws.ToString(f.FunctionName))
	}
	return strings.Join(n, ",")
}

// CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions and
// the not-found answers.
func TestLambdaCreateAndReadFunctions(t *testing.T) {
	e := lamSetup(t)
	// Out of name order, to observe the listing order.
	created, out := e.lamCreate(t, "fn-b", lamFull)
	ec2OK(t, "CreateFunction fn-b", out)
	cfg := [2]ltypes.FunctionConfiguration{lamConfig(created[0]), lamConfig(created[1])}
	lamSame(t, "CreateFunction fn-b", cfg)
	if want := "fn-b | arn:aws:lambda:us-east-1:123456789012:function:fn-b | provided.al2023 | bootstrap | " + lamRole +
		" | timeout=30 memory=256 | arch=[arm64] | env=STAGE=prod,TABLE=phoenix | description=rollout worker"; !strings.HasPrefix(lamView(cfg[0]), want) {
		t.Errorf("CreateFunction fn-b: %s, want it to start %s", lamView(cfg[0]), want)
	}
	// Pending while Lambda creates it on the local cloud (AWS), Active at
	// once on moto.
	lamState(t, "CreateFunction", cfg, "Pending/", "Active/")
	if cfg[0].StateReasonCode != ltypes.StateReasonCodeCreating {
		t.Errorf("local cloud StateReasonCode %s, want Creating", cfg[0].StateReasonCode)
	}
	lamRecorded(t, "CreateFunction", cfg)
	for _, n := range []string{"fn-a", "fn-c"} {
		created, out = e.lamCreate(t, n, nil)
		ec2OK(t, "CreateFunction "+n, out)
		lamSame(t, "CreateFunction "+n+" (defaults)", [2]ltypes.FunctionConfiguration{lamConfig(created[0]), lamConfig(created[1])})
	}
	if got := lamView(lamConfig(created[0])); !strings.Contains(got, "timeout=3 memory=128 | arch=[x86_64] | env= | description= |") {
		t.Errorf("defaults: %s", got)
	}
	e.p.Local.Settle()

	gc, out := lamCall(t, e, func(c *lambda.Client) (*lambda.GetFunctionConfigurationOutput, error) {
		return c.GetFunctionConfiguration(bg, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("fn-b")})
	})
	ec2OK(t, "GetFunctionConfiguration", out)
	cfg = [2]ltypes.FunctionConfiguration{lamConfig(gc[0]), lamConfig(gc[1])}
	lamSame(t, "GetFunctionConfiguration", cfg)
	lamState(t, "GetFunctionConfiguration", cfg, "Active/Successful", "Active/Successful")
	lamRecorded(t, "GetFunctionConfiguration", cfg)
	byARN, out := lamCall(t, e, func(c *lambda.Client) (*lambda.GetFunctionConfigurationOutput, error) {
		return c.GetFunctionConfiguration(bg, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:fn-b")})
	})
	ec2OK(t, "GetFunctionConfiguration by ARN", out)
	lamSame(t, "GetFunctionConfiguration by ARN", [2]ltypes.FunctionConfiguration{lamConfig(byARN[0]), lamConfig(byARN[1])})
	if lamView(lamConfig(byARN[0])) != lamView(cfg[0]) {
		t.Errorf("local cloud by ARN: %s, by name %s", lamView(lamConfig(byARN[0])), lamView(cfg[0]))
	}

	gf, out := lamCall(t, e, func(c *lambda.Client) (*lambda.GetFunctionOutput, error) {
		return c.GetFunction(bg, &lambda.GetFunctionInput{FunctionName: aws.String("fn-b")})
	})
	ec2OK(t, "GetFunction", out)
	lamSame(t, "GetFunction configuration", [2]ltypes.FunctionConfiguration{*gf[0].Configuration, *gf[1].Configuration})
	ec2Same(t, "GetFunction tags", [2]string{fmt.Sprint(gf[0].Tags), fmt.Sprint(gf[1].Tags)})
	for s := range gf {
		// The code's location is a presigned URL in AWS: present, not compared.
		if gf[s].Code == nil || aws.ToString(gf[s].Code.RepositoryType) != "S3" || aws.ToString(gf[s].Code.Location) == "" {
			t.Errorf("%s GetFunction Code %+v, want RepositoryType S3 and a location", ec2SideName[s], gf[s].Code)
		}
	}
	if fmt.Sprint(gf[0].Tags) != "map[app:phoenix]" {
		t.Errorf("GetFunction tags %v", gf[0].Tags)
	}

	// ListFunctions: the local cloud lists by name, moto in creation order
	// (Lambda documents no order).
	lf, out := lamCall(t, e, func(c *lambda.Client) (*lambda.ListFunctionsOutput, error) {
		return c.ListFunctions(bg, &lambda.ListFunctionsInput{})
	})
	ec2OK(t, "ListFunctions", out)
	if l, m := lamNames(lf[0].Functions), lamNames(lf[1].Functions); l != "fn-a,fn-b,fn-c" || m != "fn-b,fn-a,fn-c" {
		t.Errorf("ListFunctions order: local cloud %s (want by name), moto %s (recorded: creation order)", l, m)
	}
	for s := range lf {
		for _, f := range lf[s].Functions {
			if aws.ToString(f.FunctionName) == "fn-b" && lamView(f) != lamView(cfg[s]) {
				t.Errorf("%s ListFunctions fn-b: %s, GetFunctionConfiguration %s", ec2SideName[s], lamView(f), lamView(cfg[s]))
			}
		}
	}
	// MaxItems 2: two and a marker on the local cloud; moto ignores it.
	lf, out = lamCall(t, e, func(c *lambda.Client) (*lambda.ListFunctionsOutput, error) {
		return c.ListFunctions(bg, &lambda.ListFunctionsInput{MaxItems: aws.Int32(2)})
	})
	ec2OK(t, "ListFunctions MaxItems 2", out)
	if len(lf[0].Functions) != 2 || lf[0].NextMarker == nil || len(lf[1].Functions) != 3 || lf[1].NextMarker != nil {
		t.Errorf("ListFunctions MaxItems 2: local cloud %d, marker %v (want 2 and a marker); moto %d, marker %v (recorded: 3, none)",
			len(lf[0].Functions), lf[0].NextMarker != nil, len(lf[1].Functions), lf[1].NextMarker != nil)
	} else {
		next, err := e.c[0].ListFunctions(bg, &lambda.ListFunctionsInput{MaxItems: aws.Int32(2), Marker: lf[0].NextMarker})
		if err != nil || lamNames(next.Functions) != "fn-c" || next.NextMarker != nil {
			t.Errorf("local cloud ListFunctions page 2: %v %v", err, next)
		}
	}

	for _, c := range []struct {
		what string
		call func(c *lambda.Client) (any, error)
	}{
		{"GetFunction", func(c *lambda.Client) (any, error) {
			return c.GetFunction(bg, &lambda.GetFunctionInput{FunctionName: aws.String("nope")})
		}},
		{"GetFunctionConfiguration", func(c *lambda.Client) (any, error) {
			return c.GetFunctionConfiguration(bg, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("nope")})
		}},
		{"UpdateFunctionConfiguration", func(c *lambda.Client) (any, error) {
			return c.UpdateFunctionConfiguration(bg, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("nope"), Timeout: aws.Int32(10)})
		}},
		{"PutFunctionEventInvokeConfig", func(c *lambda.Client) (any, error) {
			return c.PutFunctionEventInvokeConfig(bg, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("nope"), MaximumRetryAttempts: aws.Int32(1)})
		}},
		{"GetFunctionEventInvokeConfig", func(c *lambda.Client) (any, error) {
			return c.GetFunctionEventInvokeConfig(bg, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("nope")})
		}},
		{"DeleteFunction", func(c *lambda.Client) (any, error) {
			return c.DeleteFunction(bg, &lambda.DeleteFunctionInput{FunctionName: aws.String("nope")})
		}},
	} {
		_, out := lamCall(t, e, c.call)
		ec2Agree(t, c.what+" of an unknown function", out)
		if out[0] != (outcome{"ResourceNotFoundException", 404}) {
			t.Errorf("%s of an unknown function: %+v, want ResourceNotFoundException 404", c.what, out[0])
		}
	}
}

// ListFunctions returns at most 50 functions a page, whatever MaxItems
// asks for (the Lambda API reference).
func TestLambdaListFunctionsPageCap(t *testing.T) {
	e := lamSetup(t)
	for i := 0; i < 51; i++ {
		_, out := e.lamCreate(t, fmt.Sprintf("f-%02d", i), nil)
		ec2OK(t, "CreateFunction", out)
	}
	for _, max := range []*int32{nil, aws.Int32(100)} {
		lf, out := lamCall(t, e, func(c *lambda.Client) (*lambda.ListFunctionsOutput, error) {
			return c.ListFunctions(bg, &lambda.ListFunctionsInput{MaxItems: max})
		})
		ec2OK(t, "ListFunctions", out)
		// moto has no pages: all 51, no marker.
		if len(lf[0].Functions) != 50 || lf[0].NextMarker == nil || len(lf[1].Functions) != 51 || lf[1].NextMarker != nil {
			t.Errorf("ListFunctions MaxItems %v: local cloud %d, marker %v (want 50 and a marker); moto %d, marker %v (recorded: 51, none)",
				aws.ToInt32(max), len(lf[0].Functions), lf[0].NextMarker != nil, len(lf[1].Functions), lf[1].NextMarker != nil)
			continue
		}
		next, err := e.c[0].ListFunctions(bg, &lambda.ListFunctionsInput{MaxItems: max, Marker: lf[0].NextMarker})
		if err != nil || lamNames(next.Functions) != "f-50" || next.NextMarker != nil {
			t.Errorf("local cloud ListFunctions page 2: %v %v", err, next)
		}
	}
}

// UpdateFunctionConfiguration, Put/GetFunctionEventInvokeConfig and
// DeleteFunction.
func TestLambdaUpdateEventInvokeConfigAndDelete(t *testing.T) {
	e := lamSetup(t)
	_, out := e.lamCreate(t, "fn", lamFull)
	ec2OK(t, "CreateFunction", out)
	e.p.Local.Settle()

	update := func(in lambda.UpdateFunctionConfigurationInput) ([2]*lambda.UpdateFunctionConfigurationOutput, [2]outcome) {
		return lamCall(t, e, func(c *lambda.Client) (*lambda.UpdateFunctionConfigurationOutput, error) {
			in := in
			return c.UpdateFunctionConfiguration(bg, &in)
		})
	}
	up, out := update(lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn"), Timeout: aws.Int32(60), MemorySize: aws.Int32(512),
		Environment: &ltypes.Environment{Variables: map[string]string{"STAGE": "qa"}}})
	ec2OK(t, "UpdateFunctionConfiguration", out)
	cfg := [2]ltypes.FunctionConfiguration{lamConfig(up[0]), lamConfig(up[1])}
	lamSame(t, "UpdateFunctionConfiguration", cfg)
	if !strings.Contains(lamView(cfg[0]), "timeout=60 memory=512 | arch=[arm64] | env=STAGE=qa | description=rollout worker |") {
		t.Errorf("UpdateFunctionConfiguration: %s", lamView(cfg[0]))
	}
	// The update is InProgress on the local cloud until Lambda applies it
	// (AWS), done at once on moto; a second update meanwhile is refused
	// (ResourceConflictException) on the local cloud, accepted by moto.
	lamState(t, "UpdateFunctionConfiguration", cfg, "Active/InProgress", "Active/Successful")
	_, out = update(lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn"), MemorySize: aws.Int32(512)})
	ec2Want(t, "UpdateFunctionConfiguration during an update", out, outcome{"ResourceConflictException", 409}, outcome{})
	e.p.Local.Settle()
	gc, out := lamCall(t, e, func(c *lambda.Client) (*lambda.GetFunctionConfigurationOutput, error) {
		return c.GetFunctionConfiguration(bg, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("fn")})
	})
	ec2OK(t, "GetFunctionConfiguration", out)
	cfg = [2]ltypes.FunctionConfiguration{lamConfig(gc[0]), lamConfig(gc[1])}
	lamSame(t, "GetFunctionConfiguration after the update", cfg)
	lamState(t, "GetFunctionConfiguration after the update", cfg, "Active/Successful", "Active/Successful")
	lamRecorded(t, "GetFunctionConfiguration after the update", cfg)

	// Asynchronous invocation settings.
	_, out = lamCall(t, e, func(c *lambda.Client) (*lambda.GetFunctionEventInvokeConfigOutput, error) {
		return c.GetFunctionEventInvokeConfig(bg, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("fn")})
	})
	ec2Agree(t, "GetFunctionEventInvokeConfig before any", out)
	if out[0] != (outcome{"ResourceNotFoundException", 404}) {
		t.Errorf("GetFunctionEventInvokeConfig before any: %+v", out[0])
	}
	type eic struct {
		arn           string
		retries, age  string
		destinations  bool
		lastModifiedK bool
	}
	render := func(arn *string, retries, age *int32, d *ltypes.DestinationConfig, lm any) eic {
		str := func(v *int32) string {
			if v == nil {
				return "-"
			}
			return fmt.Sprint(*v)
		}
		return eic{aws.ToString(arn), str(retries), str(age), d != nil && d.OnSuccess != nil && d.OnFailure != nil, lm != nil}
	}
	put := func(retries, age *int32) [2]eic {
		res, out := lamCall(t, e, func(c *lambda.Client) (*lambda.PutFunctionEventInvokeConfigOutput, error) {
			return c.PutFunctionEventInvokeConfig(bg, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("fn"), MaximumRetryAttempts: retries, MaximumEventAgeInSeconds: age})
		})
		ec2OK(t, "PutFunctionEventInvokeConfig", out)
		var r [2]eic
		for s, o := range res {
			r[s] = render(o.FunctionArn, o.MaximumRetryAttempts, o.MaximumEventAgeInSeconds, o.DestinationConfig, o.LastModified)
		}
		return r
	}
	get := func() [2]eic {
		res, out := lamCall(t, e, func(c *lambda.Client) (*lambda.GetFunctionEventInvokeConfigOutput, error) {
			return c.GetFunctionEventInvokeConfig(bg, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("fn")})
		})
		ec2OK(t, "GetFunctionEventInvokeConfig", out)
		var r [2]eic
		for s, o := range res {
			r[s] = render(o.FunctionArn, o.MaximumRetryAttempts, o.MaximumEventAgeInSeconds, o.DestinationConfig, o.LastModified)
		}
		return r
	}
	// FunctionArn names the $LATEST version and DestinationConfig carries
	// empty OnSuccess / OnFailure on the local cloud, as in the API
	// reference's example; moto gives the unqualified ARN and no
	// DestinationConfig.
	const arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
	want := [2]eic{{arn + ":$LATEST", "0", "600", true, true}, {arn, "0", "600", false, true}}
	if got := put(aws.Int32(0), aws.Int32(600)); got != want {
		t.Errorf("PutFunctionEventInvokeConfig 0 retries, 600 s: local cloud %+v (want %+v), moto %+v (recorded %+v)", got[0], want[0], got[1], want[1])
	}
	if got := get(); got != want {
		t.Errorf("GetFunctionEventInvokeConfig: local cloud %+v (want %+v), moto %+v (recorded %+v)", got[0], want[0], got[1], want[1])
	}
	// A second Put replaces the settings: an omitted age is the default,
	// 21600 s, on the local cloud; moto answers no age, and its Get keeps
	// answering the first settings.
	want = [2]eic{{arn + ":$LATEST", "1", "21600", true, true}, {arn, "1", "-", false, true}}
	if got := put(aws.Int32(1), nil); got != want {
		t.Errorf("second PutFunctionEventInvokeConfig: local cloud %+v (want %+v), moto %+v (recorded %+v)", got[0], want[0], got[1], want[1])
	}
	want[1] = eic{arn, "0", "600", false, true}
	if got := get(); got != want {
		t.Errorf("GetFunctionEventInvokeConfig after the second Put: local cloud %+v (want %+v), moto %+v (recorded %+v)", got[0], want[0], got[1], want[1])
	}
	_, out = lamCall(t, e, func(c *lambda.Client) (*lambda.PutFunctionEventInvokeConfigOutput, error) {
		return c.PutFunctionEventInvokeConfig(bg, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("fn"), MaximumRetryAttempts: aws.Int32(3)})
	})
	ec2Agree(t, "PutFunctionEventInvokeConfig 3 retries", out)
	if out[0] != (outcome{"ValidationException", 400}) {
		t.Errorf("PutFunctionEventInvokeConfig 3 retries: %+v", out[0])
	}

	// A timeout outside 1-900 s, last: moto stores it.
	_, out = update(lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn"), Timeout: aws.Int32(0)})
	ec2Want(t, "UpdateFunctionConfiguration timeout 0", out, outcome{"ValidationException", 400}, outcome{})

	del, out := lamCall(t, e, func(c *lambda.Client) (*lambda.DeleteFunctionOutput, error) {
		return c.DeleteFunction(bg, &lambda.DeleteFunctionInput{FunctionName: aws.String("fn")})
	})
	ec2OK(t, "DeleteFunction", out)
	ec2Same(t, "DeleteFunction status", [2]int32{del[0].StatusCode, del[1].StatusCode})
	for _, what := range []string{"GetFunction after DeleteFunction", "DeleteFunction again"} {
		_, out = lamCall(t, e, func(c *lambda.Client) (any, error) {
			if what == "DeleteFunction again" {
				return c.DeleteFunction(bg, &lambda.DeleteFunctionInput{FunctionName: aws.String("fn")})
			}
			return c.GetFunction(bg, &lambda.GetFunctionInput{FunctionName: aws.String("fn")})
		})
		ec2Agree(t, what, out)
		if out[0] != (outcome{"ResourceNotFoundException", 404}) {
			t.Errorf("%s: %+v", what, out[0])
		}
	}
}

// CreateFunction requests Lambda refuses, and one the local cloud cannot
// check.
func TestLambdaCreateFunctionErrors(t *testing.T) {
	e := lamSetup(t)
	_, out := e.lamCreate(t, "fn", nil)
	ec2OK(t, "CreateFunction", out)
	cases := []struct {
		what        string
		tweak       func(*lambda.CreateFunctionInput)
		local, moto outcome
	}{
		{"an existing name", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String("fn") },
			outcome{"ResourceConflictException", 409}, outcome{"ResourceConflictException", 409}},
		// The API model's pattern for variable names, [a-zA-Z]([a-zA-Z0-9_])+,
		// needs two characters; moto checks none of the constraints below.
		{"a one-letter environment variable", func(in *lambda.CreateFunctionInput) {
			in.Environment = &ltypes.Environment{Variables: map[string]string{"A": "1"}}
		}, outcome{"ValidationException", 400}, outcome{}},
		{"a reserved environment variable", func(in *lambda.CreateFunctionInput) {
			in.Environment = &ltypes.Environment{Variables: map[string]string{"AWS_REGION": "eu-west-1"}}
		}, outcome{"InvalidParameterValueException", 400}, outcome{}},
		{"a timeout of 901 s", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(901) }, outcome{"ValidationException", 400}, outcome{}},
		{"code that is not a zip", func(in *lambda.CreateFunctionInput) { in.Code = &ltypes.FunctionCode{ZipFile: []byte("not a zip")} },
			outcome{"InvalidParameterValueException", 400}, outcome{}},
		// moto checks the role exists in its IAM; the local cloud models no
		// IAM roles to check it against (test/localcloud/README.md).
		{"a role that does not exist", func(in *lambda.CreateFunctionInput) { in.Role = aws.String("arn:aws:iam::123456789012:role/missing") },
			outcome{}, outcome{"InvalidParameterValueException", 400}},
	}
	for i, c := range cases {
		_, out := lamCall(t, e, func(cl *lambda.Client) (*lambda.CreateFunctionOutput, error) {
			in := e.lamInput(fmt.Sprintf("bad-%d", i), c.tweak)
			return cl.CreateFunction(bg, in)
		})
		if c.local == c.moto {
			ec2Agree(t, "CreateFunction with "+c.what, out)
		}
		ec2Want(t, "CreateFunction with "+c.what, out, c.local, c.moto)
	}
}
