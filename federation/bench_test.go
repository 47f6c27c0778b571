package federation_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
)

// BenchmarkFanOut measures one service update reaching 1,000 follower
// inboxes on loopback (90 live servers of 10 inboxes, 10 dead servers that
// accept connections and never answer): the time until every live inbox
// has it. Run: go test -run '^$' -bench FanOut -benchtime 1x ./federation/
func BenchmarkFanOut(b *testing.B) {
	b.Run("10%-dead", func(b *testing.B) { benchFanOut(b, 90, 10) })
	b.Run("none-dead", func(b *testing.B) { benchFanOut(b, 90, 0) })
}

func benchFanOut(b *testing.B, liveHosts, deadHosts int) {
	const perHost = 10
	n := nodetest.Start(b, 1, nodetest.Options{})[0]
	token := n.AdminToken()
	var got atomic.Int64
	release := make(chan struct{})
	var servers []*httptest.Server
	serve := func(ip string, h http.HandlerFunc) *httptest.Server {
		ln, err := net.Listen("tcp", ip+":0")
		if err != nil {
			b.Fatal(err)
		}
		s := httptest.NewUnstartedServer(h)
		s.Listener.Close()
		s.Listener = ln
		s.Start()
		servers = append(servers, s)
		return s
	}
	live := func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}
	dead := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	ctx := context.Background()
	st := n.Node().Store
	add := func(s *httptest.Server, i int) {
		actor := fmt.Sprintf("%s/users/%d", s.URL, i)
		r := &federation.Relation{ID: directory.NewID(), Actor: actor, Kind: federation.KindSubscriber,
			Inbox: actor + "/inbox", Theirs: federation.StateAccepted}
		if err := st.PutRelation(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	for h := range liveHosts + deadHosts {
		ip := fmt.Sprintf("127.0.1.%d", h+1)
		var s *httptest.Server
		if h < liveHosts {
			s = serve(ip, live)
		} else {
			s = serve(ip, dead)
		}
		for i := range perHost {
			add(s, i)
		}
	}
	defer func() {
		close(release)
		for _, s := range servers {
			s.Close()
		}
	}()
	want := int64(liveHosts * perHost)
	var times []time.Duration
	b.ResetTimer()
	for i := range b.N {
		got.Store(0)
		t0 := time.Now()
		resp := n.Do("POST", "/api/v1/services", token, fmt.Sprintf(`{"name": "Annonce %d", "status": "active"}`, i))
		if resp.Status != 201 {
			b.Fatalf("create: %d %s", resp.Status, resp.Body)
		}
		for got.Load() < want {
			if time.Since(t0) > 2*time.Minute {
				b.Fatalf("only %d of %d live inboxes reached", got.Load(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
		times = append(times, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(times[len(times)/2].Seconds(), "s-to-all-live")
	b.ReportMetric(float64(want), "live-inboxes")
}

// BenchmarkInbox measures signed activities received by a node, verified,
// applied durably and acknowledged, sent by 64 concurrent clients. The
// activities (a partner's service updates) are signed before the timer.
// Run: go test -run '^$' -bench Inbox -benchtime 2000x ./federation/
func BenchmarkInbox(b *testing.B) {
	nodes := nodetest.Start(b, 2, nodetest.Options{Configure: func(c *node.Config) { c.InboxRate, c.InboxBurst = 1e6, 1e6 }})
	a, recv := nodes[0], nodes[1]
	ta, tr := a.AdminToken(), recv.AdminToken()
	partner(b, a, recv, ta, tr)
	key, err := a.Node().Store.Secret(context.Background(), "actor-rsa")
	if err != nil {
		b.Fatal(err)
	}
	priv, err := federation.ParsePrivateKey(key)
	if err != nil {
		b.Fatal(err)
	}
	signer := &federation.Signer{Key: priv, KeyID: a.URL + "/actor#main-key", Now: time.Now}
	// Requests are signed and serialised beforehand, and sent over
	// keep-alive connections as raw bytes, responses read with a minimal
	// parser: the load generator shares the node's two cores, so it must
	// cost as little as a sender on another machine would cost here.
	raw := make([][]byte, b.N)
	for i := range b.N {
		body := []byte(fmt.Sprintf(`{"id": "%[1]s/activities/bench-%[2]d", "type": "Update", "actor": "%[1]s/actor",
		  "object": {"id": "%[1]s/services/00000000-0000-4000-8000-%012[2]d", "type": "Page", "attributedTo": "%[1]s/actor",
		  "name": "Service %[2]d", "url": "%[1]s/services/x", "hsds": {"name": "Service %[2]d", "status": "active", "last_modified": "2026-01-01T00:00:00Z"}}}`, a.URL, i))
		req, _ := http.NewRequest("POST", recv.URL+"/inbox", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/activity+json")
		if err := signer.Sign(req, body); err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if err := req.Write(&buf); err != nil {
			b.Fatal(err)
		}
		raw[i] = buf.Bytes()
	}
	const conns = 64
	var next atomic.Int64
	var failed atomic.Int64
	cpu0 := cpuTime()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", recv.Addr)
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if _, err := c.Write(raw[i]); err != nil {
					b.Error(err)
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Error(err)
					return
				}
				if resp.StatusCode != http.StatusAccepted {
					failed.Add(1)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	// Cores busy during the run, sender and receiver together: below 2,
	// the node waits on something other than the processor.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/b.Elapsed().Seconds(), "cores")
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d activities not accepted", f, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "activities/s")
	if n := len(replica(b, recv)); b.N <= 500 && n != b.N {
		b.Errorf("replica holds %d services, want %d", n, b.N)
	}
}

// cpuTime is the processor time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
