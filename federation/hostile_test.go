package federation_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/federation"
)

// fakePeer is a fediverse account on 127.0.0.9 that signs what a test
// tells it to, so a test can send forged and tampered requests.
type fakePeer struct {
	srv   *httptest.Server
	key   *rsa.PrivateKey
	actor string
	hits  atomic.Int64 // requests it received
}

func newFakePeer(t *testing.T, inbox ...http.HandlerFunc) *fakePeer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &fakePeer{key: key}
	ln, err := net.Listen("tcp", "127.0.0.9:0")
	if err != nil {
		t.Fatal(err)
	}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		switch r.URL.Path {
		case "/users/eve":
			json.NewEncoder(w).Encode(map[string]any{
				"@context": "https://www.w3.org/ns/activitystreams", "id": p.actor, "type": "Person",
				"preferredUsername": "eve", "inbox": p.srv.URL + "/users/eve/inbox",
				"publicKey": map[string]string{"id": p.actor + "#main-key", "owner": p.actor, "publicKeyPem": federation.PublicKeyPEM(&key.PublicKey)},
			})
		default:
			if len(inbox) > 0 {
				inbox[0](w, r)
				return
			}
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	p.srv.Listener.Close()
	p.srv.Listener = ln
	p.srv.Start()
	t.Cleanup(p.srv.Close)
	p.actor = p.srv.URL + "/users/eve"
	return p
}

// post sends body to inbox, signed over signedBody at the given time.
func (p *fakePeer) post(t *testing.T, inbox string, signedBody, body []byte, at time.Time, key *rsa.PrivateKey, mutate func(*http.Request)) int {
	t.Helper()
	req, _ := http.NewRequest("POST", inbox, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/activity+json")
	s := &federation.Signer{Key: key, KeyID: p.actor + "#main-key", Now: func() time.Time { return at }}
	if err := s.Sign(req, signedBody); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func follow(actor, target, id string) []byte {
	b, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": "Follow", "actor": actor, "object": target})
	return b
}

func TestInboxRefusesForgedRequests(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b := nodes[0], nodes[1]
	tb := b.AdminToken()
	eve := newFakePeer(t)
	inbox := b.URL + "/inbox"
	now := time.Now()
	other, _ := rsa.GenerateKey(rand.Reader, 2048)

	good := follow(eve.actor, actorOf(b), eve.actor+"/follows/1")
	tests := []struct {
		name       string
		signed     []byte
		body       []byte
		at         time.Time
		key        *rsa.PrivateKey
		mutate     func(*http.Request)
		wantStatus int
	}{
		{"unsigned", good, good, now, eve.key, func(r *http.Request) { r.Header.Del("Signature") }, 401},
		{"tampered body", good, follow(eve.actor, actorOf(b), eve.actor+"/follows/2"), now, eve.key, nil, 401},
		{"wrong digest", good, good, now, eve.key, func(r *http.Request) { r.Header.Set("Digest", "SHA-256=AAAA") }, 401},
		{"stale date", good, good, now.Add(-2 * time.Hour), eve.key, nil, 401},
		{"future date", good, good, now.Add(2 * time.Hour), eve.key, nil, 401},
		{"forged key", good, good, now, other, nil, 401},
		{"digest not signed", good, good, now, eve.key, func(r *http.Request) {
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), " digest", "", 1))
		}, 401},
		{"key of another actor", follow(actorOf(a), actorOf(b), actorOf(a)+"/follows/x"), follow(actorOf(a), actorOf(b), actorOf(a)+"/follows/x"), now, eve.key, nil, 403},
		{"wrong content type", good, good, now, eve.key, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, 415},
		{"not an activity", []byte(`{"hello": "world"}`), []byte(`{"hello": "world"}`), now, eve.key, nil, 400},
		{"oversized", []byte(`{"pad": "` + strings.Repeat("x", 2<<20) + `"}`), []byte(`{"pad": "` + strings.Repeat("x", 2<<20) + `"}`), now, eve.key, nil, 413},
		{"deeply nested", []byte(strings.Repeat("[", 100) + strings.Repeat("]", 100)), []byte(strings.Repeat("[", 100) + strings.Repeat("]", 100)), now, eve.key, nil, 400},
	}
	for _, tt := range tests {
		if got := eve.post(t, inbox, tt.signed, tt.body, tt.at, tt.key, tt.mutate); got != tt.wantStatus {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.wantStatus)
		}
	}
	if rels := relations(t, b, tb); len(rels) != 0 {
		t.Fatalf("refused requests changed the store: %+v", rels)
	}

	// The same request, correctly signed, is applied, once.
	if got := eve.post(t, inbox, good, good, now, eve.key, nil); got != http.StatusAccepted {
		t.Fatalf("valid follow: %d", got)
	}
	if got := eve.post(t, inbox, good, good, now, eve.key, nil); got != http.StatusAccepted {
		t.Fatalf("replayed follow: %d", got)
	}
	rels := relations(t, b, tb)
	if len(rels) != 1 || rels[0].Actor != eve.actor || rels[0].State != "subscriber" {
		t.Fatalf("after a valid follow from a plain account: %+v, want one subscriber", rels)
	}
	metrics := string(b.Do("GET", "/metrics", "", nil).Body)
	if !strings.Contains(metrics, `maillage_inbox_received_total{type="Follow"} 1`) {
		t.Errorf("the replayed follow was applied twice (or not counted):\n%s", grep(metrics, "maillage_inbox"))
	}

	// A blocked host is refused before anything else.
	if resp := b.Do("POST", "/api/v1/blocklist", tb, map[string]string{"host": strings.TrimPrefix(eve.srv.URL, "http://")}); resp.Status != 204 {
		t.Fatalf("block: %d %s", resp.Status, resp.Body)
	}
	if got := eve.post(t, inbox, follow(eve.actor, actorOf(b), eve.actor+"/follows/3"), follow(eve.actor, actorOf(b), eve.actor+"/follows/3"), now, eve.key, nil); got != 403 {
		t.Errorf("blocked host: %d, want 403", got)
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Replication refuses services from actors the node does not follow, and
// services claiming another host.
func TestInboxIgnoresServicesOfNonPartners(t *testing.T) {
	b := nodetest.Start(t, 1, nodetest.Options{})[0]
	eve := newFakePeer(t)
	page := map[string]any{"id": eve.srv.URL + "/services/1", "type": "Page", "attributedTo": eve.actor, "name": "Spam",
		"hsds": map[string]any{"name": "Spam", "status": "active"}}
	create, _ := json.Marshal(map[string]any{"id": eve.actor + "/create/1", "type": "Create", "actor": eve.actor, "object": page})
	if got := eve.post(t, b.URL+"/inbox", create, create, time.Now(), eve.key, nil); got != 202 {
		t.Fatalf("create from a stranger: %d", got)
	}
	if n := len(replica(t, b)); n != 0 {
		t.Errorf("a stranger's service entered the replica (%d)", n)
	}
}
