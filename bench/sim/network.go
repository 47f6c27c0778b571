// Package sim runs a network of Maillage nodes in one process over the real
// federation protocol, to measure how the network behaves as it grows
// (cmd/maillage/docs/network-scale.md).
//
// Each simulated node is a real federation.Federator (its delivery queue,
// signer, verifier, key cache, inbox handler and outbox) on a real
// store.Store (Badger, in its in-memory mode) with a real directory.Catalog
// of generated services. What is simulated is the network between them:
// an http.RoundTripper (Transport) writes each request as HTTP/1.1 bytes and
// hands them to the receiving node's handler, parsed as a server would
// parse them, without sockets. Every request is still signed by the sender
// and every inbox POST verified by the receiver, keys fetched with signed
// GETs of the actor documents.
package sim

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"

	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/sample"
	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/store"
)

// Node is one simulated association: its store, catalog and federator.
type Node struct {
	Index    int
	Host     string
	Base     string
	Store    *store.Store
	Catalog  *directory.Catalog
	Fed      *federation.Federator
	Services []string // ids of its own services
	handler  http.Handler
}

// Actor is the node's actor IRI.
func (n *Node) Actor() string { return n.Base + "/actor" }

// Transport is the in-process network: it routes each request to the
// node named by its host, through the node's HTTP handler. The request
// travels as HTTP/1.1 bytes (written by net/http, read back with
// http.ReadRequest), so the handler sees what a server would see; only
// the sockets are missing.
type Transport struct {
	mu    sync.RWMutex
	nodes map[string]*Node

	Posts     atomic.Int64 // inbox POSTs answered 2xx
	Refused   atomic.Int64 // inbox POSTs answered otherwise
	Gets      atomic.Int64 // GETs (actors, keys, outboxes, following)
	delivered func(host string, body []byte, at time.Time)
}

func (t *Transport) add(n *Node) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.nodes == nil {
		t.nodes = map[string]*Node{}
	}
	t.nodes[n.Host] = n
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.RLock()
	n := t.nodes[req.URL.Host]
	t.mu.RUnlock()
	if n == nil {
		return nil, fmt.Errorf("sim: no node at %s", req.URL.Host)
	}
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		return nil, err
	}
	if req.Body != nil {
		req.Body.Close()
	}
	sreq, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		return nil, err
	}
	sreq.RemoteAddr = "192.0.2.1:1234"
	sreq = sreq.WithContext(req.Context())
	var body []byte
	if sreq.Method == http.MethodPost && t.delivered != nil {
		// Keep a copy for the observer; the handler reads the original.
		b := new(bytes.Buffer)
		if _, err := b.ReadFrom(sreq.Body); err != nil {
			return nil, err
		}
		body = b.Bytes()
		sreq.Body = ioNopCloser{bytes.NewReader(body)}
	}
	rec := httptest.NewRecorder()
	n.handler.ServeHTTP(rec, sreq)
	resp := rec.Result()
	resp.Request = req
	switch {
	case sreq.Method != http.MethodPost:
		t.Gets.Add(1)
	case resp.StatusCode/100 == 2:
		t.Posts.Add(1)
		if t.delivered != nil {
			t.delivered(n.Host, body, time.Now())
		}
	default:
		t.Refused.Add(1)
	}
	return resp, nil
}

type ioNopCloser struct{ *bytes.Reader }

func (ioNopCloser) Close() error { return nil }

// Network is a set of simulated nodes on one Transport.
type Network struct {
	Nodes     []*Node
	Transport *Transport
	keys      *KeyPool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	wmu     sync.Mutex
	waiters map[string]*waiter   // by object id
	byType  map[string]int64     // accepted inbox POSTs by activity type
	got     map[string]time.Time // host and activity id of each accepted POST, when first
	onDup   func(host, id string, after time.Duration)
	dups    int64 // accepted POSTs of an activity the host had accepted
}

// Duplicates counts inbox POSTs of an activity its inbox had already
// accepted (acknowledged and ignored there, but signed and verified
// again).
func (nw *Network) Duplicates() int64 {
	nw.wmu.Lock()
	defer nw.wmu.Unlock()
	return nw.dups
}

// ByType returns the accepted inbox POSTs so far by activity type.
func (nw *Network) ByType() map[string]int64 {
	nw.wmu.Lock()
	defer nw.wmu.Unlock()
	return maps.Clone(nw.byType)
}

// waiter waits for an activity about one object to reach a set of hosts.
type waiter struct {
	since  time.Time
	want   map[string]bool
	at     map[string]time.Time
	done   chan struct{}
	closed bool
}

// NewNetwork returns an empty network; keys come from pool.
func NewNetwork(pool *KeyPool) *Network {
	ctx, cancel := context.WithCancel(context.Background())
	nw := &Network{Transport: &Transport{}, keys: pool, ctx: ctx, cancel: cancel, waiters: map[string]*waiter{}, byType: map[string]int64{}, got: map[string]time.Time{}}
	nw.Transport.delivered = nw.observe
	return nw
}

// observe is told of every accepted inbox POST.
func (nw *Network) observe(host string, body []byte, at time.Time) {
	var a struct {
		ID     string          `json:"id"`
		Type   string          `json:"type"`
		Object json.RawMessage `json:"object"`
	}
	if json.Unmarshal(body, &a) != nil {
		return
	}
	nw.wmu.Lock()
	nw.byType[a.Type]++
	k := host + " " + a.ID
	if first, ok := nw.got[k]; ok {
		nw.dups++
		if nw.onDup != nil {
			nw.onDup(host, a.ID, at.Sub(first))
		}
	} else {
		nw.got[k] = at
	}
	nw.wmu.Unlock()
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(a.Object, &obj) != nil || obj.ID == "" {
		return
	}
	nw.wmu.Lock()
	defer nw.wmu.Unlock()
	w := nw.waiters[obj.ID]
	if w == nil || !w.want[host] || at.Before(w.since) {
		return
	}
	if _, ok := w.at[host]; ok {
		return
	}
	w.at[host] = at
	if len(w.at) == len(w.want) && !w.closed {
		w.closed = true
		close(w.done)
	}
}

// AddNode starts a node with services generated from seed.
func (nw *Network) AddNode(services int, seed uint64) (*Node, error) {
	ctx := context.Background()
	i := len(nw.Nodes)
	key, err := nw.keys.Key(i)
	if err != nil {
		return nil, err
	}
	st, err := nw.openStore()
	if err != nil {
		return nil, err
	}
	n := &Node{Index: i, Host: fmt.Sprintf("n%d.sim.test", i), Store: st}
	n.Base = "http://" + n.Host
	org := &directory.Organization{ID: directory.NewID(), Name: directory.Text{directory.FR: fmt.Sprintf("Association %d", i)}, Updated: time.Now().UTC()}
	if err := st.PutOrganization(ctx, org); err != nil {
		st.Close()
		return nil, err
	}
	n.Catalog = directory.NewCatalog(st, directory.Options{})
	// The sealing key is only published (it marks the actor as an
	// association); referrals are not simulated.
	seal := make([]byte, 1216)
	rand.Read(seal)
	n.Fed, err = federation.New(federation.Options{
		BaseURL: n.Base, Handle: fmt.Sprintf("n%d", i), Key: key, SealingKey: seal,
		Catalog: n.Catalog, Store: st, AllowPrivate: true, Transport: nw.Transport,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	n.Catalog.SetPublisher(n.Fed)
	n.handler = n.Fed.Handler(http.NotFoundHandler(), nil)
	g := sample.New(seed)
	for range services {
		l, err := n.Catalog.CreateLocation(ctx, g.Location())
		if err != nil {
			st.Close()
			return nil, err
		}
		s, err := n.Catalog.CreateService(ctx, g.Service(l.ID))
		if err != nil {
			st.Close()
			return nil, err
		}
		n.Services = append(n.Services, s.ID)
	}
	nw.Transport.add(n)
	nw.Nodes = append(nw.Nodes, n)
	nw.wg.Add(1)
	go func() {
		defer nw.wg.Done()
		n.Fed.Run(nw.ctx)
	}()
	return n, nil
}

// Close stops every node and closes its store.
func (nw *Network) Close() {
	nw.cancel()
	nw.wg.Wait()
	for _, n := range nw.Nodes {
		n.Store.Close()
	}
}

// Partner makes a and b partners over the protocol: a's Follow, b's
// admin accepting it (b's Accept and b's own Follow, which a accepts at
// once), then both backfill each other's services. It waits for nothing:
// see Settle.
func (nw *Network) Follow(ctx context.Context, a, b *Node) error {
	_, err := a.Fed.Follow(ctx, b.Actor())
	return err
}

// AcceptPending has every node's admin accept every follow awaiting
// approval, and returns how many were accepted.
func (nw *Network) AcceptPending(ctx context.Context) (int, error) {
	n := 0
	for _, nd := range nw.Nodes {
		rels, err := nd.Store.Relations(ctx)
		if err != nil {
			return n, err
		}
		for _, r := range rels {
			if r.Theirs == federation.StateRequested {
				if _, err := nd.Fed.Accept(ctx, r.ID); err != nil {
					return n, err
				}
				n++
			}
		}
	}
	return n, nil
}

// pending counts follows awaiting approval across the network.
func (nw *Network) pending(ctx context.Context) (int, error) {
	n := 0
	for _, nd := range nw.Nodes {
		rels, err := nd.Store.Relations(ctx)
		if err != nil {
			return 0, err
		}
		for _, r := range rels {
			if r.Theirs == federation.StateRequested {
				n++
			}
		}
	}
	return n, nil
}

// Queued counts deliveries still queued across the network.
func (nw *Network) Queued(ctx context.Context) (int, error) {
	total := 0
	for _, nd := range nw.Nodes {
		c, err := nd.Store.CountDeliveries(ctx)
		if err != nil {
			return 0, err
		}
		total += c
	}
	return total, nil
}

// Build makes every edge of g a partnership over the protocol and waits
// until every node holds all its partners' services.
func (nw *Network) Build(ctx context.Context, g *Graph, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, e := range g.Edges {
		if err := nw.Follow(ctx, nw.Nodes[e[0]], nw.Nodes[e[1]]); err != nil {
			return fmt.Errorf("follow %d→%d: %w", e[0], e[1], err)
		}
	}
	// Wait until every follow is pending at its target, then accept.
	want := len(g.Edges)
	for {
		p, err := nw.pending(ctx)
		if err != nil {
			return err
		}
		if p >= want {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sim: only %d of %d follows arrived", p, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := nw.AcceptPending(ctx); err != nil {
		return err
	}
	return nw.waitReplicas(ctx, g, deadline)
}

// waitReplicas waits until every node is a partner of its graph
// neighbours and holds all their services.
func (nw *Network) waitReplicas(ctx context.Context, g *Graph, deadline time.Time) error {
	todo := make([]int, len(nw.Nodes))
	for i := range todo {
		todo[i] = i
	}
	for len(todo) > 0 {
		var left []int
		for _, i := range todo {
			nd := nw.Nodes[i]
			want := 0
			for _, j := range g.Adj[i] {
				want += len(nw.Nodes[j].Services)
			}
			have := 0
			if err := nd.Store.ForEachPartnerService(ctx, func(*directory.PartnerService) error { have++; return nil }); err != nil {
				return err
			}
			if have < want {
				left = append(left, i)
			}
		}
		todo = left
		if len(todo) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sim: %d nodes still lack partners' services (node %d first)", len(todo), todo[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
	// And the queues drained (the last Accepts).
	for {
		q, err := nw.Queued(ctx)
		if err != nil {
			return err
		}
		if q == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sim: %d deliveries still queued", q)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Change edits one service of n (its French name) and returns when every
// host in partners has accepted the Update in its inbox: the time from the
// edit to each partner, and the last.
func (nw *Network) Change(ctx context.Context, n *Node, svc string, partners []*Node, timeout time.Duration) ([]time.Duration, error) {
	uri := n.Base + "/services/" + svc
	w := &waiter{want: map[string]bool{}, at: map[string]time.Time{}, done: make(chan struct{})}
	for _, p := range partners {
		w.want[p.Host] = true
	}
	s, err := n.Catalog.Service(ctx, svc)
	if err != nil {
		return nil, err
	}
	s.Name[directory.FR] = strings.TrimRight(s.Name[directory.FR], "*") + "*"
	if len(s.Name[directory.FR]) > 150 {
		s.Name[directory.FR] = strings.TrimRight(s.Name[directory.FR], "*")
	}
	t0 := time.Now()
	w.since = t0
	nw.wmu.Lock()
	nw.waiters[uri] = w
	nw.wmu.Unlock()
	defer func() {
		nw.wmu.Lock()
		delete(nw.waiters, uri)
		nw.wmu.Unlock()
	}()
	if len(partners) == 0 {
		w.closed = true
		close(w.done)
	}
	if _, err := n.Catalog.UpdateService(ctx, s); err != nil {
		return nil, err
	}
	select {
	case <-w.done:
	case <-time.After(timeout):
		nw.wmu.Lock()
		got := len(w.at)
		nw.wmu.Unlock()
		return nil, fmt.Errorf("sim: change reached %d of %d partners in %s", got, len(partners), timeout)
	}
	nw.wmu.Lock()
	defer nw.wmu.Unlock()
	out := make([]time.Duration, 0, len(w.at))
	for _, at := range w.at {
		out = append(out, at.Sub(t0))
	}
	// Check that each partner holds the new version.
	for _, p := range partners {
		ps, err := p.Store.PartnerService(ctx, uri)
		if err != nil {
			return nil, fmt.Errorf("sim: %s lacks %s after the change: %w", p.Host, uri, err)
		}
		if ps.Service.Name[directory.FR] != s.Name[directory.FR] {
			return nil, fmt.Errorf("sim: %s holds %q, want %q", p.Host, ps.Service.Name[directory.FR], s.Name[directory.FR])
		}
	}
	return out, nil
}

// openStore opens a node's store: in memory, or on disk under
// SIM_DISK when that names a directory (to compare with the store a node
// runs on).
func (nw *Network) openStore() (*store.Store, error) {
	dir := os.Getenv("SIM_DISK")
	if dir == "" {
		return store.OpenMemory(store.Options{})
	}
	d, err := os.MkdirTemp(dir, "node-")
	if err != nil {
		return nil, err
	}
	key := make([]byte, store.KeySize)
	rand.Read(key)
	return store.Open(d, key, store.Options{MinFree: -1})
}
