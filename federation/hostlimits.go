package federation

import (
	"sync"

	"golang.org/x/time/rate"
)

// hostLimits rate-limits activities per remote host.
type hostLimits struct {
	r     rate.Limit
	burst int
	mu    sync.Mutex
	hosts map[string]*rate.Limiter
}

func newHostLimits(perSecond float64, burst int) *hostLimits {
	return &hostLimits{r: rate.Limit(perSecond), burst: burst, hosts: map[string]*rate.Limiter{}}
}

func (h *hostLimits) allow(host string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.hosts[host]
	if !ok {
		if len(h.hosts) > 10_000 {
			clear(h.hosts) // bound memory under a flood of hosts
		}
		l = rate.NewLimiter(h.r, h.burst)
		h.hosts[host] = l
	}
	return l.Allow()
}
