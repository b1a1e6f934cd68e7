package states

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Intrinsic is a compiled intrinsic function call such as
// States.Format('Hello {}', $.name).
type Intrinsic struct {
	src  string
	name string
	args []intrinsicArg
}

type intrinsicArg struct {
	literal any        // string, json.Number, bool or nil
	isLit   bool       // literal is set (nil is a valid literal)
	path    *Path      // a JSONPath argument
	call    *Intrinsic // a nested call
}

// Escaped braces in string literals stand for themselves in States.Format;
// they travel as private-use runes until the result is produced.
const (
	escOpen  = "\uE000"
	escClose = "\uE001"
)

// intrinsicArity gives the minimum and maximum number of arguments; -1 means
// no maximum.
var intrinsicArity = map[string][2]int{
	"States.Format":         {1, -1},
	"States.StringToJson":   {1, 1},
	"States.JsonToString":   {1, 1},
	"States.Array":          {0, -1},
	"States.ArrayPartition": {2, 2},
	"States.ArrayContains":  {2, 2},
	"States.ArrayRange":     {3, 3},
	"States.ArrayGetItem":   {2, 2},
	"States.ArrayLength":    {1, 1},
	"States.ArrayUnique":    {1, 1},
	"States.Base64Encode":   {1, 1},
	"States.Base64Decode":   {1, 1},
	"States.Hash":           {2, 2},
	"States.JsonMerge":      {3, 3},
	"States.MathRandom":     {2, 3},
	"States.MathAdd":        {2, 2},
	"States.StringSplit":    {2, 2},
	"States.UUID":           {0, 0},
}

// isIntrinsic reports whether a ".$" value is an intrinsic call rather than
// a path.
func isIntrinsic(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "States.") }

// ParseIntrinsic compiles an intrinsic function call.
func ParseIntrinsic(src string) (*Intrinsic, error) {
	p := &intrinsicParser{s: src}
	call, err := p.call()
	if err != nil {
		return nil, fmt.Errorf("the intrinsic function %s is invalid: %w", src, err)
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("the intrinsic function %s is invalid: unexpected text %q after the call", src, p.s[p.i:])
	}
	return call, nil
}

type intrinsicParser struct {
	s string
	i int
}

func (p *intrinsicParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *intrinsicParser) call() (*Intrinsic, error) {
	p.space()
	start := p.i
	open := strings.IndexByte(p.s[p.i:], '(')
	if open < 0 {
		return nil, fmt.Errorf("missing '('")
	}
	name := strings.TrimSpace(p.s[p.i : p.i+open])
	arity, ok := intrinsicArity[name]
	if !ok {
		return nil, fmt.Errorf("unknown function %q", name)
	}
	p.i += open + 1
	c := &Intrinsic{name: name}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
	} else {
		for {
			a, err := p.arg()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
			p.space()
			if p.i >= len(p.s) {
				return nil, fmt.Errorf("missing ')'")
			}
			if p.s[p.i] == ')' {
				p.i++
				break
			}
			if p.s[p.i] != ',' {
				return nil, fmt.Errorf("expected ',' or ')' at offset %d", p.i)
			}
			p.i++
		}
	}
	c.src = p.s[start:p.i]
	if len(c.args) < arity[0] || (arity[1] >= 0 && len(c.args) > arity[1]) {
		return nil, fmt.Errorf("%s takes %s, got %d", name, arityText(arity), len(c.args))
	}
	return c, nil
}

func arityText(a [2]int) string {
	switch {
	case a[0] == a[1]:
		return fmt.Sprintf("exactly %d argument(s)", a[0])
	case a[1] < 0:
		return fmt.Sprintf("at least %d argument(s)", a[0])
	}
	return fmt.Sprintf("%d to %d arguments", a[0], a[1])
}

func (p *intrinsicParser) arg() (intrinsicArg, error) {
	p.space()
	if p.i >= len(p.s) {
		return intrinsicArg{}, fmt.Errorf("missing argument")
	}
	switch c := p.s[p.i]; {
	case c == '\'':
		var b strings.Builder
		p.i++
		for p.i < len(p.s) {
			ch := p.s[p.i]
			if ch == '\\' && p.i+1 < len(p.s) {
				switch next := p.s[p.i+1]; next {
				case '{':
					b.WriteString(escOpen)
				case '}':
					b.WriteString(escClose)
				default:
					b.WriteByte(next)
				}
				p.i += 2
				continue
			}
			if ch == '\'' {
				p.i++
				return intrinsicArg{literal: b.String(), isLit: true}, nil
			}
			b.WriteByte(ch)
			p.i++
		}
		return intrinsicArg{}, fmt.Errorf("unterminated string literal")
	case c == '$':
		start := p.i
		depth, quote := 0, byte(0)
		for p.i < len(p.s) {
			ch := p.s[p.i]
			if quote != 0 {
				if ch == quote {
					quote = 0
				}
			} else if ch == '\'' || ch == '"' {
				quote = ch
			} else if ch == '[' || ch == '(' {
				depth++
			} else if ch == ']' || (ch == ')' && depth > 0) {
				depth--
			} else if depth == 0 && (ch == ',' || ch == ')') {
				break
			}
			p.i++
		}
		path, err := ParsePath(strings.TrimSpace(p.s[start:p.i]))
		if err != nil {
			return intrinsicArg{}, err
		}
		return intrinsicArg{path: path}, nil
	case strings.HasPrefix(p.s[p.i:], "States."):
		call, err := p.call()
		if err != nil {
			return intrinsicArg{}, err
		}
		return intrinsicArg{call: call}, nil
	default:
		start := p.i
		for p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != ')' {
			p.i++
		}
		lit := strings.TrimSpace(p.s[start:p.i])
		v, err := parseJSON(lit)
		if err != nil {
			return intrinsicArg{}, fmt.Errorf("bad literal %q", lit)
		}
		switch v.(type) {
		case map[string]any, []any:
			return intrinsicArg{}, fmt.Errorf("bad literal %q: only strings, numbers, booleans and null may be written inline", lit)
		}
		return intrinsicArg{literal: v, isLit: true}, nil
	}
}

// intrinsicEnv is what an evaluation may draw on.
type intrinsicEnv struct {
	input, ctx any
	rng        *rand.Rand // seeded; used by MathRandom without a seed and UUID
}

// Eval evaluates the call.
func (c *Intrinsic) Eval(env intrinsicEnv) (any, error) {
	v, err := c.eval(env)
	if err != nil {
		return nil, fmt.Errorf("the function %s had the following error: %w", c.src, err)
	}
	return unescapeBraces(v), nil
}

func unescapeBraces(v any) any {
	switch t := v.(type) {
	case string:
		if strings.Contains(t, escOpen) || strings.Contains(t, escClose) {
			return strings.NewReplacer(escOpen, "{", escClose, "}").Replace(t)
		}
		return t
	case []any:
		for i := range t {
			t[i] = unescapeBraces(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = unescapeBraces(t[k])
		}
	}
	return v
}

func (c *Intrinsic) eval(env intrinsicEnv) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		switch {
		case a.isLit:
			args[i] = a.literal
		case a.path != nil:
			v, err := a.path.Get(env.input, env.ctx)
			if err != nil {
				return nil, err
			}
			args[i] = deepCopy(v)
		default:
			v, err := a.call.eval(env)
			if err != nil {
				return nil, err
			}
			args[i] = v
		}
	}
	switch c.name {
	case "States.Format":
		tmpl, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("the first argument must be a string, got %s", typeName(args[0]))
		}
		holes := strings.Count(tmpl, "{}")
		if holes != len(args)-1 {
			return nil, fmt.Errorf("the template has %d placeholder(s) but %d value(s) were given", holes, len(args)-1)
		}
		var b strings.Builder
		rest := args[1:]
		for {
			i := strings.Index(tmpl, "{}")
			if i < 0 {
				b.WriteString(tmpl)
				break
			}
			b.WriteString(tmpl[:i])
			switch v := rest[0].(type) {
			case string:
				b.WriteString(v)
			case map[string]any, []any:
				return nil, fmt.Errorf("a %s cannot be formatted; use States.JsonToString", typeName(v))
			default:
				b.WriteString(toJSON(v))
			}
			rest = rest[1:]
			tmpl = tmpl[i+2:]
		}
		return b.String(), nil
	case "States.StringToJson":
		s, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("the argument must be a string, got %s", typeName(args[0]))
		}
		v, err := parseJSON(s)
		if err != nil {
			return nil, fmt.Errorf("the string is not JSON: %w", err)
		}
		return v, nil
	case "States.JsonToString":
		return toJSON(unescapeBraces(args[0])), nil
	case "States.Array":
		return args, nil
	case "States.ArrayPartition":
		arr, err := arrayArg(args[0])
		if err != nil {
			return nil, err
		}
		size, ok := integer(args[1])
		if !ok || size <= 0 {
			return nil, fmt.Errorf("the chunk size must be a positive integer")
		}
		out := []any{}
		for i := 0; i < len(arr); i += int(size) {
			out = append(out, append([]any{}, arr[i:min(i+int(size), len(arr))]...))
		}
		return out, nil
	case "States.ArrayContains":
		arr, err := arrayArg(args[0])
		if err != nil {
			return nil, err
		}
		for _, v := range arr {
			if jsonEqual(v, args[1]) {
				return true, nil
			}
		}
		return false, nil
	case "States.ArrayRange":
		start, ok1 := integer(args[0])
		end, ok2 := integer(args[1])
		step, ok3 := integer(args[2])
		if !ok1 || !ok2 || !ok3 || step == 0 {
			return nil, fmt.Errorf("the start, end and non-zero step must be integers")
		}
		out := []any{}
		for v := start; (step > 0 && v <= end) || (step < 0 && v >= end); v += step {
			if len(out) == 1000 {
				return nil, fmt.Errorf("the range cannot hold more than 1000 items")
			}
			out = append(out, num(float64(v)))
		}
		return out, nil
	case "States.ArrayGetItem":
		arr, err := arrayArg(args[0])
		if err != nil {
			return nil, err
		}
		i, ok := integer(args[1])
		if !ok || i < 0 || i >= int64(len(arr)) {
			return nil, fmt.Errorf("the index %s is out of bounds for an array of %d item(s)", toJSON(args[1]), len(arr))
		}
		return arr[i], nil
	case "States.ArrayLength":
		arr, err := arrayArg(args[0])
		if err != nil {
			return nil, err
		}
		return num(float64(len(arr))), nil
	case "States.ArrayUnique":
		arr, err := arrayArg(args[0])
		if err != nil {
			return nil, err
		}
		out := []any{}
	next:
		for _, v := range arr {
			for _, seen := range out {
				if jsonEqual(v, seen) {
					continue next
				}
			}
			out = append(out, v)
		}
		return out, nil
	case "States.Base64Encode":
		s, err := stringArg(args[0], 10000)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		s, err := stringArg(args[0], 10000)
		if err != nil {
			return nil, err
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("the string is not valid Base64: %w", err)
		}
		return string(raw), nil
	case "States.Hash":
		s, err := stringArg(args[0], 10000)
		if err != nil {
			return nil, err
		}
		alg, _ := args[1].(string)
		var h hash.Hash
		switch alg {
		case "MD5":
			h = md5.New()
		case "SHA-1":
			h = sha1.New()
		case "SHA-256":
			h = sha256.New()
		case "SHA-384":
			h = sha512.New384()
		case "SHA-512":
			h = sha512.New()
		default:
			return nil, fmt.Errorf("the hash algorithm %q is not one of MD5, SHA-1, SHA-256, SHA-384, SHA-512", alg)
		}
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil)), nil
	case "States.JsonMerge":
		a, ok1 := args[0].(map[string]any)
		b, ok2 := args[1].(map[string]any)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("the first two arguments must be objects")
		}
		if deep, ok := args[2].(bool); !ok || deep {
			return nil, fmt.Errorf("only a shallow merge is supported: the third argument must be false")
		}
		out := make(map[string]any, len(a)+len(b))
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out, nil
	case "States.MathRandom":
		lo, ok1 := integer(args[0])
		hi, ok2 := integer(args[1])
		if !ok1 || !ok2 || hi <= lo {
			return nil, fmt.Errorf("the start and end must be integers with start < end")
		}
		rng := env.rng
		if len(args) == 3 {
			seed, ok := integer(args[2])
			if !ok {
				return nil, fmt.Errorf("the seed must be an integer")
			}
			rng = rand.New(rand.NewPCG(uint64(seed), 0x5eed))
		}
		return num(float64(lo + rng.Int64N(hi-lo))), nil
	case "States.MathAdd":
		a, ok1 := integer(args[0])
		b, ok2 := integer(args[1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("both arguments must be integers")
		}
		return num(float64(a + b)), nil
	case "States.StringSplit":
		s, ok1 := args[0].(string)
		seps, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("both arguments must be strings")
		}
		out := []any{}
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
			out = append(out, part)
		}
		return out, nil
	case "States.UUID":
		return uuidFrom(env.rng), nil
	}
	return nil, fmt.Errorf("unknown function %s", c.name)
}

func arrayArg(v any) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected an array, got %s", typeName(v))
	}
	return a, nil
}

func stringArg(v any, max int) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("expected a string, got %s", typeName(v))
	}
	if len(s) > max {
		return "", fmt.Errorf("the string is longer than %s characters", strconv.Itoa(max))
	}
	return s, nil
}

// uuidFrom returns a version 4 UUID drawn from rng.
func uuidFrom(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	a = (a &^ 0xf000) | 0x4000
	b = (b &^ (0xc << 60)) | (0x8 << 60)
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}
