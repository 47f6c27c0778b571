package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/sample"
	"github.com/maillage/maillage/directory/search"
)

// orgOnly is a catalog store that holds the association alone, as the
// page layout shows its name.
type orgOnly struct{ directory.Store }

func (orgOnly) Organization(context.Context) (*directory.Organization, error) {
	return &directory.Organization{ID: directory.NewID(), Name: directory.T(directory.FR, "Maison de quartier")}, nil
}

// FuzzSearchParams sends any query string to the search API and to the
// search page, which read it with parseSearch, over an index of 200
// generated services. Run it with:
//
//	go test -run '^$' -fuzz '^FuzzSearchParams$' -fuzztime 10m -parallel 1 ./web/
//
// Neither ever fails (500) nor panics: a query is answered 200 or
// refused 400; the API answers JSON, and a 200 a bounded page: at most
// per_page results (at most search.MaxPerPage) of a total at least as
// large, with the page and per_page it was asked for.
func FuzzSearchParams(f *testing.F) {
	for _, q := range []string{
		"q=%C3%A9picerie+sociale", "q=cours&category=lecture-ecriture-calcul&language=fr&scope=local",
		"postcode=1060&radius_km=2&sort=distance", "near=50.83,4.34&radius_km=5&open_now=true&referrals=1",
		"near=50.83, 4.34&sort=relevance&page=2&per_page=5", "open_at=2026-12-21T10:00:00%2B01:00&audience=familles",
		"q=x&page=0", "per_page=1000", "near=91,0", "near=50.8", "radius_km=abc", "postcode=9999", "open_at=tomorrow",
		"scope=everywhere&sort=name", "q=a&q=b&lang=nl", "near=NaN,NaN", "radius_km=1e400", "%zz=1", "page=1000000&per_page=100",
	} {
		f.Add(q)
	}
	x, err := search.New(search.Options{})
	if err != nil {
		f.Fatal(err)
	}
	g := sample.New(5)
	var docs []search.Doc
	for i := range 200 {
		l := g.Location()
		s := g.Service(l.ID)
		docs = append(docs, search.Doc{URI: "https://n.example/services/" + s.ID, Service: s, Actor: fmt.Sprintf("https://n%d.example/actor", i%5),
			Provider: "Association", Local: i%2 == 0, Points: []directory.Point{*l.Point}})
	}
	if err := x.PutBatch(docs); err != nil {
		f.Fatal(err)
	}
	srv, err := New(Deps{Search: x, Catalog: directory.NewCatalog(orgOnly{}, directory.Options{}),
		Now: func() time.Time { return time.Date(2026, 12, 21, 10, 0, 0, 0, time.UTC) }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query string) {
		get := func(path string) *httptest.ResponseRecorder {
			r := httptest.NewRequest("GET", path, nil)
			r.URL.RawQuery = query
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
				t.Fatalf("GET %s?%s = %d %s", path, query, w.Code, w.Body)
			}
			return w
		}
		w := get("/api/v1/search")
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("GET /api/v1/search?%s = %d, not JSON: %s", query, w.Code, w.Body)
		}
		if w.Code == http.StatusOK {
			var res searchResponse
			if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			v := httptest.NewRequest("GET", "/", nil).URL.Query()
			if r := httptest.NewRequest("GET", "/", nil); true {
				r.URL.RawQuery = query
				v = r.URL.Query()
			}
			wantPage, wantPer := 1, 20
			if p := v.Get("page"); p != "" {
				wantPage, _ = strconv.Atoi(p)
			}
			if p := v.Get("per_page"); p != "" {
				wantPer, _ = strconv.Atoi(p)
			}
			if res.Page != wantPage || res.PerPage != wantPer || len(res.Results) > res.PerPage ||
				res.PerPage > search.MaxPerPage || len(res.Results) > res.Total || res.Total > x.Count() {
				t.Fatalf("GET /api/v1/search?%s: page %d (%d a page) of %d results, %d here", query, res.Page, res.PerPage, res.Total, len(res.Results))
			}
		}
		get("/search")
	})
}
