package federation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/referral"
)

// actorKey is a node's own signing key: the test speaks as that node.
func actorKey(t *testing.T, n *nodetest.Node) *federation.Signer {
	t.Helper()
	pemBytes, err := n.Node().Store.Secret(context.Background(), "actor-rsa")
	if err != nil {
		t.Fatal(err)
	}
	key, err := federation.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	return &federation.Signer{Key: key, KeyID: actorOf(n) + "#main-key", Now: time.Now}
}

var statsSeq int

// sendStats posts, as from, an Update of report to to's inbox, signed
// with from's key, and returns the status.
func sendStats(t *testing.T, from, to *nodetest.Node, report map[string]any) int {
	t.Helper()
	statsSeq++
	report["id"], report["type"], report["attributedTo"] = from.URL+"/stats", "StatsReport", actorOf(from)
	body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": fmt.Sprintf("%s/activities/stats-%d", from.URL, statsSeq), "type": "Update", "actor": actorOf(from),
		"to": []string{from.URL + "/followers"}, "object": report})
	req, _ := http.NewRequest("POST", to.URL+"/inbox", bytes.NewReader(body))
	req.Header.Set("Content-Type", federation.ContentType)
	if err := actorKey(t, from).Sign(req, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// statsMonths are the two complete months before now (Brussels time),
// the latest first.
func statsMonths() [2]string {
	loc, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		loc = time.UTC
	}
	now := time.Now().Add(-3 * time.Hour).In(loc)
	this := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	return [2]string{this.AddDate(0, -1, 0).Format("2006-01"), this.AddDate(0, -2, 0).Format("2006-01")}
}

// statsReport is a protected report of last month: n referrals sent to
// health services, none of unknown theme, received figures hidden; the
// month before, nothing.
func statsReport(at time.Time, n int) map[string]any {
	m := statsMonths()
	empty := map[string]any{"month": m[1], "tables": []any{map[string]any{"name": "by_theme", "columns": []string{"sent", "received"},
		"rows": []any{}, "totals": map[string]any{"cells": []any{0, 0}, "total": 0}}}}
	return map[string]any{"updated": at.UTC().Format(time.RFC3339Nano), "months": []any{empty, map[string]any{"month": m[0],
		"tables": []any{map[string]any{"name": "by_theme", "columns": []string{"sent", "received"},
			"rows": []any{
				map[string]any{"key": "unknown", "cells": []any{0, nil}, "total": nil},
				map[string]any{"key": "sante", "cells": []any{n, nil}, "total": nil},
			},
			"totals": map[string]any{"cells": []any{n, 9}, "total": n + 9}}}}}}
}

// storedStats is what to keeps of from's statistics: the sent total over
// its months, or -1 for nothing, and the time of the report (a
// withdrawal keeps it).
func storedStats(t *testing.T, to, from *nodetest.Node) (int, time.Time) {
	t.Helper()
	sent, at := -1, time.Time{}
	err := to.Node().Store.ForEachPartnerStats(context.Background(), func(p *federation.PartnerStats) error {
		if p.Actor != actorOf(from) {
			return nil
		}
		at = p.Updated
		for _, m := range p.Months {
			if bt, ok := m.Table(federation.StatsByTheme); ok && bt.Totals != nil {
				sent = max(sent, 0) + bt.Totals.Cells[0].N
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sent, at
}

// A partner's statistics are kept only from a partner, only when the k
// rule holds (re-checked here), newest first; a withdrawal forgets the
// figures for good, and so does the end of the partnership.
func TestStatsReportsFromPartners(t *testing.T) {
	nodes := nodetest.Start(t, 3, nodetest.Options{})
	a, b, c := nodes[0], nodes[1], nodes[2]
	ta, tb := a.AdminToken(), b.AdminToken()
	partner(t, a, b, ta, tb)
	t0 := time.Now().Add(-time.Hour)

	if got := sendStats(t, a, b, statsReport(t0, 12)); got != http.StatusAccepted {
		t.Fatalf("a partner's report: %d", got)
	}
	if sent, at := storedStats(t, b, a); sent != 12 || !at.Equal(t0.UTC()) {
		t.Fatalf("B keeps %d as of %v, want 12 as of %v", sent, at, t0)
	}
	// A figure of 3 shown: refused whole, nothing kept of it.
	inFebruary := func(n int) map[string]any {
		r := statsReport(t0.Add(time.Minute), 12)
		table := r["months"].([]any)[1].(map[string]any)["tables"].([]any)[0].(map[string]any)
		table["rows"].([]any)[0].(map[string]any)["cells"] = []any{n, nil}
		table["totals"] = map[string]any{"cells": []any{n + 12, 9}, "total": n + 21}
		return r
	}
	if got := sendStats(t, a, b, inFebruary(3)); got != http.StatusBadRequest {
		t.Errorf("a report showing a 3: %d, want 400", got)
	}
	if sent, _ := storedStats(t, b, a); sent != 12 {
		t.Errorf("after a refused report B keeps %d, want 12", sent)
	}
	if got := sendStats(t, a, b, inFebruary(5)); got != http.StatusAccepted {
		t.Errorf("the same report showing a 5: %d", got)
	}
	if sent, _ := storedStats(t, b, a); sent != 17 {
		t.Errorf("B keeps %d, want 17", sent)
	}
	// C is no partner of B.
	if got := sendStats(t, c, b, statsReport(t0, 20)); got != http.StatusForbidden {
		t.Errorf("a stranger's report: %d, want 403", got)
	}
	if sent, _ := storedStats(t, b, c); sent != -1 {
		t.Errorf("B keeps a stranger's figures: %d", sent)
	}
	// An older report changes nothing; a newer one replaces.
	if got := sendStats(t, a, b, statsReport(t0.Add(-time.Minute), 30)); got != http.StatusAccepted {
		t.Errorf("an older report: %d", got)
	}
	if sent, _ := storedStats(t, b, a); sent != 17 {
		t.Errorf("an older report replaced a newer one: %d", sent)
	}
	if got := sendStats(t, a, b, statsReport(t0.Add(2*time.Minute), 40)); got != http.StatusAccepted {
		t.Errorf("a newer report: %d", got)
	}
	if sent, _ := storedStats(t, b, a); sent != 40 {
		t.Errorf("a newer report did not replace: %d", sent)
	}
	// A withdrawal forgets the figures; an older report arriving late
	// does not bring them back.
	withdrawal := map[string]any{"updated": t0.Add(3 * time.Minute).UTC().Format(time.RFC3339Nano), "months": []any{}}
	if got := sendStats(t, a, b, withdrawal); got != http.StatusAccepted {
		t.Errorf("a withdrawal: %d", got)
	}
	sendStats(t, a, b, statsReport(t0.Add(2*time.Minute+time.Second), 50))
	if sent, _ := storedStats(t, b, a); sent != -1 {
		t.Errorf("after the withdrawal B keeps %d", sent)
	}
	if list, err := b.Node().Fed.PartnerStats(context.Background()); err != nil || len(list) != 0 {
		t.Errorf("B shows %d partner reports after the withdrawal (%v)", len(list), err)
	}
	// Shared again, then the partnership ends: forgotten at once.
	sendStats(t, a, b, statsReport(t0.Add(4*time.Minute), 60))
	if sent, _ := storedStats(t, b, a); sent != 60 {
		t.Fatalf("shared again: %d", sent)
	}
	rel, _ := stateWith(t, b, tb, actorOf(a))
	if r := b.Do("DELETE", "/api/v1/partners/"+rel.ID, tb, nil); r.Status != 200 {
		t.Fatalf("end: %d %s", r.Status, r.Body)
	}
	if sent, at := storedStats(t, b, a); sent != -1 || !at.IsZero() {
		t.Errorf("after the partnership ended B keeps %d as of %v", sent, at)
	}
	// Once A hears of the end, its reports are a stranger's.
	eventually(t, "A sees the end", func() bool {
		r, _ := stateWith(t, a, ta, actorOf(b))
		return r.State != "partner"
	})
	if got := sendStats(t, a, b, statsReport(t0.Add(5*time.Minute), 70)); got != http.StatusForbidden {
		t.Errorf("a former partner's report: %d, want 403", got)
	}
}

// A node that has not opted in sends nothing; opting in sends its
// report at once, not again while nothing changed; opting out withdraws
// it at the partner.
func TestStatsSharingOptIn(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	partner(t, a, b, ta, tb)
	ctx := context.Background()
	fa := a.Node().Fed
	// A sent 6 referrals last month.
	loc, _ := time.LoadLocation("Europe/Brussels")
	last, _ := time.ParseInLocation("2006-01", statsMonths()[0], loc)
	for i := range 6 {
		at := last.Add(time.Duration(10*24+i) * time.Hour)
		r := &referral.Referral{ID: fmt.Sprintf("%s/referrals/stats-%d", a.URL, i), Side: referral.Sender, Sender: actorOf(a), Recipient: actorOf(b),
			Service: b.URL + "/services/s1", State: referral.Requested, Created: at, Updated: at,
			History: []referral.Event{{At: at, From: referral.Draft, To: referral.Requested, By: referral.Sender}}}
		if err := a.Node().Store.AddReferral(ctx, r, referral.Writes{}); err != nil {
			t.Fatal(err)
		}
	}

	if sent, err := fa.PublishStats(ctx); err != nil || sent {
		t.Fatalf("A publishes before opting in: sent %v, %v", sent, err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, at := storedStats(t, b, a); !at.IsZero() {
		t.Fatalf("B holds statistics of A, who never opted in")
	}
	if err := fa.ShareStats(ctx, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B receives A's report", func() bool { sent, _ := storedStats(t, b, a); return sent == 6 })
	if sent, err := fa.PublishStats(ctx); err != nil || sent {
		t.Errorf("A publishes the same report again: sent %v, %v", sent, err)
	}
	if list, _ := b.Node().Fed.PartnerStats(ctx); len(list) != 1 || list[0].Actor != actorOf(a) || len(list[0].Months) != 1 || list[0].Months[0].Month != statsMonths()[0] {
		t.Errorf("B's partner reports: %+v", list)
	}
	if err := fa.ShareStats(ctx, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B forgets A's figures", func() bool {
		list, _ := b.Node().Fed.PartnerStats(ctx)
		return len(list) == 0
	})
	if on, _ := fa.StatsSharing(ctx); on {
		t.Error("A still shares after opting out")
	}
	if sent, err := fa.PublishStats(ctx); err != nil || sent {
		t.Errorf("A publishes after opting out: sent %v, %v", sent, err)
	}
}
