package search

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/klauspost/compress/s2"

	"github.com/maillage/maillage/directory"
)

// A snapshot is the whole index written at a clean stop and read at the
// next start, so that a node with 100,000 services answers searches
// within a second or two instead of rebuilding for tens of seconds. The
// caller decides whether a snapshot still matches the store (the node
// compares store versions) and otherwise rebuilds.

// snapshotVersion changes with the layout of the index.
const snapshotVersion = 16

// savedDoc is a summary as a snapshot keeps it.
type savedDoc struct {
	URI      string             `json:"uri"`
	Service  *directory.Service `json:"service"`
	Actor    string             `json:"actor"`
	Provider string             `json:"provider"`
	Local    bool               `json:"local,omitempty"`
	Points   []directory.Point  `json:"points,omitempty"`
	AreaOnly bool               `json:"area_only,omitempty"`
}

// A snapshot is a stream of gob messages: a header, then the posting
// lists and the slots in chunks. Gob reads a message whole into one
// buffer; at 100,000 services one message would be 160 MB, grown and
// copied along the way.
type snapHeader struct {
	Version  int
	Slots    int // how many slots the chunks hold
	Posts    int // how many posting lists
	Free     []uint32
	Live     []byte
	TermKeys []string // by term id
	Near     map[string][]string
	CatCodes []string
	Actors   []string
	More     map[uint32][]directory.Point
	Compl    map[uint32][]string
	Dict     []byte // the summaries' dictionary (summarydict.go)
}

type snapPosts struct {
	Posts [][]byte
}

// snapSlots holds its large parts as raw bytes rather than as gob
// values, which gob would decode one number at a time.
type snapSlots struct {
	URIs     []string // "" when free
	DocLens  []uint32 // each slot's savedDoc as S2-compressed JSON, one after the other in Docs
	Docs     []byte
	TermLens []uint32 // the length of each slot's termList in Terms
	Terms    []byte
	Hot      []byte // hotBytes each
	Sched    []packedSchedule
}

// snapChunk is how many posting lists or slots a message holds.
const snapChunk = 4096

// Save writes the index to w. Writes to the index wait meanwhile.
// Afterwards the index keeps its summaries encoded.
func (x *Index) Save(w io.Writer) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	h := snapHeader{
		Version: snapshotVersion, Slots: len(x.slots), Posts: len(x.posts), Free: x.free,
		TermKeys: make([]string, len(x.posts)), Near: x.near, CatCodes: x.catCodes, Actors: x.actors, More: x.more, Compl: x.compl,
		Dict: x.dict.Bytes(),
	}
	var err error
	if h.Live, err = x.live.ToBytes(); err != nil {
		return fmt.Errorf("search: snapshot: %w", err)
	}
	for k, id := range x.terms {
		h.TermKeys[id] = k
	}
	enc := gob.NewEncoder(w)
	if err := enc.Encode(&h); err != nil {
		return fmt.Errorf("search: snapshot: %w", err)
	}
	for lo := 0; lo < len(x.posts); lo += snapChunk {
		chunk := x.posts[lo:min(lo+snapChunk, len(x.posts))]
		p := snapPosts{Posts: make([][]byte, len(chunk))}
		for i, b := range chunk {
			if p.Posts[i], err = b.ToBytes(); err != nil {
				return fmt.Errorf("search: snapshot: %w", err)
			}
		}
		if err := enc.Encode(&p); err != nil {
			return fmt.Errorf("search: snapshot: %w", err)
		}
	}
	for lo := 0; lo < len(x.slots); lo += snapChunk {
		hi := min(lo+snapChunk, len(x.slots))
		c := snapSlots{URIs: make([]string, hi-lo), DocLens: make([]uint32, hi-lo), TermLens: make([]uint32, hi-lo),
			Hot: make([]byte, 0, (hi-lo)*hotBytes), Sched: x.sched[lo:hi]}
		for i, e := range x.slots[lo:hi] {
			c.Hot = x.hot[lo+i].append(c.Hot)
			if e == nil {
				continue
			}
			raw, err := x.encoded(e)
			if err != nil {
				return fmt.Errorf("search: snapshot %s: %w", e.uri, err)
			}
			c.URIs[i] = e.uri
			c.DocLens[i], c.Docs = uint32(len(raw)), append(c.Docs, raw...)
			c.TermLens[i], c.Terms = uint32(len(e.terms)), append(c.Terms, e.terms...)
		}
		if err := enc.Encode(&c); err != nil {
			return fmt.Errorf("search: snapshot: %w", err)
		}
	}
	// Every summary now has its encoding: the decoded ones go, and come
	// back for the results shown (summaryOf).
	x.dropSummaries()
	return nil
}

// encoded returns the entry's summary as a snapshot keeps it: JSON,
// compressed with S2 (Snappy's successor, decoded in a microsecond) and
// the index's dictionary, to a third of its size. The encoding is kept:
// the decoded summary may then be dropped.
func (x *Index) encoded(e *entry) ([]byte, error) {
	if raw := e.raw.Load(); raw != nil {
		return *raw, nil
	}
	b, err := json.Marshal(savedDoc(x.summaryOf(e).doc))
	if err != nil {
		return nil, err
	}
	b = bytes.Clone(x.dict.Encode(nil, b)) // the encoder's buffer is larger
	e.raw.Store(&b)
	return b, nil
}

// ErrSnapshot reports a snapshot that cannot be used: rebuild instead.
var ErrSnapshot = errors.New("search: unusable snapshot")

// LoadSnapshot replaces what x holds with a snapshot written by Save. On
// error x is left as it was.
func (x *Index) LoadSnapshot(r io.Reader) error {
	y, err := Load(r, x.options())
	if err != nil {
		return err
	}
	x.take(y)
	return nil
}

// Reset empties x.
func (x *Index) Reset() error {
	y, err := New(x.options())
	if err != nil {
		return err
	}
	x.take(y)
	return nil
}

func (x *Index) options() Options { return Options{Taxonomy: x.tax, Location: x.loc, Now: x.now} }

// take replaces what x holds with what y holds; y is not used afterwards.
func (x *Index) take(y *Index) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.slots, x.free, x.byURI, x.live = y.slots, y.free, y.byURI, y.live
	x.terms, x.posts, x.near, x.textTerms = y.terms, y.posts, y.near, y.textTerms
	x.catCodes, x.catIDs = y.catCodes, y.catIDs
	x.hot, x.sched, x.more, x.compl, x.actors, x.actorIDs = y.hot, y.sched, y.more, y.compl, y.actors, y.actorIDs
	x.dict = y.dict
	x.gen++
	x.coverage, x.cov = nil, nil
}

// Load returns an index read from a snapshot written by Save.
func Load(r io.Reader, o Options) (*Index, error) {
	x, err := New(o)
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrSnapshot, fmt.Sprintf(format, args...))
	}
	dec := gob.NewDecoder(r)
	var h snapHeader
	if err := dec.Decode(&h); err != nil {
		return nil, bad("%v", err)
	}
	if h.Version != snapshotVersion || len(h.TermKeys) != h.Posts || h.Slots < 0 {
		return nil, bad("version %d or inconsistent lengths", h.Version)
	}
	if err := x.live.UnmarshalBinary(h.Live); err != nil {
		return nil, bad("%v", err)
	}
	if x.dict = s2.NewDict(h.Dict); x.dict == nil {
		return nil, bad("summary dictionary unreadable")
	}
	x.posts = make([]*roaring.Bitmap, 0, h.Posts)
	for len(x.posts) < h.Posts {
		var p snapPosts
		if err := dec.Decode(&p); err != nil {
			return nil, bad("%v", err)
		}
		if len(p.Posts) == 0 || len(x.posts)+len(p.Posts) > h.Posts {
			return nil, bad("posting lists beyond the count")
		}
		for _, raw := range p.Posts {
			id := len(x.posts)
			b := roaring.New()
			if err := b.UnmarshalBinary(raw); err != nil {
				return nil, bad("%v", err)
			}
			x.posts = append(x.posts, b)
			x.terms[h.TermKeys[id]] = uint32(id)
			if strings.HasPrefix(h.TermKeys[id], kText) {
				x.textTerms.Add(uint32(id))
			}
		}
	}
	x.slots = make([]*entry, 0, h.Slots)
	x.hot = make([]hotSlot, 0, h.Slots)
	x.sched = make([]packedSchedule, 0, h.Slots)
	for len(x.slots) < h.Slots {
		var c snapSlots
		if err := dec.Decode(&c); err != nil {
			return nil, bad("%v", err)
		}
		n := len(c.URIs)
		if n == 0 || len(x.slots)+n > h.Slots || len(c.DocLens) != n || len(c.TermLens) != n || len(c.Hot) != n*hotBytes || len(c.Sched) != n {
			return nil, bad("slots beyond the count or inconsistent")
		}
		// The slots keep their shares of the chunk's terms and documents,
		// each capped so that no append reaches its neighbour's.
		ids, docs := c.Terms, c.Docs
		// What the slots keep comes from a few arrays per chunk rather
		// than three small objects a slot (the entry, its encoding's
		// slice header, its URI as gob decoded it): the decoded strings
		// and the decoder's buffers die together, leaving whole spans
		// free instead of live objects scattered among freed ones.
		ents, raws := make([]entry, n), make([][]byte, n)
		uris := strings.Join(c.URIs, "")
		for i, uri := range c.URIs {
			uri, uris = uris[:len(uri)], uris[len(uri):]
			slot := len(x.slots)
			var hs hotSlot
			hs.read(c.Hot[i*hotBytes:])
			x.hot = append(x.hot, hs)
			tl, dl := int(c.TermLens[i]), int(c.DocLens[i])
			if tl > len(ids) || dl > len(docs) {
				return nil, bad("slot data beyond the chunk")
			}
			terms, raw := termList(ids[:tl:tl]), docs[:dl:dl]
			ids, docs = ids[tl:], docs[dl:]
			if !terms.check(h.Posts) {
				return nil, bad("term out of range")
			}
			if uri == "" {
				x.slots = append(x.slots, nil)
				continue
			}
			if int(hs.actor()) >= len(h.Actors) {
				return nil, bad("actor out of range")
			}
			e := &ents[i]
			e.uri, e.terms, raws[i] = uri, terms, raw
			e.raw.Store(&raws[i])
			x.slots = append(x.slots, e)
			x.byURI[uri] = uint32(slot)
		}
		if len(ids) != 0 || len(docs) != 0 {
			return nil, bad("slot data left over")
		}
		for _, p := range c.Sched {
			if !p.valid() {
				return nil, bad("schedule unreadable")
			}
		}
		x.sched = append(x.sched, c.Sched...)
	}
	if h.Near != nil {
		x.near = h.Near
	}
	if h.More != nil {
		x.more = h.More
	}
	if h.Compl != nil {
		x.compl = h.Compl
	}
	for _, f := range h.Free {
		if int(f) >= len(x.slots) || x.slots[f] != nil {
			return nil, bad("free slot out of range or taken")
		}
	}
	x.free, x.catCodes, x.actors = h.Free, h.CatCodes, h.Actors
	for i, c := range x.catCodes {
		x.catIDs[c] = i
	}
	for i, a := range x.actors {
		x.actorIDs[a] = uint32(i)
	}
	return x, nil
}

// hotBytes is the size of a hotSlot in a snapshot.
const hotBytes = 8 * 4

func (h *hotSlot) append(b []byte) []byte {
	for _, v := range []uint32{uint32(h.X), uint32(h.Y), uint32(h.Z), h.Bits, h.Order, h.Cats[0], h.Cats[1], h.Cats[2]} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

func (h *hotSlot) read(b []byte) {
	u := func(i int) uint32 { return binary.LittleEndian.Uint32(b[4*i:]) }
	h.X, h.Y, h.Z = int32(u(0)), int32(u(1)), int32(u(2))
	h.Bits, h.Order, h.Cats = u(3), u(4), [3]uint32{u(5), u(6), u(7)}
}
