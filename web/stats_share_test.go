package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/federation"
)

// networkJSON is what the tests read of the network field of
// GET /api/v1/stats.
type networkJSON struct {
	Sharing      bool
	Associations []struct {
		Name           string
		Own            bool
		Sent, Received *statsCell
	}
	Totals map[string]struct {
		Count      int
		LowerBound bool `json:"lower_bound"`
	}
	ByTheme    map[string]map[string]struct{ Count int } `json:"by_theme"`
	NotSharing int                                       `json:"not_sharing"`
}

func networkOf(t *testing.T, n *nodetest.Node, tok string) networkJSON {
	t.Helper()
	var out struct{ Network *networkJSON }
	r := n.Do("GET", "/api/v1/stats", tok, nil)
	if r.Status != 200 {
		t.Fatalf("stats on %s: %d %s", n.Name, r.Status, r.Body)
	}
	r.JSON(t, &out)
	if out.Network == nil {
		t.Fatalf("stats on %s: no network: %s", n.Name, r.Body)
	}
	return *out.Network
}

func (v networkJSON) names() []string {
	var out []string
	for _, a := range v.Associations {
		out = append(out, a.Name)
	}
	return out
}

// referAt is refer with a consent given by the node's clock.
func referAt(t *testing.T, n *nodetest.Node, tok, serviceID, resident string) {
	t.Helper()
	given := n.Clock.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	resp := n.Do("POST", "/api/v1/referrals", tok, `{"service": "`+serviceID+`", "resident": {"name": "`+resident+`"},
	  "consent": {"method": "on-screen", "categories": ["identity"], "notice_version": "2026-11",
	  "notice_hash": "`+strings.Repeat("ab", 32)+`", "notice_lang": "fr", "given_at": "`+given+`"}}`)
	if resp.Status != 201 {
		t.Fatalf("refer: %d %s", resp.Status, resp.Body)
	}
}

// section is the part of a page from the element with id from to the
// element with id to.
func section(page, from, to string) string {
	_, after, _ := strings.Cut(page, `id="`+from+`"`)
	before, _, _ := strings.Cut(after, `id="`+to+`"`)
	return before
}

// sharingNodes are three nodes a month after A sent B 7 referrals (each
// resident named with the marker; B accepted 5 and rejected 2 with a
// note): A and B are partners, B and C too; nobody shares yet.
func sharingNodes(t *testing.T) (a, b, c *nodetest.Node, ta, tb, tc string) {
	t.Helper()
	start := time.Now()
	nodes := nodetest.Start(t, 3, nodetest.Options{Clock: &start})
	a, b, c = nodes[0], nodes[1], nodes[2]
	ta, tb, tc = a.AdminToken(), b.AdminToken(), c.AdminToken()
	partners(t, a, b, ta, tb)
	partners(t, b, c, tb, tc)
	sv := literacyAtB(t, a, b, tb)
	sevenAnswered(t, a, b, ta, tb, func(i int) { referAt(t, a, ta, sv.ID, fmt.Sprintf("%s %d", residentMarker, i)) })
	// What is shared are complete months: a month later, these are.
	for _, n := range nodes {
		n.Clock.Advance(32 * 24 * time.Hour)
	}
	return a, b, c, a.AdminToken(), b.AdminToken(), c.AdminToken()
}

// Issue 20, part 1: an admin shares the association's figures with its
// partners as counts only. A (opted out) sends nothing; once its admin
// opts in on the page, B shows A's figures by name, with the network's
// totals; C, B's partner alone, never gets A's figures; no resident's
// name nor note travels; opting out withdraws them, and the end of a
// partnership forgets them.
func TestStatsSharedWithPartners(t *testing.T) {
	a, b, c, _, tb, tc := sharingNodes(t)
	ctx := context.Background()

	if sent, err := a.Node().Fed.PublishStats(ctx); err != nil || sent {
		t.Fatalf("A publishes before opting in: sent %v, %v", sent, err)
	}
	if got := networkOf(t, b, tb); len(got.Associations) != 1 || !got.Associations[0].Own || got.NotSharing != 2 || got.Sharing {
		t.Fatalf("B's network before anyone shares: %+v", got)
	}

	// A's admin opts in on the statistics page.
	ca := pageClient(t, a, a.AdminEmail, a.AdminPassword)
	_, _, page := fetchPage(t, ca, "GET", a.URL+"/admin/stats?lang=fr", nil)
	if !strings.Contains(page, "Nos chiffres ne sont pas partagés.") || !strings.Contains(page, "Partager nos chiffres avec nos partenaires") {
		t.Fatalf("A's page before opting in:\n%s", section(page, "network", "zzz"))
	}
	share := func(on bool) {
		t.Helper()
		form := url.Values{"csrf": {formToken(t, ca, a.URL+"/admin/stats")}}
		if on {
			form.Set("share", "on")
		}
		if code, to, _ := fetchPage(t, ca, "POST", a.URL+"/admin/stats/share", form); code != http.StatusSeeOther || to != "/admin/stats#share" {
			t.Fatalf("share %v: %d → %q", on, code, to)
		}
	}
	if code, _, _ := fetchPage(t, ca, "POST", a.URL+"/admin/stats/share", url.Values{"share": {"on"}}); code != http.StatusForbidden {
		t.Errorf("opting in without the form's token: %d, want 403", code)
	}
	share(true)
	if _, _, page := fetchPage(t, ca, "GET", a.URL+"/admin/stats?lang=fr", nil); !strings.Contains(page, "Nos chiffres sont partagés avec nos partenaires.") {
		t.Errorf("A's page after opting in does not say so")
	}
	waitUntil(t, "B shows A's figures", func() bool {
		return len(networkOf(t, b, tb).Associations) == 2
	})
	got := networkOf(t, b, tb)
	if got.Associations[1].Name != "Association "+a.Name || got.Associations[1].Sent == nil || got.Associations[1].Sent.Count == nil || *got.Associations[1].Sent.Count != 7 ||
		*got.Associations[1].Received.Count != 0 || got.NotSharing != 1 {
		t.Errorf("B's network: %+v", got)
	}
	if s, rc := got.Totals["sent"], got.Totals["received"]; s.Count != 7 || rc.Count != 7 || s.LowerBound || rc.LowerBound {
		t.Errorf("B's network totals: %+v, want 7 sent (by A) and 7 received (by B)", got.Totals)
	}
	if th := got.ByTheme["lecture-ecriture-calcul"]; th["sent"].Count != 7 || th["received"].Count != 7 {
		t.Errorf("B's network by theme: %+v", got.ByTheme)
	}

	// B's page, in French and Dutch: A by its name, never its address.
	cb := pageClient(t, b, b.AdminEmail, b.AdminPassword)
	for lang, words := range map[string][]string{
		"fr": {"Réseau", "Orientations par association", "Association " + a.Name, "Association " + b.Name + " (nous)", "Total du réseau", "Orientations du réseau par thème"},
		"nl": {"Netwerk", "Doorverwijzingen per vereniging", "Association " + a.Name, "Association " + b.Name + " (wij)", "Totaal van het netwerk"},
	} {
		_, _, page := fetchPage(t, cb, "GET", b.URL+"/admin/stats?lang="+lang, nil)
		net := section(page, "network", "share")
		for _, w := range words {
			if !strings.Contains(net, w) {
				t.Errorf("%s: the network section lacks %q:\n%s", lang, w, net)
			}
		}
		if strings.Contains(net, a.Addr) || strings.Contains(net, "/actor") {
			t.Errorf("%s: the network section shows an address:\n%s", lang, net)
		}
	}

	// B shares too: C gets B's figures, never A's.
	if err := b.Node().Fed.ShareStats(ctx, true); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "C shows B's figures", func() bool { return len(networkOf(t, c, tc).Associations) == 2 })
	if names := networkOf(t, c, tc).names(); names[1] != "Association "+b.Name {
		t.Errorf("C's network: %v, want itself and B alone", names)
	}

	// Nothing of a resident travels: not in what A sends, not in what B
	// keeps, not on any page or answer.
	own, err := a.Node().Fed.OwnStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sentJSON, _ := json.Marshal(own)
	var kept bytes.Buffer
	b.Node().Store.ForEachPartnerStats(ctx, func(p *federation.PartnerStats) error {
		return json.NewEncoder(&kept).Encode(p)
	})
	if !bytes.Contains(kept.Bytes(), []byte(`"by_state"`)) {
		t.Fatalf("B keeps no report: %s", kept.Bytes())
	}
	for what, body := range map[string][]byte{"sent": sentJSON, "kept by B": kept.Bytes(),
		"B's API": b.Do("GET", "/api/v1/stats", tb, nil).Body, "C's API": c.Do("GET", "/api/v1/stats", tc, nil).Body} {
		if bytes.Contains(body, []byte(residentMarker)) || bytes.Contains(body, []byte("Zorglub")) || bytes.Contains(body, []byte(noteText)) || bytes.Contains(body, []byte("Zineb")) {
			t.Errorf("%s names a resident or shows a note", what)
		}
	}

	// A opts out: B forgets A's figures.
	share(false)
	waitUntil(t, "B forgets A's figures", func() bool { return len(networkOf(t, b, tb).Associations) == 1 })

	// C ends its partnership with B: B's figures are forgotten at once.
	var rels struct{ Partners []struct{ ID, Actor string } }
	c.Do("GET", "/api/v1/partners", tc, nil).JSON(t, &rels)
	for _, rel := range rels.Partners {
		if rel.Actor == b.URL+"/actor" {
			if r := c.Do("DELETE", "/api/v1/partners/"+rel.ID, tc, nil); r.Status != 200 {
				t.Fatalf("end: %d %s", r.Status, r.Body)
			}
		}
	}
	n := 0
	c.Node().Store.ForEachPartnerStats(ctx, func(*federation.PartnerStats) error { n++; return nil })
	if n != 0 || len(networkOf(t, c, tc).Associations) != 1 {
		t.Errorf("C keeps %d reports after the partnership ended", n)
	}
}
