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
}

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
	byIn   map[string]int // request name -> position in fields
	hasOut bool
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
		if n.In != "" {
			si.byIn[n.In] = len(si.fields)
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
