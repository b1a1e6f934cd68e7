package states

// Rules lists every Step Functions rule test that goes through the API
// alone. TestRules runs them in process; the external test package runs
// them through a real SDK client over HTTP.
var Rules = []Rule{
	{"ChoiceSpecExample", testChoiceSpecExample},
	{"DefinitionValidation", testDefinitionValidation},
	{"HistoryMapPreviousEvents", testHistoryMapPreviousEvents},
	{"GetExecutionHistoryPaging", testGetExecutionHistoryPaging},
	{"ChildExecutions", testChildExecutions},
	{"ResultPathRefusals", testResultPathRefusals},
	{"CreateStateMachine", testCreateStateMachine},
	{"StateMachineLifecycle", testStateMachineLifecycle},
	{"StartExecution", testStartExecution},
	{"ListAndStopExecutions", testListAndStopExecutions},
	{"WaitStates", testWaitStates},
	{"ContextObject", testContextObject},
	{"EndedTaskTokens", testEndedTaskTokens},
}
