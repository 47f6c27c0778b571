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
	complete   bool // holds every stored service: may be saved

	// writing is held (read-locked) by each replica write from its
	// commit until it is queued, and locked by a checkpoint to read a
	// store version that every queued change reaches.
	writing sync.RWMutex

	// Snapshots: written every saveEvery when the index changed, and at
	// a stop, so that a start after a crash loads a recent one and
	// applies only the changes written since (reconcile).
	path      string
	saveEvery time.Duration
	saved     uint64 // version of the snapshot on disk, 0 if none
	changed   int    // changes indexed since it was written

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

// run indexes queued changes until ctx is done, then a last time, and
// writes a snapshot every saveEvery if the index changed. Only run
// applies changes to the index (flush) while the node runs: two flushes
// at once could apply one service's changes out of order. Changes wait
// until the index is built or loaded (rebuild), which leaves out the
// services changed meanwhile.
func (ix *indexer) run(ctx context.Context, st *store.Store) {
	select {
	case <-ix.built:
	case <-ctx.Done():
		return
	}
	if ix.saved == 0 {
		// Built from the store: the snapshot makes the next start fast,
		// and the index then keeps its summaries encoded (search.Save).
		if err := ix.save(st); err != nil {
			ix.log.Warn("search index snapshot not written", "err", err)
		} else if ix.saved != 0 {
			ix.relayout(st)
		}
	}
	// Loading or building the index leaves tens of MB of garbage: serve
	// hands it back to the system once the node is quiet (idletrim.go).
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	every := ix.saveEvery
	if every <= 0 {
		every = 10 * time.Minute
	}
	save := time.NewTicker(every)
	defer save.Stop()
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
		case <-save.C:
			if err := ix.save(st); err != nil {
				ix.log.Warn("search index snapshot not written", "err", err)
			}
		}
		ix.flush()
	}
}

// relayout reads back the snapshot written after a build: the same
// services, laid out as a load lays them, in a few arrays per 4,096
// services instead of the pieces a build leaves across the heap. At
// 10,000 services the node then idles 10 MB smaller (.ci/measure-rss:
// 52 MB of anonymous memory after a build, 42 MB after a load). Only run
// writes to the index, so the snapshot holds exactly what the index held.
// The snapshot is read chunk by chunk, each authenticated; the index is
// replaced only once all of it was read (search.LoadSnapshot).
func (ix *indexer) relayout(st *store.Store) {
	start := time.Now()
	err := st.LoadSidecar(ix.path, func(r io.Reader, version uint64) error {
		if version != ix.saved {
			return fmt.Errorf("snapshot at version %d, %d was written", version, ix.saved)
		}
		return ix.idx.LoadSnapshot(r)
	})
	if err != nil {
		ix.log.Warn("search index snapshot written but not read back; the next start rebuilds if it cannot read it either", "err", err)
		return
	}
	ix.log.Info("search index read back from its snapshot", "services", ix.idx.Count(), "took", time.Since(start).Round(time.Millisecond).String())
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
	ix.mu.Lock()
	ix.changed += len(pending)
	ix.mu.Unlock()
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

// ServiceChanged indexes a local change. It never fails the change: the
// store is the truth, and the index is rebuilt from it at every start.
func (ix *indexer) ServiceChanged(ctx context.Context, a directory.Announcement, s *directory.Service) error {
	uri := ix.base + "/services/" + s.ID
	if a.Change == directory.Deleted {
		ix.queue(uri, nil)
		return nil
	}
	d := ix.localDoc(ctx, s, ix.name())
	ix.queue(uri, &d)
	return nil
}

// rebuild loads the snapshot written beside the store and applies the
// changes the store holds since, or without a usable snapshot builds the
// index from the store. It runs in the background while the node already
// serves; searches answer 503 until it is done.
func (ix *indexer) rebuild(ctx context.Context, st *store.Store) (err error) {
	defer close(ix.built)
	defer func() {
		ix.mu.Lock()
		ix.rebuilding, ix.touched = false, nil
		ix.complete = err == nil
		ix.mu.Unlock()
	}()
	start := time.Now()
	b := ix.batcher()
	if ch, loaded := ix.load(ctx, st); loaded {
		if err := ix.reconcile(b, ch); err != nil {
			return fmt.Errorf("node: update the search index: %w", err)
		}
		ix.mu.Lock()
		ix.saved, ix.changed = ch.since, b.puts+b.deletes
		ix.mu.Unlock()
		ix.log.Info("search index brought up to date", "services", ix.idx.Count(), "changed", b.puts, "removed", b.deletes,
			"took", time.Since(start).Round(time.Millisecond).String())
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	provider := ix.name()
	ix.log.Info("search index: building")
	n, last := 0, start
	progress := func() {
		if n++; n%1000 == 0 && time.Since(last) >= 5*time.Second {
			last = time.Now()
			ix.log.Info("search index: building", "services", n, "per_second", int(float64(n)/time.Since(start).Seconds()))
		}
	}
	err = ix.catalog.ForEachService(ctx, func(s *directory.Service) error {
		progress()
		return b.put(ix.localDoc(ctx, s, provider))
	})
	if err == nil {
		err = st.ForEachPartnerService(ctx, func(ps *directory.PartnerService) error {
			progress()
			return b.put(search.PartnerDoc(ps))
		})
	}
	if err == nil {
		err = b.flush()
	}
	if err != nil {
		return fmt.Errorf("node: build search index: %w", err)
	}
	ix.log.Info("search index built", "services", ix.idx.Count(), "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// changes is what the store holds since a snapshot's version: the URIs of
// every stored service, and the services written since.
type changes struct {
	since  uint64
	stored map[string]bool
	docs   []search.Doc
	err    error
}

// load reads the snapshot into the index, if there is a usable one. The
// store is read for the changes since the snapshot's version meanwhile,
// on the other core: a start after a crash then takes about as long as
// reading the snapshot. A missing, stale or damaged snapshot is never an
// error: the index is then built from the store.
func (ix *indexer) load(ctx context.Context, st *store.Store) (*changes, bool) {
	start := time.Now()
	var scanned chan *changes
	err := st.LoadSidecar(ix.path, func(r io.Reader, version uint64) error {
		scanned = make(chan *changes, 1)
		go func() { scanned <- ix.changesSince(ctx, st, version) }()
		return ix.idx.LoadSnapshot(r)
	})
	var ch *changes
	if scanned != nil {
		ch = <-scanned
	}
	switch {
	case err == nil && ch.err == nil:
		ix.log.Info("search index loaded", "services", ix.idx.Count(), "took", time.Since(start).Round(time.Millisecond).String())
		return ch, true
	case err == nil:
		err = ch.err
	case errors.Is(err, os.ErrNotExist):
		return nil, false
	}
	ix.log.Warn("search index snapshot not used; rebuilding", "reason", err.Error())
	// The snapshot may have been read before the failure (the changes
	// since could not be read, or its end is damaged): start afresh.
	if err := ix.idx.Reset(); err != nil {
		ix.log.Error("search index reset", "err", err)
	}
	return nil, false
}

// changesSince reads what the store holds since version.
func (ix *indexer) changesSince(ctx context.Context, st *store.Store, version uint64) *changes {
	ch := &changes{since: version, stored: map[string]bool{}}
	// Local services show their provider's name and their locations'
	// points: when either changed, every local service is indexed again.
	places, err := st.PlacesWrittenSince(ctx, version)
	if err != nil {
		ch.err = err
		return ch
	}
	provider := ix.name()
	err = st.ServicesSince(ctx, version, func(id string, s *directory.Service) error {
		ch.stored[ix.base+"/services/"+id] = true
		if s == nil && places {
			var err error
			if s, err = ix.catalog.Service(ctx, id); err != nil {
				return err
			}
		}
		if s != nil {
			ch.docs = append(ch.docs, ix.localDoc(ctx, s, provider))
		}
		return nil
	})
	if err == nil {
		err = st.PartnerServicesSince(ctx, version, func(uri string, ps *directory.PartnerService) error {
			ch.stored[uri] = true
			if ps != nil {
				ch.docs = append(ch.docs, search.PartnerDoc(ps))
			}
			return nil
		})
	}
	ch.err = err
	return ch
}

// reconcile applies to the loaded snapshot the changes since: services
// written since are indexed again, and services the index holds but the
// store does not are removed.
func (ix *indexer) reconcile(b *batcher, ch *changes) error {
	for _, d := range ch.docs {
		if err := b.put(d); err != nil {
			return err
		}
	}
	for _, uri := range ix.idx.URIs() {
		if !ch.stored[uri] {
			if err := b.delete(uri); err != nil {
				return err
			}
		}
	}
	return b.flush()
}

// rebuildBatch bounds the documents indexed at once at start, and with
// them the memory the rebuild takes.
const rebuildBatch = 200

// batcher indexes what a rebuild reads, in batches, leaving out the
// services changed meanwhile: the change queued for them is newer than
// the store snapshot the rebuild reads.
type batcher struct {
	ix            *indexer
	docs          []search.Doc
	gone          []string
	puts, deletes int
}

func (ix *indexer) batcher() *batcher { return &batcher{ix: ix} }

func (b *batcher) put(d search.Doc) error {
	b.docs = append(b.docs, d)
	return b.flushIfFull()
}

func (b *batcher) delete(uri string) error {
	b.gone = append(b.gone, uri)
	return b.flushIfFull()
}

func (b *batcher) flushIfFull() error {
	if len(b.docs)+len(b.gone) < rebuildBatch {
		return nil
	}
	return b.flush()
}

func (b *batcher) flush() error {
	ix := b.ix
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var docs []search.Doc
	var gone []string
	for _, d := range b.docs {
		if !ix.touched[d.URI] {
			docs = append(docs, d)
		}
	}
	for _, uri := range b.gone {
		if !ix.touched[uri] {
			gone = append(gone, uri)
		}
	}
	b.docs, b.gone = b.docs[:0], b.gone[:0]
	b.puts, b.deletes = b.puts+len(docs), b.deletes+len(gone)
	return ix.idx.Apply(docs, gone)
}

// publishers tells several publishers of each change, in order.
type publishers []directory.Publisher

func (ps publishers) ServiceChanged(ctx context.Context, a directory.Announcement, s *directory.Service) error {
	for _, p := range ps {
		if err := p.ServiceChanged(ctx, a, s); err != nil {
			return err
		}
	}
	return nil
}

func (ps publishers) OrganizationChanged(ctx context.Context, o *directory.Organization) error {
	for _, p := range ps {
		if op, ok := p.(directory.OrganizationPublisher); ok {
			if err := op.OrganizationChanged(ctx, o); err != nil {
				return err
			}
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

func (s indexedStore) PutPartnerService(ctx context.Context, ps *directory.PartnerService) (bool, error) {
	s.ix.writing.RLock()
	defer s.ix.writing.RUnlock()
	stored, err := s.Store.PutPartnerService(ctx, ps)
	if err == nil && stored {
		s.index(ps)
	}
	return stored, err
}

func (s indexedStore) ApplyPartnerService(ctx context.Context, ps *directory.PartnerService, activityID string, ttl time.Duration) (bool, error) {
	s.ix.writing.RLock()
	defer s.ix.writing.RUnlock()
	applied, err := s.Store.ApplyPartnerService(ctx, ps, activityID, ttl)
	if err == nil && applied {
		s.index(ps)
	}
	return applied, err
}

func (s indexedStore) DeletePartnerService(ctx context.Context, uri string) error {
	s.ix.writing.RLock()
	defer s.ix.writing.RUnlock()
	if err := s.Store.DeletePartnerService(ctx, uri); err != nil {
		return err
	}
	s.ix.queue(uri, nil)
	return nil
}

func (s indexedStore) WithdrawPartnerService(ctx context.Context, uri, actor string, at time.Time, ttl time.Duration) (bool, error) {
	s.ix.writing.RLock()
	defer s.ix.writing.RUnlock()
	removed, err := s.Store.WithdrawPartnerService(ctx, uri, actor, at, ttl)
	if err == nil && removed {
		s.ix.queue(uri, nil)
	}
	return removed, err
}

func (s indexedStore) index(ps *directory.PartnerService) {
	d := search.PartnerDoc(ps)
	s.ix.queue(ps.URI, &d)
}

// save writes a snapshot of the index if it holds every stored service
// and changed since the last one. It is called by run, or after run has
// returned: never beside a flush.
func (ix *indexer) save(st *store.Store) error {
	ix.mu.Lock()
	complete := ix.complete
	ix.mu.Unlock()
	if !complete {
		return nil
	}
	// Every replica write committed up to version has been queued; flush
	// indexes the queue. Local services are all checked at the next start.
	ix.writing.Lock()
	version := st.Version()
	ix.writing.Unlock()
	ix.flush()
	ix.mu.Lock()
	changed := ix.changed
	ix.changed = 0
	ix.mu.Unlock()
	if changed == 0 && ix.saved != 0 {
		return nil
	}
	start := time.Now()
	if err := st.SaveSidecar(ix.path, version, ix.idx.Save); err != nil {
		ix.mu.Lock()
		ix.changed += changed
		ix.mu.Unlock()
		return err
	}
	ix.saved = version
	ix.log.Info("search index saved", "services", ix.idx.Count(), "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}
