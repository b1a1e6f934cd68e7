package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// checkNoTokensLeak holds every task token the rollouts were given against
// what Phoenix writes where people and other systems read: function logs,
// SNS notifications and the events it puts on the bus. A task token resumes
// a parked rollout for anyone allowed to call SendTaskSuccess on the state
// machine; it belongs in the ledger and nowhere else. Every end-to-end
// scenario runs it when it ends.
func (r *rig) checkNoTokensLeak(t testing.TB) {
	t.Helper()
	tokens := r.taskTokens(t)
	if len(tokens) == 0 {
		return
	}
	var places []string
	for _, id := range r.stack.Order {
		d := r.stack.Resources[id]
		if d.Type == "AWS::Serverless::Function" {
			places = append(places, "log of "+id+"\n"+r.env.Cloud.Lambda.LogText(region, d.PhysicalID))
		}
	}
	for _, m := range r.env.Cloud.SNS.Messages(r.topic) {
		places = append(places, "notification "+m.Subject+"\n"+m.Message)
	}
	for _, ev := range r.env.Cloud.EventBridge.Ingested() {
		places = append(places, "event\n"+string(ev.JSON))
	}
	for _, tok := range tokens {
		for _, p := range places {
			if strings.Contains(p, tok) {
				name, _, _ := strings.Cut(p, "\n")
				t.Errorf("a task token appears in the %s", name)
			}
		}
	}
}

// taskTokens returns the task tokens of every rollout execution's parked
// tasks, read from the executions' histories.
func (r *rig) taskTokens(t testing.TB) []string {
	t.Helper()
	var tokens []string
	p := sfn.NewListExecutionsPaginator(r.env.StepFunctions, &sfn.ListExecutionsInput{StateMachineArn: aws.String(r.machine)})
	for p.HasMorePages() {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			t.Errorf("list executions: %v", err)
			return nil
		}
		for _, x := range page.Executions {
			for _, ev := range r.history(aws.ToString(x.ExecutionArn)) {
				if ev.TaskScheduledEventDetails == nil {
					continue
				}
				var params struct {
					Payload struct {
						Token string `json:"token"`
					} `json:"Payload"`
				}
				if json.Unmarshal([]byte(aws.ToString(ev.TaskScheduledEventDetails.Parameters)), &params) == nil && params.Payload.Token != "" {
					tokens = append(tokens, params.Payload.Token)
				}
			}
		}
	}
	return tokens
}
