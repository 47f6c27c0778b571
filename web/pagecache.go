package web

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The pages residents open (home, search results, a service) are the
// node's busiest surface: a local newsletter linking to a search sends
// hundreds of people to the same page within minutes. Rendering one costs
// a search, a store read and a template; serving it again costs a map
// lookup (figures in the README, § Performance).
//
// A page is kept only when it is the same for every visitor who asks for
// it: a GET without a session or a token (a logged-in worker's pages show
// their name, forms and inbox, and are never kept or served from here),
// keyed by the route, path, query and the language the page is shown in.
// It is served again only while nothing it may show has changed: the
// key's generation (Deps.Changes: the store's version, which every write
// moves, plus the search index's generation, which moves when the index
// catches up with the store) must be the same, and for at most
// pageCacheTTL, since opening hours ("ouvert maintenant") and ages
// ("mis à jour il y a 2 h") move with the clock.
const (
	pageCacheTTL   = 5 * time.Second
	pageCacheBytes = 8 << 20 // all kept pages together
	pageCacheMax   = 256 << 10
)

type pageCache struct {
	mu    sync.Mutex
	pages map[string]*cachedPage
	bytes int
	// flights are the pages being rendered: other visitors of the same
	// page wait for it rather than render it too (200 visitors arriving
	// together as a kept page expires would otherwise all render it).
	flights map[string]chan struct{}
	// What the cache did for each public page asked for.
	hit, miss, bypass prometheus.Counter
}

type cachedPage struct {
	gen    uint64
	until  time.Time
	header http.Header
	body   []byte
	gzOnce sync.Once
	gz     []byte
}

func newPageCache(m *Metrics) *pageCache {
	count := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "maillage_page_cache_total",
		Help: "Public pages asked for, by what the page cache did: hit (served again), miss (rendered and kept) or bypass (a logged-in visitor, another method, or not kept).",
	}, []string{"result"})
	m.Registry.MustRegister(count)
	return &pageCache{pages: map[string]*cachedPage{}, flights: map[string]chan struct{}{},
		hit: count.WithLabelValues("hit"), miss: count.WithLabelValues("miss"), bypass: count.WithLabelValues("bypass")}
}

// lookup returns the kept page to serve; or, when there is none, either
// a channel closed once another request has rendered it, or lead: the
// caller renders it and must call done.
//
// A page kept under the same generation that has just expired is still
// served while one request renders it again: it shows what the store
// holds now, only with clock-dependent details up to two TTLs old. A
// page of another generation is never served.
func (c *pageCache) lookup(key string, gen uint64, now time.Time) (p *cachedPage, wait <-chan struct{}, lead bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p = c.pages[key]
	if p != nil && p.gen != gen {
		c.bytes -= len(p.body)
		delete(c.pages, key)
		p = nil
	}
	if p != nil && now.Before(p.until) {
		return p, nil, false
	}
	if f, ok := c.flights[key]; ok {
		if p != nil && now.Before(p.until.Add(pageCacheTTL)) {
			return p, nil, false
		}
		return nil, f, false
	}
	c.flights[key] = make(chan struct{})
	return nil, nil, true
}

// done ends the rendering that lookup asked for, keeping p unless nil.
func (c *pageCache) done(key string, p *cachedPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p != nil && len(p.body) <= pageCacheMax {
		if old := c.pages[key]; old != nil {
			c.bytes -= len(old.body)
			delete(c.pages, key)
		}
		// Over the budget, any other pages make room: a map's order is
		// as good as any when most pages live for seconds.
		for k, old := range c.pages {
			if c.bytes+len(p.body) <= pageCacheBytes {
				break
			}
			c.bytes -= len(old.body)
			delete(c.pages, k)
		}
		c.pages[key] = p
		c.bytes += len(p.body)
	}
	if f, ok := c.flights[key]; ok {
		close(f)
		delete(c.flights, key)
	}
}

// anonymous tells whether r carries no credentials at all: its page is
// the one every visitor gets.
func anonymous(r *http.Request) bool {
	if r.Method != http.MethodGet || r.Header.Get("Authorization") != "" {
		return false
	}
	_, err := r.Cookie(sessionCookie)
	return err != nil
}

// publicPage serves a page anyone may open, from the page cache when
// possible (see above).
func (s *Server) publicPage(h pageHandler) http.HandlerFunc {
	serve := s.page(h)
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Changes == nil || !anonymous(r) {
			s.cache.bypass.Inc()
			serve(w, r)
			return
		}
		lang := requestLang(r)
		key := routeName(r) + "\x00" + string(lang) + "\x00" + r.URL.Path + "\x00" + r.URL.RawQuery
		// The generation is read before rendering: a change made while
		// the page renders leaves it under an older generation, not
		// the new one.
		gen, now := s.Changes(), s.Now()
		for range 2 {
			p, wait, lead := s.cache.lookup(key, gen, now)
			switch {
			case p != nil:
				s.cache.hit.Inc()
				rememberLang(w, r, lang, s.SecureCookies)
				p.write(w, r)
				return
			case lead:
				s.renderKept(w, r, serve, key, gen, now)
				return
			}
			select {
			case <-wait:
			case <-r.Context().Done():
				return
			}
		}
		// The page another request rendered was not kept (an error, a
		// redirect): this one is rendered for this visitor alone.
		s.cache.bypass.Inc()
		serve(w, r)
	}
}

// renderKept renders a page into a buffer, uncompressed, keeps it if it
// is a page like any other (200, no form token), then sends it as it
// would have been sent.
func (s *Server) renderKept(w http.ResponseWriter, r *http.Request, serve http.HandlerFunc, key string, gen uint64, now time.Time) {
	var kept *cachedPage
	defer func() { s.cache.done(key, kept) }()
	rec := &pageRecorder{header: http.Header{}, code: http.StatusOK}
	plain := r.Clone(r.Context())
	plain.Header.Del("Accept-Encoding")
	serve(rec, plain)
	// A page with a form carries the visitor's own form token: it is
	// never kept (no public page has one for a visitor without a
	// session; this keeps it so if one gains a form).
	if rec.code != http.StatusOK || rec.header.Get("Content-Encoding") != "" || bytes.Contains(rec.body.Bytes(), []byte(`name="csrf"`)) {
		s.cache.bypass.Inc()
		rec.replay(w, r)
		return
	}
	kept = &cachedPage{gen: gen, until: now.Add(pageCacheTTL), header: rec.header.Clone(), body: rec.body.Bytes()}
	kept.header.Del("Set-Cookie")
	s.cache.miss.Inc()
	rec.replay(w, r)
}

// write sends a kept page, gzipped when the client accepts it (once per
// kept page).
func (p *cachedPage) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range p.header {
		h[k] = v
	}
	if len(p.body) > 1024 && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		p.gzOnce.Do(func() {
			var buf bytes.Buffer
			z, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
			z.Write(p.body)
			z.Close()
			p.gz = buf.Bytes()
		})
		h.Set("Content-Encoding", "gzip")
		w.WriteHeader(http.StatusOK)
		w.Write(p.gz)
		return
	}
	w.WriteHeader(http.StatusOK)
	w.Write(p.body)
}

// pageRecorder holds what a page handler wrote.
type pageRecorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
	wrote  bool
}

func (r *pageRecorder) Header() http.Header { return r.header }

func (r *pageRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
}

func (r *pageRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}

// replay sends what was recorded, compressed as the client accepts.
func (r *pageRecorder) replay(w http.ResponseWriter, req *http.Request) {
	h := w.Header()
	for k, v := range r.header {
		h[k] = v
	}
	if r.header.Get("Content-Encoding") != "" || r.code != http.StatusOK && r.body.Len() == 0 {
		w.WriteHeader(r.code)
		w.Write(r.body.Bytes())
		return
	}
	h.Del("Vary")
	h.Set("Vary", "Accept-Language, Cookie")
	writeCompressed(w, req, r.code, r.body.Bytes())
}
