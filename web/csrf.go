package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// Every form of the pages carries a token that a page of another site
// cannot know: an HMAC, under a key of this process, of a random value
// kept in an HttpOnly cookie of the browser (a form posted from elsewhere
// carries the cookie but not the token). This stands beside the refusal
// of cross-site requests from Sec-Fetch-Site and Origin (server.go), for
// browsers and proxies that do not send them. A restart makes open forms
// ask to be sent again.

const csrfCookie = "maillage_csrf"

func newCSRFKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func (s *Server) csrfSign(seed string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(seed))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfToken returns the token for the forms of the page, giving the
// browser its seed cookie if it has none yet.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 43 {
		return s.csrfSign(c.Value)
	}
	b := make([]byte, 32)
	rand.Read(b)
	seed := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: seed, Path: "/", HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	// The request has no seed: a form it posts is refused anyway.
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: seed})
	return s.csrfSign(seed)
}

// csrfValid checks the token a form posted.
func (s *Server) csrfValid(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil {
		return false
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return false
	}
	return hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(s.csrfSign(c.Value)))
}
