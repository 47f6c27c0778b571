package search

import (
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/maillage/maillage/directory"
)

// A snapshot is the whole index written at a clean stop and read at the
// next start, so that a node with 100,000 services answers searches
// within a second or two instead of rebuilding for tens of seconds. The
// caller decides whether a snapshot still matches the store (the node
// compares store versions) and otherwise rebuilds.

// snapshotVersion changes with the layout of the index.
const snapshotVersion = 2

// savedDoc is a summary as a snapshot keeps it.
type savedDoc struct {
	URI      string             `json:"uri"`
	Service  *directory.Service `json:"service"`
	Actor    string             `json:"actor"`
	Provider string             `json:"provider"`
	Local    bool               `json:"local,omitempty"`
	Points   []directory.Point  `json:"points,omitempty"`
}

type snapshot struct {
	Version  int
	URIs     []string // by slot; "" when free
	Docs     [][]byte // by slot: savedDoc as JSON
	Terms    [][]uint32
	Free     []uint32
	Live     []byte
	TermKeys []string // by term id
	Posts    [][]byte
	Near     map[string][]string
	CatCodes []string
	Hot      []hotSlot
	Sched    []directory.Schedule
	More     map[uint32][]directory.Point
	Actors   []string
}

// Save writes the index to w. Writes to the index wait meanwhile.
func (x *Index) Save(w io.Writer) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	sn := snapshot{
		Version: snapshotVersion, URIs: make([]string, len(x.slots)), Docs: make([][]byte, len(x.slots)),
		Terms: make([][]uint32, len(x.slots)), Free: x.free, TermKeys: make([]string, len(x.posts)),
		Posts: make([][]byte, len(x.posts)), Near: x.near, CatCodes: x.catCodes, Hot: x.hot,
		Sched: x.sched, More: x.more, Actors: x.actors,
	}
	for i, e := range x.slots {
		if e == nil {
			continue
		}
		sn.URIs[i], sn.Terms[i] = e.uri, e.terms
		raw, err := e.encoded()
		if err != nil {
			return fmt.Errorf("search: snapshot %s: %w", e.uri, err)
		}
		sn.Docs[i] = raw
	}
	var err error
	if sn.Live, err = x.live.ToBytes(); err != nil {
		return fmt.Errorf("search: snapshot: %w", err)
	}
	for k, id := range x.terms {
		sn.TermKeys[id] = k
	}
	for id, b := range x.posts {
		if sn.Posts[id], err = b.ToBytes(); err != nil {
			return fmt.Errorf("search: snapshot: %w", err)
		}
	}
	if err := gob.NewEncoder(w).Encode(&sn); err != nil {
		return fmt.Errorf("search: snapshot: %w", err)
	}
	return nil
}

// encoded returns the entry's summary as a snapshot keeps it.
func (e *entry) encoded() ([]byte, error) {
	if e.raw != nil {
		return e.raw, nil
	}
	d := e.summary().doc
	return json.Marshal(savedDoc(d))
}

// ErrSnapshot reports a snapshot that cannot be used: rebuild instead.
var ErrSnapshot = errors.New("search: unusable snapshot")

// Load returns an index read from a snapshot written by Save.
func Load(r io.Reader, o Options) (*Index, error) {
	x, err := New(o)
	if err != nil {
		return nil, err
	}
	var sn snapshot
	if err := gob.NewDecoder(r).Decode(&sn); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	n := len(sn.URIs)
	if sn.Version != snapshotVersion || len(sn.Docs) != n || len(sn.Terms) != n || len(sn.Hot) != n || len(sn.Sched) != n ||
		len(sn.TermKeys) != len(sn.Posts) {
		return nil, fmt.Errorf("%w: version %d or inconsistent lengths", ErrSnapshot, sn.Version)
	}
	x.slots = make([]*entry, n)
	for i, uri := range sn.URIs {
		if uri == "" {
			continue
		}
		for _, id := range sn.Terms[i] {
			if int(id) >= len(sn.Posts) {
				return nil, fmt.Errorf("%w: term out of range", ErrSnapshot)
			}
		}
		if int(sn.Hot[i].Actor) >= len(sn.Actors) {
			return nil, fmt.Errorf("%w: actor out of range", ErrSnapshot)
		}
		x.slots[i] = &entry{uri: uri, terms: sn.Terms[i], raw: sn.Docs[i]}
		x.byURI[uri] = uint32(i)
	}
	if err := x.live.UnmarshalBinary(sn.Live); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	x.posts = make([]*roaring.Bitmap, len(sn.Posts))
	for id, b := range sn.Posts {
		x.posts[id] = roaring.New()
		if err := x.posts[id].UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSnapshot, err)
		}
		x.terms[sn.TermKeys[id]] = uint32(id)
	}
	if sn.Near != nil {
		x.near = sn.Near
	}
	if sn.More != nil {
		x.more = sn.More
	}
	x.free, x.catCodes, x.actors = sn.Free, sn.CatCodes, sn.Actors
	for i, c := range x.catCodes {
		x.catIDs[c] = i
	}
	for i, a := range x.actors {
		x.actorIDs[a] = uint32(i)
	}
	x.hot, x.sched = sn.Hot, sn.Sched
	return x, nil
}
