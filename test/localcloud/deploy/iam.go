package deploy

import (
	"fmt"
	"maps"
	"slices"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
)

// Roles receives the execution role each function and state machine gets,
// with its identity-based policies, so that the local cloud can hold every
// call the resource makes against them (*iam.Roles fits).
type Roles interface {
	Put(roleARN string, policies []*iam.Policy)
}

// samPolicyTemplates are the SAM policy templates the local cloud expands,
// as aws-sam-translator's policy_templates.json defines them; each takes
// its parameters and returns the policy document.
var samPolicyTemplates = map[string]func(d *deployer, params map[string]any) (map[string]any, error){
	"LambdaInvokePolicy": func(d *deployer, params map[string]any) (map[string]any, error) {
		name := str(params, "FunctionName")
		if name == "" {
			return nil, fmt.Errorf("LambdaInvokePolicy needs FunctionName")
		}
		// The trailing * is SAM's: it lets the role invoke the
		// function's versions and aliases too.
		return map[string]any{"Statement": []any{map[string]any{
			"Effect":   "Allow",
			"Action":   []any{"lambda:InvokeFunction"},
			"Resource": fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s*", d.opts.Region, d.opts.Account, name),
		}}}, nil
	},
}

// putRole records the role SAM makes for a function or state machine from
// its resolved Policies: inline documents as they are, SAM policy
// templates expanded. A managed policy or a policy template the local
// cloud does not know fails the deployment: the role's permissions would
// otherwise be guessed. A resource that names its own Role is left alone;
// that role's policies live outside the template.
func (d *deployer) putRole(r Resource, p map[string]any, roleARN string) error {
	if d.cl.IAM == nil || str(p, "Role") != "" {
		return nil
	}
	list, ok := p["Policies"].([]any)
	if p["Policies"] != nil && !ok {
		return fmt.Errorf("Policies: a single policy name or document is not supported by the local cloud; write a list")
	}
	var out []*iam.Policy
	for i, e := range list {
		name := fmt.Sprintf("%s Policies[%d]", r.Name, i)
		m, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: managed policy %v is not modelled by the local cloud's IAM", name, e)
		}
		if _, inline := m["Statement"]; !inline {
			if len(m) != 1 {
				return fmt.Errorf("%s: want a policy document or one SAM policy template", name)
			}
			tname := slices.Collect(maps.Keys(m))[0]
			expand, ok := samPolicyTemplates[tname]
			if !ok {
				return fmt.Errorf("%s: SAM policy template %s is not modelled by the local cloud's IAM", name, tname)
			}
			params, _ := m[tname].(map[string]any)
			doc, err := expand(d, params)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			m, name = doc, name+" ("+tname+")"
		}
		pol, err := iam.ParsePolicy(name, m)
		if err != nil {
			return err
		}
		out = append(out, pol)
	}
	d.cl.IAM.Put(roleARN, out)
	return nil
}
