package sim

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/maillage/maillage/federation"
)

// Config is one simulated network.
type Config struct {
	Nodes      int     // number of associations
	Services   int     // services each (default 20)
	MeanDegree float64 // mean number of partners (default 8)
	// Hubs are the partner counts of the designated hubs (default
	// DefaultHubs(Nodes)).
	Hubs []int
	// Changes is how many service edits, each at a random node that is
	// not a designated hub, are timed until every partner holds them
	// (default 50); HubChanges how many at the largest hub (default 3).
	Changes    int
	HubChanges int
	Seed       uint64
	Keys       *KeyPool // default NewKeyPool(DefaultKeyFile())
}

// DefaultHubs are three hubs of 300, 150 and 100 partners, scaled down
// for networks under 1,000 nodes (30%, 15% and 10% of the nodes).
func DefaultHubs(nodes int) []int {
	return []int{min(300, nodes*3/10), min(150, nodes*15/100), min(100, nodes/10)}
}

// Result holds what Run measured.
type Result struct {
	Config Config
	Graph  Stats

	Setup, Build   time.Duration // nodes made (services included); partnerships made and backfilled
	BuildPosts     int64         // inbox POSTs accepted while building
	BuildGets      int64         // signed GETs while building (actors, outboxes)
	HeapPerNode    float64       // bytes of live heap per node, after GC, network built and idle
	RSSPerNode     float64       // bytes of resident memory per node
	GoroutinesNode float64       // goroutines per node
	IdleCPUPerNode time.Duration // processor time per node per second, idle

	ChangeP50, ChangeP99, ChangeMax time.Duration // edit → every partner holds it
	PartnerP50, PartnerP99          time.Duration // edit → one partner holds it
	DeliveriesPerChange             float64       // inbox POSTs accepted per change
	PartnersPerChange               float64       // partners of the changed nodes, mean
	RefusedDuringChanges            int64         // inbox POSTs refused (would be retried)
	CPUPerDelivery                  time.Duration // processor time per delivered activity, whole process

	HubPartners              int
	HubFanOut                []time.Duration // edit at the hub → all its partners hold it
	HubAllocPerFanOut        float64         // bytes allocated by the process during one fan-out
	HubPeakHeapOver          float64         // peak live heap above the idle network during a fan-out
	HubPeakQueued            int             // largest number of the hub's deliveries queued at once
	HubCPUPerDelivery        time.Duration
	DiscoveredViaOrdinary    int // associations a new node finds after partnering with one ordinary node
	OrdinaryPartners         int // that node's partners
	DiscoveredViaHub         int // … after partnering with the largest hub
	DiscoveryTime            time.Duration
	DiscoveryTimeHub         time.Duration
	TotalWall, TotalCPU      time.Duration
	PostsTotal, RefusedTotal int64
	Duplicates               int64 // POSTs of an activity already delivered to that inbox
}

// Run builds the network described by cfg, measures it and closes it.
// Progress lines go to log (nil: none).
func Run(ctx context.Context, cfg Config, log io.Writer) (*Result, error) {
	if log == nil {
		log = io.Discard
	}
	if cfg.Services == 0 {
		cfg.Services = 20
	}
	if cfg.MeanDegree == 0 {
		cfg.MeanDegree = 8
	}
	if cfg.Hubs == nil {
		cfg.Hubs = DefaultHubs(cfg.Nodes)
	}
	if cfg.Changes == 0 {
		cfg.Changes = 50
	}
	if cfg.HubChanges == 0 {
		cfg.HubChanges = 3
	}
	if cfg.Keys == nil {
		cfg.Keys = NewKeyPool(DefaultKeyFile())
	}
	if cfg.Nodes < 10 {
		return nil, fmt.Errorf("sim: at least 10 nodes")
	}
	res := &Result{Config: cfg}
	start, cpuStart := time.Now(), cpuTime()
	logf := func(format string, a ...any) {
		fmt.Fprintf(log, "[%6.1fs] ", time.Since(start).Seconds())
		fmt.Fprintf(log, format+"\n", a...)
	}
	if err := cfg.Keys.Ensure(cfg.Nodes+2, runtime.GOMAXPROCS(0)); err != nil {
		return nil, err
	}
	g, err := NewGraph(cfg.Nodes, cfg.MeanDegree, cfg.Hubs, cfg.Seed+1)
	if err != nil {
		return nil, err
	}
	res.Graph = g.Stats()
	logf("graph: %d nodes, %d partnerships, mean degree %.2f, median %d, max %d, %d nodes with 100+ partners",
		g.N, len(g.Edges), res.Graph.Mean, res.Graph.Median, res.Graph.Max, res.Graph.Over100)

	heap0, rss0, gor0 := memNow()
	nw := NewNetwork(cfg.Keys)
	defer nw.Close()
	t := time.Now()
	for i := range cfg.Nodes {
		if _, err := nw.AddNode(cfg.Services, cfg.Seed*1_000_003+uint64(i)); err != nil {
			return nil, err
		}
	}
	res.Setup = time.Since(t)
	logf("%d nodes with %d services each made in %s", cfg.Nodes, cfg.Services, res.Setup.Round(time.Millisecond))

	t = time.Now()
	if err := nw.Build(ctx, g, 10*time.Minute); err != nil {
		return nil, err
	}
	res.Build = time.Since(t)
	res.BuildPosts, res.BuildGets = nw.Transport.Posts.Load(), nw.Transport.Gets.Load()
	logf("partnerships made over the protocol and backfilled in %s (%d inbox POSTs, %d GETs)",
		res.Build.Round(time.Millisecond), res.BuildPosts, res.BuildGets)

	time.Sleep(time.Second) // let the last backfills' garbage go
	heap1, rss1, gor1 := memNow()
	n := float64(cfg.Nodes)
	res.HeapPerNode = float64(int64(heap1)-int64(heap0)) / n
	res.RSSPerNode = float64(int64(rss1)-int64(rss0)) / n
	res.GoroutinesNode = float64(gor1-gor0) / n
	c0 := cpuTime()
	time.Sleep(3 * time.Second)
	res.IdleCPUPerNode = time.Duration(float64(cpuTime()-c0) / 3 / n)
	logf("idle network: heap %.0f KB per node, RSS %.0f KB per node, %.1f goroutines per node, idle CPU %s per node per second",
		res.HeapPerNode/1024, res.RSSPerNode/1024, res.GoroutinesNode, res.IdleCPUPerNode)

	// Changes at ordinary nodes.
	r := rand.New(rand.NewPCG(cfg.Seed+7, 3))
	isHub := map[int]bool{}
	for _, h := range g.Hubs {
		isHub[h] = true
	}
	var lasts, each []time.Duration
	posts0, refused0, dups0 := nw.Transport.Posts.Load(), nw.Transport.Refused.Load(), nw.Duplicates()
	types0 := nw.ByType()
	c0 = cpuTime()
	partnersSum := 0
	for range cfg.Changes {
		i := r.IntN(cfg.Nodes)
		for isHub[i] {
			i = r.IntN(cfg.Nodes)
		}
		nd := nw.Nodes[i]
		var partners []*Node
		for _, j := range g.Adj[i] {
			partners = append(partners, nw.Nodes[j])
		}
		partnersSum += len(partners)
		ts, err := nw.Change(ctx, nd, nd.Services[r.IntN(len(nd.Services))], partners, time.Minute)
		if err != nil {
			return nil, err
		}
		slices.Sort(ts)
		if len(ts) > 0 {
			lasts = append(lasts, ts[len(ts)-1])
		}
		each = append(each, ts...)
	}
	cpu := cpuTime() - c0
	posts := nw.Transport.Posts.Load() - posts0
	res.RefusedDuringChanges = nw.Transport.Refused.Load() - refused0
	for k, v := range nw.ByType() {
		if d := v - types0[k]; d > 0 {
			logf("  during the changes: %d %s, %d of them an activity already delivered there", d, k, nw.Duplicates()-dups0)
		}
	}
	res.ChangeP50, res.ChangeP99, res.ChangeMax = pct(lasts, 50), pct(lasts, 99), pct(lasts, 100)
	res.PartnerP50, res.PartnerP99 = pct(each, 50), pct(each, 99)
	res.DeliveriesPerChange = float64(posts) / float64(cfg.Changes)
	res.PartnersPerChange = float64(partnersSum) / float64(cfg.Changes)
	if posts > 0 {
		res.CPUPerDelivery = cpu / time.Duration(posts)
	}
	logf("%d changes at ordinary nodes: to every partner p50 %s, p99 %s, max %s; to one partner p50 %s, p99 %s; %.1f deliveries per change (%.1f partners), %d refused; CPU %s per delivery",
		cfg.Changes, ms(res.ChangeP50), ms(res.ChangeP99), ms(res.ChangeMax), ms(res.PartnerP50), ms(res.PartnerP99),
		res.DeliveriesPerChange, res.PartnersPerChange, res.RefusedDuringChanges, res.CPUPerDelivery.Round(time.Microsecond))

	// Fan-out from the largest hub.
	if len(g.Hubs) > 0 {
		h := nw.Nodes[g.Hubs[0]]
		var partners []*Node
		for _, j := range g.Adj[h.Index] {
			partners = append(partners, nw.Nodes[j])
		}
		res.HubPartners = len(partners)
		var alloc uint64
		var peak uint64
		var peakQ int
		posts0 := nw.Transport.Posts.Load()
		c0 := cpuTime()
		for k := range cfg.HubChanges {
			runtime.GC()
			var m0 runtime.MemStats
			runtime.ReadMemStats(&m0)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // sample the heap and the hub's queue
				defer wg.Done()
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						var m runtime.MemStats
						runtime.ReadMemStats(&m)
						if m.HeapAlloc > m0.HeapAlloc && m.HeapAlloc-m0.HeapAlloc > peak {
							peak = m.HeapAlloc - m0.HeapAlloc
						}
						if q, err := h.Store.CountDeliveries(ctx); err == nil && q > peakQ {
							peakQ = q
						}
					}
				}
			}()
			ts, err := nw.Change(ctx, h, h.Services[k%len(h.Services)], partners, 2*time.Minute)
			close(stop)
			wg.Wait()
			if err != nil {
				return nil, err
			}
			var m1 runtime.MemStats
			runtime.ReadMemStats(&m1)
			alloc += m1.TotalAlloc - m0.TotalAlloc
			slices.Sort(ts)
			res.HubFanOut = append(res.HubFanOut, ts[len(ts)-1])
		}
		hp := nw.Transport.Posts.Load() - posts0
		if hp > 0 {
			res.HubCPUPerDelivery = (cpuTime() - c0) / time.Duration(hp)
		}
		res.HubAllocPerFanOut = float64(alloc) / float64(cfg.HubChanges)
		res.HubPeakHeapOver = float64(peak)
		res.HubPeakQueued = peakQ
		logf("hub of %d partners, %d edits: fan-out %s; %.1f MB allocated per fan-out, live heap peak +%.1f MB, at most %d deliveries queued; CPU %s per delivery",
			res.HubPartners, cfg.HubChanges, durs(res.HubFanOut), res.HubAllocPerFanOut/(1<<20), res.HubPeakHeapOver/(1<<20), peakQ, res.HubCPUPerDelivery.Round(time.Microsecond))
	}

	// Partners of partners: a new association partners with one node.
	ordinary := -1
	for i := range cfg.Nodes { // a node of median degree that is not a hub
		if !isHub[i] && g.Degree(i) == res.Graph.Median {
			ordinary = i
			break
		}
	}
	if ordinary >= 0 {
		found, took, err := nw.discover(ctx, cfg, nw.Nodes[ordinary])
		if err != nil {
			return nil, err
		}
		res.DiscoveredViaOrdinary, res.OrdinaryPartners, res.DiscoveryTime = found, g.Degree(ordinary), took
		logf("a new node partnering with one node of %d partners finds %d associations through it (in %s)", g.Degree(ordinary), found, ms(took))
	}
	if len(g.Hubs) > 0 {
		found, took, err := nw.discover(ctx, cfg, nw.Nodes[g.Hubs[0]])
		if err != nil {
			return nil, err
		}
		res.DiscoveredViaHub, res.DiscoveryTimeHub = found, took
		logf("a new node partnering with the hub of %d partners finds %d associations through it (in %s)", g.Degree(g.Hubs[0]), found, ms(took))
	}
	res.TotalWall, res.TotalCPU = time.Since(start), cpuTime()-cpuStart
	res.PostsTotal, res.RefusedTotal = nw.Transport.Posts.Load(), nw.Transport.Refused.Load()
	res.Duplicates = nw.Duplicates()
	logf("done: %d inbox POSTs accepted (%d of them an activity already delivered there), %d refused; %s wall, %s CPU", res.PostsTotal, res.Duplicates, res.RefusedTotal,
		res.TotalWall.Round(time.Millisecond), res.TotalCPU.Round(time.Millisecond))
	return res, nil
}

// discover adds a node, partners it with target over the protocol and
// asks it for the partners of its partners.
func (nw *Network) discover(ctx context.Context, cfg Config, target *Node) (int, time.Duration, error) {
	nd, err := nw.AddNode(cfg.Services, cfg.Seed*7+uint64(len(nw.Nodes)))
	if err != nil {
		return 0, 0, err
	}
	g := &Graph{N: len(nw.Nodes), Adj: make([][]int, len(nw.Nodes)), Edges: [][2]int{{nd.Index, target.Index}}}
	if err := nw.Follow(ctx, nd, target); err != nil {
		return 0, 0, err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		p, err := nw.pending(ctx)
		if err != nil {
			return 0, 0, err
		}
		if p > 0 {
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("sim: the new node's follow did not arrive")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := nw.AcceptPending(ctx); err != nil {
		return 0, 0, err
	}
	g.Adj[nd.Index] = []int{target.Index}
	// Only the newcomer's replica is awaited: the target already holds
	// its other partners' services, and the newcomer's arrive by backfill.
	for {
		rel, err := nd.Store.Relation(ctx, target.Actor())
		if err == nil && rel.IsPartner() {
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("sim: the new node did not become a partner")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t := time.Now()
	found, err := nd.Fed.PartnersOfPartners(ctx)
	if err != nil {
		return 0, 0, err
	}
	took := time.Since(t)
	// Let the partnership's last activities finish before measuring on.
	for {
		q, err := nw.Queued(ctx)
		if err != nil || q == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return countAssociations(found), took, nil
}

func countAssociations(ds []federation.Discovered) int { return len(ds) }

// Print writes the results as a table.
func (r *Result) Print(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "network of %d nodes, %d services each, mean degree %.2f (median %d, max %d, %d nodes with 100+ partners)\n",
		c.Nodes, c.Services, r.Graph.Mean, r.Graph.Median, r.Graph.Max, r.Graph.Over100)
	fmt.Fprintf(w, "  build: nodes %s, partnerships %s (%d POSTs, %d GETs)\n", r.Setup.Round(time.Millisecond), r.Build.Round(time.Millisecond), r.BuildPosts, r.BuildGets)
	fmt.Fprintf(w, "  per node: heap %.0f KB, RSS %.0f KB, %.1f goroutines, idle CPU %s/s\n", r.HeapPerNode/1024, r.RSSPerNode/1024, r.GoroutinesNode, r.IdleCPUPerNode)
	fmt.Fprintf(w, "  change → every partner: p50 %s, p99 %s, max %s (%d changes); → one partner p50 %s, p99 %s\n",
		ms(r.ChangeP50), ms(r.ChangeP99), ms(r.ChangeMax), c.Changes, ms(r.PartnerP50), ms(r.PartnerP99))
	fmt.Fprintf(w, "  deliveries per change %.1f (partners %.1f), refused %d; CPU %s per delivery\n", r.DeliveriesPerChange, r.PartnersPerChange, r.RefusedDuringChanges, r.CPUPerDelivery.Round(time.Microsecond))
	if r.HubPartners > 0 {
		fmt.Fprintf(w, "  hub of %d partners: fan-out %s, %.1f MB allocated per fan-out, heap peak +%.1f MB, queue peak %d, CPU %s per delivery\n",
			r.HubPartners, durs(r.HubFanOut), r.HubAllocPerFanOut/(1<<20), r.HubPeakHeapOver/(1<<20), r.HubPeakQueued, r.HubCPUPerDelivery.Round(time.Microsecond))
	}
	fmt.Fprintf(w, "  partners of partners: %d after one partnership with a node of %d partners, %d with the hub\n", r.DiscoveredViaOrdinary, r.OrdinaryPartners, r.DiscoveredViaHub)
	fmt.Fprintf(w, "  total: %s wall, %s CPU\n", r.TotalWall.Round(time.Millisecond), r.TotalCPU.Round(time.Millisecond))
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

func durs(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, ms(d))
	}
	return strings.Join(parts, ", ")
}

// cpuTime is the processor time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memNow returns the live heap after a collection, the resident set and
// the number of goroutines.
func memNow() (heap, rss uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, residentBytes(), runtime.NumGoroutine()
}

// residentBytes reads VmRSS from /proc (0 elsewhere).
func residentBytes() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
