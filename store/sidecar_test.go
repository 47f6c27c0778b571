package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
)

// A sidecar is read back with its stamp, stays for the next start, is
// refused when damaged or written for another store (one restored from a
// backup included), and the records written after its stamp are listed.
func TestSidecar(t *testing.T) {
	ctx := context.Background()
	s, _, key := openTest(t, Options{})
	put := func(uri, name string) {
		t.Helper()
		ps := &directory.PartnerService{URI: uri, Actor: "https://p.test/actor", Service: &directory.Service{Name: directory.Text{directory.FR: name}}}
		if _, err := s.PutPartnerService(ctx, ps); err != nil {
			t.Fatal(err)
		}
	}
	put("https://p.test/services/a", "A")
	put("https://p.test/services/b", "B")
	put("https://p.test/services/c", "C")
	stamp := s.Version()
	path := filepath.Join(t.TempDir(), "cache")
	if err := s.SaveSidecar(path, stamp, func(w io.Writer) error { _, err := w.Write([]byte("index bytes")); return err }); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSidecar(path+".2", stamp+1, func(io.Writer) error { return nil }); err == nil {
		t.Error("a sidecar stamped ahead of the store was written")
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("index bytes")) {
		t.Error("the sidecar is not encrypted")
	}
	load := func(st *Store) (string, uint64, error) {
		var got []byte
		var version uint64
		err := st.LoadSidecar(path, func(r io.Reader, v uint64) error {
			var err error
			got, err = io.ReadAll(r)
			version = v
			return err
		})
		return string(got), version, err
	}
	for range 2 { // it stays for the next start
		got, v, err := load(s)
		if err != nil || got != "index bytes" || v != stamp {
			t.Fatalf("load = %q, %d, %v; want the bytes stamped %d", got, v, err, stamp)
		}
	}

	// After the stamp: b changes, c goes, d comes.
	put("https://p.test/services/b", "B2")
	if err := s.DeletePartnerService(ctx, "https://p.test/services/c"); err != nil {
		t.Fatal(err)
	}
	put("https://p.test/services/d", "D")
	var seen, changed []string
	err := s.PartnerServicesSince(ctx, stamp, func(uri string, ps *directory.PartnerService) error {
		seen = append(seen, uri)
		if ps != nil {
			changed = append(changed, ps.Service.Name.In(directory.FR))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmtList(seen); got != "https://p.test/services/a https://p.test/services/b https://p.test/services/d" {
		t.Errorf("services listed since the stamp: %s", got)
	}
	if got := fmtList(changed); got != "B2 D" {
		t.Errorf("services read since the stamp: %s, want B2 D", got)
	}
	if places, err := s.PlacesWrittenSince(ctx, stamp); err != nil || places {
		t.Errorf("places written since = %v, %v; want false", places, err)
	}
	if err := s.CreateLocation(ctx, &directory.Location{ID: "l1", Name: directory.Text{directory.FR: "Siège"}}); err != nil {
		t.Fatal(err)
	}
	if places, err := s.PlacesWrittenSince(ctx, stamp); err != nil || !places {
		t.Errorf("places written since = %v, %v after a location was written; want true", places, err)
	}

	// Damaged: refused as a bad backup.
	bad := append([]byte(nil), raw...)
	bad[len(bad)-5] ^= 1
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := load(s); !errors.Is(err, ErrBadBackup) {
		t.Errorf("damaged sidecar: %v, want ErrBadBackup", err)
	}

	// A store restored from this one's backup, with the same key and the
	// same versions, is another line of history: the sidecar is stale.
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := s.Backup(ctx, &b); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	if err := Restore(dst, key, &b, Options{}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dst, key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Version() < stamp {
		t.Fatalf("restored store at version %d, below the stamp %d: the test checks nothing", r.Version(), stamp)
	}
	if _, _, err := load(r); !errors.Is(err, ErrStaleSidecar) {
		t.Errorf("sidecar of the source loaded by the restored store: %v, want ErrStaleSidecar", err)
	}
	if _, _, err := load(s); err != nil {
		t.Errorf("the source's own sidecar: %v", err)
	}
}

func fmtList(xs []string) string { return strings.Join(xs, " ") }

func TestNeeds(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	for range 3 {
		if err := s.AddNeed(ctx, "sante", "1060", ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddNeed(ctx, "famille", "1030", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.AddNeed(ctx, "a/b", "1030", ""); err == nil {
		t.Error("a theme with a slash was counted")
	}
	got := map[string]int{}
	if err := s.ForEachNeed(ctx, func(theme, area string, n int) error { got[theme+" "+area] = n; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["sante 1060"] != 3 || got["famille 1030"] != 1 {
		t.Errorf("needs = %v", got)
	}
}

func TestNeedNotesAndPartnerNeeds(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	for _, n := range []string{"first", "", "second", "third"} {
		if err := s.AddNeed(ctx, "sante", "1060", n); err != nil {
			t.Fatal(err)
		}
	}
	notes, err := s.NeedNotes(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 2 || notes[0].Text != "third" || notes[1].Text != "second" || notes[0].Theme != "sante" || notes[0].Area != "1060" {
		t.Errorf("newest two notes = %+v, want third then second", notes)
	}
	if all, _ := s.NeedNotes(ctx, 10); len(all) != 3 {
		t.Errorf("%d notes kept, want 3 (an empty note is no note)", len(all))
	}

	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	put := func(at time.Time, count int) bool {
		t.Helper()
		ok, err := s.PutPartnerNeeds(ctx, &directory.PartnerNeeds{Actor: "https://b.example/actor", Updated: at,
			Counts: []directory.NeedCount{{Theme: "sante", Area: "1000", Count: count}}})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !put(t0, 2) || !put(t0.Add(time.Minute), 5) {
		t.Fatal("a newer report was not applied")
	}
	if put(t0, 9) || put(t0.Add(time.Minute), 9) {
		t.Error("an older or same-time report replaced a newer one")
	}
	var got []directory.PartnerNeeds
	s.ForEachPartnerNeeds(ctx, func(p *directory.PartnerNeeds) error { got = append(got, *p); return nil })
	if len(got) != 1 || got[0].Counts[0].Count != 5 {
		t.Errorf("partner needs = %+v, want the count 5", got)
	}
	if err := s.DeletePartnerNeeds(ctx, "https://b.example/actor"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePartnerNeeds(ctx, "https://b.example/actor"); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	got = nil
	s.ForEachPartnerNeeds(ctx, func(p *directory.PartnerNeeds) error { got = append(got, *p); return nil })
	if len(got) != 0 {
		t.Errorf("partner needs after delete = %+v", got)
	}
}

// Version is read while writes commit (the search index's snapshots are
// stamped while the node runs): it must not race with them, and it grows
// with every commit and never goes back.
func TestVersionWhileWriting(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		for i := range 200 {
			ps := &directory.PartnerService{URI: fmt.Sprintf("https://p.example/services/%d", i), Actor: "https://p.example/actor",
				Service: &directory.Service{ID: fmt.Sprint(i), Name: directory.T(directory.FR, "Service")}}
			if _, err := s.PutPartnerService(ctx, ps); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	last := s.Version()
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		default:
		}
		v := s.Version()
		if v < last {
			t.Fatalf("version went back from %d to %d", last, v)
		}
		last = v
	}
	before := s.Version()
	if _, err := s.PutPartnerService(ctx, &directory.PartnerService{URI: "https://p.example/services/x", Actor: "https://p.example/actor",
		Service: &directory.Service{ID: "x"}}); err != nil {
		t.Fatal(err)
	}
	if after := s.Version(); after <= before {
		t.Errorf("a commit left the version at %d (was %d)", after, before)
	}
}
