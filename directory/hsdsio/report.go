package hsdsio

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Counts says what became of the records of one kind.
type Counts struct {
	Created, Updated, Unchanged int
	Refused                     int // with problems: not written
	Skipped                     int // of another organization than the one imported
}

// Issue is one problem with a record, or one note on what of it the
// model does not hold.
type Issue struct {
	ord     int
	Where   string // place in the source: "line 12", "contents[3]", "services.csv line 4"
	Record  string // `service "42"`
	Field   string // as the source names it, "" for the whole record
	Message string
}

func (i Issue) String() string {
	s := i.Where
	if i.Record != "" {
		s += ": " + i.Record
	}
	if i.Field != "" {
		s += ": " + i.Field
	}
	return s + ": " + i.Message
}

// Report is what an import did, or would do for a dry run.
type Report struct {
	DryRun bool
	// Strict is set when nothing was written because of problems.
	Strict                             bool
	Services, Locations, Organizations Counts
	Unreadable                         int // records that could not be read at all (a broken NDJSON line)
	Problems                           []Issue
	Notes                              []Issue
	Messages                           []string
}

// Refused is the number of records refused.
func (r *Report) Refused() int {
	return r.Services.Refused + r.Locations.Refused + r.Organizations.Refused + r.Unreadable
}

func (r *Report) sort() {
	for _, list := range [][]Issue{r.Problems, r.Notes} {
		sort.SliceStable(list, func(i, j int) bool { return list[i].ord < list[j].ord })
	}
}

// WriteText writes the report for people: every problem and note, then
// the counts.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "refused: %s\n", p)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	for _, m := range r.Messages {
		fmt.Fprintf(&b, "%s\n", m)
	}
	switch {
	case r.DryRun:
		b.WriteString("dry run: nothing was written; an import would give\n")
	case r.Strict:
		fmt.Fprintf(&b, "--strict: nothing was written, as %d record(s) have problems\n", r.Refused())
	}
	verbs := [3]string{"created", "updated", "unchanged"}
	if r.DryRun {
		verbs = [3]string{"to create", "to update", "unchanged"}
	}
	for _, k := range []struct {
		name string
		c    Counts
	}{{"services", r.Services}, {"locations", r.Locations}} {
		c := k.c
		fmt.Fprintf(&b, "%s: %d %s, %d %s, %d %s, %d refused", k.name, c.Created, verbs[0], c.Updated, verbs[1], c.Unchanged, verbs[2], c.Refused)
		if c.Skipped > 0 {
			fmt.Fprintf(&b, ", %d skipped (another organization)", c.Skipped)
		}
		b.WriteByte('\n')
	}
	// The association is updated, never created: the node has it.
	var org []string
	for _, x := range []struct {
		n    int
		what string
	}{{r.Organizations.Updated, verbs[1]}, {r.Organizations.Unchanged, verbs[2]}, {r.Organizations.Refused, "refused"},
		{r.Organizations.Skipped, "skipped (another organization)"}} {
		if x.n == 1 {
			org = append(org, x.what)
		} else if x.n > 1 {
			org = append(org, fmt.Sprintf("%d %s", x.n, x.what))
		}
	}
	if len(org) > 0 {
		fmt.Fprintf(&b, "organization: %s\n", strings.Join(org, ", "))
	}
	if r.Unreadable > 0 {
		fmt.Fprintf(&b, "other records: %d refused (not a service, location or organization)\n", r.Unreadable)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
