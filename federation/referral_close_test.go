package federation_test

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/referral"
)

// A referral the sender cancels is cancelled on the recipient's node
// too, where its workers can then do nothing more with it; nobody else
// can cancel it there.
func TestSenderCancelReachesRecipient(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b := nodes[0], nodes[1]
	partner(t, a, b, a.AdminToken(), b.AdminToken())
	uri := referralService(t, a, b)
	ctx := context.Background()
	r, err := a.Node().Refer(ctx, uri, nameOnly("Résident", time.Now().Add(-time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "B receives it", func() bool { _, err := b.Node().Store.Referral(ctx, r.ID); return err == nil })
	if _, err := b.Node().MoveReferral(ctx, r.ID, referral.Accepted, "", "b"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "A sees the acceptance", func() bool {
		got, _ := a.Node().Store.Referral(ctx, r.ID)
		return got.State == referral.Accepted
	})
	// B's own node cannot cancel it in A's name.
	if _, err := b.Node().Referrals.Remote(ctx, r.ID, b.Node().Fed.ActorID(), referral.Cancelled, ""); !errors.Is(err, referral.ErrRefused) {
		t.Errorf("a cancellation from another actor than the sender: %v", err)
	}
	if _, err := a.Node().MoveReferral(ctx, r.ID, referral.Cancelled, "", "a"); err != nil {
		t.Fatal(err)
	}
	var got *referral.Referral
	eventually(t, "B sees the cancellation", func() bool {
		got, _ = b.Node().Store.Referral(ctx, r.ID)
		return got.State == referral.Cancelled
	})
	if last := got.History[len(got.History)-1]; last.By != referral.Sender || last.From != referral.Accepted {
		t.Errorf("B's last event: %+v", last)
	}
	if _, err := b.Node().MoveReferral(ctx, r.ID, referral.InProgress, "", "b"); !errors.Is(err, referral.ErrTransition) {
		t.Errorf("B went on with a cancelled referral: %v", err)
	}
	found := false
	b.Node().ForEachAudit(ctx, func(e *referral.AuditEntry) error {
		found = found || (e.Referral == r.ID && e.Detail == "accepted → cancelled" && e.Who == a.Node().Fed.ActorID())
		return nil
	})
	if !found {
		t.Error("B's audit log does not record the sender's cancellation")
	}
	// Nothing is owed any more on either side.
	for _, n := range nodes {
		if owing, _ := n.Node().Referrals.Owing(ctx); len(owing) != 0 {
			t.Errorf("%s still owes messages about %d referrals", n.Name, len(owing))
		}
	}
}

// At a resident's request, an admin erases a closed referral's data
// before its retention delay, on either node; a worker cannot, an open
// referral must be closed first, and the partner's copy is not touched.
func TestEraseClosedReferralOnRequest(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b := nodes[0], nodes[1]
	tb := b.AdminToken()
	partner(t, a, b, a.AdminToken(), tb)
	uri := referralService(t, a, b)
	ctx := context.Background()
	r, err := a.Node().Refer(ctx, uri, nameOnly("Résidente à effacer", time.Now().Add(-time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "B receives it", func() bool { _, err := b.Node().Store.Referral(ctx, r.ID); return err == nil })
	handle := "/api/v1/referrals/" + referral.Handle(r.ID)
	if resp := b.Do("POST", handle+"/erase", tb, nil); resp.Status != 409 {
		t.Errorf("erase of an open referral: %d %s", resp.Status, resp.Body)
	}
	if resp := b.Do("POST", "/api/v1/users", tb, `{"email": "worker@b.test", "role": "worker", "password": "worker-password"}`); resp.Status != 201 {
		t.Fatalf("add worker: %d", resp.Status)
	}
	if _, err := b.Node().MoveReferral(ctx, r.ID, referral.Rejected, "no-capacity", "b"); err != nil {
		t.Fatal(err)
	}
	if resp := b.Do("POST", handle+"/erase", b.Token("worker@b.test", "worker-password"), nil); resp.Status != 403 {
		t.Errorf("a worker erased: %d %s", resp.Status, resp.Body)
	}
	resp := b.Do("POST", handle+"/erase", tb, nil)
	if resp.Status != 200 {
		t.Fatalf("erase: %d %s", resp.Status, resp.Body)
	}
	got, _ := b.Node().Store.Referral(ctx, r.ID)
	if got.Sealed != nil || got.Erasure == nil || got.Erasure.Why != "request" {
		t.Fatalf("B's referral after the erasure: erasure %+v, %d sealed bytes", got.Erasure, len(got.Sealed))
	}
	if _, err := b.Node().OpenReferral(ctx, r.ID, "b"); err == nil {
		t.Error("B still opens the erased data")
	}
	if strings.Contains(string(b.Do("GET", handle, tb, nil).Body), "Résidente à effacer") {
		t.Error("the erased name is still shown")
	}
	// Erasing again changes nothing; A's copy is A's.
	if resp := b.Do("POST", handle+"/erase", tb, nil); resp.Status != 200 {
		t.Errorf("erase again: %d", resp.Status)
	}
	n := 0
	b.Node().ForEachAudit(ctx, func(e *referral.AuditEntry) error {
		if e.Referral == r.ID && e.Action == "erased" && e.Detail == "request" {
			n++
		}
		return nil
	})
	if n != 1 {
		t.Errorf("B's audit log records %d erasures on request, want 1", n)
	}
	time.Sleep(200 * time.Millisecond)
	if mine, _ := a.Node().Store.Referral(ctx, r.ID); mine.Sealed == nil {
		t.Error("the recipient's erasure erased the sender's copy")
	}

	// The same from the referral's page, by an admin logged in: a button,
	// a confirmation, then the data is gone.
	r2, err := a.Node().Refer(ctx, uri, nameOnly("Deuxième résidente", time.Now().Add(-time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "B receives the second", func() bool { _, err := b.Node().Store.Referral(ctx, r2.ID); return err == nil })
	if _, err := b.Node().MoveReferral(ctx, r2.ID, referral.Rejected, "no-capacity", "b"); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) string {
		resp, err := c.Get(b.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	csrf := func(page string) string {
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no form token in:\n%s", page)
		}
		return html.UnescapeString(m[1])
	}
	if resp, err := c.PostForm(b.URL+"/login", url.Values{"csrf": {csrf(get("/login"))}, "email": {b.AdminEmail}, "password": {b.AdminPassword}}); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %v %v", resp, err)
	}
	page := "/referrals/" + referral.Handle(r2.ID)
	if !strings.Contains(get(page), `id="erase-now"`) {
		t.Fatal("the closed referral's page offers no erasure to the admin")
	}
	confirm := get(page + "?confirm=erase")
	if !strings.Contains(confirm, `id="erase-confirm"`) {
		t.Fatal("no confirmation before the erasure")
	}
	if resp, err := c.PostForm(b.URL+page+"/erase", url.Values{"csrf": {csrf(confirm)}}); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("erase from the page: %v %v", resp, err)
	}
	if got, _ := b.Node().Store.Referral(ctx, r2.ID); got.Sealed != nil || got.Erasure == nil {
		t.Error("the page's erasure left the data")
	}
	if strings.Contains(get(page), `id="erase-now"`) {
		t.Error("an erased referral still offers its erasure")
	}
}
