package federation_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"crypto/rand"
	"crypto/rsa"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/federation"
)

// fakeServer hosts several plain accounts sharing one shared inbox, and
// records what reaches each inbox.
type fakeServer struct {
	srv  *httptest.Server
	keys map[string]*rsa.PrivateKey
	mu   sync.Mutex
	hits map[string][]string // inbox path → activity types
}

func newFakeServer(t *testing.T, users ...string) *fakeServer {
	t.Helper()
	f := &fakeServer{keys: map[string]*rsa.PrivateKey{}, hits: map[string][]string{}}
	for _, u := range users {
		f.keys[u], _ = rsa.GenerateKey(rand.Reader, 2048)
	}
	ln, err := net.Listen("tcp", "127.0.0.10:0")
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			var a struct{ Type string }
			b, _ := io.ReadAll(r.Body)
			json.Unmarshal(b, &a)
			f.mu.Lock()
			f.hits[r.URL.Path] = append(f.hits[r.URL.Path], a.Type)
			f.mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
			return
		}
		for u, k := range f.keys {
			if r.URL.Path == "/users/"+u {
				actor := f.srv.URL + "/users/" + u
				json.NewEncoder(w).Encode(map[string]any{
					"id": actor, "type": "Person", "preferredUsername": u, "inbox": actor + "/inbox",
					"endpoints": map[string]string{"sharedInbox": f.srv.URL + "/shared"},
					"publicKey": map[string]string{"id": actor + "#main-key", "owner": actor, "publicKeyPem": federation.PublicKeyPEM(&k.PublicKey)},
				})
				return
			}
		}
		http.NotFound(w, r)
	}))
	f.srv.Listener.Close()
	f.srv.Listener = ln
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) peer(user string) *fakePeer {
	return &fakePeer{srv: f.srv, key: f.keys[user], actor: f.srv.URL + "/users/" + user}
}

func (f *fakeServer) count(path, typ string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, t := range f.hits[path] {
		if t == typ {
			n++
		}
	}
	return n
}

// Plain accounts that follow an association are subscribers; a service
// announcement reaches their server once, at its shared inbox; an account
// that is deleted disappears from the relations.
func TestSubscribersSharedInboxAndActorDelete(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{Configure: func(c *node.Config) { c.Blocklist = []string{"spam.example"} }})[0]
	tok := n.AdminToken()
	fs := newFakeServer(t, "lea", "sam")
	for _, u := range []string{"lea", "sam"} {
		p := fs.peer(u)
		body := follow(p.actor, actorOf(n), p.actor+"/follows/1")
		if got := p.post(t, n.URL+"/inbox", body, body, time.Now(), p.key, nil); got != 202 {
			t.Fatalf("%s follows: %d", u, got)
		}
	}
	rels := relations(t, n, tok)
	if len(rels) != 2 || rels[0].State != "subscriber" || rels[1].State != "subscriber" {
		t.Fatalf("relations = %+v, want two subscribers", rels)
	}
	createService(t, n, tok, "Annonce publique")
	eventually(t, "the announcement reaches the shared inbox", func() bool { return fs.count("/shared", "Create") == 1 })
	time.Sleep(300 * time.Millisecond)
	if got := fs.count("/shared", "Create"); got != 1 {
		t.Errorf("shared inbox got %d copies, want 1", got)
	}
	if got := fs.count("/users/lea/inbox", "Create") + fs.count("/users/sam/inbox", "Create"); got != 0 {
		t.Errorf("personal inboxes got %d copies, want none", got)
	}

	lea := fs.peer("lea")
	del, _ := json.Marshal(map[string]any{"id": lea.actor + "#delete", "type": "Delete", "actor": lea.actor, "object": lea.actor})
	if got := lea.post(t, n.URL+"/inbox", del, del, time.Now(), lea.key, nil); got != 202 {
		t.Fatalf("actor delete: %d", got)
	}
	rels = relations(t, n, tok)
	if len(rels) != 1 || rels[0].Actor != fs.peer("sam").actor {
		t.Errorf("after lea's account was deleted: %+v", rels)
	}

	// The blocklist from the configuration is in force and visible to admins.
	var bl struct{ Hosts []string }
	n.Do("GET", "/api/v1/blocklist", tok, nil).JSON(t, &bl)
	if len(bl.Hosts) != 1 || bl.Hosts[0] != "spam.example" {
		t.Errorf("blocklist = %v", bl.Hosts)
	}
}

// A person unfollows in any of the shapes servers send: GoToSocial's Undo
// with "to" as one string (the Follow inside it too), an Undo naming the
// Follow by its id only. Either way the node forgets the person and
// delivers nothing more to it. An Undo that cannot be read is refused,
// not acknowledged, and changes nothing.
func TestUnfollowInEveryShape(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	tok := n.AdminToken()
	fs := newFakeServer(t, "lea", "sam", "noa")
	node := actorOf(n)
	post := func(user string, doc map[string]any) int {
		p := fs.peer(user)
		b, _ := json.Marshal(doc)
		return p.post(t, n.URL+"/inbox", b, b, time.Now(), p.key, nil)
	}
	for _, u := range []string{"lea", "sam", "noa"} {
		actor := fs.peer(u).actor
		// GoToSocial's Follow: "to" is one string, "object" a list of one.
		if got := post(u, map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": actor + "/follow/1",
			"type": "Follow", "actor": actor, "object": []string{node}, "to": node}); got != http.StatusAccepted {
			t.Fatalf("%s follows: %d", u, got)
		}
	}
	if rels := relations(t, n, tok); len(rels) != 3 {
		t.Fatalf("relations = %+v, want three subscribers", rels)
	}

	lea, sam, noa := fs.peer("lea").actor, fs.peer("sam").actor, fs.peer("noa").actor
	refused := []map[string]any{
		{"id": noa + "/undo/1", "type": "Undo", "actor": noa, "object": 42},
		{"id": noa + "/undo/2", "type": "Undo", "actor": noa, "object": []string{noa + "/follow/1", noa + "/follow/2"}},
		{"id": noa + "/undo/3", "type": "Undo", "actor": noa, "object": map[string]any{"id": noa + "/follow/1", "type": "Follow", "actor": noa, "object": "https://elsewhere.example/actor"}},
	}
	for i, doc := range refused {
		if got := post("noa", doc); got != http.StatusBadRequest {
			t.Errorf("unreadable undo %d answered %d, want 400", i, got)
		}
	}
	if got := post("lea", map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": lea + "/follow/1#Undo", "type": "Undo",
		"actor": lea, "to": node, "object": map[string]any{"id": lea + "/follow/1", "type": "Follow", "actor": lea, "object": node, "to": node}}); got != http.StatusAccepted {
		t.Fatalf("lea's undo: %d", got)
	}
	if got := post("sam", map[string]any{"id": sam + "/undo/1", "type": "Undo", "actor": sam, "object": sam + "/follow/1"}); got != http.StatusAccepted {
		t.Fatalf("sam's undo by id: %d", got)
	}
	rels := relations(t, n, tok)
	if len(rels) != 1 || rels[0].Actor != noa || rels[0].State != "subscriber" {
		t.Fatalf("after two unfollows and three unreadable undos: %+v, want noa alone, still a subscriber", rels)
	}

	// Noa leaves too, the Mastodon way; then nobody gets announcements.
	if got := post("noa", map[string]any{"id": noa + "#follows/1/undo", "type": "Undo", "actor": noa,
		"object": map[string]any{"id": noa + "/follow/1", "type": "Follow", "actor": noa, "object": node}}); got != http.StatusAccepted {
		t.Fatalf("noa's undo: %d", got)
	}
	if rels := relations(t, n, tok); len(rels) != 0 {
		t.Fatalf("after every unfollow: %+v, want no relation left", rels)
	}
	queued := deliveriesQueued(t, n)
	createService(t, n, tok, "Après les départs")
	time.Sleep(500 * time.Millisecond)
	if got := fs.count("/shared", "Create") + fs.count("/users/lea/inbox", "Create") + fs.count("/users/sam/inbox", "Create"); got != 0 {
		t.Errorf("former followers got %d announcements", got)
	}
	if q := deliveriesQueued(t, n); q != queued {
		t.Errorf("%v deliveries queued with no follower", q-queued)
	}
}
