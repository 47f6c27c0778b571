package federation

import (
	"bytes"
	"encoding/json"
	"errors"

	vocab "github.com/go-ap/activitypub"
)

// ActivityStreams lets most properties hold one value or a list of them,
// and a reference may be an IRI or an embedded object with an id (or a
// Link with an href). Servers differ: GoToSocial writes "to" as a single
// string where Mastodon writes a list. The types here read every form, so
// that what a peer means is what the node applies.

// maxListItems bounds how many entries of one property are kept.
const maxListItems = 1000

// rawList splits a property into its values: a list as its entries, null
// as none, anything else as a list of one.
func rawList(data []byte) []json.RawMessage {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil
	}
	if data[0] != '[' {
		return []json.RawMessage{data}
	}
	var out []json.RawMessage
	if json.Unmarshal(data, &out) != nil {
		return nil
	}
	return out
}

// refOf returns the IRI a value refers to: the string itself, or the id
// (else the href) of an embedded object; "" when it is neither.
func refOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case '{':
		var o struct {
			ID   string `json:"id"`
			Href string `json:"href"`
		}
		if json.Unmarshal(raw, &o) == nil {
			if o.ID != "" {
				return o.ID
			}
			return o.Href
		}
	}
	return ""
}

// iriList reads a property of references (to, cc, …): one or many, IRIs
// or objects. Entries that are neither are skipped.
type iriList []string

// UnmarshalJSON implements json.Unmarshaler.
func (l *iriList) UnmarshalJSON(data []byte) error {
	*l = nil
	for _, raw := range rawList(data) {
		if s := refOf(raw); s != "" {
			if *l = append(*l, s); len(*l) == maxListItems {
				break
			}
		}
	}
	return nil
}

// oneIRI reads a reference that should be one (actor, target): an IRI, an
// object with an id, or a list whose first such entry counts.
type oneIRI string

// UnmarshalJSON implements json.Unmarshaler.
func (i *oneIRI) UnmarshalJSON(data []byte) error {
	*i = ""
	for _, raw := range rawList(data) {
		if s := refOf(raw); s != "" {
			*i = oneIRI(s)
			return nil
		}
	}
	return nil
}

// oneString reads a plain string property that a peer may have sent as a
// list of strings: the first string counts.
type oneString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *oneString) UnmarshalJSON(data []byte) error {
	*s = ""
	for _, raw := range rawList(data) {
		var v string
		if json.Unmarshal(raw, &v) == nil {
			*s = oneString(v)
			return nil
		}
	}
	return nil
}

// asType reads a type, which JSON-LD allows as a list ("type":
// ["Organization", "schema:Organization"]): the first ActivityStreams
// type of the list counts, else its first entry.
type asType string

// UnmarshalJSON implements json.Unmarshaler.
func (t *asType) UnmarshalJSON(data []byte) error {
	*t = ""
	var first string
	for _, raw := range rawList(data) {
		var v string
		if json.Unmarshal(raw, &v) != nil || v == "" {
			continue
		}
		if knownType(v) {
			*t = asType(v)
			return nil
		}
		if first == "" {
			first = v
		}
	}
	*t = asType(first)
	return nil
}

// many reads a property of objects that may be one object or a list; an
// entry that does not decode as T is skipped, so that one odd entry (a
// hashtag of another shape, an emoji) does not make the whole document
// unreadable.
type many[T any] []T

// UnmarshalJSON implements json.Unmarshaler.
func (m *many[T]) UnmarshalJSON(data []byte) error {
	*m = nil
	for _, raw := range rawList(data) {
		var v T
		if json.Unmarshal(raw, &v) == nil {
			if *m = append(*m, v); len(*m) == maxListItems {
				break
			}
		}
	}
	return nil
}

// singleObject returns the one value of an object property: the value
// itself, or the only entry of a list of one. A list of several is not
// one object: errManyObjects.
func singleObject(data json.RawMessage) (json.RawMessage, error) {
	vals := rawList(data)
	switch len(vals) {
	case 0:
		return nil, nil
	case 1:
		if v := bytes.TrimSpace(vals[0]); len(v) > 0 && v[0] == '[' {
			return nil, errNestedList
		}
		return vals[0], nil
	}
	return nil, errManyObjects
}

var (
	errManyObjects = errors.New("federation: object holds several values where one is handled")
	errNestedList  = errors.New("federation: object is a list inside a list")
)

// knownType reports whether t is a type of the ActivityStreams vocabulary.
func knownType(t string) bool { return vocab.Types.Contains(vocab.ActivityVocabularyType(t)) }

// LangMap is a JSON-LD language map ("contentMap", "nameMap") written in
// its own order: Mastodon takes the first key as the post's language, and
// Go's encoding sorts a map's keys, which would make "en" first.
type LangMap []LangValue

// LangValue is one language's text in a LangMap.
type LangValue struct{ Lang, Value string }

// MarshalJSON implements json.Marshaler.
func (m LangMap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, v := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(v.Lang)
		if err != nil {
			return nil, err
		}
		val, err := json.Marshal(v.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON implements json.Unmarshaler, keeping the document's order
// and the string values (at most maxListItems).
func (m *LangMap) UnmarshalJSON(data []byte) error {
	*m = nil
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil // not a map: nothing read
	}
	for dec.More() && len(*m) < maxListItems {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		k, _ := t.(string)
		var raw json.RawMessage
		if dec.Decode(&raw) != nil {
			return nil
		}
		var v string
		if json.Unmarshal(raw, &v) == nil {
			*m = append(*m, LangValue{Lang: k, Value: v})
		}
	}
	return nil
}

// Get returns the text in lang, "" when there is none.
func (m LangMap) Get(lang string) string {
	for _, v := range m {
		if v.Lang == lang {
			return v.Value
		}
	}
	return ""
}
