package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/web/account"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageNames lists the page templates; each is templates/<name>.html
// defining "content", rendered inside templates/layout.html.
var pageNames = []string{"home", "login", "setup", "done", "receipt", "search", "service", "association", "about", "error",
	"refer", "notice", "referrals", "referral",
	"admin", "admin-services", "service-form", "admin-partners", "partner-end", "admin-users", "admin-blocklist", "admin-audit", "org-form", "admin-locations", "location-form", "network",
	"notifications", "notification-settings", "unsubscribe", "admin-mail", "admin-stats",
	"password-forgot", "password-reset"}

const sessionCookie = "maillage_session"

// pageData is what every page template receives.
type pageData struct {
	Lang  directory.Lang
	Title string
	Node  string
	User  *account.User
	Error string
	Data  any
	// CSRF is the token every form posts back (csrf.go).
	CSRF string
	// Nav names the menu entry of the page, marked as current.
	Nav string
	// Inbox is the unread count of the header's notifications link (nil:
	// no link).
	Inbox *inbox
	// Map, when set, is drawn by static/app.js over the page's list.
	Map *mapData
	// Content is the page's own part, rendered before the layout.
	Content template.HTML
	url     *url.URL
	now     time.Time
	// missing collects the message keys the page asked for and the
	// catalogue lacks: rendering then fails.
	missing *[]string
}

func newPageData(r *http.Request, now time.Time) *pageData {
	return &pageData{Lang: requestLang(r), url: r.URL, now: now, missing: new([]string)}
}

// T translates an interface message into the page's language, formatted
// with args (numbers as the language writes them).
// MapJSON is the map's data for the page's JSON script element, encoded
// once: encoding/json escapes <, > and & (and U+2028, U+2029), so the
// text cannot close the element; html/template would otherwise encode it
// again through reflection on every value.
func (p pageData) MapJSON() template.JS {
	b, err := json.Marshal(p.Map)
	if err != nil {
		return "null"
	}
	return template.JS(b)
}

func (p pageData) T(key string, args ...any) string {
	if !hasMessage(p.Lang, key) && p.missing != nil {
		*p.missing = append(*p.missing, key)
	}
	return translate(p.Lang, key, args...)
}

// Num writes a number as the page's language does.
func (p pageData) Num(n any) string { return formatNumber(p.Lang, n) }

// Date writes a day in words in the page's language.
func (p pageData) Date(t time.Time) string { return formatDate(p.Lang, t) }

// DateTime writes a day and time in the page's language.
func (p pageData) DateTime(t time.Time) string { return formatDateTime(p.Lang, t) }

// localText is content in the language it was found in, for a lang
// attribute when it is not the page's.
type localText struct {
	Text string
	Lang directory.Lang
}

// Local picks the content of t in the page's language, or in the first
// language that has it.
func (p pageData) Local(t directory.Text) localText {
	if v := t[p.Lang]; v != "" {
		return localText{v, p.Lang}
	}
	for _, l := range directory.Langs {
		if v := t[l]; v != "" {
			return localText{v, l}
		}
	}
	return localText{}
}

type langLink struct {
	Lang    directory.Lang
	Label   string
	URL     string
	Current bool
}

var langLabels = map[directory.Lang]string{directory.FR: "Français", directory.NL: "Nederlands", directory.EN: "English"}

// LangLinks are the language switch: the same page in each language; the
// choice is then remembered in a cookie.
func (p pageData) LangLinks() []langLink {
	out := make([]langLink, 0, len(directory.Langs))
	for _, l := range directory.Langs {
		u := url.URL{Path: "/"}
		if p.url != nil {
			u = *p.url
		}
		q := u.Query()
		q.Set("lang", string(l))
		u.RawQuery = q.Encode()
		out = append(out, langLink{Lang: l, Label: langLabels[l], URL: u.RequestURI(), Current: l == p.Lang})
	}
	return out
}

// templates are the layout, parsed once, and the pages, each parsed on
// its own: a page's content is rendered first, and the layout wraps it.
// Each page parsed into a copy of the layout (html/template's Clone) held
// 0.86 MB of copies at 35 pages.
type templates struct {
	layout *template.Template
	pages  map[string]*template.Template
}

// templateFuncs are the few helpers the templates need beyond pageData's
// methods.
var templateFuncs = template.FuncMap{
	"list": func(xs ...string) []string { return xs },
	"join": func(xs []string) string { return strings.Join(xs, ", ") },
}

func parseTemplates() (templates, error) {
	layout, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return templates{}, err
	}
	out := templates{layout: layout, pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		if out.pages[name], err = template.New(name).Funcs(templateFuncs).ParseFS(templateFS, "templates/"+name+".html"); err != nil {
			return templates{}, err
		}
	}
	return out, nil
}

// render executes a page into a buffer first, so that a template error
// never sends half a page; a message missing from the catalogue is an
// error too. tiles is the origin of the map tiles, allowed as images.
func (t templates) render(w http.ResponseWriter, r *http.Request, name string, code int, data pageData, tiles string) error {
	if data.missing == nil {
		data.missing = new([]string)
	}
	page := t.pages[name]
	if page == nil {
		return fmt.Errorf("page %s: no such template", name)
	}
	var buf bytes.Buffer
	if err := page.ExecuteTemplate(&buf, "content", data); err != nil {
		return err
	}
	// The content was escaped by html/template as the layout's <main>
	// would have: both start in an element's text.
	data.Content = template.HTML(buf.String())
	buf.Reset()
	if err := t.layout.ExecuteTemplate(&buf, "layout", data); err != nil {
		return err
	}
	if len(*data.missing) > 0 {
		return fmt.Errorf("page %s: messages missing in %s: %v", name, data.Lang, *data.missing)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy(tiles))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Language", string(data.Lang))
	h.Set("Vary", "Accept-Language, Cookie, Accept-Encoding")
	h.Set("Cache-Control", "no-store")
	writeCompressed(w, r, code, buf.Bytes())
	return nil
}

// contentSecurityPolicy allows scripts and styles from the node only (no
// inline script or style), images from the node and the tile server.
func contentSecurityPolicy(tiles string) string {
	img := "'self' data:"
	if tiles != "" {
		img += " " + tiles
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src " + img +
		"; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
}

// pageHandler serves a page; it returns the page to render or an error.
type pageHandler func(w http.ResponseWriter, r *http.Request, p *pageData) (name string, code int, err error)

func (s *Server) page(h pageHandler) http.HandlerFunc { return s.servePage(h, true) }

// tokenPage serves a page whose form posts carry their own proof, a
// signed link (unsubscribe), sent by mail programs without a form token.
func (s *Server) tokenPage(h pageHandler) http.HandlerFunc { return s.servePage(h, false) }

func (s *Server) servePage(h pageHandler, checkCSRF bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := newPageData(r, s.Now())
		p.User, _ = s.authenticate(r)
		p.Inbox = s.inbox(r.Context(), p.User)
		rememberLang(w, r, p.Lang, s.SecureCookies)
		p.CSRF = s.csrfToken(w, r)
		if checkCSRF && r.Method == http.MethodPost && !s.csrfValid(r) {
			p.Title = p.T("error title")
			p.Error = p.T("form expired")
			s.renderPage(w, r, "error", http.StatusForbidden, p)
			return
		}
		if o, err := s.Catalog.Organization(r.Context()); err == nil {
			p.Node = o.Name.In(p.Lang)
		}
		name, code, err := h(w, r, p)
		if err == nil && name == "" {
			return // the handler answered itself (a redirect)
		}
		if err != nil {
			// The reader sees the status in their language, never the
			// error's English text (statusOf's is for the API).
			code, _ = statusOf(err)
			p.Error = p.T(errorMessage(code))
			if lines, _ := formProblems(p, err); len(lines) > 0 {
				p.Error = strings.Join(lines, " ")
			}
			if code >= 500 {
				s.log.ErrorContext(r.Context(), "page failed", "route", routeName(r), "err", err)
			}
			if name == "" {
				name = "error"
				p.Title = p.T("error title")
			}
		}
		if p.Title == "" {
			p.Title = p.Node
		}
		s.renderPage(w, r, name, code, p)
	}
}

// rememberLang keeps a choice from the language switch (?lang=) in a
// cookie.
func rememberLang(w http.ResponseWriter, r *http.Request, lang directory.Lang, secure bool) {
	if l := r.URL.Query().Get("lang"); l != "" && string(lang) == l {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	}
}

func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, name string, code int, p *pageData) {
	if err := s.pages.render(w, r, name, code, *p, tileOrigin(s.TileURL)); err != nil {
		s.log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// loginPage is what the login form shows again: where to go after, and
// the e-mail typed, kept after a failed attempt (never the password).
type loginPage struct {
	Next  string
	Email string
	// Notice says what just happened (a password was set).
	Notice string
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	p.Nav, p.Data = "login", loginPage{Next: safeNext(r.URL.Query().Get("next"))}
	return "login", http.StatusOK, nil
}

// safeNext keeps a page of this node to go back to after login: a path,
// never another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") || len(next) > 2048 {
		return ""
	}
	return next
}

// keptEmail is the e-mail to show again in the form: trimmed, and not
// an arbitrary amount of text sent back.
func keptEmail(email string) string {
	email = strings.TrimSpace(email)
	if len(email) > 320 {
		return ""
	}
	return email
}

// login checks the form and starts a new session. A fresh session id is
// issued at every login, so a planted cookie cannot be fixed on a user.
func (s *Server) login(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return "login", http.StatusBadRequest, nil
	}
	p.Nav, p.Data = "login", loginPage{Next: safeNext(r.PostForm.Get("next")), Email: keptEmail(r.PostForm.Get("email"))}
	u, err := s.Accounts.Login(r.Context(), r.PostForm.Get("email"), r.PostForm.Get("password"), s.clientAddr(r))
	switch {
	case errors.Is(err, account.ErrThrottled):
		p.Error = p.T("throttled")
		return "login", http.StatusTooManyRequests, nil
	case errors.Is(err, account.ErrBadCredentials):
		p.Error = p.T("bad login")
		return "login", http.StatusUnauthorized, nil
	case err != nil:
		return "login", 0, err
	}
	if old, err := r.Cookie(sessionCookie); err == nil {
		s.Accounts.EndSession(r.Context(), old.Value)
	}
	value, sess, err := s.Accounts.NewSession(r.Context(), u)
	if err != nil {
		return "login", 0, err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: value, Path: "/", Expires: sess.Expires,
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	to := safeNext(r.PostForm.Get("next"))
	if to == "" {
		to = s.urlFor("home")
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return "", 0, nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.Accounts.EndSession(r.Context(), c.Value); err != nil {
			return "", 0, err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, s.urlFor("home"), http.StatusSeeOther)
	return "", 0, nil
}
