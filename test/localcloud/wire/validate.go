package wire

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

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
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// errValidated stops an SDK client right after its validation step: the
// wire layer borrows the SDK's required-member checks, which are
// unexported, by running the client's middleware stack up to that point.
var errValidated = errors.New("wire: input passed SDK validation")

// stopAfterValidation ends the Initialize step; the SDK's validators are
// added to that step before any APIOptions, so they have run by now.
func stopAfterValidation(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("wire.StopAfterValidation",
		func(context.Context, middleware.InitializeInput, middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return middleware.InitializeOutput{}, middleware.Metadata{}, errValidated
		}), middleware.After)
}

// neverSend is the HTTP client of validation clients; a request never gets
// this far, and if one did it must not leave the process.
type neverSend struct{}

func (neverSend) Do(*http.Request) (*http.Response, error) { return nil, errValidated }

var validationAPIOptions = []func(*middleware.Stack) error{stopAfterValidation}

// clientFactories builds, per SDK module, a client used only to validate.
var clientFactories = map[string]func() any{
	"github.com/aws/aws-sdk-go-v2/service/autoscaling": func() any {
		return autoscaling.New(autoscaling.Options{Region: "us-east-1", HTTPClient: neverSend{}, APIOptions: validationAPIOptions})
	},
	"github.com/aws/aws-sdk-go-v2/service/ec2": func() any {
		return ec2.New(ec2.Options{Region: "us-east-1", HTTPClient: neverSend{}, APIOptions: validationAPIOptions})
	},
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2": func() any {
		return elasticloadbalancingv2.New(elasticloadbalancingv2.Options{Region: "us-east-1", HTTPClient: neverSend{}, APIOptions: validationAPIOptions})
	},
	"github.com/aws/aws-sdk-go-v2/service/sts": func() any {
		return sts.New(sts.Options{Region: "us-east-1", HTTPClient: neverSend{}, APIOptions: validationAPIOptions})
	},
	"github.com/aws/aws-sdk-go-v2/service/sns": func() any {
		return sns.New(sns.Options{Region: "us-east-1", HTTPClient: neverSend{}, APIOptions: validationAPIOptions})
	},
	"github.com/aws/aws-sdk-go-v2/service/sfn": func() any {
		return sfn.New(sfn.Options{Region: "us-east-1", HTTPClient: neverSend{}, APIOptions: validationAPIOptions})
	},
	"github.com/aws/aws-sdk-go-v2/service/ssm": func() any {
		return ssm.New(ssm.Options{Region: "us-east-1", HTTPClient: neverSend{}, APIOptions: validationAPIOptions})
	},
	"github.com/aws/aws-sdk-go-v2/service/eventbridge": func() any {
		return eventbridge.New(eventbridge.Options{Region: "us-east-1", HTTPClient: neverSend{}, APIOptions: validationAPIOptions})
	},
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch": func() any {
		return cloudwatch.New(cloudwatch.Options{Region: "us-east-1", HTTPClient: neverSend{}, APIOptions: validationAPIOptions})
	},
	"github.com/aws/aws-sdk-go-v2/service/lambda": func() any {
		return lambda.New(lambda.Options{Region: "us-east-1", HTTPClient: neverSend{}, APIOptions: validationAPIOptions})
	},
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder": func() any {
		return imagebuilder.New(imagebuilder.Options{Region: "us-east-1", HTTPClient: neverSend{}, APIOptions: validationAPIOptions})
	},
}

// validator runs an SDK client's validation for each operation.
type validator struct {
	methods map[string]reflect.Value
}

func newValidator(ops map[string]*operation) (*validator, error) {
	v := &validator{methods: map[string]reflect.Value{}}
	var client reflect.Value
	for name, op := range ops {
		if !client.IsValid() {
			mk, ok := clientFactories[op.in.PkgPath()]
			if !ok {
				return nil, fmt.Errorf("no SDK client known for %s", op.in.PkgPath())
			}
			client = reflect.ValueOf(mk())
		}
		m := client.MethodByName(name)
		if !m.IsValid() || m.Type().In(1) != reflect.PointerTo(op.in) {
			return nil, fmt.Errorf("the SDK client has no operation %s taking %s", name, op.in)
		}
		v.methods[name] = m
	}
	return v, nil
}

// check returns AWS's error for input members the SDK requires but the
// request lacks, or nil.
func (v *validator) check(c *call, op *operation, in reflect.Value) *api.Error {
	m := v.methods[op.name]
	res := m.Call([]reflect.Value{reflect.ValueOf(context.Background()), in})
	err, _ := res[1].Interface().(error)
	var params smithy.InvalidParamsError
	if err == nil || !errors.As(err, &params) {
		return nil
	}
	var paths []string
	for _, e := range params.Errs() {
		var pe smithy.InvalidParamError
		if errors.As(e, &pe) {
			paths = append(paths, pe.Field())
		}
	}
	if len(paths) == 0 {
		return nil
	}
	for i, p := range paths {
		// Field() starts with the input shape's name.
		if _, rest, ok := strings.Cut(p, "."); ok {
			paths[i] = rest
		}
	}
	if c.proto == EC2Query {
		return api.Errorf(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter %s", ec2ParamName(op.in, paths[0]))
	}
	if c.svc != nil && c.svc.Name == "monitoring" {
		// CloudWatch is query-compatible: whichever protocol the client
		// speaks, a missing required member is MissingParameter.
		return api.Errorf(http.StatusBadRequest, "MissingParameter", "The parameter %s is required.", paths[0])
	}
	msgs := make([]string, len(paths))
	for i, p := range paths {
		msgs[i] = fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", lowerPath(p))
	}
	noun := "error"
	if len(msgs) > 1 {
		noun = "errors"
	}
	code := "ValidationError"
	if c.proto != AWSQuery {
		code = "ValidationException"
	}
	return api.Errorf(http.StatusBadRequest, code, "%d validation %s detected: %s", len(msgs), noun, strings.Join(msgs, "; "))
}

// ec2ParamName returns the query name of a top-level member; EC2 names the
// parameter as clients send it ("ImageId", not "ImageIds").
func ec2ParamName(t reflect.Type, path string) string {
	if strings.ContainsAny(path, ".[") {
		return path
	}
	for _, f := range infoFor(t).fields {
		if f.goName == path && f.In != "" {
			return f.In
		}
	}
	return path
}

// lowerPath writes a member path the way AWS validation messages do, each
// segment starting lower case: "Preferences.AlarmSpecification" becomes
// "preferences.alarmSpecification".
func lowerPath(p string) string {
	b := []byte(p)
	start := true
	for i, c := range b {
		if start && c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
		start = c == '.'
	}
	return string(b)
}
