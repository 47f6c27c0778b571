package node

import (
	"errors"
	"testing"

	"github.com/maillage/maillage/directory/search"
)

func TestSearcherWaitsForTheIndex(t *testing.T) {
	x, err := search.New(search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix := &indexer{built: make(chan struct{})}
	s := searcher(x, ix)
	if _, err := s.Search(search.Query{}); !errors.Is(err, search.ErrNotReady) {
		t.Errorf("before the index is built: err = %v, want ErrNotReady", err)
	}
	close(ix.built)
	if _, err := s.Search(search.Query{}); err != nil {
		t.Errorf("once built: %v", err)
	}
	if searcher(nil, nil) != nil {
		t.Error("no index must give a nil Searcher")
	}
}
