package federation_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/federation"
)

// newCanary serves on loopback and counts the requests that reach it.
func newCanary(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	canary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(canary.Close)
	return canary, &hits
}

// A node on the internet (private addresses not allowed) cannot be made
// to reach its own machine or private network: not through a partner
// request by handle (WebFinger) or by actor URL, not through an incoming
// activity whose key lives on a private address, and not by an admin who
// types a cloud metadata address. A canary server on loopback counts what
// reaches it: nothing must.
func TestNoRequestToPrivateAddresses(t *testing.T) {
	canary, hits := newCanary(t)
	host := strings.TrimPrefix(canary.URL, "http://")

	a := nodetest.Start(t, 1, nodetest.Options{Configure: func(c *node.Config) { c.AllowPrivate = false }})[0]
	ta := a.AdminToken()
	for _, who := range []string{
		"@eve@" + host,
		canary.URL + "/users/eve",
		"http://169.254.169.254/latest/meta-data/",
		"http://[::1]:" + strings.Split(host, ":")[1] + "/users/eve",
		"http://localhost:" + strings.Split(host, ":")[1] + "/users/eve",
	} {
		start := time.Now()
		r := a.Do("POST", "/api/v1/partners", ta, map[string]string{"actor": who})
		if r.Status < 400 || r.Status >= 500 && r.Status != 502 {
			t.Errorf("partner request to %s: %d %s, want a refusal", who, r.Status, r.Body)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("partner request to %s took %v", who, d)
		}
	}

	// An activity signed by a key that lives on loopback: the node must
	// not fetch the key.
	eve := newFakePeer(t)
	body := follow(eve.actor, actorOf(a), eve.actor+"/follows/1")
	if got := eve.post(t, a.URL+"/inbox", body, body, time.Now(), eve.key, nil); got != http.StatusUnauthorized {
		t.Errorf("activity with its key on a private address: %d, want 401", got)
	}
	if n := hits.Load() + eve.hits.Load(); n != 0 {
		t.Errorf("the node made %d request(s) to private addresses", n)
	}
	if rels := relations(t, a, ta); len(rels) != 0 {
		t.Errorf("refused requests left relations: %+v", rels)
	}
}

// The links a peer publishes (its actor's icon, image, header and
// profile URL, the URLs of its profile fields) are never fetched by the
// node: it keeps no images, and its pages' Content-Security-Policy lets
// browsers load images only from the node and the map tiles. A peer
// whose follow the node takes cannot make it request anything but the
// actor and key it must verify.
func TestPeerLinksNeverFetched(t *testing.T) {
	canary, hits := newCanary(t)
	a := nodetest.Start(t, 1, nodetest.Options{})[0]
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.12:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.12: %v", err)
	}
	var actorFetches, delivered atomic.Int64
	peer := httptest.NewUnstartedServer(nil)
	actor := "http://" + ln.Addr().String() + "/users/mallory"
	peer.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/users/mallory" {
			if r.Method == "POST" {
				delivered.Add(1)
			}
			w.WriteHeader(http.StatusAccepted)
			return
		}
		actorFetches.Add(1)
		link := func(name string) map[string]string {
			return map[string]string{"type": "Image", "mediaType": "image/png", "url": canary.URL + "/" + name + ".png"}
		}
		json.NewEncoder(w).Encode(map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams", "id": actor, "type": "Organization",
			"preferredUsername": "mallory", "name": "Mallory", "inbox": actor + "/inbox", "url": canary.URL + "/profile",
			"icon": link("icon"), "image": link("header"),
			"attachment": []map[string]string{{"type": "PropertyValue", "name": "Site", "value": `<a href="` + canary.URL + `/site">site</a>`}},
			"endpoints":  map[string]string{"sharedInbox": canary.URL + "/inbox"},
			"publicKey":  map[string]string{"id": actor + "#main-key", "owner": actor, "publicKeyPem": federation.PublicKeyPEM(&key.PublicKey)},
		})
	})
	peer.Listener.Close()
	peer.Listener = ln
	peer.Start()
	defer peer.Close()

	body := []byte(follow(actor, actorOf(a), actor+"/follows/1"))
	req, _ := http.NewRequest("POST", a.URL+"/inbox", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/activity+json")
	s := &federation.Signer{Key: key, KeyID: actor + "#main-key", Now: time.Now}
	if err := s.Sign(req, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("the follow: %d", resp.StatusCode)
	}
	ta := a.AdminToken()
	if rels := relations(t, a, ta); len(rels) != 1 {
		t.Fatalf("relations after the follow: %+v", rels)
	}
	// A follower (an account of another software: its follow is taken
	// at once), it is sent the Accept and the node's services: at its own
	// inbox, never at the shared inbox it names on another host.
	createService(t, a, ta, "Permanence")
	eventually(t, "the follower receives the Accept and the service", func() bool { return delivered.Load() >= 2 })
	for _, path := range []string{"/api/v1/partners", "/", "/network", "/api/v1/network/services"} {
		a.Do("GET", path, ta, nil)
	}
	if actorFetches.Load() == 0 {
		t.Fatal("the node never fetched the actor: the test proves nothing")
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the node made %d request(s) to the links the peer publishes", n)
	}
	if csp := a.Do("GET", "/", "", nil).Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self'") {
		t.Errorf("pages let browsers load images from anywhere: %q", csp)
	}
}
