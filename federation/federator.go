package federation

import (
	"context"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/maillage/maillage/directory"
)

// Options configure a Federator.
type Options struct {
	BaseURL string // the node's base URL, e.g. https://maison.example.be
	Handle  string
	Key     *rsa.PrivateKey
	// SealingKey is the public HPKE key (ML-KEM-768+X25519) published in
	// the actor for sealed referrals; may be nil.
	SealingKey []byte
	Catalog    *directory.Catalog
	// Referrals, when set, receives the referral activities; without it
	// they are refused.
	Referrals Referrals
	Store     Store
	Logger    *slog.Logger
	Now       func() time.Time
	// AllowPrivate lets the node reach loopback and private addresses
	// (tests, closed networks).
	AllowPrivate bool
	// SignatureWindow bounds the Date of signed requests (default 1 h).
	SignatureWindow time.Duration
	// EndGrace is how long a former partner's services stay in the replica
	// after the partnership ends (default 7 days).
	EndGrace time.Duration
	// InboxRate and InboxBurst limit activities per remote host (default
	// 50/s, burst 200).
	InboxRate  float64
	InboxBurst int
	// NeedsEvery is how often the unmet-need counts are sent to partners
	// when they changed (default 10 minutes).
	NeedsEvery time.Duration
	// FirstRetry is the wait before a failed delivery's first retry; it
	// doubles with each failure, up to 12 h, and a host's breaker stays
	// open four times as long (default 30 s).
	FirstRetry time.Duration
	// Version is the software's version, reported in NodeInfo (default
	// "dev").
	Version string
	Metrics *Metrics
	// Transport, when set, carries every outgoing request (signed as
	// always) instead of the network: the in-process network of the
	// simulation (bench/sim). Nil in a node.
	Transport http.RoundTripper
}

// Federator is the node's ActivityPub side.
type Federator struct {
	o        Options
	base     string
	actorID  string
	keyID    string
	host     string
	client   *Client
	verifier *Verifier
	keys     *keyCache
	limits   *hostLimits
	queue    *Queue
	log      *slog.Logger
	now      func() time.Time

	// relMu serialises every read-modify-write of relations: a peer's
	// Accept and Follow may arrive at once, and neither change may be lost.
	relMu sync.Mutex
	// relCache holds relations read on the inbox's hot path; every write
	// of a relation goes through saveRelation or removeRelation, which
	// bump relGen so that a read racing a write never caches the old value.
	cacheMu  sync.Mutex
	relCache map[string]*Relation
	relGen   uint64
	// blocked mirrors the stored blocklist, read on every inbox request.
	blocked map[string]bool

	// backfills run in goroutines owned by Run.
	mu sync.Mutex
	// syncing holds the partners whose services are being copied
	// (syncPartner), backfilling a slot for each copy running.
	syncing     map[string]bool
	backfilling chan struct{}
	// needsSent is what PublishNeeds last sent (counts and inboxes).
	needsSent []byte
	// statsSent is what PublishStats last sent (report and inboxes) and
	// statsSentAt when, statsAt the time of the last report or withdrawal
	// sent, statsOwn this month's report (OwnStats) and statsOwnTo the
	// month it was made in.
	statsSent   []byte
	statsSentAt time.Time
	statsAt     time.Time
	statsOwn    *StatsReport
	statsOwnTo  time.Time
	runCtx      context.Context
	wg          sync.WaitGroup
}

// New returns a Federator.
func New(o Options) (*Federator, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SignatureWindow == 0 {
		o.SignatureWindow = time.Hour
	}
	if o.EndGrace == 0 {
		o.EndGrace = 7 * 24 * time.Hour
	}
	if o.InboxRate == 0 {
		o.InboxRate, o.InboxBurst = 50, 200
	}
	if o.NeedsEvery <= 0 {
		o.NeedsEvery = 10 * time.Minute
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.FirstRetry <= 0 {
		o.FirstRetry = 30 * time.Second
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("federation: base URL %q", o.BaseURL)
	}
	f := &Federator{o: o, base: strings.TrimSuffix(o.BaseURL, "/"), host: u.Host, log: o.Logger, now: o.Now}
	f.actorID = f.base + "/actor"
	f.keyID = f.actorID + "#main-key"
	signer := &Signer{Key: o.Key, KeyID: f.keyID, Now: o.Now}
	f.client = NewClient(ClientOptions{Signer: signer, AllowPrivate: o.AllowPrivate, Now: o.Now, Transport: o.Transport})
	f.keys = &keyCache{client: f.client}
	f.verifier = &Verifier{Keys: f.keys, Window: o.SignatureWindow, Now: o.Now}
	f.limits = newHostLimits(o.InboxRate, o.InboxBurst)
	f.relCache = map[string]*Relation{}
	f.syncing, f.backfilling = map[string]bool{}, make(chan struct{}, backfills)
	f.blocked = map[string]bool{}
	if o.Store == nil {
		return nil, fmt.Errorf("federation: no store")
	}
	hosts, err := o.Store.BlockedHosts(context.Background())
	if err != nil {
		return nil, err
	}
	for _, h := range hosts {
		f.blocked[h] = true
	}
	f.queue = newQueue(f)
	return f, nil
}

// ActorID is the node's actor IRI.
func (f *Federator) ActorID() string { return f.actorID }

// Run delivers queued activities and does periodic upkeep until ctx is
// done, then waits for its goroutines.
func (f *Federator) Run(ctx context.Context) {
	f.mu.Lock()
	f.runCtx = ctx
	f.mu.Unlock()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.queue.run(ctx)
	}()
	f.resumeBackfills(ctx)
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	needs := time.NewTicker(f.o.NeedsEvery)
	defer needs.Stop()
	for {
		select {
		case <-ctx.Done():
			f.wg.Wait()
			return
		case <-tick.C:
			f.sweepEnded(ctx)
		case <-needs.C:
			if _, err := f.PublishNeeds(ctx); err != nil && ctx.Err() == nil {
				f.o.Logger.Error("publish unmet needs", "err", err)
			}
			if _, err := f.PublishStats(ctx); err != nil && ctx.Err() == nil {
				f.o.Logger.Error("publish shared statistics", "err", err)
			}
		}
	}
}

// spawn runs fn in a goroutine owned by Run, or not at all if Run has not
// started or has stopped.
func (f *Federator) spawn(fn func(ctx context.Context)) {
	f.mu.Lock()
	ctx := f.runCtx
	f.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		fn(ctx)
	}()
}

func (f *Federator) serviceURI(id string) string { return f.base + "/services/" + id }

func hostOf(iri string) string {
	u, err := url.Parse(iri)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// saveRelation stores r and drops its cached copy. A relation that is no
// partnership (any more) takes the statistics its actor shared with it.
func (f *Federator) saveRelation(ctx context.Context, r *Relation) error {
	defer f.forget(r.Actor)
	if err := f.o.Store.PutRelation(ctx, r); err != nil {
		return err
	}
	if !r.IsPartner() {
		return f.o.Store.DeletePartnerStats(ctx, r.Actor)
	}
	return nil
}

// removeRelation deletes the relation with actor, and the statistics it
// shared.
func (f *Federator) removeRelation(ctx context.Context, actor string) error {
	defer f.forget(actor)
	if err := f.o.Store.DeleteRelation(ctx, actor); err != nil {
		return err
	}
	return f.o.Store.DeletePartnerStats(ctx, actor)
}

func (f *Federator) forget(actor string) {
	f.cacheMu.Lock()
	defer f.cacheMu.Unlock()
	delete(f.relCache, actor)
	f.relGen++
}

// cachedRelation returns a read-only copy of the relation with actor.
func (f *Federator) cachedRelation(ctx context.Context, actor string) (*Relation, error) {
	f.cacheMu.Lock()
	r, ok := f.relCache[actor]
	gen := f.relGen
	f.cacheMu.Unlock()
	if ok {
		return r, nil
	}
	r, err := f.o.Store.Relation(ctx, actor)
	if err != nil {
		return nil, err
	}
	f.cacheMu.Lock()
	if f.relGen == gen { // no write since the read began
		if len(f.relCache) > 10_000 {
			clear(f.relCache)
		}
		f.relCache[actor] = r
	}
	f.cacheMu.Unlock()
	return r, nil
}

// isBlocked reports whether host is on the blocklist.
func (f *Federator) isBlocked(host string) bool {
	f.cacheMu.Lock()
	defer f.cacheMu.Unlock()
	return f.blocked[host]
}
