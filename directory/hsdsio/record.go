package hsdsio

import (
	"fmt"
	"strings"

	"github.com/maillage/maillage/directory"
)

// MaxRecord is the largest record a source may hold, in bytes: a JSON
// value in a list, an NDJSON line, a CSV row. Larger ones are refused
// with an error rather than read into memory.
const MaxRecord = 1 << 20

// Record is one organization, location or service read from a source and
// converted to the model, with what stops it from being imported.
type Record struct {
	Kind  string // KindService, KindLocation or KindOrganization
	Where string // its place in the source: "line 12", "contents[3]", "services.csv line 4"
	// SourceID is the id as the source writes it; Label a name for
	// messages when the source gives no id.
	SourceID, Label string

	Service      *directory.Service
	Location     *directory.Location
	Organization *directory.Organization

	// Org is, for a service or location, the node id of the organization
	// the source says it belongs to ("" when it says none). Doc numbers
	// the organization document it is nested in (0: none), whose id may
	// come after its services in the document.
	Org string
	Doc int
	// orgSource is Org as the source writes it; refs the locations a
	// service names, by node id, as the source writes them.
	orgSource string
	refs      map[string]string

	// Problems stop the record from being imported; Notes say what of it
	// the model does not hold and is left out.
	Problems directory.Problems
	Notes    directory.Problems

	// idHint explains, in a duplicate's message, where the id came from.
	idHint string
	// fields renames model field paths to the source's names (a CSV
	// template's column headers, a child table's line).
	fields func(string) string
}

// name is how messages call the record.
func (r *Record) name() string {
	switch {
	case r.SourceID != "":
		return fmt.Sprintf("%s %q", r.Kind, r.SourceID)
	case r.Label != "":
		return fmt.Sprintf("%s %q", r.Kind, r.Label)
	}
	return r.Kind
}

// field names a model field the way the source does.
func (r *Record) field(f string) string {
	if r.fields != nil {
		return r.fields(f)
	}
	return f
}

// prefixed returns p with every field under prefix (a JSON path).
func prefixed(prefix string, p directory.Problems) directory.Problems {
	out := make(directory.Problems, 0, len(p))
	for _, pr := range p {
		f := pr.Field
		switch {
		case f == "":
			f = prefix
		case strings.HasPrefix(f, "["):
			f = prefix + f
		default:
			f = prefix + "." + f
		}
		out = append(out, directory.Problem{Field: f, Message: pr.Message})
	}
	return out
}

// merge appends the problems of b not already in a.
func merge(a, b directory.Problems) directory.Problems {
	seen := map[directory.Problem]bool{}
	for _, p := range a {
		seen[p] = true
	}
	for _, p := range b {
		if !seen[p] {
			seen[p] = true
			a = append(a, p)
		}
	}
	return a
}

// at joins a place in the source and a path inside it.
func at(where, path string) string {
	switch {
	case where == "" || where == "document" && path != "":
		return path
	case path == "":
		return where
	case strings.HasPrefix(path, "["):
		return where + path
	case strings.HasPrefix(where, "line "), strings.Contains(where, ".csv"):
		return where + ": " + path
	}
	return where + "." + path
}
