package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
)

func TestServices(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	a := sampleService(serviceID(1), "Épicerie")
	if err := s.CreateService(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Service(ctx, a.ID)
	if err != nil || got.Name[directory.FR] != "Épicerie" || got.Status != directory.StatusActive {
		t.Fatalf("Service = %+v, %v; want the created service", got, err)
	}
	a.Name = directory.T(directory.FR, "Épicerie sociale", directory.NL, "Sociale kruidenier")
	if err := s.UpdateService(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Service(ctx, a.ID); got.Name[directory.NL] != "Sociale kruidenier" {
		t.Errorf("name after update = %v, want the new one", got.Name)
	}
	if err := s.DeleteService(ctx, a.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Service(ctx, a.ID); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Service after delete = %v, want ErrNotFound", err)
	}
}

func TestDirectoryErrors(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	taken := sampleService(serviceID(1), "x")
	s.CreateService(ctx, taken, nil)
	s.CreateLocation(ctx, &directory.Location{ID: "l1"})
	missing := serviceID(2)
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"Organization before put", func() error { _, err := s.Organization(ctx); return err }, directory.ErrNotFound},
		{"CreateService taken", func() error { return s.CreateService(ctx, taken, nil) }, directory.ErrConflict},
		{"Service absent", func() error { _, err := s.Service(ctx, missing); return err }, directory.ErrNotFound},
		{"UpdateService absent", func() error { return s.UpdateService(ctx, sampleService(missing, "x"), nil) }, directory.ErrNotFound},
		{"DeleteService absent", func() error { return s.DeleteService(ctx, missing, nil) }, directory.ErrNotFound},
		{"CreateLocation taken", func() error { return s.CreateLocation(ctx, &directory.Location{ID: "l1"}) }, directory.ErrConflict},
		{"Location absent", func() error { _, err := s.Location(ctx, "l2"); return err }, directory.ErrNotFound},
		{"UpdateLocation absent", func() error { return s.UpdateLocation(ctx, &directory.Location{ID: "l2"}) }, directory.ErrNotFound},
		{"DeleteLocation absent", func() error { return s.DeleteLocation(ctx, "l2") }, directory.ErrNotFound},
		{"Secret absent", func() error { _, err := s.Secret(ctx, "none"); return err }, directory.ErrNotFound},
	}
	for _, tt := range tests {
		err := tt.call()
		if !errors.Is(err, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, err, tt.want)
		}
		if err != nil && err.Error()[:6] != "store:" {
			t.Errorf("%s = %q, want it prefixed store:", tt.name, err)
		}
	}
	if err := s.CreateService(ctx, sampleService("", "no id"), nil); err == nil {
		t.Error("CreateService with an empty id succeeded")
	}
}

func TestForEachOrderAndStop(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	for _, n := range []int{3, 1, 2} {
		s.CreateService(ctx, sampleService(serviceID(n), "x"), nil)
		s.CreateLocation(ctx, &directory.Location{ID: fmt.Sprintf("l%d", n)})
	}
	s.PutSecret(ctx, "svc-lookalike", []byte("not a service")) // other kinds stay out
	var ids []string
	if err := s.ForEachService(ctx, func(v *directory.Service) error { ids = append(ids, v.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{serviceID(1), serviceID(2), serviceID(3)}; !slices.Equal(ids, want) {
		t.Errorf("ForEachService ids = %v, want %v", ids, want)
	}
	if n, err := s.CountServices(ctx); err != nil || n != 3 {
		t.Errorf("CountServices = %d, %v; want 3", n, err)
	}
	ids = nil
	s.ForEachLocation(ctx, func(l *directory.Location) error { ids = append(ids, l.ID); return nil })
	if want := []string{"l1", "l2", "l3"}; !slices.Equal(ids, want) {
		t.Errorf("ForEachLocation ids = %v, want %v", ids, want)
	}

	stop := errors.New("stop")
	n := 0
	if err := s.ForEachService(ctx, func(*directory.Service) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("ForEachService = %v after %d calls, want stop after 1", err, n)
	}
	n = 0
	if err := s.ForEachLocation(ctx, func(*directory.Location) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("ForEachLocation = %v after %d calls, want stop after 1", err, n)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.ForEachService(cancelled, func(*directory.Service) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("ForEachService(cancelled) = %v, want context.Canceled", err)
	}
}

func TestLocationsAndOrganization(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	for _, name := range []string{"Buurthuis", "Maison de quartier"} { // put twice: replaces
		if err := s.PutOrganization(ctx, &directory.Organization{ID: "o1", Name: directory.T(directory.NL, name)}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Organization(ctx); err != nil || got.Name[directory.NL] != "Maison de quartier" {
		t.Errorf("Organization = %+v, %v; want the last one put", got, err)
	}

	l := &directory.Location{ID: "l1", Name: directory.T(directory.FR, "Accueil"), Point: &directory.Point{Lat: 50.8, Lon: 4.3}}
	if err := s.CreateLocation(ctx, l); err != nil {
		t.Fatal(err)
	}
	l.Point.Lat = 50.9
	if err := s.UpdateLocation(ctx, l); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Location(ctx, "l1"); err != nil || got.Point.Lat != 50.9 {
		t.Errorf("Location after update = %+v, %v; want lat 50.9", got, err)
	}
	if err := s.DeleteLocation(ctx, "l1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Location(ctx, "l1"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Location after delete = %v, want ErrNotFound", err)
	}
}

func TestSecrets(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	for _, v := range [][]byte{{0, 1, 2, 255}, []byte("rotated")} {
		if err := s.PutSecret(ctx, "actor", v); err != nil {
			t.Fatal(err)
		}
		got, err := s.Secret(ctx, "actor")
		if err != nil || !bytes.Equal(got, v) {
			t.Errorf("Secret = %q, %v; want %q", got, err, v)
		}
	}
	if err := s.PutSecret(ctx, "", []byte("x")); err == nil {
		t.Error("PutSecret with an empty name succeeded")
	}
}

func TestConcurrentCreates(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	const workers, each = 4, 25
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range each {
				if err := s.CreateService(ctx, sampleService(serviceID(g*1000+i), "x"), nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	n := 0
	s.ForEachService(ctx, func(*directory.Service) error { n++; return nil })
	if n != workers*each {
		t.Errorf("services after concurrent creates = %d, want %d", n, workers*each)
	}
}

// Racing creates of one id end as one success and conflicts, never as
// Badger's retry-me error.
func TestConcurrentCreatesOfOneID(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	const racers = 8
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() { errs[i] = s.CreateService(ctx, sampleService(serviceID(1), fmt.Sprint(i)), nil) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, directory.ErrConflict):
			t.Errorf("racing CreateService = %v, want nil or ErrConflict", err)
		}
	}
	if ok != 1 {
		t.Errorf("racing creates of one id: %d succeeded, want 1", ok)
	}
}

// recorder is a Publisher that keeps what it is told, failing while fail
// is set (a queue that cannot take the announcement).
type recorder struct {
	mu   sync.Mutex
	got  []directory.Announcement
	fail bool
}

func (r *recorder) ServiceChanged(ctx context.Context, a directory.Announcement, s *directory.Service) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("queue unavailable")
	}
	if s == nil || s.ID != a.Service {
		return fmt.Errorf("announcement of %s with service %v", a.Service, s)
	}
	r.got = append(r.got, a)
	return nil
}

// A change of a service is recorded with its announcement in one write;
// one not announced (a node killed before queueing it, or a queue that
// failed) is announced at the next AnnouncePending, under its first
// activity id, with the service as it is then, and once only.
func TestUnannouncedChangesAnnouncedAgain(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	if err := s.PutOrganization(ctx, &directory.Organization{ID: "o", Name: directory.T(directory.FR, "Asso")}); err != nil {
		t.Fatal(err)
	}
	pub := &recorder{}
	cat := directory.NewCatalog(s, directory.Options{})
	cat.SetPublisher(pub)
	kept, err := cat.CreateService(ctx, sampleService("", "Annoncé"))
	if err != nil {
		t.Fatal(err)
	}
	// Announced: nothing left to announce.
	if n, err := cat.AnnouncePending(ctx); err != nil || n != 0 || len(pub.got) != 1 {
		t.Fatalf("after an announced change: %d pending (%v), %d announced", n, err, len(pub.got))
	}
	// The queue fails: the change is stored, its announcement kept.
	pub.fail = true
	lost, err := cat.CreateService(ctx, sampleService("", "Pas encore annoncé"))
	if err == nil {
		t.Fatal("a change whose announcement failed reported no error")
	}
	if _, err := s.Service(ctx, lost.ID); err != nil {
		t.Fatalf("the change is not stored: %v", err)
	}
	// A node killed between the write and the queue: the write alone.
	crashed := &directory.Announcement{Activity: directory.NewID(), Service: kept.ID, Change: directory.Deleted}
	if err := s.DeleteService(ctx, kept.ID, crashed); err != nil {
		t.Fatal(err)
	}
	pub.fail = false
	n, err := cat.AnnouncePending(ctx)
	if err != nil || n != 2 {
		t.Fatalf("AnnouncePending = %d, %v; want 2", n, err)
	}
	got := pub.got[1:]
	slices.SortFunc(got, func(a, b directory.Announcement) int { return int(a.Change) - int(b.Change) })
	if got[0].Service != lost.ID || got[0].Change != directory.Created || got[1] != *crashed {
		t.Fatalf("announced again: %+v", got)
	}
	if n, err := cat.AnnouncePending(ctx); err != nil || n != 0 {
		t.Fatalf("announced twice: %d, %v", n, err)
	}
	// Announced does not remove a later change's record.
	older := directory.Announcement{Activity: directory.NewID(), Service: lost.ID, Change: directory.Updated}
	newer := &directory.Announcement{Activity: directory.NewID(), Service: lost.ID, Change: directory.Updated}
	if err := s.UpdateService(ctx, lost, newer); err != nil {
		t.Fatal(err)
	}
	if err := s.Announced(ctx, older); err != nil {
		t.Fatal(err)
	}
	var left []directory.Announcement
	s.Unannounced(ctx, func(a directory.Announcement) error { left = append(left, a); return nil })
	if len(left) != 1 || left[0] != *newer {
		t.Fatalf("after an older announcement: %+v left, want the newer", left)
	}
}

// Each change of a service is later than the one before, even when the
// clock stands still or goes back: partners keep the latest version.
func TestServiceVersionsIncrease(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	if err := s.PutOrganization(ctx, &directory.Organization{ID: "o", Name: directory.T(directory.FR, "Asso")}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	cat := directory.NewCatalog(s, directory.Options{Now: func() time.Time { return now }})
	v, err := cat.CreateService(ctx, sampleService("", "Version 0"))
	if err != nil {
		t.Fatal(err)
	}
	prev := v.Updated
	for i, step := range []time.Duration{0, -time.Hour, time.Millisecond} {
		now = now.Add(step)
		v.Name = directory.T(directory.FR, fmt.Sprint("Version ", i+1))
		if v, err = cat.UpdateService(ctx, v); err != nil {
			t.Fatal(err)
		}
		if !v.Updated.After(prev) {
			t.Fatalf("change %d (clock moved %v): updated %v, not after %v", i+1, step, v.Updated, prev)
		}
		prev = v.Updated
	}
}
