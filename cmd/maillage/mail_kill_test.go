package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
)

// A recipient node killed with SIGKILL between a referral's arrival and
// the e-mail it owes its team loses no mail (issue 17). First with the
// SMTP server down, so that the kill surely comes between the two: the
// mail arrives once the server and the node are back. Then at random
// moments after the referral is sent, the server up: every referral's
// mail arrives. A kill after the server took a mail but before the node
// recorded it sent can send it twice (with the same Message-ID); the test
// counts those.
func TestKillsBetweenChangeAndMail(t *testing.T) {
	if testing.Short() {
		t.Skip("kills of real processes")
	}
	mp := nodetest.StartMailpit(t)
	a := nodetest.Start(t, 1, nodetest.Options{})[0]
	b := newProcessNode(t, "recipient", "--smtp-url", mp.SMTPURL(), "--mail-from", "ne-pas-repondre@recipient.test")
	b.follows(t, a)
	_, body := b.do(t, "POST", "/api/v1/services", `{"name": "Permanence logement", "status": "active",
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity"]}}`)
	var svc struct{ ID string }
	json.Unmarshal(body, &svc)
	uri := "http://" + b.addr + "/services/" + svc.ID
	ctx := context.Background()
	waitFor(t, "the sender replicates the service", 15*time.Second, func() bool {
		_, err := a.Node().Store.PartnerService(ctx, uri)
		return err == nil
	})
	refer := func() string {
		r, err := a.Node().Refer(ctx, uri, referral.Request{
			Resident: json.RawMessage(`{"name": "Résidente"}`),
			Consent: referral.ConsentInput{Method: referral.OnScreen, Categories: []directory.DataCategory{directory.DataIdentity},
				NoticeVersion: "1", NoticeHash: strings.Repeat("ab", 32), NoticeLang: "fr", GivenAt: time.Now().Add(-time.Minute)},
			Worker: "w"})
		if err != nil {
			t.Fatal(err)
		}
		return r.Reference()
	}
	received := func() int {
		var l struct{ Total int }
		_, body := b.do(t, "GET", "/api/v1/referrals?box=received", "")
		json.Unmarshal(body, &l)
		return l.Total
	}
	mailsFor := func(ref string) int {
		k := 0
		for _, m := range mp.Messages(t) {
			if strings.Contains(m.Subject, ref) {
				k++
			}
		}
		return k
	}

	// The server down: the referral arrives, its mail waits; kill.
	mp.Stop(t)
	first := refer()
	waitFor(t, "the recipient has the referral", 15*time.Second, func() bool { return received() == 1 })
	time.Sleep(3 * time.Second) // the notifier's pass: the mail tried and failed
	b.kill()
	mp.Start(t)
	b.start(t)
	waitFor(t, "the owed mail after the restart", 30*time.Second, func() bool { return mailsFor(first) > 0 })

	// Random kills, the server up.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 17))
	runs := loadtest(6, 20)
	refs := []string{first}
	for i := range runs {
		refs = append(refs, refer())
		time.Sleep(time.Duration(rng.Int64N(int64(3 * time.Second))))
		b.kill()
		b.start(t)
		waitFor(t, "the referral recorded", 30*time.Second, func() bool { return received() == i+2 })
	}
	twice := 0
	for _, ref := range refs {
		waitFor(t, "the mail of "+ref, 30*time.Second, func() bool { return mailsFor(ref) > 0 })
	}
	time.Sleep(time.Second)
	for _, ref := range refs {
		if k := mailsFor(ref); k > 1 {
			twice++
		}
	}
	t.Logf("%d kills, %d referrals, every mail arrived; %d sent twice", runs+1, len(refs), twice)
	if twice > 1 {
		t.Errorf("%d mails sent twice in %d kills: the window between sending and recording is wider than expected", twice, runs)
	}
}
