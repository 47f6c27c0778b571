package web

import "testing"

// Associations whose names say the same at two addresses are paired;
// close names of different associations, and one association under one
// address, are not.
func TestTwinAssociations(t *testing.T) {
	known := []partnerRow{
		{Name: "Maison de quartier Midi ASBL", Handle: "https://a.example/actor"},
		{Name: "Maison de Quartier du Midi", Handle: "https://b.example/actor"},
		{Name: "Maison médicale du Midi", Handle: "https://c.example/actor"},
		{Name: "Buurthuis Noord vzw", Handle: "https://d.example/actor"},
		{Name: "Buurthuis Noord", Handle: "https://d.example/actor"}, // the same address twice
		{Name: "Association node1", Handle: "https://e.example/actor"},
		{Name: "Association node2", Handle: "https://f.example/actor"},
	}
	got := twins(known)
	if len(got) != 1 || got[0][0].Handle != "https://a.example/actor" || got[0][1].Handle != "https://b.example/actor" {
		t.Errorf("twins = %+v, want the two Maisons de quartier Midi only", got)
	}
}
