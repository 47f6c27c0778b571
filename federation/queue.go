package federation

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/maillage/maillage/directory"
)

// Delivery policy.
const (
	maxRetry     = 12 * time.Hour
	giveUpAfter  = 4 * 24 * time.Hour // past three days of retries
	perHostLimit = 4                  // concurrent deliveries to one host
	globalLimit  = 64                 // concurrent deliveries in all
	breakerTrips = 5                  // consecutive failures that open a host's breaker
)

// Queue delivers activities from the durable store: exponential backoff
// over days, Retry-After honoured, per-host concurrency limit and circuit
// breaker. A delivery is deleted only once its inbox accepted it, so a
// killed process resumes where it stopped.
type Queue struct {
	f    *Federator
	wake chan struct{}

	mu       sync.Mutex
	inFlight map[string]bool   // delivery ids being sent
	acts     map[string][]byte // recently sent activities, by id
	perHost  map[string]int
	breakers map[string]*breaker
	// left holds when each recent delivery left flight (sent and deleted,
	// or rescheduled): a due list read before that is stale for it, and
	// sending it again from there would deliver it twice.
	left   map[string]time.Time
	pruned time.Time // when left was last pruned
}

type breaker struct {
	failures  int
	openUntil time.Time
}

func newQueue(f *Federator) *Queue {
	return &Queue{f: f, wake: make(chan struct{}, 1), inFlight: map[string]bool{}, acts: map[string][]byte{}, perHost: map[string]int{}, breakers: map[string]*breaker{}, left: map[string]time.Time{}}
}

// enqueue stores one delivery of activity per inbox and wakes the sender.
func (q *Queue) enqueue(ctx context.Context, activity []byte, inboxes []string) error {
	now := q.f.now().UTC()
	actID := directory.NewID()
	ds := make([]*Delivery, 0, len(inboxes))
	for _, in := range inboxes {
		ds = append(ds, &Delivery{ID: directory.NewID(), Inbox: in, ActivityID: actID, First: now, NextAt: now})
	}
	if len(ds) == 0 {
		return nil
	}
	if err := q.f.o.Store.QueueActivity(ctx, actID, activity, ds); err != nil {
		return err
	}
	q.f.o.Metrics.Queued.Add(float64(len(ds)))
	q.poke()
	return nil
}

func (q *Queue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *Queue) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, globalLimit)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		listed := time.Now()
		due, err := q.f.o.Store.DueDeliveries(ctx, q.f.now(), 4*globalLimit)
		if err != nil && ctx.Err() == nil {
			q.f.log.Error("delivery queue", "err", err)
		}
		for _, d := range due {
			host := hostOf(d.Inbox)
			if !q.claim(d.ID, host, listed) {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				q.release(d.ID, host)
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				defer q.release(d.ID, host)
				q.deliver(ctx, d, host)
			}()
		}
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-tick.C:
		}
	}
}

// claim reserves a delivery for sending unless it is already in flight,
// it left flight after the list it comes from was read (that list is
// stale for it), its host is at its concurrency limit, or its host's
// breaker is open.
func (q *Queue) claim(id, host string, listed time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.inFlight[id] || q.perHost[host] >= perHostLimit {
		return false
	}
	if t, ok := q.left[id]; ok && !t.Before(listed) {
		return false
	}
	if b := q.breakers[host]; b != nil && q.f.now().Before(b.openUntil) {
		return false
	}
	q.inFlight[id] = true
	q.perHost[host]++
	return true
}

func (q *Queue) release(id, host string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.inFlight, id)
	now := time.Now()
	// A due list is used within one pass of run, under a minute even when
	// every slot waits for a timeout: older marks are of no use.
	if len(q.left) >= 4096 && now.Sub(q.pruned) > 10*time.Second {
		q.pruned = now
		for k, t := range q.left {
			if now.Sub(t) > 2*time.Minute {
				delete(q.left, k)
			}
		}
	}
	q.left[id] = now
	if q.perHost[host]--; q.perHost[host] <= 0 {
		delete(q.perHost, host)
	}
	q.poke()
}

func (q *Queue) deliver(ctx context.Context, d *Delivery, host string) {
	st := q.f.o.Store
	activity, err := q.activity(ctx, d.ActivityID)
	if err != nil {
		q.f.log.Error("queued activity unreadable; dropping its delivery", "err", err)
		st.DeleteDelivery(context.WithoutCancel(ctx), d)
		return
	}
	err = q.f.client.Post(ctx, d.Inbox, activity)
	if err == nil {
		q.result(host, true)
		if err := st.DeleteDelivery(context.WithoutCancel(ctx), d); err != nil {
			q.f.log.Error("delete delivery", "err", err)
		}
		q.f.o.Metrics.Delivered.Inc()
		return
	}
	if ctx.Err() != nil {
		return // shutting down: the delivery stays queued for the next start
	}
	q.result(host, false)
	var se *StatusError
	permanent := errors.As(err, &se) && se.Code >= 400 && se.Code < 500 && se.Code != 408 && se.Code != 429
	now := q.f.now().UTC()
	if permanent || now.Sub(d.First) > giveUpAfter {
		q.f.log.Warn("delivery given up", "host", host, "attempts", d.Attempts+1, "err", err)
		st.DeleteDelivery(context.WithoutCancel(ctx), d)
		q.f.o.Metrics.Failed.Inc()
		return
	}
	next := *d
	next.Attempts++
	wait := backoff(q.f.o.FirstRetry, next.Attempts)
	if se != nil && se.RetryAfter > wait {
		wait = min(se.RetryAfter, 24*time.Hour)
	}
	next.NextAt = now.Add(wait)
	if err := st.RescheduleDelivery(context.WithoutCancel(ctx), d, &next); err != nil {
		q.f.log.Error("reschedule delivery", "err", err)
	}
	q.f.o.Metrics.Retried.Inc()
	q.f.log.Info("delivery will be retried", "host", host, "attempt", next.Attempts, "in", wait.Round(time.Second).String())
}

// backoff doubles from first (30 s by default) up to 12 h, with ±20%
// jitter so that retries to a host that came back do not all land at once.
func backoff(first time.Duration, attempt int) time.Duration {
	d := first << min(attempt-1, 20)
	if d > maxRetry || d <= 0 {
		d = maxRetry
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func (q *Queue) result(host string, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.breakers[host]
	if ok {
		delete(q.breakers, host)
		return
	}
	if b == nil {
		b = &breaker{}
		q.breakers[host] = b
	}
	b.failures++
	if b.failures >= breakerTrips {
		b.openUntil = q.f.now().Add(4 * q.f.o.FirstRetry) // 2 minutes by default
	}
}

// activity returns a queued activity, from memory when a fan-out is
// sending it to many inboxes.
func (q *Queue) activity(ctx context.Context, id string) ([]byte, error) {
	q.mu.Lock()
	b, ok := q.acts[id]
	q.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := q.f.o.Store.QueuedActivity(ctx, id)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	if len(q.acts) >= 64 {
		clear(q.acts)
	}
	q.acts[id] = b
	q.mu.Unlock()
	return b, nil
}
