package functions

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// Limits and constraints of the Lambda API model and service quotas.
const (
	minTimeout, maxTimeout, defaultTimeout = 1, 900, 3
	minMemory, maxMemory, defaultMemory    = 128, 10240, 128
	maxHandler                             = 128
	maxDescription                         = 256
	maxEnvBytes                            = 4096
	// maxSyncPayload is the request and response payload quota of
	// synchronous invocations (6 MB).
	maxSyncPayload = 6291456
	// maxResponsePayload is the largest response a runtime may post; Lambda
	// states it as 6291556 bytes in its errors.
	maxResponsePayload = 6291556
	// maxAsyncPayload is the payload quota of asynchronous invocations (1 MB).
	maxAsyncPayload = 1048576
	// maxUnzipped is the quota on a deployment package's unzipped size.
	maxUnzipped = 262144000
	// minEventAge and maxEventAge bound MaximumEventAgeInSeconds.
	minEventAge, maxEventAge = 60, 21600
	maxRetryAttempts         = 2
)

// Patterns from the Lambda API reference.
const (
	functionNamePattern = `(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`
	createNamePattern   = `(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)`
	rolePattern         = `arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`
	handlerPattern      = `[^\s]+`
	envKeyPattern       = `[a-zA-Z]([a-zA-Z0-9_])+`
	qualifierPattern    = `(|[a-zA-Z0-9$_-]+)`
)

var (
	functionNameRE = regexp.MustCompile(`^` + functionNamePattern + `$`)
	createNameRE   = regexp.MustCompile(`^` + createNamePattern + `$`)
	roleRE         = regexp.MustCompile(`^` + rolePattern + `$`)
	handlerRE      = regexp.MustCompile(`^` + handlerPattern + `$`)
	envKeyRE       = regexp.MustCompile(`^` + envKeyPattern + `$`)
	qualifierRE    = regexp.MustCompile(`^` + qualifierPattern + `$`)
	nameParts      = regexp.MustCompile(`^(?:arn:aws[a-zA-Z-]*:lambda:([a-z]{2}(?:-gov)?-[a-z]+-\d):)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9-_\.]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$`)
)

// reservedEnv are the variables Lambda sets itself and refuses in
// Environment.Variables.
var reservedEnv = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true,
	"AWS_LAMBDA_LOG_GROUP_NAME": true, "AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true,
	"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
	"AWS_LAMBDA_RUNTIME_API": true, "LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
}

// violations collects constraint failures the way Lambda's request
// validation reports them: one ValidationException listing every failure.
type violations []string

func (v *violations) add(value, member, constraint string) {
	*v = append(*v, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", value, member, constraint))
}

// null records a missing required member.
func (v *violations) null(member string) { v.add("null", member, "Member must not be null") }

// str records a string that fails a constraint.
func (v *violations) str(value, member, constraint string) {
	v.add("'"+value+"'", member, constraint)
}

// intRange checks an optional integer against [lo, hi].
func (v *violations) intRange(p *int32, member string, lo, hi int32) {
	if p == nil {
		return
	}
	switch {
	case *p < lo:
		v.add(fmt.Sprintf("'%d'", *p), member, fmt.Sprintf("Member must have value greater than or equal to %d", lo))
	case *p > hi:
		v.add(fmt.Sprintf("'%d'", *p), member, fmt.Sprintf("Member must have value less than or equal to %d", hi))
	}
}

// pattern checks a string against a model pattern.
func (v *violations) pattern(s, member string, re *regexp.Regexp, pat string) {
	if !re.MatchString(s) {
		v.str(s, member, "Member must satisfy regular expression pattern: "+pat)
	}
}

// maxLen checks a string's length.
func (v *violations) maxLen(s, member string, n int) {
	if len(s) > n {
		v.str(s, member, fmt.Sprintf("Member must have length less than or equal to %d", n))
	}
}

// enum checks a value against an enum's values; empty means absent.
func (v *violations) enum(s, member string, values []string) {
	if s == "" {
		return
	}
	for _, ok := range values {
		if s == ok {
			return
		}
	}
	v.str(s, member, "Member must satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

// err returns the ValidationException, or nil if nothing failed.
func (v violations) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return api.Errorf(http.StatusBadRequest, "ValidationException", "1 validation error detected: %s", v[0])
	}
	return api.Errorf(http.StatusBadRequest, "ValidationException", "%d validation errors detected: %s", len(v), strings.Join(v, "; "))
}

// invalidParameter returns Lambda's InvalidParameterValueException.
func invalidParameter(format string, args ...any) *api.Error {
	return api.Errorf(http.StatusBadRequest, "InvalidParameterValueException", format, args...)
}

func enumStrings[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// checkEnv applies the model's and the service's rules to environment
// variables.
func checkEnv(v *violations, vars map[string]string) error {
	size := 0
	var reserved []string
	for k, val := range vars {
		if !envKeyRE.MatchString(k) {
			v.add("", "environment.variables", "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "+envKeyPattern+"]")
			break
		}
		if reservedEnv[k] {
			reserved = append(reserved, k)
		}
		size += len(k) + len(val)
	}
	if len(*v) > 0 {
		return nil
	}
	if len(reserved) > 0 {
		sort.Strings(reserved)
		return invalidParameter("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", strings.Join(reserved, ", "))
	}
	if size > maxEnvBytes {
		return invalidParameter("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %d bytes", size)
	}
	return nil
}

// runnable reports whether the local cloud can run functions of rt: only
// the OS-only runtimes, which run a bootstrap executable.
func runnable(rt types.Runtime) error {
	switch rt {
	case types.RuntimeProvidedal2023, types.RuntimeProvidedal2:
		return nil
	case types.RuntimeGo1x, types.RuntimeProvided:
		return invalidParameter("The runtime parameter of %s is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime (provided.al2023) while creating or updating functions.", rt)
	}
	return invalidParameter("The local cloud runs only OS-only runtimes (provided.al2023, provided.al2), not %s: build the function as a bootstrap executable.", rt)
}

// target is a resolved function reference.
type target struct {
	region, name string
	qualifier    string // "" or "$LATEST"
}

// resolve parses a FunctionName (name, partial ARN or ARN, optionally
// qualified) and a Qualifier. Only $LATEST exists in the local cloud:
// another qualifier names a version or alias that does not exist.
func (s *Service) resolve(region string, namePtr, qualPtr *string) (target, error) {
	var v violations
	if namePtr == nil {
		v.null("functionName")
		return target{}, v.err()
	}
	name := *namePtr
	v.pattern(name, "functionName", functionNameRE, functionNamePattern)
	if qualPtr != nil {
		v.pattern(*qualPtr, "qualifier", qualifierRE, qualifierPattern)
	}
	if err := v.err(); err != nil {
		return target{}, err
	}
	m := nameParts.FindStringSubmatch(name)
	if m == nil {
		return target{}, invalidParameter("Invalid function name: %s", name)
	}
	t := target{region: region, name: m[3], qualifier: m[4]}
	if qualPtr != nil && *qualPtr != "" {
		if t.qualifier != "" && t.qualifier != *qualPtr {
			return target{}, invalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
		}
		t.qualifier = *qualPtr
	}
	arn := s.functionARN(region, t.name)
	if (m[1] != "" && m[1] != region) || (m[2] != "" && m[2] != s.opts.Account) {
		return target{}, notFound(name)
	}
	if len(t.name) > 64 {
		var v violations
		v.str(t.name, "functionName", "Member must have length less than or equal to 64")
		return target{}, v.err()
	}
	if t.qualifier != "" && t.qualifier != "$LATEST" {
		return target{}, notFound(arn + ":" + t.qualifier)
	}
	return t, nil
}
