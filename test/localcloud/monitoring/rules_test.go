package monitoring

// Rules lists every CloudWatch rule test that goes through the API alone.
// TestRules runs them in process; the external test package runs them
// through a real SDK client over HTTP.
var Rules = []Rule{
	{"PutMetricAlarmRejectsWhatCloudWatchRejects", testPutMetricAlarmRejectsWhatCloudWatchRejects},
	{"ANewAlarmStartsInInsufficientDataAndDescribesItsConfiguration", testANewAlarmStartsInInsufficientDataAndDescribesItsConfiguration},
	{"AnAlarmGoesToAlarmAfterTheRequiredBreachingPeriodsAndBackToOK", testAnAlarmGoesToAlarmAfterTheRequiredBreachingPeriodsAndBackToOK},
	{"MissingDataIsTreatedAsTheAlarmSays", testMissingDataIsTreatedAsTheAlarmSays},
	{"EnoughRealDatapointsMakeTheMissingDataTreatmentIrrelevant", testEnoughRealDatapointsMakeTheMissingDataTreatmentIrrelevant},
	{"SetAlarmStateIsOverriddenAtTheNextEvaluation", testSetAlarmStateIsOverriddenAtTheNextEvaluation},
	{"SetAlarmStateChecksItsInput", testSetAlarmStateChecksItsInput},
	{"AStateChangeEmitsTheDocumentedEvent", testAStateChangeEmitsTheDocumentedEvent},
	{"AnOKReasonNamesTheGoodDatapoints", testAnOKReasonNamesTheGoodDatapoints},
	{"EveryComparisonOperatorComparesAsNamed", testEveryComparisonOperatorComparesAsNamed},
	{"AnAlarmOnAPercentileUsesTheDatapointsOfEachPeriod", testAnAlarmOnAPercentileUsesTheDatapointsOfEachPeriod},
	{"UpdatingAnAlarmKeepsItsStateAndIgnoresTags", testUpdatingAnAlarmKeepsItsStateAndIgnoresTags},
	{"DescribeAlarmsFiltersAndPages", testDescribeAlarmsFiltersAndPages},
	{"DeleteAlarmsDeletesNothingWhenAnAlarmIsUnknownAndKeepsHistory", testDeleteAlarmsDeletesNothingWhenAnAlarmIsUnknownAndKeepsHistory},
	{"DescribeAlarmHistoryFiltersByTypeAndDateAndScansBothWays", testDescribeAlarmHistoryFiltersByTypeAndDateAndScansBothWays},
	{"AlarmTagsAreAddedListedAndRemoved", testAlarmTagsAreAddedListedAndRemoved},
	{"AHighResolutionAlarmIsEvaluatedEveryPeriod", testAHighResolutionAlarmIsEvaluatedEveryPeriod},
	{"PutMetricDataRejectsWhatCloudWatchRejects", testPutMetricDataRejectsWhatCloudWatchRejects},
	{"GetMetricDataAggregatesEachPeriodWithTheRequestedStatistic", testGetMetricDataAggregatesEachPeriodWithTheRequestedStatistic},
	{"GetMetricDataScansNewestFirstByDefaultAndPages", testGetMetricDataScansNewestFirstByDefaultAndPages},
	{"GetMetricDataRefusesWhatItCannotAnswer", testGetMetricDataRefusesWhatItCannotAnswer},
	{"ListMetricsFiltersByNamespaceNameAndDimensions", testListMetricsFiltersByNamespaceNameAndDimensions},
}
