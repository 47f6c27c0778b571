package federation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
)

// A referral goes from A to a service of its partner B over real HTTP:
// B receives it, A learns it arrived and was accepted; the resident
// withdraws consent on A, and both nodes erase. A third node, partner of
// both, never sees any of it; the resident's name appears in no log and
// in no raw file of any node.
func TestReferralLoopBetweenNodes(t *testing.T) {
	const marker = "Zorglub-Quintessence-8812"
	logs := &logBuffer{}
	nodes := nodetest.Start(t, 3, nodetest.Options{Log: logs})
	a, b, c := nodes[0], nodes[1], nodes[2]
	ta, tb, tc := a.AdminToken(), b.AdminToken(), c.AdminToken()
	partner(t, a, b, ta, tb)
	partner(t, a, c, ta, tc)
	partner(t, b, c, tb, tc)
	resp := b.Do("POST", "/api/v1/services", tb, `{"name": "Permanence logement", "status": "active",
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "contact"]}}`)
	if resp.Status != 201 {
		t.Fatalf("create: %d %s", resp.Status, resp.Body)
	}
	var svc struct{ ID string }
	resp.JSON(t, &svc)
	uri := b.URL + "/services/" + svc.ID
	ctx := context.Background()
	eventually(t, "A has B's service", func() bool {
		_, err := a.Node().Store.PartnerService(ctx, uri)
		return err == nil
	})

	req := referral.Request{
		Resident: json.RawMessage(`{"name": "` + marker + `", "phone": "+32 470 55 44 33"}`),
		Consent: referral.ConsentInput{Method: referral.SignedForm, Categories: []directory.DataCategory{directory.DataIdentity, directory.DataContact},
			NoticeVersion: "2026-11", NoticeHash: strings.Repeat("1e", 32), NoticeLang: "nl", GivenAt: time.Now().Add(-time.Minute)},
		Worker: "a-worker",
	}
	r, err := a.Node().Refer(ctx, uri, req)
	if err != nil {
		t.Fatal(err)
	}
	state := func(n *nodetest.Node) referral.State {
		got, err := n.Node().Store.Referral(ctx, r.ID)
		if err != nil {
			return ""
		}
		return got.State
	}
	eventually(t, "B receives it", func() bool { return state(b) == referral.Received })
	eventually(t, "A learns it arrived", func() bool { return state(a) == referral.Received })
	if res, err := b.Node().Referrals.Open(ctx, r.ID, "b-worker"); err != nil || res["name"] != marker {
		t.Fatalf("B opens %v, %v", res, err)
	}
	if _, err := b.Node().MoveReferral(ctx, r.ID, referral.Accepted, "", "b-worker"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "A sees it accepted", func() bool { return state(a) == referral.Accepted })

	if _, err := a.Node().WithdrawReferral(ctx, r.ID, "a-worker"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B erases its copy", func() bool {
		got, err := b.Node().Store.Referral(ctx, r.ID)
		return err == nil && got.Erasure != nil && got.Sealed == nil && got.State == referral.Cancelled
	})
	eventually(t, "A learns B erased", func() bool {
		got, err := a.Node().Store.Referral(ctx, r.ID)
		return err == nil && got.RemoteErasure != nil && got.Sealed == nil
	})

	// C, a partner of both, received nothing.
	n := 0
	c.Node().Store.ForEachReferral(ctx, func(*referral.Referral) error { n++; return nil })
	if n != 0 {
		t.Errorf("the third node holds %d referrals", n)
	}
	// The resident's data is nowhere in clear: logs, and the raw files of
	// every node's data directory (store encrypted, payloads sealed).
	if logs.count(marker) > 0 || logs.count("+32 470 55 44 33") > 0 {
		t.Error("the resident's data reached the logs")
	}
	for _, nd := range nodes {
		nd.Stop()
		filepath.WalkDir(nd.Dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if raw, _ := os.ReadFile(path); bytes.Contains(raw, []byte(marker)) {
					t.Errorf("%s: %s holds the resident's name in clear", nd.Name, filepath.Base(path))
				}
			}
			return nil
		})
	}
}
