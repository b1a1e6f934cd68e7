package alarms

// RuleName is the logical name of the function's EventBridge rule in
// template.yaml.
const RuleName = "AlarmState"

// Rule returns the event pattern of the alarm-events function's rule in
// the given account (template.yaml writes !Ref AWS::AccountId): alarm state
// changes into ALARM of the account's own alarms only, because an alarm
// event from another account's bus could otherwise revert a fleet. The
// parser stays strict anyway, because a rule can be edited by hand; the
// contract test runs the pattern against every sample in events/ and
// compares it with template.yaml.
func Rule(account string) map[string]any {
	return map[string]any{
		"source":      []any{Source},
		"account":     []any{account},
		"detail-type": []any{DetailType},
		"detail":      map[string]any{"state": map[string]any{"value": []any{StateAlarm}}},
	}
}
