package wire

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	servedmodels "github.com/phoenix-rollouts/phoenix/test/localcloud/wire/internal/served"
)

// TestGeneratedTablesServeExactlyTheModelsOperations recomputes, by
// reflection, the operations of every service model (its methods with the
// SDK client's exact signature) and compares them with the checked-in
// tables: a model that gained or lost an operation without `go generate`
// fails here rather than when the cloud starts.
func TestGeneratedTablesServeExactlyTheModelsOperations(t *testing.T) {
	const fix = "run `go generate ./test/localcloud/wire` and commit names_gen.go and fakes_gen_test.go"
	seen := map[string]bool{}
	for _, m := range servedmodels.Models {
		seen[m.Module()] = true
		t.Run("the tables list every operation of the "+m.Name+" model and no other", func(t *testing.T) {
			want := m.Operations()
			got := slices.Sorted(slices.Values(generatedOperations[m.Module()]))
			if !slices.Equal(got, want) {
				t.Errorf("names_gen.go is stale for %s: the model %s has operations %v, the tables list %v; %s", m.Name, m.Model, want, got, fix)
			}
			for _, op := range want {
				if m, _ := m.Client.MethodByName(op); !knownType(m.Type.In(2).Elem()) {
					t.Errorf("no wire names for %s input; %s", op, fix)
				}
			}
		})
		t.Run("the "+m.Name+" service is described for Register", func(t *testing.T) {
			svc, ok := Describe(m.Name, nil)
			if !ok {
				t.Fatalf("known (services.go) has no entry for %s", m.Name)
			}
			if svc.Protocol == RestJSON1 {
				for _, op := range m.Operations() {
					if _, ok := generatedRoutes[m.Module()][op]; !ok {
						t.Errorf("no HTTP route for %s; %s", op, fix)
					}
				}
			}
		})
	}
	t.Run("the tables describe no module without a model", func(t *testing.T) {
		for mod := range generatedOperations {
			if !seen[mod] {
				t.Errorf("names_gen.go lists %s, which no model serves; %s", mod, fix)
			}
		}
	})
}

// TestEveryMemberOfAServedShapeHasWireNames walks every SDK type reachable
// from a served operation and checks that each exported field is in the
// tables. The round-trip test fills only the members the tables name, so a
// member the generator missed would otherwise not travel, unnoticed.
func TestEveryMemberOfAServedShapeHasWireNames(t *testing.T) {
	for _, m := range servedmodels.Models {
		t.Run("every member reachable from the "+m.Name+" operations is named", func(t *testing.T) {
			seen := map[reflect.Type]bool{}
			var walk func(reflect.Type)
			walk = func(ty reflect.Type) {
				for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
					ty = ty.Elem()
				}
				if ty.Kind() != reflect.Struct || ty == timeType || seen[ty] || !strings.HasPrefix(ty.PkgPath(), m.Module()) {
					return
				}
				seen[ty] = true
				names := generatedNames[ty.PkgPath()+"."+ty.Name()]
				for i := 0; i < ty.NumField(); i++ {
					f := ty.Field(i)
					if !f.IsExported() || f.Name == "ResultMetadata" {
						continue
					}
					if _, ok := names[f.Name]; !ok {
						t.Errorf("%s.%s has no wire names: the generator missed it", ty, f.Name)
					}
					walk(f.Type)
				}
			}
			for _, op := range m.Operations() {
				cm, _ := m.Client.MethodByName(op)
				walk(cm.Type.In(2))
				walk(cm.Type.Out(0))
			}
		})
	}
}

// TestAModelMethodCountsAsAnOperationOnlyWithTheExactSDKSignature checks
// the rule the generator and the test above share.
func TestAModelMethodCountsAsAnOperationOnlyWithTheExactSDKSignature(t *testing.T) {
	got := servedmodels.Operations(reflect.TypeFor[*lookalike](), reflect.TypeFor[*autoscaling.Client]())
	if want := []string{"DescribeTags"}; !slices.Equal(got, want) {
		t.Errorf("got operations %v, want %v", got, want)
	}
}

// lookalike has one real Auto Scaling operation and methods that only
// resemble operations.
type lookalike struct{}

// DescribeTags has the client's exact signature.
func (*lookalike) DescribeTags(context.Context, *autoscaling.DescribeTagsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeTagsOutput, error) {
	return &autoscaling.DescribeTagsOutput{}, nil
}

// SetDesiredCapacity lacks the variadic options.
func (*lookalike) SetDesiredCapacity(context.Context, *autoscaling.SetDesiredCapacityInput) (*autoscaling.SetDesiredCapacityOutput, error) {
	return &autoscaling.SetDesiredCapacityOutput{}, nil
}

// DeleteTags takes another service's input.
func (*lookalike) DeleteTags(context.Context, *ec2.DeleteTagsInput, ...func(*autoscaling.Options)) (*autoscaling.DeleteTagsOutput, error) {
	return &autoscaling.DeleteTagsOutput{}, nil
}

// Options shares a client method's name and signature but is no operation.
func (*lookalike) Options() autoscaling.Options { return autoscaling.Options{} }
