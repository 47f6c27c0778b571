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
	if ok, err := s.PutPartnerService(ctx, ps("copie", t0)); err != nil || !ok || name() != "copie" {
		t.Fatalf("a new service: stored %v, err %v, name %q", ok, err, name())
	}
	if ok, err := s.ApplyPartnerService(ctx, ps("mise à jour", t0.Add(time.Hour)), "https://p.example/activities/u1", time.Hour); err != nil || !ok {
		t.Fatalf("update: %v %v", ok, err)
	}
	if ok, err := s.PutPartnerService(ctx, ps("copie tardive", t0.Add(time.Minute))); err != nil || ok {
		t.Fatalf("a late copy: stored %v, err %v", ok, err)
	}
	if got := name(); got != "mise à jour" {
		t.Errorf("a late copy replaced the newer update: %q", got)
	}
	if ok, err := s.PutPartnerService(ctx, ps("copie récente", t0.Add(2*time.Hour))); err != nil || !ok || name() != "copie récente" {
		t.Errorf("a newer copy: stored %v, err %v, name %q", ok, err, name())
	}
}

// A service its partner deleted is not brought back by a version of it
// older than the deletion, whether a retried Update brings it or a
// backfill page read before; a later version (the service created
// again) is kept. Only the service's own actor's deletion counts.
func TestWithdrawnPartnerServiceStaysGone(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	const uri, actor = "https://p.example/services/1", "https://p.example/actor"
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	ps := func(name string, updated time.Time) *directory.PartnerService {
		return &directory.PartnerService{URI: uri, Actor: actor,
			Service: &directory.Service{ID: "1", Name: directory.T(directory.FR, name), Updated: updated}}
	}
	held := func() bool {
		_, err := s.PartnerService(ctx, uri)
		if err != nil && !errors.Is(err, directory.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	if ok, err := s.ApplyPartnerService(ctx, ps("colis", t0), "https://p.example/a/1", time.Hour); err != nil || !ok {
		t.Fatalf("create: %v %v", ok, err)
	}

	// Another actor cannot remove it, nor mark it deleted.
	if _, err := s.WithdrawPartnerService(ctx, uri, "https://q.example/actor", t0.Add(time.Hour), time.Hour); !errors.Is(err, federation.ErrNotTheirs) || !held() {
		t.Fatalf("another actor's delete: err %v, held %v", err, held())
	}

	// Deleted at its source with a time before the last version held:
	// the deletion still counts from that version.
	if removed, err := s.WithdrawPartnerService(ctx, uri, actor, t0.Add(-time.Minute), time.Hour); err != nil || !removed || held() {
		t.Fatalf("withdraw: removed %v, err %v, held %v", removed, err, held())
	}
	if ok, err := s.ApplyPartnerService(ctx, ps("colis (modifié)", t0), "https://p.example/a/2", time.Hour); err != nil || ok || held() {
		t.Fatalf("a late Update brought it back: applied %v, err %v", ok, err)
	}
	if seen, err := s.Seen(ctx, "https://p.example/a/2"); err != nil || !seen {
		t.Errorf("the late Update is not recorded as seen: %v %v", seen, err)
	}
	if ok, err := s.PutPartnerService(ctx, ps("colis (copie)", t0)); err != nil || ok || held() {
		t.Fatalf("a backfill page read before brought it back: stored %v, err %v", ok, err)
	}

	// The same deletion heard again removes nothing and keeps the mark.
	if removed, err := s.WithdrawPartnerService(ctx, uri, actor, t0.Add(time.Minute), time.Hour); err != nil || removed {
		t.Fatalf("withdraw again: removed %v, err %v", removed, err)
	}
	if ok, err := s.PutPartnerService(ctx, ps("colis (copie)", t0.Add(time.Minute))); err != nil || ok {
		t.Fatalf("a version as old as the deletion was stored: %v %v", ok, err)
	}

	// Another actor's copy under that URI is not held back by it.
	other := ps("autre", t0)
	other.Actor = "https://q.example/actor"
	if ok, err := s.PutPartnerService(ctx, other); err != nil || !ok {
		t.Fatalf("another actor's service: stored %v, err %v", ok, err)
	}
	if err := s.DeletePartnerService(ctx, uri); err != nil {
		t.Fatal(err)
	}

	// Created again later: kept, and the mark is gone, so that an
	// older version after that is judged against the new one only.
	if ok, err := s.ApplyPartnerService(ctx, ps("colis du jeudi", t0.Add(2*time.Minute)), "https://p.example/a/3", time.Hour); err != nil || !ok || !held() {
		t.Fatalf("created again: applied %v, err %v, held %v", ok, err, held())
	}
	if _, err := s.WithdrawPartnerService(ctx, uri, actor, t0.Add(3*time.Minute), time.Hour); err != nil {
		t.Fatal(err)
	}

	// A deletion heard before any copy (a Delete that overtook the
	// Create) holds back the copy too.
	const uri2 = "https://p.example/services/2"
	if removed, err := s.WithdrawPartnerService(ctx, uri2, actor, t0, time.Hour); err != nil || removed {
		t.Fatalf("withdraw of a service not held: removed %v, err %v", removed, err)
	}
	early := ps("atelier", t0.Add(-time.Hour))
	early.URI = uri2
	if ok, err := s.ApplyPartnerService(ctx, early, "https://p.example/a/4", time.Hour); err != nil || ok {
		t.Fatalf("a Create overtaken by its Delete was applied: %v %v", ok, err)
	}
}

// What is remembered of a deletion lasts its ttl only: the store does not
// grow with every Delete a partner ever sent.
func TestWithdrawnPartnerServiceForgottenAfterTTL(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	v := &directory.PartnerService{URI: "https://p.example/services/1", Actor: "https://p.example/actor",
		Service: &directory.Service{ID: "1", Name: directory.T(directory.FR, "colis"), Updated: t0}}
	if _, err := s.WithdrawPartnerService(ctx, v.URI, v.Actor, t0, time.Second); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.PutPartnerService(ctx, v); err != nil || ok {
		t.Fatalf("within the ttl: stored %v, err %v", ok, err)
	}
	time.Sleep(2100 * time.Millisecond) // Badger's expiry counts whole seconds
	if ok, err := s.PutPartnerService(ctx, v); err != nil || !ok {
		t.Fatalf("after the ttl: stored %v, err %v", ok, err)
	}
}
