package web

import "net/http"

// serveFavicon answers /favicon.ico, which browsers and feed readers ask
// for whatever a page links, with the embedded icon.
func serveFavicon(w http.ResponseWriter, r *http.Request) {
	a, ok := assets["/static/favicon.ico"]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Header.Get("If-None-Match") == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(a.body)
}
