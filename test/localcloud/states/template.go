package states

import (
	"fmt"
	"sort"
	"strings"
)

// Template is a compiled payload template (Parameters, ResultSelector,
// ItemSelector, the Output of SendTaskSuccess is not one). Fields whose name
// ends in ".$" take their value from a path or an intrinsic function; the
// suffix is dropped from the name in the result.
type Template struct {
	lit    any // a literal leaf (string, number, bool, null)
	path   *Path
	call   *Intrinsic
	field  string // the ".$" field this dynamic leaf came from, for messages
	object []templateField
	array  []*Template
	kind   int
}

const (
	tmplLiteral = iota
	tmplDynamic
	tmplObject
	tmplArray
)

type templateField struct {
	name string
	val  *Template
}

// CompileTemplate compiles a payload template taken from a definition.
func CompileTemplate(v any) (*Template, error) {
	switch t := v.(type) {
	case map[string]any:
		out := &Template{kind: tmplObject}
		for _, k := range sortedKeys(t) {
			if strings.HasSuffix(k, ".$") {
				s, ok := t[k].(string)
				if !ok {
					return nil, fmt.Errorf("the value of the field '%s' must be a path or an intrinsic function, got a %s", k, typeName(t[k]))
				}
				leaf, err := compileDynamic(k, s)
				if err != nil {
					return nil, err
				}
				out.object = append(out.object, templateField{name: strings.TrimSuffix(k, ".$"), val: leaf})
				continue
			}
			child, err := CompileTemplate(t[k])
			if err != nil {
				return nil, err
			}
			out.object = append(out.object, templateField{name: k, val: child})
		}
		return out, nil
	case []any:
		out := &Template{kind: tmplArray}
		for _, e := range t {
			child, err := CompileTemplate(e)
			if err != nil {
				return nil, err
			}
			out.array = append(out.array, child)
		}
		return out, nil
	default:
		return &Template{kind: tmplLiteral, lit: v}, nil
	}
}

func compileDynamic(field, s string) (*Template, error) {
	if isIntrinsic(s) {
		call, err := ParseIntrinsic(s)
		if err != nil {
			return nil, fmt.Errorf("the field '%s': %w", field, err)
		}
		return &Template{kind: tmplDynamic, call: call, field: field}, nil
	}
	p, err := ParsePath(s)
	if err != nil {
		return nil, fmt.Errorf("the field '%s': %w", field, err)
	}
	return &Template{kind: tmplDynamic, path: p, field: field}, nil
}

// Eval builds the payload from input and the context object.
func (t *Template) Eval(env intrinsicEnv) (any, error) {
	switch t.kind {
	case tmplLiteral:
		return deepCopy(t.lit), nil
	case tmplDynamic:
		if t.call != nil {
			v, err := t.call.Eval(env)
			if err != nil {
				return nil, runtimeErrorf("the field '%s': %v", t.field, err)
			}
			return v, nil
		}
		v, err := t.path.Get(env.input, env.ctx)
		if err != nil {
			src := env.input
			if t.path.context {
				src = env.ctx
			}
			return nil, runtimeErrorf("The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", t.path.src, t.field, toJSON(src))
		}
		return deepCopy(v), nil
	case tmplObject:
		m := make(map[string]any, len(t.object))
		for _, f := range t.object {
			v, err := f.val.Eval(env)
			if err != nil {
				return nil, err
			}
			m[f.name] = v
		}
		return m, nil
	default:
		a := make([]any, len(t.array))
		for i, e := range t.array {
			v, err := e.Eval(env)
			if err != nil {
				return nil, err
			}
			a[i] = v
		}
		return a, nil
	}
}

// optPath is an InputPath or OutputPath: absent means "$", JSON null means
// "discard the input and use {}".
type optPath struct {
	set  bool
	null bool
	path *Path
}

func (o optPath) apply(data, ctx any, field string) (any, *StateError) {
	switch {
	case !o.set:
		return data, nil
	case o.null:
		return map[string]any{}, nil
	}
	v, err := o.path.Get(data, ctx)
	if err != nil {
		return nil, runtimeErrorf("Invalid path '%s' : No results for path: %s; the %s could not be applied to '%s'", o.path.src, o.path.src, field, toJSON(data))
	}
	return deepCopy(v), nil
}

// resultPath is a ResultPath: absent means "$" (the result replaces the
// input), JSON null means "discard the result and pass the input on".
type resultPath struct {
	set  bool
	null bool
	path *Path
}

func (r resultPath) apply(input, result any) (any, *StateError) {
	switch {
	case !r.set:
		return result, nil
	case r.null:
		return input, nil
	}
	if r.path.context {
		return nil, runtimeErrorf("the ResultPath %s cannot point into the context object", r.path.src)
	}
	out, err := r.path.Set(input, result)
	if err != nil {
		return nil, runtimeErrorf("%v to input '%s'", err, toJSON(input))
	}
	return out, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
