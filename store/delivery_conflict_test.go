package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
)

// TestDeleteDeliveriesOfOneActivityAtOnce deletes every delivery of a
// fan-out at once, as the queue does when they all succeed together:
// each must go, and the activity with the last. Their deletions count
// down one record, and used to conflict past every retry, leaving
// delivered deliveries queued to be sent again.
func TestDeleteDeliveriesOfOneActivityAtOnce(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTest(t, Options{})
	now := time.Now().UTC()
	act := directory.NewID()
	var ds []*federation.Delivery
	for i := range 64 {
		ds = append(ds, &federation.Delivery{ID: directory.NewID(), Inbox: fmt.Sprintf("https://n%d.example/inbox", i),
			ActivityID: act, First: now, NextAt: now})
	}
	if err := s.QueueActivity(ctx, act, []byte(`{"type":"Update"}`), ds); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ds))
	start := make(chan struct{})
	for _, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- s.DeleteDelivery(ctx, d)
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.CountDeliveries(ctx); err != nil || n != 0 {
		t.Fatalf("%d deliveries left (%v), want 0", n, err)
	}
	if _, err := s.QueuedActivity(ctx, act); err == nil {
		t.Fatal("the activity outlived its last delivery")
	}
}

// A fan-out to followers on 3,000 servers, more deliveries than Badger
// takes in one transaction, is queued whole; deliveries finishing while
// it is written (here, all of them at once right after) never take the
// activity along before the last one.
func TestQueueLargeFanOut(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTest(t, Options{})
	now := time.Now().UTC()
	act := directory.NewID()
	var ds []*federation.Delivery
	for i := range 3000 {
		ds = append(ds, &federation.Delivery{ID: directory.NewID(), Inbox: fmt.Sprintf("https://server-%04d.social.example/inbox", i),
			ActivityID: act, First: now, NextAt: now})
	}
	activity := []byte(`{"type":"Update","object":"` + strings.Repeat("x", 60<<10) + `"}`)
	// The first deliveries finish while the rest are written.
	done := make(chan error, 1)
	go func() {
		for {
			if n, _ := s.CountDeliveries(ctx); n > 0 {
				done <- s.DeleteDelivery(ctx, ds[0])
				return
			}
		}
	}()
	if err := s.QueueActivity(ctx, act, activity, ds); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountDeliveries(ctx); err != nil || n != len(ds)-1 {
		t.Fatalf("%d deliveries queued (%v), want %d", n, err, len(ds)-1)
	}
	for _, d := range ds[1 : len(ds)-1] {
		if err := s.DeleteDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.QueuedActivity(ctx, act); err != nil {
		t.Fatalf("the activity went before its last delivery: %v", err)
	}
	if err := s.DeleteDelivery(ctx, ds[len(ds)-1]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.QueuedActivity(ctx, act); err == nil {
		t.Fatal("the activity outlived its last delivery")
	}
}

// Inboxes whose addresses are 2 KB long, as a follower may give, fill a
// transaction with fewer deliveries: 600 of them are queued too.
func TestQueueFanOutToLongInboxes(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTest(t, Options{})
	now := time.Now().UTC()
	act := directory.NewID()
	var ds []*federation.Delivery
	for i := range 600 {
		ds = append(ds, &federation.Delivery{ID: directory.NewID(), Inbox: fmt.Sprintf("https://s%04d.example/%s", i, strings.Repeat("i", 2000)),
			ActivityID: act, First: now, NextAt: now})
	}
	if err := s.QueueActivity(ctx, act, []byte(`{"type":"Update"}`), ds); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountDeliveries(ctx); err != nil || n != len(ds) {
		t.Fatalf("%d deliveries queued (%v), want %d", n, err, len(ds))
	}
}
