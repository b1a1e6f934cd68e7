package eventbus

// Rules lists every EventBridge rule test that goes through the API alone.
// TestRules runs them in process; the external test package runs them
// through a real SDK client over HTTP.
var Rules = []Rule{
	{"PutRuleCreatesARuleDescribeRuleReturns", testPutRuleCreatesARuleDescribeRuleReturns},
	{"PutRuleRefusesBadInputWithEventBridgesErrors", testPutRuleRefusesBadInputWithEventBridgesErrors},
	{"PutRuleOnAnExistingRuleReplacesItButKeepsTargets", testPutRuleOnAnExistingRuleReplacesItButKeepsTargets},
	{"ListRulesFiltersByPrefixAndPaginates", testListRulesFiltersByPrefixAndPaginates},
	{"DeleteRuleIsRefusedWhileTheRuleHasTargets", testDeleteRuleIsRefusedWhileTheRuleHasTargets},
	{"PutTargetsValidatesTargetsAsEventBridgeDoes", testPutTargetsValidatesTargetsAsEventBridgeDoes},
	{"PutTargetsReportsTargetsTheLocalCloudCannotReachPerEntry", testPutTargetsReportsTargetsTheLocalCloudCannotReachPerEntry},
	{"PutEventsAnswersEachEntry", testPutEventsAnswersEachEntry},
	{"PutEventsEnforcesTheEntryCountAndSizeLimits", testPutEventsEnforcesTheEntryCountAndSizeLimits},
	{"TestEventPatternMatchesAndValidates", testTestEventPatternMatchesAndValidates},
}
