// Command gen writes the wire layer's name tables (names_gen.go) and the
// recording fakes of its tests (fakes_gen_test.go) from the aws-sdk-go-v2
// sources in the module cache.
//
// The served operations are not listed here: they are derived from the
// model types in package served (every exported method with the exact
// signature of the SDK client method of the same name), so a model that
// gains an operation only needs `go generate`. A test of the wire package
// fails while the checked-in tables lag behind the models.
//
// The wire names of AWS protocols differ from Go field names in ways no rule
// predicts (EC2 reads Filters as Filter.N and answers Images as imagesSet), so
// the tables are copied from the SDK itself: the serializers say what clients
// send, the deserializers say what clients accept. For services generated with
// Smithy schemas (SSM, EventBridge, CloudWatch, Lambda) the member names and
// HTTP binding traits come from the schema package and the field each member
// fills from SerializeMembers. For restJson1 services the operation's HTTP
// method, URI template and success status come from the operation schema
// (Lambda) or the operation serializer (Image Builder).
//
// Only types reachable, by reflection, from the served operations are
// emitted, which keeps EC2's table small.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/wire/internal/served"
)

// source says how a service's SDK package encodes its shapes.
type source int

const (
	// generated: serializers.go and deserializers.go hold one function per shape.
	generated source = iota
	// schema: types carry SerializeMembers methods driven by a schemas package.
	schema
)

type service struct {
	module string
	dir    string
	client reflect.Type
	src    source
	// rest marks a restJson1 service (Lambda, Image Builder): its members
	// may travel in the URI, query string, headers or status line.
	rest bool
	ops  []string
}

// loadServices derives the served services and their operations from the
// model types (see package served): nothing here lists operations by hand.
func loadServices() []service {
	var out []service
	for _, m := range served.Models {
		s := service{module: m.Module(), client: m.Client, ops: m.Operations()}
		if len(s.ops) == 0 {
			log.Fatalf("%s: model %s has no method with the signature of a %s method", m.Name, m.Model, m.Client)
		}
		s.dir = moduleDir(s.module)
		if _, err := os.Stat(filepath.Join(s.dir, "serializers.go")); err == nil {
			s.src = generated
			s.rest = fileContains(filepath.Join(s.dir, "serializers.go"), "awsRestjson1_serializeOp")
		} else {
			s.src = schema
			s.rest = fileContains(filepath.Join(s.dir, "api_client.go"), "restjson1.New(")
		}
		out = append(out, s)
	}
	return out
}

func fileContains(path, s string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	return bytes.Contains(data, []byte(s))
}

// coll describes the wire names of a list or map.
type coll struct {
	Member, Key, Value string
	Flat               bool
	Elem               *coll
}

// field holds the wire names of one Go field, request side (In) and response
// side (Out).
type field struct {
	In, Out         string
	InFlat, OutFlat bool
	InColl, OutColl *coll
	// bind names the wire layer's binding constant of a restJson1 member
	// that travels outside the JSON body ("bindHeader"), bindName the
	// header, query parameter or label it travels in.
	bind, bindName string
	// unsupported says why the wire layer cannot carry the member; the
	// generator stops if a served type has such a member.
	unsupported string
}

// route is a restJson1 operation's @http trait.
type route struct {
	method, uri string
	code        int
}

// fn is one parsed serializer or deserializer function.
type fn struct {
	typ     string // "types.Filter", "DescribeImagesInput", "[]types.Filter", "map[string]string"
	fields  []pfield
	member  string // list member element name
	key     string // map key element name
	value   string // map value element name
	elemFn  string
	hasElem bool
}

type pfield struct {
	goName, wire, call string
	flat               bool
}

var (
	reSerFunc   = regexp.MustCompile(`^func (\w+)\(v (\S+), value (?:query|smithyjson)\.Value\) error \{$`)
	reDeserFunc = regexp.MustCompile(`^func (\w+)\(v (\S+), (?:decoder smithyxml\.NodeDecoder|value interface\{\})\) error \{$`)
	reIfField   = regexp.MustCompile(`^\s*if (?:len\()?v\.(\w+)`)
	reKey       = regexp.MustCompile(`object\.(Key|FlatKey)\("([^"]*)"\)`)
	reSerCall   = regexp.MustCompile(`(\w+_serializeDocument\w+)\(`)
	reDeserCall = regexp.MustCompile(`(\w+_deserializeDocument\w+)\(`)
	reArray     = regexp.MustCompile(`value\.Array\("([^"]*)"\)`)
	reMap       = regexp.MustCompile(`value\.(?:Flat)?Map\("([^"]*)", "([^"]*)"\)`)
	reXMLCase   = regexp.MustCompile(`case strings\.EqualFold\("([^"]*)", t\.Name\.Local\):`)
	reJSONCase  = regexp.MustCompile(`^\t\tcase "([^"]*)":$`)
	reSV        = regexp.MustCompile(`\bsv\.(\w+)`)
	reMembers   = regexp.MustCompile(`^func \(v \*(\w+)\) SerializeMembers\(s smithy\.ShapeSerializer\) \{$`)
	reSchemaUse = regexp.MustCompile(`schemas\.(\w+)`)
	reVField    = regexp.MustCompile(`\bv\.(\w+)`)
	reAddMember = regexp.MustCompile(`^\s*(\w+) = \w+\.AddMember\("([^"]+)"(.*)$`)

	reTraitHeader   = regexp.MustCompile(`&smithytraits\.HTTPHeader\{Name: "([^"]*)"\}`)
	reTraitQuery    = regexp.MustCompile(`&smithytraits\.HTTPQuery\{Name: "([^"]*)"\}`)
	reTraitJSONName = regexp.MustCompile(`&smithytraits\.JSONName\{Name: "([^"]*)"\}`)
	reOpSchema      = regexp.MustCompile(`smithy\.NewOperationSchema\(schemas\.(\w+),`)
	reRestSerOp     = regexp.MustCompile(`^func \(m \*awsRestjson1_serializeOp(\w+)\) HandleSerialize\(`)
	reSplitURI      = regexp.MustCompile(`httpbinding\.SplitURI\("([^"]*)"\)`)
	reMethod        = regexp.MustCompile(`^\s*request\.Method = "(\w+)"`)
	reInputPayload  = regexp.MustCompile(`^\s*if input\.(\w+) != nil \{`)
	reBindingsFunc  = regexp.MustCompile(`^func awsRestjson1_serializeOpHttpBindings\w+\(v \*(\w+), encoder \*httpbinding\.Encoder\) error \{$`)
	reEncoderCall   = regexp.MustCompile(`encoder\.(SetQuery|AddQuery|SetURI|SetHeader|AddHeader|Headers)\("([^"]*)"\)`)
	reOutBindings   = regexp.MustCompile(`^func awsRestjson1_deserializeOpHttpBindings\w+\(v \*(\w+), response \*smithyhttp\.Response\) error \{$`)
)

func main() {
	out := flag.String("o", "names_gen.go", "output file")
	fakes := flag.String("fakes", "fakes_gen_test.go", "output file for the test fakes")
	flag.Parse()
	services := loadServices()
	writeFakes(*fakes, services)
	var b bytes.Buffer
	b.WriteString("// Code generated by go run ./internal/gen; DO NOT EDIT.\n\n")
	b.WriteString("package wire\n\n")
	b.WriteString("// generatedOperations lists, per SDK module, the operations whose names are\n// in generatedNames: the methods of the service's model with the SDK\n// client's signature.\n")
	b.WriteString("var generatedOperations = map[string][]string{\n")
	for _, s := range services {
		fmt.Fprintf(&b, "\t%q: {", s.module)
		for i, op := range s.ops {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", op)
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n\n")
	var results []string
	for _, s := range services {
		if s.src != generated || s.rest {
			continue
		}
		for name, f := range parseFuncs(readLines(filepath.Join(s.dir, "deserializers.go")), reDeserFunc, false) {
			op := strings.TrimSuffix(f.typ, "Output")
			if strings.Contains(name, "_deserializeOpDocument") && strings.HasSuffix(f.typ, "Output") && !strings.Contains(name, "json") && contains(s.ops, op) {
				results = append(results, s.module+"."+f.typ)
			}
		}
	}
	sort.Strings(results)
	b.WriteString("// generatedResultShapes lists the query outputs that clients read from an\n// <OpResult> element, even when it is empty.\n")
	b.WriteString("var generatedResultShapes = map[string]bool{\n")
	for _, r := range results {
		fmt.Fprintf(&b, "\t%q: true,\n", r)
	}
	b.WriteString("}\n\n")
	b.WriteString("// generatedRoutes gives, per SDK module and operation, the @http trait of\n// restJson1 operations: method, URI template and success status.\n")
	b.WriteString("var generatedRoutes = map[string]map[string]restRoute{\n")
	for _, s := range services {
		if !s.rest {
			continue
		}
		routes := restRoutes(s)
		fmt.Fprintf(&b, "\t%q: {\n", s.module)
		for _, op := range s.ops {
			r := routes[op]
			fmt.Fprintf(&b, "\t\t%q: {Method: %q, URI: %q, Code: %d},\n", op, r.method, r.uri, r.code)
		}
		b.WriteString("\t},\n")
	}
	b.WriteString("}\n\n")
	b.WriteString("// generatedNames maps \"<package path>.<type>\" to the wire names of each Go field.\n")
	b.WriteString("var generatedNames = map[string]map[string]fieldNames{\n")
	for _, s := range services {
		var table map[string]map[string]field
		switch s.src {
		case generated:
			table = fromGenerated(s.dir, s)
		case schema:
			table = fromSchema(s.dir, s.rest)
		}
		reach := reachable(s)
		for _, t := range reach {
			key := typeKey(t)
			fs, ok := table[key]
			if !ok && hasWireFields(t) {
				log.Printf("%s: no names for %s", s.module, key)
			}
			fmt.Fprintf(&b, "\t%q: {\n", t.PkgPath()+"."+t.Name())
			names := make([]string, 0, len(fs))
			for n := range fs {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				if _, ok := t.FieldByName(n); !ok {
					log.Fatalf("%s: %s has no field %s", s.module, key, n)
				}
				if why := fs[n].unsupported; why != "" {
					log.Fatalf("%s: %s.%s: %s; teach the wire layer and this generator", s.module, key, n, why)
				}
				fmt.Fprintf(&b, "\t\t%q: %s,\n", n, fieldLit(fs[n]))
			}
			b.WriteString("\t},\n")
		}
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		log.Fatalf("format generated code: %v", err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// hasWireFields reports whether t has exported fields other than the SDK's
// bookkeeping ones.
func hasWireFields(t reflect.Type) bool {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.IsExported() && f.Name != "ResultMetadata" {
			return true
		}
	}
	return false
}

func fieldLit(f field) string {
	var parts []string
	if f.In != "" {
		parts = append(parts, fmt.Sprintf("In: %q", f.In))
	}
	if f.InFlat {
		parts = append(parts, "InFlat: true")
	}
	if f.InColl != nil {
		parts = append(parts, "InColl: "+collLit(f.InColl))
	}
	if f.Out != "" {
		parts = append(parts, fmt.Sprintf("Out: %q", f.Out))
	}
	if f.OutFlat {
		parts = append(parts, "OutFlat: true")
	}
	if f.OutColl != nil {
		parts = append(parts, "OutColl: "+collLit(f.OutColl))
	}
	if f.bind != "" {
		parts = append(parts, "Bind: "+f.bind, fmt.Sprintf("BindName: %q", f.bindName))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func collLit(c *coll) string {
	var parts []string
	if c.Member != "" {
		parts = append(parts, fmt.Sprintf("Member: %q", c.Member))
	}
	if c.Key != "" || c.Value != "" {
		parts = append(parts, fmt.Sprintf("Key: %q, Value: %q", c.Key, c.Value))
	}
	if c.Flat {
		parts = append(parts, "Flat: true")
	}
	if c.Elem != nil {
		parts = append(parts, "Elem: "+collLit(c.Elem))
	}
	return "&collNames{" + strings.Join(parts, ", ") + "}"
}

func moduleDir(mod string) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	if err != nil {
		log.Fatalf("locate %s: %v", mod, err)
	}
	return strings.TrimSpace(string(out))
}

// typeKey names a type the way the SDK sources do: "types.Filter" for the
// types package, the bare name for the service package.
func typeKey(t reflect.Type) string {
	if strings.HasSuffix(t.PkgPath(), "/types") {
		return "types." + t.Name()
	}
	return t.Name()
}

var timeType = reflect.TypeFor[time.Time]()

// reachable returns the struct types reachable from the operations' inputs
// and outputs, in a stable order.
func reachable(s service) []reflect.Type {
	seen := map[reflect.Type]bool{}
	var order []reflect.Type
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == timeType || seen[t] || !strings.HasPrefix(t.PkgPath(), s.module) {
			return
		}
		seen[t] = true
		order = append(order, t)
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() {
				walk(t.Field(i).Type)
			}
		}
	}
	for _, op := range s.ops {
		m, ok := s.client.MethodByName(op)
		if !ok {
			log.Fatalf("%s has no operation %s", s.module, op)
		}
		walk(m.Type.In(2))
		walk(m.Type.Out(0))
	}
	sort.Slice(order, func(i, j int) bool { return typeKey(order[i]) < typeKey(order[j]) })
	return order
}

func readLines(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// parseFuncs splits a serializers.go or deserializers.go into functions.
func parseFuncs(lines []string, header *regexp.Regexp, ser bool) map[string]*fn {
	fns := map[string]*fn{}
	var cur *fn
	var curField *pfield
	for _, l := range lines {
		if m := header.FindStringSubmatch(l); m != nil {
			cur = &fn{typ: strings.TrimLeft(m[2], "*")}
			fns[m[1]] = cur
			curField = nil
			continue
		}
		if cur == nil {
			continue
		}
		if l == "}" {
			cur = nil
			continue
		}
		if ser {
			if m := reIfField.FindStringSubmatch(l); m != nil {
				cur.fields = append(cur.fields, pfield{goName: m[1]})
				curField = &cur.fields[len(cur.fields)-1]
				continue
			}
			if m := reKey.FindStringSubmatch(l); m != nil && curField != nil {
				curField.wire, curField.flat = m[2], m[1] == "FlatKey"
				continue
			}
			if m := reArray.FindStringSubmatch(l); m != nil {
				cur.member = m[1]
				continue
			}
			if m := reMap.FindStringSubmatch(l); m != nil {
				cur.key, cur.value = m[1], m[2]
				continue
			}
			if m := reSerCall.FindStringSubmatch(l); m != nil {
				if curField != nil {
					curField.call = m[1]
				} else if !cur.hasElem {
					cur.elemFn, cur.hasElem = m[1], true
				}
			}
			continue
		}
		// Deserializer: a case names the element, the next sv.Field says
		// which field it fills.
		if m := reXMLCase.FindStringSubmatch(l); m != nil {
			isStruct := !strings.HasPrefix(cur.typ, "[]") && !strings.HasPrefix(cur.typ, "map[")
			if isStruct {
				cur.fields = append(cur.fields, pfield{wire: m[1]})
				curField = &cur.fields[len(cur.fields)-1]
			} else if cur.member == "" {
				cur.member = m[1]
			} else if cur.key == "" {
				cur.key = m[1]
			} else if cur.value == "" {
				cur.value = m[1]
			}
			continue
		}
		if m := reJSONCase.FindStringSubmatch(l); m != nil {
			cur.fields = append(cur.fields, pfield{wire: m[1]})
			curField = &cur.fields[len(cur.fields)-1]
			continue
		}
		if curField != nil && curField.goName == "" {
			if m := reSV.FindStringSubmatch(l); m != nil {
				curField.goName = m[1]
			}
		}
		if m := reDeserCall.FindStringSubmatch(l); m != nil {
			if curField != nil && curField.call == "" {
				curField.call = m[1]
			} else if curField == nil && !cur.hasElem {
				cur.elemFn, cur.hasElem = m[1], true
			}
		}
	}
	return fns
}

// collOf describes the collection a call serializes, following nested lists.
func collOf(fns map[string]*fn, name string, depth int) *coll {
	f, ok := fns[name]
	if !ok || depth > 8 {
		return nil
	}
	flat := false
	if strings.HasSuffix(name, "Unwrapped") {
		if w, ok := fns[strings.TrimSuffix(name, "Unwrapped")]; ok {
			f, flat = w, true
			_ = flat
		}
	}
	switch {
	case strings.HasPrefix(f.typ, "[]"):
		c := &coll{Member: f.member}
		if f.hasElem {
			c.Elem = collOf(fns, f.elemFn, depth+1)
		}
		return c
	case strings.HasPrefix(f.typ, "map["):
		c := &coll{Key: f.key, Value: f.value}
		if c.Key == "" && c.Value == "" {
			// XML map deserializers name their entries in the Unwrapped half.
			if u, ok := fns[name+"Unwrapped"]; ok {
				c.Key, c.Value = u.member, u.key
				if u.hasElem {
					c.Elem = collOf(fns, u.elemFn, depth+1)
				}
				c.Member = f.member
				return c
			}
		}
		if f.hasElem {
			c.Elem = collOf(fns, f.elemFn, depth+1)
		}
		return c
	}
	return nil
}

func fromGenerated(dir string, s service) map[string]map[string]field {
	table := map[string]map[string]field{}
	if s.rest {
		restBindings(dir, table, s.ops)
	}
	get := func(typ, name string) field {
		if table[typ] == nil {
			table[typ] = map[string]field{}
		}
		return table[typ][name]
	}
	set := func(typ, name string, f field) { table[typ][name] = f }

	ser := parseFuncs(readLines(filepath.Join(dir, "serializers.go")), reSerFunc, true)
	for _, f := range ser {
		if strings.HasPrefix(f.typ, "[]") || strings.HasPrefix(f.typ, "map[") {
			continue
		}
		for _, pf := range f.fields {
			if pf.wire == "" {
				continue
			}
			x := get(f.typ, pf.goName)
			x.In, x.InFlat = pf.wire, pf.flat
			if pf.call != "" {
				x.InColl = collOf(ser, pf.call, 0)
			}
			set(f.typ, pf.goName, x)
		}
	}
	des := parseFuncs(readLines(filepath.Join(dir, "deserializers.go")), reDeserFunc, false)
	for name, f := range des {
		if strings.HasPrefix(f.typ, "[]") || strings.HasPrefix(f.typ, "map[") || strings.HasSuffix(name, "Unwrapped") {
			continue
		}
		// Error shapes and event payloads also have deserializers; only
		// document and operation-output ones describe response bodies.
		if !strings.Contains(name, "_deserializeDocument") && !strings.Contains(name, "_deserializeOpDocument") {
			continue
		}
		for _, pf := range f.fields {
			if pf.goName == "" {
				continue
			}
			x := get(f.typ, pf.goName)
			x.Out = pf.wire
			if pf.call != "" {
				x.OutFlat = strings.HasSuffix(pf.call, "Unwrapped")
				x.OutColl = collOf(des, pf.call, 0)
			}
			set(f.typ, pf.goName, x)
		}
	}
	return table
}

// fromSchema reads SerializeMembers methods and the schemas package: the JSON
// and CBOR protocols key every member by its Smithy member name in both
// directions; restJson1 honours @jsonName and binds members with HTTP
// binding traits outside the body.
func fromSchema(dir string, rest bool) map[string]map[string]field {
	member := map[string]field{}
	for _, l := range readLines(filepath.Join(dir, "schemas", "schemas.go")) {
		if m := reAddMember.FindStringSubmatch(l); m != nil {
			member[m[1]] = schemaMember(m[2], m[3], rest)
		}
	}
	table := map[string]map[string]field{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	typeFiles, _ := filepath.Glob(filepath.Join(dir, "types", "*.go"))
	files = append(files, typeFiles...)
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		prefix := ""
		if filepath.Base(filepath.Dir(path)) == "types" {
			prefix = "types."
		}
		var cur map[string]field
		lastField := ""
		for _, l := range readLines(path) {
			if m := reMembers.FindStringSubmatch(l); m != nil {
				lastField = ""
				cur = map[string]field{}
				table[prefix+m[1]] = cur
				continue
			}
			if cur == nil {
				continue
			}
			if l == "}" {
				cur = nil
				continue
			}
			sm := reSchemaUse.FindStringSubmatch(l)
			vm := reVField.FindStringSubmatch(l)
			if vm != nil {
				// Structure, list and map members are written on the line
				// after their guard ("if v.Parameter != nil {"), so the
				// last field named pairs with the next schema used.
				lastField = vm[1]
			}
			if sm == nil || lastField == "" {
				continue
			}
			f, ok := member[sm[1]]
			if !ok {
				log.Fatalf("%s: schema %s has no AddMember", path, sm[1])
			}
			if _, seen := cur[lastField]; !seen {
				cur[lastField] = f
			}
		}
	}
	return table
}

// schemaMember describes a schema member from its AddMember name and the
// trait arguments that follow it.
func schemaMember(name, traits string, rest bool) field {
	f := field{In: name, Out: name}
	if !rest {
		return f
	}
	if m := reTraitJSONName.FindStringSubmatch(traits); m != nil {
		f.In, f.Out = m[1], m[1]
	}
	switch {
	case strings.Contains(traits, "&smithytraits.HTTPLabel{}"):
		// A label is named in the URI template by its member name.
		f.bind, f.bindName = "bindLabel", name
	case reTraitHeader.MatchString(traits):
		f.bind, f.bindName = "bindHeader", reTraitHeader.FindStringSubmatch(traits)[1]
	case reTraitQuery.MatchString(traits):
		f.bind, f.bindName = "bindQuery", reTraitQuery.FindStringSubmatch(traits)[1]
	case strings.Contains(traits, "&smithytraits.HTTPPayload{}"):
		f.bind, f.bindName = "bindPayload", name
	case strings.Contains(traits, "&smithytraits.HTTPResponseCode{}"):
		f.bind, f.bindName = "bindStatus", name
	case strings.Contains(traits, "HTTPPrefixHeaders"):
		f.unsupported = "@httpPrefixHeaders is not implemented"
	case strings.Contains(traits, "HTTPQueryParams"):
		f.unsupported = "@httpQueryParams is not implemented"
	}
	if strings.Contains(traits, "TimestampFormat") {
		f.unsupported = "@timestampFormat is not implemented (the wire layer uses each location's default format)"
	}
	if strings.Contains(traits, "MediaType") && f.bind == "bindHeader" {
		f.unsupported = "a @mediaType header (base64-encoded JSON) is not implemented"
	}
	return f
}

// restRoutes returns the @http trait of each served restJson1 operation.
func restRoutes(s service) map[string]route {
	routes := map[string]route{}
	switch s.src {
	case schema:
		text, err := os.ReadFile(filepath.Join(s.dir, "schemas", "schemas.go"))
		if err != nil {
			log.Fatal(err)
		}
		for _, op := range s.ops {
			path := filepath.Join(s.dir, "api_op_"+op+".go")
			data, err := os.ReadFile(path)
			if err != nil {
				log.Fatal(err)
			}
			m := reOpSchema.FindSubmatch(data)
			if m == nil {
				log.Fatalf("%s: no operation schema in %s", s.module, path)
			}
			re := regexp.MustCompile(`var ` + string(m[1]) + ` = smithy\.NewSchema\(smithy\.ShapeID\{[^}]*\}, smithy\.ShapeTypeOperation, \d+, &smithytraits\.HTTP\{Method: "(\w+)",\s*URI:\s*"([^"]*)",\s*Code:\s*(\d+)\}\)`)
			t := re.FindSubmatch(text)
			if t == nil {
				log.Fatalf("%s: no @http trait for operation schema %s", s.module, m[1])
			}
			code, _ := strconv.Atoi(string(t[3]))
			routes[op] = route{method: string(t[1]), uri: string(t[2]), code: code}
		}
	case generated:
		// Generated operation serializers split the URI template and set
		// the method; the success status is not in the Go sources, and
		// clients accept any 2xx, so 200 stands in.
		cur := ""
		for _, l := range readLines(filepath.Join(s.dir, "serializers.go")) {
			if m := reRestSerOp.FindStringSubmatch(l); m != nil {
				cur = m[1]
				if contains(s.ops, cur) {
					routes[cur] = route{code: 200}
				}
				continue
			}
			r, ok := routes[cur]
			if !ok {
				continue
			}
			if l == "}" {
				cur = ""
				continue
			}
			if m := reSplitURI.FindStringSubmatch(l); m != nil {
				r.uri = m[1]
			}
			if m := reMethod.FindStringSubmatch(l); m != nil {
				r.method = m[1]
			}
			if m := reInputPayload.FindStringSubmatch(l); m != nil {
				log.Fatalf("%s: %s sends member %s as its HTTP payload; payloads of generated restJson1 clients are not read yet", s.module, cur, m[1])
			}
			routes[cur] = r
		}
	}
	for _, op := range s.ops {
		if r := routes[op]; r.method == "" || r.uri == "" {
			log.Fatalf("%s: no HTTP method and URI found for %s", s.module, op)
		}
	}
	return routes
}

// restBindings reads the HTTP bindings of generated restJson1 inputs (URI
// labels, query parameters, headers) into table. Generated outputs bound to
// headers or the status line are refused: no served operation has them
// yet, and silently dropping them would hide members.
func restBindings(dir string, table map[string]map[string]field, ops []string) {
	cur, member := "", ""
	for _, l := range readLines(filepath.Join(dir, "serializers.go")) {
		if m := reBindingsFunc.FindStringSubmatch(l); m != nil {
			cur, member = m[1], ""
			continue
		}
		if cur == "" {
			continue
		}
		if l == "}" {
			cur = ""
			continue
		}
		if m := reIfField.FindStringSubmatch(l); m != nil {
			member = m[1]
		}
		m := reEncoderCall.FindStringSubmatch(l)
		if m == nil || member == "" {
			continue
		}
		if table[cur] == nil {
			table[cur] = map[string]field{}
		}
		f := field{In: m[2], bindName: m[2]}
		switch m[1] {
		case "SetQuery", "AddQuery":
			f.bind = "bindQuery"
		case "SetURI":
			f.bind = "bindLabel"
		case "SetHeader", "AddHeader":
			f.bind = "bindHeader"
		default:
			f.unsupported = "prefix headers are not implemented"
		}
		if strings.Contains(l, "smithytime.Format") {
			f.unsupported = "timestamps bound outside the body are not implemented for generated clients"
		}
		table[cur][member] = f
	}
	for _, l := range readLines(filepath.Join(dir, "deserializers.go")) {
		if m := reOutBindings.FindStringSubmatch(l); m != nil && contains(ops, strings.TrimSuffix(m[1], "Output")) {
			log.Fatalf("%s: output %s has HTTP-bound members; output bindings of generated restJson1 clients are not read yet", dir, m[1])
		}
	}
}

// writeFakes emits, for the package's tests, one recording fake per service
// with a method of the exact SDK client signature for every operation.
func writeFakes(path string, services []service) {
	var b bytes.Buffer
	b.WriteString("// Code generated by go run ./internal/gen; DO NOT EDIT.\n\npackage wire\n\nimport (\n\t\"context\"\n\n")
	for _, s := range services {
		fmt.Fprintf(&b, "\t%q\n", s.module)
	}
	b.WriteString(")\n\n")
	b.WriteString("// newFakes returns a fake handler per SDK module, all recording into rec.\n")
	b.WriteString("func newFakes(rec *recorder) map[string]any {\n\treturn map[string]any{\n")
	for _, s := range services {
		pkg := filepath.Base(s.module)
		fmt.Fprintf(&b, "\t\t%q: &%s{rec},\n", s.module, fakeName(pkg))
	}
	b.WriteString("\t}\n}\n\n")
	for _, s := range services {
		pkg := filepath.Base(s.module)
		fmt.Fprintf(&b, "// %s answers every served %s operation from its recorder.\n", fakeName(pkg), pkg)
		fmt.Fprintf(&b, "type %s struct{ rec *recorder }\n\n", fakeName(pkg))
		for _, op := range s.ops {
			fmt.Fprintf(&b, "// %s records its input and answers the recorder's output or error.\n", op)
			fmt.Fprintf(&b, "func (f *%[3]s) %[2]s(ctx context.Context, in *%[1]s.%[2]sInput, _ ...func(*%[1]s.Options)) (*%[1]s.%[2]sOutput, error) {\n", pkg, op, fakeName(pkg))
			fmt.Fprintf(&b, "\tout, err := f.rec.call(ctx, %q, in)\n\to, _ := out.(*%s.%sOutput)\n", op, pkg, op)
			fmt.Fprintf(&b, "\tif o == nil && err == nil {\n\t\to = &%s.%sOutput{}\n\t}\n\treturn o, err\n}\n\n", pkg, op)
		}
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		log.Fatalf("format fakes: %v", err)
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

func fakeName(pkg string) string { return "fake" + strings.ToUpper(pkg[:1]) + pkg[1:] }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
