package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Every embedded file is served with the type of its kind, the same on
// every machine: the types come from a fixed table, not from the host's
// MIME database (which may lack .ico, or be absent).
func TestStaticContentTypes(t *testing.T) {
	want := map[string]string{
		"/static/app.css":     "text/css; charset=utf-8",
		"/static/app.js":      "text/javascript; charset=utf-8",
		"/static/favicon.svg": "image/svg+xml",
		"/static/favicon.ico": "image/x-icon",
		"/static/vendor/leaflet/images/marker-icon.png": "image/png",
		"/static/vendor/leaflet/LICENSE":                "text/plain; charset=utf-8",
		"/static/vendor/markercluster/MIT-LICENCE.txt":  "text/plain; charset=utf-8",
	}
	for p, ctype := range want {
		rec := httptest.NewRecorder()
		serveStatic(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != ctype {
			t.Errorf("GET %s: %d %q, want 200 %q", p, rec.Code, rec.Header().Get("Content-Type"), ctype)
		}
	}
	for p, a := range assets {
		if a.ctype == "" {
			t.Errorf("%s has no content type", p)
		}
	}
	rec := httptest.NewRecorder()
	serveFavicon(rec, httptest.NewRequest(http.MethodGet, "/favicon.ico", nil))
	if got := rec.Header().Get("Content-Type"); got != "image/x-icon" {
		t.Errorf("/favicon.ico: %q, want image/x-icon", got)
	}
}
