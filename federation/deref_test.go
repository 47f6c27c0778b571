package federation

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPublicAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2a00:1450:4001:82a::200e": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "::1": false, "fe80::1": false, "fd00::1": false, "::ffff:127.0.0.1": false,
		"198.18.0.1": false, "224.0.0.1": false,
	} {
		if got := PublicAddress(netip.MustParseAddr(addr)); got != want {
			t.Errorf("PublicAddress(%s) = %v, want %v", addr, got, want)
		}
	}
}

func testSigner(t *testing.T) *Signer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{Key: key, KeyID: "http://127.0.0.1/actor#main-key", Now: time.Now}
}

func TestClientRefusesPrivateAddressesAndLimits(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/big":
			w.Write([]byte(strings.Repeat("x", maxFetchBody+10)))
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		case "/busy":
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			if r.Header.Get("Signature") == "" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Write([]byte(`{"ok": true}`))
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	signer := testSigner(t)

	guarded := NewClient(ClientOptions{Signer: signer})
	if _, err := guarded.Get(ctx, srv.URL+"/", true); err == nil {
		t.Error("a guarded client fetched a loopback address over plain http")
	}
	// Even with TLS allowed, the dial guard refuses loopback.
	if err := guarded.guard("tcp", "127.0.0.1:443", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("guard(127.0.0.1) = %v, want ErrForbiddenAddress", err)
	}
	if err := guarded.guard("tcp", "[::1]:443", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("guard(::1) = %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the guarded client reached the server %d times", n)
	}

	open := NewClient(ClientOptions{Signer: signer, AllowPrivate: true, Timeout: 150 * time.Millisecond})
	if b, err := open.Get(ctx, srv.URL+"/", true); err != nil || string(b) != `{"ok": true}` {
		t.Errorf("signed GET = %q, %v", b, err)
	}
	if _, err := open.Get(ctx, srv.URL+"/big", true); err == nil {
		t.Error("an answer over the size limit was accepted")
	}
	if _, err := open.Get(ctx, srv.URL+"/loop", true); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("redirect loop: %v", err)
	}
	if _, err := open.Get(ctx, srv.URL+"/slow", true); err == nil {
		t.Error("a peer slower than the timeout was waited for")
	}
	var se *StatusError
	if err := open.Post(ctx, srv.URL+"/busy", []byte("{}")); !errors.As(err, &se) || se.RetryAfter != 120*time.Second {
		t.Errorf("Retry-After not read: %v", err)
	}
	// The cache answers without a second request.
	before := hits.Load()
	open.Get(ctx, srv.URL+"/cached", false)
	open.Get(ctx, srv.URL+"/cached", false)
	if n := hits.Load() - before; n != 1 {
		t.Errorf("cached GET reached the server %d times, want 1", n)
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	const firstRetry = 30 * time.Second
	prev := time.Duration(0)
	for i := 1; i <= 8; i++ {
		d := backoff(firstRetry, i)
		if d < time.Duration(float64(firstRetry<<(i-1))*0.8) && d < time.Duration(float64(maxRetry)*0.8) {
			t.Errorf("backoff(%d) = %v, too short", i, d)
		}
		if i > 1 && d < prev/2 {
			t.Errorf("backoff(%d) = %v after %v: not growing", i, d, prev)
		}
		prev = d
	}
	if d := backoff(firstRetry, 40); d > time.Duration(float64(maxRetry)*1.2) {
		t.Errorf("backoff(40) = %v, above the cap", d)
	}
	// Retries span more than three days before giving up.
	if giveUpAfter < 3*24*time.Hour {
		t.Errorf("giveUpAfter = %v, want at least 3 days", giveUpAfter)
	}
}
