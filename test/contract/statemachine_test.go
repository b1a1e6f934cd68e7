package contract_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/contract"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/states"
)

const testRole = "arn:aws:iam::123456789012:role/phoenix-rollout"

// createMachine asks the local cloud's Step Functions to create a machine
// from definition; it rejects what Step Functions rejects (unknown fields,
// dangling Next, unreachable states, reserved error names).
func createMachine(t *testing.T, definition string) error {
	t.Helper()
	svc := states.New(states.Options{Clock: clock.NewStepped(time.Time{})})
	_, err := svc.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String("phoenix-rollout"), Definition: aws.String(definition), RoleArn: aws.String(testRole)})
	return err
}

func TestEveryPlaceholderHasASubstitutionAndEverySubstitutionIsUsed(t *testing.T) {
	r := loadRepo(t)
	used := contract.Placeholders(r.raw)
	declared := keys(r.subs)
	if !slices.Equal(used, declared) {
		t.Errorf("the definition uses ${%s}\nthe template substitutes %s", strings.Join(used, "}, ${"), joined(declared))
	}
	design := []string{"PrepareFunctionArn", "BusyFunctionArn", "StartRefreshFunctionArn", "AwaitFunctionArn", "PollFunctionArn", "ValidateFunctionArn",
		"FinalizeFunctionArn", "PinFunctionArn", "RevertFunctionArn", "DirtyFunctionArn", "ShiftFunctionArn", "SwitchBackFunctionArn",
		"ValidationRechecks", "RecheckSeconds", "AwaitTimeoutSeconds"}
	if !equalSets(declared, design) {
		t.Errorf("substitutions %s, docs/design.md names %s", joined(declared), joined(design))
	}
}

func TestTheRenderedDefinitionIsAValidStateMachine(t *testing.T) {
	r := loadRepo(t)
	if err := createMachine(t, r.rendered); err != nil {
		t.Fatalf("Step Functions rejects the definition: %v", err)
	}
	// The same check must catch the mistakes it exists for.
	broken := map[string]string{
		"a Next naming no state is rejected":  strings.Replace(r.rendered, `"Next": "Finalized"`, `"Next": "Finalised"`, 1),
		"an unreachable state is rejected":    strings.Replace(r.rendered, `"Next": "Recheck"`, `"Next": "Revert"`, 1),
		"a reserved error name is rejected":   strings.Replace(r.rendered, `"States.Timeout"`, `"States.TimedOut"`, 1),
		"an unknown state field is rejected":  strings.Replace(r.rendered, `"OutputPath": "$.Payload"`, `"OutputPaths": "$.Payload"`, 1),
		"a placeholder left behind is caught": strings.Replace(r.rendered, `"TimeoutSeconds": 1500`, `"TimeoutSeconds": ${AwaitTimeoutSeconds}`, 1),
	}
	for name, def := range broken {
		t.Run(name, func(t *testing.T) {
			if def == r.rendered {
				t.Fatal("the mutation did not apply; the definition changed shape")
			}
			if createMachine(t, def) == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestEveryInvokedFunctionIsATemplateFunctionThroughItsArnSubstitution(t *testing.T) {
	r := loadRepo(t)
	byLogical := map[string]string{}
	for folder, fn := range r.functions(t) {
		byLogical[fn.Name] = folder
	}
	invoked := map[string]bool{}
	for _, name := range r.tasks(t) {
		rawState := stateIn(t, r.raw, name)
		res, _ := rawState["Resource"].(string)
		if res != "arn:aws:states:::lambda:invoke" && res != "arn:aws:states:::lambda:invoke.waitForTaskToken" {
			t.Errorf("%s: Resource %s; every Task invokes a Phoenix function through lambda:invoke", name, res)
			continue
		}
		fn, _ := getPath(rawState, "Parameters", "FunctionName").(string)
		m := regexpPlaceholder.FindStringSubmatch(fn)
		if m == nil {
			t.Errorf("%s: FunctionName %q is not a ${...FunctionArn} substitution", name, fn)
			continue
		}
		att, ok := r.subs[m[1]].(deploy.Intrinsic)
		args, _ := att.Arg.([]any)
		if !ok || att.Fn != "Fn::GetAtt" || len(args) != 2 || args[1] != "Arn" {
			t.Errorf("%s: substitution %s is %v, want !GetAtt <Function>.Arn", name, m[1], r.subs[m[1]])
			continue
		}
		logical, _ := args[0].(string)
		folder, ok := byLogical[logical]
		if !ok {
			t.Errorf("%s: substitution %s names %s, which is not a functions/<name> function of the template", name, m[1], logical)
			continue
		}
		invoked[folder] = true
	}
	// refresh-events, image-published, recycle-scheduler, alarm-events and
	// image-lifecycle are invoked by events, and campaign-gate by the
	// campaign machine, not by the rollout state machine.
	want := without(designFunctions(t, r.root), "refresh-events", "image-published", "campaign-gate", "recycle-scheduler", "alarm-events", "image-lifecycle")
	if got := keys(invoked); !equalSets(got, want) {
		t.Errorf("the state machine invokes %s, want %s", joined(got), joined(want))
	}
}

// notReturnedToStateMachine lists the error types no state machine step
// returns, and why, so that the check below knows they need no handler.
var notReturnedToStateMachine = map[string]string{
	"StaleTokenError": "await and refresh-events treat a stale token as \"someone else woke it\" and succeed",
}

func TestErrorNamesAreStatesOrLambdaNamesOrGoErrorTypes(t *testing.T) {
	r := loadRepo(t)
	handled := map[string]bool{}
	for name, s := range r.states(t) {
		for _, field := range []string{"Retry", "Catch"} {
			list, _ := s[field].([]any)
			for _, e := range list {
				for _, en := range strs(getPath(e, "ErrorEquals")) {
					handled[en] = true
					switch {
					case strings.HasPrefix(en, "States."), strings.HasPrefix(en, "Lambda."),
						strings.HasPrefix(en, "Sandbox."), strings.HasPrefix(en, "Runtime."):
					case slices.Contains(rollout.ErrorNames, en):
					default:
						t.Errorf("%s.%s matches %q, which is neither a States/Lambda name nor in rollout.ErrorNames", name, field, en)
					}
				}
			}
		}
	}
	for _, en := range rollout.ErrorNames {
		if _, skip := notReturnedToStateMachine[en]; !skip && !handled[en] {
			t.Errorf("%s is a step error no Retry or Catch names", en)
		}
	}
}

func TestErrorNamesAreTheTypeNamesAwsLambdaGoReports(t *testing.T) {
	// aws-lambda-go reports the returned error's type name, without the
	// pointer, as errorType (FIELD-NOTES section 5).
	errs := []error{
		&rollout.TransientError{}, &rollout.NotFoundError{}, &rollout.LeaseHeldError{}, &rollout.PreflightError{},
		&rollout.ForeignRefreshError{}, &rollout.RefreshInProgressError{}, &rollout.RevertFailedError{},
		&rollout.BadInputError{}, &rollout.StaleTokenError{Err: errors.New("x")},
	}
	var names []string
	for _, err := range errs {
		names = append(names, reflect.TypeOf(err).Elem().Name())
	}
	if !equalSets(names, rollout.ErrorNames) {
		t.Errorf("error types %s, rollout.ErrorNames %s", joined(names), joined(rollout.ErrorNames))
	}
}

// transient is the retrier docs/design.md puts on every Task.
var transient = map[string]any{
	"ErrorEquals": []any{"TransientError", "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
		"Lambda.TooManyRequestsException", "Sandbox.Timedout", "Runtime.ExitError"},
	"IntervalSeconds": 2.0, "BackoffRate": 2.0, "MaxAttempts": 6.0, "JitterStrategy": "FULL",
}

func TestEveryTaskRetriesTransientFailuresAsTheDesignSays(t *testing.T) {
	r := loadRepo(t)
	for _, name := range r.tasks(t) {
		t.Run(name, func(t *testing.T) {
			retry, _ := r.states(t)[name]["Retry"].([]any)
			found := false
			for _, e := range retry {
				if reflect.DeepEqual(withoutComment(e), transient) {
					found = true
				}
			}
			if !found {
				t.Errorf("no retrier %v in %v", transient, retry)
			}
		})
	}
	t.Run("Prepare waits for a held lease for minutes before it refuses", func(t *testing.T) {
		want := map[string]any{"ErrorEquals": []any{"LeaseHeldError"}, "IntervalSeconds": 60.0, "BackoffRate": 1.5, "MaxAttempts": 8.0}
		retry, _ := r.states(t)["Prepare"]["Retry"].([]any)
		if len(retry) == 0 || !reflect.DeepEqual(withoutComment(retry[0]), want) {
			t.Errorf("Prepare's first retrier is %v, want %v", retry, want)
		}
	})
}

func withoutComment(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for k, e := range m {
		if k != "Comment" {
			out[k] = e
		}
	}
	return out
}

func TestTasksFollowThePayloadConventions(t *testing.T) {
	r := loadRepo(t)
	for _, name := range r.tasks(t) {
		t.Run(name, func(t *testing.T) {
			raw := stateIn(t, r.raw, name)
			s := r.states(t)[name]
			payload, _ := getPath(s, "Parameters", "Payload").(map[string]any)
			want := map[string]any{"state.$": "$", "now.$": "$$.State.EnteredTime", "execution.$": "$$.Execution.Id"}
			parked := strings.HasSuffix(s["Resource"].(string), ".waitForTaskToken")
			if parked {
				want["token.$"] = "$$.Task.Token"
			}
			if !reflect.DeepEqual(payload, want) {
				t.Errorf("Payload %v, want %v", payload, want)
			}
			switch {
			case parked:
				if s["ResultPath"] != "$.signal" || s["OutputPath"] != nil {
					t.Errorf("a parked task is resumed with a signal: ResultPath %v OutputPath %v, want $.signal and none", s["ResultPath"], s["OutputPath"])
				}
				// Await's timeout follows the group's policy through the
				// document (TestDesignsAwaitTimeoutIsTheDefinitions);
				// AwaitRevert's is the stack's slow fallback poll.
				switch name {
				case "Await", "ShiftAwait":
					if raw["TimeoutSecondsPath"] != "$.awaitTimeoutSeconds" || raw["TimeoutSeconds"] != nil {
						t.Errorf("TimeoutSecondsPath %v TimeoutSeconds %v, want $.awaitTimeoutSeconds and none", raw["TimeoutSecondsPath"], raw["TimeoutSeconds"])
					}
				default:
					if raw["TimeoutSeconds"] != "${AwaitTimeoutSeconds}" {
						t.Errorf("TimeoutSeconds %v, want ${AwaitTimeoutSeconds}", raw["TimeoutSeconds"])
					}
				}
			default:
				if s["OutputPath"] != "$.Payload" || s["ResultPath"] != nil || s["ResultSelector"] != nil {
					t.Errorf("the function's document becomes the state: OutputPath %v ResultPath %v ResultSelector %v", s["OutputPath"], s["ResultPath"], s["ResultSelector"])
				}
			}
			catches, _ := s["Catch"].([]any)
			if len(catches) == 0 {
				t.Error("no Catch: an unexpected error would end the execution without Revert or Dirty")
			}
			for _, c := range catches {
				if getPath(c, "ResultPath") != "$.error" {
					t.Errorf("catcher %v keeps the error elsewhere than $.error", c)
				}
			}
		})
	}
}

func TestUnexpectedErrorsGoWhereTheDesignSays(t *testing.T) {
	r := loadRepo(t)
	// Before the refresh may have started nothing changed; after it, any
	// error reverts; on the revert's own states, a human must look.
	want := map[string]string{
		"Prepare": "Dirty", "Busy": "Dirty", "StartRefresh": "Revert", "Await": "Revert", "Poll": "Revert", "Validate": "Revert",
		"Finalize": "Revert", "Pin": "Revert", "Revert": "Dirty", "AwaitRevert": "Dirty", "Dirty": "NeedsHuman",
		// Blue/green: until the old group is scaled down it serves at full
		// capacity, so any error goes back to it.
		"Shift": "SwitchBack", "ShiftAwait": "SwitchBack", "FinalizePair": "SwitchBack", "SwitchBack": "Dirty",
	}
	if got := r.tasks(t); !equalSets(got, keys(want)) {
		t.Fatalf("tasks %s; this table needs updating with docs/design.md", joined(got))
	}
	for name, next := range want {
		t.Run("an unexpected error in "+name+" goes to "+next, func(t *testing.T) {
			catches, _ := r.states(t)[name]["Catch"].([]any)
			last := catches[len(catches)-1]
			if !slices.Equal(strs(getPath(last, "ErrorEquals")), []string{"States.ALL"}) || getPath(last, "Next") != next {
				t.Errorf("last catcher %v, want States.ALL to %s", last, next)
			}
		})
	}
	refusals := map[string][]string{
		"Prepare":      {"PreflightError", "BadInputError"},
		"Busy":         {"PreflightError", "LeaseHeldError", "BadInputError"},
		"StartRefresh": {"ForeignRefreshError"},
	}
	for name, names := range refusals {
		for _, en := range names {
			t.Run(name+" refuses on "+en, func(t *testing.T) {
				if got := catchTarget(r.states(t)[name], en); got != "Refused" {
					t.Errorf("%s goes to %q", en, got)
				}
			})
		}
	}
	t.Run("a lease still held after Prepare's retries is recorded as refused by Busy", func(t *testing.T) {
		if got := catchTarget(r.states(t)["Prepare"], "LeaseHeldError"); got != "Busy" {
			t.Errorf("LeaseHeldError goes to %q", got)
		}
	})
	t.Run("a failed revert is dirty", func(t *testing.T) {
		if got := catchTarget(r.states(t)["Revert"], "RevertFailedError"); got != "Dirty" {
			t.Errorf("RevertFailedError goes to %q", got)
		}
	})
	t.Run("a parked task that times out polls", func(t *testing.T) {
		if got := catchTarget(r.states(t)["Await"], "States.Timeout"); got != "Poll" {
			t.Errorf("States.Timeout goes to %q", got)
		}
	})
}

// catchTarget returns the Next of the first catcher naming en explicitly.
func catchTarget(s map[string]any, en string) string {
	catches, _ := s["Catch"].([]any)
	for _, c := range catches {
		if slices.Contains(strs(getPath(c, "ErrorEquals")), en) {
			next, _ := getPath(c, "Next").(string)
			return next
		}
	}
	return ""
}

func TestTerminalsAreTheDesignsFive(t *testing.T) {
	r := loadRepo(t)
	want := map[string]string{"Finalized": "Succeed", "Pinned": "Succeed", "Reverted": "Succeed", "Refused": "Succeed", "NeedsHuman": "Fail"}
	got := map[string]string{}
	for name, s := range r.states(t) {
		if typ := s["Type"].(string); typ == "Succeed" || typ == "Fail" || s["End"] == true {
			got[name] = typ
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("terminals %v, want %v", got, want)
	}
	fail := r.states(t)["NeedsHuman"]
	if fail["Error"] == nil || fail["CausePath"] != "$.rollout.reason" {
		t.Errorf("NeedsHuman %v: want a fixed Error and the cause from $.rollout.reason", fail)
	}
}
