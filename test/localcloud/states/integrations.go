package states

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
)

// LambdaAPI is the part of AWS Lambda that Task states call, with the
// aws-sdk-go-v2 signature so that the local cloud's Lambda model, a real
// client and a test fake all fit. Invoke returns the function's result in
// Payload; a function error is reported through FunctionError, not err.
type LambdaAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// SNSAPI is the part of Amazon SNS that the sns:publish integration calls.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// DynamoDBAPI is the part of DynamoDB that the optimized dynamodb
// integrations call.
type DynamoDBAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// SDKCaller serves arn:aws:states:::aws-sdk:<service>:<action> tasks. It
// receives the service id as written in the resource ("ec2",
// "autoscaling"), the action as written ("describeImages") and the
// parameters as JSON in the SDK's PascalCase shape, and returns the API
// response as JSON. An error that implements smithy.APIError becomes the
// task error <Service>.<Code>Exception; a *StateError is used as it is.
type SDKCaller interface {
	CallAWS(ctx context.Context, service, action string, params json.RawMessage) (json.RawMessage, error)
}

// Integrations are the services Task states reach. A nil member makes tasks
// that need it fail with States.Runtime naming the missing integration.
type Integrations struct {
	Lambda   LambdaAPI
	SNS      SNSAPI
	DynamoDB DynamoDBAPI
	SDK      SDKCaller
	// Authorize, if set, is asked before a states:startExecution task,
	// which the engine serves itself, whether the execution's role may
	// make the calls it stands for ("states", "StartExecution" with a
	// *sfn.StartExecutionInput; for .sync, also "events" PutRule,
	// PutTargets and DescribeRule on Step Functions' managed rule). The
	// other integrations receive the Caller in their context and
	// authorize on their own. A refusal should implement smithy.APIError.
	Authorize func(ctx context.Context, service, operation string, input any) error
}

// Caller is who an integration call is made as: the execution's role, in
// a session named after the execution, as Step Functions assumes it.
type Caller struct {
	RoleARN string
	Session string
}

type callerKey struct{}

// CallerFrom returns the execution role an integration call is made with;
// ok is false for a call that no execution made.
func CallerFrom(ctx context.Context) (c Caller, ok bool) {
	c, ok = ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// withCaller marks ctx as a call made by the execution's role.
func withCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// syncRule is the EventBridge rule Step Functions manages to learn that a
// child execution started by a .sync task has ended; the parent's role
// needs events:PutTargets, PutRule and DescribeRule on it.
const syncRule = "StepFunctionsGetEventsForStepFunctionsExecutionRule"

// integrationCall is everything an integration needs, captured under the
// engine lock so that the call itself runs without it.
type integrationCall struct {
	res       *resource
	params    any
	requestID string
}

// call performs the request and returns the task result or the task error.
func (ic integrationCall) call(ctx context.Context, in Integrations) (any, *StateError) {
	switch ic.res.kind {
	case resLambdaARN, resLambda:
		return ic.callLambda(ctx, in.Lambda)
	case resSNS:
		return ic.callSNS(ctx, in.SNS)
	case resDynamoDB:
		return ic.callDynamoDB(ctx, in.DynamoDB)
	case resSDK:
		return ic.callSDK(ctx, in.SDK)
	}
	return nil, runtimeErrorf("the resource %s has no integration", ic.res.arn)
}

func missingIntegration(name string) *StateError {
	return runtimeErrorf("no %s integration is configured in the local cloud's Step Functions engine", name)
}

// serviceError names an AWS API error the way Step Functions reports it to
// Retry and Catch: <Service>.<Code>, with the Exception suffix the
// documentation says to use even where the service's own code lacks it, and
// a cause in the form of the underlying SDK's exception message.
func serviceError(service string, err error) *StateError {
	var se *StateError
	if errors.As(err, &se) {
		return se
	}
	pascal := servicePascal(service)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return &StateError{Name: pascal + ".SdkClientException", Cause: err.Error()}
	}
	status := http.StatusBadRequest
	var withStatus interface{ HTTPStatus() int }
	if errors.As(err, &withStatus) {
		status = withStatus.HTTPStatus()
	}
	code := apiErr.ErrorCode()
	cause := fmt.Sprintf("%s (Service: %s, Status Code: %d, Error Code: %s)", apiErr.ErrorMessage(), pascal, status, code)
	if unmodeledErrors[strings.ToLower(service)] {
		// These services model no error shapes, so the SDK Step Functions
		// runs on raises the service's base exception for every code.
		return &StateError{Name: pascal + "." + pascal + "Exception", Cause: cause}
	}
	if !strings.HasSuffix(code, "Exception") {
		code += "Exception"
	}
	return &StateError{Name: pascal + "." + code, Cause: cause}
}

// unmodeledErrors lists services whose API model declares no error shapes.
var unmodeledErrors = map[string]bool{"ec2": true}

// servicePascal gives the PascalCase service name used in error names.
func servicePascal(service string) string {
	known := map[string]string{
		"autoscaling": "AutoScaling", "cloudwatch": "CloudWatch", "dynamodb": "DynamoDb",
		"ec2": "Ec2", "elasticloadbalancingv2": "ElasticLoadBalancingV2", "eventbridge": "EventBridge",
		"imagebuilder": "Imagebuilder", "lambda": "Lambda", "sfn": "Sfn", "sns": "Sns", "sqs": "Sqs",
		"ssm": "Ssm", "sts": "Sts", "s3": "S3", "iam": "Iam",
	}
	if p, ok := known[strings.ToLower(service)]; ok {
		return p
	}
	if service == "" {
		return service
	}
	return strings.ToUpper(service[:1]) + service[1:]
}

// sdkMetadata adds the response metadata Step Functions includes in the
// output of optimized integrations.
func sdkMetadata(out map[string]any, requestID string, status int) map[string]any {
	out["SdkHttpMetadata"] = map[string]any{
		"AllHttpHeaders": map[string]any{"x-amzn-RequestId": []any{requestID}},
		"HttpHeaders":    map[string]any{"x-amzn-RequestId": requestID},
		"HttpStatusCode": num(float64(status)),
	}
	out["SdkResponseMetadata"] = map[string]any{"RequestId": requestID}
	return out
}

func (ic integrationCall) callLambda(ctx context.Context, l LambdaAPI) (any, *StateError) {
	if l == nil {
		return nil, missingIntegration("Lambda")
	}
	in := &lambda.InvokeInput{}
	if ic.res.kind == resLambdaARN {
		in.FunctionName = aws.String(ic.res.arn)
		in.Payload = []byte(toJSON(ic.params))
	} else {
		p, ok := ic.params.(map[string]any)
		if !ok {
			return nil, runtimeErrorf("the parameters of lambda:invoke must be an object")
		}
		fn, _ := p["FunctionName"].(string)
		if fn == "" {
			return nil, runtimeErrorf("the parameters of lambda:invoke must include the field 'FunctionName'")
		}
		in.FunctionName = aws.String(fn)
		if q, ok := p["Qualifier"].(string); ok {
			in.Qualifier = aws.String(q)
		}
		if it, ok := p["InvocationType"].(string); ok {
			in.InvocationType = lambdatypes.InvocationType(it)
		}
		if cc, ok := p["ClientContext"].(string); ok {
			in.ClientContext = aws.String(cc)
		}
		if pl, ok := p["Payload"]; ok {
			if s, isStr := pl.(string); isStr {
				in.Payload = []byte(s)
			} else {
				in.Payload = []byte(toJSON(pl))
			}
		}
	}
	out, err := l.Invoke(ctx, in)
	if err != nil {
		return nil, serviceError("lambda", err)
	}
	if out.FunctionError != nil {
		var fe struct {
			ErrorType string `json:"errorType"`
		}
		_ = json.Unmarshal(out.Payload, &fe)
		name := fe.ErrorType
		if name == "" {
			name = "Lambda.Unknown"
		}
		return nil, &StateError{Name: name, Cause: string(out.Payload)}
	}
	var payload any
	if len(out.Payload) > 0 {
		v, perr := parseJSON(string(out.Payload))
		if perr != nil {
			if ic.res.kind == resLambdaARN {
				return nil, runtimeErrorf("the function's result is not JSON: %v", perr)
			}
			v = string(out.Payload)
		}
		payload = v
	}
	if ic.res.kind == resLambdaARN {
		return payload, nil
	}
	status := out.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	version := aws.ToString(out.ExecutedVersion)
	if version == "" {
		version = "$LATEST"
	}
	result := map[string]any{"ExecutedVersion": version, "Payload": payload, "StatusCode": num(float64(status))}
	if in.InvocationType == lambdatypes.InvocationTypeEvent {
		result["Payload"] = ""
	}
	return sdkMetadata(result, ic.requestID, int(status)), nil
}

func (ic integrationCall) callSNS(ctx context.Context, s SNSAPI) (any, *StateError) {
	if s == nil {
		return nil, missingIntegration("SNS")
	}
	p, ok := ic.params.(map[string]any)
	if !ok {
		return nil, runtimeErrorf("the parameters of sns:publish must be an object")
	}
	in := &sns.PublishInput{}
	msg, ok := p["Message"]
	if !ok {
		return nil, runtimeErrorf("the parameters of sns:publish must include the field 'Message'")
	}
	if str, isStr := msg.(string); isStr {
		in.Message = aws.String(str)
	} else {
		// A JSON message is sent as its JSON text.
		in.Message = aws.String(toJSON(msg))
	}
	for field, dst := range map[string]**string{
		"TopicArn": &in.TopicArn, "TargetArn": &in.TargetArn, "PhoneNumber": &in.PhoneNumber,
		"Subject": &in.Subject, "MessageStructure": &in.MessageStructure,
		"MessageGroupId": &in.MessageGroupId, "MessageDeduplicationId": &in.MessageDeduplicationId,
	} {
		if v, ok := p[field].(string); ok {
			*dst = aws.String(v)
		}
	}
	if attrs, ok := p["MessageAttributes"].(map[string]any); ok {
		in.MessageAttributes = map[string]snstypes.MessageAttributeValue{}
		for name, a := range attrs {
			am, _ := a.(map[string]any)
			v := snstypes.MessageAttributeValue{}
			if dt, ok := am["DataType"].(string); ok {
				v.DataType = aws.String(dt)
			}
			if sv, ok := am["StringValue"].(string); ok {
				v.StringValue = aws.String(sv)
			}
			if bv, ok := am["BinaryValue"].(string); ok {
				raw, err := base64.StdEncoding.DecodeString(bv)
				if err != nil {
					return nil, runtimeErrorf("the message attribute %s has a BinaryValue that is not Base64", name)
				}
				v.BinaryValue = raw
			}
			in.MessageAttributes[name] = v
		}
	}
	out, err := s.Publish(ctx, in)
	if err != nil {
		return nil, optimizedError("SNS", err)
	}
	result := map[string]any{"MessageId": aws.ToString(out.MessageId)}
	if out.SequenceNumber != nil {
		result["SequenceNumber"] = *out.SequenceNumber
	}
	return sdkMetadata(result, ic.requestID, http.StatusOK), nil
}

// optimizedError names errors of the optimized SNS and DynamoDB integrations,
// which Step Functions prefixes with the service's short name (SNS.,
// DynamoDB.) rather than the SDK-integration PascalCase name.
func optimizedError(prefix string, err error) *StateError {
	se := serviceError(prefix, err)
	if i := strings.IndexByte(se.Name, '.'); i > 0 && se.Name[:i] == servicePascal(prefix) {
		se = &StateError{Name: prefix + se.Name[i:], Cause: se.Cause}
	}
	return se
}

func (ic integrationCall) callDynamoDB(ctx context.Context, d DynamoDBAPI) (any, *StateError) {
	if d == nil {
		return nil, missingIntegration("DynamoDB")
	}
	p, ok := ic.params.(map[string]any)
	if !ok {
		return nil, runtimeErrorf("the parameters of dynamodb:%s must be an object", ic.res.action)
	}
	table, _ := p["TableName"].(string)
	if table == "" {
		return nil, runtimeErrorf("the parameters of dynamodb:%s must include the field 'TableName'", ic.res.action)
	}
	names := stringMap(p["ExpressionAttributeNames"])
	values, err := attributeMap(p["ExpressionAttributeValues"])
	if err != nil {
		return nil, runtimeErrorf("ExpressionAttributeValues: %v", err)
	}
	optStr := func(field string) *string {
		if s, ok := p[field].(string); ok {
			return aws.String(s)
		}
		return nil
	}
	result := map[string]any{}
	switch ic.res.action {
	case "getItem":
		key, err := attributeMap(p["Key"])
		if err != nil {
			return nil, runtimeErrorf("Key: %v", err)
		}
		in := &dynamodb.GetItemInput{TableName: &table, Key: key, ExpressionAttributeNames: names,
			ProjectionExpression: optStr("ProjectionExpression")}
		if b, ok := p["ConsistentRead"].(bool); ok {
			in.ConsistentRead = aws.Bool(b)
		}
		out, err := d.GetItem(ctx, in)
		if err != nil {
			return nil, optimizedError("DynamoDB", err)
		}
		if out.Item != nil {
			result["Item"] = fromAttributeMap(out.Item)
		}
	case "putItem":
		item, err := attributeMap(p["Item"])
		if err != nil {
			return nil, runtimeErrorf("Item: %v", err)
		}
		in := &dynamodb.PutItemInput{TableName: &table, Item: item, ExpressionAttributeNames: names,
			ExpressionAttributeValues: values, ConditionExpression: optStr("ConditionExpression")}
		if rv, ok := p["ReturnValues"].(string); ok {
			in.ReturnValues = ddbtypes.ReturnValue(rv)
		}
		out, err := d.PutItem(ctx, in)
		if err != nil {
			return nil, optimizedError("DynamoDB", err)
		}
		if out.Attributes != nil {
			result["Attributes"] = fromAttributeMap(out.Attributes)
		}
	case "updateItem":
		key, err := attributeMap(p["Key"])
		if err != nil {
			return nil, runtimeErrorf("Key: %v", err)
		}
		in := &dynamodb.UpdateItemInput{TableName: &table, Key: key, ExpressionAttributeNames: names,
			ExpressionAttributeValues: values, ConditionExpression: optStr("ConditionExpression"),
			UpdateExpression: optStr("UpdateExpression")}
		if rv, ok := p["ReturnValues"].(string); ok {
			in.ReturnValues = ddbtypes.ReturnValue(rv)
		}
		out, err := d.UpdateItem(ctx, in)
		if err != nil {
			return nil, optimizedError("DynamoDB", err)
		}
		if out.Attributes != nil {
			result["Attributes"] = fromAttributeMap(out.Attributes)
		}
	}
	return sdkMetadata(result, ic.requestID, http.StatusOK), nil
}

func (ic integrationCall) callSDK(ctx context.Context, c SDKCaller) (any, *StateError) {
	if c == nil {
		return nil, missingIntegration("AWS SDK")
	}
	raw, err := c.CallAWS(ctx, ic.res.service, ic.res.action, json.RawMessage(toJSON(ic.params)))
	if err != nil {
		return nil, serviceError(ic.res.service, err)
	}
	if len(raw) == 0 {
		return map[string]any{}, nil
	}
	v, perr := parseJSON(string(raw))
	if perr != nil {
		return nil, runtimeErrorf("the response of %s:%s is not JSON: %v", ic.res.service, ic.res.action, perr)
	}
	return v, nil
}

func stringMap(v any) map[string]string {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		if s, ok := x.(string); ok {
			out[k] = s
		}
	}
	return out
}

func attributeMap(v any) (map[string]ddbtypes.AttributeValue, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected an object of attribute values, got a %s", typeName(v))
	}
	out := make(map[string]ddbtypes.AttributeValue, len(m))
	for k, x := range m {
		av, err := toAttributeValue(x)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

// toAttributeValue converts DynamoDB JSON ({"S": "x"}, {"N": "1"}, ...)
// into the SDK's attribute value union.
func toAttributeValue(v any) (ddbtypes.AttributeValue, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, fmt.Errorf("an attribute value must be an object with exactly one type key")
	}
	for k, x := range m {
		switch k {
		case "S":
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("the S member must be a string")
			}
			return &ddbtypes.AttributeValueMemberS{Value: s}, nil
		case "N":
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("the N member must be a string holding a number")
			}
			return &ddbtypes.AttributeValueMemberN{Value: s}, nil
		case "BOOL":
			b, ok := x.(bool)
			if !ok {
				return nil, fmt.Errorf("the BOOL member must be a boolean")
			}
			return &ddbtypes.AttributeValueMemberBOOL{Value: b}, nil
		case "NULL":
			return &ddbtypes.AttributeValueMemberNULL{Value: true}, nil
		case "B":
			s, _ := x.(string)
			raw, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("the B member must be Base64")
			}
			return &ddbtypes.AttributeValueMemberB{Value: raw}, nil
		case "SS", "NS", "BS":
			list, ok := x.([]any)
			if !ok {
				return nil, fmt.Errorf("%s must be an array of strings", k)
			}
			var ss []string
			var bs [][]byte
			for _, e := range list {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("%s must be an array of strings", k)
				}
				if k == "BS" {
					raw, err := base64.StdEncoding.DecodeString(s)
					if err != nil {
						return nil, fmt.Errorf("the BS members must be Base64")
					}
					bs = append(bs, raw)
				}
				ss = append(ss, s)
			}
			switch k {
			case "SS":
				return &ddbtypes.AttributeValueMemberSS{Value: ss}, nil
			case "NS":
				return &ddbtypes.AttributeValueMemberNS{Value: ss}, nil
			}
			return &ddbtypes.AttributeValueMemberBS{Value: bs}, nil
		case "L":
			list, ok := x.([]any)
			if !ok {
				return nil, fmt.Errorf("the L member must be an array")
			}
			out := make([]ddbtypes.AttributeValue, 0, len(list))
			for _, e := range list {
				av, err := toAttributeValue(e)
				if err != nil {
					return nil, err
				}
				out = append(out, av)
			}
			return &ddbtypes.AttributeValueMemberL{Value: out}, nil
		case "M":
			mm, err := attributeMap(x)
			if err != nil {
				return nil, err
			}
			if mm == nil {
				mm = map[string]ddbtypes.AttributeValue{}
			}
			return &ddbtypes.AttributeValueMemberM{Value: mm}, nil
		}
		return nil, fmt.Errorf("unknown attribute type %q", k)
	}
	return nil, fmt.Errorf("empty attribute value")
}

func fromAttributeMap(m map[string]ddbtypes.AttributeValue) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = fromAttributeValue(v)
	}
	return out
}

// fromAttributeValue converts an SDK attribute value into DynamoDB JSON.
func fromAttributeValue(av ddbtypes.AttributeValue) any {
	strs := func(ss []string) []any {
		out := make([]any, len(ss))
		for i, s := range ss {
			out[i] = s
		}
		return out
	}
	switch t := av.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return map[string]any{"S": t.Value}
	case *ddbtypes.AttributeValueMemberN:
		return map[string]any{"N": t.Value}
	case *ddbtypes.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": t.Value}
	case *ddbtypes.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *ddbtypes.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(t.Value)}
	case *ddbtypes.AttributeValueMemberSS:
		return map[string]any{"SS": strs(t.Value)}
	case *ddbtypes.AttributeValueMemberNS:
		return map[string]any{"NS": strs(t.Value)}
	case *ddbtypes.AttributeValueMemberBS:
		out := make([]any, len(t.Value))
		for i, b := range t.Value {
			out[i] = base64.StdEncoding.EncodeToString(b)
		}
		return map[string]any{"BS": out}
	case *ddbtypes.AttributeValueMemberL:
		out := make([]any, len(t.Value))
		for i, e := range t.Value {
			out[i] = fromAttributeValue(e)
		}
		return map[string]any{"L": out}
	case *ddbtypes.AttributeValueMemberM:
		return map[string]any{"M": fromAttributeMap(t.Value)}
	}
	return nil
}
