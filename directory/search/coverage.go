package search

import (
	"math"
	mathbits "math/bits"
	"slices"
	"strings"
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

// coverageShare bounds the time spent computing coverage while the index
// keeps changing: partners' updates arrive every few hundred milliseconds,
// and a computation at 100,000 services takes seconds. A new one starts
// only when the last is older than coverageShare times what it took (a
// small index is always current; 100,000 services lag 30 s at most).
const coverageShare = 10

// Coverage returns the coverage, computed again when the index changed
// since and the last computation is old enough (Computed says when).
func (x *Index) Coverage() *Coverage {
	x.mu.RLock()
	if c := x.coverage; c != nil && (x.covGen == x.gen || x.wall().Sub(c.Computed) < coverageShare*c.Took) {
		x.mu.RUnlock()
		return c
	}
	gen := x.gen
	c := x.computeCoverage()
	x.mu.RUnlock()
	x.mu.Lock()
	if x.gen == gen {
		x.coverage, x.covGen = c, gen
	}
	x.mu.Unlock()
	return c
}

// computeCoverage reads every service's hot record once: its category
// bits and first point. Call with the read lock held.
func (x *Index) computeCoverage() *Coverage {
	start := time.Now()
	c := &Coverage{}
	for _, t := range x.tax.Categories {
		c.Themes = append(c.Themes, t.Code)
	}
	for code := range postcodes {
		c.Areas = append(c.Areas, code)
	}
	slices.Sort(c.Areas)
	type centre struct{ x, y, z float64 }
	centres := make([]centre, len(c.Areas))
	for i, code := range c.Areas {
		cx, cy, cz := unit(postcodes[code])
		centres[i] = centre{cx, cy, cz}
	}
	maxChord := chordOf(areaKm)
	// The bit of each theme in the hot records (themes beyond hotCats are
	// read from the postings instead).
	themeBit := make([]int, len(c.Themes))
	for i, code := range c.Themes {
		themeBit[i] = -1
		if id, ok := x.catIDs[code]; ok && id < hotCats {
			themeBit[i] = id
		}
	}
	c.Providers = make([][]int, len(c.Themes))
	c.Services = make([][]int, len(c.Themes))
	seen := make([][]map[uint32]bool, len(c.Themes))
	for i := range c.Themes {
		c.Providers[i] = make([]int, len(c.Areas))
		c.Services[i] = make([]int, len(c.Areas))
		seen[i] = make([]map[uint32]bool, len(c.Areas))
	}
	it := x.live.Iterator()
	for it.HasNext() {
		slot := it.Next()
		h := &x.hot[slot]
		c.Total++
		area, best := -1, maxChord
		if h.Bits&hotNoPoint == 0 {
			const inv = 1.0 / unitScale
			px, py, pz := float64(h.X)*inv, float64(h.Y)*inv, float64(h.Z)*inv
			for i, ce := range centres {
				dx, dy, dz := px-ce.x, py-ce.y, pz-ce.z
				if d := dx*dx + dy*dy + dz*dz; d <= best {
					area, best = i, d
				}
			}
		}
		if area < 0 {
			c.Outside++
			continue
		}
		actor := h.actor()
		for ti, bit := range themeBit {
			has := false
			if bit >= 0 {
				has = h.Cats[bit/32]&(1<<(bit%32)) != 0
			} else {
				has = x.post(kCategory + c.Themes[ti]).Contains(slot)
			}
			if !has {
				continue
			}
			c.Services[ti][area]++
			if seen[ti][area] == nil {
				seen[ti][area] = map[uint32]bool{}
			}
			if !seen[ti][area][actor] {
				seen[ti][area][actor] = true
				c.Providers[ti][area]++
			}
		}
	}
	c.Clusters, c.Pairs = x.clusters()
	c.Took, c.Computed = time.Since(start), x.wall()
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

// clusters finds the likely duplicate pairs of the whole index and
// groups them. A pair is scored as Similar does from what the index
// holds per service without reading its summary: themes from the hot
// bits, names from its name terms, and the place factor; pairs are only
// looked for within clusterKm and among services sharing a theme and a
// name term, so that 100,000 services take seconds, not hours. Pairs
// that either side marked complementary are left out. Call with the read
// lock held.
func (x *Index) clusters() ([]Cluster, int) {
	isName := make([]bool, len(x.posts))
	for k, id := range x.terms {
		if strings.HasPrefix(k, kName) {
			isName[id] = true
		}
	}
	// Leaf themes only: a top-level theme is too broad to say two
	// services do the same.
	var leaf [3]uint32
	for code, id := range x.catIDs {
		if t, ok := x.tax.Category(code); ok && t.Parent != "" && id < hotCats {
			leaf[id/32] |= 1 << (id % 32)
		}
	}
	type cellKey struct{ i, j, cat int }
	grid := map[cellKey][]uint32{}
	names := make([][]uint32, len(x.slots))
	const inv = 1.0 / unitScale
	it := x.live.Iterator()
	for it.HasNext() {
		slot := it.Next()
		h := &x.hot[slot]
		if h.Bits&hotNoPoint != 0 {
			continue
		}
		px, py, pz := float64(h.X)*inv, float64(h.Y)*inv, float64(h.Z)*inv
		lat, lon := math.Asin(max(-1, min(1, pz)))*180/math.Pi, math.Atan2(py, px)*180/math.Pi
		ci, cj := int(math.Floor(lat/0.01)), int(math.Floor(lon/0.015))
		for w := range h.Cats {
			for bits := h.Cats[w] & leaf[w]; bits != 0; bits &= bits - 1 {
				k := cellKey{ci, cj, w*32 + mathbits.TrailingZeros32(bits)}
				grid[k] = append(grid[k], slot)
			}
		}
		for _, id := range x.slots[slot].terms {
			if isName[id] {
				names[slot] = append(names[slot], id)
			}
		}
		slices.Sort(names[slot])
	}
	// Union-find over slots; linked marks the slots in a pair.
	parent := make([]uint32, len(x.slots))
	for i := range parent {
		parent[i] = uint32(i)
	}
	linked := make([]bool, len(x.slots))
	find := func(s uint32) uint32 {
		for parent[s] != s {
			parent[s] = parent[parent[s]]
			s = parent[s]
		}
		return s
	}
	maxChord := chordOf(clusterKm)
	pairs := 0
	for k, slots := range grid {
		for di := -1; di <= 1; di++ {
			for dj := -1; dj <= 1; dj++ {
				others := grid[cellKey{k.i + di, k.j + dj, k.cat}]
				for _, a := range slots {
					ha := &x.hot[a]
					ax, ay, az := float64(ha.X)*inv, float64(ha.Y)*inv, float64(ha.Z)*inv
					for _, b := range others {
						if b <= a {
							continue
						}
						hb := &x.hot[b]
						// Each pair once: in the bucket of the first
						// leaf theme it shares.
						first := -1
						for w := range ha.Cats {
							if shared := ha.Cats[w] & hb.Cats[w] & leaf[w]; shared != 0 {
								first = w*32 + mathbits.TrailingZeros32(shared)
								break
							}
						}
						if first != k.cat {
							continue
						}
						c2 := hb.chord2(ax, ay, az)
						if c2 > maxChord {
							continue
						}
						common := sortedCommon(names[a], names[b])
						if common == 0 {
							continue
						}
						inter, union := 0, 0
						for i := range ha.Cats {
							inter += mathbits.OnesCount32(ha.Cats[i] & hb.Cats[i])
							union += mathbits.OnesCount32(ha.Cats[i] | hb.Cats[i])
						}
						theme := float64(inter) / float64(union)
						name := 2 * float64(common) / float64(len(names[a])+len(names[b]))
						// Within a kilometre the chord is the distance to
						// a few millimetres.
						factor := farFactor + (1-farFactor)*placeScore(math.Sqrt(c2)*earthKm)
						if (simTheme*theme+simName*name)/(simTheme+simName)*factor < SimilarThreshold {
							continue
						}
						pairs++
						// Read the summaries only when the pair joins two
						// groups: at most once per service.
						if ra, rb := find(a), find(b); ra != rb && !x.complementary(a, b) {
							parent[ra] = rb
							linked[a], linked[b] = true, true
						}
					}
				}
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
			sm := x.slots[s].summary()
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
	return out[:min(len(out), maxClusters)], pairs
}

// complementary reports whether one of two services says it complements
// the other.
func (x *Index) complementary(a, b uint32) bool {
	sa, sb := x.slots[a].summary(), x.slots[b].summary()
	has := func(s *summary, uri string) bool {
		return slices.ContainsFunc(s.doc.Service.Complements, func(c directory.Complement) bool { return c.URI == uri })
	}
	return has(sa, sb.doc.URI) || has(sb, sa.doc.URI)
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
