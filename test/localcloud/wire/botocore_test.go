package wire

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	servedmodels "github.com/phoenix-rollouts/phoenix/test/localcloud/wire/internal/served"
)

// This file holds the local cloud's service descriptions (services.go) and
// name tables (names_gen.go, copied from the Go SDK) against botocore's
// service models, the other description AWS publishes of each service: the
// one boto3 and the AWS CLI v1 serialize from. botocore lists in
// metadata.protocols every protocol a service accepts, which is how the
// local cloud came to miss CloudWatch's awsJson1_0 (issue 16).

// botocoreServices maps each simulated service's signing name to its
// botocore model directory. Every service in known and every served model
// must have an entry, so a new service cannot escape the comparison.
var botocoreServices = map[string]string{
	"autoscaling":          "autoscaling",
	"ec2":                  "ec2",
	"elasticloadbalancing": "elbv2",
	"sns":                  "sns",
	"sts":                  "sts",
	"monitoring":           "cloudwatch",
	"ssm":                  "ssm",
	"events":               "events",
	"states":               "stepfunctions",
	"lambda":               "lambda",
	"imagebuilder":         "imagebuilder",
}

// knownDifferences are the differences between botocore and the local
// cloud that are left as they are, each with the reason. A key is the
// exact difference the test reports, values on both sides included, so an
// entry excuses that difference only: a changed value is a new
// difference, and an entry no difference matches fails as stale.
var knownDifferences = map[string]string{
	// botocore writes EC2's namespace without the trailing slash; EC2
	// itself answers xmlns="http://ec2.amazonaws.com/doc/2016-11-15/", as
	// every example response in the EC2 API Reference shows, and the Go
	// SDK does not read the namespace. No client reads it either way.
	`ec2: xmlNamespace: botocore "http://ec2.amazonaws.com/doc/2016-11-15", local cloud "http://ec2.amazonaws.com/doc/2016-11-15/"`: "EC2's responses carry the trailing slash",
}

// botocoreProtocols maps botocore's protocol names to the wire layer's;
// "json" is resolved with metadata.jsonVersion.
var botocoreProtocols = map[string]Protocol{
	"query":              AWSQuery,
	"ec2":                EC2Query,
	"rest-json":          RestJSON1,
	"smithy-rpc-v2-cbor": RPCv2CBOR,
}

var (
	botocoreOnce sync.Once
	botocoreDir  string
	botocoreErr  error
)

// botocoreDataDir returns botocore's data directory, asking the machine's
// python3. The test fails, never skips, without it: every machine of this
// kind has botocore (docs in /work/shared/FIELD-NOTES.md, section 1).
func botocoreDataDir(t *testing.T) string {
	t.Helper()
	botocoreOnce.Do(func() {
		out, err := exec.Command("python3", "-c",
			`import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), "data"))`).Output()
		if err != nil {
			var stderr []byte
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				stderr = ee.Stderr
			}
			botocoreErr = fmt.Errorf("%w %s", err, bytes.TrimSpace(stderr))
			return
		}
		botocoreDir = strings.TrimSpace(string(out))
	})
	if botocoreErr != nil {
		t.Fatalf("this test needs python3 with the Python package botocore (it reads botocore's service models): %v", botocoreErr)
	}
	return botocoreDir
}

// bcModel is the part of a botocore service-2.json the test reads.
type bcModel struct {
	Metadata struct {
		Protocol           string          `json:"protocol"`
		Protocols          []string        `json:"protocols"`
		JSONVersion        string          `json:"jsonVersion"`
		TargetPrefix       string          `json:"targetPrefix"`
		SigningName        string          `json:"signingName"`
		EndpointPrefix     string          `json:"endpointPrefix"`
		APIVersion         string          `json:"apiVersion"`
		XMLNamespace       string          `json:"xmlNamespace"`
		AWSQueryCompatible json.RawMessage `json:"awsQueryCompatible"`
	} `json:"metadata"`
	Operations map[string]bcOperation `json:"operations"`
	Shapes     map[string]bcShape     `json:"shapes"`
}

type bcOperation struct {
	HTTP struct {
		Method     string `json:"method"`
		RequestURI string `json:"requestUri"`
	} `json:"http"`
	Input  *bcRef `json:"input"`
	Output *bcRef `json:"output"`
}

// bcRef is a reference to a shape, with the traits of a member reference.
type bcRef struct {
	Shape        string `json:"shape"`
	LocationName string `json:"locationName"`
	Location     string `json:"location"`
	QueryName    string `json:"queryName"`
	Flattened    bool   `json:"flattened"`
}

type bcShape struct {
	Type         string           `json:"type"`
	Members      map[string]bcRef `json:"members"`
	Member       *bcRef           `json:"member"`
	Key          *bcRef           `json:"key"`
	Value        *bcRef           `json:"value"`
	Flattened    bool             `json:"flattened"`
	LocationName string           `json:"locationName"`
	Payload      string           `json:"payload"`
}

// loadBotocoreModel reads the newest API version of a botocore service
// model, the one boto3 uses.
func loadBotocoreModel(t *testing.T, name string) *bcModel {
	t.Helper()
	dir := filepath.Join(botocoreDataDir(t), name)
	versions, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("botocore has no model for %s: %v", name, err)
	}
	var names []string
	for _, v := range versions {
		if v.IsDir() {
			names = append(names, v.Name())
		}
	}
	if len(names) == 0 {
		t.Fatalf("botocore has no model version for %s in %s", name, dir)
	}
	sort.Strings(names)
	base := filepath.Join(dir, names[len(names)-1], "service-2.json")
	var r io.Reader
	if f, err := os.Open(base); err == nil {
		defer f.Close()
		r = f
	} else {
		f, err := os.Open(base + ".gz")
		if err != nil {
			t.Fatalf("botocore model for %s: %v", name, err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("botocore model for %s: %v", name, err)
		}
		r = zr
	}
	var m bcModel
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		t.Fatalf("botocore model for %s: %v", name, err)
	}
	return &m
}

// protocols returns the wire protocols a botocore model lists.
func (m *bcModel) protocols() ([]Protocol, error) {
	list := m.Metadata.Protocols
	if len(list) == 0 {
		list = []string{m.Metadata.Protocol}
	}
	var out []Protocol
	for _, p := range list {
		if p == "json" {
			switch m.Metadata.JSONVersion {
			case "1.0":
				out = append(out, AWSJSON10)
			case "1.1":
				out = append(out, AWSJSON11)
			default:
				return nil, fmt.Errorf("json protocol with jsonVersion %q", m.Metadata.JSONVersion)
			}
			continue
		}
		wp, ok := botocoreProtocols[p]
		if !ok {
			return nil, fmt.Errorf("protocol %q, which the wire layer does not know", p)
		}
		out = append(out, wp)
	}
	return out, nil
}

// differences collects what the test finds, to be held against
// knownDifferences at the end.
type differences struct {
	mu    sync.Mutex
	found []string
	// sdkOnly lists members the Go SDK has and botocore does not.
	sdkOnly map[string]bool
}

func (d *differences) newer(what string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sdkOnly == nil {
		d.sdkOnly = map[string]bool{}
	}
	d.sdkOnly[what] = true
}

func (d *differences) add(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.found = append(d.found, fmt.Sprintf(format, args...))
}

// TestTheLocalCloudAgreesWithBotocoresServiceModels compares, for every
// service the local cloud serves, its description and wire names with
// botocore's model: the protocols listed (and that each is answered), the
// identification (signing name or endpoint prefix, target prefix, JSON
// version, API version, namespace, query compatibility), the operation
// names, and the wire names of every member of every served operation's
// input and output, recursively, in each protocol served.
func TestTheLocalCloudAgreesWithBotocoresServiceModels(t *testing.T) {
	botocoreDataDir(t)
	var diffs differences

	t.Run("every simulated service has a botocore model to compare with", func(t *testing.T) {
		names := map[string]bool{}
		for name := range known {
			names[name] = true
		}
		for _, m := range servedmodels.Models {
			names[m.Name] = true
		}
		for name := range names {
			if _, ok := botocoreServices[name]; !ok {
				t.Errorf("botocoreServices has no entry for %s: add its botocore model directory", name)
			}
		}
		for name := range botocoreServices {
			if !names[name] {
				t.Errorf("botocoreServices lists %s, which the local cloud does not simulate", name)
			}
		}
	})

	cloud := newTestCloud(t, Options{})
	for _, name := range sortedKeys(botocoreServices) {
		svc, ok := known[name]
		if !ok {
			continue
		}
		model := loadBotocoreModel(t, botocoreServices[name])
		module := modules[name]
		ops := generatedOperations[module]
		t.Run(name+" is identified as botocore's model says", func(t *testing.T) {
			checkMetadata(t, &diffs, svc, model)
		})
		t.Run(name+" answers every protocol botocore lists", func(t *testing.T) {
			protos, err := model.protocols()
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range protos {
				probeProtocol(t, cloud, svc, model, p, ops)
			}
		})
		t.Run(name+" serves only operations botocore knows, with its member names", func(t *testing.T) {
			for _, op := range ops {
				bop, ok := model.Operations[op]
				if !ok {
					diffs.add("%s: operation %s is served but botocore's model has no such operation", name, op)
					continue
				}
				if svc.serves(RestJSON1) {
					r := generatedRoutes[module][op]
					if r.Method != bop.HTTP.Method || r.URI != bop.HTTP.RequestURI {
						diffs.add("%s: %s route: botocore %s %s, local cloud %s %s", name, op, bop.HTTP.Method, bop.HTTP.RequestURI, r.Method, r.URI)
					}
				}
				cm, ok := clientMethod(module, op)
				if !ok {
					t.Errorf("no SDK client method for %s.%s", name, op)
					continue
				}
				for _, fam := range nameFamilies(svc) {
					w := memberWalker{diffs: &diffs, model: model, family: fam, svc: name, seen: map[string]bool{}}
					if bop.Input != nil {
						w.structure(op+"Input", bop.Input.Shape, cm.Type.In(2).Elem(), request, true, bop)
					}
					if bop.Output != nil {
						w.structure(op+"Output", bop.Output.Shape, cm.Type.Out(0).Elem(), response, true, bop)
					}
				}
			}
		})
	}

	if len(diffs.sdkOnly) > 0 {
		t.Logf("%d members are in the Go SDK but not yet in the installed botocore (newer members; not a difference in naming): %s",
			len(diffs.sdkOnly), strings.Join(sortedKeys(diffs.sdkOnly), ", "))
	}
	t.Run("every difference from botocore is fixed or recorded with its reason", func(t *testing.T) {
		found := map[string]bool{}
		for _, d := range diffs.found {
			found[d] = true
			if _, ok := knownDifferences[d]; !ok {
				t.Errorf("%s", d)
			}
		}
		for d, why := range knownDifferences {
			if strings.TrimSpace(why) == "" {
				t.Errorf("knownDifferences entry without a reason: %s", d)
			}
			if !found[d] {
				t.Errorf("knownDifferences entry matches no difference any more; remove it: %s", d)
			}
		}
	})
}

// checkMetadata compares a service description with the model's metadata.
func checkMetadata(t *testing.T, diffs *differences, svc Service, m *bcModel) {
	md := m.Metadata
	signing := md.SigningName
	if signing == "" {
		signing = md.EndpointPrefix
	}
	if svc.Name != signing {
		diffs.add("%s: signing name: botocore %q (signingName %q, endpointPrefix %q), local cloud %q", svc.Name, signing, md.SigningName, md.EndpointPrefix, svc.Name)
	}
	protos, err := m.protocols()
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Clone(svc.Protocols())
	slices.Sort(got)
	want := slices.Clone(protos)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		diffs.add("%s: protocols: botocore %v (%v, jsonVersion %q), local cloud %v", svc.Name, want, md.Protocols, md.JSONVersion, got)
	}
	if svc.jsonProtocol() != "" || slices.Contains(protos, AWSJSON10) || slices.Contains(protos, AWSJSON11) {
		if svc.TargetPrefix != md.TargetPrefix {
			diffs.add("%s: targetPrefix: botocore %q, local cloud %q", svc.Name, md.TargetPrefix, svc.TargetPrefix)
		}
		if v := strings.TrimPrefix(strings.ReplaceAll(string(svc.jsonProtocol()), "_", "."), "awsJson"); v != md.JSONVersion {
			diffs.add("%s: jsonVersion: botocore %q, local cloud %q", svc.Name, md.JSONVersion, v)
		}
	}
	if svc.serves(RPCv2CBOR) || slices.Contains(protos, RPCv2CBOR) {
		// botocore addresses rpcv2Cbor at /service/<targetPrefix>/operation/<Op>.
		if svc.ShapeName != md.TargetPrefix {
			diffs.add("%s: rpcv2Cbor service shape: botocore targetPrefix %q, local cloud ShapeName %q", svc.Name, md.TargetPrefix, svc.ShapeName)
		}
	}
	if svc.serves(AWSQuery, EC2Query) || slices.Contains(protos, AWSQuery) || slices.Contains(protos, EC2Query) {
		if svc.Version != md.APIVersion {
			diffs.add("%s: apiVersion: botocore %q, local cloud %q", svc.Name, md.APIVersion, svc.Version)
		}
		if svc.XMLNamespace != md.XMLNamespace {
			diffs.add("%s: xmlNamespace: botocore %q, local cloud %q", svc.Name, md.XMLNamespace, svc.XMLNamespace)
		}
	}
	if qc := md.AWSQueryCompatible != nil; qc != svc.QueryCompatible {
		diffs.add("%s: awsQueryCompatible: botocore %v, local cloud %v", svc.Name, qc, svc.QueryCompatible)
	}
}

var uriLabel = regexp.MustCompile(`\{[^}]+\}`)

// probeProtocol sends one request of protocol p, addressed the way
// botocore addresses it from the model's metadata, and checks that the
// server routed it to the service's operation (the server counts a call
// once identified, before validation, so an empty input suffices).
func probeProtocol(t *testing.T, cloud *testCloud, svc Service, m *bcModel, p Protocol, ops []string) {
	t.Helper()
	if len(ops) == 0 {
		t.Fatalf("%s serves no operation", svc.Name)
	}
	op := ops[0]
	signing := m.Metadata.SigningName
	if signing == "" {
		signing = m.Metadata.EndpointPrefix
	}
	method, path := http.MethodPost, "/"
	var body []byte
	hdr := http.Header{}
	hdr.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDPROBE/20260105/eu-west-1/"+signing+"/aws4_request, SignedHeaders=host, Signature=0")
	switch p {
	case AWSQuery, EC2Query:
		hdr.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		body = []byte("Action=" + op + "&Version=" + m.Metadata.APIVersion)
	case AWSJSON10, AWSJSON11:
		hdr.Set("Content-Type", "application/x-amz-json-"+m.Metadata.JSONVersion)
		hdr.Set("X-Amz-Target", m.Metadata.TargetPrefix+"."+op)
		body = []byte("{}")
	case RPCv2CBOR:
		hdr.Set("Content-Type", "application/cbor")
		hdr.Set("Accept", "application/cbor")
		hdr.Set("Smithy-Protocol", "rpc-v2-cbor")
		path = "/service/" + m.Metadata.TargetPrefix + "/operation/" + op
		body = []byte{0xa0} // an empty map
	case RestJSON1:
		h := m.Operations[op].HTTP
		method = h.Method
		path = uriLabel.ReplaceAllString(h.RequestURI, "probe")
	default:
		t.Fatalf("no probe for protocol %s", p)
	}
	req, err := http.NewRequest(method, cloud.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = hdr
	before := cloud.srv.Requests()[svc.Name+"."+op]
	resp, err := HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if after := cloud.srv.Requests()[svc.Name+"."+op]; after != before+1 {
		t.Errorf("a %s request for %s.%s, addressed as botocore does, did not reach the operation: %s %s",
			p, svc.Name, op, resp.Status, answer)
	}
}

// clientMethod returns the SDK client method of an operation.
func clientMethod(module, op string) (reflect.Method, bool) {
	for _, m := range servedmodels.Models {
		if m.Module() == module {
			return m.Client.MethodByName(op)
		}
	}
	return reflect.Method{}, false
}

// A nameFamily is a set of protocols that name members alike: awsJson and
// rpcv2Cbor use the member name (or locationName), awsQuery and ec2Query
// add list member and map entry names, restJson1 binds some members to the
// URI, query string, headers or status.
type nameFamily string

const (
	familyJSON  nameFamily = "json/cbor"
	familyQuery nameFamily = "query"
	familyEC2   nameFamily = "ec2"
	familyREST  nameFamily = "rest-json"
)

// nameFamilies lists the naming rules of every protocol a service answers;
// one table serves them all (CloudWatch's names serve CBOR, JSON and
// query), so the table must agree with botocore under each.
func nameFamilies(svc Service) []nameFamily {
	var out []nameFamily
	add := func(f nameFamily) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	for _, p := range svc.Protocols() {
		switch p {
		case AWSJSON10, AWSJSON11, RPCv2CBOR:
			add(familyJSON)
		case AWSQuery:
			add(familyQuery)
		case EC2Query:
			add(familyEC2)
		case RestJSON1:
			add(familyREST)
		}
	}
	return out
}

// memberWalker walks a botocore shape and the Go type the SDK uses for it
// side by side, comparing botocore's wire names with the tables'.
type memberWalker struct {
	diffs  *differences
	model  *bcModel
	family nameFamily
	svc    string
	seen   map[string]bool
}

// traits merges a member reference's traits over its target shape's, as
// botocore does.
func (w *memberWalker) traits(ref bcRef) (bcShape, bcRef) {
	sh := w.model.Shapes[ref.Shape]
	eff := ref
	if eff.LocationName == "" {
		eff.LocationName = sh.LocationName
	}
	if !eff.Flattened {
		eff.Flattened = sh.Flattened
	}
	return sh, eff
}

func (w *memberWalker) report(path string, dir direction, format string, args ...any) {
	d := "input"
	if dir == response {
		d = "output"
	}
	w.diffs.add("%s %s %s %s: %s", w.svc, w.family, d, path, fmt.Sprintf(format, args...))
}

// goField finds the Go field botocore's member becomes: the SDK names
// fields after members, first letter upper case.
func goField(t reflect.Type, member string) (reflect.StructField, bool) {
	if f, ok := t.FieldByName(member); ok {
		return f, true
	}
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); strings.EqualFold(f.Name, member) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// structure compares one structure shape; top marks an operation's input
// or output, where restJson1 bindings apply.
func (w *memberWalker) structure(path, shapeName string, gt reflect.Type, dir direction, top bool, op bcOperation) {
	for gt.Kind() == reflect.Pointer {
		gt = gt.Elem()
	}
	key := fmt.Sprintf("%s|%s|%d", shapeName, gt, dir)
	if w.seen[key] {
		return
	}
	w.seen[key] = true
	sh := w.model.Shapes[shapeName]
	if gt.Kind() != reflect.Struct {
		w.report(path, dir, "botocore shape %s is a structure, the SDK's type %s is not", shapeName, gt)
		return
	}
	names := generatedNames[gt.PkgPath()+"."+gt.Name()]
	matched := map[string]bool{}
	for _, member := range sortedKeys(sh.Members) {
		ref := sh.Members[member]
		target, eff := w.traits(ref)
		mpath := path + "." + member
		f, ok := goField(gt, member)
		if !ok {
			w.report(mpath, dir, "botocore member %s has no field in the SDK's %s", member, gt.Name())
			continue
		}
		matched[f.Name] = true
		fn, ok := names[f.Name]
		wire := fn.In
		coll, flat := fn.InColl, fn.InFlat
		if dir == response {
			wire, coll, flat = fn.Out, fn.OutColl, fn.OutFlat
		}
		if !ok || wire == "" {
			w.report(mpath, dir, "botocore member %s does not travel: the tables have no %s name for %s.%s", member, dirWord(dir), gt.Name(), f.Name)
			continue
		}
		w.compareName(mpath, dir, member, eff, target, fn, wire, top, sh, op)
		w.collection(mpath, dir, eff, target, coll, flat)
		w.descend(mpath, ref.Shape, f.Type, dir, op)
	}
	for _, fname := range sortedKeys(names) {
		fn := names[fname]
		wire := fn.In
		if dir == response {
			wire = fn.Out
		}
		if wire == "" || matched[fname] {
			continue
		}
		if fname == "ResultMetadata" {
			continue
		}
		if other := w.memberNamed(sh, wire); other != "" {
			// The same wire name under another member: the SDK's field
			// and botocore's member are paired wrongly or named apart.
			w.report(path+"."+fname, dir, "the tables send %s.%s as %q, which is botocore's member %s", gt.Name(), fname, wire, other)
			continue
		}
		// A member the Go SDK has and botocore lacks is newer than the
		// installed botocore (the two are released on their own
		// schedules); boto3 does not send it and ignores it in answers.
		w.diffs.newer(fmt.Sprintf("%s %s.%s (%q)", w.svc, gt.Name(), fname, wire))
	}
}

// memberNamed returns the botocore member of sh whose locationName or
// name is wire, if any.
func (w *memberWalker) memberNamed(sh bcShape, wire string) string {
	for _, member := range sortedKeys(sh.Members) {
		_, eff := w.traits(sh.Members[member])
		if strings.EqualFold(member, wire) || strings.EqualFold(eff.LocationName, wire) || strings.EqualFold(eff.QueryName, wire) {
			return member
		}
	}
	return ""
}

func dirWord(dir direction) string {
	if dir == response {
		return "response"
	}
	return "request"
}

// compareName checks the name a member travels under.
func (w *memberWalker) compareName(path string, dir direction, member string, eff bcRef, target bcShape, fn fieldNames, wire string, top bool, parent bcShape, op bcOperation) {
	want := member
	if eff.LocationName != "" {
		want = eff.LocationName
	}
	switch w.family {
	case familyQuery:
		if target.Type == "list" && eff.Flattened && target.Member != nil {
			if _, mref := w.traits(*target.Member); mref.LocationName != "" {
				want = mref.LocationName
			}
		}
	case familyEC2:
		if dir == request {
			switch {
			case eff.QueryName != "":
				want = eff.QueryName
			case eff.LocationName != "":
				want = strings.ToUpper(eff.LocationName[:1]) + eff.LocationName[1:]
			default:
				want = member
			}
		}
	case familyREST:
		if top {
			bind, bindName := bindBody, ""
			switch eff.Location {
			case "uri":
				bind, bindName = bindLabel, eff.LocationName
			case "querystring":
				bind, bindName = bindQuery, eff.LocationName
			case "header":
				bind, bindName = bindHeader, eff.LocationName
			case "statusCode":
				bind = bindStatus
			case "":
				if parent.Payload == member {
					bind = bindPayload
				}
			default:
				w.report(path, dir, "botocore binds %s to %q, which the wire layer does not carry", member, eff.Location)
				return
			}
			if fn.Bind != bind || (bindName != "" && !strings.EqualFold(fn.BindName, bindName)) {
				w.report(path, dir, "binding: botocore %s %q, local cloud %s %q", bindWord(bind), bindName, bindWord(fn.Bind), fn.BindName)
			}
			if bind != bindBody {
				return
			}
		}
	}
	if wire != want {
		w.report(path, dir, "name: botocore %q, local cloud %q", want, wire)
	}
}

func bindWord(b binding) string {
	return [...]string{"body", "label", "query", "header", "payload", "status"}[b]
}

// collection checks the list member and map entry names of the query
// protocols, and whether a list is flattened.
func (w *memberWalker) collection(path string, dir direction, eff bcRef, target bcShape, coll *collNames, flat bool) {
	if w.family != familyQuery && w.family != familyEC2 {
		return
	}
	switch target.Type {
	case "list":
		_, mref := w.traits(*target.Member)
		if w.family == familyEC2 && dir == request {
			// ec2Query always flattens input lists (Name.N).
			if !flat {
				w.report(path, dir, "ec2Query sends lists flattened, the tables do not")
			}
			return
		}
		if flat != eff.Flattened {
			w.report(path, dir, "flattened: botocore %v, local cloud %v", eff.Flattened, flat)
		}
		if eff.Flattened {
			return
		}
		want := "member"
		if mref.LocationName != "" {
			want = mref.LocationName
		}
		got := "member"
		if coll != nil && coll.Member != "" {
			got = coll.Member
		}
		if got != want {
			w.report(path, dir, "list member name: botocore %q, local cloud %q", want, got)
		}
	case "map":
		_, kref := w.traits(*target.Key)
		_, vref := w.traits(*target.Value)
		wantK, wantV := "key", "value"
		if kref.LocationName != "" {
			wantK = kref.LocationName
		}
		if vref.LocationName != "" {
			wantV = vref.LocationName
		}
		gotK, gotV := "key", "value"
		if coll != nil {
			if coll.Key != "" {
				gotK = coll.Key
			}
			if coll.Value != "" {
				gotV = coll.Value
			}
		}
		if gotK != wantK || gotV != wantV {
			w.report(path, dir, "map entry names: botocore %q/%q, local cloud %q/%q", wantK, wantV, gotK, gotV)
		}
	}
}

// descend follows a member into the structures it holds, through lists
// and map values. Unions (Go interfaces) and documents do not travel
// (their members are not in the tables) and are not followed.
func (w *memberWalker) descend(path, shapeName string, gt reflect.Type, dir direction, op bcOperation) {
	sh := w.model.Shapes[shapeName]
	for gt.Kind() == reflect.Pointer {
		gt = gt.Elem()
	}
	switch sh.Type {
	case "structure":
		if gt.Kind() == reflect.Interface || gt == timeType {
			return
		}
		w.structure(path, shapeName, gt, dir, false, op)
	case "list":
		if gt.Kind() != reflect.Slice {
			w.report(path, dir, "botocore shape %s is a list, the SDK's type %s is not", shapeName, gt)
			return
		}
		w.descend(path+"[]", sh.Member.Shape, gt.Elem(), dir, op)
	case "map":
		if gt.Kind() != reflect.Map {
			w.report(path, dir, "botocore shape %s is a map, the SDK's type %s is not", shapeName, gt)
			return
		}
		w.descend(path+"{}", sh.Value.Shape, gt.Elem(), dir, op)
	}
}

// TestTheBotocoreComparisonCatchesNamesThatDiffer runs the member walker
// on a doctored model of CloudWatch's DeleteAlarms, so that the test above
// is known to see a renamed member, a renamed list member and a member
// the local cloud would drop.
func TestTheBotocoreComparisonCatchesNamesThatDiffer(t *testing.T) {
	model := &bcModel{Shapes: map[string]bcShape{
		"DeleteAlarmsInput": {Type: "structure", Members: map[string]bcRef{
			"AlarmNames": {Shape: "AlarmNames", LocationName: "AlarmName"},
			"Force":      {Shape: "Boolean"},
		}},
		"AlarmNames": {Type: "list", Member: &bcRef{Shape: "String", LocationName: "item"}},
		"String":     {Type: "string"},
		"Boolean":    {Type: "boolean"},
	}}
	cm, ok := clientMethod(modules["monitoring"], "DeleteAlarms")
	if !ok {
		t.Fatal("no DeleteAlarms client method")
	}
	var diffs differences
	w := memberWalker{diffs: &diffs, model: model, family: familyQuery, svc: "monitoring", seen: map[string]bool{}}
	w.structure("DeleteAlarmsInput", "DeleteAlarmsInput", cm.Type.In(2).Elem(), request, true, bcOperation{})
	want := []string{
		`monitoring query input DeleteAlarmsInput.AlarmNames: name: botocore "AlarmName", local cloud "AlarmNames"`,
		`monitoring query input DeleteAlarmsInput.AlarmNames: list member name: botocore "item", local cloud "member"`,
		`monitoring query input DeleteAlarmsInput.Force: botocore member Force has no field in the SDK's DeleteAlarmsInput`,
	}
	if !slices.Equal(diffs.found, want) {
		t.Errorf("the walker found\n%s\nwant\n%s", strings.Join(diffs.found, "\n"), strings.Join(want, "\n"))
	}
}
