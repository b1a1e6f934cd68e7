package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
	phxconfig "github.com/phoenix-rollouts/phoenix/shared/config"
	"github.com/phoenix-rollouts/phoenix/shared/executions"
	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/images"
	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// imdsClientDisabled is imds.ClientDisabled (feature/ec2/imds), which
// config.LoadOptions takes; that module is only an indirect dependency of
// ours, and importing it for one constant would change go.mod. The value is
// part of the SDK's public API (an iota after ClientDefaultEnableState).
const imdsClientDisabled = 1

// session is the AWS side of one run: the SDK configuration and the
// shared adapters built on it.
type session struct {
	cfg      aws.Config
	region   string
	stack    string
	endpoint string
	log      *slog.Logger

	ledger  *ledger.Ledger
	fleet   *fleet.Fleet
	execs   *executions.Reader
	lambda  *lambda.Client
	sts     *sts.Client
	images  *images.Reader
	resumer *executions.Resumer

	who *identity
	// pairs are the blue/green pairs read so far, by region and name.
	pairs map[rollout.GroupKey]bluegreen.Pair
}

// identity is who the CLI runs as, from STS.
type identity struct {
	Account   string
	ARN       string
	Partition string
}

// session returns the run's AWS session, loading the SDK configuration
// and checking that credentials resolve on first use.
func (a *app) session(ctx context.Context) (*session, error) {
	if a.sess != nil {
		return a.sess, nil
	}
	log := slog.New(slog.DiscardHandler)
	if a.g.debug {
		log = slog.New(slog.NewJSONHandler(a.env.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cfg, endpoint, err := loadAWSConfig(ctx, a.g, a.env.Getenv, a.env.Stderr)
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		return nil, usage("no AWS region: give --region or set AWS_REGION")
	}
	// Credentials are resolved lazily by the SDK; resolving them here
	// turns "none found" into one clear message instead of an error deep
	// inside the first call.
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return nil, fail(ExitUnreachable, "no usable AWS credentials (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY): %s", credentialCause(err))
	}
	s := &session{
		cfg: cfg, region: cfg.Region, stack: a.g.stack, endpoint: endpoint, log: log,
		execs:  executions.NewReader(cfg),
		lambda: lambda.NewFromConfig(cfg),
		sts:    sts.NewFromConfig(cfg),
	}
	s.ledger = ledger.New(dynamodb.NewFromConfig(cfg), s.stack+"-ledger").WithLogger(log)
	s.fleet = fleet.New(cfg, log)
	s.images = images.NewReader(cfg, s.fleet)
	s.resumer = executions.NewResumer(cfg, log)
	a.sess = s
	return s, nil
}

// loadAWSConfig loads the SDK configuration the usual way, except that
// every setting the environment gives is read through getenv, so that a
// test's injected environment is the one honoured: static credentials,
// region, endpoint, profile, the shared files (under getenv's HOME, none
// without it) and AWS_EC2_METADATA_DISABLED.
func loadAWSConfig(ctx context.Context, g globals, getenv func(string) string, stderr io.Writer) (aws.Config, string, error) {
	// The SDK's own warnings (an IMDS fallback, a retry) would add lines
	// to stderr beside the CLI's one line; --debug shows them.
	var sdkLog logging.Logger = logging.Nop{}
	if g.debug {
		sdkLog = logging.NewStandardLogger(stderr)
	}
	opts := []func(*config.LoadOptions) error{config.WithLogger(sdkLog)}
	if r := firstOf(g.region, getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	home := firstOf(getenv("HOME"), getenv("USERPROFILE"))
	files := func(env, name string) []string {
		switch {
		case getenv(env) != "":
			return []string{getenv(env)}
		case home != "":
			return []string{filepath.Join(home, ".aws", name)}
		}
		// Not nil: nil would make the SDK look under the process's home.
		return []string{}
	}
	opts = append(opts,
		config.WithSharedConfigFiles(files("AWS_CONFIG_FILE", "config")),
		config.WithSharedCredentialsFiles(files("AWS_SHARED_CREDENTIALS_FILE", "credentials")))
	if p := getenv("AWS_PROFILE"); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: getenv("AWS_SESSION_TOKEN"), Source: "EnvConfigCredentials"}
		opts = append(opts, config.WithCredentialsProvider(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		})))
	}
	if strings.EqualFold(getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		opts = append(opts, func(o *config.LoadOptions) error {
			o.EC2IMDSClientEnableState = imdsClientDisabled
			return nil
		})
	}
	endpoint := firstOf(g.endpoint, getenv("AWS_ENDPOINT_URL"))
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return aws.Config{}, "", usage("--endpoint-url %q is not an http(s) URL", endpoint)
		}
		opts = append(opts, config.WithBaseEndpoint(endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	var noProfile config.SharedConfigProfileNotExistError
	if errors.As(err, &noProfile) {
		files := "(none: no HOME, AWS_CONFIG_FILE or AWS_SHARED_CREDENTIALS_FILE)"
		if len(noProfile.Filename) > 0 {
			files = strings.Join(noProfile.Filename, ", ")
		}
		return aws.Config{}, "", fail(ExitUnreachable, "AWS profile %s is not in the shared config files %s", noProfile.Profile, files)
	}
	if err != nil {
		return aws.Config{}, "", fail(ExitUnreachable, "load AWS configuration: %s", credentialCause(err))
	}
	if endpoint != "" {
		// Wrapped after loading: the SDK adds a custom CA bundle
		// (AWS_CA_BUNDLE) only to a client of its own making.
		next := cfg.HTTPClient
		if next == nil {
			next = http.DefaultClient
		}
		cfg.HTTPClient = readOnlyBodies{next}
	}
	return cfg, endpoint, nil
}

// readOnlyBodies is the HTTP client for an --endpoint-url, typically a
// local cloud on the same machine. With the SDK's client alone a local
// server's answer can beat net/http's last read of the request body, which
// smithy-go's body wrapper then fails with io.EOF from WriteTo, and the
// connection is closed under the response ("use of closed network
// connection"); hiding the body's WriteTo makes that read a clean io.EOF
// (test/localcloud/wire/client.go explains it in full). Over a real network
// the answer never comes that early, so it is right for any endpoint.
type readOnlyBodies struct{ next aws.HTTPClient }

// readOnlyBody exposes only Read and Close of a request body.
type readOnlyBody struct{ io.ReadCloser }

func (c readOnlyBodies) Do(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return c.next.Do(r)
	}
	// A client must not modify the caller's request.
	shallow := *r
	shallow.Body = readOnlyBody{r.Body}
	return c.next.Do(&shallow)
}

// firstOf returns the first non-empty value.
func firstOf(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// credentialCause is the useful part of a credential error: the SDK nests
// "failed to refresh cached credentials, ..." around the cause.
func credentialCause(err error) string {
	msg := err.Error()
	for _, prefix := range []string{"failed to refresh cached credentials, ", "get identity: "} {
		if i := strings.LastIndex(msg, prefix); i >= 0 {
			msg = msg[i+len(prefix):]
		}
	}
	return sdkText(msg)
}

// sdkNoise matches what the SDK wraps around a service's own words: the
// operation, the HTTP status and request id, the retry count.
var sdkNoise = regexp.MustCompile(`operation error [^:]+: [^,]+, |https response error StatusCode: \d+, RequestID: [^,]*, |exceeded maximum number of attempts, \d+, `)

// sdkText removes the SDK's wrapping from an error message.
func sdkText(msg string) string { return sdkNoise.ReplaceAllString(msg, "") }

// whoAmI returns the caller's identity (STS GetCallerIdentity), once.
func (s *session) whoAmI(ctx context.Context) (identity, error) {
	if s.who != nil {
		return *s.who, nil
	}
	out, err := s.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return identity{}, s.awsError("ask STS who the caller is", err)
	}
	id := identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn), Partition: "aws"}
	if parts := strings.SplitN(id.ARN, ":", 3); len(parts) == 3 && parts[1] != "" {
		id.Partition = parts[1]
	}
	s.who = &id
	return id, nil
}

// machineARN is the ARN of the stack's state machine with the given
// suffix ("rollout", "campaign"): template.yaml names them STACK-SUFFIX.
func (s *session) machineARN(ctx context.Context, suffix string) (string, error) {
	id, err := s.whoAmI(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("arn:%s:states:%s:%s:stateMachine:%s-%s", id.Partition, s.region, id.Account, s.stack, suffix), nil
}

// authCodes are the error codes of a request AWS would not authenticate
// or authorize.
var authCodes = map[string]bool{
	"UnrecognizedClientException": true, "InvalidClientTokenId": true, "InvalidSignatureException": true,
	"SignatureDoesNotMatch": true, "IncompleteSignature": true, "MissingAuthenticationToken": true,
	"ExpiredToken": true, "ExpiredTokenException": true, "AuthFailure": true, "AccessDenied": true,
	"AccessDeniedException": true, "UnauthorizedOperation": true, "InvalidAccessKeyId": true,
}

// awsError turns a failed call (doing what) into an exitError: the stack's
// table or state machine missing is "not found", an unreachable endpoint or
// refused credentials is ExitUnreachable, anything else ExitFailed; a
// *rollout.NotFoundError names what is missing. The message keeps the
// service's code and message and drops the SDK's request ids and HTTP
// details.
func (s *session) awsError(doing string, err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee
	}
	if errors.Is(err, context.Canceled) {
		return fail(ExitFailed, "%s: interrupted", doing)
	}
	var nf *rollout.NotFoundError
	if errors.As(err, &nf) {
		return fail(ExitNotFound, "%s: %s not found in %s", doing, nf.Kind+" "+nf.ID, s.region)
	}
	code := awserr.Code(err)
	switch {
	case code == "ResourceNotFoundException" && isService(err, "DynamoDB"):
		return fail(ExitNotFound, "Phoenix stack %q not found in %s: no ledger table %s-ledger (is --stack right?)", s.stack, s.region, s.stack)
	case code == "StateMachineDoesNotExist":
		return fail(ExitNotFound, "Phoenix stack %q not found in %s: no state machine %s-rollout (is --stack right?)", s.stack, s.region, s.stack)
	case authCodes[code]:
		return fail(ExitUnreachable, "%s: AWS refused the request with these credentials: %s: %s", doing, code, apiMessage(err))
	case code != "":
		return fail(ExitFailed, "%s: %s: %s", doing, code, apiMessage(err))
	}
	if unreachable(err) {
		where := "AWS"
		if s.endpoint != "" {
			where = s.endpoint
		}
		return fail(ExitUnreachable, "%s: cannot reach %s: %s", doing, where, netCause(err))
	}
	return fail(ExitFailed, "%s: %s", doing, sdkText(err.Error()))
}

// apiMessage is an API error's message.
func apiMessage(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorMessage()
	}
	return ""
}

// isService reports whether err came from a call to the named service.
func isService(err error, service string) bool {
	var op *smithy.OperationError
	return errors.As(err, &op) && op.ServiceID == service
}

// unreachable reports whether err is a network failure: refused, reset,
// DNS, timeout.
func unreachable(err error) bool {
	var netErr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var urlErr *url.Error
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) || errors.As(err, &netErr) || errors.As(err, &urlErr)
}

// netCause is the network error's own words, without the SDK's wrapping.
func netCause(err error) string {
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr.Error()
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.Error()
	}
	return sdkText(err.Error())
}

// groupNotFound is the error for a group Auto Scaling does not know.
func (s *session) groupNotFound(name string) error {
	return fail(ExitNotFound, "group %s not found in %s", name, s.region)
}

// key is the group key of name in the session's region.
func (s *session) key(name string) rollout.GroupKey {
	return rollout.GroupKey{Region: s.region, Name: name}
}

// group reads a group; a missing one is ExitNotFound.
func (s *session) group(ctx context.Context, name string) (rollout.Group, error) {
	g, err := s.fleet.Group(ctx, s.key(name))
	var nf *rollout.NotFoundError
	if errors.As(err, &nf) {
		return rollout.Group{}, s.groupNotFound(name)
	}
	if err != nil {
		return rollout.Group{}, s.awsError("read group "+name, err)
	}
	return g, nil
}

// stackSettings are what the deployed functions were configured with:
// the policy defaults (template parameters) and the campaigns' max in
// flight. Source says where they came from, Note why not from the stack.
type stackSettings struct {
	Policy      rollout.Policy
	MaxInFlight int
	Source      string
	Note        string
}

// settings reads the deployed policy defaults from the environment of the
// rollout machine's Prepare function (found in the machine's definition),
// so that a plan uses the stack's template parameters rather than guesses.
// When that cannot be read (an operator allowed fewer calls, an older
// stack) the built-in defaults are used and Note says why.
func (s *session) settings(ctx context.Context, withInFlight bool) stackSettings {
	st := stackSettings{Policy: rollout.DefaultPolicy(), MaxInFlight: publish.DefaultMaxInFlight, Source: "stack " + s.stack}
	env, err := s.functionEnv(ctx, "rollout", func(def machineDefinition) []string {
		return def.States["Prepare"].Parameters.functionNames()
	})
	if err == nil {
		var c phxconfig.Config
		c, err = phxconfig.Load(phxconfig.Map(env), phxconfig.Needs{})
		st.Policy = c.Policy
	}
	if err != nil {
		st.Policy, st.Source = rollout.DefaultPolicy(), "built-in defaults"
		st.Note = "could not read the stack's policy defaults (" + oneLine(err.Error()) + ")"
		return st
	}
	if !withInFlight {
		return st
	}
	env, err = s.functionEnv(ctx, "campaign", func(def machineDefinition) []string { return def.allFunctionNames() })
	if err == nil {
		if v := env[phxconfig.EnvMaxInFlight]; v != "" {
			n, perr := strconv.Atoi(v)
			if perr != nil {
				err = fmt.Errorf("%s is %q", phxconfig.EnvMaxInFlight, v)
			}
			st.MaxInFlight = publish.ClampInFlight(n)
		}
	}
	if err != nil {
		st.Note = "could not read the campaigns' max in flight (" + oneLine(err.Error()) + "); using " + strconv.Itoa(st.MaxInFlight)
	}
	return st
}

// functionEnv returns the environment of the first function that the
// stack's state machine STACK-suffix names (pick lists the candidates)
// and that sets PHOENIX_TABLE.
func (s *session) functionEnv(ctx context.Context, suffix string, pick func(machineDefinition) []string) (map[string]string, error) {
	arn, err := s.machineARN(ctx, suffix)
	if err != nil {
		return nil, err
	}
	asl, err := s.execs.Definition(ctx, arn)
	if err != nil {
		return nil, s.awsError("describe state machine "+s.stack+"-"+suffix, err)
	}
	var def machineDefinition
	if err := json.Unmarshal([]byte(asl), &def); err != nil {
		return nil, fmt.Errorf("read the definition of %s-%s: %w", s.stack, suffix, err)
	}
	for _, fn := range pick(def) {
		cfg, err := s.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
		if err != nil {
			return nil, s.awsError("read the configuration of function "+fn, err)
		}
		if cfg.Environment != nil && cfg.Environment.Variables[phxconfig.EnvTable] != "" {
			return cfg.Environment.Variables, nil
		}
	}
	return nil, fmt.Errorf("state machine %s-%s names no Phoenix function", s.stack, suffix)
}

// machineDefinition is the part of an ASL definition the CLI reads: the
// function each Task state invokes, at any depth (Map and Parallel states
// nest whole state machines).
type machineDefinition struct {
	States map[string]machineState `json:"States"`
}

type machineState struct {
	Parameters    taskParameters      `json:"Parameters"`
	ItemProcessor *machineDefinition  `json:"ItemProcessor"`
	Iterator      *machineDefinition  `json:"Iterator"`
	Branches      []machineDefinition `json:"Branches"`
}

type taskParameters struct {
	FunctionName string `json:"FunctionName"`
}

func (p taskParameters) functionNames() []string {
	if p.FunctionName == "" {
		return nil
	}
	return []string{p.FunctionName}
}

// allFunctionNames lists every function the definition invokes, in the
// order of the states' names (for a stable choice).
func (d machineDefinition) allFunctionNames() []string {
	var names []string
	for _, name := range sortedKeys(d.States) {
		st := d.States[name]
		names = append(names, st.Parameters.functionNames()...)
		for _, sub := range []*machineDefinition{st.ItemProcessor, st.Iterator} {
			if sub != nil {
				names = append(names, sub.allFunctionNames()...)
			}
		}
		for _, b := range st.Branches {
			names = append(names, b.allFunctionNames()...)
		}
	}
	return names
}
