package federation_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
)

// An association's name in each of its languages travels as such: its
// actor carries nameMap and summaryMap (French first, name the French
// one), the partner keeps the names on the relation and on each service
// it replicates, and shows the Dutch one to a Dutch reader.
func TestNamesTravelPerLanguage(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	if r := b.Do("PUT", "/api/v1/organization", tb, `{"name": "Épicerie sociale Le Panier", "description": "Colis et épicerie.",
	  "translations": {"nl": {"name": "Sociale kruidenier De Mand", "description": "Pakketten en kruidenier."}}}`); r.Status != 200 {
		t.Fatalf("organization: %d %s", r.Status, r.Body)
	}
	doc := actorDoc(t, b)
	if !strings.HasPrefix(string(doc["nameMap"]), `{"fr":"Épicerie sociale Le Panier"`) || !strings.Contains(string(doc["nameMap"]), `"nl":"Sociale kruidenier De Mand"`) {
		t.Errorf("nameMap = %s, want fr first, then nl", doc["nameMap"])
	}
	if got := string(doc["name"]); got != `"Épicerie sociale Le Panier"` {
		t.Errorf("name = %s, want the French name", got)
	}
	if got := string(doc["summaryMap"]); !strings.Contains(got, `"nl":"\u003cp\u003ePakketten en kruidenier.\u003c/p\u003e"`) && !strings.Contains(got, `"nl":"<p>Pakketten en kruidenier.</p>"`) {
		t.Errorf("summaryMap = %s, want the Dutch description as HTML", got)
	}

	createService(t, b, tb, "Colis alimentaire")
	partner(t, a, b, ta, tb)
	ctx := context.Background()
	rels, err := a.Node().Fed.Relations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 1 {
		t.Fatalf("%d relations on A, want 1", len(rels))
	}
	rel := rels[0]
	for lang, want := range map[directory.Lang]string{directory.FR: "Épicerie sociale Le Panier", directory.NL: "Sociale kruidenier De Mand", directory.EN: "Épicerie sociale Le Panier"} {
		if got := rel.NameIn(lang); got != want {
			t.Errorf("relation name in %s = %q, want %q", lang, got, want)
		}
	}
	var ps *directory.PartnerService
	eventually(t, "A replicates B's service", func() bool {
		a.Node().Fed.PartnerServices(ctx, func(s *directory.PartnerService) error {
			ps = s
			return nil
		})
		return ps != nil
	})
	if got := ps.ProviderIn(directory.NL); got != "Sociale kruidenier De Mand" {
		t.Errorf("the service's provider in Dutch = %q", got)
	}
	if got := ps.ProviderIn(directory.FR); got != "Épicerie sociale Le Panier" {
		t.Errorf("the service's provider in French = %q", got)
	}
}

// Relations and replicated services stored before names travelled have
// none: they still load, and show their one name in every language.
func TestNamesStoredBefore(t *testing.T) {
	var rel federation.Relation
	if err := json.Unmarshal([]byte(`{"id": "r1", "actor": "https://panier.example/actor", "name": "Le Panier", "kind": "association", "inbox": "https://panier.example/inbox", "ours": "accepted", "theirs": "accepted", "updated": "2026-01-02T10:00:00Z"}`), &rel); err != nil {
		t.Fatalf("an old relation does not load: %v", err)
	}
	if got := rel.NameIn(directory.NL); got != "Le Panier" {
		t.Errorf("an old relation's Dutch name = %q, want its one name", got)
	}
	var ps directory.PartnerService
	if err := json.Unmarshal([]byte(`{"uri": "https://panier.example/services/1", "actor": "https://panier.example/actor", "provider": "Le Panier", "service": {"name": {"fr": "Colis"}}, "received": "2026-01-02T10:00:00Z"}`), &ps); err != nil {
		t.Fatalf("an old service does not load: %v", err)
	}
	if got := ps.ProviderIn(directory.NL); got != "Le Panier" {
		t.Errorf("an old service's provider in Dutch = %q, want its one name", got)
	}
}

// A peer's names are read within bounds: languages pages are not written
// in are left out, "nl-BE" counts as Dutch, and a name longer than 500
// bytes is cut (whole characters), not refused.
func TestNamesFromAPeerBounded(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes
	doc := map[string]any{"id": "", "type": "Organization", "preferredUsername": "panier", "name": "Le Panier",
		"nameMap": map[string]any{"nl-BE": "De Mand", "de": "Der Korb", "fr": long, "en": 42}}
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	peer := fakeAssociation(t, doc)
	if r := n.Do("POST", "/api/v1/partners", n.AdminToken(), map[string]string{"actor": peer}); r.Status != http.StatusAccepted {
		t.Fatalf("partner request: %d %s", r.Status, r.Body)
	}
	rels, err := n.Node().Fed.Relations(context.Background())
	if err != nil || len(rels) != 1 {
		t.Fatalf("relations: %v %d", err, len(rels))
	}
	names := rels[0].Names
	if names[directory.NL] != "De Mand" {
		t.Errorf("Dutch name = %q, want the nl-BE one", names[directory.NL])
	}
	if len(names[directory.FR]) > 500 || !strings.HasPrefix(long, names[directory.FR]) || len(names[directory.FR]) < 498 {
		t.Errorf("French name is %d bytes, want it cut to 500 at most, on a character", len(names[directory.FR]))
	}
	if _, ok := names[directory.EN]; ok {
		t.Errorf("a number was kept as the English name: %q", names[directory.EN])
	}
	if len(names) != 2 {
		t.Errorf("names = %v, want fr and nl only", names)
	}
}

// actorDoc fetches a node's actor document as a peer does.
func actorDoc(t *testing.T, n *nodetest.Node) map[string]json.RawMessage {
	t.Helper()
	req, _ := http.NewRequest("GET", actorOf(n), nil)
	req.Header.Set("Accept", federation.ContentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("actor document: %v", err)
	}
	return doc
}

// fakeAssociation serves one association's actor document, doc with its
// id, inbox and keys filled in, on its own loopback address; it takes
// whatever is posted to it. It returns the actor's URL.
func fakeAssociation(t *testing.T, doc map[string]any) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.14:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.14: %v", err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Listener.Close()
	srv.Listener = ln
	actor := "http://" + ln.Addr().String() + "/actor"
	doc["id"], doc["inbox"] = actor, actor+"/inbox"
	doc["publicKey"] = map[string]string{"id": actor + "#main-key", "owner": actor, "publicKeyPem": federation.PublicKeyPEM(&key.PublicKey)}
	doc["sealingKey"] = map[string]string{"id": actor + "#sealing-key", "kem": "ML-KEM-768+X25519", "publicKeyBase64": "AAAA"}
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/actor" {
			w.Header().Set("Content-Type", federation.ContentType)
			json.NewEncoder(w).Encode(doc)
			return
		}
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return actor
}
