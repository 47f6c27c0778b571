package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// A sender killed with SIGKILL in the middle of a fan-out resumes from its
// durable queue: every partner ends with every service, each applied once.
func TestKilledSenderResumesFanOut(t *testing.T) {
	// The partners answer slowly, so that deliveries are still queued when
	// the sender dies.
	partners := nodetest.Start(t, 2, nodetest.Options{Latency: 100 * time.Millisecond})
	dir := filepath.Join(t.TempDir(), "sender")
	addr := freeAddr(t)
	_, stderr, code := runCLI(t, nil, "init", "--data", dir, "--url", "http://"+addr, "--name", "Expéditeur", "--handle", "sender",
		"--admin-email", "admin@sender.test", "--admin-password", "correct-horse-battery")
	if code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	start := func() *server {
		s := &server{addr: addr, done: make(chan struct{})}
		return startServeAt(t, s, dir, "--allow-private-network")
	}
	a := start()
	tok := a.token(t, "admin@sender.test", "correct-horse-battery")

	for _, p := range partners {
		if code, body := a.do(t, "POST", "/api/v1/partners", tok, fmt.Sprintf(`{"actor": "@%s@%s"}`, p.Name, p.Addr)); code != 202 {
			t.Fatalf("partner request: %d %s", code, body)
		}
		pt := p.AdminToken()
		var rels struct{ Partners []struct{ ID, State string } }
		waitFor(t, p.Name+" sees the request", 15*time.Second, func() bool {
			p.Do("GET", "/api/v1/partners", pt, nil).JSON(t, &rels)
			return len(rels.Partners) == 1 && rels.Partners[0].State == "pending"
		})
		if resp := p.Do("POST", "/api/v1/partners/"+rels.Partners[0].ID+"/accept", pt, nil); resp.Status != 200 {
			t.Fatalf("accept: %d %s", resp.Status, resp.Body)
		}
		waitFor(t, "partnership with "+p.Name, 15*time.Second, func() bool {
			_, body := a.do(t, "GET", "/api/v1/partners", tok, "")
			return regexp.MustCompile(`"actor":"http://` + regexp.QuoteMeta(p.Addr) + `/actor"[^}]*"state":"partner"`).Match(body)
		})
	}

	// Services are created one after another and the sender is killed
	// right after the twentieth is acknowledged, mid fan-out.
	const killAt = 20
	for i := range killAt {
		if code, body := a.do(t, "POST", "/api/v1/services", tok, fmt.Sprintf(`{"name": "Service %d", "status": "active"}`, i)); code != 201 {
			t.Fatalf("create %d: %d %s", i, code, body)
		}
	}
	a.cmd.Process.Kill() // SIGKILL
	<-a.done
	n := killAt
	missing := 0
	for _, p := range partners {
		missing += n - replicaSize(t, p)
	}
	t.Logf("killed after %d acknowledged services; deliveries missing at the kill: %d of %d", n, missing, 2*n)
	if missing == 0 {
		t.Error("every delivery was done before the kill: the test did not kill a fan-out in flight")
	}

	a = start()
	_, body := a.do(t, "GET", "/api/v1/services?per_page=1", "", "")
	var stored struct{ Total int }
	json.Unmarshal(body, &stored)
	if stored.Total != n {
		t.Fatalf("the sender kept %d services after the kill, but had acknowledged %d", stored.Total, n)
	}
	for _, p := range partners {
		// 300 s: a delivery that failed (a slow partner on a loaded
		// machine: CI runs the browser tests beside this one) is retried
		// after 30 s, then 60 s, then 120 s (±20% each), and five
		// failures in a row open the host's breaker for 2 minutes.
		deadline := time.Now().Add(300 * time.Second)
		for replicaSize(t, p) != stored.Total {
			if time.Now().After(deadline) {
				t.Fatalf("%s has %d of %d services after 300 s; the sender's log:\n%s", p.Name, replicaSize(t, p), stored.Total, a.Logs())
			}
			time.Sleep(200 * time.Millisecond)
		}
		if got := receivedCreates(t, p); got != stored.Total {
			t.Errorf("%s applied %d Create activities, want %d (each once)", p.Name, got, stored.Total)
		}
	}
	a.stop(t)
}

func replicaSize(t *testing.T, p *nodetest.Node) int {
	var out struct{ Total int }
	p.Do("GET", "/api/v1/network/services", "", nil).JSON(t, &out)
	return out.Total
}

var createdRE = regexp.MustCompile(`maillage_inbox_received_total\{type="Create"\} (\d+)`)

func receivedCreates(t *testing.T, p *nodetest.Node) int {
	m := createdRE.FindSubmatch(p.Do("GET", "/metrics", "", nil).Body)
	if m == nil {
		return 0
	}
	v, _ := strconv.Atoi(string(m[1]))
	return v
}
