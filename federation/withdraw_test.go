package federation_test

import (
	"context"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// A deleted service stays deleted at a partner that hears of an older
// change late: an Update that failed once (the partner was down) is
// tried again after the Delete sent since went through. The partner
// applied it and showed the deleted service to residents for good.
//
// C's clock runs 30 minutes ahead of A's, within what signatures allow:
// the deletion's time must then be C's own (its Tombstone's), since A's
// time of receipt is earlier than the Update's version.
func TestLateUpdateDoesNotBringBackADeletedService(t *testing.T) {
	var ahead string // the data directory of the node whose clock is ahead
	nodes := nodetest.Start(t, 2, nodetest.Options{Configure: func(c *node.Config) {
		c.FirstRetry = 4 * time.Second
		if c.DataDir == ahead {
			c.Now = func() time.Time { return time.Now().Add(30 * time.Minute) }
		}
	}})
	a, c := nodes[0], nodes[1]
	ahead = c.Dir
	c.Restart()
	ta, tc := a.AdminToken(), c.AdminToken()
	partner(t, a, c, ta, tc)
	id := createService(t, c, tc, "Colis du mardi")
	eventually(t, "A holds C's service", func() bool { return findService(replica(t, a), "Colis du mardi") != nil })

	// The Update finds A down: C tries it again in about 4 s.
	a.Stop()
	if r := c.Do("PUT", "/api/v1/services/"+id, tc, `{"name": "Colis du mardi (dernière semaine)", "status": "active"}`); r.Status != 200 {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	eventually(t, "C's first try of the Update failed", func() bool { return tried(t, c) == 1 })
	a.Restart()
	// The Delete goes through at once, before the Update's retry.
	if r := c.Do("DELETE", "/api/v1/services/"+id, tc, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	eventually(t, "A removes the deleted service", func() bool { return len(replica(t, a)) == 0 })
	eventually(t, "C delivers the Update it tried again", func() bool { return pending(t, c) == 0 })
	time.Sleep(300 * time.Millisecond) // the index takes a change within a quarter of a second
	if list := replica(t, a); len(list) != 0 {
		t.Fatalf("the late Update brought the deleted service back at A: %+v", list)
	}

}

// pending is how many deliveries n still has to make.
func pending(t *testing.T, n *nodetest.Node) int {
	t.Helper()
	k, err := n.Node().Store.CountDeliveries(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// tried is how many of them n tried and must try again.
func tried(t *testing.T, n *nodetest.Node) int {
	t.Helper()
	ds, err := n.Node().Store.DueDeliveries(context.Background(), time.Now().Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for _, d := range ds {
		if d.Attempts > 0 {
			k++
		}
	}
	return k
}
