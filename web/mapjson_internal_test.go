package web

import (
	"encoding/json"
	"strings"
	"testing"
)

// The map's data goes into a script element as it is: a service named to
// close the element stays text, and the data reads back whole.
func TestMapJSONCannotCloseItsElement(t *testing.T) {
	name := "</script><script>alert(1)</script> & <!-- \u2028"
	p := pageData{Map: &mapData{Tiles: "none", Markers: []mapMarker{{Lat: 50.8, Lon: 4.3, Name: name, URL: "/services/x"}}}}
	out := string(p.MapJSON())
	if strings.ContainsAny(out, "<>&\u2028") {
		t.Fatalf("unescaped markup in %s", out)
	}
	var back mapData
	if err := json.Unmarshal([]byte(out), &back); err != nil || len(back.Markers) != 1 || back.Markers[0].Name != name {
		t.Fatalf("read back %+v, %v", back, err)
	}
	if got := string(pageData{}.MapJSON()); got != "null" {
		t.Errorf("no map: %s", got)
	}
}
