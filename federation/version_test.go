package federation

import (
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/sample"
)

// Two changes of a service within the same second reach partners as two
// versions, the later one later: a retried delivery of the first that
// overtakes the second after a restart must not win (found by
// TestKillsDuringFanOut with LOADTEST: renames made in the same second
// tied, and the one delivered last stayed).
func TestPageVersionFinerThanSeconds(t *testing.T) {
	sender := fuzzFederator(t, "https://a.example", false, nil)
	recv := fuzzFederator(t, "https://b.example", true, nil)
	g := sample.New(3)
	loc := g.Location()
	first := g.Service(loc.ID)
	first.Created = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	first.Updated = first.Created.Add(100 * time.Millisecond)
	second := *first
	second.Name = directory.T(directory.FR, "Renommé")
	second.Updated = first.Updated.Add(300 * time.Millisecond)
	locs := map[string]*directory.Location{loc.ID: loc}
	got1, err := recv.partnerService(mustJSON(sender.servicePage(first, locs)), them, "Maison")
	if err != nil {
		t.Fatal(err)
	}
	got2, err := recv.partnerService(mustJSON(sender.servicePage(&second, locs)), them, "Maison")
	if err != nil {
		t.Fatal(err)
	}
	if !got1.Service.Updated.Equal(first.Updated) || !got2.Service.Updated.After(got1.Service.Updated) {
		t.Errorf("versions read as %v then %v, want %v then later", got1.Service.Updated, got2.Service.Updated, first.Updated)
	}
	// A page without updated falls back to the record's last_modified.
	page := sender.servicePage(first, locs)
	page.Updated = ""
	got, err := recv.partnerService(mustJSON(page), them, "Maison")
	if err != nil || !got.Service.Updated.Equal(first.Updated.Truncate(time.Second)) {
		t.Errorf("without updated: %v, %v", got, err)
	}
}
