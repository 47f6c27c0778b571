package web_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// statsJSON is what the tests read of GET /api/v1/stats.
type statsJSON struct {
	Period    struct{ From, To string }
	K         int
	Referrals map[string]struct {
		Columns []string
		Rows    []struct {
			Key, Label string
			Cells      []statsCell
			Total      *statsCell
		}
		ColumnTotals []statsCell `json:"column_totals"`
		Total        statsCell
	}
	TimeToFirstAnswer map[string]struct {
		N           int
		MedianHours *float64 `json:"median_hours"`
		Suppressed  bool
	} `json:"time_to_first_answer"`
	Services     map[string]map[string]int
	Partnerships map[string]int
}

type statsCell struct {
	Count      *int
	Suppressed bool
}

const residentMarker = "Zorglub-Statmarker"

// statsNodes are two partner nodes: A sends 7 referrals to B's service
// (each resident named with the marker); B accepts 5 and rejects 2 for
// lack of capacity, with a note.
func statsNodes(t *testing.T) (a, b *nodetest.Node, ta, tb string) {
	t.Helper()
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b = nodes[0], nodes[1]
	ta, tb = a.AdminToken(), b.AdminToken()
	partners(t, a, b, ta, tb)
	sv := literacyAtB(t, a, b, tb)
	sevenAnswered(t, a, b, ta, tb, func(i int) { refer(t, a, ta, sv.ID, fmt.Sprintf("%s %d", residentMarker, i)) })
	return a, b, ta, tb
}

// Issue 20, part 1: the API and the CSV give the protected figures, a
// worker is refused, and no output names a resident.
func TestStatsAPIAndCSV(t *testing.T) {
	a, b, ta, tb := statsNodes(t)
	var st statsJSON
	r := a.Do("GET", "/api/v1/stats", ta, nil)
	if r.Status != 200 {
		t.Fatalf("stats: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &st)
	if st.K != 5 {
		t.Errorf("k = %d", st.K)
	}
	byPartner := st.Referrals["by_partner"]
	if len(byPartner.Rows) != 1 || byPartner.Rows[0].Label != "Association "+b.Name || *byPartner.Rows[0].Cells[0].Count != 7 || *byPartner.Total.Count != 7 {
		t.Errorf("by partner: %s", r.Body)
	}
	// By state: 5 accepted, 2 rejected. The 2 is hidden, and so is the 5,
	// or the total 7 − 5 would give the 2 back.
	byState := st.Referrals["by_state"]
	states := map[string]statsCell{}
	for _, row := range byState.Rows {
		states[row.Key] = row.Cells[0]
	}
	if !states["rejected"].Suppressed || states["rejected"].Count != nil || !states["accepted"].Suppressed {
		t.Errorf("by state: %+v", byState)
	}
	if byState.Total.Count == nil || *byState.Total.Count != 7 {
		t.Errorf("by state total: %+v", byState.Total)
	}
	byReason := st.Referrals["by_reason"]
	if len(byReason.Rows) != 1 || byReason.Rows[0].Key != "rejected no-capacity" || !byReason.Rows[0].Cells[0].Suppressed || byReason.ColumnTotals != nil {
		t.Errorf("by reason: %+v", byReason)
	}
	theme := st.Referrals["by_theme"]
	if len(theme.Rows) != 1 || theme.Rows[0].Key != "lecture-ecriture-calcul" || *theme.Rows[0].Cells[0].Count != 7 {
		t.Errorf("by theme: %+v", theme)
	}
	if fa := st.TimeToFirstAnswer["sent"]; fa.N != 0 || fa.MedianHours == nil || fa.Suppressed {
		t.Errorf("first answer (sent): %+v", fa)
	}
	if fa := st.TimeToFirstAnswer["received"]; !fa.Suppressed {
		t.Errorf("first answer (received, none): %+v", fa)
	}
	if st.Partnerships["partner"] != 1 {
		t.Errorf("partnerships: %+v", st.Partnerships)
	}
	// B received them.
	var stB statsJSON
	b.Do("GET", "/api/v1/stats", tb, nil).JSON(t, &stB)
	if c := stB.Referrals["by_month"].ColumnTotals; len(c) != 2 || c[1].Count == nil || *c[1].Count != 7 || *c[0].Count != 0 {
		t.Errorf("B's months: %+v", stB.Referrals["by_month"])
	}
	if stB.Services["by_theme"]["lecture-ecriture-calcul"] != 1 {
		t.Errorf("B's services: %+v", stB.Services)
	}

	// Another period: nothing.
	var last statsJSON
	a.Do("GET", "/api/v1/stats?from=2024-01&to=2024-12", ta, nil).JSON(t, &last)
	if m := last.Referrals["by_month"]; last.Period.From != "2024-01" || last.Period.To != "2024-12" || len(m.Rows) != 12 || *m.Total.Count != 0 {
		t.Errorf("2024: %+v", last)
	}
	// A worker, and a bad period.
	if r := a.Do("POST", "/api/v1/users", ta, `{"email": "worker@stats.test", "password": "worker-password-1", "role": "worker"}`); r.Status != 201 {
		t.Fatalf("worker: %d %s", r.Status, r.Body)
	}
	tw := a.Token("worker@stats.test", "worker-password-1")
	for _, path := range []string{"/api/v1/stats", "/admin/stats", "/admin/stats.csv", "/admin/stats.pdf"} {
		if r := a.Do("GET", path, tw, nil); r.Status != 403 {
			t.Errorf("worker GET %s: %d", path, r.Status)
		}
	}
	if r := a.Do("GET", "/api/v1/stats?from=2026-13", ta, nil); r.Status != 400 {
		t.Errorf("bad month: %d %s", r.Status, r.Body)
	}
	if r := a.Do("GET", "/api/v1/stats?from=2026-05&to=2026-01", ta, nil); r.Status != 400 {
		t.Errorf("to before from: %d %s", r.Status, r.Body)
	}

	if r := a.Do("GET", "/admin/stats?from=2026-13&lang=fr", ta, nil); r.Status != 400 || bytes.Contains(r.Body, []byte("YYYY-MM")) || bytes.Contains(r.Body, []byte("must be")) ||
		!bytes.Contains(r.Body, []byte("Choisissez deux mois")) || !bytes.Contains(r.Body, []byte(`id="stats-from"`)) {
		t.Errorf("bad month on the page: %d %s", r.Status, r.Body)
	}
	// The CSV: byte-order mark, header in the admin's language, the same
	// figures, the hidden ones marked.
	for lang, header := range map[string]string{"fr": "Tableau,Ligne,Colonne,Valeur", "nl": "Tabel,Rij,Kolom,Waarde", "en": "Table,Row,Column,Value"} {
		r := a.Do("GET", "/admin/stats.csv?lang="+lang, ta, nil)
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv %s: %d %s", lang, r.Status, r.Header)
		}
		if !bytes.HasPrefix(r.Body, []byte("\ufeff"+header+"\n")) {
			t.Errorf("csv %s starts %q", lang, r.Body[:min(60, len(r.Body))])
		}
		csv := string(r.Body)
		if lang == "fr" {
			for _, line := range []string{
				"Orientations par partenaire,Association " + b.Name + ",Envoyées,7",
				"Orientations par état actuel,Refusée,Envoyées,< 5*",
				"Orientations par état actuel,Total,Envoyées,7",
			} {
				if !strings.Contains(csv, line) {
					t.Errorf("csv lacks %q:\n%s", line, csv)
				}
			}
		}
	}

	// No output names a resident, though the referrals do.
	var list struct{ Referrals []struct{ ID string } }
	a.Do("GET", "/api/v1/referrals", ta, nil).JSON(t, &list)
	if one := a.Do("GET", "/api/v1/referrals/"+list.Referrals[0].ID, ta, nil); !bytes.Contains(one.Body, []byte(residentMarker)) {
		t.Fatalf("the marker is not in the referral itself: %.300s", one.Body)
	}
	for _, path := range []string{"/api/v1/stats", "/admin/stats", "/admin/stats?print=1", "/admin/stats.csv", "/admin/stats.pdf", "/admin/stats?lang=nl"} {
		for _, n := range []struct {
			node *nodetest.Node
			tok  string
		}{{a, ta}, {b, tb}} {
			r := n.node.Do("GET", path, n.tok, nil)
			if r.Status != 200 {
				t.Errorf("%s: %d", path, r.Status)
			}
			if bytes.Contains(r.Body, []byte(residentMarker)) || bytes.Contains(r.Body, []byte("Zorglub")) {
				t.Errorf("%s names a resident", path)
			}
			if bytes.Contains(r.Body, []byte(noteText)) || bytes.Contains(r.Body, []byte("Zineb")) {
				t.Errorf("%s shows a worker's note", path)
			}
		}
	}
	pdf := a.Do("GET", "/admin/stats.pdf?lang=nl", ta, nil)
	if !bytes.HasPrefix(pdf.Body, []byte("%PDF-")) || !bytes.Contains(pdf.Body, []byte("Doorverwijzingen per partner")) {
		t.Errorf("pdf: %d %.200s", pdf.Status, pdf.Body)
	}
}

// sevenAnswered sends seven referrals from A to B with send, then B
// accepts five and declines two (no capacity, with a note), and A hears
// every answer.
func sevenAnswered(t *testing.T, a, b *nodetest.Node, ta, tb string, send func(i int)) {
	t.Helper()
	for i := range 7 {
		send(i)
	}
	var atB struct{ Referrals []struct{ ID, State string } }
	waitUntil(t, "B receives the 7 referrals", func() bool {
		b.Do("GET", "/api/v1/referrals", tb, nil).JSON(t, &atB)
		return len(atB.Referrals) == 7
	})
	for i, ref := range atB.Referrals {
		body := `{"to": "accepted"}`
		if i < 2 {
			body = `{"to": "rejected", "reason": "no-capacity", "note": "` + noteText + `"}`
		}
		if r := b.Do("POST", "/api/v1/referrals/"+ref.ID+"/transition", tb, body); r.Status != 200 {
			t.Fatalf("answer: %d %s", r.Status, r.Body)
		}
	}
	waitUntil(t, "A hears the 7 answers", func() bool {
		var atA struct{ Referrals []struct{ State string } }
		a.Do("GET", "/api/v1/referrals", ta, nil).JSON(t, &atA)
		n := 0
		for _, r := range atA.Referrals {
			if r.State == "accepted" || r.State == "rejected" {
				n++
			}
		}
		return n == 7
	})
}

// literacyAtB creates B's literacy class, taking referrals from partners,
// and waits until A holds it; it returns its id on B.
func literacyAtB(t *testing.T, a, b *nodetest.Node, tb string) (sv struct{ ID string }) {
	t.Helper()
	r := b.Do("POST", "/api/v1/services", tb, `{"name": "Alphabétisation", "status": "active", "categories": ["lecture-ecriture-calcul--maitriser-le-francais"],
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity"]}}`)
	if r.Status != 201 {
		t.Fatalf("service: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &sv)
	waitUntil(t, "A holds B's service", func() bool {
		var x struct{ Total int }
		a.Do("GET", "/api/v1/search?q=alphabetisation", "", nil).JSON(t, &x)
		return x.Total == 1
	})
	return sv
}
