package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"net/http"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/web/account"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageNames lists the page templates; each is templates/<name>.html
// defining "content", rendered inside templates/layout.html.
var pageNames = []string{"home", "login", "setup", "done", "receipt"}

const sessionCookie = "maillage_session"

// pageData is what every page template receives.
type pageData struct {
	Lang  directory.Lang
	Title string
	Node  string
	User  *account.User
	Error string
	Data  any
}

// T translates an interface message into the page's language.
func (p pageData) T(key string) string { return translate(p.Lang, key) }

type templates map[string]*template.Template

func parseTemplates() (templates, error) {
	base, err := template.ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	out := templates{}
	for _, name := range pageNames {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if out[name], err = t.ParseFS(templateFS, "templates/"+name+".html"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// render executes a page into a buffer first, so that a template error
// never sends half a page.
func (t templates) render(w http.ResponseWriter, name string, code int, data pageData) error {
	var buf bytes.Buffer
	if err := t[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(code)
	_, err := w.Write(buf.Bytes())
	return err
}

// pageHandler serves a page; it returns the page to render or an error.
type pageHandler func(w http.ResponseWriter, r *http.Request, p *pageData) (name string, code int, err error)

func (s *Server) page(h pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := &pageData{Lang: requestLang(r)}
		p.User, _ = s.authenticate(r)
		if o, err := s.Catalog.Organization(r.Context()); err == nil {
			p.Node = o.Name.In(p.Lang)
		}
		name, code, err := h(w, r, p)
		if err == nil && name == "" {
			return // the handler answered itself (a redirect)
		}
		if err != nil {
			code, p.Error = statusOf(err)
			if code >= 500 {
				s.log.ErrorContext(r.Context(), "page failed", "route", routeName(r), "err", err)
			}
			if name == "" {
				http.Error(w, p.Error, code)
				return
			}
		}
		if p.Title == "" {
			p.Title = p.Node
		}
		if err := s.pages.render(w, name, code, *p); err != nil {
			s.log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}
}

type homeData struct {
	Description string
	Services    []string
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	o, err := s.Catalog.Organization(r.Context())
	if err != nil {
		return "", 0, err
	}
	d := homeData{Description: o.Description.In(p.Lang)}
	err = s.Catalog.ForEachService(r.Context(), func(sv *directory.Service) error {
		d.Services = append(d.Services, sv.Name.In(p.Lang))
		return nil
	})
	p.Data = d
	return "home", http.StatusOK, err
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	return "login", http.StatusOK, nil
}

// login checks the form and starts a new session. A fresh session id is
// issued at every login, so a planted cookie cannot be fixed on a user.
func (s *Server) login(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return "login", http.StatusBadRequest, nil
	}
	u, err := s.Accounts.Login(r.Context(), r.PostForm.Get("email"), r.PostForm.Get("password"), clientAddr(r))
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
	http.Redirect(w, r, s.urlFor("home"), http.StatusSeeOther)
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
