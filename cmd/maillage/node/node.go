package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/search"
	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/store"
	"github.com/maillage/maillage/web"
	"github.com/maillage/maillage/web/account"
	"github.com/maillage/maillage/web/notify"
)

// Config is how a node runs. Zero values take the defaults.
type Config struct {
	DataDir  string
	Logger   *slog.Logger
	Now      func() time.Time
	TokenTTL time.Duration
	// Params override the argon2id costs of new passwords (tests).
	Params account.Params
	// AllowPrivate lets federation reach loopback and private addresses
	// (tests and closed networks only).
	AllowPrivate bool
	// InboxRate and InboxBurst limit activities per remote host (default
	// 50 a second, burst 200).
	InboxRate  float64
	InboxBurst int
	// Version is the program's version, which NodeInfo reports.
	Version string
	// FirstRetry is the wait before a failed delivery is tried again,
	// doubling with each failure (default 30 s; tests shorten it).
	FirstRetry time.Duration
	// Blocklist lists hosts whose activities are refused, added to the
	// blocklist kept in the store (which admins edit through the API).
	Blocklist []string
	// Serving opens the search index (rebuilt in the background by Run);
	// commands that only read or edit the store leave it off.
	Serving bool
	// Retention says when unanswered referrals expire and when the data
	// of closed ones is erased (default 30 and 180 days); SweepEvery how
	// often that is applied (default hourly).
	Retention  referral.Timing
	SweepEvery time.Duration
	// IndexSaveEvery is how often the search index is written beside the
	// store when it changed (default 10 minutes), besides at every stop.
	IndexSaveEvery time.Duration
	// TileURL is the map tile server of the pages ({z}/{x}/{y} template);
	// empty: maps show markers without a background.
	TileURL string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For gives
	// the client's address (see web.Deps).
	TrustedProxies []netip.Prefix
	// SMTP is the mail server; an empty URL leaves e-mail off (the
	// notifications still show in the app).
	SMTP notify.SMTPConfig
	// ReminderAfter is when the receiving team is reminded of an
	// unanswered referral (default 10 days); ExpiryWarning how long
	// before an unanswered referral expires both sides are warned
	// (default 3 days); ReviewAfter when the admins are asked to review a
	// service not changed since (default 6 months, 182 days).
	ReminderAfter time.Duration
	ExpiryWarning time.Duration
	ReviewAfter   time.Duration
	// Mailer, when set, sends the e-mails instead of SMTP (tests).
	Mailer notify.Mailer
	// NotifyEvery is how often notifications look for work without being
	// woken (default 2 s); MailRetry the wait after a first failed
	// e-mail, doubling (default 1 minute).
	NotifyEvery time.Duration
	MailRetry   time.Duration
}

// Node is an open node: its store and its HTTP handler.
type Node struct {
	ID        Identity
	cfg       Config
	Store     *store.Store
	Catalog   *directory.Catalog
	Accounts  *account.Accounts
	Web       *web.Server
	Metrics   *web.Metrics
	Fed       *federation.Federator
	Search    *search.Index
	Referrals *referral.Service
	// Notify tells staff what concerns them: in the app, and by e-mail
	// when SMTP is configured.
	Notify  *notify.Notifier
	ix      *indexer
	handler http.Handler
}

// Open opens the node in cfg.DataDir.
func Open(cfg Config) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	id, err := readIdentity(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	key, err := store.ReadKey(filepath.Join(cfg.DataDir, keyFile))
	if err != nil {
		return nil, err
	}
	st, err := store.Open(filepath.Join(cfg.DataDir, dbDir), key, store.Options{Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	n, err := build(cfg, id, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	return n, nil
}

func build(cfg Config, id Identity, st *store.Store) (*Node, error) {
	ctx := context.Background()
	seed, err := st.Secret(ctx, secretTokenKey)
	if err != nil {
		return nil, fmt.Errorf("node: read token key: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("node: token key has %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	n := &Node{ID: id, cfg: cfg, Store: st, Metrics: web.NewMetrics()}
	n.Catalog = directory.NewCatalog(st, directory.Options{Now: cfg.Now, ReviewAfter: cfg.ReviewAfter})
	n.Accounts = account.New(st, account.Options{
		Issuer:     id.BaseURL,
		SigningKey: ed25519.NewKeyFromSeed(seed),
		TokenTTL:   cfg.TokenTTL,
		Params:     cfg.Params,
		Now:        cfg.Now,
	})
	actorPEM, err := st.Secret(ctx, secretActorKey)
	if err != nil {
		return nil, fmt.Errorf("node: read actor key: %w", err)
	}
	actorKey, err := federation.ParsePrivateKey(actorPEM)
	if err != nil {
		return nil, err
	}
	seal, err := sealingKey(ctx, st)
	if err != nil {
		return nil, err
	}
	sealPub := seal.PublicKey().Bytes()
	sealRaw, err := seal.Bytes()
	if err != nil {
		return nil, err
	}
	oldSeals, err := oldSealingKeys(ctx, st)
	if err != nil {
		return nil, err
	}
	keys, err := referral.NewKeyring(sealRaw, oldSeals...)
	if err != nil {
		return nil, err
	}
	n.Referrals = &referral.Service{Store: st, Keys: keys, Actor: id.BaseURL + "/actor", Base: id.BaseURL, Now: cfg.Now}
	var fedStore federation.Store = st
	pubs := publishers{}
	if cfg.Serving {
		// The index lives in memory; an earlier version kept it on disk.
		if err := os.RemoveAll(filepath.Join(cfg.DataDir, legacyIndexDir)); err != nil {
			return nil, fmt.Errorf("node: remove the old search index: %w", err)
		}
		n.Search, err = search.New(search.Options{Taxonomy: n.Catalog.Taxonomy(), Now: cfg.Now})
		if err != nil {
			return nil, err
		}
		n.ix = &indexer{idx: n.Search, catalog: n.Catalog, actor: id.BaseURL + "/actor", base: id.BaseURL, log: cfg.Logger,
			rebuilding: true, touched: map[string]bool{}, built: make(chan struct{}),
			path: filepath.Join(cfg.DataDir, indexSnapshot), saveEvery: cfg.IndexSaveEvery,
			pending: map[string]*search.Doc{}, wake: make(chan struct{}, 1),
			name: func() string {
				if o, err := n.Catalog.Organization(context.Background()); err == nil {
					return o.Name.In(directory.FR)
				}
				return ""
			}}
		fedStore = indexedStore{Store: st, ix: n.ix}
		pubs = append(pubs, n.ix)
	}
	fedMetrics := federation.NewMetrics()
	if err := fedMetrics.Register(n.Metrics.Registry); err != nil {
		return nil, err
	}
	n.Fed, err = federation.New(federation.Options{
		BaseURL: id.BaseURL, Handle: id.Handle, Key: actorKey, SealingKey: sealPub,
		Catalog: n.Catalog, Store: fedStore, Logger: cfg.Logger, Now: cfg.Now,
		AllowPrivate: cfg.AllowPrivate, Metrics: fedMetrics, InboxRate: cfg.InboxRate, InboxBurst: cfg.InboxBurst,
		FirstRetry: cfg.FirstRetry, Version: cfg.Version, Referrals: referrals{n},
	})
	if err != nil {
		return nil, err
	}
	for _, host := range cfg.Blocklist {
		if err := n.Fed.Block(ctx, host, true); err != nil {
			return nil, fmt.Errorf("node: blocklist: %w", err)
		}
	}
	n.Catalog.SetPublisher(append(pubs, n.Fed))
	n.Web, err = web.New(web.Deps{
		Network:        n.Fed,
		Referrals:      n,
		Search:         searcher(n.Search, n.ix),
		BaseURL:        id.BaseURL,
		Catalog:        n.Catalog,
		Accounts:       n.Accounts,
		Logger:         cfg.Logger,
		Metrics:        n.Metrics,
		Ready:          n.ready,
		Backup:         st.Backup,
		Now:            cfg.Now,
		SecureCookies:  strings.HasPrefix(id.BaseURL, "https://"),
		TileURL:        cfg.TileURL,
		TrustedProxies: cfg.TrustedProxies,
		Needs:          st,
		Changes:        func() uint64 { return st.Writes() + n.Search.Generation() },
	})
	if err != nil {
		return nil, err
	}
	if n.Notify, err = n.newNotifier(seed); err != nil {
		return nil, err
	}
	n.Web.Notifier = n.Notify
	n.handler = n.Fed.Handler(n.Web, n.Web.Observed)
	return n, nil
}

func (n *Node) ready(ctx context.Context) error {
	_, err := n.Catalog.Organization(ctx)
	return err
}

// Handler is the node's HTTP handler.
func (n *Node) Handler() http.Handler { return n.handler }

// Run runs the node's background work (search index build, delivery
// queue, upkeep) until ctx is done and that work has stopped.
func (n *Node) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if n.ix != nil {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := n.ix.rebuild(ctx, n.Store); err != nil && ctx.Err() == nil {
				n.cfg.Logger.Error("search index", "err", err)
			}
		}()
		go func() {
			defer wg.Done()
			n.ix.run(ctx, n.Store)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Changes of services stored but not queued for partners when
		// the node last stopped.
		switch k, err := n.Catalog.AnnouncePending(ctx); {
		case err != nil && ctx.Err() == nil:
			n.cfg.Logger.Error("service announcements", "err", err)
		case k > 0:
			n.cfg.Logger.Info("service changes announced again", "services", k)
		}
		n.sweepReferrals(ctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		n.Notify.Run(ctx)
	}()
	n.Fed.Run(ctx)
	wg.Wait()
}

// sweepReferrals queues what referrals still owe partners and applies
// the retention rules, at start and then periodically, until ctx ends.
func (n *Node) sweepReferrals(ctx context.Context) {
	every := n.cfg.SweepEvery
	if every <= 0 {
		every = time.Hour
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		// Messages that referrals owe partners go out first: at start,
		// those of a node killed before queueing them.
		switch sent, err := n.sendOwed(ctx); {
		case err != nil && ctx.Err() == nil:
			n.cfg.Logger.Error("referral messages", "err", err)
		case sent > 0:
			n.cfg.Logger.Info("referral messages queued again", "referrals", sent)
		}
		d, err := n.Referrals.Sweep(ctx, n.cfg.Retention)
		switch {
		case err != nil && ctx.Err() == nil:
			n.cfg.Logger.Error("referral retention", "err", err)
		case len(d.Expire)+len(d.Erase) > 0:
			n.cfg.Logger.Info("referral retention", "expired", len(d.Expire), "erased", len(d.Erase))
		}
		if err := n.remind(ctx); err != nil && ctx.Err() == nil {
			n.cfg.Logger.Error("reminders", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// DueReferrals lists what the retention rules ask for now.
func (n *Node) DueReferrals(ctx context.Context) (referral.Due, error) {
	return n.Referrals.DueNow(ctx, n.cfg.Retention)
}

// IndexBuilt is closed once the search index holds every stored service
// (nil when the node does not serve).
func (n *Node) IndexBuilt() <-chan struct{} {
	if n.ix == nil {
		return nil
	}
	return n.ix.built
}

// Backup writes an encrypted online backup of the store to w.
func (n *Node) Backup(ctx context.Context, w io.Writer) error { return n.Store.Backup(ctx, w) }

// Close closes the store. Call it after the HTTP server has drained.
func (n *Node) Close() error { return n.Store.Close() }

// SaveIndex writes the search index beside the store if it changed since
// the last snapshot, for the next start to load instead of rebuilding.
// Call it after Run has returned, just before Close.
func (n *Node) SaveIndex() error {
	if n.ix == nil {
		return nil
	}
	return n.ix.save(n.Store)
}

// searcher keeps a nil index a nil interface, so web can tell it is off,
// and answers search.ErrNotReady until the index holds every service:
// a partial answer would look like a complete one.
func searcher(x *search.Index, ix *indexer) web.Searcher {
	if x == nil {
		return nil
	}
	return readySearcher{x, ix.built}
}

type readySearcher struct {
	*search.Index
	built <-chan struct{}
}

func (r readySearcher) Similar(d search.Doc, n int, minScore float64, l directory.Lang) ([]search.SimilarHit, error) {
	select {
	case <-r.built:
		return r.Index.Similar(d, n, minScore, l)
	default:
		return nil, search.ErrNotReady
	}
}

func (r readySearcher) Coverage() (*search.Coverage, error) {
	select {
	case <-r.built:
		return r.Index.Coverage(), nil
	default:
		return nil, search.ErrNotReady
	}
}

func (r readySearcher) Search(q search.Query) (*search.Result, error) {
	select {
	case <-r.built:
		return r.Index.Search(q)
	default:
		return nil, search.ErrNotReady
	}
}
