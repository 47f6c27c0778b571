package federation_test

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/federation"
)

// hostileKinds are the actors newHostileActors serves, by path.
var hostileKinds = []string{"loop", "bigkey", "longpem", "hugedoc", "trickle", "elsewhere"}

// newHostileActors serves actor documents that a node must not use, on
// their own loopback address.
func newHostileActors(t *testing.T, ip string) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	// A 16,384-bit modulus (not a product of two primes: generating a real
	// key this size takes minutes, and the size alone must be refused).
	n := new(big.Int).Lsh(big.NewInt(1), 16383)
	n.Or(n, big.NewInt(1))
	bigKey := federation.PublicKeyPEM(&rsa.PublicKey{N: n, E: 65537})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := strings.TrimPrefix(r.URL.Path, "/")
		self := "http://" + r.Host + r.URL.Path
		actor := func(id, pem string) {
			json.NewEncoder(w).Encode(map[string]any{
				"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": "Person", "inbox": id + "/inbox",
				"publicKey": map[string]string{"id": id + "#main-key", "owner": id, "publicKeyPem": pem},
			})
		}
		switch kind {
		case "loop":
			http.Redirect(w, r, r.URL.Path, http.StatusFound)
		case "bigkey":
			actor(self, bigKey)
		case "longpem":
			actor(self, "-----BEGIN PUBLIC KEY-----\n"+strings.Repeat("QUFB", 1<<18)+"\n-----END PUBLIC KEY-----\n")
		case "hugedoc":
			w.Write([]byte(`{"id": "` + self + `", "type": "Person", "pad": "`))
			chunk := bytes.Repeat([]byte("x"), 1<<16)
			for range 256 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "trickle":
			w.Header().Set("Content-Type", "application/activity+json")
			for _, c := range []byte(`{"id": "` + self + `", "type": "Person"}`) {
				if _, err := w.Write([]byte{c}); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(time.Second):
				}
			}
		case "elsewhere":
			actor("http://127.0.0.11:1/users/elsewhere", federation.PublicKeyPEM(&rsa.PublicKey{N: n, E: 65537}))
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// percentile returns the p-th percentile of ds (p in [0, 100]).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}

// While a hostile host floods A's inbox with signed activities, holds 200
// connections open sending headers a byte at a time (slowloris), and
// posts oversized bodies, A refuses all of it and goes on serving: its
// partner B's services still arrive, and its public search still
// answers. The latencies seen during the attack are printed; the
// benchmark-like figures are not asserted, the outcomes are.
func TestAttackLeavesPartnersServed(t *testing.T) {
	// A low limit per host, so that the flood is throttled however slowly
	// this machine signs it (B's deliveries come from another host).
	nodes := nodetest.Start(t, 2, nodetest.Options{Configure: func(c *node.Config) { c.InboxRate, c.InboxBurst = 5, 20 }})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	partner(t, a, b, ta, tb)
	eve := newFakePeer(t)
	inbox := a.URL + "/inbox"

	stop := make(chan struct{})
	var wg sync.WaitGroup

	// Slowloris: 200 connections that never finish their headers.
	var slowOpen atomic.Int64
	for range 200 {
		wg.Go(func() {
			c, err := net.Dial("tcp", a.Addr)
			if err != nil {
				return
			}
			defer c.Close()
			slowOpen.Add(1)
			fmt.Fprintf(c, "POST /inbox HTTP/1.1\r\nHost: %s\r\nX-Slow: ", a.Addr)
			for {
				select {
				case <-stop:
					return
				case <-time.After(500 * time.Millisecond):
					if _, err := c.Write([]byte("a")); err != nil {
						return // the node closed it: what it should do
					}
				}
			}
		})
	}

	// A flood of signed follows from one host, and oversized bodies.
	var flood sync.Map // status → count
	count := func(code int) {
		v, _ := flood.LoadOrStore(code, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	signer := &federation.Signer{Key: eve.key, KeyID: eve.actor + "#main-key", Now: time.Now}
	client := &http.Client{Timeout: 20 * time.Second}
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := follow(eve.actor, actorOf(a), fmt.Sprintf("%s/follows/%d-%d", eve.actor, w, i))
				if i%25 == 0 {
					body = []byte(`{"pad": "` + strings.Repeat("x", 2<<20) + `"}`)
				}
				req, _ := http.NewRequest("POST", inbox, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/activity+json")
				if err := signer.Sign(req, body); err != nil {
					t.Error(err)
					return
				}
				resp, err := client.Do(req)
				if err != nil {
					count(-1)
					continue
				}
				resp.Body.Close()
				count(resp.StatusCode)
			}
		})
	}

	// Actors that cannot be used: a key fetch that redirects in a loop, a
	// 16,384-bit key, a 1 MiB key, a 16 MiB actor document, one sent a
	// byte a second, one whose id names another host. Each signed
	// follow claiming them must be refused (401), or throttled.
	hostile := newHostileActors(t, "127.0.0.10")
	hostileAnswers := map[string]map[int]int{}
	var hostileWorst time.Duration
	var hostileMu sync.Mutex
	for _, kind := range hostileKinds {
		wg.Go(func() {
			actor := hostile.URL + "/" + kind
			s := &federation.Signer{Key: eve.key, KeyID: actor + "#main-key", Now: time.Now}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := follow(actor, actorOf(a), fmt.Sprintf("%s/follows/%d", actor, i))
				req, _ := http.NewRequest("POST", inbox, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/activity+json")
				if err := s.Sign(req, body); err != nil {
					t.Error(err)
					return
				}
				start := time.Now()
				resp, err := client.Do(req)
				took := time.Since(start)
				code := -1
				if err == nil {
					resp.Body.Close()
					code = resp.StatusCode
				}
				hostileMu.Lock()
				if hostileAnswers[kind] == nil {
					hostileAnswers[kind] = map[int]int{}
				}
				hostileAnswers[kind][code]++
				hostileWorst = max(hostileWorst, took)
				hostileMu.Unlock()
				time.Sleep(100 * time.Millisecond)
			}
		})
	}

	// Meanwhile B publishes, and a resident searches A.
	time.Sleep(500 * time.Millisecond) // the attack is on
	var delivery, search []time.Duration
	var searchFailed int
	searchDone := make(chan struct{})
	go func() {
		defer close(searchDone)
		for range 100 {
			start := time.Now()
			r := a.Do("GET", "/api/v1/search?q=aide", "", nil)
			if r.Status != 200 {
				searchFailed++
			}
			search = append(search, time.Since(start))
			time.Sleep(20 * time.Millisecond)
		}
	}()
	for i := range 10 {
		name := fmt.Sprintf("Aide pendant l'attaque %d", i)
		start := time.Now()
		createService(t, b, tb, name)
		eventually(t, "A receives "+name, func() bool { return findService(replica(t, a), name) != nil })
		delivery = append(delivery, time.Since(start))
	}
	<-searchDone
	close(stop)
	wg.Wait()

	statuses := map[int]int64{}
	flood.Range(func(k, v any) bool { statuses[k.(int)] = v.(*atomic.Int64).Load(); return true })
	t.Logf("during the attack: %d slow connections, flood answers %v", slowOpen.Load(), statuses)
	t.Logf("B→A delivery: p50 %v, max %v; A's search: p50 %v, p99 %v, %d failed of 100",
		percentile(delivery, 50).Round(time.Millisecond), percentile(delivery, 100).Round(time.Millisecond),
		percentile(search, 50).Round(time.Millisecond), percentile(search, 99).Round(time.Millisecond), searchFailed)
	if searchFailed > 0 {
		t.Errorf("%d of A's searches failed during the attack", searchFailed)
	}
	for code, n := range statuses {
		switch code {
		case http.StatusAccepted, http.StatusTooManyRequests, http.StatusRequestEntityTooLarge:
		default:
			t.Errorf("the flood got %d answers %d", n, code)
		}
	}
	t.Logf("hostile actors: answers %v, slowest answer %v", hostileAnswers, hostileWorst.Round(time.Millisecond))
	for _, kind := range hostileKinds {
		if hostileAnswers[kind][http.StatusUnauthorized] == 0 {
			t.Errorf("no follow claiming the %s actor was refused: %v", kind, hostileAnswers[kind])
		}
		for code, n := range hostileAnswers[kind] {
			if code != http.StatusUnauthorized && code != http.StatusTooManyRequests {
				t.Errorf("follows claiming the %s actor got %d answers %d", kind, n, code)
			}
		}
	}
	if statuses[http.StatusTooManyRequests] == 0 || statuses[http.StatusRequestEntityTooLarge] == 0 {
		t.Errorf("the flood was not throttled or the oversized bodies not refused: %v", statuses)
	}
	// Eve's flood made one relation at most (the first follow); nothing
	// else of it was kept.
	if rels := relations(t, a, ta); len(rels) > 2 {
		t.Errorf("after the flood A has %d relations", len(rels))
	}
	if n := len(replica(t, a)); n != 10 {
		t.Errorf("A holds %d of B's services, want 10", n)
	}
}
