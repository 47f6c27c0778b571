package search

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/maillage/maillage/directory"
)

var brussels, _ = time.LoadLocation("Europe/Brussels")

func fixture(t *testing.T) *Index {
	t.Helper()
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := func(id string, name, desc directory.Text, cats []string, pts []directory.Point, sched directory.Schedule, local bool) Doc {
		s := &directory.Service{ID: id, Name: name, Description: desc, Status: directory.StatusActive, Categories: cats, Schedule: sched, Languages: []string{"fr"}}
		return Doc{URI: "https://n.example/services/" + id, Service: s, Actor: "https://n.example/actor", Provider: "Maison", Local: local, Points: pts}
	}
	mon := directory.Schedule{Weekly: []directory.Slot{{Day: time.Monday, Opens: 9 * 60, Closes: 12 * 60}}}
	docs := []Doc{
		svc("epicerie", directory.T(directory.FR, "Épicerie sociale du Midi"), directory.T(directory.FR, "Colis alimentaire et produits de base"),
			[]string{"equipement-et-alimentation--alimentation"}, []directory.Point{{Lat: 50.8291, Lon: 4.3449}}, mon, true),
		svc("voedsel", directory.T(directory.NL, "Voedselhulp Noord"), directory.T(directory.NL, "Voedselpakketten voor gezinnen"),
			[]string{"equipement-et-alimentation--alimentation"}, []directory.Point{{Lat: 51.2194, Lon: 4.4025}}, directory.Schedule{}, false),
		svc("francais", directory.T(directory.FR, "Cours de français", directory.EN, "French classes"), directory.T(directory.FR, "Apprendre le français"),
			[]string{"lecture-ecriture-calcul--maitriser-le-francais"}, []directory.Point{{Lat: 50.8467, Lon: 4.3525}}, directory.Schedule{}, true),
	}
	if err := x.PutBatch(docs); err != nil {
		t.Fatal(err)
	}
	return x
}

func ids(r *Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.Service.ID)
	}
	return out
}

func TestRelevance(t *testing.T) {
	x := fixture(t)
	tests := []struct {
		q    Query
		want []string
	}{
		{Query{Text: "epicerie sociale"}, []string{"epicerie"}},
		{Query{Text: "ÉPICERIE"}, []string{"epicerie"}},
		// Through the lexicon, food parcels in French and in Dutch meet;
		// the service with the words themselves ranks first.
		{Query{Text: "colis alimentaires"}, []string{"epicerie", "voedsel"}},
		// The Dutch name says it; the épicerie's category label
		// (Voedselhulp) too, which ranks below a name.
		{Query{Text: "voedselhulp"}, []string{"voedsel", "epicerie"}},
		{Query{Text: "voedselpakket"}, []string{"voedsel", "epicerie"}},
		{Query{Text: "epicrie"}, []string{"epicerie"}},      // one typo, 5+ letters
		{Query{Text: "french class"}, []string{"francais"}}, // English stemming
		{Query{Text: "piscine"}, nil},
		{Query{Category: "equipement-et-alimentation"}, []string{"epicerie", "voedsel"}}, // top category includes its terms
		{Query{Text: "sociale", Scope: ScopePartners}, nil},
	}
	for _, tt := range tests {
		r, err := x.Search(tt.q)
		if err != nil {
			t.Fatalf("%+v: %v", tt.q, err)
		}
		got := ids(r)
		if len(got) != len(tt.want) || r.Total != len(tt.want) {
			t.Errorf("Search(%+v) = %v (total %d), want %v", tt.q, got, r.Total, tt.want)
			continue
		}
		if len(tt.want) > 1 && tt.q.Category == "" && got[0] != tt.want[0] {
			t.Errorf("Search(%+v) ranks %v first, want %s", tt.q, got, tt.want[0])
		}
		seen := map[string]bool{}
		for _, g := range got {
			seen[g] = true
		}
		for _, w := range tt.want {
			if !seen[w] {
				t.Errorf("Search(%+v) = %v, want %v", tt.q, got, tt.want)
			}
		}
	}
}

func TestGeoAndOpening(t *testing.T) {
	x := fixture(t)
	stGilles := directory.Point{Lat: 50.8280, Lon: 4.3450}
	r, err := x.Search(Query{Near: &stGilles, RadiusKm: 5, SortBy: "distance"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(r); len(got) != 2 || got[0] != "epicerie" || got[1] != "francais" {
		t.Errorf("within 5 km by distance = %v, want epicerie then francais", got)
	}
	if d := r.Hits[0].DistanceKm; d == nil || *d > 0.3 {
		t.Errorf("distance = %v", d)
	}
	monday10 := time.Date(2026, 12, 21, 10, 0, 0, 0, brussels)
	monday13 := time.Date(2026, 12, 21, 13, 0, 0, 0, brussels)
	if r, _ := x.Search(Query{OpenAt: &monday10}); len(r.Hits) != 1 || r.Hits[0].Service.ID != "epicerie" {
		t.Errorf("open Monday 10:00 = %v", ids(r))
	}
	if r, _ := x.Search(Query{OpenAt: &monday13}); len(r.Hits) != 0 {
		t.Errorf("open Monday 13:00 = %v, want none", ids(r))
	}
	for _, bad := range []Query{{RadiusKm: 5}, {Near: &directory.Point{Lat: 91}}, {Category: "nothing"}, {PerPage: 1000}, {Scope: "x"}} {
		if _, err := x.Search(bad); err == nil {
			t.Errorf("Search(%+v) accepted", bad)
		}
	}
}

// Every hit bleve returns has its summary, even while documents are being
// added: a search never reports a total it cannot list.
func TestHitsWhileIndexing(t *testing.T) {
	x := fixture(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 150 {
			id := fmt.Sprintf("s%d", i)
			d := Doc{URI: "https://n.example/services/" + id, Actor: "https://n.example/actor", Provider: "Maison",
				Service: &directory.Service{ID: id, Name: directory.T(directory.FR, "Permanence "+id), Status: directory.StatusActive}}
			var err error
			if i%2 == 0 {
				err = x.Put(d)
			} else {
				err = x.Apply([]Doc{d}, nil)
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	defer func() { <-done }() // the writer stops before the index closes
	// The first search starts with the writer, so at least one overlaps
	// it however fast indexing is.
	for searches := 0; ; searches++ {
		r, err := x.Search(Query{Text: "permanence", PerPage: 100})
		if err != nil {
			t.Error(err)
			return
		}
		if want := min(r.Total, 100); len(r.Hits) != want {
			t.Errorf("search %d: total %d but %d hits", searches, r.Total, len(r.Hits))
			return
		}
		select {
		case <-done:
			return
		default:
		}
	}
}

// A loaded snapshot answers exactly as the index it was saved from, and
// keeps working as an index: updates, deletions, new services.
func TestSnapshotRoundTrip(t *testing.T) {
	x := fixture(t)
	var buf bytes.Buffer
	if err := x.Save(&buf); err != nil {
		t.Fatal(err)
	}
	y, err := Load(bytes.NewReader(buf.Bytes()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	stGilles := directory.Point{Lat: 50.8280, Lon: 4.3450}
	monday10 := time.Date(2026, 12, 21, 10, 0, 0, 0, brussels)
	queries := []Query{{}, {Text: "epicerie sociale"}, {Text: "voedselpakket"}, {Text: "epicrie"}, {Text: "french class"},
		{Category: "equipement-et-alimentation"}, {Near: &stGilles, RadiusKm: 5, SortBy: "distance"}, {OpenAt: &monday10},
		{Scope: ScopeLocal}}
	same := func(q Query) {
		t.Helper()
		a, errA := x.Search(q)
		b, errB := y.Search(q)
		if errA != nil || errB != nil {
			t.Fatalf("%+v: %v / %v", q, errA, errB)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("Search(%+v) differs after loading:\n saved  %+v\n loaded %+v", q, a, b)
		}
	}
	for _, q := range queries {
		same(q)
	}
	// Both indexes take the same changes and still agree.
	add := Doc{URI: "https://n.example/services/new", Actor: "https://m.example/actor", Provider: "Autre",
		Service: &directory.Service{ID: "new", Name: directory.T(directory.FR, "Épicerie solidaire"), Status: directory.StatusActive}}
	for _, z := range []*Index{x, y} {
		if err := z.Apply([]Doc{add}, []string{"https://n.example/services/voedsel"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range append(queries, Query{Text: "solidaire"}) {
		same(q)
	}
	if r, _ := y.Search(Query{Text: "noord"}); r.Total != 0 { // its own word (voedselpakket now finds the épicerie's parcels)
		t.Errorf("deleted service still found after loading: %v", ids(r))
	}

	// Damaged or foreign input is refused, not half loaded.
	for name, b := range map[string][]byte{"empty": nil, "truncated": buf.Bytes()[:buf.Len()/2], "garbage": []byte("not a snapshot")} {
		if _, err := Load(bytes.NewReader(b), Options{}); !errors.Is(err, ErrSnapshot) {
			t.Errorf("%s snapshot: err = %v, want ErrSnapshot", name, err)
		}
	}
}

// Once a snapshot is written, the index keeps its summaries encoded
// (compressed JSON) and decodes those that results show: results are the
// same as before, and at most maxDecoded are decoded at once.
func TestSummariesEncodedAfterSave(t *testing.T) {
	x := fixture(t)
	before, err := x.Search(Query{})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Save(io.Discard); err != nil {
		t.Fatal(err)
	}
	decoded := func() (n int) {
		for _, e := range x.slots {
			if e != nil && e.sum.Load() != nil {
				n++
			}
		}
		return n
	}
	if n := decoded(); n != 0 {
		t.Errorf("%d summaries still decoded after a snapshot, want 0", n)
	}
	after, err := x.Search(Query{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("results differ once summaries are encoded:\n before %+v\n after  %+v", before, after)
	}
	if n := decoded(); n == 0 || n > len(after.Hits) {
		t.Errorf("%d summaries decoded for %d results shown", n, len(after.Hits))
	}
	x.mu.RLock()
	x.dropSummaries()
	x.mu.RUnlock()
	if n := decoded(); n != 0 {
		t.Errorf("%d summaries decoded after dropping them", n)
	}
}

// A quiet node drops the index's caches: the decoded summaries and the
// memo of analysed words go, and searches answer as before.
func TestReleaseCaches(t *testing.T) {
	x := fixture(t)
	if err := x.Save(io.Discard); err != nil {
		t.Fatal(err)
	}
	q := Query{Text: "aide alimentaire"}
	before, err := x.Search(q)
	if err != nil {
		t.Fatal(err)
	}
	memo := func() (n int) {
		x.an.mu.RLock()
		defer x.an.mu.RUnlock()
		for _, m := range x.an.memo {
			n += len(m)
		}
		return n
	}
	decoded := 0
	for _, e := range x.slots {
		if e != nil && e.sum.Load() != nil {
			decoded++
		}
	}
	if memo() == 0 || decoded == 0 || len(before.Hits) == 0 {
		t.Fatalf("nothing to release: %d words remembered, %d summaries decoded, %d results", memo(), decoded, len(before.Hits))
	}
	x.ReleaseCaches()
	if n := memo(); n != 0 {
		t.Errorf("%d words still remembered", n)
	}
	for _, e := range x.slots {
		if e != nil && e.sum.Load() != nil {
			t.Fatalf("%s: summary still decoded", e.uri)
		}
	}
	after, err := x.Search(q)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("results differ after the caches were released:\n before %+v\n after  %+v", before, after)
	}
}

// Opening hours are read in Brussels time across both daylight-saving
// changes, through the index's half-hour buckets and the exact check.
func TestOpenAtAcrossDST(t *testing.T) {
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	put := func(id string, slots ...directory.Slot) {
		t.Helper()
		err := x.Put(Doc{URI: "https://n.example/services/" + id, Actor: "https://n.example/actor",
			Service: &directory.Service{ID: id, Name: directory.T(directory.FR, id), Status: directory.StatusActive, Schedule: directory.Schedule{Weekly: slots}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	put("morning", directory.Slot{Day: time.Sunday, Opens: 9 * 60, Closes: 12 * 60})
	put("night", directory.Slot{Day: time.Sunday, Opens: 2 * 60, Closes: 3 * 60})
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct {
		at   string
		open []string
	}{
		{"2026-03-22T07:30:00Z", nil},                 // 08:30 CET
		{"2026-03-22T08:30:00Z", []string{"morning"}}, // 09:30 CET
		{"2026-03-29T07:30:00Z", []string{"morning"}}, // 09:30 CEST: same UTC, an hour later locally
		{"2026-03-29T10:30:00Z", nil},                 // 12:30 CEST
		{"2026-03-29T01:30:00Z", nil},                 // 03:30 CEST: 02:00–03:00 does not exist that night
		{"2026-10-18T07:30:00Z", []string{"morning"}}, // 09:30 CEST
		{"2026-10-25T07:30:00Z", nil},                 // 08:30 CET
		{"2026-10-25T08:30:00Z", []string{"morning"}}, // 09:30 CET
		{"2026-10-25T00:30:00Z", []string{"night"}},   // 02:30 CEST, the first time
		{"2026-10-25T01:30:00Z", []string{"night"}},   // 02:30 CET, the second time
		{"2026-10-25T02:30:00Z", nil},                 // 03:30 CET
	} {
		at := utc(tt.at)
		r, err := x.Search(Query{OpenAt: &at})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(r); !slices.Equal(got, tt.open) {
			t.Errorf("open at %s (%s in Brussels) = %v, want %v", tt.at, at.In(brussels).Format("Mon 15:04 MST"), got, tt.open)
		}
	}
}

// A service exactly at the edge of the circle: in when the radius reaches
// it, out when it stops short, whatever the map cell it falls in.
func TestRadiusBoundary(t *testing.T) {
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	centre := directory.Point{Lat: 50.8467, Lon: 4.3525}
	// Points 1, 10 and 100 km due east and due north of the centre.
	type place struct {
		id string
		p  directory.Point
		km float64
	}
	var places []place
	for _, km := range []float64{1, 10, 100} {
		east := directory.Point{Lat: centre.Lat, Lon: centre.Lon + km/(111.32*math.Cos(centre.Lat*math.Pi/180))}
		north := directory.Point{Lat: centre.Lat + km/111.2, Lon: centre.Lon}
		places = append(places, place{fmt.Sprintf("east%g", km), east, distanceKm(centre, east)}, place{fmt.Sprintf("north%g", km), north, distanceKm(centre, north)})
	}
	for _, pl := range places {
		if err := x.Put(Doc{URI: "https://n.example/services/" + pl.id, Actor: "https://n.example/actor", Points: []directory.Point{pl.p},
			Service: &directory.Service{ID: pl.id, Name: directory.T(directory.FR, pl.id), Status: directory.StatusActive}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, pl := range places {
		for _, r := range []struct {
			radius float64
			in     bool
		}{{pl.km * 1.001, true}, {pl.km * 0.999, false}} {
			res, err := x.Search(Query{Near: &centre, RadiusKm: r.radius, PerPage: 100})
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(ids(res), pl.id); got != r.in {
				t.Errorf("%s at %.4f km, radius %.4f km: found %v, want %v", pl.id, pl.km, r.radius, got, r.in)
			}
		}
	}
	// Distances shown are great-circle kilometres.
	res, _ := x.Search(Query{Near: &centre, RadiusKm: 200, SortBy: "distance", PerPage: 100})
	for i, h := range res.Hits {
		want := places[0].km
		for _, pl := range places {
			if pl.id == h.Service.ID {
				want = pl.km
			}
		}
		if h.DistanceKm == nil || math.Abs(*h.DistanceKm-want) > 1e-6*want+1e-9 {
			t.Errorf("hit %d %s: distance %v, want %.6f", i, h.Service.ID, h.DistanceKm, want)
		}
		if i > 0 && *res.Hits[i-1].DistanceKm > *h.DistanceKm {
			t.Errorf("not sorted by distance at %d", i)
		}
	}
}

// The per-service data a search scans fits half a cache line.
func TestHotSlotIsHalfACacheLine(t *testing.T) {
	if n := unsafe.Sizeof(hotSlot{}); n != 32 {
		t.Errorf("hotSlot is %d bytes, want 32", n)
	}
}

// A service that is not offered is not found: inactive or defunct ones
// leave the index, and come back when active again.
func TestOnlyOfferedServicesAreFound(t *testing.T) {
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc := func(status directory.Status) Doc {
		return Doc{URI: "https://n.example/services/s1", Actor: "https://n.example/actor",
			Service: &directory.Service{ID: "s1", Name: directory.T(directory.FR, "Vestiaire solidaire"), Status: status}}
	}
	found := func() int {
		r, err := x.Search(Query{Text: "vestiaire"})
		if err != nil {
			t.Fatal(err)
		}
		return r.Total
	}
	for _, c := range []struct {
		status directory.Status
		want   int
	}{{directory.StatusActive, 1}, {directory.StatusInactive, 0}, {directory.StatusActive, 1}, {directory.StatusDefunct, 0}, {directory.StatusTempClosed, 1}} {
		if err := x.Put(doc(c.status)); err != nil {
			t.Fatal(err)
		}
		if got := found(); got != c.want {
			t.Errorf("a %s service: found %d, want %d", c.status, got, c.want)
		}
	}
}

// A word of a category's label finds the services filed under it, in any
// of the three languages, ranked below services that say it themselves.
func TestCategoryLabelsAreSearchable(t *testing.T) {
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	put := func(id, name string, cats ...string) {
		if err := x.Put(Doc{URI: "https://n.example/services/" + id, Actor: "https://n.example/actor",
			Service: &directory.Service{ID: id, Name: directory.T(directory.FR, name), Status: directory.StatusActive, Categories: cats}}); err != nil {
			t.Fatal(err)
		}
	}
	put("grocery", "Épicerie sociale", "equipement-et-alimentation--alimentation")
	put("other", "Cours du soir", "lecture-ecriture-calcul--maitriser-le-francais")
	for _, q := range []string{"food", "voedselhulp", "alimentation"} {
		r, err := x.Search(Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(r); len(got) != 1 || got[0] != "grocery" {
			t.Errorf("%q finds %v, want the grocery only", q, got)
		}
	}
}

// When no service has every word, the services with most of them answer,
// flagged partial, with the words found and those in no service; a
// query whose words are mostly unknown still answers nothing.
func TestPartialMatches(t *testing.T) {
	x := fixture(t)
	for _, c := range []struct {
		q                string
		want             []string
		partial          bool
		matched, missing string
	}{
		{"épicerie colis", []string{"epicerie"}, false, "", ""},
		{"épicerie colis xylophone", []string{"epicerie"}, true, "epicerie colis", "xylophone"},
		{"colis français", []string{"francais", "epicerie"}, true, "colis francais", ""}, // one word each: a name's word first
		{"épicerie colis apprendre", []string{"epicerie"}, true, "epicerie colis", ""},   // one word of three is not enough
		// "colis alimentaire" is one concept of the lexicon: it finds the
		// Dutch food parcels too; "apprendre" alone is half the query.
		{"colis alimentaire apprendre", []string{"epicerie", "voedsel", "francais"}, true, "apprendre colis alimentaire", ""},
		{"plongée sous marine cours", nil, true, "", "plongee sous marine"}, // one word of four: nothing
		{"xylophone", nil, true, "", "xylophone"},
	} {
		r, err := x.Search(Query{Text: c.q})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(r); !slices.Equal(got, c.want) || r.Partial != c.partial ||
			strings.Join(r.Matched, " ") != c.matched || strings.Join(r.Missing, " ") != c.missing {
			t.Errorf("%q: %v partial %v matched %q missing %q; want %v %v %q %q", c.q, ids(r), r.Partial, r.Matched, r.Missing, c.want, c.partial, c.matched, c.missing)
		}
	}
}

// A service with no place but a postcode area is found near that
// postcode, flagged as serving the area (issue 18, point 8).
func TestServiceAreaInGeoSearch(t *testing.T) {
	x := fixture(t)
	s := &directory.Service{ID: "area", Name: directory.T(directory.FR, "Permanence sociale itinérante"), Status: directory.StatusActive,
		Area: directory.ServiceArea{Postcodes: []string{"1080"}}}
	if err := x.Put(Doc{URI: "https://n.example/services/area", Service: s, Actor: "https://n.example/actor"}); err != nil {
		t.Fatal(err)
	}
	centre, _ := PostcodeCentre("1080")
	r, err := x.Search(Query{Text: "permanence", Near: &centre, RadiusKm: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Hits) != 1 || !r.Hits[0].AreaOnly || r.Hits[0].DistanceKm == nil || *r.Hits[0].DistanceKm > 0.01 {
		t.Fatalf("near its postcode: %+v", r.Hits)
	}
	far, _ := PostcodeCentre("1180")
	if r, _ := x.Search(Query{Text: "permanence", Near: &far, RadiusKm: 1}); len(r.Hits) != 0 {
		t.Errorf("far from its area: %v", ids(r))
	}
}

// Dutch diminutives and -ssen plurals, French -aux plurals find their
// base forms, and the other way round (issue 18, point 6).
func TestMorphology(t *testing.T) {
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	put := func(id string, name directory.Text) {
		s := &directory.Service{ID: id, Name: name, Status: directory.StatusActive}
		if err := x.Put(Doc{URI: "https://n.example/services/" + id, Service: s, Actor: "https://n.example/actor"}); err != nil {
			t.Fatal(err)
		}
	}
	put("klas", directory.T(directory.NL, "Huiswerkklas voor de lagere school"))
	put("cursus", directory.T(directory.NL, "Cursus Nederlands"))
	put("woning", directory.T(directory.NL, "Hulp bij het zoeken naar een woning"))
	put("cafe", directory.T(directory.NL, "Taalcafeetje in de buurt"))
	put("travaux", directory.T(directory.FR, "Petits travaux à domicile"))
	put("journal", directory.T(directory.FR, "Atelier journal de quartier"))
	for q, want := range map[string]string{
		"huiswerkklasje": "klas", "huiswerkklasjes": "klas", "cursussen": "cursus", "woningen": "woning",
		"taalcafé": "cafe", "travail": "travaux", "journaux": "journal",
	} {
		r, err := x.Search(Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(r); len(got) == 0 || got[0] != want || r.Partial {
			t.Errorf("%q finds %v (partial %v), want %s first", q, got, r.Partial, want)
		}
	}
}

// A service's own words rank above the label of its category: "choosing"
// finds first the service named so, then the one whose description says
// "choose", then those filed under "Choosing
// a career" only (issue 18, point 7). The word is in no concept of the
// lexicon, whose clauses would otherwise score the description too.
func TestOwnWordsAboveCategoryLabel(t *testing.T) {
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	put := func(id string, name, desc directory.Text, cats ...string) {
		if err := x.Put(Doc{URI: "https://n.example/services/" + id, Actor: "https://n.example/actor",
			Service: &directory.Service{ID: id, Name: name, Description: desc, Status: directory.StatusActive, Categories: cats}}); err != nil {
			t.Fatal(err)
		}
	}
	cat := "choisir-un-metier"
	for i := range 6 {
		put(fmt.Sprintf("label%d", i), directory.T(directory.EN, fmt.Sprintf("Job club %d", i)), nil, cat)
	}
	put("named", directory.T(directory.EN, "Choosing your trade"), nil, cat)
	put("described", directory.T(directory.EN, "Job club"), directory.T(directory.EN, "We help you choose a trade"), cat)
	r, err := x.Search(Query{Text: "choosing", PerPage: 20})
	if err != nil {
		t.Fatal(err)
	}
	got := ids(r)
	if len(got) != 8 || got[0] != "named" || got[1] != "described" {
		t.Fatalf("choosing: %v; want the name first, the description second, then the six filed under the theme", got)
	}
	if r.Hits[1].Score <= r.Hits[2].Score {
		t.Errorf("own description %.3f not above a label %.3f", r.Hits[1].Score, r.Hits[2].Score)
	}
}

// The same services loaded twice, under other ids and in another order,
// answer in the same order: ties are broken by what services say, not
// by their random ids (issue 18, point 7).
func TestSameDataSameOrder(t *testing.T) {
	names := []string{"Permanence sociale", "Permanence juridique", "Permanence logement", "Permanence énergie",
		"Permanence emploi", "Permanence administrative", "Permanence santé", "Permanence numérique"}
	load := func(prefix string, order []int) []string {
		x, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range order {
			id := fmt.Sprintf("%s-%d", prefix, i*7919%1000)
			if err := x.Put(Doc{URI: "https://" + prefix + ".example/services/" + id, Actor: "https://" + prefix + ".example/actor", Provider: "Maison de quartier",
				Service: &directory.Service{ID: id, Name: directory.T(directory.FR, names[i]), Status: directory.StatusActive}}); err != nil {
				t.Fatal(err)
			}
		}
		r, err := x.Search(Query{Text: "permanence", PerPage: 20})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range r.Hits {
			got = append(got, h.Service.Name[directory.FR])
		}
		return got
	}
	a := load("a", []int{0, 1, 2, 3, 4, 5, 6, 7})
	b := load("zz", []int{7, 3, 5, 1, 6, 0, 2, 4})
	if len(a) != len(names) || !slices.Equal(a, b) {
		t.Fatalf("same data, other ids and order:\n%v\n%v", a, b)
	}
}

// The ages a service's name or age fields say, and when two are apart
// (issue 18: "public : 0-3 ans ≠ 3-12 ans").
func TestAgeRanges(t *testing.T) {
	age := func(n int) *int { return &n }
	for _, c := range []struct {
		name     string
		min, max *int
		lo, hi   int
		none     bool
	}{
		{name: "Halte-accueil pour les 0-3 ans", lo: 0, hi: 3},
		{name: "Huiswerkklas van 6 tot 12 jaar", lo: 6, hi: 12},
		{name: "Recherche active d'emploi pour les 45 ans et plus", lo: 45, hi: ageMax},
		{name: "Turnen voor 60-plussers", lo: 60, hi: ageMax},
		{name: "Homework club for the under-12s", lo: 0, hi: 11},
		{name: "Cours pour les moins de 18 ans", lo: 0, hi: 17},
		{name: "Repas à moins de 5 euros", none: true},
		{name: "Football en salle pour ados (13-17 ans)", lo: 13, hi: 17},
		{name: "Accueil 1070", none: true},
		{name: "Stage sportif", min: age(8), max: age(14), lo: 8, hi: 14},
	} {
		r := agesOf(&directory.Service{Name: directory.T(directory.FR, c.name), MinimumAge: c.min, MaximumAge: c.max})
		switch {
		case c.none && r != nil:
			t.Errorf("%q: %+v, want none", c.name, r)
		case !c.none && (r == nil || r.lo != c.lo || r.hi != c.hi):
			t.Errorf("%q: %+v, want %d-%d", c.name, r, c.lo, c.hi)
		}
	}
	apart := func(a, b [2]int) bool {
		return (&ageRange{lo: a[0], hi: a[1]}).apart(&ageRange{lo: b[0], hi: b[1]})
	}
	if !apart([2]int{0, 3}, [2]int{3, 12}) || !apart([2]int{6, 12}, [2]int{13, 17}) || apart([2]int{6, 12}, [2]int{10, 14}) || apart([2]int{18, ageMax}, [2]int{45, ageMax}) {
		t.Error("apart is wrong")
	}
}
