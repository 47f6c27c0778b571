package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// The pages' own style and script, and the map library with its
// licences (static/vendor, fetched from npm by static/vendor/fetch.sh),
// are embedded and served compressed: the heaviest page stays well under
// 200 kB on the wire before the map tiles.

//go:embed static
var staticFS embed.FS

// staticTypes are the content types of the embedded files, by extension.
// A fixed table rather than the mime package's: that one reads the
// system's MIME database at first use (1.5 MB of the node's memory from
// Debian's shared-mime-info), and answers differently on machines that
// have none (.ico became text/plain). An embedded file of another kind
// stops the node at start (a build defect, caught by the web tests).
var staticTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
	".png": "image/png",
	".ico": "image/x-icon",
	".txt": "text/plain; charset=utf-8",
	"":     "text/plain; charset=utf-8", // LICENSE
}

type asset struct {
	body, gz []byte
	ctype    string
	etag     string
}

var assets = map[string]*asset{}

func init() {
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".sh") {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		ctype, ok := staticTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("%s: no content type for %q", p, path.Ext(p))
		}
		a := &asset{body: b, ctype: ctype}
		sum := sha256.Sum256(b)
		a.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
		if !strings.HasPrefix(a.ctype, "image/") {
			a.gz = gzipped(b)
		}
		assets["/"+p] = a
		return nil
	})
	if err != nil {
		panic("web: static files: " + err.Error()) // a build defect, caught by tests
	}
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	z, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	z.Write(b)
	z.Close()
	return buf.Bytes()
}

// serveStatic serves an embedded file under /static/.
func serveStatic(w http.ResponseWriter, r *http.Request) {
	a, ok := assets[r.URL.Path]
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
	if a.gz != nil {
		writeCompressed(w, r, http.StatusOK, a.body)
		return
	}
	w.Write(a.body)
}

// writeCompressed writes body gzipped when the client accepts it.
func writeCompressed(w http.ResponseWriter, r *http.Request, code int, body []byte) {
	h := w.Header()
	h.Add("Vary", "Accept-Encoding")
	if len(body) > 1024 && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		if a, ok := assets[r.URL.Path]; ok && a.gz != nil && bytes.Equal(a.body, body) {
			body = a.gz
		} else {
			var buf bytes.Buffer
			z, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
			z.Write(body)
			z.Close()
			body = buf.Bytes()
		}
		h.Set("Content-Encoding", "gzip")
	}
	w.WriteHeader(code)
	w.Write(body)
}

// tileOrigin returns the scheme and host of a tile URL template, for the
// Content-Security-Policy; "" when there is none or it is not http(s).
func tileOrigin(tiles string) string {
	u, err := url.Parse(strings.NewReplacer("{s}", "a", "{z}", "0", "{x}", "0", "{y}", "0").Replace(tiles))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	if strings.Contains(tiles, "{s}") {
		// Sub-domains a, b, c of the tile server.
		_, rest, _ := strings.Cut(u.Host, ".")
		return u.Scheme + "://*." + rest
	}
	return u.Scheme + "://" + u.Host
}
