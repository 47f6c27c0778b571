package federation_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// A node on the internet (private addresses not allowed) cannot be made
// to reach its own machine or private network: not through a partner
// request by handle (WebFinger) or by actor URL, not through an incoming
// activity whose key lives on a private address, and not by an admin who
// types a cloud metadata address. A canary server on loopback counts what
// reaches it: nothing must.
func TestNoRequestToPrivateAddresses(t *testing.T) {
	var hits atomic.Int64
	canary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer canary.Close()
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
