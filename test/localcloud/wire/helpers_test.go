package wire

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	servedmodels "github.com/phoenix-rollouts/phoenix/test/localcloud/wire/internal/served"
)

// recorder is the memory behind the generated fakes: it keeps the last
// call's input and request context and answers with a preset output or
// error.
type recorder struct {
	mu    sync.Mutex
	op    string
	in    any
	req   api.Request
	calls int
	out   any
	err   error
}

func (r *recorder) call(ctx context.Context, op string, in any) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.op, r.in, r.req = op, in, api.RequestFrom(ctx)
	r.calls++
	return r.out, r.err
}

func (r *recorder) answer(out any, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out, r.err = out, err
}

func (r *recorder) last() (string, any, api.Request, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.op, r.in, r.req, r.calls
}

// modules maps each simulated service's signing name to its SDK module.
var modules = func() map[string]string {
	m := map[string]string{}
	for _, s := range servedmodels.Models {
		m[s.Name] = s.Module()
	}
	return m
}()

// testCloud is a wire.Server with every service answered by a recording
// fake, behind a real HTTP listener.
type testCloud struct {
	srv *Server
	ts  *httptest.Server
	rec *recorder
}

func newTestCloud(t testing.TB, opts Options) *testCloud {
	t.Helper()
	rec := &recorder{}
	fakes := newFakes(rec)
	if opts.RequestID == nil {
		opts.RequestID = func() string { return "req-1" }
	}
	srv := NewServer(opts)
	for name, mod := range modules {
		svc, ok := Describe(name, fakes[mod])
		if !ok {
			t.Fatalf("Describe(%q) knows no such service", name)
		}
		if err := srv.Register(svc); err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &testCloud{srv: srv, ts: ts, rec: rec}
}

var testCredentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIDLOCAL", SecretAccessKey: "local"}, nil
})

// client returns the real SDK client of module pointed at the cloud, in
// region eu-west-1; attempts bounds its retries (1 = none).
func (c *testCloud) client(module string, attempts int) any {
	ep := aws.String(c.ts.URL)
	hc := HTTPClient()
	const region = "eu-west-1"
	switch module {
	case modules["autoscaling"]:
		return autoscaling.New(autoscaling.Options{Region: region, BaseEndpoint: ep, HTTPClient: hc, Credentials: testCredentials, RetryMaxAttempts: attempts})
	case modules["ec2"]:
		return ec2.New(ec2.Options{Region: region, BaseEndpoint: ep, HTTPClient: hc, Credentials: testCredentials, RetryMaxAttempts: attempts})
	case modules["elasticloadbalancing"]:
		return elasticloadbalancingv2.New(elasticloadbalancingv2.Options{Region: region, BaseEndpoint: ep, HTTPClient: hc, Credentials: testCredentials, RetryMaxAttempts: attempts})
	case modules["sns"]:
		return sns.New(sns.Options{Region: region, BaseEndpoint: ep, HTTPClient: hc, Credentials: testCredentials, RetryMaxAttempts: attempts})
	case modules["sts"]:
		return sts.New(sts.Options{Region: region, BaseEndpoint: ep, HTTPClient: hc, Credentials: testCredentials, RetryMaxAttempts: attempts})
	case modules["monitoring"]:
		return cloudwatch.New(cloudwatch.Options{Region: region, BaseEndpoint: ep, HTTPClient: hc, Credentials: testCredentials, RetryMaxAttempts: attempts})
	case modules["ssm"]:
		return ssm.New(ssm.Options{Region: region, BaseEndpoint: ep, HTTPClient: hc, Credentials: testCredentials, RetryMaxAttempts: attempts})
	case modules["events"]:
		return eventbridge.New(eventbridge.Options{Region: region, BaseEndpoint: ep, HTTPClient: hc, Credentials: testCredentials, RetryMaxAttempts: attempts})
	case modules["states"]:
		return sfn.New(sfn.Options{Region: region, BaseEndpoint: ep, HTTPClient: hc, Credentials: testCredentials, RetryMaxAttempts: attempts})
	case modules["lambda"]:
		return lambda.New(lambda.Options{Region: region, BaseEndpoint: ep, HTTPClient: hc, Credentials: testCredentials, RetryMaxAttempts: attempts})
	case modules["imagebuilder"]:
		return imagebuilder.New(imagebuilder.Options{Region: region, BaseEndpoint: ep, HTTPClient: hc, Credentials: testCredentials, RetryMaxAttempts: attempts})
	}
	panic("no client for " + module)
}

// invoke calls operation op of an SDK client by reflection.
func invoke(ctx context.Context, client any, op string, in any) (any, error) {
	m := reflect.ValueOf(client).MethodByName(op)
	if !m.IsValid() {
		panic(fmt.Sprintf("%T has no method %s", client, op))
	}
	res := m.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(in)})
	err, _ := res[1].Interface().(error)
	return res[0].Interface(), err
}

// direction selects which wire names a filler populates.
type direction int

const (
	request direction = iota
	response
)

// filler populates every member that travels in one direction with a
// distinct value, so that a member dropped, swapped or mangled on the way
// shows up as a difference.
type filler struct {
	n   int
	dir direction
	// skipped counts members the wire layer cannot carry (unions and
	// documents), which the filler leaves empty.
	skipped int
	active  map[reflect.Type]bool
}

func (f *filler) next() int { f.n++; return f.n }

// fill populates v; a struct type already being filled further up is left
// empty, which ends recursive shapes, and containers whose contents would be
// empty stay unset because the wire cannot carry an empty structure.
func (f *filler) fill(v reflect.Value, depth int) {
	if f.active == nil {
		f.active = map[reflect.Type]bool{}
	}
	t := v.Type()
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		f.fill(p.Elem(), depth+1)
		if !p.Elem().IsZero() || t.Elem().Kind() != reflect.Struct {
			v.Set(p)
		}
	case reflect.Interface:
		f.skipped++
	case reflect.Struct:
		if t == timeType {
			n := f.next()
			v.Set(reflect.ValueOf(time.Unix(1_700_000_000+int64(n)*3671, int64(n%1000)*int64(time.Millisecond)).UTC()))
			return
		}
		if f.active[t] {
			return
		}
		f.active[t] = true
		defer delete(f.active, t)
		for _, fi := range infoFor(t).fields {
			name := fi.In
			if f.dir == response {
				name = fi.Out
			}
			if name == "" {
				continue
			}
			fv := v.Field(fi.index)
			if fi.Bind == bindStatus {
				// A status must be a success the client accepts; 202 is
				// not the operations' default, so it shows it travelled.
				fv.SetInt(http.StatusAccepted)
				continue
			}
			if fi.goName == "EndpointId" {
				// EventBridge resolves its endpoint from this member; it
				// must be a host label.
				fv.Set(reflect.ValueOf(aws.String(fmt.Sprintf("ep%d", f.next()))))
				continue
			}
			f.fill(fv, depth+1)
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte(fmt.Sprintf("blob\x00\xff-%d", f.next())))
			return
		}
		s := reflect.MakeSlice(t, 2, 2)
		for i := 0; i < 2; i++ {
			f.fill(s.Index(i), depth+1)
			if s.Index(i).IsZero() && t.Elem().Kind() != reflect.Bool {
				return
			}
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(t)
		for i := 0; i < 2; i++ {
			k := reflect.New(t.Key()).Elem()
			k.SetString(fmt.Sprintf("key-%d", f.next()))
			e := reflect.New(t.Elem()).Elem()
			f.fill(e, depth+1)
			if e.IsZero() {
				return
			}
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.String:
		n := f.next()
		if vals := enumValues(t); len(vals) > 0 {
			v.SetString(vals[n%len(vals)])
			return
		}
		v.SetString(fmt.Sprintf("v%d <&>\"' ü+=/?%%", n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(int64(f.next()))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(f.next()) + 0.25)
	}
}

// enumValues returns the values an SDK enum type declares, via its Values
// method.
func enumValues(t reflect.Type) []string {
	if t.Name() == "string" {
		return nil
	}
	m, ok := t.MethodByName("Values")
	if !ok {
		return nil
	}
	res := m.Func.Call([]reflect.Value{reflect.Zero(t)})
	out := make([]string, res[0].Len())
	for i := range out {
		out[i] = res[0].Index(i).String()
	}
	return out
}

// diff returns the path of the first difference between a and b, or "".
func diff(path string, a, b reflect.Value) string {
	if a.IsValid() != b.IsValid() {
		return path + ": one side missing"
	}
	if !a.IsValid() {
		return ""
	}
	if a.Type() != b.Type() {
		return fmt.Sprintf("%s: type %s vs %s", path, a.Type(), b.Type())
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Sprintf("%s: nil %v vs %v", path, a.IsNil(), b.IsNil())
			}
			return ""
		}
		return diff(path, a.Elem(), b.Elem())
	case reflect.Struct:
		if a.Type() == timeType {
			// Clients build times in their own location (UTC or Local);
			// the instant is what travels.
			if !a.Interface().(time.Time).Equal(b.Interface().(time.Time)) {
				return fmt.Sprintf("%s: %v vs %v", path, a.Interface(), b.Interface())
			}
			return ""
		}
		for i := 0; i < a.NumField(); i++ {
			if !a.Type().Field(i).IsExported() {
				continue
			}
			if d := diff(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return fmt.Sprintf("%s: len %d (nil %v) vs %d (nil %v)", path, a.Len(), a.IsNil(), b.Len(), b.IsNil())
		}
		for i := 0; i < a.Len(); i++ {
			if d := diff(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
	case reflect.Map:
		if a.Len() != b.Len() || a.IsNil() != b.IsNil() {
			return fmt.Sprintf("%s: map len %d vs %d", path, a.Len(), b.Len())
		}
		for _, k := range a.MapKeys() {
			if d := diff(fmt.Sprintf("%s[%v]", path, k), a.MapIndex(k), b.MapIndex(k)); d != "" {
				return d
			}
		}
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			return fmt.Sprintf("%s: %#v vs %#v", path, a.Interface(), b.Interface())
		}
	}
	return ""
}

// served is one operation of one simulated service.
type served struct{ service, module, op string }

// operationsOf lists the served operations of every module, sorted for
// stable test names.
func operationsOf() []served {
	var out []served
	for name, mod := range modules {
		for _, op := range generatedOperations[mod] {
			out = append(out, served{name, mod, op})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].service != out[j].service {
			return out[i].service < out[j].service
		}
		return out[i].op < out[j].op
	})
	return out
}

// newHTTPTestServer serves h on a local listener closed with the test.
func newHTTPTestServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}
