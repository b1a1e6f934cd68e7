package ledger

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
)

// templateFile is the SAM template, relative to this package.
const templateFile = "../../template.yaml"

// cfnKeys writes a key schema as CloudFormation does.
func cfnKeys(ks []types.KeySchemaElement) []any {
	var out []any
	for _, k := range ks {
		out = append(out, map[string]any{"AttributeName": aws.ToString(k.AttributeName), "KeyType": string(k.KeyType)})
	}
	return out
}

// sortedByName orders AttributeDefinitions, whose order CloudFormation
// ignores.
func sortedByName(v any) any {
	list, ok := v.([]any)
	if !ok {
		return v
	}
	list = slices.Clone(list)
	name := func(x any) string {
		m, _ := x.(map[string]any)
		s, _ := m["AttributeName"].(string)
		return s
	}
	slices.SortFunc(list, func(a, b any) int { return strings.Compare(name(a), name(b)) })
	return list
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTheTemplateDeclaresTheTableTableSchemaDescribes(t *testing.T) {
	tpl, err := deploy.ParseFile(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	tables := tpl.OfType("AWS::DynamoDB::Table")
	if len(tables) != 1 {
		t.Fatalf("%d tables in %s, want the one ledger", len(tables), templateFile)
	}
	got := tables[0].Properties
	s := TableSchema()
	var attrs, indexes []any
	for _, a := range s.AttributeDefinitions {
		attrs = append(attrs, map[string]any{"AttributeName": aws.ToString(a.AttributeName), "AttributeType": string(a.AttributeType)})
	}
	for _, g := range s.GlobalSecondaryIndexes {
		indexes = append(indexes, map[string]any{
			"IndexName": aws.ToString(g.IndexName), "KeySchema": cfnKeys(g.KeySchema),
			"Projection": map[string]any{"ProjectionType": string(g.Projection.ProjectionType)},
		})
	}
	want := map[string]any{
		"BillingMode":                      string(s.BillingMode),
		"AttributeDefinitions":             sortedByName(attrs),
		"KeySchema":                        cfnKeys(s.KeySchema),
		"GlobalSecondaryIndexes":           indexes,
		"SSESpecification":                 map[string]any{"SSEEnabled": aws.ToBool(s.SSESpecification.Enabled)},
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
	}
	for prop, w := range want {
		g := got[prop]
		if prop == "AttributeDefinitions" {
			g = sortedByName(g)
		}
		if gj, wj := asJSON(t, g), asJSON(t, w); gj != wj {
			t.Errorf("%s %s:\n got %s\nwant %s", tables[0].Name, prop, gj, wj)
		}
	}
	for _, prop := range []string{"LocalSecondaryIndexes", "ProvisionedThroughput"} {
		if got[prop] != nil {
			t.Errorf("%s declares %s, which TableSchema does not", tables[0].Name, prop)
		}
	}
}
