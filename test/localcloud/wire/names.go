package wire

import (
	"reflect"
	"sync"
	"time"
)

// fieldNames holds the wire names of one Go field of an SDK type: In is the
// name clients send it under, Out the name they read it from; an empty name
// means the field does not travel in that direction.
type fieldNames struct {
	In, Out         string
	InFlat, OutFlat bool
	InColl, OutColl *collNames
	// Bind says where a restJson1 member of an operation's input or output
	// travels when not in the JSON body; BindName is the URI label, query
	// parameter or header it travels in.
	Bind     binding
	BindName string
}

// binding is the HTTP location of a restJson1 member, from its Smithy HTTP
// binding trait.
type binding int

// The HTTP binding locations the wire layer carries.
const (
	// bindBody: a member of the JSON body (no binding trait).
	bindBody binding = iota
	// bindLabel: @httpLabel, a {Label} or greedy {Label+} of the URI path.
	bindLabel
	// bindQuery: @httpQuery, a query-string parameter.
	bindQuery
	// bindHeader: @httpHeader, a header.
	bindHeader
	// bindPayload: @httpPayload, the whole body (raw bytes for a blob).
	bindPayload
	// bindStatus: @httpResponseCode, the response's status code.
	bindStatus
)

// collNames holds the wire names of a list (Member) or map (Key, Value), and
// of the collection nested in it, if any.
type collNames struct {
	Member, Key, Value string
	Flat               bool
	Elem               *collNames
}

// fieldInfo is one Go field that travels on the wire.
type fieldInfo struct {
	index  int
	goName string
	fieldNames
}

// structInfo lists a struct's wire fields and indexes them by wire name.
type structInfo struct {
	fields []fieldInfo
	byIn   map[string]int // request name of a body member -> position in fields
	hasOut bool
	// bound is set when some member travels outside the body (restJson1).
	bound bool
}

var (
	infoCache sync.Map // reflect.Type -> *structInfo
	timeType  = reflect.TypeFor[time.Time]()
)

// infoFor returns the wire description of struct type t. Types absent from
// the generated tables have no wire fields.
func infoFor(t reflect.Type) *structInfo {
	if v, ok := infoCache.Load(t); ok {
		return v.(*structInfo)
	}
	names := generatedNames[t.PkgPath()+"."+t.Name()]
	si := &structInfo{byIn: make(map[string]int, len(names))}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		n, ok := names[f.Name]
		if !ok || !f.IsExported() {
			continue
		}
		if n.In != "" && n.Bind == bindBody {
			si.byIn[n.In] = len(si.fields)
		}
		if n.Bind != bindBody {
			si.bound = true
		}
		if n.Out != "" {
			si.hasOut = true
		}
		si.fields = append(si.fields, fieldInfo{index: i, goName: f.Name, fieldNames: n})
	}
	v, _ := infoCache.LoadOrStore(t, si)
	return v.(*structInfo)
}

// knownType reports whether the generated tables describe t.
func knownType(t reflect.Type) bool {
	_, ok := generatedNames[t.PkgPath()+"."+t.Name()]
	return ok
}
