package states

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// TestIntrinsicFunctions evaluates every intrinsic function with the
// examples of the AWS documentation where it gives one.
func TestIntrinsicFunctions(t *testing.T) {
	input := mustParse(t, `{"name":"Phoenix","arr":[1,2,3,4,5,6,7,8,9],"dup":[1,2,3,3,3,3,3,3,4],"obj":{"a":1,"b":{"c":2}},
		"json":"{\"x\":[1,2]}","csv":"1,2,3,4,5","b64":"RGF0YSB0byBlbmNvZGU=","n":5,"items":[{"k":"v"}]}`)
	cases := []struct {
		name, call, want string
	}{
		{"States.Format fills placeholders in order", `States.Format('Hello, my name is {}.', $.name)`, `"Hello, my name is Phoenix."`},
		{"States.Format prints numbers and booleans as JSON", `States.Format('{} {} {}', $.n, true, null)`, `"5 true null"`},
		{"States.Format keeps escaped braces literal", `States.Format('\{\} is {}', 'x')`, `"{} is x"`},
		{"States.Format accepts an escaped quote", `States.Format('it\'s {}', 'ok')`, `"it's ok"`},
		{"States.StringToJson parses a JSON string", `States.StringToJson($.json)`, `{"x":[1,2]}`},
		{"States.JsonToString serializes a value", `States.JsonToString($.items)`, `"[{\"k\":\"v\"}]"`},
		{"States.Array builds an array from its arguments", `States.Array('Foo', 2020, $.obj.a, null)`, `["Foo",2020,1,null]`},
		{"States.ArrayPartition splits into chunks of a size (docs)", `States.ArrayPartition($.arr, 4)`, `[[1,2,3,4],[5,6,7,8],[9]]`},
		{"States.ArrayContains finds a value (docs)", `States.ArrayContains($.arr, 5)`, `true`},
		{"States.ArrayContains compares objects as JSON", `States.ArrayContains($.items, $.items[0])`, `true`},
		{"States.ArrayRange counts from start to end inclusive by step (docs)", `States.ArrayRange(1, 9, 2)`, `[1,3,5,7,9]`},
		{"States.ArrayRange counts down with a negative step", `States.ArrayRange(3, 1, -1)`, `[3,2,1]`},
		{"States.ArrayGetItem returns the item at an index (docs)", `States.ArrayGetItem($.arr, 5)`, `6`},
		{"States.ArrayLength counts items (docs)", `States.ArrayLength($.arr)`, `9`},
		{"States.ArrayUnique drops repeats keeping first occurrences (docs)", `States.ArrayUnique($.dup)`, `[1,2,3,4]`},
		{"States.Base64Encode encodes a string (docs)", `States.Base64Encode('Data to encode')`, `"RGF0YSB0byBlbmNvZGU="`},
		{"States.Base64Decode decodes a string (docs)", `States.Base64Decode($.b64)`, `"Data to encode"`},
		{"States.Hash with SHA-1 gives the hex digest (docs)", `States.Hash('input data', 'SHA-1')`, `"aaff4a450a104cd177d28d18d74485e8cae074b7"`},
		{"States.Hash with MD5 gives the hex digest", `States.Hash('', 'MD5')`, `"d41d8cd98f00b204e9800998ecf8427e"`},
		{"States.JsonMerge merges shallowly, the second object winning (docs)", `States.JsonMerge($.obj, States.StringToJson('{"b":{"d":3},"e":4}'), false)`, `{"a":1,"b":{"d":3},"e":4}`},
		{"States.MathAdd adds integers (docs)", `States.MathAdd($.n, -1)`, `4`},
		{"States.StringSplit splits on any of the delimiter characters (docs)", `States.StringSplit($.csv, ',')`, `["1","2","3","4","5"]`},
		{"States.StringSplit treats each delimiter character separately (docs)", `States.StringSplit('This.is+a,test=string', '.+,=')`, `["This","is","a","test","string"]`},
		{"nested calls evaluate inside out", `States.ArrayLength(States.ArrayRange(1, 10, 1))`, `10`},
		{"States.MathRandom with a seed is repeatable", `States.Array(States.MathRandom(1, 999, 42), States.MathRandom(1, 999, 42))`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseIntrinsic(tc.call)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got, err := c.Eval(intrinsicEnv{input: input, rng: rand.New(rand.NewPCG(1, 2))})
			if err != nil {
				t.Fatalf("eval: %v", err)
			}
			if tc.want == "" {
				pair := got.([]any)
				if !jsonEqual(pair[0], pair[1]) {
					t.Fatalf("two draws with the same seed differ: %s", toJSON(got))
				}
				return
			}
			if want := mustParse(t, tc.want); !jsonEqual(got, want) {
				t.Fatalf("got %s, want %s", toJSON(got), tc.want)
			}
		})
	}
}

// TestSeededIntrinsics checks that States.UUID and States.MathRandom draw
// from the engine's seeded source: well formed, and the same for the same
// seed.
func TestSeededIntrinsics(t *testing.T) {
	draw := func(seed uint64) (string, any) {
		env := intrinsicEnv{rng: rand.New(rand.NewPCG(seed, 1))}
		u, _ := ParseIntrinsic(`States.UUID()`)
		r, _ := ParseIntrinsic(`States.MathRandom(10, 20)`)
		uv, err := u.Eval(env)
		if err != nil {
			t.Fatal(err)
		}
		rv, err := r.Eval(env)
		if err != nil {
			t.Fatal(err)
		}
		return uv.(string), rv
	}
	u1, r1 := draw(9)
	u2, r2 := draw(9)
	if u1 != u2 || !jsonEqual(r1, r2) {
		t.Fatalf("same seed gave %s/%v and %s/%v", u1, r1, u2, r2)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u1) {
		t.Fatalf("%s is not a version 4 UUID", u1)
	}
	if n, _ := integer(r1); n < 10 || n >= 20 {
		t.Fatalf("MathRandom(10, 20) gave %v", r1)
	}
}

// TestIntrinsicErrors checks that bad calls are refused at parse time or
// fail at evaluation, never panic.
func TestIntrinsicErrors(t *testing.T) {
	input := mustParse(t, `{"arr":[1,2],"s":"x"}`)
	parseErrors := []string{
		`States.Nope(1)`, `States.Format(`, `States.ArrayLength()`, `States.UUID(1)`, `States.Format('unterminated)`, `States.Array({"a":1})`,
	}
	for _, call := range parseErrors {
		t.Run("parsing "+call+" is refused", func(t *testing.T) {
			if _, err := ParseIntrinsic(call); err == nil {
				t.Fatal("want a parse error")
			}
		})
	}
	evalErrors := []string{
		`States.Format('{} {}', 'one')`, `States.ArrayGetItem($.arr, 5)`, `States.ArrayPartition($.arr, 0)`,
		`States.StringToJson('not json')`, `States.Hash('x', 'SHA-3')`, `States.JsonMerge($.arr, $.arr, false)`,
		`States.MathAdd($.s, 1)`, `States.ArrayRange(1, 5000, 1)`, `States.ArrayLength($.s)`, `States.Base64Decode('%%%')`,
		`States.MathRandom(5, 5)`, `States.ArrayLength($.missing)`, `States.Format('{}', $.arr)`,
	}
	for _, call := range evalErrors {
		t.Run("evaluating "+call+" fails", func(t *testing.T) {
			c, err := ParseIntrinsic(call)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if _, err := c.Eval(intrinsicEnv{input: input, rng: rand.New(rand.NewPCG(1, 2))}); err == nil {
				t.Fatal("want an evaluation error")
			}
		})
	}
}
