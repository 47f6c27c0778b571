package federation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// Limits of fetches from other servers.
const (
	maxFetchBody  = 1 << 20
	fetchTimeout  = 10 * time.Second
	maxRedirects  = 3
	cacheCapacity = 2048
)

// ErrForbiddenAddress is returned when a URL resolves to an address the
// node must not reach (loopback, private, link-local, …).
var ErrForbiddenAddress = errors.New("federation: address not allowed")

// Client is the one way the node talks to other servers: every request
// signed, bounded in size and time, redirects limited, and a dial-time
// guard against private and special-purpose addresses (unless
// AllowPrivate, for tests and closed networks).
type Client struct {
	signer       *Signer
	http         *http.Client
	allowPrivate bool
	now          func() time.Time
	ttl          time.Duration

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	body    []byte
	expires time.Time
}

// ClientOptions configure a Client.
type ClientOptions struct {
	Signer       *Signer
	AllowPrivate bool
	CacheTTL     time.Duration // default 10 minutes
	Now          func() time.Time
	// Timeout bounds each request (default 10 s).
	Timeout time.Duration
	// Transport, when set, carries the requests instead of the guarded
	// dialer: an in-process network (bench/sim) whose requests are still
	// signed by Client and verified by the receiving inbox.
	Transport http.RoundTripper
}

// NewClient returns a Client.
func NewClient(o ClientOptions) *Client {
	if o.CacheTTL == 0 {
		o.CacheTTL = 10 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout == 0 {
		o.Timeout = fetchTimeout
	}
	c := &Client{signer: o.Signer, allowPrivate: o.AllowPrivate, now: o.Now, ttl: o.CacheTTL, cache: map[string]cached{}}
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: c.guard}
	var transport http.RoundTripper = &http.Transport{
		DialContext:            dialer.DialContext,
		MaxIdleConnsPerHost:    8,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  o.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	if o.Transport != nil {
		transport = o.Transport
	}
	c.http = &http.Client{
		Timeout:   o.Timeout,
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("federation: more than %d redirects", maxRedirects)
			}
			return nil
		},
	}
	return c
}

// guard runs at dial time, after DNS resolution, so a name that resolves
// to a private address is refused however it was written.
func (c *Client) guard(network, address string, _ syscall.RawConn) error {
	if c.allowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	if !PublicAddress(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}

// PublicAddress reports whether a is a globally routable unicast address.
func PublicAddress(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsMulticast() || a.IsUnspecified() || a.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range specialPrefixes {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// specialPrefixes are special-purpose ranges (RFC 6890 and successors)
// not covered by the netip predicates.
var specialPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("fc00::/7"),
}

// Get fetches u as ActivityStreams JSON with a signed GET, using the cache
// unless fresh is set.
func (c *Client) Get(ctx context.Context, u string, fresh bool) ([]byte, error) {
	if !fresh {
		c.mu.Lock()
		e, ok := c.cache[u]
		c.mu.Unlock()
		if ok && c.now().Before(e.expires) {
			return e.body, nil
		}
	}
	body, err := c.do(ctx, http.MethodGet, u, nil, "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"")
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.cache) >= cacheCapacity {
		clear(c.cache) // simple bound; the cache refills from what is used
	}
	c.cache[u] = cached{body: body, expires: c.now().Add(c.ttl)}
	c.mu.Unlock()
	return body, nil
}

// GetJRD fetches a WebFinger document (RFC 7033), never from the cache.
// Servers answer 406 to a WebFinger request that asks for
// ActivityStreams, so this one asks for JRD.
func (c *Client) GetJRD(ctx context.Context, u string) ([]byte, error) {
	return c.do(ctx, http.MethodGet, u, nil, "application/jrd+json, application/json;q=0.9")
}

// Forget drops u from the cache.
func (c *Client) Forget(u string) {
	c.mu.Lock()
	delete(c.cache, u)
	c.mu.Unlock()
}

// StatusError is a non-2xx answer from a peer.
type StatusError struct {
	Code       int
	RetryAfter time.Duration
}

func (e *StatusError) Error() string { return fmt.Sprintf("federation: peer answered %d", e.Code) }

// Post delivers an activity to an inbox with a signed POST.
func (c *Client) Post(ctx context.Context, inbox string, body []byte) error {
	_, err := c.do(ctx, http.MethodPost, inbox, body, "")
	return err
}

func (c *Client) do(ctx context.Context, method, u string, body []byte, accept string) ([]byte, error) {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
		return nil, fmt.Errorf("federation: %q is not an http(s) URL", u)
	}
	if pu.Scheme == "http" && !c.allowPrivate {
		return nil, fmt.Errorf("federation: plain http refused for %s", pu.Host)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if body != nil {
		req.Header.Set("Content-Type", ContentType)
	}
	req.Header.Set("User-Agent", "Maillage/1 (+"+c.signer.KeyID+")")
	if err := c.signer.Sign(req, body); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("federation: %s %s: %w", method, pu.Host, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBody+1))
	if err != nil {
		return nil, fmt.Errorf("federation: read %s: %w", pu.Host, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		se := &StatusError{Code: resp.StatusCode}
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			se.RetryAfter = parseRetryAfter(ra, c.now())
		}
		return nil, se
	}
	if len(data) > maxFetchBody {
		return nil, fmt.Errorf("federation: answer from %s larger than %d bytes", pu.Host, maxFetchBody)
	}
	return data, nil
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	var secs int
	if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
