package federation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/referral"
)

// A referral goes from A to a service of its partner B over real HTTP:
// B receives it, A learns it arrived and was accepted; the resident
// withdraws consent on A, and both nodes erase. A third node, partner of
// both, never sees any of it; the resident's name appears in no log and
// in no raw file of any node.
func TestReferralLoopBetweenNodes(t *testing.T) {
	const marker = "Zorglub-Quintessence-8812"
	logs := &logBuffer{}
	nodes := nodetest.Start(t, 3, nodetest.Options{Log: logs})
	a, b, c := nodes[0], nodes[1], nodes[2]
	ta, tb, tc := a.AdminToken(), b.AdminToken(), c.AdminToken()
	partner(t, a, b, ta, tb)
	partner(t, a, c, ta, tc)
	partner(t, b, c, tb, tc)
	resp := b.Do("POST", "/api/v1/services", tb, `{"name": "Permanence logement", "status": "active",
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "contact"]}}`)
	if resp.Status != 201 {
		t.Fatalf("create: %d %s", resp.Status, resp.Body)
	}
	var svc struct{ ID string }
	resp.JSON(t, &svc)
	uri := b.URL + "/services/" + svc.ID
	ctx := context.Background()
	eventually(t, "A has B's service", func() bool {
		_, err := a.Node().Store.PartnerService(ctx, uri)
		return err == nil
	})

	req := referral.Request{
		Resident: json.RawMessage(`{"name": "` + marker + `", "phone": "+32 470 55 44 33"}`),
		Consent: referral.ConsentInput{Method: referral.SignedForm, Categories: []directory.DataCategory{directory.DataIdentity, directory.DataContact},
			NoticeVersion: "2026-11", NoticeHash: strings.Repeat("1e", 32), NoticeLang: "nl", GivenAt: time.Now().Add(-time.Minute)},
		Worker: "a-worker",
	}
	r, err := a.Node().Refer(ctx, uri, req)
	if err != nil {
		t.Fatal(err)
	}
	state := func(n *nodetest.Node) referral.State {
		got, err := n.Node().Store.Referral(ctx, r.ID)
		if err != nil {
			return ""
		}
		return got.State
	}
	eventually(t, "B receives it", func() bool { return state(b) == referral.Received })
	eventually(t, "A learns it arrived", func() bool { return state(a) == referral.Received })
	if res, err := b.Node().Referrals.Open(ctx, r.ID, "b-worker"); err != nil || res["name"] != marker {
		t.Fatalf("B opens %v, %v", res, err)
	}
	if _, err := b.Node().MoveReferral(ctx, r.ID, referral.Accepted, "", "b-worker"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "A sees it accepted", func() bool { return state(a) == referral.Accepted })
	scanAnswers(t, nodes, marker) // while both nodes hold the data

	if _, err := a.Node().WithdrawReferral(ctx, r.ID, "a-worker"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B erases its copy", func() bool {
		got, err := b.Node().Store.Referral(ctx, r.ID)
		return err == nil && got.Erasure != nil && got.Sealed == nil && got.State == referral.Cancelled
	})
	eventually(t, "A learns B erased", func() bool {
		got, err := a.Node().Store.Referral(ctx, r.ID)
		return err == nil && got.RemoteErasure != nil && got.Sealed == nil
	})

	// C, a partner of both, received nothing.
	n := 0
	c.Node().Store.ForEachReferral(ctx, func(*referral.Referral) error { n++; return nil })
	if n != 0 {
		t.Errorf("the third node holds %d referrals", n)
	}
	scanAnswers(t, nodes, marker) // again, once erased
	// The resident's data is nowhere in clear: logs, and the raw files of
	// every node's data directory (store encrypted, payloads sealed).
	if logs.count(marker) > 0 || logs.count("+32 470 55 44 33") > 0 {
		t.Error("the resident's data reached the logs")
	}
	for _, nd := range nodes {
		nd.Stop()
		filepath.WalkDir(nd.Dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if raw, _ := os.ReadFile(path); bytes.Contains(raw, []byte(marker)) {
					t.Errorf("%s: %s holds the resident's name in clear", nd.Name, filepath.Base(path))
				}
			}
			return nil
		})
	}
}

// The JSON API drives the same loop: a worker refers with a consent, the
// recipient sees it in its received box, opens it (audited), accepts; the
// sender withdraws. Incomplete consents are refused with every problem
// listed and nothing sent.
func TestReferralAPI(t *testing.T) {
	const marker = "Zorglub-Quintessence-5123"
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	partner(t, a, b, ta, tb)
	resp := b.Do("POST", "/api/v1/services", tb, `{"name": "Permanence logement", "status": "active",
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "contact"]}}`)
	var svc struct{ ID string }
	resp.JSON(t, &svc)
	eventually(t, "A has B's service", func() bool { return len(replica(t, a)) == 1 })

	given := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	body := func(consent string) string {
		return `{"service": "` + svc.ID + `", "resident": {"name": "` + marker + `", "email": "r@example.org"},
		  "consent": {` + consent + `}}`
	}
	full := `"method": "on-screen", "categories": ["identity", "contact"], "notice_version": "2026-11",
	  "notice_hash": "` + strings.Repeat("ab", 32) + `", "notice_lang": "fr", "given_at": "` + given + `"`

	// Refusals: 400, the problems named, no data echoed, nothing sent.
	for name, consent := range map[string]string{
		"no consent":        ``,
		"category missing":  strings.Replace(full, `["identity", "contact"]`, `["identity"]`, 1),
		"expired":           full + `, "expires_at": "2020-01-01T00:00:00Z"`,
		"verbal unattested": strings.Replace(full, "on-screen", "verbal-attested", 1),
	} {
		resp := a.Do("POST", "/api/v1/referrals", ta, body(consent))
		if resp.Status != 400 || strings.Contains(string(resp.Body), marker) {
			t.Errorf("%s: %d %s", name, resp.Status, resp.Body)
		}
	}
	if resp := a.Do("POST", "/api/v1/referrals", "", body(full)); resp.Status != 401 {
		t.Errorf("anonymous referral: %d", resp.Status)
	}

	resp = a.Do("POST", "/api/v1/referrals", ta, body(full))
	if resp.Status != 201 {
		t.Fatalf("refer: %d %s", resp.Status, resp.Body)
	}
	var created struct{ ID, Reference, URI, State string }
	resp.JSON(t, &created)
	if created.State != "requested" {
		t.Errorf("created = %+v", created)
	}
	type view struct {
		ID, State, Box string
		Resident       map[string]any
		Erasure        *struct{ Why string }
	}
	var list struct {
		Total     int
		Referrals []view
	}
	eventually(t, "B's received box has it", func() bool {
		b.Do("GET", "/api/v1/referrals?box=received&state=received", tb, nil).JSON(t, &list)
		return list.Total == 1
	})
	id := list.Referrals[0].ID
	var got view
	b.Do("GET", "/api/v1/referrals/"+id, tb, nil).JSON(t, &got)
	if got.Resident["name"] != marker || got.Box != "received" {
		t.Errorf("B's view = %+v", got)
	}
	if resp := b.Do("POST", "/api/v1/referrals/"+id+"/transition", tb, `{"to": "completed", "reason": "service-provided"}`); resp.Status != 409 {
		t.Errorf("completed before accepted: %d %s", resp.Status, resp.Body)
	}
	if resp := b.Do("POST", "/api/v1/referrals/"+id+"/transition", tb, `{"to": "accepted"}`); resp.Status != 200 {
		t.Fatalf("accept: %d %s", resp.Status, resp.Body)
	}
	// Waiting polls the lists, which never open resident data.
	eventually(t, "A sees it accepted", func() bool {
		list.Referrals = nil
		a.Do("GET", "/api/v1/referrals?box=sent&state=accepted", ta, nil).JSON(t, &list)
		return len(list.Referrals) == 1
	})
	// The consent receipt, in Dutch: what, to whom, until when, how to
	// withdraw, the reference; no personal data. Only where consent was
	// collected.
	rec := a.Do("GET", "/api/v1/referrals/"+created.ID+"/receipt?lang=nl", ta, nil)
	page := string(rec.Body)
	for _, want := range []string{"Bewijs van toestemming", created.Reference, "Association node2", "Permanence logement", "identiteit", "contactgegevens", "intrekken"} {
		if !strings.Contains(page, want) {
			t.Errorf("receipt lacks %q", want)
		}
	}
	if rec.Status != 200 || !strings.HasPrefix(rec.Header.Get("Content-Type"), "text/html") || strings.Contains(page, marker) || strings.Contains(page, "r@example.org") {
		t.Errorf("receipt: %d %s", rec.Status, rec.Header.Get("Content-Type"))
	}
	pdf := a.Do("GET", "/api/v1/referrals/"+created.ID+"/receipt?lang=fr&format=pdf", ta, nil)
	if pdf.Status != 200 || pdf.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf.Body, []byte("%PDF-")) ||
		!bytes.Contains(pdf.Body, []byte("consentement")) || created.Reference == "" || !bytes.Contains(pdf.Body, []byte(created.Reference)) || bytes.Contains(pdf.Body, []byte(marker)) {
		t.Errorf("PDF receipt: %d %s, %d bytes", pdf.Status, pdf.Header.Get("Content-Type"), len(pdf.Body))
	}
	if resp := a.Do("GET", "/api/v1/referrals/"+created.ID+"/receipt?format=doc", ta, nil); resp.Status != 400 {
		t.Errorf("receipt in an unknown format: %d", resp.Status)
	}
	if resp := b.Do("GET", "/api/v1/referrals/"+id+"/receipt", tb, nil); resp.Status != 404 {
		t.Errorf("receipt on the recipient: %d", resp.Status)
	}
	if resp := a.Do("POST", "/api/v1/referrals/"+created.ID+"/withdraw", ta, nil); resp.Status != 200 {
		t.Fatalf("withdraw: %d %s", resp.Status, resp.Body)
	}
	got = view{}
	a.Do("GET", "/api/v1/referrals/"+created.ID, ta, nil).JSON(t, &got)
	if got.State != "cancelled" || got.Resident != nil || got.Erasure == nil {
		t.Errorf("A after withdrawal: %+v", got)
	}
	if page := string(a.Do("GET", "/api/v1/referrals/"+created.ID+"/receipt?lang=en", ta, nil).Body); !strings.Contains(page, "This consent was withdrawn") {
		t.Error("the receipt does not say the consent was withdrawn")
	}
	eventually(t, "B erased", func() bool {
		list.Referrals = nil
		b.Do("GET", "/api/v1/referrals?box=received&state=cancelled", tb, nil).JSON(t, &list)
		return len(list.Referrals) == 1 && list.Referrals[0].Erasure != nil
	})
	got = view{}
	b.Do("GET", "/api/v1/referrals/"+id, tb, nil).JSON(t, &got)
	if got.Resident != nil || got.Erasure == nil {
		t.Errorf("B after erasure: %+v", got)
	}
	var audit struct {
		Entries []struct{ Who, Action string }
	}
	b.Do("GET", "/api/v1/audit", tb, nil).JSON(t, &audit)
	var actions []string
	for _, e := range audit.Entries {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "received,opened,transition,transition,erased" {
		t.Errorf("B's audit = %v", actions)
	}
	csvResp := b.Do("GET", "/api/v1/audit?format=csv", tb, nil)
	lines := strings.Split(strings.TrimSpace(string(csvResp.Body)), "\n")
	if csvResp.Status != 200 || !strings.HasPrefix(csvResp.Header.Get("Content-Type"), "text/csv") || len(lines) != len(audit.Entries)+1 ||
		lines[0] != "at,who,action,referral,detail" || !strings.Contains(lines[1], ",received,") {
		t.Errorf("audit export: %d %s\n%s", csvResp.Status, csvResp.Header.Get("Content-Type"), csvResp.Body)
	}
	if resp := b.Do("GET", "/api/v1/audit", "", nil); resp.Status != 401 {
		t.Errorf("anonymous audit: %d", resp.Status)
	}
	if resp := b.Do("GET", "/api/v1/referrals/0000", tb, nil); resp.Status != 404 {
		t.Errorf("unknown referral: %d", resp.Status)
	}
}

// An unanswered referral expires after 30 days on the node's own clock,
// and its data is erased at once; the admin sees what is due before.
func TestUnansweredReferralExpires(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Second)
	nodes := nodetest.Start(t, 2, nodetest.Options{Clock: &start, Configure: func(c *node.Config) { c.SweepEvery = 50 * time.Millisecond }})
	a, b := nodes[0], nodes[1]
	partner(t, a, b, a.AdminToken(), b.AdminToken())
	uri := referralService(t, a, b)
	ctx := context.Background()
	r, err := a.Node().Refer(ctx, uri, nameOnly("Résidente", start))
	if err != nil {
		t.Fatal(err)
	}
	stateOn := func(n *nodetest.Node) (referral.State, bool) {
		got, err := n.Node().Store.Referral(ctx, r.ID)
		if err != nil {
			return "", false
		}
		return got.State, got.Sealed == nil && got.Erasure != nil
	}
	eventually(t, "B receives it", func() bool { s, _ := stateOn(b); return s == referral.Received })

	b.Clock.Advance(29 * 24 * time.Hour)
	time.Sleep(200 * time.Millisecond) // several sweeps
	if s, erased := stateOn(b); s != referral.Received || erased {
		t.Fatalf("after 29 days: %s, erased %v", s, erased)
	}
	var due struct{ Expire, Erase []string }
	b.Do("GET", "/api/v1/referrals/due", b.AdminToken(), nil).JSON(t, &due)
	if len(due.Expire)+len(due.Erase) != 0 {
		t.Errorf("due after 29 days: %+v", due)
	}
	b.Clock.Advance(24*time.Hour + time.Minute)
	eventually(t, "B expires and erases it", func() bool { s, erased := stateOn(b); return s == referral.Expired && erased })
}

// BenchmarkReferralRoundTrip times one referral from A to B and back:
// created and sealed on A, delivered and opened on B, received reported,
// accepted on B, acceptance back at A. Referrals go one after another; the
// inbox rate limit is raised, as between two busy partners.
// Run: go test -run '^$' -bench ReferralRoundTrip -benchtime 1000x ./federation/
func BenchmarkReferralRoundTrip(b *testing.B) {
	nodes := nodetest.Start(b, 2, nodetest.Options{Configure: func(c *node.Config) { c.InboxRate, c.InboxBurst = 1e6, 1e6 }})
	na, nb := nodes[0], nodes[1]
	partner(b, na, nb, na.AdminToken(), nb.AdminToken())
	resp := nb.Do("POST", "/api/v1/services", nb.AdminToken(), `{"name": "Permanence", "status": "active",
	  "referral_policy": {"accepts": true, "categories": ["identity", "contact"]}}`)
	var svc struct{ ID string }
	resp.JSON(b, &svc)
	uri := nb.URL + "/services/" + svc.ID
	eventually(b, "A has B's service", func() bool { return len(replica(b, na)) == 1 })
	ctx := context.Background()
	req := referral.Request{
		Resident: json.RawMessage(`{"name": "Résidente", "phone": "+32 470 00 00 00"}`),
		Consent: referral.ConsentInput{Method: referral.OnScreen, Categories: []directory.DataCategory{directory.DataIdentity, directory.DataContact},
			NoticeVersion: "1", NoticeHash: strings.Repeat("ef", 32), NoticeLang: "fr", GivenAt: time.Now().Add(-time.Minute)},
		Worker: "w"}
	waitState := func(n *nodetest.Node, id string, want referral.State) {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if r, err := n.Node().Store.Referral(ctx, id); err == nil && r.State == want {
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
		b.Fatalf("%s: referral never reached %s", n.Name, want)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		r, err := na.Node().Refer(ctx, uri, req)
		if err != nil {
			b.Fatal(err)
		}
		waitState(nb, r.ID, referral.Received)
		if _, err := nb.Node().MoveReferral(ctx, r.ID, referral.Accepted, "", "w"); err != nil {
			b.Fatal(err)
		}
		waitState(na, r.ID, referral.Accepted)
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// Referrals forced through by hand, signed by a real partner, are refused
// by the recipient itself (403) and leave nothing there: what the sender's
// checks would have stopped is checked again on arrival.
func TestForcedReferralsRefusedByRecipient(t *testing.T) {
	nodes := nodetest.Start(t, 3, nodetest.Options{})
	a, b, c := nodes[0], nodes[1], nodes[2]
	partner(t, a, b, a.AdminToken(), b.AdminToken())
	tb := b.AdminToken()
	resp := b.Do("POST", "/api/v1/services", tb, `{"name": "Permanence", "status": "active",
	  "referral_policy": {"accepts": true, "categories": ["identity", "contact", "special"]}}`)
	var svc struct{ ID string }
	resp.JSON(t, &svc)
	ctx := context.Background()
	bKey, err := a.Node().Fed.SealingKeyOf(ctx, b.URL+"/actor")
	if err != nil || len(bKey) == 0 {
		t.Fatalf("B's sealing key: %v", err)
	}
	// send posts an Offer from sender to B, signed with sender's key.
	send := func(sender *nodetest.Node, n int, consent referral.ConsentSummary, resident string) int {
		t.Helper()
		id := fmt.Sprintf("%s/referrals/forced-%d", sender.URL, n)
		sealed, err := referral.Seal(bKey, referral.Binding{Referral: id, Sender: sender.URL + "/actor", Recipient: b.URL + "/actor"}, []byte(resident))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams", "id": fmt.Sprintf("%s/activities/forced-%d", sender.URL, n),
			"type": "Offer", "actor": sender.URL + "/actor", "to": []string{b.URL + "/actor"},
			"object": federation.ReferralObject{ID: id, Type: "Referral", AttributedTo: sender.URL + "/actor", To: []string{b.URL + "/actor"},
				Service: b.URL + "/services/" + svc.ID, Consent: consent, Sealed: sealed},
		})
		pemKey, err := sender.Node().Store.Secret(ctx, "actor-rsa")
		if err != nil {
			t.Fatal(err)
		}
		key, err := federation.ParsePrivateKey(pemKey)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", b.URL+"/inbox", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/activity+json")
		if err := (&federation.Signer{Key: key, KeyID: sender.URL + "/actor#main-key", Now: time.Now}).Sign(req, body); err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	now := time.Now().UTC()
	ok := referral.ConsentSummary{ID: "c", Method: referral.OnScreen, NoticeVersion: "1", GivenAt: now.Add(-time.Minute), ExpiresAt: now.Add(24 * time.Hour),
		Categories: []directory.DataCategory{directory.DataIdentity, directory.DataContact}}
	person := `{"name": "Résidente", "phone": "+32 470 00 00 01"}`
	with := func(change func(c *referral.ConsentSummary)) referral.ConsentSummary {
		c := ok
		c.Categories = slices.Clone(ok.Categories)
		change(&c)
		return c
	}
	cases := []struct {
		name     string
		sender   *nodetest.Node
		consent  referral.ConsentSummary
		resident string
	}{
		{"no consent", a, referral.ConsentSummary{}, person},
		{"expired consent", a, with(func(c *referral.ConsentSummary) { c.ExpiresAt = now.Add(-time.Hour) }), person},
		{"category not covered", a, with(func(c *referral.ConsentSummary) { c.Categories = []directory.DataCategory{directory.DataIdentity} }), person},
		{"special without its flag", a, with(func(c *referral.ConsentSummary) {
			c.Categories = append(c.Categories, directory.DataSpecial)
		}), `{"name": "Résidente", "health": "asthme"}`},
		{"field outside the allow-list", a, ok, `{"name": "Résidente", "notes": "confidentiel"}`},
		{"from a non-partner", c, ok, person},
	}
	for i, tt := range cases {
		if code := send(tt.sender, i, tt.consent, tt.resident); code != http.StatusForbidden {
			t.Errorf("%s: answered %d, want 403", tt.name, code)
		}
	}
	n := 0
	b.Node().Store.ForEachReferral(ctx, func(*referral.Referral) error { n++; return nil })
	if n != 0 {
		t.Errorf("B recorded %d forced referrals", n)
	}
	// The same, done right, is taken: the refusals were for the reasons tested.
	if code := send(a, 99, ok, person); code != http.StatusAccepted {
		t.Errorf("a valid hand-made referral: %d", code)
	}
	n = 0
	b.Node().Store.ForEachReferral(ctx, func(*referral.Referral) error { n++; return nil })
	if n != 1 {
		t.Errorf("B holds %d referrals after the valid one, want 1", n)
	}
}

// scanAnswers fails if the marker shows in any public or federation
// answer of any node, with or without a token, as HTML, JSON or
// ActivityPub.
func scanAnswers(t *testing.T, nodes []*nodetest.Node, marker string) {
	t.Helper()
	for _, nd := range nodes {
		tok := nd.AdminToken()
		for _, path := range []string{"/", "/api/v1/services", "/api/v1/network/services", "/api/v1/search?q=" + marker,
			"/api/v1/search?q=logement", "/hsds/services", "/hsds/organizations", "/actor", "/outbox", "/outbox?page=1",
			"/followers", "/following", "/.well-known/nodeinfo", "/nodeinfo/2.1", "/metrics", "/healthz", "/readyz",
			"/api/v1/partners", "/api/v1/network/partners-of-partners", "/api/v1/audit", "/api/v1/referrals"} {
			for _, token := range []string{"", tok} {
				if resp := nd.Do("GET", path, token, nil); bytes.Contains(resp.Body, []byte(marker)) {
					t.Errorf("%s %s (token %v) shows the resident's name", nd.Name, path, token != "")
				}
			}
			req, _ := http.NewRequest("GET", nd.URL+path, nil)
			req.Header.Set("Accept", "application/activity+json")
			if res, err := http.DefaultClient.Do(req); err == nil {
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if bytes.Contains(body, []byte(marker)) {
					t.Errorf("%s %s as ActivityPub shows the resident's name", nd.Name, path)
				}
			}
		}
	}
}

// A withdrawal made while the recipient is down reaches it when it is
// back: the erasure request waits in the durable queue (first retry after
// about 30 s), and B erases and acknowledges.
func TestWithdrawalReachesOfflineRecipient(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a delivery retry (about 30 s)")
	}
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b := nodes[0], nodes[1]
	partner(t, a, b, a.AdminToken(), b.AdminToken())
	uri := referralService(t, a, b)
	ctx := context.Background()
	r, err := a.Node().Refer(ctx, uri, nameOnly("Résidente", time.Now().Add(-time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "A learns it arrived", func() bool {
		got, err := a.Node().Store.Referral(ctx, r.ID)
		return err == nil && got.State == referral.Received
	})

	b.Stop()
	if _, err := a.Node().WithdrawReferral(ctx, r.ID, "w"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the first attempt fails: B is down
	b.Restart()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := b.Node().Store.Referral(ctx, r.ID)
		if err == nil && got.Erasure != nil && got.Sealed == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("B never erased the referral withdrawn while it was down")
		}
		time.Sleep(200 * time.Millisecond)
	}
	eventually(t, "A learns B erased", func() bool {
		got, err := a.Node().Store.Referral(ctx, r.ID)
		return err == nil && got.RemoteErasure != nil
	})
}

// After its sealing key is rotated, a node still opens what was sealed to
// the old key, publishes the new one, and opens what is sealed to it.
func TestSealingKeyRotation(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b := nodes[0], nodes[1]
	partner(t, a, b, a.AdminToken(), b.AdminToken())
	uri := referralService(t, a, b)
	ctx := context.Background()
	refer := func(name string) string {
		t.Helper()
		r, err := a.Node().Refer(ctx, uri, nameOnly(name, time.Now().Add(-time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "B receives "+name, func() bool { _, err := b.Node().Store.Referral(ctx, r.ID); return err == nil })
		return r.ID
	}
	keyIDOf := func(id string) string {
		r, _ := b.Node().Store.Referral(ctx, id)
		k, _ := r.Sealed.KeyID()
		return k
	}
	before := refer("Avant")
	oldKey, err := a.Node().Fed.SealingKeyOf(ctx, b.URL+"/actor")
	if err != nil {
		t.Fatal(err)
	}

	b.Stop()
	newID, err := node.RotateSealingKey(ctx, b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	b.Restart()
	if res, err := b.Node().Referrals.Open(ctx, before, "w"); err != nil || res["name"] != "Avant" {
		t.Errorf("after rotation, the old referral: %v, %v", res, err)
	}
	// A partner that has not refetched B's actor seals to the old key:
	// still readable.
	cached := refer("Cache")
	if keyIDOf(cached) != referral.KeyID(oldKey) {
		t.Errorf("expected a payload sealed to the old key")
	}
	if _, err := b.Node().Referrals.Open(ctx, cached, "w"); err != nil {
		t.Errorf("payload sealed to the old key after rotation: %v", err)
	}
	// Once A refetches the actor, it seals to the new key.
	if _, err := a.Node().Fed.FetchActor(ctx, b.URL+"/actor", true); err != nil {
		t.Fatal(err)
	}
	fresh := refer("Apres")
	if keyIDOf(fresh) != newID || newID == referral.KeyID(oldKey) {
		t.Errorf("new payload sealed to %s, want the new key %s", keyIDOf(fresh), newID)
	}
	if res, err := b.Node().Referrals.Open(ctx, fresh, "w"); err != nil || res["name"] != "Apres" {
		t.Errorf("payload sealed to the new key: %v, %v", res, err)
	}
}

// B rejects one referral with a reason and completes another with an
// outcome; A sees each state and code, and nothing else, come back.
func TestRejectAndCompleteBetweenNodes(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b := nodes[0], nodes[1]
	partner(t, a, b, a.AdminToken(), b.AdminToken())
	uri := referralService(t, a, b)
	ctx := context.Background()
	refer := func() string {
		r, err := a.Node().Refer(ctx, uri, nameOnly("Résidente", time.Now().Add(-time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "B receives it", func() bool { _, err := b.Node().Store.Referral(ctx, r.ID); return err == nil })
		return r.ID
	}
	on := func(n *nodetest.Node, id string) *referral.Referral {
		r, _ := n.Node().Store.Referral(ctx, id)
		return r
	}
	rejected, done := refer(), refer()
	if _, err := b.Node().MoveReferral(ctx, rejected, referral.Rejected, "", "b"); !errors.Is(err, referral.ErrTransition) {
		t.Errorf("rejected without a reason: %v", err)
	}
	if _, err := b.Node().MoveReferral(ctx, rejected, referral.Rejected, "no-capacity", "b"); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		to     referral.State
		reason string
	}{{referral.Accepted, ""}, {referral.InProgress, ""}, {referral.Completed, "service-provided"}} {
		if _, err := b.Node().MoveReferral(ctx, done, step.to, step.reason, "b"); err != nil {
			t.Fatalf("→ %s: %v", step.to, err)
		}
	}
	eventually(t, "A sees the rejection and the completion", func() bool {
		r1, r2 := on(a, rejected), on(a, done)
		return r1 != nil && r2 != nil && r1.State == referral.Rejected && r2.State == referral.Completed
	})
	if r := on(a, rejected); r.Reason != "no-capacity" {
		t.Errorf("A's rejected referral: reason %q", r.Reason)
	}
	r := on(a, done)
	if r.Reason != "service-provided" || r.History[len(r.History)-1].By != referral.Recipient {
		t.Errorf("A's completed referral: %+v", r)
	}
	// On A, the final state stays final.
	if _, err := a.Node().MoveReferral(ctx, done, referral.Cancelled, "", "a"); !errors.Is(err, referral.ErrTransition) {
		t.Errorf("A cancelled a completed referral: %v", err)
	}
}

// referralService creates on b a service taking referrals of identity
// data from partners, waits until a has it, and returns its ActivityPub
// id.
func referralService(t testing.TB, a, b *nodetest.Node) string {
	t.Helper()
	resp := b.Do("POST", "/api/v1/services", b.AdminToken(), `{"name": "Permanence", "status": "active",
	  "referral_policy": {"accepts": true, "categories": ["identity"]}}`)
	if resp.Status != 201 {
		t.Fatalf("create: %d %s", resp.Status, resp.Body)
	}
	var svc struct{ ID string }
	resp.JSON(t, &svc)
	eventually(t, "A has B's service", func() bool { return len(replica(t, a)) == 1 })
	return b.URL + "/services/" + svc.ID
}

// nameOnly is a worker's referral of a resident known by name alone, with
// an on-screen consent given at the moment given.
func nameOnly(name string, given time.Time) referral.Request {
	return referral.Request{
		Resident: json.RawMessage(`{"name": "` + name + `"}`),
		Consent: referral.ConsentInput{Method: referral.OnScreen, Categories: []directory.DataCategory{directory.DataIdentity},
			NoticeVersion: "1", NoticeHash: strings.Repeat("ab", 32), NoticeLang: "fr", GivenAt: given},
		Worker: "w"}
}
