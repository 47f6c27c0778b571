package sim

import (
	"context"
	"testing"
)

func TestGraph(t *testing.T) {
	g, err := NewGraph(1000, 8, DefaultHubs(1000), 1)
	if err != nil {
		t.Fatal(err)
	}
	s := g.Stats()
	if s.Mean < 7.5 || s.Mean > 8.5 {
		t.Errorf("mean degree %.2f, want about 8", s.Mean)
	}
	for k, want := range []int{300, 150, 100} {
		if d := g.Degree(g.Hubs[k]); d != want {
			t.Errorf("hub %d has %d partners, want %d", k, d, want)
		}
	}
	if s.Over100 < 3 {
		t.Errorf("%d nodes with 100+ partners, want 3 or more", s.Over100)
	}
	for i := range g.N {
		if g.Degree(i) == 0 {
			t.Fatalf("node %d has no partner", i)
		}
	}
}

// TestNetworkDeliversOncePerPartner runs a small network over the
// protocol: every change reaches every partner, each once (the delivery
// queue once sent some twice: deletions of one activity's deliveries
// conflicted past their retries, and a due list read just before a
// delivery finished could send it again), and nothing is refused.
func TestNetworkDeliversOncePerPartner(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a network of 12 nodes")
	}
	res, err := Run(context.Background(), Config{Nodes: 12, Services: 3, Changes: 8, HubChanges: 1, Seed: 3, Keys: NewKeyPool(DefaultKeyFile())}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.DeliveriesPerChange != res.PartnersPerChange {
		t.Errorf("%.2f deliveries per change for %.2f partners", res.DeliveriesPerChange, res.PartnersPerChange)
	}
	if res.Duplicates != 0 {
		t.Errorf("%d activities delivered twice to the same inbox", res.Duplicates)
	}
	if res.RefusedTotal != 0 {
		t.Errorf("%d inbox POSTs refused", res.RefusedTotal)
	}
	if res.DiscoveredViaOrdinary != res.OrdinaryPartners {
		t.Errorf("found %d associations through a node of %d partners", res.DiscoveredViaOrdinary, res.OrdinaryPartners)
	}
}
