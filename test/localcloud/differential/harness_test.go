package differential

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
)

// motoURL is the endpoint of the moto server TestMain starts for the
// package; every test resets it before use, so tests run one at a time.
var motoURL string

// TestMain starts moto_server on a free loopback port, runs the tests and
// stops it. A machine without moto fails the package, naming it: the
// differential tests are part of `make test`, never skipped.
func TestMain(m *testing.M) {
	stop, err := startMoto()
	if err != nil {
		fmt.Fprintln(os.Stderr, "differential: "+err.Error())
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// startMoto starts `moto_server -H 127.0.0.1 -p PORT` and waits until it
// answers.
func startMoto() (stop func(), err error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errors.New("moto_server not found: the python3 package moto (5.2.1, FIELD-NOTES section 1) is required")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Env = append(os.Environ(), "MOTO_ALLOW_NONEXISTENT_REGION=false", fmt.Sprint("MOTO_PORT=", port)) // MOTO_PORT: where moto's state-machine parser sends its tasks' service calls (states_test.go)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	var logTail []string
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			if len(logTail) < 50 {
				logTail = append(logTail, s.Text())
			}
		}
	}()
	stop = func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			motoURL = url
			return stop, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return nil, fmt.Errorf("moto_server did not answer on %s within 60 s: %s", url, strings.Join(logTail, "\n"))
}

// pair is one test's two endpoints: a fresh stepped local cloud and the
// package's moto, reset.
type pair struct {
	// Local is the local cloud's environment (its clock, admin hooks).
	Local *cloudtest.Env
	// LocalConfig and MotoConfig build the same SDK client for each side.
	LocalConfig, MotoConfig aws.Config
}

// newPair resets moto and starts a local cloud, both in us-east-1 with
// account 123456789012 (the default of both).
func newPair(t *testing.T, opts ...localcloud.Options) *pair {
	t.Helper()
	resp, err := http.Post(motoURL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatalf("reset moto: %v", err)
	}
	resp.Body.Close()
	env := cloudtest.New(t, opts...)
	moto := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(motoURL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDMOTO", SecretAccessKey: "moto", Source: "moto"}, nil
		}),
		// moto's development server now and then drops a connection
		// while the client reads an error body ("use of closed network
		// connection"): a fresh connection per request, and a retry of a
		// broken connection only. Nothing AWS answered is retried, so a
		// difference still shows as the first answer.
		HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
				o.RateLimiter = ratelimit.None
			})
		},
	}
	local := env.Config.Copy()
	local.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	return &pair{Local: env, LocalConfig: local, MotoConfig: moto}
}

// outcome is what a client observes of a failed call: the error code and
// the HTTP status; both empty for a success.
type outcome struct {
	Code   string
	Status int
}

// observe returns err's outcome.
func observe(err error) outcome {
	if err == nil {
		return outcome{}
	}
	var o outcome
	var api smithy.APIError
	if errors.As(err, &api) {
		o.Code = api.ErrorCode()
	} else {
		o.Code = "non-API error: " + err.Error()
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		o.Status = re.HTTPStatusCode()
	}
	return o
}

// both runs call on each side and returns their results and outcomes.
func both[C, R any](t *testing.T, p *pair, client func(aws.Config) C, call func(C) (R, error)) (local, moto R, lo, mo outcome) {
	t.Helper()
	l, lerr := call(client(p.LocalConfig))
	m, merr := call(client(p.MotoConfig))
	return l, m, observe(lerr), observe(merr)
}
