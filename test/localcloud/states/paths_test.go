package states

import (
	"testing"
)

// TestJSONPath checks path evaluation: definite paths give one value,
// indefinite ones (wildcards, slices, unions, filters, descent) give arrays.
func TestJSONPath(t *testing.T) {
	doc := `{"store":{"book":[{"title":"A","price":8},{"title":"B","price":12},{"title":"C","price":20}],"name":"s"},
		"a.b":{"c":1},"vals":[0,10,20,30,40,50],"x":null}`
	cases := []struct {
		name, path, want string
	}{
		{"the root path selects the whole document", "$", ""},
		{"a dotted path selects a nested field", "$.store.name", `"s"`},
		{"a bracketed quoted name selects a field whose name has a dot", "$['a.b'].c", `1`},
		{"an index selects an array element", "$.store.book[1].title", `"B"`},
		{"a negative index counts from the end", "$.vals[-1]", `50`},
		{"a wildcard selects every element", "$.store.book[*].title", `["A","B","C"]`},
		{"a slice selects a range of elements", "$.vals[1:3]", `[10,20]`},
		{"an open-ended negative slice selects the last elements", "$.vals[-3:]", `[30,40,50]`},
		{"a union of indexes selects several elements", "$.vals[0,2]", `[0,20]`},
		{"a filter selects elements that satisfy a comparison", "$.store.book[?(@.price < 15)].title", `["A","B"]`},
		{"recursive descent selects a field at any depth", "$..title", `["A","B","C"]`},
		{"a field holding null selects null", "$.x", `null`},
		{"an indefinite path that matches nothing selects an empty array", "$.store.book[?(@.price > 100)]", `[]`},
	}
	data := mustParse(t, doc)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePath(tc.path)
			if err != nil {
				t.Fatalf("parse %s: %v", tc.path, err)
			}
			got, err := p.Get(data, nil)
			if err != nil {
				t.Fatalf("get %s: %v", tc.path, err)
			}
			want := data
			if tc.want != "" {
				want = mustParse(t, tc.want)
			}
			if !jsonEqual(got, want) {
				t.Fatalf("%s gave %s, want %s", tc.path, toJSON(got), toJSON(want))
			}
		})
	}
	t.Run("a definite path to a missing field is an error", func(t *testing.T) {
		p, _ := ParsePath("$.store.missing")
		if _, err := p.Get(data, nil); err == nil {
			t.Fatal("want an error for a missing field")
		}
	})
	for _, bad := range []string{"store.name", "$.a[", "$..", "$.a[x]"} {
		t.Run("the malformed path "+bad+" is refused", func(t *testing.T) {
			if _, err := ParsePath(bad); err == nil {
				t.Fatalf("ParsePath(%q) succeeded", bad)
			}
		})
	}
	t.Run("a reference path may not be indefinite", func(t *testing.T) {
		if _, err := ParseReferencePath("$.a[*]"); err == nil {
			t.Fatal("want an error for a wildcard in a reference path")
		}
	})
}

// TestInputOutputProcessing runs the examples of the AWS documentation's
// "Processing input and output" pages and the States language
// specification through a Task (or Pass) state and compares the output.
func TestInputOutputProcessing(t *testing.T) {
	helloInput := `{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions"}`
	cases := []struct {
		name   string
		fields string // extra fields of the Task state
		input  string
		result string // what the function returns
		output string
	}{
		{
			name:   "InputPath selects the part of the input the task receives (docs: InputPath $.dataset2)",
			fields: `"InputPath":"$.dataset2"`,
			input:  `{"comment":"Example for InputPath.","dataset1":{"val1":1,"val2":2,"val3":3},"dataset2":{"val1":"a","val2":"b","val3":"c"}}`,
			result: "echo", output: `{"val1":"a","val2":"b","val3":"c"}`,
		},
		{
			name:   "Parameters build the task input from static values and paths (docs: Parameters example)",
			fields: `"Parameters":{"comment":"Selecting what I care about.","MyDetails":{"size.$":"$.product.details.size","exists.$":"$.product.availability","StaticValue":"foo"}}`,
			input:  `{"comment":"Example for Parameters.","product":{"details":{"color":"blue","size":"small","material":"cotton"},"availability":"in stock","sku":"2317","cost":"$23"}}`,
			result: "echo", output: `{"comment":"Selecting what I care about.","MyDetails":{"size":"small","exists":"in stock","StaticValue":"foo"}}`,
		},
		{
			name:   "ResultSelector keeps the fields of the result it names (docs: ResultSelector example)",
			fields: `"ResultSelector":{"ClusterId.$":"$.output.ClusterId","ResourceType.$":"$.resourceType"}`,
			input:  `{}`,
			result: `{"resourceType":"elasticmapreduce","resource":"createCluster.sync","output":{"SdkHttpMetadata":{"HttpStatusCode":200},"ClusterId":"AKIAIOSFODNN7EXAMPLE"}}`,
			output: `{"ClusterId":"AKIAIOSFODNN7EXAMPLE","ResourceType":"elasticmapreduce"}`,
		},
		{
			name:   "ResultPath $ makes the result the output (docs: ResultPath examples)",
			fields: `"ResultPath":"$"`, input: helloInput, result: `"Hello, AWS Step Functions!"`, output: `"Hello, AWS Step Functions!"`,
		},
		{
			name:   "ResultPath null discards the result and passes the input on",
			fields: `"ResultPath":null`, input: helloInput, result: `"Hello, AWS Step Functions!"`, output: helloInput,
		},
		{
			name:   "ResultPath $.taskresult adds the result to the input",
			fields: `"ResultPath":"$.taskresult"`, input: helloInput, result: `"Hello, AWS Step Functions!"`,
			output: `{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions","taskresult":"Hello, AWS Step Functions!"}`,
		},
		{
			name:   "ResultPath into a nested field creates the objects on the way",
			fields: `"ResultPath":"$.strings.lambdaresult"`,
			input:  `{"comment":"An input comment.","data":{"val1":23,"val2":17},"extra":"foo","lambda":{"who":"AWS Step Functions"}}`,
			result: `"Hello, AWS Step Functions!"`,
			output: `{"comment":"An input comment.","data":{"val1":23,"val2":17},"extra":"foo","lambda":{"who":"AWS Step Functions"},"strings":{"lambdaresult":"Hello, AWS Step Functions!"}}`,
		},
		{
			name:   "ResultPath onto an existing field replaces it",
			fields: `"ResultPath":"$.comment"`, input: helloInput, result: `"replaced"`,
			output: `{"comment":"replaced","details":"Default example","who":"AWS Step Functions"}`,
		},
		{
			name:   "InputPath, ResultPath and OutputPath together (spec: numbers to add)",
			fields: `"InputPath":"$.numbers","ResultPath":"$.sum","OutputPath":"$.sum"`,
			input:  `{"title":"Numbers to add","numbers":{"val1":3,"val2":4}}`, result: `7`, output: `7`,
		},
		{
			name:   "ResultPath inserts into the raw input, not the InputPath selection (spec)",
			fields: `"InputPath":"$.numbers","ResultPath":"$.sum"`,
			input:  `{"title":"Numbers to add","numbers":{"val1":3,"val2":4}}`, result: `7`,
			output: `{"title":"Numbers to add","numbers":{"val1":3,"val2":4},"sum":7}`,
		},
		{
			name:   "InputPath null gives the task an empty object",
			fields: `"InputPath":null`, input: `{"a":1}`, result: "echo", output: `{}`,
		},
		{
			name:   "OutputPath null makes the output an empty object",
			fields: `"OutputPath":null`, input: `{"a":1}`, result: `{"b":2}`, output: `{}`,
		},
		{
			name:   "OutputPath selects part of the combined input and result",
			fields: `"ResultPath":"$.r","OutputPath":"$.r.keep"`, input: `{"a":1}`, result: `{"keep":[1],"drop":2}`, output: `[1]`,
		},
		{
			name:   "a .$ field can read the context object with $$",
			fields: `"Parameters":{"state.$":"$$.State.Name"}`, input: `{}`, result: "echo", output: `{"state":"T"}`,
		},
		{
			name:   "Parameters can hold arrays of templates",
			fields: `"Parameters":{"list":[{"v.$":"$.a"},"lit",3]}`, input: `{"a":"x"}`, result: "echo", output: `{"list":[{"v":"x"},"lit",3]}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeLambda()
			if tc.result == "echo" {
				fake.on("Fn", reply{echo: true})
			} else {
				fake.on("Fn", reply{output: mustParse(t, tc.result)})
			}
			h := newHarness(t, InProcess, Integrations{Lambda: fake})
			def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn("Fn") + `",` + tc.fields + `,"End":true}}}`
			_, out := h.runDef(def, tc.input)
			if out.Output == nil {
				t.Fatalf("execution %s: %s: %s", out.Status, *out.Error, *out.Cause)
			}
			assertJSON(t, out.Output, tc.output)
		})
	}
}

// TestPayloadTemplateSpecExample evaluates the States language
// specification's Parameters example, which mixes paths, a slice, the
// context object and States.Format.
func TestPayloadTemplateSpecExample(t *testing.T) {
	tmpl, err := CompileTemplate(mustParse(t, `{"flagged":true,"parts":{"first.$":"$.vals[0]","last3.$":"$.vals[-3:]"},
		"weekday.$":"$$.DayOfWeek","formattedOutput.$":"States.Format('Today is {}', $$.DayOfWeek)"}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Eval(intrinsicEnv{input: mustParse(t, `{"flagged":7,"vals":[0,10,20,30,40,50]}`), ctx: mustParse(t, `{"DayOfWeek":"TUESDAY"}`)})
	if err != nil {
		t.Fatal(err)
	}
	want := mustParse(t, `{"flagged":true,"parts":{"first":0,"last3":[30,40,50]},"weekday":"TUESDAY","formattedOutput":"Today is TUESDAY"}`)
	if !jsonEqual(got, want) {
		t.Fatalf("got %s, want %s", toJSON(got), toJSON(want))
	}
}

// TestResultPathRefusals checks that a ResultPath that cannot be applied to
// the input fails the execution with States.Runtime.
func testResultPathRefusals(t *testing.T, backend Backend) {
	h := newHarness(t, backend, Integrations{})
	_, out := h.runDef(`{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"ResultPath":"$.a.b","End":true}}}`, `{"a":"string"}`)
	if got := *out.Error; got != ErrRuntime {
		t.Fatalf("error %s, want %s", got, ErrRuntime)
	}
}
