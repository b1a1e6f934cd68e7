package notify

// Rules lists every SNS rule test that goes through the API alone.
// TestRules runs them in process; the external test package runs them
// through a real SDK client over HTTP.
var Rules = []Rule{
	{"CreateTopicIsIdempotentByName", testCreateTopicIsIdempotentByName},
	{"CreateTopicAppliesTheNamingAndAttributeRules", testCreateTopicAppliesTheNamingAndAttributeRules},
	{"TopicsAreListedAndDeleted", testTopicsAreListedAndDeleted},
	{"SubscriptionsAreStoredByProtocol", testSubscriptionsAreStoredByProtocol},
	{"PublishRecordsEveryMessageWithItsTopicTimeAndAttributes", testPublishRecordsEveryMessageWithItsTopicTimeAndAttributes},
	{"PublishRefusesWhatSNSRefuses", testPublishRefusesWhatSNSRefuses},
	{"AFIFOTopicOrdersAndDeduplicates", testAFIFOTopicOrdersAndDeduplicates},
	{"MessageIdsAreRepeatableForASeed", testMessageIdsAreRepeatableForASeed},
	{"AnEncryptedTopicsKeyIsLookedUpWhenAMessageIsPublished", testAnEncryptedTopicsKeyIsLookedUpWhenAMessageIsPublished},
}
