package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/search"
	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/store"
)

// indexer keeps the search index in step with the store: it is told of
// local changes as a directory.Publisher, and sees replica changes by
// wrapping the store that federation writes through.
type indexer struct {
	idx     *search.Index
	catalog *directory.Catalog
	actor   string
	base    string
	name    func() string
	log     *slog.Logger

	// While the index is being rebuilt in the background, changes made
	// meanwhile are recorded so that the rebuild, which reads an older
	// snapshot of the store, does not write over them.
	mu         sync.Mutex
	rebuilding bool
	touched    map[string]bool
	built      chan struct{}
	loaded     bool // from a snapshot: no rebuild
	complete   bool // holds every stored service: may be saved

	// Changes wait here (a nil Doc deletes) and are indexed in batches by
	// run: indexing one document at a time costs milliseconds, too much
	// for the inbox's hot path.
	pending map[string]*search.Doc
	wake    chan struct{}
}

// queue records a change for the next batch.
func (ix *indexer) queue(uri string, d *search.Doc) {
	ix.mu.Lock()
	if ix.rebuilding {
		ix.touched[uri] = true
	}
	ix.pending[uri] = d
	ix.mu.Unlock()
	select {
	case ix.wake <- struct{}{}:
	default:
	}
}

// run indexes queued changes until ctx is done, then a last time.
func (ix *indexer) run(ctx context.Context) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			ix.flush()
			return
		case <-ix.wake:
			// Let a burst gather into one batch: the index's write
			// lock, which searches wait for, is taken once per batch
			// rather than once per activity; a change is searchable
			// within about a quarter of a second.
			time.Sleep(250 * time.Millisecond)
		case <-tick.C:
		}
		ix.flush()
	}
}

// flush indexes what is pending.
func (ix *indexer) flush() {
	ix.mu.Lock()
	pending := ix.pending
	ix.pending = map[string]*search.Doc{}
	ix.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	var puts []search.Doc
	var deletes []string
	for uri, d := range pending {
		if d == nil {
			deletes = append(deletes, uri)
		} else {
			puts = append(puts, *d)
		}
	}
	if err := ix.idx.Apply(puts, deletes); err != nil {
		ix.log.Error("search index update", "err", err)
	}
}

// localDoc builds the document of a local service; provider is the
// association's name, read once by the caller.
func (ix *indexer) localDoc(ctx context.Context, s *directory.Service, provider string) search.Doc {
	d := search.Doc{URI: ix.base + "/services/" + s.ID, Service: s, Actor: ix.actor, Provider: provider, Local: true}
	for _, id := range s.Locations {
		if l, err := ix.catalog.Location(ctx, id); err == nil && l.Point != nil {
			d.Points = append(d.Points, *l.Point)
		}
	}
	return d
}

func partnerDoc(ps *directory.PartnerService) search.Doc {
	return search.Doc{URI: ps.URI, Service: ps.Service, Actor: ps.Actor, Provider: ps.Provider, Points: ps.Points}
}

// ServiceChanged indexes a local change. It never fails the change: the
// store is the truth, and the index is rebuilt from it at every start.
func (ix *indexer) ServiceChanged(ctx context.Context, ch directory.Change, s *directory.Service) error {
	uri := ix.base + "/services/" + s.ID
	if ch == directory.Deleted {
		ix.queue(uri, nil)
		return nil
	}
	d := ix.localDoc(ctx, s, ix.name())
	ix.queue(uri, &d)
	return nil
}

// rebuildBatch bounds the documents indexed at once at start, and with
// them the memory the rebuild takes.
const rebuildBatch = 200

// rebuild fills the index from the store. It runs in the background
// while the node already serves; searches see the index fill up.
func (ix *indexer) rebuild(ctx context.Context, st *store.Store) (err error) {
	defer close(ix.built)
	defer func() {
		ix.mu.Lock()
		ix.rebuilding, ix.touched = false, nil
		ix.complete = err == nil
		ix.mu.Unlock()
	}()
	if ix.loaded {
		return nil
	}
	start := time.Now()
	batch := make([]search.Doc, 0, rebuildBatch)
	flush := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		ix.mu.Lock()
		defer ix.mu.Unlock()
		kept := batch[:0]
		for _, d := range batch {
			if !ix.touched[d.URI] {
				kept = append(kept, d)
			}
		}
		err := ix.idx.PutBatch(kept)
		batch = batch[:0]
		return err
	}
	provider := ix.name()
	err = ix.catalog.ForEachService(ctx, func(s *directory.Service) error {
		batch = append(batch, ix.localDoc(ctx, s, provider))
		if len(batch) == rebuildBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = st.ForEachPartnerService(ctx, func(ps *directory.PartnerService) error {
			batch = append(batch, partnerDoc(ps))
			if len(batch) == rebuildBatch {
				return flush()
			}
			return nil
		})
	}
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("node: build search index: %w", err)
	}
	ix.log.Info("search index built", "services", ix.idx.Count(), "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// publishers tells several publishers of each change, in order.
type publishers []directory.Publisher

func (ps publishers) ServiceChanged(ctx context.Context, ch directory.Change, s *directory.Service) error {
	for _, p := range ps {
		if err := p.ServiceChanged(ctx, ch, s); err != nil {
			return err
		}
	}
	return nil
}

// indexedStore is the store federation writes through: replica changes
// reach the index after they are stored.
type indexedStore struct {
	*store.Store
	ix *indexer
}

var _ federation.Store = indexedStore{}

func (s indexedStore) PutPartnerService(ctx context.Context, ps *directory.PartnerService) error {
	if err := s.Store.PutPartnerService(ctx, ps); err != nil {
		return err
	}
	s.index(ps)
	return nil
}

func (s indexedStore) ApplyPartnerService(ctx context.Context, ps *directory.PartnerService, activityID string, ttl time.Duration) (bool, error) {
	applied, err := s.Store.ApplyPartnerService(ctx, ps, activityID, ttl)
	if err == nil && applied {
		s.index(ps)
	}
	return applied, err
}

func (s indexedStore) DeletePartnerService(ctx context.Context, uri string) error {
	if err := s.Store.DeletePartnerService(ctx, uri); err != nil {
		return err
	}
	s.ix.queue(uri, nil)
	return nil
}

func (s indexedStore) index(ps *directory.PartnerService) {
	d := partnerDoc(ps)
	s.ix.queue(ps.URI, &d)
}

// loadIndex returns the index saved at the last clean stop if the store
// has not changed since, and otherwise an empty one to rebuild (loaded
// false). A missing, stale or damaged snapshot is never an error: the
// store is the truth and the index is rebuilt from it.
func loadIndex(st *store.Store, path string, o search.Options, log *slog.Logger) (*search.Index, bool, error) {
	start := time.Now()
	var x *search.Index
	err := st.LoadSidecar(path, func(r io.Reader) error {
		var err error
		x, err = search.Load(r, o)
		return err
	})
	switch {
	case err == nil:
		log.Info("search index loaded", "services", x.Count(), "took", time.Since(start).Round(time.Millisecond).String())
		return x, true, nil
	case errors.Is(err, os.ErrNotExist):
	default:
		log.Warn("search index snapshot not used; rebuilding", "reason", err.Error())
	}
	x, err = search.New(o)
	return x, false, err
}

// save writes the index if it holds every stored service, after indexing
// what is still queued.
func (ix *indexer) save(st *store.Store, path string) error {
	ix.mu.Lock()
	complete := ix.complete
	ix.mu.Unlock()
	if !complete {
		return nil
	}
	ix.flush()
	start := time.Now()
	if err := st.SaveSidecar(path, ix.idx.Save); err != nil {
		return err
	}
	ix.log.Info("search index saved", "services", ix.idx.Count(), "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}
