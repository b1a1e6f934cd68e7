package params

// Rules lists every Parameter Store rule test that goes through the API
// alone. TestRules runs them in process; the external test package runs
// them through a real SDK client over HTTP.
var Rules = []Rule{
	{"ParameterNamesFollowTheDocumentedRules", testParameterNamesFollowTheDocumentedRules},
	{"PutParameterVersionsAndOverwriteRules", testPutParameterVersionsAndOverwriteRules},
	{"GetParameterSelectsVersionsAndLabels", testGetParameterSelectsVersionsAndLabels},
	{"LabelsMoveBetweenVersionsAndInvalidLabelsAreReported", testLabelsMoveBetweenVersionsAndInvalidLabelsAreReported},
	{"GetParametersByPathReturnsChildrenOrTheWholeSubtree", testGetParametersByPathReturnsChildrenOrTheWholeSubtree},
	{"DeleteParameterRemovesEveryVersion", testDeleteParameterRemovesEveryVersion},
	{"EveryChangeEmitsAParameterStoreChangeEvent", testEveryChangeEmitsAParameterStoreChangeEvent},
	{"AnImageParameterIsValidatedAgainstTheRegionsAMIs", testAnImageParameterIsValidatedAgainstTheRegionsAMIs},
	{"SecureStringValuesAreShownOnlyWithDecryption", testSecureStringValuesAreShownOnlyWithDecryption},
	{"DescribeParametersFilters", testDescribeParametersFilters},
}
