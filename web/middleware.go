package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"

	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/web/account"
)

// maxBody bounds every request body the node reads from a client.
const maxBody = 1 << 20

type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs every request and counts it in the metrics. The log line
// names the route, never the raw path or query, and never a header value:
// paths carry ids and queries may carry what a resident searched for.
func (s *Server) observe(next http.Handler) http.Handler { return s.observeAs(next, false) }

// Observed logs and counts the requests of a handler served outside the
// router (the federation endpoints) under the route's name, as observe
// does for the pages and the API. Their log lines also say which server
// asked: the host of the request's signing key, or the client's address
// when the request is unsigned (WebFinger, NodeInfo). Bodies and
// signatures are never logged.
func (s *Server) Observed(route string, h http.Handler) http.Handler {
	return s.observeAs(s.recoverPanics(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slot, ok := r.Context().Value(routeKey{}).(*string); ok {
			*slot = route
		}
		h.ServeHTTP(w, r)
	})), true)
}

func (s *Server) observeAs(next http.Handler, peer bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.Now()
		id := requestID()
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		r = withRouteSlot(r)
		next.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		route := routeName(r)
		d := s.Now().Sub(start)
		s.Metrics.observe(route, r.Method, sw.code, d)
		attrs := []slog.Attr{slog.String("id", id), slog.String("method", r.Method), slog.String("route", route),
			slog.Int("status", sw.code), slog.Duration("duration", d), slog.Int64("bytes", sw.bytes)}
		if peer {
			if host := federation.SignerHost(r); host != "" {
				attrs = append(attrs, slog.String("peer", host))
			} else {
				attrs = append(attrs, slog.String("remote", s.clientAddr(r)))
			}
		}
		s.log.LogAttrs(r.Context(), levelFor(sw.code), "http", attrs...)
	})
}

func requestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// recoverPanics turns a panic in a handler into a 500, logging the stack.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic in handler", "route", routeName(r), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				s.writeError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// guard says who may call an API route.
type guard int

const (
	public guard = iota
	anyUser
	admin
)

// apiHandler serves one API route for the authenticated user (nil on a
// public route with no credentials). It writes its own success answer and
// returns any error for writeError.
type apiHandler func(w http.ResponseWriter, r *http.Request, u *account.User) error

func (s *Server) api(h apiHandler, g guard) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := s.authenticate(r)
		if err == nil {
			switch {
			case g >= anyUser && u == nil:
				err = errUnauthorized
			case g == admin && u.Role != account.RoleAdmin:
				err = errForbidden
			}
		}
		if err == nil {
			err = h(w, r, u)
		}
		if err != nil {
			if err == errUnauthorized || err == account.ErrBadCredentials {
				w.Header().Set("WWW-Authenticate", `Bearer realm="maillage"`)
			}
			s.writeError(w, r, err)
		}
	}
}

// authenticate returns the user of the request's bearer token or session
// cookie, nil when it carries neither, and an error when a credential is
// present but invalid.
func (s *Server) authenticate(r *http.Request) (*account.User, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, account.ErrBadCredentials
		}
		return s.Accounts.VerifyToken(r.Context(), strings.TrimSpace(tok))
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		u, err := s.Accounts.SessionUser(r.Context(), c.Value)
		if err != nil {
			return nil, nil // a stale cookie is no credential; pages offer to log in again
		}
		return u, nil
	}
	return nil, nil
}

// readJSON reads a JSON request body of at most maxBody bytes.
func readJSON(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, errMediaType
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return body, nil
}

// clientAddr is the client's address, used for throttling: the remote
// address, or, when that is a trusted proxy, the last address of
// X-Forwarded-For that is not one (each proxy appends the address it got
// the request from, so the addresses left of the first untrusted one may
// be made up by the client).
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !s.trusted(host) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return host // malformed: the proxy's own address
		}
		if !s.trusted(ip.Unmap().String()) {
			return ip.Unmap().String()
		}
	}
	return host
}

// trusted reports whether addr is one of the trusted proxies.
func (s *Server) trusted(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range s.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func levelFor(code int) slog.Level {
	if code >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
