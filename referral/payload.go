package referral

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/maillage/maillage/directory"
)

// The allow-list: every field of a resident's data a referral may carry,
// and the category it belongs to. Nothing else is accepted, so a case file
// or a worker's notes cannot ride along.
var residentFields = map[string]directory.DataCategory{
	"name":               directory.DataIdentity,
	"birth_date":         directory.DataIdentity,
	"phone":              directory.DataContact,
	"email":              directory.DataContact,
	"address":            directory.DataContact,
	"preferred_language": directory.DataContact,
	"situation":          directory.DataSituation,
	"household":          directory.DataSituation,
	"documents":          directory.DataDocuments,
	"health":             directory.DataSpecial,
}

// Limits of a resident's data.
const (
	maxFieldBytes = 4 << 10 // a free-text field
	maxDocuments  = 20
)

// Resident is a resident's data for one referral: field name → value, from
// the allow-list. Documents are a list of names (what the resident brings),
// not files.
type Resident map[string]any

// ErrResident wraps every problem with a resident's data.
var ErrResident = errors.New("referral: resident data")

// ParseResident reads a resident's data, refusing any field outside the
// allow-list and any value of the wrong shape or size; every problem is
// listed.
func ParseResident(raw json.RawMessage) (Resident, error) {
	out, p := parseResident(raw)
	if len(p) > 0 {
		msgs := make([]string, len(p))
		for i, x := range p {
			msgs[i] = x.Message
		}
		return nil, fmt.Errorf("%w: %s", ErrResident, strings.Join(msgs, "; "))
	}
	return out, nil
}

// parseResident is ParseResident with each problem's field and code.
func parseResident(raw json.RawMessage) (Resident, directory.Problems) {
	var p directory.Problems
	var in map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&in); err != nil || in == nil {
		p.Rule("resident", CodeResidentShape, "resident must be a JSON object")
		return nil, p
	}
	out := Resident{}
	for name, v := range in {
		if pr, ok := readResidentField(out, name, v); !ok {
			p = append(p, pr)
		}
	}
	if len(p) > 0 {
		sort.Slice(p, func(i, j int) bool { return p[i].Message < p[j].Message })
		return nil, p
	}
	if len(out) == 0 {
		p.Rule("resident", CodeResidentEmpty, "no data about the resident")
	}
	return out, p
}

// readResidentField puts the field name of value v into out, or says
// what is wrong with it (naming the field, never echoing the value).
func readResidentField(out Resident, name string, v json.RawMessage) (directory.Problem, bool) {
	field := "resident." + name
	bad := func(code directory.Code, format string, args ...any) (directory.Problem, bool) {
		return directory.Problem{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}, false
	}
	cat, ok := residentFields[name]
	if !ok {
		return bad(CodeResidentField, "%s is not a field a referral may carry", field)
	}
	if cat == directory.DataDocuments {
		var docs []string
		if err := json.Unmarshal(v, &docs); err != nil {
			return bad(CodeResidentValue, "%s must be a list of document names", field)
		}
		if len(docs) > maxDocuments {
			return bad(CodeResidentValue, "%s lists more than %d documents", field, maxDocuments)
		}
		if i := slices.IndexFunc(docs, func(d string) bool { return !okText(d) || strings.TrimSpace(d) == "" }); i >= 0 {
			return bad(CodeResidentValue, "%s[%d] must be a non-empty name of at most %d bytes", field, i, maxFieldBytes)
		}
		if len(docs) > 0 {
			out[name] = docs
		}
		return directory.Problem{}, true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil || !okText(s) {
		return bad(CodeResidentValue, "%s must be text of at most %d bytes", field, maxFieldBytes)
	}
	if strings.TrimSpace(s) != "" {
		out[name] = s
	}
	return directory.Problem{}, true
}

func okText(s string) bool { return len(s) <= maxFieldBytes && utf8.ValidString(s) }

// Categories returns the data categories r holds, in a fixed order.
func (r Resident) Categories() []directory.DataCategory {
	var out []directory.DataCategory
	for _, c := range directory.DataCategories {
		for name := range r {
			if residentFields[name] == c {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// Payload builds what is sealed for the recipient: only the fields of the
// categories allowed, whatever else r holds.
func (r Resident) Payload(allowed []directory.DataCategory) ([]byte, error) {
	out := map[string]any{}
	for name, v := range r {
		if cat, ok := residentFields[name]; ok && slices.Contains(allowed, cat) {
			out[name] = v
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: nothing left to send within the consented categories", ErrResident)
	}
	return json.Marshal(out)
}
