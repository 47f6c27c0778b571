package federation_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// Followers that hang, fail, flood or redirect to loopback do not stop a
// node from serving nor from delivering to its live partners.
func TestBadFollowersDoNotSlowLivePartners(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, c := nodes[0], nodes[1]
	ta, tc := a.AdminToken(), c.AdminToken()
	partner(t, a, c, ta, tc)

	release := make(chan struct{})
	bad := map[string]http.HandlerFunc{
		"hangs": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		},
		"fails": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
		"floods": func(w http.ResponseWriter, r *http.Request) {
			chunk := []byte(strings.Repeat("x", 64<<10))
			for range 160 { // 10 MB
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		},
		"redirects": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:1/inbox", http.StatusTemporaryRedirect)
		},
	}
	for name, h := range bad {
		peer := newFakePeer(t, h)
		body := follow(peer.actor, actorOf(a), peer.actor+"/follows/"+name)
		if got := peer.post(t, a.URL+"/inbox", body, body, time.Now(), peer.key, nil); got != http.StatusAccepted {
			t.Fatalf("%s peer's follow: %d", name, got)
		}
	}
	t.Cleanup(func() { close(release) })

	start := time.Now()
	for _, name := range []string{"Service 1", "Service 2", "Service 3", "Service 4", "Service 5"} {
		createService(t, a, ta, name)
	}
	eventually(t, "the live partner gets every service", func() bool { return len(replica(t, c)) == 5 })
	if d := time.Since(start); d > 8*time.Second { // a hanging inbox holds a sender for 10 s
		t.Errorf("the live partner waited %v behind bad followers", d)
	}
	for range 5 {
		t0 := time.Now()
		resp, err := http.Get(a.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if d := time.Since(t0); resp.StatusCode != 200 || d > time.Second {
			t.Errorf("healthz during bad deliveries: %d in %v", resp.StatusCode, d)
		}
	}
	// The failures are queued for retry, not lost and not spinning.
	metrics := string(a.Do("GET", "/metrics", "", nil).Body)
	if !strings.Contains(metrics, "maillage_delivery_retried_total") {
		t.Error("no retry counted")
	}
}
