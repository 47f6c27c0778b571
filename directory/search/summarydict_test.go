package search

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/klauspost/compress/s2"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/sample"
)

// The summaries are compressed with the index's dictionary: to well under
// what S2 alone makes of them, on generated services the dictionary was
// not made from.
func TestSummaryDictShrinksSummaries(t *testing.T) {
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := sample.New(7)
	var withDict, plain int
	for i := range 500 {
		l := g.Location()
		s := g.Service(l.ID)
		e := &entry{uri: "https://n.example/services/" + s.ID}
		e.sum.Store(summarize(Doc{URI: e.uri, Service: s, Actor: fmt.Sprintf("https://n%d.example/actor", i%50),
			Provider: "Association", Points: []directory.Point{*l.Point}}))
		raw, err := x.encoded(e)
		if err != nil {
			t.Fatal(err)
		}
		var back savedDoc
		if err := x.unmarshalSaved(raw, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(Doc(back), e.sum.Load().doc) {
			t.Fatalf("summary %d changed through its encoding:\n %+v\n %+v", i, back, e.sum.Load().doc)
		}
		withDict += len(raw)
		j, _ := json.Marshal(savedDoc(e.sum.Load().doc))
		plain += len(s2.Encode(nil, j))
	}
	if withDict > plain*6/10 {
		t.Errorf("summaries take %d bytes with the dictionary, %d without: want at most 60%%", withDict, plain)
	}
}

// A snapshot keeps the dictionary it was written with: a node whose
// vocabulary changed since (another profile, so another dictionary)
// still reads its summaries; an unreadable dictionary is refused.
func TestSnapshotKeepsItsDictionary(t *testing.T) {
	x := fixture(t)
	var buf bytes.Buffer
	if err := x.Save(&buf); err != nil {
		t.Fatal(err)
	}
	base := directory.BaseTaxonomy()
	if bytes.Equal(summaryDict(base).Bytes(), x.dict.Bytes()) {
		t.Fatal("the base vocabulary gives the same dictionary: the test would prove nothing")
	}
	y, err := Load(bytes.NewReader(buf.Bytes()), Options{Taxonomy: base})
	if err != nil {
		t.Fatal(err)
	}
	for uri, slot := range x.byURI {
		a, b := x.summaryOf(x.slots[slot]).doc, y.summaryOf(y.slots[y.byURI[uri]]).doc
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s reads differently under another vocabulary:\n %+v\n %+v", uri, a, b)
		}
	}

	var bad bytes.Buffer
	empty, _ := New(Options{})
	emptyLive, _ := empty.live.ToBytes()
	if err := gob.NewEncoder(&bad).Encode(&snapHeader{Version: snapshotVersion, Live: emptyLive, Dict: []byte{0xff}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bytes.NewReader(bad.Bytes()), Options{}); !errors.Is(err, ErrSnapshot) {
		t.Errorf("snapshot with an unreadable dictionary: err = %v, want ErrSnapshot", err)
	}
}
