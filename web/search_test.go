package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/maillage/maillage/directory/search"
)

type buildingIndex struct{}

func (buildingIndex) Search(search.Query) (*search.Result, error) { return nil, search.ErrNotReady }

// While the index is built at start, searches say so (503, Retry-After)
// rather than answer from a partial index.
func TestSearchWhileIndexBuilds(t *testing.T) {
	s, err := New(Deps{Search: buildingIndex{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/search?q=epicerie"} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s = %d %s, want 503", path, rec.Code, rec.Body)
		}
		if rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", path)
		}
	}
}
