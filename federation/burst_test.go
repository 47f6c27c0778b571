package federation_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/federation"
)

// burstPeer is a fediverse account served from its own loopback address,
// so that each peer is a host of its own for the node's limits.
type burstPeer struct {
	actor string
	srv   *httptest.Server
}

func newBurstPeer(t *testing.T, ip string, key *rsa.PrivateKey) *burstPeer {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	p := &burstPeer{}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/users/bee" {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams", "id": p.actor, "type": "Person",
			"preferredUsername": "bee", "inbox": p.srv.URL + "/users/bee/inbox",
			"publicKey": map[string]string{"id": p.actor + "#main-key", "owner": p.actor, "publicKeyPem": federation.PublicKeyPEM(&key.PublicKey)},
		})
	}))
	p.srv.Listener.Close()
	p.srv.Listener = ln
	p.srv.Start()
	t.Cleanup(p.srv.Close)
	p.actor = p.srv.URL + "/users/bee"
	return p
}

// A burst of activities from 50 peers at once: every one is accepted or
// answered 429 (none fails, none is lost), and every accepted one is
// applied exactly once. CI sends 20 a peer; LOADTEST=1 sends 200 a
// peer, 10,000 in all, and prints the rate.
func TestInboxBurstFromManyPeers(t *testing.T) {
	perPeer := 20
	if os.Getenv("LOADTEST") != "" {
		perPeer = 200
	}
	const peers = 50
	a := nodetest.Start(t, 1, nodetest.Options{})[0]
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var ps []*burstPeer
	for i := range peers {
		ps = append(ps, newBurstPeer(t, "127.0.1."+strconv.Itoa(10+i), key))
	}
	// Every request signed before the clock starts.
	type signed struct {
		req  *http.Request
		body []byte
	}
	reqs := make([][]signed, peers)
	for i, p := range ps {
		s := &federation.Signer{Key: key, KeyID: p.actor + "#main-key", Now: time.Now}
		for j := range perPeer {
			body := follow(p.actor, actorOf(a), fmt.Sprintf("%s/follows/%d", p.actor, j))
			req, _ := http.NewRequest("POST", a.URL+"/inbox", nil)
			req.Header.Set("Content-Type", "application/activity+json")
			if err := s.Sign(req, body); err != nil {
				t.Fatal(err)
			}
			reqs[i] = append(reqs[i], signed{req, body})
		}
	}
	var accepted, throttled, other atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range peers {
		wg.Go(func() {
			client := &http.Client{Timeout: 60 * time.Second}
			for _, s := range reqs[i] {
				for attempt := 0; ; attempt++ {
					req := s.req.Clone(s.req.Context())
					req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(s.body)), int64(len(s.body))
					resp, err := client.Do(req)
					if err != nil {
						other.Add(1)
						break
					}
					resp.Body.Close()
					if resp.StatusCode == http.StatusTooManyRequests && attempt < 50 {
						// What a sender's queue does: wait and deliver again.
						throttled.Add(1)
						time.Sleep(200 * time.Millisecond)
						continue
					}
					if resp.StatusCode == http.StatusAccepted {
						accepted.Add(1)
					} else {
						other.Add(1)
					}
					break
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	total := peers * perPeer
	t.Logf("%d activities from %d peers in %v (%.0f/s): %d accepted, %d throttled answers (then delivered again), %d other",
		total, peers, took.Round(time.Millisecond), float64(total)/took.Seconds(), accepted.Load(), throttled.Load(), other.Load())
	if accepted.Load() != int64(total) || other.Load() != 0 {
		t.Fatalf("%d of %d accepted, %d failed", accepted.Load(), total, other.Load())
	}
	// Each accepted follow applied once: 50 subscribers, and the counter
	// of applied follows equals what was sent.
	var rels struct{ Partners []struct{ State string } }
	a.Do("GET", "/api/v1/partners", a.AdminToken(), nil).JSON(t, &rels)
	if len(rels.Partners) != peers {
		t.Errorf("%d relations after the burst, want %d", len(rels.Partners), peers)
	}
	metrics := string(a.Do("GET", "/metrics", "", nil).Body)
	if want := fmt.Sprintf(`maillage_inbox_received_total{type="Follow"} %d`, total); !strings.Contains(metrics, want) {
		t.Errorf("metrics lack %q:\n%s", want, grep(metrics, "maillage_inbox_received"))
	}
}
