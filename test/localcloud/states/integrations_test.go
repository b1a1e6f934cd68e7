package states

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

type fakeSNS struct{ got []*sns.PublishInput }

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.got = append(f.got, in)
	if strings.HasSuffix(aws.ToString(in.TopicArn), ":missing") {
		return nil, &api.Error{Code: "NotFound", Message: "Topic does not exist", Status: 404}
	}
	return &sns.PublishOutput{MessageId: aws.String("msg-1")}, nil
}

// fakeTable is a one-table DynamoDB keyed by the attribute "pk".
type fakeTable struct {
	items map[string]map[string]ddbtypes.AttributeValue
}

func (f *fakeTable) key(k map[string]ddbtypes.AttributeValue) string {
	return k["pk"].(*ddbtypes.AttributeValueMemberS).Value
}

func (f *fakeTable) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{Item: f.items[f.key(in.Key)]}, nil
}

func (f *fakeTable) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	k := f.key(in.Item)
	if aws.ToString(in.ConditionExpression) == "attribute_not_exists(pk)" && f.items[k] != nil {
		return nil, &api.Error{Code: "ConditionalCheckFailedException", Message: "The conditional request failed"}
	}
	f.items[k] = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

func (f *fakeTable) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	item := f.items[f.key(in.Key)]
	item["status"] = in.ExpressionAttributeValues[":s"]
	return &dynamodb.UpdateItemOutput{Attributes: map[string]ddbtypes.AttributeValue{"status": item["status"]}}, nil
}

type fakeSDK struct{ calls []string }

func (f *fakeSDK) CallAWS(_ context.Context, service, action string, params json.RawMessage) (json.RawMessage, error) {
	f.calls = append(f.calls, service+":"+action+" "+string(params))
	switch service + ":" + action {
	case "ec2:describeImages":
		if strings.Contains(string(params), "ami-gone") {
			return nil, &api.Error{Code: "InvalidAMIID.NotFound", Message: "The image id '[ami-gone]' does not exist"}
		}
		return json.RawMessage(`{"Images":[{"ImageId":"ami-1","State":"available"}]}`), nil
	case "autoscaling:startInstanceRefresh":
		return nil, &api.Error{Code: "InstanceRefreshInProgress", Message: "An Instance Refresh is already in progress"}
	}
	return nil, &StateError{Name: "Custom.Error", Cause: "as given"}
}

// TestIntegrations runs one task per integration and checks what the
// service received and what the state machine got back.
func TestIntegrations(t *testing.T) {
	cases := []struct {
		name, state, input string
		output             string // the execution's output, when it succeeds
		errName            string // the execution's error, when it fails
		check              func(t *testing.T, in Integrations)
	}{
		{
			name:   "lambda:invoke returns the Payload with the StatusCode and SDK metadata",
			state:  `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"Echo","Payload.$":"$"},"ResultSelector":{"p.$":"$.Payload","code.$":"$.StatusCode","version.$":"$.ExecutedVersion"},"ResultPath":"$.r","OutputPath":"$.r","End":true}`,
			input:  `{"k":"v"}`,
			output: `{"p":{"k":"v"},"code":200,"version":"$LATEST"}`,
			check: func(t *testing.T, in Integrations) {
				if got := in.Lambda.(*fakeLambda).payload["Echo"][0]; got != `{"k":"v"}` {
					t.Fatalf("payload %s", got)
				}
			},
		},
		{
			name:    "a lambda:invoke function error is named by its errorType",
			state:   `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"Broken"},"End":true}`,
			input:   `{}`,
			errName: "RefreshFailed",
		},
		{
			name:   "sns:publish sends a JSON message as its text and returns the MessageId",
			state:  `{"Type":"Task","Resource":"arn:aws:states:::sns:publish","Parameters":{"TopicArn":"arn:aws:sns:us-east-1:123456789012:rollouts","Message.$":"$","Subject":"done","MessageAttributes":{"kind":{"DataType":"String","StringValue":"rollout"}}},"ResultSelector":{"id.$":"$.MessageId"},"End":true}`,
			input:  `{"group":"web"}`,
			output: `{"id":"msg-1"}`,
			check: func(t *testing.T, in Integrations) {
				got := in.SNS.(*fakeSNS).got[0]
				if aws.ToString(got.Message) != `{"group":"web"}` || aws.ToString(got.Subject) != "done" || aws.ToString(got.MessageAttributes["kind"].StringValue) != "rollout" {
					t.Fatalf("published %+v", got)
				}
			},
		},
		{
			name:    "an sns:publish service error is named SNS.<Code>Exception",
			state:   `{"Type":"Task","Resource":"arn:aws:states:::sns:publish","Parameters":{"TopicArn":"arn:aws:sns:us-east-1:123456789012:missing","Message":"m"},"End":true}`,
			input:   `{}`,
			errName: "SNS.NotFoundException",
		},
		{
			name:   "dynamodb:putItem then getItem round-trips DynamoDB JSON",
			state:  `{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"rollouts","Item":{"pk":{"S.$":"$.id"},"n":{"N":"3"},"tags":{"SS":["a","b"]},"m":{"M":{"ok":{"BOOL":true}}}}},"ResultPath":null,"Next":"Get"},"Get":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem","Parameters":{"TableName":"rollouts","Key":{"pk":{"S.$":"$.id"}}},"ResultSelector":{"item.$":"$.Item"},"Next":"Update"},"Update":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:updateItem","Parameters":{"TableName":"rollouts","Key":{"pk":{"S":"r-1"}},"UpdateExpression":"SET #s = :s","ExpressionAttributeNames":{"#s":"status"},"ExpressionAttributeValues":{":s":{"S":"done"}},"ReturnValues":"UPDATED_NEW"},"ResultSelector":{"item.$":"$.Attributes"},"ResultPath":"$.updated","End":true}`,
			input:  `{"id":"r-1"}`,
			output: `{"item":{"pk":{"S":"r-1"},"n":{"N":"3"},"tags":{"SS":["a","b"]},"m":{"M":{"ok":{"BOOL":true}}}},"updated":{"item":{"status":{"S":"done"}}}}`,
		},
		{
			name:    "a DynamoDB conditional check failure is named DynamoDB.ConditionalCheckFailedException",
			state:   `{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"rollouts","Item":{"pk":{"S":"taken"}},"ConditionExpression":"attribute_not_exists(pk)"},"End":true}`,
			input:   `{}`,
			errName: "DynamoDB.ConditionalCheckFailedException",
		},
		{
			name:   "an aws-sdk task passes its parameters as JSON and returns the response",
			state:  `{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:ec2:describeImages","Parameters":{"ImageIds.$":"States.Array($.ami)"},"ResultSelector":{"state.$":"$.Images[0].State"},"End":true}`,
			input:  `{"ami":"ami-1"}`,
			output: `{"state":"available"}`,
			check: func(t *testing.T, in Integrations) {
				if got := in.SDK.(*fakeSDK).calls[0]; got != `ec2:describeImages {"ImageIds":["ami-1"]}` {
					t.Fatalf("call %s", got)
				}
			},
		},
		{
			name:    "an EC2 error through aws-sdk is named Ec2.Ec2Exception, EC2 having no modeled errors",
			state:   `{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:ec2:describeImages","Parameters":{"ImageIds":["ami-gone"]},"End":true}`,
			input:   `{}`,
			errName: "Ec2.Ec2Exception",
		},
		{
			name:    "a modeled error through aws-sdk is named <Service>.<Code>Exception",
			state:   `{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:autoscaling:startInstanceRefresh","Parameters":{"AutoScalingGroupName":"web"},"End":true}`,
			input:   `{}`,
			errName: "AutoScaling.InstanceRefreshInProgressException",
		},
		{
			name:    "a StateError from the SDK caller is used as it is",
			state:   `{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:ssm:getParameter","Parameters":{"Name":"x"},"End":true}`,
			input:   `{}`,
			errName: "Custom.Error",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := Integrations{
				Lambda:   newFakeLambda().on("Echo", reply{echo: true}).on("Broken", reply{errorType: "RefreshFailed", message: "x"}),
				SNS:      &fakeSNS{},
				DynamoDB: &fakeTable{items: map[string]map[string]ddbtypes.AttributeValue{"taken": {}}},
				SDK:      &fakeSDK{},
			}
			h := newHarness(t, InProcess, in)
			_, out := h.runDef(`{"StartAt":"T","States":{"T":`+tc.state+`}}`, tc.input)
			switch {
			case tc.errName != "":
				if aws.ToString(out.Error) != tc.errName {
					t.Fatalf("error %q (%s), want %q", aws.ToString(out.Error), aws.ToString(out.Cause), tc.errName)
				}
			case out.Status != types.ExecutionStatusSucceeded:
				t.Fatalf("status %s: %s: %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
			case tc.output != "":
				assertJSON(t, out.Output, tc.output)
			}
			if tc.check != nil {
				tc.check(t, in)
			}
		})
	}
	t.Run("the lambda:invoke result has the documented shape", func(t *testing.T) {
		h := newHarness(t, InProcess, Integrations{Lambda: newFakeLambda().on("Echo", reply{echo: true})})
		_, out := h.runDef(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"Echo","Payload":{"a":1}},"End":true}}}`, `{}`)
		v := mustParse(t, aws.ToString(out.Output)).(map[string]any)
		if !jsonEqual(v["Payload"], mustParse(t, `{"a":1}`)) || !jsonEqual(v["StatusCode"], mustParse(t, `200`)) || v["ExecutedVersion"] != "$LATEST" || v["SdkHttpMetadata"] == nil {
			t.Fatalf("output %s", aws.ToString(out.Output))
		}
	})
	t.Run("the EC2 error's cause names the service, status and code", func(t *testing.T) {
		h := newHarness(t, InProcess, Integrations{SDK: &fakeSDK{}})
		_, out := h.runDef(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:ec2:describeImages","Parameters":{"ImageIds":["ami-gone"]},"End":true}}}`, `{}`)
		if c := aws.ToString(out.Cause); !strings.Contains(c, "Service: Ec2, Status Code: 400, Error Code: InvalidAMIID.NotFound") {
			t.Fatalf("cause %q", c)
		}
	})
	t.Run("a task whose integration is not wired fails the execution with States.Runtime", func(t *testing.T) {
		h := newHarness(t, InProcess, Integrations{})
		_, out := h.runDef(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sns:publish","Parameters":{"Message":"m"},"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},"C":{"Type":"Succeed"}}}`, `{}`)
		if aws.ToString(out.Error) != ErrRuntime || !strings.Contains(aws.ToString(out.Cause), "SNS") {
			t.Fatalf("error %s: %s", aws.ToString(out.Error), aws.ToString(out.Cause))
		}
	})
}

// TestChildExecutions checks the states:startExecution integration.
func testChildExecutions(t *testing.T, backend Backend) {
	child := `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"Next":"C"},"C":{"Type":"Choice","Choices":[{"Variable":"$.fail","BooleanEquals":true,"Next":"F"}],"Default":"S"},"F":{"Type":"Fail","Error":"ChildBroke","Cause":"c"},"S":{"Type":"Pass","Result":{"child":"done"},"End":true}}}`
	parent := func(pattern, input string) string {
		return `{"StartAt":"Run","States":{"Run":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution` + pattern + `",
			"Parameters":{"StateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:child","Name":"kid","Input":` + input + `},"End":true}}}`
	}
	setup := func(t *testing.T) *harness {
		h := newHarness(t, backend, Integrations{})
		h.create("child", child)
		return h
	}
	t.Run("without .sync the task ends when the child starts", func(t *testing.T) {
		h := setup(t)
		_, out := h.runDef(parent("", `{"fail":false}`), `{}`)
		v := mustParse(t, aws.ToString(out.Output)).(map[string]any)
		if v["ExecutionArn"] != "arn:aws:states:us-east-1:123456789012:execution:child:kid" {
			t.Fatalf("output %s", aws.ToString(out.Output))
		}
		if !out.StopDate.Equal(*out.StartDate) {
			t.Fatal("the parent waited for the child")
		}
	})
	t.Run(".sync waits for the child and returns its output as JSON text", func(t *testing.T) {
		h := setup(t)
		exec, out := h.runDef(parent(".sync", `{"fail":false}`), `{}`)
		v := mustParse(t, aws.ToString(out.Output)).(map[string]any)
		if v["Status"] != "SUCCEEDED" || v["Output"] != `{"child":"done"}` {
			t.Fatalf("output %s", aws.ToString(out.Output))
		}
		if got := out.StopDate.Sub(*out.StartDate); got.Seconds() != 10 {
			t.Fatalf("the parent took %s, want the child's 10s", got)
		}
		if got := h.eventTypes(exec); !strings.Contains(strings.Join(got, ","), "TaskSubmitted,TaskSucceeded") {
			t.Fatalf("history %v", got)
		}
	})
	t.Run(".sync:2 returns the child's output as JSON", func(t *testing.T) {
		h := setup(t)
		_, out := h.runDef(parent(".sync:2", `{"fail":false}`), `{}`)
		v := mustParse(t, aws.ToString(out.Output)).(map[string]any)
		if !jsonEqual(v["Output"], mustParse(t, `{"child":"done"}`)) {
			t.Fatalf("output %s", aws.ToString(out.Output))
		}
	})
	t.Run("a failed child fails a .sync task with States.TaskFailed", func(t *testing.T) {
		h := setup(t)
		_, out := h.runDef(parent(".sync", `{"fail":true}`), `{}`)
		if aws.ToString(out.Error) != ErrTaskFailed || !strings.Contains(aws.ToString(out.Cause), "ChildBroke") {
			t.Fatalf("error %s: %s", aws.ToString(out.Error), aws.ToString(out.Cause))
		}
	})
	t.Run("stopping the parent stops a .sync child", func(t *testing.T) {
		h := setup(t)
		arn := h.create("parent", parent(".sync", `{"fail":false}`))
		exec := h.start(arn, `{}`)
		h.clock.Settle()
		if _, err := h.api.StopExecution(h.ctx, stopInput(exec)); err != nil {
			t.Fatal(err)
		}
		if got := h.describe("arn:aws:states:us-east-1:123456789012:execution:child:kid").Status; got != types.ExecutionStatusAborted {
			t.Fatalf("child status %s", got)
		}
	})
	t.Run("a child machine that does not exist fails the task with StepFunctions.StateMachineDoesNotExistException", func(t *testing.T) {
		h := newHarness(t, backend, Integrations{})
		_, out := h.runDef(parent(".sync", `{}`), `{}`)
		if aws.ToString(out.Error) != "StepFunctions.StateMachineDoesNotExistException" {
			t.Fatalf("error %s", aws.ToString(out.Error))
		}
	})
}
