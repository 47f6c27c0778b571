// Package nodetest starts real Maillage nodes for tests: each with its own
// data directory, keys, encrypted store, injectable clock and HTTP
// listener on its own loopback address (127.0.0.2, 127.0.0.3, …), so that
// federation and referral tests run several nodes talking real HTTP.
package nodetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/web/account"
)

// Clock is a settable clock shared by a node's components.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// CheapParams make password hashing fast in tests; production uses
// account.DefaultParams.
var CheapParams = account.Params{Time: 1, MemKiB: 64, Threads: 1}

// Node is a running test node.
type Node struct {
	Name          string
	Dir           string
	Addr          string // host:port
	URL           string // base URL
	Clock         *Clock
	AdminEmail    string
	AdminPassword string

	t      testing.TB
	opts   Options
	log    *slog.Logger
	mu     sync.Mutex
	node   *node.Node
	cancel context.CancelFunc
	done   chan error
}

// Options configure Start.
type Options struct {
	// Clock, when set, is used as every node's clock (each node gets its
	// own copy starting at this time). Default: the wall clock.
	Clock *time.Time
	// Configure, when set, adjusts each node's configuration before it
	// starts (rate limits, …).
	Configure func(*node.Config)
	// Log, when set, receives every node's logs (text, debug level), so a
	// test can search them for what must never be logged.
	Log io.Writer
	// Latency, when set, delays every read from the nodes' connections,
	// as a slow network would: deliveries to them stay queued for a while.
	Latency time.Duration
}

// slowListener hands out connections whose reads wait first.
type slowListener struct {
	net.Listener
	delay time.Duration
}

func (l slowListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return slowConn{c, l.delay}, nil
}

type slowConn struct {
	net.Conn
	delay time.Duration
}

func (c slowConn) Read(p []byte) (int, error) {
	time.Sleep(c.delay)
	return c.Conn.Read(p)
}

// Start starts n nodes, named node1 … nodeN, and stops them when the test
// ends.
func Start(t testing.TB, n int, opts Options) []*Node {
	t.Helper()
	nodes := make([]*Node, n)
	for i := range n {
		nodes[i] = start(t, i, opts)
	}
	return nodes
}

func start(t testing.TB, i int, opts Options) *Node {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", i+2))
	if err != nil {
		t.Fatalf("nodetest: listen: %v", err)
	}
	nd := &Node{
		Name:          fmt.Sprintf("node%d", i+1),
		Dir:           t.TempDir(),
		Addr:          ln.Addr().String(),
		AdminEmail:    fmt.Sprintf("admin@node%d.test", i+1),
		AdminPassword: "admin-password-" + fmt.Sprint(i+1),
		t:             t,
		opts:          opts,
		log:           slog.New(slog.DiscardHandler),
	}
	if opts.Log != nil {
		nd.log = slog.New(slog.NewTextHandler(opts.Log, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", nd.Name)
	}
	nd.URL = "http://" + nd.Addr
	now := time.Now
	if opts.Clock != nil {
		nd.Clock = NewClock(*opts.Clock)
		now = nd.Clock.Now
	}
	err = node.Init(context.Background(), nd.Dir, node.InitParams{
		BaseURL: nd.URL, Name: "Association " + nd.Name, Handle: nd.Name,
		AdminEmail: nd.AdminEmail, AdminPassword: nd.AdminPassword, Now: now, Params: CheapParams, Logger: nd.log,
	})
	if err != nil {
		ln.Close()
		t.Fatalf("nodetest: init %s: %v", nd.Name, err)
	}
	nd.serve(ln, now)
	t.Cleanup(nd.Stop)
	return nd
}

func (nd *Node) serve(ln net.Listener, now func() time.Time) {
	if nd.opts.Latency > 0 {
		ln = slowListener{ln, nd.opts.Latency}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	cfg := node.Config{DataDir: nd.Dir, Now: now, Params: CheapParams, Logger: nd.log, AllowPrivate: true}
	if nd.opts.Configure != nil {
		nd.opts.Configure(&cfg)
	}
	go func() {
		done <- node.Serve(ctx, node.ServeOptions{
			Config:   cfg,
			Listener: ln,
			OnReady:  func(string) { close(ready) },
			OnOpen: func(n *node.Node) {
				nd.mu.Lock()
				nd.node = n
				nd.mu.Unlock()
			},
		})
	}()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		nd.t.Fatalf("nodetest: serve %s: %v", nd.Name, err)
	}
	// Tests start once the search index holds every stored service.
	nd.mu.Lock()
	n := nd.node
	nd.mu.Unlock()
	select {
	case <-n.IndexBuilt():
	case <-time.After(time.Minute):
		nd.t.Fatalf("nodetest: %s did not build its search index", nd.Name)
	}
	nd.mu.Lock()
	nd.cancel, nd.done = cancel, done
	nd.mu.Unlock()
}

// Node returns the running node, for tests that drive it directly.
func (nd *Node) Node() *node.Node {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.node
}

// Stop shuts the node down and waits until its store is closed.
func (nd *Node) Stop() {
	nd.mu.Lock()
	cancel, done := nd.cancel, nd.done
	nd.cancel, nd.done = nil, nil
	nd.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	t0 := time.Now()
	defer func() {
		if d := time.Since(t0); d > time.Second {
			nd.t.Logf("nodetest: %s took %v to stop", nd.Name, d.Round(time.Millisecond))
		}
	}()
	if err := <-done; err != nil {
		nd.t.Errorf("nodetest: %s stopped with error: %v", nd.Name, err)
	}
}

// Restart stops the node and serves it again on the same address.
func (nd *Node) Restart() {
	nd.t.Helper()
	nd.Stop()
	ln, err := net.Listen("tcp", nd.Addr)
	if err != nil {
		nd.t.Fatalf("nodetest: relisten %s: %v", nd.Addr, err)
	}
	now := time.Now
	if nd.Clock != nil {
		now = nd.Clock.Now
	}
	nd.serve(ln, now)
}

// Response is a finished HTTP exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it cannot.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode response %d %s: %v", r.Status, r.Body, err)
	}
}

// Do sends a request to the node. body may be nil, a []byte, a string or
// a value to encode as JSON; token, if not empty, is sent as bearer.
func (nd *Node) Do(method, path, token string, body any) Response {
	nd.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			nd.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, nd.URL+path, r)
	if err != nil {
		nd.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		nd.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		nd.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Token logs in and returns an API token.
func (nd *Node) Token(email, password string) string {
	nd.t.Helper()
	resp := nd.Do("POST", "/api/v1/token", "", map[string]string{"email": email, "password": password})
	if resp.Status != http.StatusOK {
		nd.t.Fatalf("token for %s: %d %s", email, resp.Status, resp.Body)
	}
	var out struct{ Token string }
	resp.JSON(nd.t, &out)
	return out.Token
}

// AdminToken returns an API token of the node's first admin.
func (nd *Node) AdminToken() string { return nd.Token(nd.AdminEmail, nd.AdminPassword) }
