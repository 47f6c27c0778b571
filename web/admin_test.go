package web

import (
	"slices"
	"testing"

	"github.com/maillage/maillage/directory"
)

func TestTwinAssociations(t *testing.T) {
	midi := directory.Point{Lat: 50.8357, Lon: 4.3346}
	nextDoor := directory.Point{Lat: 50.8360, Lon: 4.3350} // about 45 m away
	far := directory.Point{Lat: 50.8500, Lon: 4.3500}
	known := []partnerRow{
		{Name: "Maison de quartier Midi ASBL", Handle: "https://a.example/actor", Points: []directory.Point{midi}},
		{Name: "Maison de Quartier du Midi", Handle: "https://b.example/actor", Points: []directory.Point{far, nextDoor}},
		{Name: "Maison médicale du Midi", Handle: "https://c.example/actor", Points: []directory.Point{midi}},
		{Name: "Buurthuis Noord vzw", Handle: "https://d.example/actor"},
		{Name: "Buurthuis Noord", Handle: "https://d.example/actor"}, // the same address twice
		{Name: "Association node1", Handle: "https://e.example/actor"},
		{Name: "Association node2", Handle: "https://f.example/actor"},
		// One number, two names: the same association under its old name.
		{Name: "Entraide Anneessens", Handle: "https://g.example/actor", BCE: "0403.170.701"},
		{Name: "Solidarité Anneessens-Senne", Handle: "https://h.example/actor", BCE: "0403.170.701"},
		// Names that say the same but two numbers: two associations.
		{Name: "Atelier Couture", Handle: "https://i.example/actor", BCE: "0412.345.614"},
		{Name: "Atelier couture ASBL", Handle: "https://j.example/actor", BCE: "0202.239.951"},
		// Same name, one number unknown: still worth a look.
		{Name: "Repair Café Flagey", Handle: "https://k.example/actor", BCE: "0876.543.270"},
		{Name: "Repair café Flagey", Handle: "https://l.example/actor"},
	}
	type pair struct{ a, b string }
	want := map[pair][]string{
		{"https://a.example/actor", "https://b.example/actor"}: {"twin similar name", "twin same address"},
		{"https://g.example/actor", "https://h.example/actor"}: {"twin same number"},
		{"https://k.example/actor", "https://l.example/actor"}: {"twin similar name"},
	}
	got := twins(known)
	for _, tw := range got {
		p := pair{tw.A.Handle, tw.B.Handle}
		reasons, ok := want[p]
		if !ok {
			t.Errorf("%s and %s flagged (%v), want not", tw.A.Name, tw.B.Name, tw.Reasons)
			continue
		}
		if !slices.Equal(tw.Reasons, reasons) {
			t.Errorf("%s and %s: reasons %v, want %v", tw.A.Name, tw.B.Name, tw.Reasons, reasons)
		}
		delete(want, p)
	}
	for p := range want {
		t.Errorf("%s and %s not flagged", p.a, p.b)
	}
}

func TestNormalBCE(t *testing.T) {
	for in, want := range map[string]string{"0403.170.701": "0403.170.701", "BE 0403 170 701": "0403.170.701", "be0403170701": "0403.170.701", "0403.170.702": "", "12345": ""} {
		got, ok := directory.NormalBCE(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalBCE(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
