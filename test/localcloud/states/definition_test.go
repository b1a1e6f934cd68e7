package states

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"
)

// TestDefinitionValidation checks that CreateStateMachine refuses invalid
// definitions with InvalidDefinition and a message naming the problem and
// where it is, in Step Functions' "CODE: message at /path" form.
func testDefinitionValidation(t *testing.T, backend Backend) {
	pass := `{"Type":"Pass","End":true}`
	task := func(extra string) string {
		return `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn("F") + `"` + extra + `,"End":true},"N":` + pass + `}}`
	}
	cases := []struct {
		name, definition, want string
	}{
		{"a definition that is not JSON is refused", `{"StartAt":`, "INVALID_JSON_DESCRIPTION"},
		{"a definition without States is refused", `{"StartAt":"A"}`, "These fields are required: [States]"},
		{"a StartAt naming no state is refused", `{"StartAt":"Nope","States":{"A":` + pass + `}}`, "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at /StartAt"},
		{"a Next naming no state is refused", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`, "Missing 'Next' target: B at /States/A/Next"},
		{"a state with neither Next nor End is refused", `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`, "exactly one of 'Next' or 'End'"},
		{"a state with both Next and End is refused", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A","End":true}}}`, "exactly one of 'Next' or 'End'"},
		{"an unreachable state is refused", `{"StartAt":"A","States":{"A":` + pass + `,"B":` + pass + `}}`, `MISSING_TRANSITION_TARGET: State "B" is not reachable. at /States/B`},
		{"a machine that cannot end is refused", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}`, "MISSING_END_STATE: Workflow has no terminal state"},
		{"an unknown state type is refused", `{"StartAt":"A","States":{"A":{"Type":"Sleep","End":true}}}`, "/States/A/Type"},
		{"an unknown field is refused", `{"StartAt":"A","States":{"A":{"Type":"Pass","Resource":"x","End":true}}}`, "Field 'Resource' is not supported at /States/A/Resource"},
		{"States.ALL not alone in ErrorEquals is refused", task(`,"Retry":[{"ErrorEquals":["States.ALL","Other"]}]`), "'States.ALL' must appear alone"},
		{"a retrier with States.ALL that is not last is refused", task(`,"Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["Other"]}]`), "must be the last retrier"},
		{"a catcher with States.ALL that is not last is refused", task(`,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"N"},{"ErrorEquals":["Other"],"Next":"N"}]`), "must be the last catcher"},
		{"an unknown name with the reserved States. prefix is refused", task(`,"Catch":[{"ErrorEquals":["States.Oops"],"Next":"N"}]`), "States.Oops is not a predefined error"},
		{"a catcher without Next is refused", task(`,"Catch":[{"ErrorEquals":["E"]}],"Comment":"c"`), "These fields are required: [Next]"},
		{"a catcher naming no state is refused", task(`,"Catch":[{"ErrorEquals":["E"],"Next":"Gone"}]`), "Missing 'Next' target: Gone at /States/T/Catch[0]/Next"},
		{"a BackoffRate below 1 is refused", task(`,"Retry":[{"ErrorEquals":["E"],"BackoffRate":0.5}]`), "BackoffRate"},
		{"an unknown JitterStrategy is refused", task(`,"Retry":[{"ErrorEquals":["E"],"JitterStrategy":"SOME"}]`), "JitterStrategy"},
		{"an unrecognized Task resource is refused", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::nosuch:thing","End":true}}}`, "is not recognized"},
		{"a pattern the integration lacks is refused", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem.sync","End":true}}}`, "does not support the .sync"},
		{"HeartbeatSeconds not below TimeoutSeconds is refused", task(`,"TimeoutSeconds":10,"HeartbeatSeconds":10`), "HeartbeatSeconds"},
		{"a bad InputPath is refused", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"nope","End":true}}}`, "/States/A/InputPath"},
		{"a ResultPath that is not a reference path is refused", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}`, "valid ReferencePath"},
		{"a bad intrinsic function in Parameters is refused", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope()"},"End":true}}}`, "unknown function"},
		{"a Choice without Choices is refused", `{"StartAt":"C","States":{"C":{"Type":"Choice","Default":"A"},"A":` + pass + `}}`, "[Choices]"},
		{"a Choice rule with two operators is refused", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","StringEquals":"x","NumericEquals":1,"Next":"A"}]},"A":` + pass + `}}`, "exactly one comparison operator"},
		{"a nested Choice rule with Next is refused", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.a","IsNull":true,"Next":"A"},"Next":"A"}]},"A":` + pass + `}}`, "must not have a 'Next'"},
		{"a Choice operand of the wrong type is refused", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":"1","Next":"A"}]},"A":` + pass + `}}`, "must be a number"},
		{"a Wait with two durations is refused", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}`, "exactly one of 'Seconds'"},
		{"a Map without ItemProcessor is refused", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true}}}`, "[ItemProcessor]"},
		{"a DISTRIBUTED Map is refused as unsupported", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"P","States":{"P":` + pass + `}},"End":true}}}`, "only INLINE"},
		{"a transition out of a Parallel branch is refused", `{"StartAt":"Par","States":{"Par":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","Next":"Out"}}}],"Next":"Out"},"Out":` + pass + `}}`, "Missing 'Next' target: Out at /States/Par/Branches[0]/States/B/Next"},
		{"a state name used twice across nested machines is refused", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"Same","States":{"Same":` + pass + `}},"Next":"Same"},"Same":` + pass + `}}`, "DUPLICATE_STATE_NAME"},
		{"the JSONata query language is refused with a clear message", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":` + pass + `}}`, "only JSONPath is"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, backend, Integrations{})
			_, err := h.api.CreateStateMachine(h.ctx, &sfn.CreateStateMachineInput{Name: aws.String("bad"), Definition: aws.String(tc.definition), RoleArn: aws.String(testRole)})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidDefinition" {
				t.Fatalf("got %v, want InvalidDefinition", err)
			}
			if !strings.HasPrefix(apiErr.ErrorMessage(), "Invalid State Machine Definition: '") {
				t.Fatalf("message %q lacks the Step Functions prefix", apiErr.ErrorMessage())
			}
			if !strings.Contains(apiErr.ErrorMessage(), tc.want) {
				t.Fatalf("message %q does not mention %q", apiErr.ErrorMessage(), tc.want)
			}
		})
	}
}

// TestValidDefinitionsAccepted checks that definitions using every state
// type and integration are accepted.
func TestValidDefinitionsAccepted(t *testing.T) {
	defs := map[string]string{
		"every Task integration": `{"StartAt":"A","States":{
			"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"Next":"B"},
			"B":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","HeartbeatSeconds":5,"Parameters":{"FunctionName":"f","Payload":{"t.$":"$$.Task.Token"}},"Next":"C"},
			"C":{"Type":"Task","Resource":"arn:aws:states:::sns:publish","Parameters":{"TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Message":"m"},"Next":"D"},
			"D":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"t","Item":{}},"Next":"E"},
			"E":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Parameters":{"StateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:x"},"Next":"F"},
			"F":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:ec2:describeImages","Parameters":{"ImageIds":["ami-1"]},"Next":"G"},
			"G":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f:live","End":true}}}`,
		"a Version field and comments": `{"Version":"1.0","Comment":"c","StartAt":"A","States":{"A":{"Type":"Succeed","Comment":"done"}}}`,
	}
	for name, def := range defs {
		t.Run(name+" is accepted", func(t *testing.T) {
			if _, err := ParseDefinition(def); err != nil {
				t.Fatal(err)
			}
		})
	}
}
