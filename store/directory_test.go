package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/maillage/maillage/directory"
)

func TestServices(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	a := sampleService(serviceID(1), "Épicerie")
	if err := s.CreateService(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.Service(ctx, a.ID)
	if err != nil || got.Name[directory.FR] != "Épicerie" || got.Status != directory.StatusActive {
		t.Fatalf("Service = %+v, %v; want the created service", got, err)
	}
	a.Name = directory.T(directory.FR, "Épicerie sociale", directory.NL, "Sociale kruidenier")
	if err := s.UpdateService(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Service(ctx, a.ID); got.Name[directory.NL] != "Sociale kruidenier" {
		t.Errorf("name after update = %v, want the new one", got.Name)
	}
	if err := s.DeleteService(ctx, a.ID); err != nil {
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
	s.CreateService(ctx, taken)
	s.CreateLocation(ctx, &directory.Location{ID: "l1"})
	missing := serviceID(2)
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"Organization before put", func() error { _, err := s.Organization(ctx); return err }, directory.ErrNotFound},
		{"CreateService taken", func() error { return s.CreateService(ctx, taken) }, directory.ErrConflict},
		{"Service absent", func() error { _, err := s.Service(ctx, missing); return err }, directory.ErrNotFound},
		{"UpdateService absent", func() error { return s.UpdateService(ctx, sampleService(missing, "x")) }, directory.ErrNotFound},
		{"DeleteService absent", func() error { return s.DeleteService(ctx, missing) }, directory.ErrNotFound},
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
	if err := s.CreateService(ctx, sampleService("", "no id")); err == nil {
		t.Error("CreateService with an empty id succeeded")
	}
}

func TestForEachOrderAndStop(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	for _, n := range []int{3, 1, 2} {
		s.CreateService(ctx, sampleService(serviceID(n), "x"))
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
				if err := s.CreateService(ctx, sampleService(serviceID(g*1000+i), "x")); err != nil {
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
		wg.Go(func() { errs[i] = s.CreateService(ctx, sampleService(serviceID(1), fmt.Sprint(i))) })
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
