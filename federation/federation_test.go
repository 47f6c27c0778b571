package federation_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	defer func() {
		if d := time.Since(start); d > 2*time.Second {
			t.Logf("waited %v for %s", d.Round(time.Millisecond), what)
		}
	}()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

type relation struct{ ID, Actor, Name, State, Kind string }

func relations(t testing.TB, n *nodetest.Node, token string) []relation {
	t.Helper()
	var out struct{ Partners []relation }
	resp := n.Do("GET", "/api/v1/partners", token, nil)
	if resp.Status != 200 {
		t.Fatalf("partners on %s: %d %s", n.Name, resp.Status, resp.Body)
	}
	resp.JSON(t, &out)
	return out.Partners
}

func stateWith(t testing.TB, n *nodetest.Node, token, actor string) (relation, bool) {
	for _, r := range relations(t, n, token) {
		if r.Actor == actor {
			return r, true
		}
	}
	return relation{}, false
}

func actorOf(n *nodetest.Node) string { return n.URL + "/actor" }

func handleOf(n *nodetest.Node) string { return "@" + n.Name + "@" + n.Addr }

type networkService struct {
	URI, Actor, Provider string
	Service              struct{ Name, Description string }
}

func replica(t testing.TB, n *nodetest.Node) []networkService {
	t.Helper()
	var out struct{ Services []networkService }
	n.Do("GET", "/api/v1/network/services?per_page=500", "", nil).JSON(t, &out)
	return out.Services
}

func findService(list []networkService, name string) *networkService {
	for i := range list {
		if list[i].Service.Name == name {
			return &list[i]
		}
	}
	return nil
}

// partner makes a and b partners: a asks, b's admin accepts.
func partner(t testing.TB, a, b *nodetest.Node, ta, tb string) {
	t.Helper()
	resp := a.Do("POST", "/api/v1/partners", ta, map[string]string{"actor": handleOf(b)})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("partner request %s→%s: %d %s", a.Name, b.Name, resp.Status, resp.Body)
	}
	var rel relation
	eventually(t, b.Name+" sees "+a.Name+"'s request as pending", func() bool {
		var ok bool
		rel, ok = stateWith(t, b, tb, actorOf(a))
		return ok && rel.State == "pending"
	})
	if resp := b.Do("POST", "/api/v1/partners/"+rel.ID+"/accept", tb, nil); resp.Status != 200 {
		t.Fatalf("accept: %d %s", resp.Status, resp.Body)
	}
	eventually(t, a.Name+" and "+b.Name+" partners on both sides", func() bool {
		ra, _ := stateWith(t, a, ta, actorOf(b))
		rb, _ := stateWith(t, b, tb, actorOf(a))
		return ra.State == "partner" && rb.State == "partner"
	})
}

func createService(t testing.TB, n *nodetest.Node, token, name string) string {
	t.Helper()
	resp := n.Do("POST", "/api/v1/services", token, `{"name": "`+name+`", "description": "Aide", "status": "active",
	  "categories": ["equipement-et-alimentation--alimentation"], "translations": {"nl": {"name": "`+name+` NL"}}}`)
	if resp.Status != 201 {
		t.Fatalf("create service on %s: %d %s", n.Name, resp.Status, resp.Body)
	}
	var s struct{ ID string }
	resp.JSON(t, &s)
	return s.ID
}

func TestPartnershipAndReplication(t *testing.T) {
	nodes := nodetest.Start(t, 3, nodetest.Options{})
	a, b, c := nodes[0], nodes[1], nodes[2]
	ta, tb, tc := a.AdminToken(), b.AdminToken(), c.AdminToken()

	// C has services before any partnership: they arrive by backfill.
	for _, name := range []string{"Cours de français C1", "Cours de français C2"} {
		createService(t, c, tc, name)
	}

	partner(t, a, b, ta, tb)

	// A service created on A reaches B, with its translations.
	id := createService(t, a, ta, "Épicerie sociale A")
	eventually(t, "B replicates A's new service", func() bool { return findService(replica(t, b), "Épicerie sociale A") != nil })
	got := findService(replica(t, b), "Épicerie sociale A")
	if got.URI != a.URL+"/services/"+id || got.Actor != actorOf(a) || got.Provider != "Association node1" {
		t.Errorf("replicated service = %+v", got)
	}

	// An update replaces it, once, keyed by its ActivityPub id.
	resp := a.Do("PUT", "/api/v1/services/"+id, ta, `{"name": "Épicerie sociale A (nouvelle adresse)", "status": "active"}`)
	if resp.Status != 200 {
		t.Fatalf("update: %d %s", resp.Status, resp.Body)
	}
	eventually(t, "B sees the update", func() bool {
		return findService(replica(t, b), "Épicerie sociale A (nouvelle adresse)") != nil
	})
	if n := len(replica(t, b)); n != 1 {
		t.Errorf("B's replica holds %d services, want 1", n)
	}

	// A delete removes it.
	if resp := a.Do("DELETE", "/api/v1/services/"+id, ta, nil); resp.Status != 204 {
		t.Fatalf("delete: %d", resp.Status)
	}
	eventually(t, "B drops the deleted service", func() bool { return len(replica(t, b)) == 0 })

	// Late partnership: A backfills C's existing services.
	partner(t, a, c, ta, tc)
	eventually(t, "A backfills C's services", func() bool {
		r := replica(t, a)
		return findService(r, "Cours de français C1") != nil && findService(r, "Cours de français C2") != nil
	})
	// C never partnered with B: B has none of C's services.
	if s := findService(replica(t, b), "Cours de français C1"); s != nil {
		t.Error("B holds a service of C, which is not its partner")
	}

	// B discovers C as a partner of its partner A.
	var pop struct {
		Associations []struct {
			Actor string
			Via   []string
		}
	}
	eventually(t, "B discovers C through A", func() bool {
		b.Do("GET", "/api/v1/network/partners-of-partners", tb, nil).JSON(t, &pop)
		for _, x := range pop.Associations {
			if x.Actor == actorOf(c) && len(x.Via) == 1 && x.Via[0] == actorOf(a) {
				return true
			}
		}
		return false
	})

	// Ending the partnership: both sides stop being partners.
	rel, _ := stateWith(t, b, tb, actorOf(a))
	if resp := b.Do("DELETE", "/api/v1/partners/"+rel.ID, tb, nil); resp.Status != 200 {
		t.Fatalf("end partnership: %d %s", resp.Status, resp.Body)
	}
	eventually(t, "A no longer lists B as partner", func() bool {
		r, _ := stateWith(t, a, ta, actorOf(b))
		return r.State != "partner"
	})
	// …and A's next service no longer reaches B.
	createService(t, a, ta, "Atelier vélo A")
	eventually(t, "C gets A's new service", func() bool { return findService(replica(t, c), "Atelier vélo A") != nil })
	if findService(replica(t, b), "Atelier vélo A") != nil {
		t.Error("B still receives A's services after the partnership ended")
	}
}

func TestDiscoveryDocuments(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	resp := n.Do("GET", "/.well-known/webfinger?resource=acct:"+n.Name+"@"+n.Addr, "", nil)
	if resp.Status != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/jrd+json") {
		t.Fatalf("webfinger: %d %s", resp.Status, resp.Body)
	}
	var jrd struct {
		Subject string
		Links   []struct{ Rel, Type, Href string }
	}
	resp.JSON(t, &jrd)
	if jrd.Subject != "acct:"+n.Name+"@"+n.Addr || len(jrd.Links) == 0 || jrd.Links[0].Rel != "self" ||
		jrd.Links[0].Type != "application/activity+json" || jrd.Links[0].Href != actorOf(n) {
		t.Errorf("webfinger = %+v", jrd)
	}
	if resp := n.Do("GET", "/.well-known/webfinger?resource=acct:someone@"+n.Addr, "", nil); resp.Status != 404 {
		t.Errorf("webfinger for another handle = %d, want 404", resp.Status)
	}

	var links struct{ Links []struct{ Rel, Href string } }
	n.Do("GET", "/.well-known/nodeinfo", "", nil).JSON(t, &links)
	if len(links.Links) != 1 || links.Links[0].Rel != "http://nodeinfo.diaspora.software/ns/schema/2.1" {
		t.Fatalf("nodeinfo links = %+v", links)
	}
	var ni struct {
		Version   string
		Software  struct{ Name, Version string }
		Protocols []string
	}
	n.Do("GET", strings.TrimPrefix(links.Links[0].Href, n.URL), "", nil).JSON(t, &ni)
	if ni.Version != "2.1" || ni.Software.Name != "maillage" || len(ni.Protocols) != 1 || ni.Protocols[0] != "activitypub" {
		t.Errorf("nodeinfo = %+v", ni)
	}

	req, _ := http.NewRequest("GET", actorOf(n), nil)
	req.Header.Set("Accept", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var actor map[string]any
	json.NewDecoder(res.Body).Decode(&actor)
	res.Body.Close()
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/activity+json") {
		t.Errorf("actor content type = %q", res.Header.Get("Content-Type"))
	}
	for _, k := range []string{"id", "type", "preferredUsername", "inbox", "outbox", "followers", "following", "publicKey", "endpoints", "sealingKey", "@context"} {
		if actor[k] == nil {
			t.Errorf("actor lacks %q", k)
		}
	}
	if actor["type"] != "Organization" || actor["manuallyApprovesFollowers"] != true {
		t.Errorf("actor type %v, manuallyApprovesFollowers %v", actor["type"], actor["manuallyApprovesFollowers"])
	}
	pk, _ := actor["publicKey"].(map[string]any)
	if pk["id"] != actorOf(n)+"#main-key" || pk["owner"] != actorOf(n) || !strings.Contains(pk["publicKeyPem"].(string), "BEGIN PUBLIC KEY") {
		t.Errorf("publicKey = %v", pk)
	}
	// A browser asking for the actor gets the association's page.
	req, _ = http.NewRequest("GET", actorOf(n), nil)
	req.Header.Set("Accept", "text/html")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("actor for a browser: content type %q, want HTML", res.Header.Get("Content-Type"))
	}
}
