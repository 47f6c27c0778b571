package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/maillage/maillage/directory"
)

// Handler serves the federation endpoints; any other request, and a
// browser asking for an actor or service page, goes to fallback. observe
// wraps each endpoint under its route's name, for the request log and
// metrics (nil: none).
func (f *Federator) Handler(fallback http.Handler, observe func(route string, h http.Handler) http.Handler) http.Handler {
	if observe == nil {
		observe = func(_ string, h http.Handler) http.Handler { return h }
	}
	mux := http.NewServeMux()
	handle := func(pattern, route string, h http.HandlerFunc) { mux.Handle(pattern, observe(route, h)) }
	handle("GET /.well-known/webfinger", "federation-webfinger", f.serveWebFinger)
	handle("GET /.well-known/nodeinfo", "federation-nodeinfo-links", f.serveNodeInfoLinks)
	handle("GET /nodeinfo/2.1", "federation-nodeinfo", f.serveNodeInfo)
	mux.Handle("GET /actor", f.negotiate(fallback, observe("federation-actor", http.HandlerFunc(f.serveActor))))
	handle("POST /inbox", "federation-inbox", f.inbox)
	handle("POST /actor/inbox", "federation-inbox", f.inbox)
	handle("GET /outbox", "federation-outbox", f.serveOutbox)
	handle("GET /followers", "federation-followers", f.serveFollowers)
	handle("GET /following", "federation-following", f.serveFollowing)
	handle("GET /featured", "federation-featured", f.serveFeatured)
	mux.Handle("GET /services/{id}", f.negotiate(fallback, observe("federation-service", http.HandlerFunc(f.serveService))))
	handle("GET /referrals/{id}/documents/{doc}", "federation-referral-document", f.serveReferralDocument) // referral_docs.go
	mux.Handle("/", fallback)
	return mux
}

// SignerHost is the host of the key that signed r, read from its
// Signature header without verifying it: which server a request says it
// comes from, for logs. "" when unsigned.
func SignerHost(r *http.Request) string { return hostOf(keyIDOf(r.Header.Get("Signature"))) }

// wantsAS reports whether the client asks for ActivityStreams.
func wantsAS(r *http.Request) bool {
	acc := r.Header.Get("Accept")
	return strings.Contains(acc, "application/activity+json") || strings.Contains(acc, "application/ld+json")
}

func (f *Federator) negotiate(fallback http.Handler, as http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wantsAS(r) {
			as.ServeHTTP(w, r)
			return
		}
		// Browsers get the page of the actor or service at the same URL.
		w.Header().Add("Vary", "Accept")
		fallback.ServeHTTP(w, r)
	})
}

func writeAS(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", `application/activity+json; charset=utf-8`)
	w.Header().Set("Vary", "Accept")
	w.Write(b)
}

func (f *Federator) serveActor(w http.ResponseWriter, r *http.Request) {
	a, err := f.Actor(r.Context())
	if err != nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	writeAS(w, a)
}

func (f *Federator) serveWebFinger(w http.ResponseWriter, r *http.Request) {
	res := r.URL.Query().Get("resource")
	acct, ok := strings.CutPrefix(res, "acct:")
	handle, host, _ := strings.Cut(strings.TrimPrefix(acct, "@"), "@")
	if !ok && res != f.actorID {
		http.Error(w, "resource must be acct:handle@host", http.StatusBadRequest)
		return
	}
	if res != f.actorID && (handle != f.o.Handle || !strings.EqualFold(host, f.host)) {
		http.NotFound(w, r)
		return
	}
	jrd := map[string]any{
		"subject": "acct:" + f.o.Handle + "@" + f.host,
		"aliases": []string{f.actorID, f.base + "/"},
		"links": []map[string]string{
			{"rel": "self", "type": ContentType, "href": f.actorID},
			{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": f.base + "/"},
		},
	}
	b, _ := json.Marshal(jrd)
	w.Header().Set("Content-Type", "application/jrd+json; charset=utf-8")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Write(b)
}

func (f *Federator) serveNodeInfoLinks(w http.ResponseWriter, r *http.Request) {
	b, _ := json.Marshal(map[string]any{"links": []map[string]string{
		{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": f.base + "/nodeinfo/2.1"},
	}})
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func (f *Federator) serveNodeInfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	services, _ := f.o.Catalog.CountServices(ctx)
	name := ""
	if o, err := f.o.Catalog.Organization(ctx); err == nil {
		name = o.Name.In(directory.FR)
	}
	doc := map[string]any{
		"version": "2.1",
		"software": map[string]string{
			"name":    "maillage",
			"version": f.o.Version,
		},
		"protocols":         []string{"activitypub"},
		"services":          map[string][]string{"inbound": {}, "outbound": {}},
		"openRegistrations": false,
		"usage": map[string]any{
			"users":      map[string]int{"total": 1, "activeMonth": 1, "activeHalfyear": 1},
			"localPosts": services,
		},
		"metadata": map[string]any{"nodeName": name, "kind": "association"},
	}
	b, _ := json.Marshal(doc)
	w.Header().Set("Content-Type", `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"`)
	w.Write(b)
}

const outboxPage = 50

// serveOutbox pages the node's services as Create activities; new
// partners backfill from it.
func (f *Federator) serveOutbox(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var all []*directory.Service
	if err := f.o.Catalog.ForEachService(ctx, func(s *directory.Service) error { all = append(all, s); return nil }); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	outbox := f.base + "/outbox"
	pageStr := r.URL.Query().Get("page")
	if pageStr == "" {
		writeAS(w, map[string]any{"@context": ldContext, "id": outbox, "type": "OrderedCollection",
			"totalItems": len(all), "first": outbox + "?page=1"})
		return
	}
	page, err := strconv.Atoi(pageStr)
	if err != nil || page < 1 || page > 1_000_000 {
		http.Error(w, "bad page", http.StatusBadRequest)
		return
	}
	items := []Activity{}
	start := (page - 1) * outboxPage
	for i := start; i < len(all) && i < start+outboxPage; i++ {
		p, err := f.pageOf(ctx, all[i])
		if err != nil {
			continue
		}
		items = append(items, Activity{ID: p.ID + "#create-" + strconv.FormatInt(all[i].Updated.Unix(), 10),
			Type: typeCreate, Actor: f.actorID, Object: mustJSON(p), To: p.To, Cc: p.Cc})
	}
	doc := map[string]any{"@context": ldContext, "id": fmt.Sprintf("%s?page=%d", outbox, page), "type": "OrderedCollectionPage",
		"partOf": outbox, "totalItems": len(all), "orderedItems": items}
	if start+outboxPage < len(all) {
		doc["next"] = fmt.Sprintf("%s?page=%d", outbox, page+1)
	}
	writeAS(w, doc)
}

// serveFollowers gives only a count: followers may be people.
func (f *Federator) serveFollowers(w http.ResponseWriter, r *http.Request) {
	n := 0
	rels, _ := f.o.Store.Relations(r.Context())
	for _, rel := range rels {
		if rel.Theirs == StateAccepted {
			n++
		}
	}
	writeAS(w, map[string]any{"@context": ldContext, "id": f.base + "/followers", "type": "OrderedCollection", "totalItems": n})
}

// serveFollowing lists the associations this node follows: a network's
// partnerships are public, so that nodes discover partners of partners.
func (f *Federator) serveFollowing(w http.ResponseWriter, r *http.Request) {
	items := []string{}
	rels, _ := f.o.Store.Relations(r.Context())
	for _, rel := range rels {
		if rel.Ours == StateAccepted && rel.Kind == KindAssociation {
			items = append(items, rel.Actor)
		}
	}
	writeAS(w, map[string]any{"@context": ldContext, "id": f.base + "/following", "type": "OrderedCollection",
		"totalItems": len(items), "orderedItems": items})
}

// serveFeatured is the collection of pinned posts Mastodon and GoToSocial
// ask for: services are not pinned, so it is empty.
func (f *Federator) serveFeatured(w http.ResponseWriter, r *http.Request) {
	writeAS(w, map[string]any{"@context": ldContext, "id": f.base + "/featured", "type": "OrderedCollection",
		"totalItems": 0, "orderedItems": []any{}})
}

func (f *Federator) serveService(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s, err := f.o.Catalog.Service(r.Context(), id)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	p, err := f.pageOf(r.Context(), s)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p.Context = ldContext
	writeAS(w, p)
}

// Blocklist management.

// Block adds a host to the blocklist; its activities are refused.
func (f *Federator) Block(ctx context.Context, host string, blocked bool) error {
	host = strings.ToLower(strings.TrimSpace(host))
	if host == "" || strings.ContainsAny(host, "/@ ") {
		return fmt.Errorf("%w: %q is not a host name", ErrBadActor, host)
	}
	if err := f.o.Store.SetBlocked(ctx, host, blocked); err != nil {
		return err
	}
	f.cacheMu.Lock()
	defer f.cacheMu.Unlock()
	if blocked {
		f.blocked[host] = true
	} else {
		delete(f.blocked, host)
	}
	return nil
}

// BlockedHosts lists the blocklist.
func (f *Federator) BlockedHosts(ctx context.Context) ([]string, error) {
	return f.o.Store.BlockedHosts(ctx)
}

// PartnerServices calls fn for every replicated service.
// PartnerService returns one replicated service by its URI.
func (f *Federator) PartnerService(ctx context.Context, uri string) (*directory.PartnerService, error) {
	return f.o.Store.PartnerService(ctx, uri)
}

func (f *Federator) PartnerServices(ctx context.Context, fn func(*directory.PartnerService) error) error {
	return f.o.Store.ForEachPartnerService(ctx, fn)
}
