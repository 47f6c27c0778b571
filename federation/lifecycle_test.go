package federation_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// After a partnership ends, the partner's services stay for the grace
// period, then leave the replica.
func TestEndedPartnerServicesLeaveAfterGrace(t *testing.T) {
	start := time.Now()
	nodes := nodetest.Start(t, 2, nodetest.Options{Clock: &start})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	partner(t, a, b, ta, tb)
	createService(t, a, ta, "Permanence sociale A")
	eventually(t, "B replicates A's service", func() bool { return findService(replica(t, b), "Permanence sociale A") != nil })

	rel, _ := stateWith(t, b, tb, actorOf(a))
	if resp := b.Do("DELETE", "/api/v1/partners/"+rel.ID, tb, nil); resp.Status != 200 {
		t.Fatalf("end: %d %s", resp.Status, resp.Body)
	}
	ctx := context.Background()
	b.Clock.Advance(6 * 24 * time.Hour)
	b.Node().Fed.SweepNow(ctx)
	if findService(replica(t, b), "Permanence sociale A") == nil {
		t.Fatal("the former partner's service left before the grace period")
	}
	b.Clock.Advance(2 * 24 * time.Hour)
	b.Node().Fed.SweepNow(ctx)
	if n := len(replica(t, b)); n != 0 {
		t.Errorf("replica holds %d services of a former partner after the grace period", n)
	}
}

func TestInboxRateLimitPerHost(t *testing.T) {
	b := nodetest.Start(t, 1, nodetest.Options{Configure: func(c *node.Config) { c.InboxRate, c.InboxBurst = 1, 3 }})[0]
	eve := newFakePeer(t)
	limited := 0
	for i := range 10 {
		body := follow(eve.actor, actorOf(b), eve.actor+"/follows/"+string(rune('a'+i)))
		if eve.post(t, b.URL+"/inbox", body, body, time.Now(), eve.key, nil) == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited < 5 {
		t.Errorf("%d of 10 rapid activities limited, want at least 5 past a burst of 3", limited)
	}
}
