package federation_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/directory"
)

type searchAnswer struct {
	Total   int
	Results []struct {
		ID, URI, Name, Organization string
		Local                       bool
		DistanceKm                  *float64 `json:"distance_km"`
	}
	Facets map[string][]struct {
		Value string
		Count int
	}
}

func searchOn(t testing.TB, n *nodetest.Node, query string) searchAnswer {
	t.Helper()
	var out searchAnswer
	resp := n.Do("GET", "/api/v1/search?"+query, "", nil)
	if resp.Status != 200 {
		t.Fatalf("search %q on %s: %d %s", query, n.Name, resp.Status, resp.Body)
	}
	resp.JSON(t, &out)
	return out
}

// A node searches its own services and its partners' in one index that
// follows federation events, and restarts with the same answers.
func TestSearchAcrossPartners(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	partner(t, a, b, ta, tb)

	loc := a.Do("POST", "/api/v1/locations", ta, `{"name": "Accueil", "latitude": 50.8291, "longitude": 4.3449,
	  "addresses": [{"address_1": "Rue de la Victoire 96", "city": "Saint-Gilles", "postal_code": "1060", "country": "BE"}]}`)
	var l struct{ ID string }
	loc.JSON(t, &l)
	resp := a.Do("POST", "/api/v1/services", ta, `{"name": "Épicerie sociale du Midi", "description": "Colis alimentaire", "status": "active",
	  "categories": ["equipement-et-alimentation--alimentation"], "service_at_locations": [{"location_id": "`+l.ID+`"}],
	  "translations": {"nl": {"name": "Sociale kruidenier Zuid"}}}`)
	if resp.Status != 201 {
		t.Fatalf("create: %d %s", resp.Status, resp.Body)
	}
	var svc struct{ ID string }
	resp.JSON(t, &svc)
	createService(t, b, tb, "Cours de français B")
	eventually(t, "B indexes its own service", func() bool { return searchOn(t, b, "q=francais").Total == 1 })

	eventually(t, "B finds A's service by text", func() bool { return searchOn(t, b, "q=epicerie+sociale").Total == 1 })
	got := searchOn(t, b, "q=kruidenier&postcode=1060&radius_km=2")
	if got.Total != 1 || got.Results[0].Local || got.Results[0].Organization != "Association node1" || got.Results[0].DistanceKm == nil {
		t.Errorf("B's search near 1060 = %+v", got)
	}
	if got := searchOn(t, b, "q=epicerie&scope=local"); got.Total != 0 {
		t.Errorf("scope=local on B finds A's service: %+v", got)
	}
	if got := searchOn(t, b, "category=equipement-et-alimentation"); got.Total != 2 || len(got.Facets["organization"]) != 2 { // createService files both there
		t.Errorf("category search = %+v", got)
	}
	eventually(t, "A finds its own service", func() bool {
		got := searchOn(t, a, "q=colis+alimentaires")
		return got.Total == 1 && got.Results[0].Local
	})
	// The HSDS list searches with the same engine.
	eventually(t, "the HSDS list finds it by text", func() bool {
		return strings.Contains(string(a.Do("GET", "/hsds/services?search=epiceries", "", nil).Body), svc.ID)
	})

	// Deleting on A removes it from B's index too.
	if resp := a.Do("DELETE", "/api/v1/services/"+svc.ID, ta, nil); resp.Status != 204 {
		t.Fatalf("delete: %d", resp.Status)
	}
	eventually(t, "B's search forgets the deleted service", func() bool { return searchOn(t, b, "q=epicerie").Total == 0 })

	// After a restart the index is rebuilt from the store.
	b.Restart()
	if got := searchOn(t, b, "q=francais"); got.Total != 1 {
		t.Errorf("after restart: %+v", got)
	}

	for _, bad := range []string{"near=91,4", "near=abc", "radius_km=-1&near=50,4", "radius_km=5", "postcode=9999", "category=nothing",
		"per_page=1000", "page=0", "open_at=tomorrow", "sort=distance", "q=" + strings.Repeat("x", 10<<10)} {
		if resp := b.Do("GET", "/api/v1/search?"+bad, "", nil); resp.Status != http.StatusBadRequest {
			t.Errorf("search?%.40s = %d, want 400", bad, resp.Status)
		}
	}
	if got := searchOn(t, b, "q=francais&page=50"); got.Total != 1 || len(got.Results) != 0 {
		t.Errorf("page beyond the end = %+v", got)
	}
}

type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// count returns how many log lines contain s.
func (l *logBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// A clean stop saves the search index and the next start loads it; a
// store changed meanwhile has its changes applied to the loaded index,
// and a damaged snapshot makes the node rebuild: never an answer from a
// stale index.
func TestSearchIndexSnapshot(t *testing.T) {
	logs := &logBuffer{}
	nodes := nodetest.Start(t, 2, nodetest.Options{Log: logs})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	partner(t, a, b, ta, tb)
	createService(t, a, ta, "Épicerie du Midi")
	createService(t, b, tb, "Cours de français")
	eventually(t, "B indexes both", func() bool { return searchOn(t, b, "").Total == 2 })
	before := searchOn(t, b, "q=epicerie")

	snapshot := filepath.Join(b.Dir, "search.snapshot")
	b.Stop()
	if _, err := os.Stat(snapshot); err != nil {
		t.Fatalf("no snapshot after a clean stop: %v", err)
	}
	loaded := logs.count(`msg="search index loaded"`)
	b.Restart()
	if logs.count(`msg="search index loaded"`) != loaded+1 {
		t.Fatal("the restart did not load the snapshot")
	}
	if got := searchOn(t, b, "q=epicerie"); !reflect.DeepEqual(got, before) {
		t.Errorf("after loading: %+v, want %+v", got, before)
	}
	if _, err := os.Stat(snapshot); err != nil {
		t.Errorf("the snapshot is gone after loading: %v", err)
	}

	// The store changes while the node is stopped: the snapshot is loaded
	// and the change applied.
	b.Stop()
	offline, err := node.Open(node.Config{DataDir: b.Dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := offline.Catalog.CreateService(context.Background(), &directory.Service{Name: directory.T(directory.FR, "Permanence juridique"), Status: directory.StatusActive}); err != nil {
		t.Fatal(err)
	}
	offline.Close()
	rebuilt := logs.count("snapshot not used")
	b.Restart()
	if logs.count("snapshot not used") != rebuilt || logs.count(`services=3 changed=1 removed=0`) != 1 {
		t.Errorf("the snapshot was not loaded and brought up to date with the change made while stopped:\n%s", logs.b.String())
	}
	if got := searchOn(t, b, "q=juridique"); got.Total != 1 {
		t.Errorf("the service added while stopped is not found: %+v", got)
	}

	// A damaged snapshot is refused too.
	b.Stop()
	raw, err := os.ReadFile(snapshot)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0xff
	if err := os.WriteFile(snapshot, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	readBack := logs.count(`msg="search index read back from its snapshot" node=node2 services=3`)
	b.Restart()
	if logs.count("snapshot not used") != rebuilt+1 {
		t.Error("a damaged snapshot was not refused")
	}
	// The rebuilt index is saved, then read back from the snapshot (laid
	// out as a load lays it, in less memory), and still holds everything.
	eventually(t, "B reads back the snapshot of its rebuilt index", func() bool {
		return logs.count(`msg="search index read back from its snapshot" node=node2 services=3`) == readBack+1
	})
	if got := searchOn(t, b, ""); got.Total != 3 {
		t.Errorf("after rebuilding: %d services, want 3", got.Total)
	}
	if got := searchOn(t, b, "q=epicerie"); !reflect.DeepEqual(got, before) {
		t.Errorf("after rebuilding and reading back: %+v, want %+v", got, before)
	}
	if got := searchOn(t, b, "q=juridique"); got.Total != 1 {
		t.Errorf("after rebuilding and reading back, the service added while stopped is not found: %+v", got)
	}
}
