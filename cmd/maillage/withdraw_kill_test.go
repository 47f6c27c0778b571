package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
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
	a := newProcessNode(t, "sender")
	a.follows(t, b)
	r := b.Do("POST", "/api/v1/services", tb, `{"name": "Permanence logement", "status": "active",
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity"]}}`)
	var svc struct{ ID string }
	r.JSON(t, &svc)
	waitFor(t, "A replicates B's service", 15*time.Second, func() bool {
		_, body := a.do(t, "GET", "/api/v1/network/services", "")
		return strings.Contains(string(body), svc.ID)
	})

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	const runs = 6
	var ids []string
	killedMidway := 0
	for i := range runs {
		given := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		code, body := a.do(t, "POST", "/api/v1/referrals", `{"service": "`+svc.ID+`", "resident": {"name": "Résidente `+fmt.Sprint(i)+`"},
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
		a.killDuring(t, rng, 20*time.Millisecond, "POST", "/api/v1/referrals/"+ref.ID+"/withdraw", "")
		_, body = a.do(t, "GET", "/api/v1/referrals/"+ref.ID, "")
		var view struct {
			State    string
			Resident map[string]any
		}
		json.Unmarshal(body, &view)
		if view.State != "cancelled" {
			killedMidway++
			if code, body := a.do(t, "POST", "/api/v1/referrals/"+ref.ID+"/withdraw", ""); code != 200 {
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
	_, audit := a.do(t, "GET", "/api/v1/audit", "")
	for _, line := range []string{`"action":"withdrawn"`, `"detail":"requested → cancelled"|"detail":"→ cancelled"`, `"action":"erased","referral":"[^"]*","detail":"withdrawn"`} {
		if n := len(regexp.MustCompile(line).FindAll(audit, -1)); n != runs {
			t.Errorf("the sender's audit log has %d lines matching %s, want %d (one for each withdrawal)", n, line, runs)
		}
	}
	a.s.stop(t)
}
