package publish

// Rule is an EventBridge rule that delivers publishing events to the
// image-published function.
type Rule struct {
	// Name is the rule's logical name in template.yaml.
	Name string
	// Pattern is the event pattern, as template.yaml writes it.
	Pattern map[string]any
}

// AccountRef stands in a pattern for the deploying account: template.yaml
// writes `!Ref AWS::AccountId`, so that the rules match only this account's
// events (docs/security.md).
const AccountRef = "AWS::AccountId"

// Rules returns the three rules of docs/publish.md: each matches exactly
// the events its parser accepts as announcing an image (the parsers stay
// strict anyway, because a rule can be edited by hand). The contract test
// in shared/images runs them against every sample in events/.
func Rules() []Rule {
	return []Rule{
		{Name: "ImageBuilderAvailable", Pattern: map[string]any{
			"source":      []any{SourceImageBuilder},
			"account":     []any{AccountRef},
			"detail-type": []any{DetailTypeImageBuilder},
			"detail":      map[string]any{"state": map[string]any{"status": []any{"AVAILABLE"}}},
		}},
		{Name: "AMIAvailable", Pattern: map[string]any{
			"source":      []any{SourceEC2},
			"account":     []any{AccountRef},
			"detail-type": []any{DetailTypeAMI},
			"detail":      map[string]any{"State": []any{"available"}},
		}},
		{Name: "ImageParameterChanged", Pattern: map[string]any{
			"source":      []any{SourceSSM},
			"account":     []any{AccountRef},
			"detail-type": []any{DetailTypeParameter},
			"detail": map[string]any{
				"operation": []any{"Create", "Update"},
				"dataType":  []any{DataTypeImage},
				// A write Parameter Store refused (the AMI did not
				// validate) still emits a change event, with an
				// exception.
				"exception": []any{map[string]any{"exists": false}},
			},
		}},
	}
}
