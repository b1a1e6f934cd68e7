// Package deploy reads a SAM/CloudFormation template and creates what it
// declares on the local cloud: functions, the state machine, tables, topics,
// alarms, EventBridge rules and KMS keys with their aliases, with intrinsic
// functions resolved.
//
// The template is read with yaml.v3, keeping CloudFormation's short-form
// tags (!Ref, !GetAtt, !Sub, ...) as intrinsic function nodes, because the
// archived goformation library silently drops newer SAM properties
// (FIELD-NOTES section 1). Contract tests read the template the same way.
package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a parsed template.
type Template struct {
	Transform  any
	Parameters map[string]Parameter
	Globals    map[string]map[string]any
	Conditions map[string]any
	Resources  map[string]Resource
	Outputs    map[string]any
}

// Parameter is a template parameter.
type Parameter struct {
	Type          string
	Default       any
	AllowedValues []any
	Description   string
}

// Resource is one template resource, properties unresolved.
type Resource struct {
	Name       string
	Type       string
	Properties map[string]any
	DependsOn  []string
	Condition  string
}

// Intrinsic is an intrinsic function call: Fn is "Ref", "Fn::GetAtt",
// "Fn::Sub", ...; Arg is its argument as parsed.
type Intrinsic struct {
	Fn  string
	Arg any
}

// ParseFile reads and parses a template file.
func ParseFile(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse parses template text (YAML or JSON).
func Parse(b []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("template is not YAML: %w", err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("template is empty")
	}
	v, err := convert(root.Content[0])
	if err != nil {
		return nil, err
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template must be a mapping at the top level")
	}
	t := &Template{
		Transform:  top["Transform"],
		Parameters: map[string]Parameter{},
		Globals:    map[string]map[string]any{},
		Resources:  map[string]Resource{},
	}
	known := map[string]bool{"AWSTemplateFormatVersion": true, "Transform": true, "Description": true, "Metadata": true,
		"Parameters": true, "Globals": true, "Conditions": true, "Mappings": true, "Resources": true, "Outputs": true, "Rules": true}
	for k := range top {
		if !known[k] {
			return nil, fmt.Errorf("unknown top-level section %q", k)
		}
	}
	if ps, ok := top["Parameters"].(map[string]any); ok {
		for name, raw := range ps {
			m, ok := raw.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("parameter %s must be a mapping", name)
			}
			p := Parameter{Default: m["Default"]}
			p.Type, _ = m["Type"].(string)
			p.Description, _ = m["Description"].(string)
			p.AllowedValues, _ = m["AllowedValues"].([]any)
			if p.Type == "" {
				return nil, fmt.Errorf("parameter %s has no Type", name)
			}
			t.Parameters[name] = p
		}
	}
	if gs, ok := top["Globals"].(map[string]any); ok {
		for kind, raw := range gs {
			m, ok := raw.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("Globals.%s must be a mapping", kind)
			}
			t.Globals[kind] = m
		}
	}
	t.Conditions, _ = top["Conditions"].(map[string]any)
	t.Outputs, _ = top["Outputs"].(map[string]any)
	rs, ok := top["Resources"].(map[string]any)
	if !ok || len(rs) == 0 {
		return nil, fmt.Errorf("template has no Resources")
	}
	for name, raw := range rs {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("resource %s must be a mapping", name)
		}
		r := Resource{Name: name}
		r.Type, _ = m["Type"].(string)
		if r.Type == "" {
			return nil, fmt.Errorf("resource %s has no Type", name)
		}
		if m["Properties"] != nil {
			r.Properties, ok = m["Properties"].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("resource %s: Properties must be a mapping", name)
			}
		}
		switch d := m["DependsOn"].(type) {
		case string:
			r.DependsOn = []string{d}
		case []any:
			for _, x := range d {
				s, _ := x.(string)
				r.DependsOn = append(r.DependsOn, s)
			}
		}
		r.Condition, _ = m["Condition"].(string)
		t.Resources[name] = r
	}
	return t, nil
}

// ResourceNames returns the resource logical ids, sorted.
func (t *Template) ResourceNames() []string {
	out := make([]string, 0, len(t.Resources))
	for n := range t.Resources {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// OfType returns the resources of one type, sorted by logical id.
func (t *Template) OfType(typ string) []Resource {
	var out []Resource
	for _, n := range t.ResourceNames() {
		if t.Resources[n].Type == typ {
			out = append(out, t.Resources[n])
		}
	}
	return out
}

// shortTags maps CloudFormation's YAML short forms to intrinsic names.
var shortTags = map[string]string{
	"!Ref": "Ref", "!GetAtt": "Fn::GetAtt", "!Sub": "Fn::Sub", "!Join": "Fn::Join", "!Select": "Fn::Select",
	"!Split": "Fn::Split", "!If": "Fn::If", "!Equals": "Fn::Equals", "!Not": "Fn::Not", "!And": "Fn::And",
	"!Or": "Fn::Or", "!FindInMap": "Fn::FindInMap", "!GetAZs": "Fn::GetAZs", "!Base64": "Fn::Base64",
	"!ImportValue": "Fn::ImportValue", "!Condition": "Condition", "!Cidr": "Fn::Cidr", "!ToJsonString": "Fn::ToJsonString",
}

// longForms are the intrinsic keys recognised in a one-key mapping.
var longForms = func() map[string]bool {
	m := map[string]bool{}
	for _, v := range shortTags {
		m[v] = true
	}
	return m
}()

// convert turns a YAML node into plain Go values, intrinsic calls into
// Intrinsic values.
func convert(n *yaml.Node) (any, error) {
	if fn, ok := shortTags[n.Tag]; ok {
		arg, err := convertPlain(n)
		if err != nil {
			return nil, err
		}
		if fn == "Fn::GetAtt" {
			if s, ok := arg.(string); ok {
				// !GetAtt Res.Attr.Sub splits on the first dot only.
				res, attr, found := strings.Cut(s, ".")
				if !found {
					return nil, fmt.Errorf("line %d: !GetAtt %q needs Resource.Attribute", n.Line, s)
				}
				arg = []any{res, attr}
			}
		}
		return Intrinsic{Fn: fn, Arg: arg}, nil
	}
	if isCustomTag(n.Tag) {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	v, err := convertPlain(n)
	if err != nil {
		return nil, err
	}
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for k, arg := range m {
			if longForms[k] && k != "Condition" {
				return Intrinsic{Fn: k, Arg: arg}, nil
			}
		}
	}
	return v, nil
}

// convertPlain converts a node ignoring its own tag.
func convertPlain(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		if err := yaml11Ambiguous(n); err != nil {
			return nil, err
		}
		var v any
		plain := *n
		plain.Tag = ""
		if isCustomTag(n.Tag) {
			// The argument of a short-form tag is a string unless quoted
			// otherwise; decode it as YAML would untagged.
			plain.Tag = "!!str"
			if n.Style == 0 {
				plain.Tag = ""
			}
		}
		if err := plain.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := convert(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if err := yaml11Ambiguous(k); err != nil {
				return nil, err
			}
			if k.Value == "<<" {
				return nil, fmt.Errorf("line %d: YAML merge keys are not allowed in templates", k.Line)
			}
			v, err := convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			if _, dup := out[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			out[k.Value] = v
		}
		return out, nil
	case yaml.AliasNode:
		return convert(n.Alias)
	default:
		return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
	}
}

// isCustomTag reports a local tag (!Ref) as opposed to a standard one (!!str).
func isCustomTag(tag string) bool {
	return strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!")
}

// yamlToJSON converts a YAML document (an ASL definition written in YAML)
// to JSON text.
func yamlToJSON(b []byte) (string, error) {
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return "", err
	}
	out, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(out), nil
}
