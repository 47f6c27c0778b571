package web

import (
	"testing"
	"time"
)

// The page cache's rules, one request at a time: one rendering at once
// per page, a page of another generation never served, an expired one
// served only while it is being rendered again, and never beyond.
func TestPageCacheLookupRules(t *testing.T) {
	c := newPageCache(NewMetrics())
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	page := func(gen uint64, at time.Time) *cachedPage {
		return &cachedPage{gen: gen, until: at.Add(pageCacheTTL), body: []byte("page")}
	}

	p, wait, lead := c.lookup("k", 1, t0)
	if p != nil || wait != nil || !lead {
		t.Fatalf("first visitor: page %v, wait %v, lead %v; want to render it", p, wait, lead)
	}
	p, wait, lead = c.lookup("k", 1, t0)
	if p != nil || wait == nil || lead {
		t.Fatalf("second visitor during the rendering: page %v, lead %v; want to wait", p, lead)
	}
	c.done("k", page(1, t0))
	select {
	case <-wait:
	default:
		t.Fatal("the waiting visitor is not woken when the page is rendered")
	}
	if p, _, _ := c.lookup("k", 1, t0.Add(time.Second)); p == nil {
		t.Fatal("the rendered page is not served again")
	}

	// Expired, same generation: the first visitor renders it again, the
	// others get the expired page meanwhile, for one more TTL at most.
	late := t0.Add(pageCacheTTL + time.Second)
	if _, _, lead := c.lookup("k", 1, late); !lead {
		t.Fatal("an expired page is not rendered again")
	}
	if p, _, _ := c.lookup("k", 1, late); p == nil {
		t.Fatal("while an expired page is rendered again, other visitors wait instead of getting it")
	}
	if p, wait, _ := c.lookup("k", 1, t0.Add(2*pageCacheTTL+time.Second)); p != nil || wait == nil {
		t.Fatal("a page two TTLs old is served")
	}
	c.done("k", page(1, late))

	// Anything changed: the kept page is never served again.
	if p, _, lead := c.lookup("k", 2, late); p != nil || !lead {
		t.Fatalf("a page of the previous generation: page %v, lead %v; want it rendered again", p, lead)
	}
	c.done("k", nil) // not kept (an error page)
	if p, _, lead := c.lookup("k", 2, late); p != nil || !lead {
		t.Fatal("a page that was not kept is served")
	}
	c.done("k", nil)
}

// Kept pages never hold more than the budget.
func TestPageCacheBudget(t *testing.T) {
	c := newPageCache(NewMetrics())
	now := time.Now()
	big := make([]byte, pageCacheMax)
	for i := range 2 * pageCacheBytes / pageCacheMax {
		key := string(rune('a'+i%26)) + string(rune('a'+i/26))
		c.lookup(key, 1, now)
		c.done(key, &cachedPage{gen: 1, until: now.Add(time.Minute), body: big})
		if c.bytes > pageCacheBytes {
			t.Fatalf("after %d pages the cache holds %d bytes, over its %d", i+1, c.bytes, pageCacheBytes)
		}
	}
	c.lookup("huge", 1, now)
	c.done("huge", &cachedPage{gen: 1, until: now.Add(time.Minute), body: make([]byte, pageCacheMax+1)})
	if p, _, _ := c.lookup("huge", 1, now); p != nil {
		t.Error("a page over the size of one kept page was kept")
	}
}
