package wire

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	smithytime "github.com/aws/smithy-go/time"
	"github.com/fxamacker/cbor/v2"
)

// The JSON and CBOR protocols share one generic form: a value tree of
// map[string]any, []any, strings, numbers, booleans, times and blobs. Only
// how times and blobs appear differs: JSON writes epoch seconds and base64,
// CBOR writes tag 1 and byte strings.
type treeMode int

const (
	jsonMode treeMode = iota
	cborMode
)

// toTree converts an SDK output value to the generic tree, keyed by the wire
// names clients read; ok is false for absent values.
func toTree(v reflect.Value, mode treeMode) (any, bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil, false
		}
		return toTree(v.Elem(), mode)
	case reflect.Interface:
		return nil, false
	case reflect.Struct:
		if v.Type() == timeType {
			secs := smithytime.FormatEpochSeconds(v.Interface().(time.Time))
			if mode == cborMode {
				return cbor.Tag{Number: 1, Content: secs}, true
			}
			return json.Number(strconv.FormatFloat(secs, 'f', -1, 64)), true
		}
		si := infoFor(v.Type())
		m := make(map[string]any, len(si.fields))
		for i := range si.fields {
			f := &si.fields[i]
			if f.Out == "" || f.Bind != bindBody {
				continue
			}
			if x, ok := toTree(v.Field(f.index), mode); ok {
				m[f.Out] = x
			}
		}
		return m, true
	case reflect.Slice:
		if v.IsNil() {
			return nil, false
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if mode == cborMode {
				return v.Bytes(), true
			}
			return base64.StdEncoding.EncodeToString(v.Bytes()), true
		}
		l := make([]any, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			x, _ := toTree(v.Index(i), mode)
			l = append(l, x)
		}
		return l, true
	case reflect.Map:
		if v.IsNil() {
			return nil, false
		}
		m := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			x, _ := toTree(it.Value(), mode)
			m[it.Key().String()] = x
		}
		return m, true
	case reflect.String:
		if v.Len() == 0 && v.Type().Name() != "string" {
			return nil, false // an unset enum
		}
		return v.String(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		return v.Int(), true
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return "NaN", true
		case math.IsInf(f, 1):
			return "Infinity", true
		case math.IsInf(f, -1):
			return "-Infinity", true
		}
		if mode == jsonMode {
			return json.Number(strconv.FormatFloat(f, 'g', -1, v.Type().Bits())), true
		}
		return f, true
	}
	return nil, false
}

// fromTree fills v from a decoded request tree, naming members by the wire
// names clients send. Unknown members are ignored, as AWS does.
func fromTree(path string, src any, v reflect.Value) error {
	if src == nil {
		return nil
	}
	t := v.Type()
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := fromTree(path, src, p.Elem()); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Interface:
		return nil
	case reflect.Struct:
		if t == timeType {
			tm, ok := treeTime(src)
			if !ok {
				return &decodeError{path, fmt.Sprint(src), "a timestamp in epoch seconds"}
			}
			v.Set(reflect.ValueOf(tm))
			return nil
		}
		m, ok := src.(map[string]any)
		if !ok {
			return &decodeError{path, fmt.Sprint(src), "a structure"}
		}
		si := infoFor(t)
		for k, x := range m {
			i, ok := si.byIn[k]
			if !ok {
				continue
			}
			f := &si.fields[i]
			if err := fromTree(join(path, k), x, v.Field(f.index)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			switch b := src.(type) {
			case []byte:
				v.SetBytes(b)
			case string:
				raw, err := base64.StdEncoding.DecodeString(b)
				if err != nil {
					return &decodeError{path, b, "base64-encoded binary data"}
				}
				v.SetBytes(raw)
			default:
				return &decodeError{path, fmt.Sprint(src), "binary data"}
			}
			return nil
		}
		l, ok := src.([]any)
		if !ok {
			return &decodeError{path, fmt.Sprint(src), "a list"}
		}
		s := reflect.MakeSlice(t, len(l), len(l))
		for i, x := range l {
			if err := fromTree(path+"."+strconv.Itoa(i+1), x, s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		m, ok := src.(map[string]any)
		if !ok {
			return &decodeError{path, fmt.Sprint(src), "a map"}
		}
		out := reflect.MakeMapWithSize(t, len(m))
		for k, x := range m {
			e := reflect.New(t.Elem()).Elem()
			if err := fromTree(path+"."+k, x, e); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), e)
		}
		v.Set(out)
		return nil
	case reflect.String:
		s, ok := src.(string)
		if !ok {
			return &decodeError{path, fmt.Sprint(src), "a string"}
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := src.(bool)
		if !ok {
			return &decodeError{path, fmt.Sprint(src), "a boolean"}
		}
		v.SetBool(b)
		return nil
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		n, ok := treeInt(src)
		if !ok || v.OverflowInt(n) {
			return &decodeError{path, fmt.Sprint(src), "an integer"}
		}
		v.SetInt(n)
		return nil
	case reflect.Float32, reflect.Float64:
		f, ok := treeFloat(src)
		if !ok {
			return &decodeError{path, fmt.Sprint(src), "a number"}
		}
		v.SetFloat(f)
		return nil
	}
	return fmt.Errorf("wire: no encoding for %s at %s", t, path)
}

func treeInt(src any) (int64, bool) {
	switch n := src.(type) {
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case int64:
		return n, true
	case uint64:
		return int64(n), n <= math.MaxInt64
	case float64:
		return int64(n), n == math.Trunc(n) && math.Abs(n) < 1<<63
	}
	return 0, false
}

func treeFloat(src any) (float64, bool) {
	switch n := src.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case string:
		switch n {
		case "NaN":
			return math.NaN(), true
		case "Infinity":
			return math.Inf(1), true
		case "-Infinity":
			return math.Inf(-1), true
		}
	}
	return 0, false
}

func treeTime(src any) (time.Time, bool) {
	switch x := src.(type) {
	case time.Time:
		// Smithy timestamps carry milliseconds; a float epoch decoded by the
		// CBOR library is off by float error in the nanoseconds.
		return x.Round(time.Millisecond).UTC(), true
	case cbor.Tag:
		if x.Number == 1 {
			return treeTime(x.Content)
		}
	default:
		if f, ok := treeFloat(src); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return smithytime.ParseEpochSeconds(f), true
		}
	}
	return time.Time{}, false
}
