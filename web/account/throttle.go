package account

import (
	"sync"
	"time"
)

// Throttle slows password guessing: after Max failures for the same key
// (an email, or a client address) within Window, further attempts for that
// key are refused until the oldest failure leaves the window. It lives in
// memory: a restart forgets it, which is acceptable for a small node.
type Throttle struct {
	Max    int
	Window time.Duration
	Now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewThrottle returns a Throttle allowing max failures per window.
func NewThrottle(max int, window time.Duration, now func() time.Time) *Throttle {
	return &Throttle{Max: max, Window: window, Now: now, failures: map[string][]time.Time{}}
}

// maxKeys bounds the memory a flood of distinct keys can take.
const maxKeys = 100_000

// Allowed reports whether an attempt for key may proceed now.
func (t *Throttle) Allowed(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.recent(key)) < t.Max
}

// RetryAfter returns how long until key may try again (zero if it may).
func (t *Throttle) RetryAfter(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.recent(key)
	if len(r) < t.Max {
		return 0
	}
	return r[len(r)-t.Max].Add(t.Window).Sub(t.Now())
}

// Fail records a failed attempt for key.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.failures) >= maxKeys {
		t.sweep()
	}
	t.failures[key] = append(t.recent(key), t.Now())
}

// Reset forgets the failures of key, after a success.
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, key)
}

func (t *Throttle) recent(key string) []time.Time {
	cut := t.Now().Add(-t.Window)
	f := t.failures[key]
	i := 0
	for i < len(f) && !f[i].After(cut) {
		i++
	}
	if i == len(f) {
		delete(t.failures, key)
		return nil
	}
	f = f[i:]
	t.failures[key] = f
	return f
}

func (t *Throttle) sweep() {
	for k := range t.failures {
		t.recent(k)
	}
	if len(t.failures) >= maxKeys { // still full: drop everything rather than grow
		clear(t.failures)
	}
}
