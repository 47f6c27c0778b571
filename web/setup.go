package web

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/maillage/maillage/directory"
)

// SetupRequest is what the first-run page asks for.
type SetupRequest struct {
	Name, Handle, URL, Email, Password string
}

type setupForm struct {
	Code, Name, Handle, URL, Email string
}

// Setup serves a node that has no data yet: a single form that creates
// it. Only someone holding Code (printed in the server's log) may submit
// it, so a node exposed before setup cannot be claimed by a stranger.
type Setup struct {
	code  string
	init  func(context.Context, SetupRequest) error
	log   *slog.Logger
	pages templates
	mux   *http.ServeMux
}

// NewSetup returns the first-run handler. init creates the node; when it
// succeeds the caller switches to the full node's handler.
func NewSetup(code string, init func(context.Context, SetupRequest) error, log *slog.Logger) (*Setup, error) {
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s := &Setup{code: code, init: init, log: log, pages: pages, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "setup required"})
	})
	s.mux.HandleFunc("GET /static/", serveStatic)
	s.mux.HandleFunc("GET /setup", s.form)
	s.mux.HandleFunc("POST /setup", s.submit)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/hsds/") {
			writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "this node is not set up yet"})
			return
		}
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
	})
	return s, nil
}

func (s *Setup) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	http.NewCrossOriginProtection().Handler(s.mux).ServeHTTP(w, r)
}

func (s *Setup) form(w http.ResponseWriter, r *http.Request) {
	f := setupForm{Code: r.URL.Query().Get("code"), URL: suggestedURL(r)}
	s.show(w, r, http.StatusOK, f, "")
}

// suggestedURL is the node's address as the setup page proposes it: the
// host the browser asked for, with https unless the node is reached
// directly (an address, localhost, or an explicit port). A domain name
// alone means a TLS reverse proxy in front, which reaches the node over
// plain http: the request's own scheme says nothing then.
func suggestedURL(r *http.Request) string {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	_, ipErr := netip.ParseAddr(strings.Trim(host, "[]"))
	direct := port != "" || ipErr == nil || host == "localhost" || strings.HasSuffix(host, ".localhost")
	if r.TLS != nil || !direct {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func (s *Setup) show(w http.ResponseWriter, r *http.Request, code int, f setupForm, msg string) {
	p := pageData{Lang: requestLang(r), Title: "Maillage", Node: "Maillage", Error: msg, Data: f}
	p.Title = p.T("setup title")
	if err := s.pages.render(w, r, "setup", code, p, ""); err != nil {
		s.log.Error("render setup page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

func (s *Setup) submit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	f := r.PostForm
	form := setupForm{Code: f.Get("code"), Name: f.Get("name"), Handle: f.Get("handle"), URL: f.Get("url"), Email: f.Get("email")}
	lang := requestLang(r)
	if subtle.ConstantTimeCompare([]byte(form.Code), []byte(s.code)) != 1 {
		s.show(w, r, http.StatusForbidden, form, translate(lang, "bad setup code"))
		return
	}
	err := s.init(r.Context(), SetupRequest{Name: form.Name, Handle: form.Handle, URL: form.URL, Email: form.Email, Password: f.Get("password")})
	if p, ok := directory.AsProblems(err); ok {
		msgs := make([]string, len(p))
		for i, pr := range p {
			msgs[i] = pr.Field + ": " + pr.Message
		}
		s.show(w, r, http.StatusBadRequest, form, strings.Join(msgs, " · "))
		return
	}
	if err != nil {
		s.log.Error("setup failed", "err", err)
		s.show(w, r, http.StatusInternalServerError, form, "internal error")
		return
	}
	p := pageData{Lang: lang, Title: "Maillage", Node: form.Name}
	if err := s.pages.render(w, r, "done", http.StatusOK, p, ""); err != nil {
		s.log.Error("render setup page", "err", err)
	}
}
