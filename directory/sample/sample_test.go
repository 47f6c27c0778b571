package sample

import (
	"reflect"
	"testing"

	"github.com/maillage/maillage/directory"
)

func TestGeneratedRecordsAreValidAndDeterministic(t *testing.T) {
	tax := directory.DefaultTaxonomy()
	g := New(42)
	for i := range 500 {
		l := g.Location()
		if p := l.Validate(); len(p) > 0 {
			t.Fatalf("location %d invalid: %v", i, p)
		}
		s := g.Service(l.ID)
		if p := s.Validate(tax); len(p) > 0 {
			t.Fatalf("service %d invalid: %v", i, p)
		}
	}
	a, b := New(7).Service(), New(7).Service()
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed gave different services")
	}
	if reflect.DeepEqual(a, New(8).Service()) {
		t.Error("different seeds gave the same service")
	}
}
