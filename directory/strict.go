package directory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// maxDepth bounds the nesting of accepted JSON documents.
const maxDepth = 16

// DecodeStrict decodes the JSON document data into v (a pointer to a
// struct), refusing unknown fields, wrong types, trailing data and deep
// nesting. Unlike json.Decoder.DisallowUnknownFields it reports every
// problem at once, each naming its field.
func DecodeStrict(data []byte, v any) Problems {
	return decodeChecked(data, v, false)
}

// DecodeLenient is DecodeStrict for documents written elsewhere, such as
// HSDS files from other systems: fields that v does not know are ignored
// (HSDS allows extra fields, and a model may hold fewer than HSDS
// defines); wrong types, trailing data and deep nesting are reported, every
// problem at once.
func DecodeLenient(data []byte, v any) Problems {
	return decodeChecked(data, v, true)
}

func decodeChecked(data []byte, v any, lenient bool) Problems {
	var p Problems
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		p.Add("", "body is not valid JSON: %s", jsonErrorText(err))
		return p
	}
	if dec.More() {
		p.Add("", "body has data after the JSON document")
		return p
	}
	shapeCheck{p: &p, lenient: lenient}.check(doc, reflect.TypeOf(v).Elem(), "", 0)
	if len(p) > 0 {
		return p
	}
	if err := json.Unmarshal(data, v); err != nil {
		p.Add("", "%s", jsonErrorText(err))
	}
	return p
}

func jsonErrorText(err error) string {
	// Keep the decoder's message but never echo large parts of the input.
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return strings.TrimPrefix(msg, "json: ")
}

var (
	textUnmarshaler = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
)

// shapeCheck compares a decoded JSON document with the Go type it is meant
// for; lenient skips fields the type does not have.
type shapeCheck struct {
	p       *Problems
	lenient bool
}

func (c shapeCheck) check(doc any, t reflect.Type, path string, depth int) {
	p := c.p
	if depth > maxDepth {
		p.Add(path, "is nested too deeply")
		return
	}
	if doc == nil {
		return // null is the zero value
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return // the type checks itself when decoded
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		s, ok := doc.(string)
		if !ok {
			p.Add(path, "must be a string")
			return
		}
		if err := reflect.New(t).Interface().(interface{ UnmarshalText([]byte) error }).UnmarshalText([]byte(s)); err != nil {
			p.Add(path, "%s", err)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := doc.(map[string]any)
		if !ok {
			p.Add(path, "must be an object")
			return
		}
		fields := jsonFields(t)
		for _, k := range sortedKeys(obj) {
			f, ok := fields[k]
			if !ok {
				if !c.lenient {
					p.Add(join(path, k), "is not a known field")
				}
				continue
			}
			c.check(obj[k], f.Type, join(path, k), depth+1)
		}
	case reflect.Map:
		obj, ok := doc.(map[string]any)
		if !ok {
			p.Add(path, "must be an object")
			return
		}
		for _, k := range sortedKeys(obj) {
			c.check(obj[k], t.Elem(), join(path, k), depth+1)
		}
	case reflect.Slice:
		arr, ok := doc.([]any)
		if !ok {
			p.Add(path, "must be an array")
			return
		}
		for i, e := range arr {
			c.check(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
	case reflect.String:
		if _, ok := doc.(string); !ok {
			p.Add(path, "must be a string")
		}
	case reflect.Bool:
		if _, ok := doc.(bool); !ok {
			p.Add(path, "must be true or false")
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := doc.(json.Number)
		if !ok {
			p.Add(path, "must be a number")
		} else if _, err := n.Int64(); err != nil {
			p.Add(path, "must be a whole number")
		}
	case reflect.Float64, reflect.Float32:
		if _, ok := doc.(json.Number); !ok {
			p.Add(path, "must be a number")
		}
	case reflect.Interface:
	default:
		p.Add(path, "cannot be decoded")
	}
}

// fieldsOf memoises jsonFields by type, as encoding/json does: an
// import checks the same few types hundreds of thousands of times.
var fieldsOf sync.Map // reflect.Type → map[string]reflect.StructField

func jsonFields(t reflect.Type) map[string]reflect.StructField {
	if m, ok := fieldsOf.Load(t); ok {
		return m.(map[string]reflect.StructField)
	}
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	fieldsOf.Store(t, out)
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
