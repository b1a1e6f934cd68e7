package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"reflect"
	"sort"
	"strconv"
	"time"

	smithytime "github.com/aws/smithy-go/time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// xmlEncoder writes SDK output structs as the XML bodies of the awsQuery and
// ec2Query protocols, using the element names the SDK's deserializers read.
type xmlEncoder struct {
	buf *bytes.Buffer
	// member is the default list item name: "member" for awsQuery, "item"
	// for EC2.
	member string
}

func (e *xmlEncoder) open(name string) {
	e.buf.WriteByte('<')
	e.buf.WriteString(name)
	e.buf.WriteByte('>')
}
func (e *xmlEncoder) close(name string) {
	e.buf.WriteString("</")
	e.buf.WriteString(name)
	e.buf.WriteByte('>')
}

func (e *xmlEncoder) text(s string) {
	// xml.EscapeText only fails when the writer does; bytes.Buffer does not.
	_ = xml.EscapeText(e.buf, []byte(s))
}

// fields writes the wire fields of struct v as child elements.
func (e *xmlEncoder) fields(v reflect.Value) {
	si := infoFor(v.Type())
	for i := range si.fields {
		f := &si.fields[i]
		if f.Out == "" {
			continue
		}
		e.value(f.Out, f.OutFlat, f.OutColl, v.Field(f.index))
	}
}

// value writes v as element name; absent values (nil pointers, slices and
// maps, empty enums) write nothing.
func (e *xmlEncoder) value(name string, flat bool, c *collNames, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		e.value(name, flat, c, v.Elem())
		return
	case reflect.Interface:
		return
	case reflect.Struct:
		e.open(name)
		if v.Type() == timeType {
			e.buf.WriteString(smithytime.FormatDateTime(v.Interface().(time.Time)))
		} else {
			e.fields(v)
		}
		e.close(name)
		return
	case reflect.Slice:
		if v.IsNil() {
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			e.open(name)
			e.buf.WriteString(base64.StdEncoding.EncodeToString(v.Bytes()))
			e.close(name)
			return
		}
		var elem *collNames
		member := e.member
		if c != nil {
			elem = c.Elem
			if c.Member != "" {
				member = c.Member
			}
		}
		if flat {
			for i := 0; i < v.Len(); i++ {
				e.value(name, false, elem, v.Index(i))
			}
			return
		}
		e.open(name)
		for i := 0; i < v.Len(); i++ {
			e.value(member, false, elem, v.Index(i))
		}
		e.close(name)
		return
	case reflect.Map:
		if v.IsNil() {
			return
		}
		e.mapValue(name, flat, c, v)
		return
	case reflect.String:
		if v.Len() == 0 && v.Type().Name() != "string" {
			return // an unset enum
		}
	}
	e.open(name)
	e.scalar(v)
	e.close(name)
}

func (e *xmlEncoder) mapValue(name string, flat bool, c *collNames, v reflect.Value) {
	entry, kn, vn := "entry", "key", "value"
	var elem *collNames
	if c != nil {
		if c.Member != "" {
			entry = c.Member
		}
		if c.Key != "" {
			kn = c.Key
		}
		if c.Value != "" {
			vn = c.Value
		}
		elem = c.Elem
	}
	keys := v.MapKeys()
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	if !flat {
		e.open(name)
	}
	for _, k := range keys {
		if flat {
			e.open(name)
		} else {
			e.open(entry)
		}
		e.open(kn)
		e.text(k.String())
		e.close(kn)
		e.value(vn, false, elem, v.MapIndex(k))
		if flat {
			e.close(name)
		} else {
			e.close(entry)
		}
	}
	if !flat {
		e.close(name)
	}
}

func (e *xmlEncoder) scalar(v reflect.Value) {
	var tmp [32]byte
	switch v.Kind() {
	case reflect.String:
		e.text(v.String())
	case reflect.Bool:
		e.buf.Write(strconv.AppendBool(tmp[:0], v.Bool()))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		e.buf.Write(strconv.AppendInt(tmp[:0], v.Int(), 10))
	case reflect.Float32, reflect.Float64:
		e.buf.Write(strconv.AppendFloat(tmp[:0], v.Float(), 'f', -1, v.Type().Bits()))
	}
}

// faultType names who is at fault in awsQuery's error Type and in
// X-Amzn-Query-Error: Sender (the caller) or Receiver (the service).
func faultType(e *api.Error) string {
	if e.Server {
		return "Receiver"
	}
	return "Sender"
}

// writeXMLMembers writes an error's extra members inside awsQuery's Error
// element, in name order: a list as member items, as the query
// deserializers of non-flattened lists read them, a map as child elements
// by key, and a scalar as text.
func writeXMLMembers(buf *bytes.Buffer, members map[string]any) {
	e := xmlEncoder{buf: buf, member: "member"}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e.open(k)
		e.anyValue(members[k])
		e.close(k)
	}
}

// anyValue writes the content of a member value built from strings,
// numbers, booleans, []any and map[string]any.
func (e *xmlEncoder) anyValue(v any) {
	switch v := v.(type) {
	case []any:
		for _, item := range v {
			e.open(e.member)
			e.anyValue(item)
			e.close(e.member)
		}
	case map[string]any:
		writeXMLMembers(e.buf, v)
	case nil:
	default:
		e.scalar(reflect.ValueOf(v))
	}
}
