package search

import (
	"slices"
	"time"
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
	Took      time.Duration
}

// areaKm is how far from a postcode's centre a point still counts in it.
const areaKm = 2.5

// Coverage returns the current coverage; it is computed again only when
// the index changed since the last call.
func (x *Index) Coverage() *Coverage {
	x.mu.RLock()
	if c := x.coverage; c != nil && x.covGen == x.gen {
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
	c.Took = time.Since(start)
	return c
}
