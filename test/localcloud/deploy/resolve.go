package deploy

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// noValue is what Ref AWS::NoValue resolves to: the enclosing key or list
// item is dropped.
type noValue struct{}

// Resolver answers the references an expression makes.
type Resolver interface {
	// Ref returns what Ref of a parameter, pseudo parameter or resource is.
	Ref(name string) (any, error)
	// GetAtt returns a resource attribute.
	GetAtt(resource, attr string) (any, error)
	// Condition evaluates a named condition.
	Condition(name string) (bool, error)
}

// Resolve evaluates every intrinsic in v.
func Resolve(v any, r Resolver) (any, error) {
	out, err := resolve(v, r)
	if err != nil {
		return nil, err
	}
	if _, ok := out.(noValue); ok {
		return nil, nil
	}
	return out, nil
}

func resolve(v any, r Resolver) (any, error) {
	switch x := v.(type) {
	case Intrinsic:
		return call(x, r)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := resolve(e, r)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, drop := rv.(noValue); drop {
				continue
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, e := range x {
			rv, err := resolve(e, r)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if _, drop := rv.(noValue); drop {
				continue
			}
			out = append(out, rv)
		}
		return out, nil
	default:
		return v, nil
	}
}

func call(in Intrinsic, r Resolver) (any, error) {
	switch in.Fn {
	case "Ref":
		name, ok := in.Arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref takes a name, got %T", in.Arg)
		}
		if name == "AWS::NoValue" {
			return noValue{}, nil
		}
		return r.Ref(name)
	case "Fn::GetAtt":
		parts, err := strings2(in.Arg, r)
		if err != nil {
			return nil, fmt.Errorf("Fn::GetAtt: %w", err)
		}
		return r.GetAtt(parts[0], parts[1])
	case "Fn::Sub":
		return sub(in.Arg, r)
	case "Fn::Join":
		args, ok := in.Arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("Fn::Join takes [delimiter, list]")
		}
		delim, _ := args[0].(string)
		list, err := resolve(args[1], r)
		if err != nil {
			return nil, err
		}
		items, ok := list.([]any)
		if !ok {
			return nil, fmt.Errorf("Fn::Join: second argument is not a list")
		}
		strs := make([]string, len(items))
		for i, it := range items {
			strs[i], err = scalarString(it)
			if err != nil {
				return nil, fmt.Errorf("Fn::Join: %w", err)
			}
		}
		return strings.Join(strs, delim), nil
	case "Fn::Select":
		args, ok := in.Arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("Fn::Select takes [index, list]")
		}
		idxV, err := resolve(args[0], r)
		if err != nil {
			return nil, err
		}
		idxS, _ := scalarString(idxV)
		idx, err := strconv.Atoi(idxS)
		if err != nil {
			return nil, fmt.Errorf("Fn::Select: index %v is not a number", idxV)
		}
		list, err := resolve(args[1], r)
		if err != nil {
			return nil, err
		}
		items, ok := list.([]any)
		if !ok || idx < 0 || idx >= len(items) {
			return nil, fmt.Errorf("Fn::Select: index %d out of range", idx)
		}
		return items[idx], nil
	case "Fn::Split":
		args, ok := in.Arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("Fn::Split takes [delimiter, string]")
		}
		delim, _ := args[0].(string)
		sv, err := resolve(args[1], r)
		if err != nil {
			return nil, err
		}
		s, err := scalarString(sv)
		if err != nil {
			return nil, fmt.Errorf("Fn::Split: %w", err)
		}
		var out []any
		for _, p := range strings.Split(s, delim) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::If":
		args, ok := in.Arg.([]any)
		if !ok || len(args) != 3 {
			return nil, fmt.Errorf("Fn::If takes [condition, then, else]")
		}
		name, _ := args[0].(string)
		cond, err := r.Condition(name)
		if err != nil {
			return nil, err
		}
		if cond {
			return resolve(args[1], r)
		}
		return resolve(args[2], r)
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition":
		return evalCondition(in, r)
	case "Fn::GetAZs":
		region, err := r.Ref("AWS::Region")
		if err != nil {
			return nil, err
		}
		return []any{fmt.Sprint(region, "a"), fmt.Sprint(region, "b"), fmt.Sprint(region, "c")}, nil
	case "Fn::Base64":
		v, err := resolve(in.Arg, r)
		if err != nil {
			return nil, err
		}
		s, err := scalarString(v)
		if err != nil {
			return nil, fmt.Errorf("Fn::Base64: %w", err)
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::ToJsonString":
		v, err := resolve(in.Arg, r)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	default:
		return nil, fmt.Errorf("intrinsic function %s is not supported by the local cloud", in.Fn)
	}
}

// EvalCondition evaluates a condition expression (Fn::Equals, Fn::Not,
// Fn::And, Fn::Or, Condition).
func EvalCondition(v any, r Resolver) (bool, error) {
	in, ok := v.(Intrinsic)
	if !ok {
		return false, fmt.Errorf("a condition must be a condition function, got %T", v)
	}
	out, err := evalCondition(in, r)
	if err != nil {
		return false, err
	}
	return out.(bool), nil
}

func evalCondition(in Intrinsic, r Resolver) (any, error) {
	switch in.Fn {
	case "Condition":
		name, _ := in.Arg.(string)
		return r.Condition(name)
	case "Fn::Equals":
		args, ok := in.Arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("Fn::Equals takes two values")
		}
		a, err := resolve(args[0], r)
		if err != nil {
			return nil, err
		}
		b, err := resolve(args[1], r)
		if err != nil {
			return nil, err
		}
		as, _ := scalarString(a)
		bs, _ := scalarString(b)
		return as == bs, nil
	case "Fn::Not", "Fn::And", "Fn::Or":
		args, ok := in.Arg.([]any)
		if !ok || len(args) == 0 {
			return nil, fmt.Errorf("%s takes a list of conditions", in.Fn)
		}
		vals := make([]bool, len(args))
		for i, a := range args {
			b, err := EvalCondition(a, r)
			if err != nil {
				return nil, err
			}
			vals[i] = b
		}
		switch in.Fn {
		case "Fn::Not":
			return !vals[0], nil
		case "Fn::And":
			for _, b := range vals {
				if !b {
					return false, nil
				}
			}
			return true, nil
		default:
			for _, b := range vals {
				if b {
					return true, nil
				}
			}
			return false, nil
		}
	}
	return nil, fmt.Errorf("%s is not a condition function", in.Fn)
}

// sub implements Fn::Sub in both forms.
func sub(arg any, r Resolver) (any, error) {
	var tmpl string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::Sub takes a string or [string, variables]")
		}
		tmpl, _ = a[0].(string)
		m, ok := a[1].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("Fn::Sub variables must be a mapping")
		}
		for k, v := range m {
			rv, err := resolve(v, r)
			if err != nil {
				return nil, fmt.Errorf("Fn::Sub variable %s: %w", k, err)
			}
			vars[k] = rv
		}
	default:
		return nil, fmt.Errorf("Fn::Sub takes a string or [string, variables]")
	}
	var b strings.Builder
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			b.WriteString(tmpl)
			return b.String(), nil
		}
		b.WriteString(tmpl[:i])
		end := strings.IndexByte(tmpl[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("Fn::Sub: unclosed ${ in %q", tmpl)
		}
		name := tmpl[i+2 : i+end]
		tmpl = tmpl[i+end+1:]
		if strings.HasPrefix(name, "!") {
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		var v any
		var err error
		if x, ok := vars[name]; ok {
			v = x
		} else if res, attr, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") {
			v, err = r.GetAtt(res, attr)
		} else {
			v, err = r.Ref(name)
		}
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		s, err := scalarString(v)
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		b.WriteString(s)
	}
}

// strings2 resolves a two-string list argument.
func strings2(arg any, r Resolver) ([2]string, error) {
	var out [2]string
	v, err := resolve(arg, r)
	if err != nil {
		return out, err
	}
	list, ok := v.([]any)
	if !ok || len(list) != 2 {
		return out, fmt.Errorf("want [resource, attribute]")
	}
	for i := range 2 {
		s, ok := list[i].(string)
		if !ok {
			return out, fmt.Errorf("want strings, got %T", list[i])
		}
		out[i] = s
	}
	return out, nil
}

// scalarString renders a resolved scalar as CloudFormation would.
func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, err := scalarString(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	case nil:
		return "", fmt.Errorf("value is null")
	default:
		return "", fmt.Errorf("cannot use a %T as a string", v)
	}
}

// References lists the resources an expression refers to (Ref, GetAtt and
// ${} in Sub), for ordering creation.
func References(v any) []string {
	seen := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case Intrinsic:
			switch x.Fn {
			case "Ref":
				if s, ok := x.Arg.(string); ok {
					seen[s] = true
				}
			case "Fn::GetAtt":
				if l, ok := x.Arg.([]any); ok && len(l) > 0 {
					if s, ok := l[0].(string); ok {
						seen[s] = true
					}
				}
			case "Fn::Sub":
				tmpl := ""
				local := map[string]any{}
				switch a := x.Arg.(type) {
				case string:
					tmpl = a
				case []any:
					if len(a) > 0 {
						tmpl, _ = a[0].(string)
						walk(a[1:])
					}
					if len(a) > 1 {
						local, _ = a[1].(map[string]any)
					}
				}
				for {
					i := strings.Index(tmpl, "${")
					if i < 0 {
						break
					}
					end := strings.IndexByte(tmpl[i:], '}')
					if end < 0 {
						break
					}
					name := tmpl[i+2 : i+end]
					tmpl = tmpl[i+end+1:]
					if _, isLocal := local[name]; isLocal || strings.HasPrefix(name, "!") {
						continue
					}
					res, _, _ := strings.Cut(name, ".")
					seen[res] = true
				}
				return
			}
			walk(x.Arg)
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
