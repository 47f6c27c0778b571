package nodetest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

func TestStartSeveralNodes(t *testing.T) {
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	nodes := nodetest.Start(t, 3, nodetest.Options{Clock: &start})
	seen := map[string]bool{}
	for i, n := range nodes {
		host := strings.Split(n.Addr, ":")[0]
		if want := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}[i]; host != want {
			t.Errorf("%s listens on %s, want %s", n.Name, host, want)
		}
		if seen[n.Dir] {
			t.Errorf("%s shares a data directory", n.Name)
		}
		seen[n.Dir] = true
		var org struct{ Name string }
		n.Do("GET", "/api/v1/organization", "", nil).JSON(t, &org)
		if org.Name != "Association "+n.Name {
			t.Errorf("%s serves organization %q", n.Name, org.Name)
		}
	}
	// Each node has its own clock: a token expires on one node only.
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	a.Clock.Advance(16 * time.Minute)
	if resp := a.Do("GET", "/api/v1/users", ta, nil); resp.Status != http.StatusUnauthorized {
		t.Errorf("token after 16 minutes on node1 = %d, want 401", resp.Status)
	}
	if resp := b.Do("GET", "/api/v1/users", tb, nil); resp.Status != http.StatusOK {
		t.Errorf("token on node2, whose clock did not move = %d, want 200", resp.Status)
	}
	// A node restarts on the same address with its data.
	admin := b.AdminToken()
	if resp := b.Do("POST", "/api/v1/locations", admin, `{"name": "Accueil", "addresses": [{"address_1": "Rue Haute 1", "city": "Bruxelles", "postal_code": "1000", "country": "BE"}]}`); resp.Status != http.StatusCreated {
		t.Fatalf("create location: %d %s", resp.Status, resp.Body)
	}
	b.Restart()
	var locs struct{ Total int }
	b.Do("GET", "/api/v1/locations", "", nil).JSON(t, &locs)
	if locs.Total != 1 {
		t.Errorf("locations after restart = %d, want 1", locs.Total)
	}
}
