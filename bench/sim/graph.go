package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Graph is an undirected partnership graph: each edge becomes a mutual
// follow, Edges[i][0] asking first.
type Graph struct {
	N     int
	Edges [][2]int
	Adj   [][]int
	Hubs  []int // the designated hubs' node indexes, largest first
}

// Degree is the number of partners of node i.
func (g *Graph) Degree(i int) int { return len(g.Adj[i]) }

// NewGraph draws a partnership graph of n nodes with mean degree close to
// mean: designated hubs first (node k has hubs[k] partners drawn
// uniformly), then every other node joins in turn and partners with about
// mean/2 earlier nodes chosen with probability proportional to their
// degree plus one (preferential attachment, which grows a few more
// well-connected nodes), the count per node set so that the mean degree
// comes out at mean, hubs included. Hubs keep exactly their counts.
func NewGraph(n int, mean float64, hubs []int, seed uint64) (*Graph, error) {
	r := rand.New(rand.NewPCG(seed, seed^0xdeadbeef))
	g := &Graph{N: n, Adj: make([][]int, n)}
	has := map[[2]int]bool{}
	link := func(a, b int) bool {
		if a == b {
			return false
		}
		k := [2]int{min(a, b), max(a, b)}
		if has[k] {
			return false
		}
		has[k] = true
		g.Edges = append(g.Edges, [2]int{a, b})
		g.Adj[a] = append(g.Adj[a], b)
		g.Adj[b] = append(g.Adj[b], a)
		return true
	}
	hubEdges := 0
	for h, d := range hubs {
		if h >= n || d >= n {
			return nil, fmt.Errorf("sim: hub of %d partners in a network of %d", d, n)
		}
		g.Hubs = append(g.Hubs, h)
		for g.Degree(h) < d {
			j := len(hubs) + r.IntN(n-len(hubs))
			if link(h, j) {
				hubEdges++
			}
		}
	}
	// Preferential attachment among the others: node i links to m earlier
	// nodes (hubs included), m drawn so that the edges total mean*n/2.
	target := mean * float64(n) / 2
	perNode := (target - float64(hubEdges)) / float64(max(1, n-len(hubs)))
	if perNode < 1 {
		perNode = 1
	}
	// ends lists each ordinary node once per edge end plus once: drawing
	// from it is drawing in proportion to degree+1. Designated hubs are
	// left out, so that they keep exactly their partner counts.
	var ends []int
	for i := len(hubs); i < n; i++ {
		m := int(perNode)
		if r.Float64() < perNode-float64(m) {
			m++
		}
		for tries := 0; m > 0 && tries < 50*m && i > 0; tries++ {
			var j int
			if len(ends) == 0 {
				j = len(hubs) + r.IntN(max(1, i-len(hubs)))
			} else {
				j = ends[r.IntN(len(ends))]
			}
			if j >= i || j < len(hubs) || !link(i, j) {
				continue
			}
			m--
			ends = append(ends, j)
		}
		ends = append(ends, i)
		for _, j := range g.Adj[i] {
			if j >= len(hubs) {
				ends = append(ends, i)
			}
		}
	}
	// Nobody alone.
	for i := len(hubs); i < n; i++ {
		for g.Degree(i) == 0 && n > len(hubs)+1 {
			link(i, len(hubs)+r.IntN(n-len(hubs)))
		}
	}
	return g, nil
}

// Stats describes the degrees.
type Stats struct {
	Mean           float64
	Median, Max    int
	Over100, Under int // nodes with 100 partners or more; with fewer than 3
}

// Stats returns the graph's degree statistics.
func (g *Graph) Stats() Stats {
	ds := make([]int, g.N)
	sum := 0
	var s Stats
	for i := range g.N {
		ds[i] = g.Degree(i)
		sum += ds[i]
		if ds[i] >= 100 {
			s.Over100++
		}
		if ds[i] < 3 {
			s.Under++
		}
	}
	slices.Sort(ds)
	s.Mean = float64(sum) / float64(g.N)
	s.Median = ds[g.N/2]
	s.Max = ds[g.N-1]
	return s
}
