package web_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// The page cache (pagecache.go) between real nodes: a kept page is served
// again, never after what it shows changed (a service of the node's own,
// a partner's replica, a language), never to or from a logged-in visitor,
// and not after its time.

// anonPage fetches a page as a visitor without cookies, in lang.
func anonPage(t *testing.T, n *nodetest.Node, path, lang string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", n.URL+path, nil)
	req.Header.Set("Accept-Language", lang)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var cacheMetric = regexp.MustCompile(`maillage_page_cache_total\{result="(\w+)"\} (\d+)`)

// cacheCounts reads what n's page cache did, by result.
func cacheCounts(t *testing.T, n *nodetest.Node) map[string]int {
	t.Helper()
	_, body := anonPage(t, n, "/metrics", "en")
	out := map[string]int{}
	for _, m := range cacheMetric.FindAllStringSubmatch(body, -1) {
		out[m[1]], _ = strconv.Atoi(m[2])
	}
	return out
}

func createService(t *testing.T, n *nodetest.Node, body string) string {
	t.Helper()
	resp := n.Do("POST", "/api/v1/services", n.AdminToken(), body)
	if resp.Status != http.StatusCreated {
		t.Fatalf("create a service on %s: %d %s", n.Name, resp.Status, resp.Body)
	}
	var s struct{ ID string }
	resp.JSON(t, &s)
	return s.ID
}

func TestPageCacheFollowsTheNodesOwnChanges(t *testing.T) {
	start := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	n := nodetest.Start(t, 1, nodetest.Options{Clock: &start, Configure: func(c *node.Config) { c.TileURL = unreachableTiles }})[0]
	id := createService(t, n, `{"name": "Épicerie du Parvis", "description": "Des colis chaque semaine.", "status": "active", "categories": ["equipement-et-alimentation--alimentation"]}`)
	page := "/services/" + id
	waitUntil(t, "the service is searchable", func() bool {
		code, body := anonPage(t, n, "/search?q=parvis", "fr")
		return code == 200 && strings.Contains(body, "Épicerie du Parvis")
	})

	before := cacheCounts(t, n)
	for range 3 {
		if code, body := anonPage(t, n, page, "fr"); code != 200 || !strings.Contains(body, "Épicerie du Parvis") {
			t.Fatalf("service page: %d", code)
		}
	}
	if got := cacheCounts(t, n); got["hit"]-before["hit"] < 2 {
		t.Fatalf("three visits of one page: %d served again, want at least 2 (counts before %v, after %v)", got["hit"]-before["hit"], before, got)
	}

	// Kept pages go out gzipped to clients that accept it.
	for range 2 {
		req, _ := http.NewRequest("GET", n.URL+page, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		z, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatalf("a gzip client gets no gzip: %v (Content-Encoding %q)", err, resp.Header.Get("Content-Encoding"))
		}
		b, _ := io.ReadAll(z)
		resp.Body.Close()
		if !strings.Contains(string(b), "Épicerie du Parvis") {
			t.Fatalf("the gzipped page does not show the service")
		}
	}

	// Renamed: the next visit shows the new name, without waiting for
	// the page's time to run out (the clock is stopped).
	if r := n.Do("PUT", "/api/v1/services/"+id, n.AdminToken(), `{"name": "Épicerie solidaire du Parvis", "description": "Des colis chaque semaine.", "status": "active", "categories": ["equipement-et-alimentation--alimentation"]}`); r.Status != 200 {
		t.Fatalf("rename: %d %s", r.Status, r.Body)
	}
	if _, body := anonPage(t, n, page, "fr"); !strings.Contains(body, "Épicerie solidaire du Parvis") {
		t.Errorf("the service page after a rename still shows the old name")
	}
	// The results page follows as soon as the index has the new name:
	// a page kept before the index caught up is not served after it.
	waitUntil(t, "the search API has the new name", func() bool {
		r := n.Do("GET", "/api/v1/search?q=parvis", "", nil)
		return strings.Contains(string(r.Body), "solidaire")
	})
	if _, body := anonPage(t, n, "/search?q=parvis", "fr"); !strings.Contains(body, "Épicerie solidaire du Parvis") {
		t.Errorf("the results page still shows the old name once the index has the new one")
	}

	// The same address in Dutch is another page.
	if _, body := anonPage(t, n, page, "nl"); !strings.Contains(body, `lang="nl"`) {
		t.Errorf("the service page asked for in Dutch is not in Dutch")
	}

	// Deleted: gone at once.
	if r := n.Do("DELETE", "/api/v1/services/"+id, n.AdminToken(), nil); r.Status != http.StatusNoContent && r.Status != 200 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if code, _ := anonPage(t, n, page, "fr"); code != http.StatusNotFound {
		t.Errorf("the page of a deleted service answers %d, want 404", code)
	}

	// With nothing changed, a kept page lasts a few seconds of the
	// node's clock at most: opening hours move with it.
	anonPage(t, n, "/", "fr")
	before = cacheCounts(t, n)
	anonPage(t, n, "/", "fr")
	n.Clock.Advance(11 * time.Second)
	anonPage(t, n, "/", "fr")
	got := cacheCounts(t, n)
	if got["hit"]-before["hit"] != 1 || got["miss"]-before["miss"] != 1 {
		t.Errorf("home page before and after 11 s: %d served again and %d rendered, want 1 and 1", got["hit"]-before["hit"], got["miss"]-before["miss"])
	}
}

// A page rendered for a logged-in worker (their name, their forms) is
// never kept for anyone else, and a kept page never replaces theirs.
func TestPageCacheKeepsSessionsApart(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{Configure: func(c *node.Config) { c.TileURL = unreachableTiles }})[0]
	id := createService(t, n, `{"name": "Permanence logement", "description": "Aide pour trouver un logement.", "status": "active", "categories": ["logement-hebergement"]}`)
	page := "/services/" + id
	worker(t, n)
	c := pageClient(t, n, "travailleuse@"+n.Name+".test", "worker-password-1")

	// The worker first, then a visitor, then the worker again.
	_, _, mine := fetchPage(t, c, "GET", n.URL+page, nil)
	if !strings.Contains(mine, `action="/logout"`) {
		t.Fatalf("the worker's page has no logout form")
	}
	_, anon := anonPage(t, n, page, "fr")
	_, anon2 := anonPage(t, n, page, "fr")
	for _, body := range []string{anon, anon2} {
		if strings.Contains(body, `action="/logout"`) || strings.Contains(body, "travailleuse@") || strings.Contains(body, `name="csrf"`) {
			t.Errorf("a visitor's page shows the worker's session")
		}
	}
	_, _, mine = fetchPage(t, c, "GET", n.URL+page, nil)
	if !strings.Contains(mine, `action="/logout"`) {
		t.Errorf("the worker got the visitors' page")
	}
}

// A partner's service changes on the partner's node: the pages of the
// node that replicates it follow as soon as the replica does.
func TestPageCacheFollowsAPartnersReplica(t *testing.T) {
	start := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC) // a stopped clock: only a change can refresh a kept page
	nodes, id, uri := coordNodes(t, start, 2)
	a, b := nodes[0], nodes[1]
	_, before := anonPage(t, a, "/search?q=abri", "fr")
	if !strings.Contains(before, "Abri de nuit") {
		t.Fatalf("A's results page does not show B's shelter")
	}
	anonPage(t, a, "/search?q=abri", "fr") // kept, and served again

	if r := b.Do("PUT", "/api/v1/services/"+id, b.AdminToken(), strings.Replace(shelter, `"Abri de nuit"`, `"Abri de nuit Saint-Gilles"`, 1)); r.Status != 200 {
		t.Fatalf("B renames its shelter: %d %s", r.Status, r.Body)
	}
	waitUntil(t, "A's replica has the new name", func() bool {
		r := a.Do("GET", "/api/v1/search?q=abri", "", nil)
		return strings.Contains(string(r.Body), "Saint-Gilles")
	})
	if _, body := anonPage(t, a, "/search?q=abri", "fr"); !strings.Contains(body, "Abri de nuit Saint-Gilles") {
		t.Errorf("A's results page still shows the old name once its replica has the new one")
	}
	_ = uri
}

// Visitors arriving together at a page that is not kept wait for one
// rendering instead of each rendering it, and all get the page.
func TestPageCacheRendersOnceForVisitorsArrivingTogether(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{Configure: func(c *node.Config) { c.TileURL = unreachableTiles }})[0]
	createService(t, n, `{"name": "Cours de français", "description": "Apprendre le français.", "status": "active", "categories": ["lecture-ecriture-calcul--maitriser-le-francais"]}`)
	waitUntil(t, "the service is searchable", func() bool {
		code, body := anonPage(t, n, "/search?q=cours", "fr")
		return code == 200 && strings.Contains(body, "Cours de français")
	})
	before := cacheCounts(t, n)
	var wg sync.WaitGroup
	bodies := make([]string, 20)
	for i := range bodies {
		wg.Go(func() { _, bodies[i] = anonPage(t, n, "/search?q=cours+de+fran%C3%A7ais", "fr") })
	}
	wg.Wait()
	for i, b := range bodies {
		if !strings.Contains(b, "Cours de français") {
			t.Fatalf("visitor %d did not get the results", i)
		}
	}
	got := cacheCounts(t, n)
	if m := got["miss"] - before["miss"]; m > 2 {
		t.Errorf("20 visitors arriving together: the page was rendered %d times, want once (twice if a change came in between)", m)
	}
	if h := got["hit"] - before["hit"]; h < 18 {
		t.Errorf("20 visitors arriving together: %d served the kept page, want at least 18", h)
	}
}
