package federation_test

import (
	"context"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/directory"
)

// A copy of a partner's services that fails (the partner is down) is
// tried again until it completes, and one a stop interrupted resumes at
// the next start: services the partner sent before our follow was
// accepted were not kept, and would otherwise stay missing until they
// change.
func TestBackfillTriedAgainUntilDone(t *testing.T) {
	logs := &logBuffer{}
	nodes := nodetest.Start(t, 2, nodetest.Options{Log: logs, Configure: func(c *node.Config) { c.FirstRetry = time.Second }})
	a, c := nodes[0], nodes[1]
	ta, tc := a.AdminToken(), c.AdminToken()
	for _, name := range []string{"Permanence logement", "Table de conversation", "Aide aux devoirs"} {
		createService(t, c, tc, name)
	}
	partner(t, a, c, ta, tc)
	eventually(t, "A copies C's services", func() bool { return len(replica(t, a)) == 3 })
	eventually(t, "A records the completed copy", func() bool { return logs.count(`msg="backfill done" node=node1`) == 1 })

	// A stops owing nothing; a restart starts no copy.
	started := logs.count(`msg="backfill started" node=node1`)
	a.Restart()
	time.Sleep(500 * time.Millisecond)
	if got := logs.count(`msg="backfill started" node=node1`); got != started {
		t.Fatalf("a restart with no copy owed started %d", got-started)
	}

	// A service missed (as a Create dropped before the Accept was) and the
	// copy still owed, as a stop in the middle of it leaves them.
	a.Stop()
	offline, err := node.Open(node.Config{DataDir: a.Dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := offline.Store.Relation(ctx, actorOf(c))
	if err != nil || r.BackfilledAt.IsZero() {
		t.Fatalf("the relation does not record the completed copy: %+v, %v", r, err)
	}
	r.BackfilledAt = time.Time{}
	if err := offline.Store.PutRelation(ctx, r); err != nil {
		t.Fatal(err)
	}
	var uri string
	if err := offline.Store.ForEachPartnerService(ctx, func(ps *directory.PartnerService) error {
		if ps.Service.Name[directory.FR] == "Table de conversation" {
			uri = ps.URI
		}
		return nil
	}); err != nil || uri == "" {
		t.Fatalf("A's copy of C's service: %q %v", uri, err)
	}
	if err := offline.Store.DeletePartnerService(ctx, uri); err != nil {
		t.Fatal(err)
	}
	offline.Close()

	// C is down when A starts: the copy fails and is tried again.
	c.Stop()
	a.Restart()
	eventually(t, "A's copy fails while C is down", func() bool {
		return logs.count(`msg="backfill stopped; it will be tried again" node=node1`) >= 1
	})
	if n := len(replica(t, a)); n != 2 {
		t.Fatalf("A holds %d of C's services while C is down, want 2", n)
	}
	c.Restart()
	eventually(t, "A's copy completes once C is back, without a restart", func() bool {
		return findService(replica(t, a), "Table de conversation") != nil && logs.count(`msg="backfill done" node=node1`) == 2
	})
	if n := len(replica(t, a)); n != 3 {
		t.Errorf("A holds %d of C's services, want 3", n)
	}
}
