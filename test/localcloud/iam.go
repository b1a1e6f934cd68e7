package localcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/states"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/wire"
)

// IAMEnvVar turns IAM enforcement off when set to "off", for debugging a
// scenario without its permissions in the way. Enforcement is on in every
// other case.
const IAMEnvVar = "PHOENIX_LOCALCLOUD_IAM"

// iamEnforced reports whether calls are held against IAM policies: on
// unless the options or the environment turn it off.
func iamEnforced(opts Options) bool {
	return !opts.IAMOff && !strings.EqualFold(os.Getenv(IAMEnvVar), "off")
}

// IAMEnforced reports whether the cloud holds deployed functions' and
// state machines' calls against their roles' policies.
func (c *Cloud) IAMEnforced() bool { return c.enforceIAM }

// authorize is the wire layer's Authorize: a request signed with a
// deployed function's access key is held against the policies of the
// function's execution role as it is now; a request signed with any other
// key comes from the harness or an operator, an administrator here.
func (c *Cloud) authorize(ctx context.Context, accessKeyID string, in any) error {
	if !c.enforceIAM {
		return nil
	}
	name, role, ok := c.Lambda.Identity(accessKeyID)
	if !ok {
		return nil
	}
	r := api.RequestFrom(ctx)
	return c.AuthorizeRole(ctx, iam.Principal{RoleARN: role, Session: name}, r.Service, r.Operation, in)
}

// iamRequests looks the operation up in the table.
func (c *Cloud) iamRequests(ctx context.Context, service, operation string, in any) ([]iam.Request, error) {
	rule, ok := authzRules[service+"."+operation]
	if !ok {
		return nil, fmt.Errorf("operation %s.%s has no entry in the local cloud's IAM table (test/localcloud/authz.go)", service, operation)
	}
	return rule(c, ctx, in)
}

// AuthorizeRole holds a call made by a role against the role's policies.
// It returns nil when enforcement is off or the role is not one a
// deployment recorded (a function or state machine a test created
// directly with a made-up role, which is the harness's, unrestricted like
// its own key; the end-to-end scenarios check that every role of the
// deployed stack is recorded), and an *iam.AccessDenied when refused. A
// publish to an encrypted topic is then held against the topic's key
// (kms.go): a refusal there is SNS's KMSAccessDenied, an *api.Error.
func (c *Cloud) AuthorizeRole(ctx context.Context, p iam.Principal, service, operation string, in any) error {
	if !c.enforceIAM {
		return nil
	}
	if _, known := c.IAM.Policies(p.RoleARN); !known {
		return nil
	}
	reqs, err := c.iamRequests(ctx, service, operation, in)
	if err != nil {
		return err
	}
	if err := c.IAM.Authorize(p, reqs); err != nil {
		return err
	}
	return c.authorizeTopicKey(ctx, p, service, operation, in)
}

// dynamoTransactActions names the action each kind of transaction item
// needs on its table.
var dynamoTransactActions = map[string]string{
	"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem", "Delete": "dynamodb:DeleteItem",
	"ConditionCheck": "dynamodb:ConditionCheckItem", "Get": "dynamodb:GetItem",
}

// dynamoRequests reads the IAM requests of a DynamoDB call from its JSON
// body: the table (or index) of each item it touches, each transaction
// item with its own action.
func (c *Cloud) dynamoRequests(ctx context.Context, op string, body []byte) ([]iam.Request, error) {
	var in struct {
		TableName     string
		IndexName     string
		RequestItems  map[string]json.RawMessage
		TransactItems []map[string]struct{ TableName string }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("read DynamoDB %s for authorization: %w", op, err)
	}
	table := func(name string) string {
		if strings.HasPrefix(name, "arn:") {
			return name
		}
		return c.arn(ctx, "dynamodb", "table/"+name)
	}
	switch op {
	case "GetItem", "PutItem", "UpdateItem", "DeleteItem", "DescribeTable", "Query", "Scan":
		res := table(in.TableName)
		if in.IndexName != "" {
			res += "/index/" + in.IndexName
		}
		return []iam.Request{{Action: "dynamodb:" + op, Resource: res}}, nil
	case "BatchGetItem", "BatchWriteItem":
		var out []iam.Request
		for name := range in.RequestItems {
			out = append(out, iam.Request{Action: "dynamodb:" + op, Resource: table(name)})
		}
		return out, nil
	case "TransactWriteItems", "TransactGetItems":
		var out []iam.Request
		for _, item := range in.TransactItems {
			for kind, it := range item {
				action, ok := dynamoTransactActions[kind]
				if !ok {
					return nil, fmt.Errorf("DynamoDB %s: unknown transaction item %s", op, kind)
				}
				out = append(out, iam.Request{Action: action, Resource: table(it.TableName)})
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("operation dynamodb.%s has no entry in the local cloud's IAM table (test/localcloud/iam.go)", op)
}

// authorizeDynamo holds a DynamoDB request, forwarded to dynalite, against
// the signer's role, answering a refusal in DynamoDB's own shape; it
// reports whether it answered.
func (c *Cloud) authorizeDynamo(w http.ResponseWriter, r *http.Request, op string, body []byte) bool {
	if !c.enforceIAM {
		return false
	}
	name, role, ok := c.Lambda.Identity(wire.AccessKeyID(r))
	if !ok {
		return false
	}
	if _, known := c.IAM.Policies(role); !known {
		return false
	}
	ctx := api.WithRequest(r.Context(), api.Request{Region: wire.Region(r), Account: c.World.Account(), Service: "dynamodb", Operation: op})
	reqs, err := c.dynamoRequests(ctx, op, body)
	if err == nil {
		err = c.IAM.Authorize(iam.Principal{RoleARN: role, Session: name}, reqs)
	}
	if err == nil {
		return false
	}
	code, status := "com.amazon.coral.service#AccessDeniedException", http.StatusBadRequest
	var denied *iam.AccessDenied
	if !errors.As(err, &denied) {
		code, status = "com.amazonaws.dynamodb.v20120810#InternalServerError", http.StatusInternalServerError
	}
	out, _ := json.Marshal(map[string]string{"__type": code, "Message": err.Error(), "message": err.Error()})
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_, _ = w.Write(out)
	return true
}

// authorizeIntegration holds a call a state machine execution makes
// through an integration against the execution's role; a call no
// execution made (an EventBridge target, the harness) is not its to judge.
// A refusal comes back as the service's own AccessDenied error, which the
// engine reports as <Service>.<Code>Exception like any service error.
func (c *Cloud) authorizeIntegration(ctx context.Context, service, operation string, in any) error {
	caller, ok := states.CallerFrom(ctx)
	if !ok || !c.enforceIAM {
		return nil
	}
	err := c.AuthorizeRole(ctx, iam.Principal{RoleARN: caller.RoleARN, Session: caller.Session}, service, operation, in)
	var denied *iam.AccessDenied
	if errors.As(err, &denied) {
		proto := wire.AWSJSON10
		if svc, ok := wire.Describe(service, nil); ok {
			proto = svc.Protocol
		}
		return wire.AccessDeniedError(service, proto, denied)
	}
	return err
}

// authorizingLambda is the Lambda the state machines' lambda:invoke tasks
// reach: the execution role must allow lambda:InvokeFunction first.
type authorizingLambda struct {
	cloud *Cloud
	next  states.LambdaAPI
}

func (a authorizingLambda) Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	if err := a.cloud.authorizeIntegration(ctx, "lambda", "Invoke", in); err != nil {
		return nil, err
	}
	return a.next.Invoke(ctx, in, opts...)
}

// authorizingSNS is the SNS the sns:publish tasks reach: the execution
// role must allow sns:Publish on the topic first.
type authorizingSNS struct {
	cloud *Cloud
	next  states.SNSAPI
}

func (a authorizingSNS) Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error) {
	if err := a.cloud.authorizeIntegration(ctx, "sns", "Publish", in); err != nil {
		return nil, err
	}
	return a.next.Publish(ctx, in, opts...)
}
