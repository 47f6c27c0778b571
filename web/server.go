package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gorilla/mux"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/web/account"
	"github.com/maillage/maillage/web/notify"
)

// Deps are what the web layer serves. cmd/maillage builds them.
type Deps struct {
	BaseURL  string // the node's public base URL, without trailing slash
	Catalog  *directory.Catalog
	Accounts *account.Accounts
	Network  Network
	// Referrals, when set, serves the referral API.
	Referrals Referrals
	Search    Searcher
	// Needs, when set, counts unmet needs signalled on the network page.
	Needs   Needs
	Logger  *slog.Logger
	Metrics *Metrics
	// Ready reports whether the node can serve (store open, …).
	Ready func(ctx context.Context) error
	// Backup streams an encrypted online backup of the store.
	Backup func(ctx context.Context, w io.Writer) error
	Now    func() time.Time
	// SecureCookies marks cookies Secure; on when BaseURL is https.
	SecureCookies bool
	// TileURL is the map tile server, as {z}/{x}/{y} template; empty: the
	// map shows markers without a background.
	TileURL string
	// TrustedProxies are the reverse proxies in front of the node: from
	// them, the client's address is read from X-Forwarded-For (for the
	// login throttle); from anyone else, that header is ignored.
	TrustedProxies []netip.Prefix
	// Notifier tells staff what concerns them (notifications in the app,
	// e-mails when SMTP is configured); nil: no notifications (tests of
	// other parts).
	Notifier *notify.Notifier
	// Changes is a number that moves whenever anything a public page may
	// show has changed (the store's version plus the search index's
	// generation); nil: public pages are rendered for every visitor
	// (pagecache.go).
	Changes func() uint64
}

// Server is the node's HTTP handler.
type Server struct {
	Deps
	log     *slog.Logger
	router  *mux.Router
	pages   templates
	h       http.Handler
	csrfKey []byte
	cache   *pageCache
}

// New builds the handler. Templates are parsed here, so a broken template
// stops the node at start rather than on a request.
func New(d Deps) (*Server, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics()
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s := &Server{Deps: d, log: d.Logger, pages: pages, csrfKey: newCSRFKey(), cache: newPageCache(d.Metrics)}
	s.router = s.routes()
	// Cross-origin unsafe requests (forms posted from another site) are
	// refused from the browser's Sec-Fetch-Site and Origin headers; API
	// clients that send neither, with a bearer token, are unaffected.
	csrf := http.NewCrossOriginProtection()
	// An e-mail's one-click unsubscribe is posted by mail programs from
	// anywhere; its signed link is its proof (notifications.go).
	csrf.AddInsecureBypassPattern("POST /unsubscribe")
	s.h = s.observe(s.recoverPanics(csrf.Handler(s.router)))
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// Route is one route of the node: its name, method and path template.
type Route struct{ Name, Method, Path string }

// Routes lists every route the node serves, for checks that must cover
// them all (the authorization matrix test).
func (s *Server) Routes() []Route {
	var out []Route
	s.router.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, _ := rt.GetPathTemplate()
		methods, _ := rt.GetMethods()
		for _, m := range methods {
			out = append(out, Route{Name: rt.GetName(), Method: m, Path: path})
		}
		return nil
	})
	return out
}
