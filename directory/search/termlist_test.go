package search

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTermListRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		ids := make([]uint32, n)
		for i := range ids {
			switch r.IntN(3) {
			case 0:
				ids[i] = r.Uint32() // gaps of five varint bytes
			default:
				ids[i] = uint32(r.IntN(1000))
			}
		}
		if n > 2 {
			ids[1] = ids[0] // a duplicate
		}
		want := slices.Compact(slices.Sorted(slices.Values(ids)))
		got := slices.Collect(packTerms(ids).all())
		if !slices.Equal(got, want) {
			t.Fatalf("%d ids: got %v, want %v", n, got, want)
		}
		if !packTerms(ids).check(int(slices.Max(append(want, 0))) + 1) {
			t.Fatalf("%d ids: a packed list fails its own check", n)
		}
	}
	if got := len(packTerms([]uint32{5, 300, 301, 70000})); got != 1+2+1+3 {
		t.Errorf("packed into %d bytes, want 7 (one varint a gap)", got)
	}
}

func TestTermListCheck(t *testing.T) {
	l := packTerms([]uint32{3, 9, 200})
	if !l.check(201) || l.check(200) {
		t.Errorf("check(201)=%v check(200)=%v: the largest id is 200", l.check(201), l.check(200))
	}
	if termList([]byte{0x80}).check(1 << 20) {
		t.Error("a varint cut short passes the check")
	}
	if got := slices.Collect(termList([]byte{0x05, 0x80}).all()); !slices.Equal(got, []uint32{5}) {
		t.Errorf("a list cut short yields %v, want what came before the cut", got)
	}
}
