package search

import (
	"math"
	mathbits "math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/maillage/maillage/directory"
)

// Coverage is the network's offer as the index knows it: for each
// top-level theme and each Brussels postcode area, how many providers
// and services offer it there. A service is in the area whose postcode
// centre is nearest to one of its points, if within areaKm; the others
// are counted apart (outside). It shows where partners overlap and where
// nobody offers a theme.
type Coverage struct {
	Themes    []string // top-level category codes, in taxonomy order
	Areas     []string // postcodes, in order
	Providers [][]int  // by theme, then area: distinct providers
	Services  [][]int  // by theme, then area
	Outside   int      // services with no point in any area
	Total     int
	// Clusters are groups of likely duplicates; Pairs how many pairs
	// link them.
	Clusters []Cluster
	Pairs    int
	Took     time.Duration
	Computed time.Time
}

// areaKm is how far from a postcode's centre a point still counts in it.
const areaKm = 2.5

// Coverage returns the coverage as of the index's last change. The first
// call builds it from the whole index (seconds at 100,000 services, with
// writes held meanwhile); from then on every put and removal keeps it up
// to date (covState), so a call after a change only copies counts and
// groups the duplicate pairs. Computed says when, Took how long.
func (x *Index) Coverage() *Coverage {
	x.mu.RLock()
	if c := x.coverage; c != nil && x.covGen == x.gen {
		x.mu.RUnlock()
		return c
	}
	if x.cov != nil {
		// The state only changes under the write lock: reading it under
		// the read lock lets searches go on meanwhile.
		gen, c := x.gen, x.coverageNow()
		x.mu.RUnlock()
		x.mu.Lock()
		if x.gen == gen {
			x.coverage, x.covGen = c, gen
		}
		x.mu.Unlock()
		return c
	}
	x.mu.RUnlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	start := time.Now()
	if x.cov == nil {
		x.cov = x.buildCoverage()
	}
	c := x.coverageNow()
	c.Took = time.Since(start)
	x.coverage, x.covGen = c, x.gen
	return c
}

// coverageNow copies the state into a Coverage, timed. Call with a lock
// held.
func (x *Index) coverageNow() *Coverage {
	start := time.Now()
	c := x.cov.snapshot(x)
	c.Took, c.Computed = time.Since(start), x.wall()
	return c
}

// covState is the coverage kept up to date as services come and go:
// services and providers by theme and area, the likely duplicate pairs,
// and what each slot counts in, to take it out again. It is nil until
// Coverage is first asked for, and again after Reset or a load.
type covState struct {
	themes  []string
	areas   []string
	centres [][3]float64

	services  [][]int            // by theme, then area
	providers [][]map[uint32]int // by theme, then area: services by actor
	outside   int
	total     int
	in        []slotCover // by slot

	// Likely duplicates: services are filed by a grid cell of about a
	// kilometre and a leaf theme; a service is compared with those of its
	// cell and the eight around it when it comes, and again when it
	// goes, to count its pairs out.
	grid  map[cellKey][]uint32
	pairs int
	leaf  [3]uint32 // the hot bits of leaf themes
	leafN int       // how many categories leaf was computed for
}

// maxLinks bounds the pairs a service keeps when it comes: enough to hold
// a cluster together, and a bound on memory when a partner publishes
// thousands of look-alikes at one spot (every pair is still counted).
var maxLinks = 16

type cellKey struct{ i, j, cat int }

// slotCover is what one service counts in.
type slotCover struct {
	live   bool
	area   int16  // -1 outside every area
	themes uint32 // bits of covState.themes
	actor  uint32
	names  []uint32 // its name terms, sorted
	sig    uint64   // a bit per name term (id mod 64): no common bit, no common term
	links  []uint32 // look-alikes kept (maxLinks when it came, plus later comers)
}

// buildCoverage builds the state from every service of the index. Call
// with the write lock held.
func (x *Index) buildCoverage() *covState {
	st := &covState{grid: map[cellKey][]uint32{}}
	for _, t := range x.tax.Categories {
		st.themes = append(st.themes, t.Code)
	}
	for code := range postcodes {
		st.areas = append(st.areas, code)
	}
	slices.Sort(st.areas)
	for _, code := range st.areas {
		cx, cy, cz := unit(postcodes[code])
		st.centres = append(st.centres, [3]float64{cx, cy, cz})
	}
	st.services = make([][]int, len(st.themes))
	st.providers = make([][]map[uint32]int, len(st.themes))
	for i := range st.themes {
		st.services[i] = make([]int, len(st.areas))
		st.providers[i] = make([]map[uint32]int, len(st.areas))
	}
	isName := make([]bool, len(x.posts))
	for k, id := range x.terms {
		if strings.HasPrefix(k, kName) {
			isName[id] = true
		}
	}
	// Count every service and file it in the grid, in slot order; then
	// look for the pairs of each with those before it, on every core (the
	// state is only read meanwhile), which finds what adding them one by
	// one would, in the same order.
	var paired []uint32
	it := x.live.Iterator()
	for it.HasNext() {
		slot := it.Next()
		var names []uint32
		for id := range x.slots[slot].terms.all() {
			if isName[id] {
				names = append(names, id)
			}
		}
		if st.count(x, slot, names) {
			paired = append(paired, slot)
			for _, k := range st.cells(x, slot) {
				st.grid[k] = append(st.grid[k], slot)
			}
		}
	}
	pairs := make([]int, len(paired))
	links := make([][]uint32, len(paired))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(paired); i += workers {
				a := paired[i]
				st.lookAlikes(x, a, a, func(b uint32) {
					pairs[i]++
					if len(links[i]) < maxLinks {
						links[i] = append(links[i], b)
					}
				})
			}
		})
	}
	wg.Wait()
	for i, a := range paired {
		st.pairs += pairs[i]
		st.in[a].links = append(st.in[a].links, links[i]...)
		for _, b := range links[i] {
			st.in[b].links = append(st.in[b].links, a)
		}
	}
	return st
}

// nameTerms returns the name terms among a service's terms (keys and ids
// side by side, as put has them).
func nameTerms(keys []string, ids []uint32) []uint32 {
	var out []uint32
	for i, k := range keys {
		if strings.HasPrefix(k, kName) {
			out = append(out, ids[i])
		}
	}
	return out
}

// add counts the service in slot, and pairs it with its look-alikes.
func (st *covState) add(x *Index, slot uint32, names []uint32) {
	if !st.count(x, slot, names) {
		return
	}
	sc := &st.in[slot]
	st.lookAlikes(x, slot, math.MaxUint32, func(b uint32) {
		st.pairs++
		if len(sc.links) < maxLinks {
			sc.links = append(sc.links, b)
			st.in[b].links = append(st.in[b].links, slot)
		}
	})
	for _, k := range st.cells(x, slot) {
		st.grid[k] = append(st.grid[k], slot)
	}
}

// count counts the service in slot by theme and area, and reports
// whether it can have look-alikes (a point and a name).
func (st *covState) count(x *Index, slot uint32, names []uint32) bool {
	for int(slot) >= len(st.in) {
		st.in = append(st.in, slotCover{})
	}
	h := &x.hot[slot]
	sc := &st.in[slot]
	*sc = slotCover{live: true, area: -1, actor: h.actor()}
	st.total++
	if h.Bits&hotNoPoint == 0 {
		const inv = 1.0 / unitScale
		px, py, pz := float64(h.X)*inv, float64(h.Y)*inv, float64(h.Z)*inv
		best := chordOf(areaKm)
		for i, ce := range st.centres {
			dx, dy, dz := px-ce[0], py-ce[1], pz-ce[2]
			if d := dx*dx + dy*dy + dz*dz; d <= best {
				sc.area, best = int16(i), d
			}
		}
	}
	if sc.area < 0 {
		st.outside++
	} else {
		for ti, code := range st.themes {
			if !x.hasCategory(slot, code) {
				continue
			}
			sc.themes |= 1 << ti
			st.services[ti][sc.area]++
			m := st.providers[ti][sc.area]
			if m == nil {
				m = map[uint32]int{}
				st.providers[ti][sc.area] = m
			}
			m[sc.actor]++
		}
	}
	if h.Bits&hotNoPoint != 0 || len(names) == 0 {
		return false
	}
	slices.Sort(names)
	sc.names = names
	for _, id := range names {
		sc.sig |= 1 << (id % 64)
	}
	return true
}

// drop takes the service in slot out of the counts and its pairs. Call
// before the slot is emptied.
func (st *covState) drop(x *Index, slot uint32) {
	if int(slot) >= len(st.in) || !st.in[slot].live {
		return
	}
	sc := &st.in[slot]
	st.total--
	if sc.area < 0 {
		st.outside--
	}
	for ti := range st.themes {
		if sc.themes&(1<<ti) == 0 {
			continue
		}
		st.services[ti][sc.area]--
		m := st.providers[ti][sc.area]
		if m[sc.actor]--; m[sc.actor] == 0 {
			delete(m, sc.actor)
		}
	}
	if sc.names != nil {
		for _, k := range st.cells(x, slot) {
			st.grid[k] = without(st.grid[k], slot)
			if len(st.grid[k]) == 0 {
				delete(st.grid, k)
			}
		}
		st.lookAlikes(x, slot, math.MaxUint32, func(uint32) { st.pairs-- })
		for _, b := range sc.links {
			st.in[b].links = without(st.in[b].links, slot)
		}
	}
	*sc = slotCover{}
}

// cells returns the grid cells a service is filed under: its cell for
// each of its leaf themes.
func (st *covState) cells(x *Index, slot uint32) []cellKey {
	h := &x.hot[slot]
	ci, cj := gridCell(h)
	leaf := st.leafBits(x)
	var out []cellKey
	for w := range h.Cats {
		for bits := h.Cats[w] & leaf[w]; bits != 0; bits &= bits - 1 {
			out = append(out, cellKey{ci, cj, w*32 + mathbits.TrailingZeros32(bits)})
		}
	}
	return out
}

// gridCell returns the grid cell of a service's first point: 0.01° of
// latitude by 0.015° of longitude, about a kilometre square in Brussels.
func gridCell(h *hotSlot) (int, int) {
	const inv = 1.0 / unitScale
	px, py, pz := float64(h.X)*inv, float64(h.Y)*inv, float64(h.Z)*inv
	lat, lon := math.Asin(max(-1, min(1, pz)))*180/math.Pi, math.Atan2(py, px)*180/math.Pi
	return int(math.Floor(lat / 0.01)), int(math.Floor(lon / 0.015))
}

// lookAlikes calls fn with every service of the grid below slot below
// that makes a likely duplicate pair with the one in slot (which must not
// be in the grid, or not below below), each once: under the first leaf
// theme both have. It only reads the state.
func (st *covState) lookAlikes(x *Index, slot, below uint32, fn func(b uint32)) {
	h := &x.hot[slot]
	const inv = 1.0 / unitScale
	px, py, pz := float64(h.X)*inv, float64(h.Y)*inv, float64(h.Z)*inv
	names, sig := st.in[slot].names, st.in[slot].sig
	leaf := st.leafBits(x)
	maxChord := chordOf(clusterKm)
	for _, k := range st.cells(x, slot) {
		for di := -1; di <= 1; di++ {
			for dj := -1; dj <= 1; dj++ {
				for _, b := range st.grid[cellKey{k.i + di, k.j + dj, k.cat}] {
					if b >= below {
						break // cells list slots in increasing order while building
					}
					hb := &x.hot[b]
					first := -1
					for v := range h.Cats {
						if shared := h.Cats[v] & hb.Cats[v] & leaf[v]; shared != 0 {
							first = v*32 + mathbits.TrailingZeros32(shared)
							break
						}
					}
					if first != k.cat || st.in[b].sig&sig == 0 {
						continue
					}
					if c2 := hb.chord2(px, py, pz); c2 <= maxChord && likelyDuplicates(h, hb, names, st.in[b].names, c2) {
						fn(b)
					}
				}
			}
		}
	}
}

// without removes one v from s, not keeping the order.
func without(s []uint32, v uint32) []uint32 {
	if i := slices.Index(s, v); i >= 0 {
		s[i] = s[len(s)-1]
		return s[:len(s)-1]
	}
	return s
}

// leafBits returns the hot bits of leaf themes: a top-level theme is too
// broad to say two services do the same. Category ids never change once
// given, so the bits only grow as categories appear.
func (st *covState) leafBits(x *Index) [3]uint32 {
	if st.leafN != len(x.catCodes) {
		for id := st.leafN; id < len(x.catCodes) && id < hotCats; id++ {
			if t, ok := x.tax.Category(x.catCodes[id]); ok && t.Parent != "" {
				st.leaf[id/32] |= 1 << (id % 32)
			}
		}
		st.leafN = len(x.catCodes)
	}
	return st.leaf
}

// hasCategory reports whether the service in slot has category code:
// from its hot bits, or from the postings beyond hotCats.
func (x *Index) hasCategory(slot uint32, code string) bool {
	id, ok := x.catIDs[code]
	if !ok {
		return false
	}
	if id < hotCats {
		return x.hot[slot].Cats[id/32]&(1<<(id%32)) != 0
	}
	return x.post(kCategory + code).Contains(slot)
}

// likelyDuplicates scores a pair as Similar does, from what the index
// holds per service without reading its summary: themes from the hot
// bits, names from its name terms, and the place factor (c2 is the
// squared chord between them).
func likelyDuplicates(ha, hb *hotSlot, na, nb []uint32, c2 float64) bool {
	inter, union := 0, 0
	for i := range ha.Cats {
		inter += mathbits.OnesCount32(ha.Cats[i] & hb.Cats[i])
		union += mathbits.OnesCount32(ha.Cats[i] | hb.Cats[i])
	}
	theme := float64(inter) / float64(union)
	// Within a kilometre the chord is the distance to a few millimetres.
	factor := farFactor + (1-farFactor)*placeScore(math.Sqrt(c2)*earthKm)
	score := func(common int) float64 {
		name := 2 * float64(common) / float64(len(na)+len(nb))
		return (simTheme*theme + simName*name) / (simTheme + simName) * factor
	}
	// Most candidates are settled by how many name terms they could at
	// best share, before the terms are compared.
	if score(min(len(na), len(nb))) < SimilarThreshold {
		return false
	}
	common := sortedCommon(na, nb)
	return common > 0 && score(common) >= SimilarThreshold
}

// snapshot copies the state into a Coverage, with the clusters of its
// pairs. Call with the lock held.
func (st *covState) snapshot(x *Index) *Coverage {
	c := &Coverage{Themes: st.themes, Areas: st.areas, Outside: st.outside, Total: st.total, Pairs: st.pairs}
	c.Providers = make([][]int, len(st.themes))
	c.Services = make([][]int, len(st.themes))
	for ti := range st.themes {
		c.Services[ti] = slices.Clone(st.services[ti])
		c.Providers[ti] = make([]int, len(st.areas))
		for ai, m := range st.providers[ti] {
			c.Providers[ti][ai] = len(m)
		}
	}
	c.Clusters = x.clusters(st.in)
	return c
}

// Cluster is a group of services that are likely duplicates of one
// another: each is linked to another of the group by a pair scoring at
// least SimilarThreshold. They are shown to the partners concerned,
// never merged.
type Cluster struct {
	URIs      []string
	Names     []string
	Providers []string
}

// clusterKm is how far apart two services of a cluster may be.
const clusterKm = 1.0

// maxClusters bounds what the view lists, the largest first.
const maxClusters = 100

// clusters groups the services linked by likely duplicate pairs, leaving
// out the pairs either side marked complementary: the largest groups
// first, at most maxClusters, each listing at most 20 services.
func (x *Index) clusters(in []slotCover) []Cluster {
	parent := make([]uint32, len(in))
	for i := range parent {
		parent[i] = uint32(i)
	}
	find := func(s uint32) uint32 {
		for parent[s] != s {
			parent[s] = parent[parent[s]]
			s = parent[s]
		}
		return s
	}
	linked := make([]bool, len(in))
	marked := x.post(kComplements)
	for a := range in {
		for _, b := range in[a].links {
			if uint32(a) >= b || (marked.Contains(uint32(a)) || marked.Contains(b)) && x.complementary(uint32(a), b) {
				continue
			}
			linked[a], linked[b] = true, true
			if ra, rb := find(uint32(a)), find(b); ra != rb {
				parent[ra] = rb
			}
		}
	}
	groups := map[uint32][]uint32{}
	for s, ok := range linked {
		if ok {
			r := find(uint32(s))
			groups[r] = append(groups[r], uint32(s))
		}
	}
	var out []Cluster
	for _, members := range groups {
		slices.Sort(members)
		var c Cluster
		for _, s := range members[:min(len(members), 20)] {
			sm := x.summaryOf(x.slots[s])
			c.URIs = append(c.URIs, sm.doc.URI)
			c.Names = append(c.Names, sm.doc.Service.Name.In(directory.FR))
			c.Providers = append(c.Providers, sm.doc.Provider)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Cluster) int {
		if len(a.URIs) != len(b.URIs) {
			return len(b.URIs) - len(a.URIs)
		}
		return strings.Compare(a.URIs[0], b.URIs[0])
	})
	return out[:min(len(out), maxClusters)]
}

// complementary reports whether one of two services says it complements
// the other.
func (x *Index) complementary(a, b uint32) bool {
	return slices.Contains(x.compl[a], x.slots[b].uri) || slices.Contains(x.compl[b], x.slots[a].uri)
}

// sortedCommon counts the values two sorted lists share.
func sortedCommon(a, b []uint32) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return n
}
