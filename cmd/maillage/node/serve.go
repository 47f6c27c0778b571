package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maillage/maillage/web"
)

// ServeOptions configure Serve.
type ServeOptions struct {
	Config
	// Listener, when set, is used instead of listening on Listen.
	Listener net.Listener
	Listen   string
	// OnReady is called with the listening address once the node serves.
	OnReady func(addr string)
	// OnOpen is called with the node once it is open (tests).
	OnOpen func(*Node)
	// ShutdownTimeout bounds the drain of in-flight requests (default 15 s).
	ShutdownTimeout time.Duration
	// Init, when set, creates the node in an empty data directory before
	// serving, instead of showing the setup page (containers configured by
	// their environment). It is ignored when the directory holds a node.
	Init *InitParams
}

// Serve runs the node until ctx is done, then drains in-flight requests
// and closes the store. A data directory without a node is created from
// o.Init when it is set; otherwise it is served the first-run setup page
// and the node starts as soon as setup succeeds.
func Serve(ctx context.Context, o ServeOptions) error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 15 * time.Second
	}
	var handler atomic.Pointer[http.Handler]
	var mu sync.Mutex
	var n *Node
	var ctl *http.Server
	// Background work of the node stops before the store closes.
	bgCtx, stopBG := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	defer stopBG()
	o.Serving = true
	start := func() error {
		nn, err := Open(o.Config)
		if err != nil {
			return err
		}
		c, err := serveControl(o.DataDir, nn, o.Logger)
		if err != nil {
			nn.Close()
			return err
		}
		mu.Lock()
		n, ctl = nn, c
		mu.Unlock()
		bg.Add(1)
		go func() {
			defer bg.Done()
			nn.Run(bgCtx)
		}()
		h := http.Handler(nn.Handler())
		handler.Store(&h)
		if o.OnOpen != nil {
			o.OnOpen(nn)
		}
		o.Logger.Info("node started", "url", nn.ID.BaseURL, "handle", nn.ID.Handle)
		return nil
	}

	switch st, err := Inspect(o.DataDir); {
	case err != nil:
		return err
	case st == Foreign:
		return fmt.Errorf("%s is not empty and holds no Maillage node; refusing to use it", o.DataDir)
	case st == Ours:
		if err := start(); err != nil {
			return err
		}
	case o.Init != nil:
		p := *o.Init
		p.Now, p.Logger, p.Params = o.Now, o.Logger, o.Params
		if err := Init(ctx, o.DataDir, p); err != nil {
			return err
		}
		o.Logger.Info("node created from the configuration", "url", p.BaseURL, "handle", p.Handle)
		o.Logger.Warn("keep a copy of the store key in a safe place: backups cannot be read without it", "path", filepath.Join(o.DataDir, keyFile))
		if err := start(); err != nil {
			return err
		}
	default:
		code := newSetupCode()
		var once sync.Mutex
		setup, err := web.NewSetup(code, func(ctx context.Context, r web.SetupRequest) error {
			once.Lock()
			defer once.Unlock()
			if st, _ := Inspect(o.DataDir); st == Ours {
				return errors.New("already set up")
			}
			err := Init(ctx, o.DataDir, InitParams{BaseURL: r.URL, Name: r.Name, Handle: r.Handle,
				AdminEmail: r.Email, AdminPassword: r.Password, Now: o.Now, Logger: o.Logger, Params: o.Params})
			if err != nil {
				return err
			}
			return start()
		}, o.Logger)
		if err != nil {
			return err
		}
		h := http.Handler(setup)
		handler.Store(&h)
		defer func() { o.Logger.Info("setup page closed") }()
		o.setupHint(code)
	}

	ln := o.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", o.Listen); err != nil {
			return fmt.Errorf("listen on %s: %w", o.Listen, err)
		}
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	fresh := trackFreshConns(srv)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	o.Logger.Info("listening", "addr", ln.Addr().String())
	if o.OnReady != nil {
		o.OnReady(ln.Addr().String())
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	o.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	// Connections opened by peers' pools that never carried a request
	// would hold Shutdown for 5 seconds; nothing is lost by closing them.
	srv.RegisterOnShutdown(fresh.closeAll)
	if err := srv.Shutdown(sctx); err != nil {
		o.Logger.Warn("shutdown did not drain in time", "err", err)
	}
	stopBG()
	bg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if ctl != nil {
		ctl.Shutdown(sctx)
	}
	if n != nil {
		if err := n.SaveIndex(); err != nil {
			o.Logger.Warn("search index not saved; the next start rebuilds it", "err", err)
		}
	}
	if n != nil {
		if err := n.Close(); err != nil {
			return fmt.Errorf("close store: %w", err)
		}
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

func (o ServeOptions) setupHint(code string) {
	host := o.Listen
	if o.Listener != nil {
		host = o.Listener.Addr().String()
	}
	// The code is a one-time secret for whoever runs the server; it is the
	// only secret ever logged, and stops working once setup is done.
	o.Logger.Warn("this node is not set up yet: open the setup page", "url", "http://"+host+"/setup?code="+code)
}

func newSetupCode() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// serveControl listens on the data directory's control socket, reachable
// only by the node's own system user, for commands that need the running
// node (an online backup while Badger holds the directory lock).
func serveControl(dir string, n *Node, log *slog.Logger) (*http.Server, error) {
	path := filepath.Join(dir, controlSock)
	os.Remove(path) // a socket left by a killed process
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		if err := n.Backup(r.Context(), w); err != nil {
			log.Error("backup over control socket failed", "err", err)
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return srv, nil
}

// freshConns tracks connections that have not sent a request yet.
type freshConns struct {
	mu    sync.Mutex
	conns map[net.Conn]bool
}

func trackFreshConns(srv *http.Server) *freshConns {
	f := &freshConns{conns: map[net.Conn]bool{}}
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if st == http.StateNew {
			f.conns[c] = true
		} else {
			delete(f.conns, c)
		}
	}
	return f
}

func (f *freshConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.Close()
	}
}
