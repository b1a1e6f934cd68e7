package localcloud

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"
	"unicode"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// sdkCaller serves Step Functions' aws-sdk integrations
// (arn:aws:states:::aws-sdk:<service>:<action>) by calling the local
// cloud's models directly: parameters arrive in PascalCase, as Step
// Functions writes every SDK integration's parameters, and the response
// goes back the same way. API fault rules apply as they do over HTTP.
type sdkCaller struct{ cloud *Cloud }

// sdkServices maps the service ids used in aws-sdk resource ARNs to the
// signing names the rest of the cloud uses.
var sdkServices = map[string]string{
	"ec2": "ec2", "autoscaling": "autoscaling", "elasticloadbalancingv2": "elasticloadbalancing",
	"cloudwatch": "monitoring", "ssm": "ssm", "sns": "sns", "sfn": "states", "eventbridge": "events",
	"sts": "sts", "lambda": "lambda", "imagebuilder": "imagebuilder",
}

// CallAWS implements states.SDKCaller.
func (s *sdkCaller) CallAWS(ctx context.Context, service, action string, params json.RawMessage) (json.RawMessage, error) {
	signing, ok := sdkServices[service]
	if !ok {
		return nil, &api.Error{Code: "UnknownServiceException", Message: fmt.Sprintf("the local cloud has no aws-sdk integration for service %q", service), Status: http.StatusBadRequest}
	}
	var handler any
	switch signing {
	case "lambda":
		handler = s.cloud.Lambda
	case "imagebuilder":
		handler = s.cloud.ImageBuilder
	default:
		handler = s.cloud.handlers()[signing]
	}
	op := upperFirst(action)
	m := reflect.ValueOf(handler).MethodByName(op)
	if !m.IsValid() || m.Type().NumIn() < 2 || m.Type().In(1).Kind() != reflect.Pointer {
		return nil, &api.Error{Code: "UnknownOperationException", Message: fmt.Sprintf("%s has no action %s in the local cloud", service, action), Status: http.StatusBadRequest}
	}
	in := reflect.New(m.Type().In(1).Elem())
	if len(params) > 0 && string(params) != "null" {
		if err := json.Unmarshal(params, in.Interface()); err != nil {
			return nil, api.Validation("parameters of %s:%s do not fit the API: %v", service, action, err)
		}
	}
	ctx = api.WithRequest(ctx, api.Request{Region: api.Region(ctx), Account: s.cloud.World.Account(), Service: signing, Operation: op})
	for _, r := range s.cloud.Faults.API(signing, op) {
		switch r.Kind {
		case faults.Latency:
			// Wall-clock latency has no meaning inside the engine's
			// simulated time; the rule is counted and skipped.
		case faults.Throttle:
			s.cloud.apiThrottled(ctx, in.Interface())
			return nil, &api.Error{Code: orDefault(r.Code, "ThrottlingException"), Message: orDefault(r.Message, "Rate exceeded"), Status: http.StatusBadRequest}
		case faults.ServerError:
			return nil, &api.Error{Code: orDefault(r.Code, "InternalFailure"), Message: orDefault(r.Message, "injected server error"), Status: http.StatusInternalServerError, Server: true}
		}
	}
	if err := s.cloud.authorizeIntegration(ctx, signing, op, in.Interface()); err != nil {
		return nil, err
	}
	res := m.Call([]reflect.Value{reflect.ValueOf(ctx), in})
	if err, _ := res[1].Interface().(error); err != nil {
		return nil, err
	}
	out := pascal(res[0])
	if out == nil {
		out = map[string]any{}
	}
	return json.Marshal(out)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

var timeType = reflect.TypeFor[time.Time]()

// pascal renders an SDK value as JSON-ready data keyed by member name,
// leaving out absent members and the SDK's result metadata.
func pascal(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return pascal(v.Elem())
	case reflect.Struct:
		if v.Type() == timeType {
			return v.Interface().(time.Time).UTC().Format(time.RFC3339Nano)
		}
		out := map[string]any{}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Name == "ResultMetadata" || strings.HasPrefix(f.Name, "noSmithy") {
				continue
			}
			if x := pascal(v.Field(i)); x != nil {
				out[f.Name] = x
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return base64.StdEncoding.EncodeToString(v.Bytes())
		}
		out := make([]any, v.Len())
		for i := range v.Len() {
			out[i] = pascal(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			out[fmt.Sprint(k.Interface())] = pascal(v.MapIndex(k))
		}
		return out
	case reflect.String:
		return v.String()
	default:
		return v.Interface()
	}
}
