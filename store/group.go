package store

import (
	"errors"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

// groupCommit gathers writes made concurrently by many requests into one
// transaction, so that a burst of inbox deliveries costs one commit and
// one sync per batch rather than per activity. Each write keeps its own
// result; every caller returns only once its batch is durable.
//
// There is no background goroutine: the first caller to find no batch in
// progress leads, commits what is queued, and hands the lead to the next
// waiting caller, if any.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*groupWrite
	leading bool
}

// maxGroup bounds a batch well under Badger's transaction size limit.
const maxGroup = 128

type groupWrite struct {
	// apply runs inside the shared transaction; it may run more than
	// once (conflict retries) and must reset what it records each time.
	apply func(txn *badger.Txn) error
	err   error
	lead  bool
	wake  chan struct{}
}

// do runs apply in a transaction shared with concurrent callers.
func (g *groupCommit) do(s *Store, apply func(txn *badger.Txn) error) error {
	w := &groupWrite{apply: apply, wake: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if g.leading {
		g.mu.Unlock()
		<-w.wake
		if !w.lead {
			return w.err
		}
		g.mu.Lock()
	}
	g.leading = true
	n := min(len(g.queue), maxGroup)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	s.commitGroup(batch)

	g.mu.Lock()
	if len(g.queue) == 0 {
		g.leading = false
	} else {
		next := g.queue[0]
		next.lead = true
		next.wake <- struct{}{}
	}
	g.mu.Unlock()
	for _, o := range batch[1:] { // batch[0] is w: the leader is first in line
		o.wake <- struct{}{}
	}
	return w.err
}

// errLeftOut aborts a shared transaction when one of its writes fails.
var errLeftOut = errors.New("store: write left out of its batch")

// commitGroup applies every write of batch in one transaction. A write
// that fails is taken out and the rest retried without it, so that each
// write commits whole or not at all, whatever its neighbours do.
func (s *Store) commitGroup(batch []*groupWrite) {
	for len(batch) > 0 {
		var failed int
		err := s.update(func(txn *badger.Txn) error {
			for i, w := range batch {
				// Each write sees the ones before it in the batch, as
				// if they had committed one after another.
				if w.err = w.apply(txn); w.err != nil {
					failed = i
					return errLeftOut
				}
			}
			return nil
		})
		if !errors.Is(err, errLeftOut) {
			for _, w := range batch {
				w.err = err
			}
			return
		}
		if errors.Is(batch[failed].err, badger.ErrTxnTooBig) && len(batch) > 1 {
			half := len(batch) / 2
			s.commitGroup(batch[:half])
			s.commitGroup(batch[half:])
			return
		}
		batch = append(batch[:failed:failed], batch[failed+1:]...)
	}
}
