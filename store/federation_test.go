package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
)

func TestDeliveryQueue(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	ds := []*federation.Delivery{
		{ID: "late", Inbox: "https://a.example/inbox", ActivityID: "act1", NextAt: now.Add(time.Hour)},
		{ID: "due2", Inbox: "https://b.example/inbox", ActivityID: "act1", NextAt: now.Add(-time.Minute)},
		{ID: "due1", Inbox: "https://c.example/inbox", ActivityID: "act1", NextAt: now.Add(-time.Hour)},
	}
	if err := s.QueueActivity(ctx, "act1", []byte(`{"type":"Create"}`), ds); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueDeliveries(ctx, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 || due[0].ID != "due1" || due[1].ID != "due2" {
		t.Fatalf("due = %+v, want due1 then due2", due)
	}
	if n, _ := s.CountDeliveries(ctx); n != 3 {
		t.Errorf("count = %d, want 3", n)
	}
	// A retry moves a delivery to its next attempt.
	next := *due[0]
	next.Attempts, next.NextAt = 1, now.Add(2*time.Hour)
	if err := s.RescheduleDelivery(ctx, due[0], &next); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueDeliveries(ctx, now, 10); len(due) != 1 || due[0].ID != "due2" {
		t.Errorf("after reschedule, due = %+v", due)
	}
	if due, _ := s.DueDeliveries(ctx, now.Add(3*time.Hour), 10); len(due) != 3 || due[2].ID != "due1" || due[2].Attempts != 1 {
		t.Errorf("three hours later, due = %+v", due)
	}
	// The activity stays until its last delivery is done.
	for _, d := range []*federation.Delivery{ds[0], ds[1], &next} {
		if _, err := s.QueuedActivity(ctx, "act1"); err != nil {
			t.Fatalf("activity gone before its last delivery: %v", err)
		}
		if err := s.DeleteDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.QueuedActivity(ctx, "act1"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("activity after its last delivery: %v, want ErrNotFound", err)
	}
	if n, _ := s.CountDeliveries(ctx); n != 0 {
		t.Errorf("count = %d, want 0", n)
	}
}

// Concurrent deliveries share transactions; each keeps its own outcome,
// and one that fails commits nothing while the others commit.
func TestApplyPartnerServiceGrouped(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	svc := func(n int, updated time.Time) *directory.PartnerService {
		return &directory.PartnerService{URI: "https://p.example/services/" + serviceID(n), Actor: "https://p.example/actor",
			Service: &directory.Service{ID: serviceID(n), Name: directory.T(directory.FR, "Service"), Updated: updated}}
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const distinct, same = 300, 40
	var wg sync.WaitGroup
	var appliedSame atomic.Int32
	errs := make(chan error, distinct+same+1)
	for i := range distinct {
		wg.Go(func() {
			ok, err := s.ApplyPartnerService(ctx, svc(i, t0), fmt.Sprintf("https://p.example/activities/%d", i), time.Hour)
			if err == nil && !ok {
				err = fmt.Errorf("activity %d not applied", i)
			}
			errs <- err
		})
	}
	for range same { // one activity delivered many times at once
		wg.Go(func() {
			ok, err := s.ApplyPartnerService(ctx, svc(distinct, t0), "https://p.example/activities/same", time.Hour)
			if ok {
				appliedSame.Add(1)
			}
			errs <- err
		})
	}
	// A record that cannot be encoded fails alone, and is not marked seen.
	bad := svc(distinct+1, t0)
	bad.Points = []directory.Point{{Lat: math.NaN()}}
	wg.Go(func() {
		if _, err := s.ApplyPartnerService(ctx, bad, "https://p.example/activities/bad", time.Hour); err == nil {
			errs <- errors.New("a record with NaN coordinates was stored")
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := appliedSame.Load(); n != 1 {
		t.Errorf("one activity delivered %d times at once was applied %d times, want 1", same, n)
	}
	if seen, _ := s.Seen(ctx, "https://p.example/activities/bad"); seen {
		t.Error("the failed activity was marked seen: a retry would be ignored")
	}
	n := 0
	s.ForEachPartnerService(ctx, func(*directory.PartnerService) error { n++; return nil })
	if n != distinct+1 {
		t.Errorf("replica holds %d services, want %d", n, distinct+1)
	}
	// A late, older version is recorded as seen but changes nothing.
	if ok, err := s.ApplyPartnerService(ctx, svc(0, t0.Add(-time.Hour)), "https://p.example/activities/old", time.Hour); err != nil || ok {
		t.Errorf("older version: applied %v, %v", ok, err)
	}
	if seen, _ := s.Seen(ctx, "https://p.example/activities/old"); !seen {
		t.Error("the stale activity was not recorded as seen")
	}
}

// A copy from a partner's outbox that runs late never undoes a newer
// version brought by an Update meanwhile; an older or equal one it
// replaces, and a new service it adds.
func TestPutPartnerServiceKeepsNewer(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	ps := func(name string, updated time.Time) *directory.PartnerService {
		return &directory.PartnerService{URI: "https://p.example/services/1", Actor: "https://p.example/actor",
			Service: &directory.Service{ID: "1", Name: directory.T(directory.FR, name), Updated: updated}}
	}
	name := func() string {
		got, err := s.PartnerService(ctx, "https://p.example/services/1")
		if err != nil {
			t.Fatal(err)
		}
		return got.Service.Name[directory.FR]
	}
	if err := s.PutPartnerService(ctx, ps("copie", t0)); err != nil || name() != "copie" {
		t.Fatalf("a new service: err %v, name %q", err, name())
	}
	if ok, err := s.ApplyPartnerService(ctx, ps("mise à jour", t0.Add(time.Hour)), "https://p.example/activities/u1", time.Hour); err != nil || !ok {
		t.Fatalf("update: %v %v", ok, err)
	}
	if err := s.PutPartnerService(ctx, ps("copie tardive", t0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	if got := name(); got != "mise à jour" {
		t.Errorf("a late copy replaced the newer update: %q", got)
	}
	if err := s.PutPartnerService(ctx, ps("copie récente", t0.Add(2*time.Hour))); err != nil || name() != "copie récente" {
		t.Errorf("a newer copy: err %v, name %q", err, name())
	}
}
