// Package contract checks the pieces of a Phoenix deployment against each
// other and against docs/design.md: the state machine definition
// (infra/rollout.asl.json), the SAM template (template.yaml), the
// functions/ folders, the Go error types the state machine matches and the
// sample events in events/. The checks live in this package's tests; the
// helpers here are shared with cmd/render-asl, which `make lint` uses to
// feed asl-validator.
package contract

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
)

// The files and logical ids the checks read.
const (
	TemplateFile   = "template.yaml"
	DefinitionFile = "infra/rollout.asl.json"
	// StateMachineID is the logical id of the rollout state machine.
	StateMachineID = "RolloutStateMachine"
	// ExampleRegion and ExampleAccount fill the ARNs of a rendered
	// definition, as a deployment in that account would.
	ExampleRegion  = "us-east-1"
	ExampleAccount = "123456789012"
)

// placeholder matches a ${Name} DefinitionSubstitutions placeholder.
var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// Root returns the repository root: the nearest folder at or above dir that
// holds go.mod.
func Root(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Placeholders returns the distinct ${Name} placeholders of a definition,
// sorted.
func Placeholders(text string) []string {
	var names []string
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		names = append(names, m[1])
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Substitutions returns the DefinitionSubstitutions of the template's
// rollout state machine, unresolved.
func Substitutions(tpl *deploy.Template) (map[string]any, error) {
	return SubstitutionsOf(tpl, StateMachineID)
}

// SubstitutionsOf returns the DefinitionSubstitutions of the state machine
// with the given logical id, unresolved.
func SubstitutionsOf(tpl *deploy.Template, logicalID string) (map[string]any, error) {
	sm, ok := tpl.Resources[logicalID]
	if !ok {
		return nil, fmt.Errorf("the template declares no %s", logicalID)
	}
	subs, ok := sm.Properties["DefinitionSubstitutions"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s has no DefinitionSubstitutions mapping", logicalID)
	}
	return subs, nil
}

// Render replaces every placeholder of a definition with its value. A
// placeholder without a value is an error, as it is for CloudFormation.
func Render(text string, values map[string]string) (string, error) {
	var missing []string
	out := placeholder.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("no value for ${%s}", strings.Join(missing, "}, ${"))
	}
	return out, nil
}

// FunctionARN is the ARN a rendered definition gives the function with a
// logical id.
func FunctionARN(logicalID string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", ExampleRegion, ExampleAccount, logicalID)
}

// ExampleValues resolves the substitutions as a deployment with the
// template's parameter defaults would: parameters take their defaults and a
// function's Arn is FunctionARN of its logical id.
func ExampleValues(tpl *deploy.Template, subs map[string]any) (map[string]string, error) {
	r := exampleResolver{tpl: tpl}
	out := map[string]string{}
	for name, expr := range subs {
		v, err := deploy.Resolve(expr, r)
		if err != nil {
			return nil, fmt.Errorf("substitution %s: %w", name, err)
		}
		switch v.(type) {
		case string, int, int64, float64, bool:
			out[name] = fmt.Sprint(v)
		default:
			return nil, fmt.Errorf("substitution %s resolves to a %T, not a scalar", name, v)
		}
	}
	return out, nil
}

// exampleResolver answers the references of substitution values.
type exampleResolver struct{ tpl *deploy.Template }

func (r exampleResolver) Ref(name string) (any, error) {
	switch name {
	case "AWS::Region":
		return ExampleRegion, nil
	case "AWS::AccountId":
		return ExampleAccount, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::StackName":
		return "phoenix", nil
	}
	if p, ok := r.tpl.Parameters[name]; ok {
		if p.Default == nil {
			return nil, fmt.Errorf("parameter %s has no default", name)
		}
		return p.Default, nil
	}
	if res, ok := r.tpl.Resources[name]; ok {
		// What Ref returns depends on the type: a topic's ARN, most other
		// resources' physical name (here their logical id).
		if res.Type == "AWS::SNS::Topic" {
			return fmt.Sprintf("arn:aws:sns:%s:%s:%s", ExampleRegion, ExampleAccount, name), nil
		}
		return name, nil
	}
	return nil, fmt.Errorf("Ref %s: no such parameter or resource", name)
}

func (r exampleResolver) GetAtt(res, attr string) (any, error) {
	rs, ok := r.tpl.Resources[res]
	if !ok {
		return nil, fmt.Errorf("GetAtt %s.%s: no such resource", res, attr)
	}
	if rs.Type == "AWS::Serverless::Function" && attr == "Arn" {
		return FunctionARN(res), nil
	}
	return nil, fmt.Errorf("GetAtt %s.%s: only function ARNs are substituted into a definition", res, attr)
}

func (r exampleResolver) Condition(name string) (bool, error) {
	expr, ok := r.tpl.Conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s is not declared", name)
	}
	return deploy.EvalCondition(expr, r)
}

// RenderedDefinition reads the template and the definition under root and
// returns the definition with every placeholder replaced by its example
// value: the JSON that Step Functions would be given.
func RenderedDefinition(root string) (string, error) {
	return RenderedDefinitionOf(root, StateMachineID, DefinitionFile)
}

// RenderedDefinitionOf renders the definition file of the state machine
// with the given logical id, as RenderedDefinition does for the rollout's.
func RenderedDefinitionOf(root, logicalID, file string) (string, error) {
	tpl, err := deploy.ParseFile(filepath.Join(root, TemplateFile))
	if err != nil {
		return "", err
	}
	subs, err := SubstitutionsOf(tpl, logicalID)
	if err != nil {
		return "", err
	}
	values, err := ExampleValues(tpl, subs)
	if err != nil {
		return "", err
	}
	text, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		return "", err
	}
	return Render(string(text), values)
}
