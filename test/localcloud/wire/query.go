package wire

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	smithytime "github.com/aws/smithy-go/time"
)

// formDecoder fills an SDK input struct from the flattened keys of the
// awsQuery and ec2Query protocols ("Filter.1.Value.2", "Tags.member.1.Key").
type formDecoder struct {
	vals url.Values
	// prefixes holds every key and every dotted prefix of a key, so that the
	// decoder can ask in constant time whether anything lies under a name.
	prefixes map[string]struct{}
}

// decodeError is a request member the service cannot read.
type decodeError struct {
	path, value, want string
}

func (e *decodeError) Error() string {
	return fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must be %s", e.value, e.path, e.want)
}

func newFormDecoder(vals url.Values) *formDecoder {
	d := &formDecoder{vals: vals, prefixes: make(map[string]struct{}, len(vals)*2)}
	for k := range vals {
		d.prefixes[k] = struct{}{}
		for i := 0; i < len(k); i++ {
			if k[i] == '.' {
				d.prefixes[k[:i]] = struct{}{}
			}
		}
	}
	return d
}

func (d *formDecoder) has(key string) bool {
	_, ok := d.prefixes[key]
	return ok
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// decodeStruct fills the struct v from the keys under prefix.
func (d *formDecoder) decodeStruct(prefix string, v reflect.Value) error {
	si := infoFor(v.Type())
	for i := range si.fields {
		f := &si.fields[i]
		if f.In == "" {
			continue
		}
		key := join(prefix, f.In)
		if !d.has(key) {
			continue
		}
		if err := d.decodeValue(key, f.InFlat, f.InColl, v.Field(f.index)); err != nil {
			return err
		}
	}
	return nil
}

func (d *formDecoder) decodeValue(key string, flat bool, c *collNames, v reflect.Value) error {
	t := v.Type()
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := d.decodeValue(key, flat, c, p.Elem()); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Struct:
		if t == timeType {
			s := d.vals.Get(key)
			tm, err := smithytime.ParseDateTime(s)
			if err != nil {
				return &decodeError{key, s, "a timestamp in ISO 8601 format"}
			}
			v.Set(reflect.ValueOf(tm))
			return nil
		}
		return d.decodeStruct(key, v)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			s := d.vals.Get(key)
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return &decodeError{key, s, "base64-encoded binary data"}
			}
			v.SetBytes(b)
			return nil
		}
		return d.decodeList(key, flat, c, v)
	case reflect.Map:
		return d.decodeMap(key, flat, c, v)
	case reflect.Interface:
		// Unions and documents have no query encoding in the services served.
		return nil
	}
	return setScalar(v, key, d.vals.Get(key))
}

func (d *formDecoder) decodeList(key string, flat bool, c *collNames, v reflect.Value) error {
	base := key
	if !flat {
		member := "member"
		if c != nil && c.Member != "" {
			member = c.Member
		}
		base = key + "." + member
	}
	var elem *collNames
	if c != nil {
		elem = c.Elem
	}
	list := reflect.MakeSlice(v.Type(), 0, 0)
	for i := 1; ; i++ {
		ek := base + "." + strconv.Itoa(i)
		if !d.has(ek) {
			break
		}
		e := reflect.New(v.Type().Elem()).Elem()
		if err := d.decodeValue(ek, false, elem, e); err != nil {
			return err
		}
		list = reflect.Append(list, e)
	}
	// An empty list travels as "Name=" so that it can be told from an
	// absent one.
	v.Set(list)
	return nil
}

func (d *formDecoder) decodeMap(key string, flat bool, c *collNames, v reflect.Value) error {
	base := key
	if !flat {
		base = key + ".entry"
	}
	kn, vn := "key", "value"
	var elem *collNames
	if c != nil {
		if c.Key != "" {
			kn = c.Key
		}
		if c.Value != "" {
			vn = c.Value
		}
		elem = c.Elem
	}
	m := reflect.MakeMap(v.Type())
	for i := 1; ; i++ {
		ek := base + "." + strconv.Itoa(i)
		if !d.has(ek) {
			break
		}
		k := reflect.New(v.Type().Key()).Elem()
		if err := setScalar(k, ek+"."+kn, d.vals.Get(ek+"."+kn)); err != nil {
			return err
		}
		e := reflect.New(v.Type().Elem()).Elem()
		if vk := ek + "." + vn; d.has(vk) {
			if err := d.decodeValue(vk, false, elem, e); err != nil {
				return err
			}
		}
		m.SetMapIndex(k, e)
	}
	v.Set(m)
	return nil
}

// setScalar parses s into the string, boolean or number v.
func setScalar(v reflect.Value, key, s string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		switch strings.ToLower(s) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return &decodeError{key, s, "a boolean (true or false)"}
		}
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return &decodeError{key, s, "an integer"}
		}
		v.SetInt(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return &decodeError{key, s, "a number"}
		}
		v.SetFloat(f)
	default:
		return fmt.Errorf("wire: no query encoding for %s at %s", v.Type(), key)
	}
	return nil
}
