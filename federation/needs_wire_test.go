package federation

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
)

// A partner's needs report is refused whole when any part is off: another
// author, a theme outside the taxonomy, an area that is no postcode, a
// count out of range, a pair given twice, too many counts.
func TestNeedsReportChecked(t *testing.T) {
	f := referralFederator(t, true, nil)
	good := func() NeedsReport {
		return NeedsReport{ID: "https://a.example/needs", Type: typeNeedsReport, AttributedTo: them, Updated: time.Now(),
			Counts: []directory.NeedCount{{Theme: "sante", Area: "1030", Count: 2}, {Theme: "famille", Area: "1000", Count: 1}}}
	}
	if _, err := f.readNeedsReport(mustJSON(good()), them); err != nil {
		t.Fatalf("a good report is refused: %v", err)
	}
	many := good()
	many.Counts = nil
	for i := range maxNeedCounts + 1 {
		many.Counts = append(many.Counts, directory.NeedCount{Theme: "sante", Area: "1000", Count: i + 1})
	}
	cases := map[string]func(r *NeedsReport){
		"author":    func(r *NeedsReport) { r.AttributedTo = "https://c.example/actor" },
		"id host":   func(r *NeedsReport) { r.ID = "https://c.example/needs" },
		"no time":   func(r *NeedsReport) { r.Updated = time.Time{} },
		"theme":     func(r *NeedsReport) { r.Counts[0].Theme = "sante--acces-aux-soins" }, // not top-level
		"area":      func(r *NeedsReport) { r.Counts[0].Area = "10301" },
		"area text": func(r *NeedsReport) { r.Counts[0].Area = "Ixelles" },
		"zero":      func(r *NeedsReport) { r.Counts[0].Count = 0 },
		"huge":      func(r *NeedsReport) { r.Counts[0].Count = maxNeedCount + 1 },
		"twice":     func(r *NeedsReport) { r.Counts[1] = r.Counts[0] },
		"too many":  func(r *NeedsReport) { *r = many },
	}
	for name, change := range cases {
		r := good()
		change(&r)
		if _, err := f.readNeedsReport(mustJSON(r), them); err == nil {
			t.Errorf("%s: report accepted", name)
		} else if strings.Contains(err.Error(), "sante--") || strings.Contains(err.Error(), "Ixelles") {
			t.Errorf("%s: the error echoes the peer's value: %v", name, err)
		}
	}
	if _, err := f.readNeedsReport(json.RawMessage(`{"counts": "many"}`), them); err == nil {
		t.Error("a report whose counts are a string is accepted")
	}
}
