package store

import (
	"context"
	"errors"
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
