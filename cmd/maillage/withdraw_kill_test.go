package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// A sender killed with SIGKILL at random moments while a worker withdraws
// a resident's consent: after each restart the referral is withdrawn
// (again, if the kill came first: the worker sees it still open and
// withdraws), its data is gone on the sender, and the partner erases its
// copy once the durable queue delivers the request (issue 9, fault
// injection).
func TestKillsDuringWithdrawal(t *testing.T) {
	if testing.Short() {
		t.Skip("kills of real processes")
	}
	b := nodetest.Start(t, 1, nodetest.Options{})[0]
	tb := b.AdminToken()
	dir := filepath.Join(t.TempDir(), "sender")
	addr := freeAddr(t)
	if _, stderr, code := runCLI(t, nil, "init", "--data", dir, "--url", "http://"+addr, "--name", "Expéditeur", "--handle", "sender",
		"--admin-email", "admin@sender.test", "--admin-password", "correct-horse-battery"); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	start := func() *server {
		return startServeAt(t, &server{addr: addr, done: make(chan struct{})}, dir, "--allow-private-network")
	}
	a := start()
	tok := a.token(t, "admin@sender.test", "correct-horse-battery")
	if code, body := a.do(t, "POST", "/api/v1/partners", tok, fmt.Sprintf(`{"actor": "@%s@%s"}`, b.Name, b.Addr)); code != 202 {
		t.Fatalf("partner request: %d %s", code, body)
	}
	var rels struct{ Partners []struct{ ID, State string } }
	waitFor(t, "B sees the request", 15*time.Second, func() bool {
		b.Do("GET", "/api/v1/partners", tb, nil).JSON(t, &rels)
		return len(rels.Partners) == 1 && rels.Partners[0].State == "pending"
	})
	b.Do("POST", "/api/v1/partners/"+rels.Partners[0].ID+"/accept", tb, nil)
	r := b.Do("POST", "/api/v1/services", tb, `{"name": "Permanence logement", "status": "active",
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity"]}}`)
	var svc struct{ ID string }
	r.JSON(t, &svc)
	waitFor(t, "A replicates B's service", 15*time.Second, func() bool {
		_, body := a.do(t, "GET", "/api/v1/network/services", "", "")
		return strings.Contains(string(body), svc.ID)
	})

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	const runs = 6
	var ids []string
	killedMidway := 0
	for i := range runs {
		given := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		code, body := a.do(t, "POST", "/api/v1/referrals", tok, `{"service": "`+svc.ID+`", "resident": {"name": "Résidente `+fmt.Sprint(i)+`"},
		  "consent": {"method": "on-screen", "categories": ["identity"], "notice_version": "2026-11",
		  "notice_hash": "`+strings.Repeat("ab", 32)+`", "notice_lang": "fr", "given_at": "`+given+`"}}`)
		if code != 201 {
			t.Fatalf("refer: %d %s", code, body)
		}
		var ref struct{ ID string }
		json.Unmarshal(body, &ref)
		ids = append(ids, ref.ID)
		waitFor(t, "B receives the referral", 15*time.Second, func() bool {
			var l struct{ Total int }
			b.Do("GET", "/api/v1/referrals?box=received", tb, nil).JSON(t, &l)
			return l.Total == i+1
		})
		// Withdraw, and kill the sender at a random moment around it.
		done := make(chan struct{})
		go func() {
			defer close(done)
			// The node may die under it: no answer is fine.
			req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/referrals/"+ref.ID+"/withdraw", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}()
		time.Sleep(time.Duration(rng.Int64N(int64(20 * time.Millisecond))))
		a.cmd.Process.Kill()
		<-a.done
		<-done
		a = start()
		tok = a.token(t, "admin@sender.test", "correct-horse-battery")
		_, body = a.do(t, "GET", "/api/v1/referrals/"+ref.ID, tok, "")
		var view struct {
			State    string
			Resident map[string]any
		}
		json.Unmarshal(body, &view)
		if view.State != "cancelled" {
			killedMidway++
			if code, body := a.do(t, "POST", "/api/v1/referrals/"+ref.ID+"/withdraw", tok, ""); code != 200 {
				t.Fatalf("withdraw again after the restart: %d %s", code, body)
			}
		} else if view.Resident != nil {
			t.Fatalf("kill %d: the withdrawn referral still holds the resident's data", i)
		}
	}
	t.Logf("%d kills, %d of them before the withdrawal was recorded", runs, killedMidway)
	// Every erasure reaches B (deliveries that failed while the sender was
	// down are retried after 30 s at most the first time).
	waitFor(t, "B erases every referral", 120*time.Second, func() bool {
		var l struct {
			Total     int
			Referrals []struct{ Erasure *struct{} }
		}
		b.Do("GET", "/api/v1/referrals?box=received&state=cancelled", tb, nil).JSON(t, &l)
		erased := 0
		for _, x := range l.Referrals {
			if x.Erasure != nil {
				erased++
			}
		}
		return erased == runs
	})
	// The sender's audit log records each withdrawal, its cancellation
	// and its erasure exactly once: they are one write with the
	// withdrawal, so a kill keeps all of them or none.
	_, audit := a.do(t, "GET", "/api/v1/audit", tok, "")
	for _, line := range []string{`"action":"withdrawn"`, `"detail":"requested → cancelled"|"detail":"→ cancelled"`, `"action":"erased","referral":"[^"]*","detail":"withdrawn"`} {
		if n := len(regexp.MustCompile(line).FindAll(audit, -1)); n != runs {
			t.Errorf("the sender's audit log has %d lines matching %s, want %d (one for each withdrawal)", n, line, runs)
		}
	}
	a.stop(t)
}
