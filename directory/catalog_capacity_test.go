package directory_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/store"
)

// openCatalog opens a catalog over a real Badger store in a temporary
// directory, with a clock the test moves, and one service in it.
func openCatalog(t *testing.T, now *time.Time) (*directory.Catalog, *store.Store, *directory.Service) {
	t.Helper()
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "key")
	if err := store.GenerateKey(keyPath); err != nil {
		t.Fatal(err)
	}
	key, err := store.ReadKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "db"), key, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.PutOrganization(ctx, &directory.Organization{ID: directory.NewID(), Name: directory.T(directory.FR, "Abri")}); err != nil {
		t.Fatal(err)
	}
	cat := directory.NewCatalog(st, directory.Options{Now: func() time.Time { return *now }})
	s, err := cat.CreateService(ctx, &directory.Service{Name: directory.T(directory.FR, "Abri de nuit"), Status: directory.StatusActive,
		Schedule: directory.Schedule{Weekly: []directory.Slot{{Day: time.Monday, Opens: 540, Closes: 720}}}})
	if err != nil {
		t.Fatal(err)
	}
	return cat, st, s
}

// A capacity is set in one call, dated, as a new version of the service
// whose review date stays; a bad one is refused with every problem and
// leaves the stored service as it was.
func TestCatalogSetCapacity(t *testing.T) {
	now := time.Date(2026, 12, 21, 8, 30, 0, 0, time.UTC)
	cat, st, s := openCatalog(t, &now)
	ctx := context.Background()
	if !s.Reviewed.Equal(now) {
		t.Fatalf("created: reviewed %v, want %v", s.Reviewed, now)
	}
	now = now.Add(time.Hour)
	got, err := cat.SetCapacity(ctx, s.ID, &directory.Capacity{Available: 3, Maximum: 12})
	if err != nil {
		t.Fatal(err)
	}
	if got.Capacity.Unit != directory.UnitPlaces || !got.Capacity.Updated.Equal(now) || !got.Updated.After(s.Updated) || !got.Reviewed.Equal(s.Reviewed) {
		t.Errorf("after setting places: capacity %+v, updated %v (was %v), reviewed %v (was %v)", got.Capacity, got.Updated, s.Updated, got.Reviewed, s.Reviewed)
	}
	stored, _ := st.Service(ctx, s.ID)
	for _, bad := range []*directory.Capacity{
		{Available: -1},
		{Available: 13, Maximum: 12},
		{NotAcceptingUntil: "2026-12-01"},
		{NotAcceptingUntil: "2028-12-01"},
		{Waiting: &directory.WaitingList{Length: 5}, Available: 2},
	} {
		now = now.Add(time.Minute)
		_, err := cat.SetCapacity(ctx, s.ID, bad)
		if p, ok := directory.AsProblems(err); !ok || len(p) != 1 {
			t.Errorf("capacity %+v: error %v, want one problem", bad, err)
		}
		after, _ := st.Service(ctx, s.ID)
		if !reflect.DeepEqual(after, stored) {
			t.Errorf("capacity %+v refused but the service changed: %+v", bad, after.Capacity)
		}
	}
	// An edit without a capacity keeps it, and is a review.
	now = now.Add(time.Hour)
	edit := *stored
	edit.Capacity = nil
	edit.Name = directory.T(directory.FR, "Abri de nuit Saint-Gilles")
	got, err = cat.UpdateService(ctx, &edit)
	if err != nil {
		t.Fatal(err)
	}
	if got.Capacity == nil || got.Capacity.Available != 3 || !got.Capacity.Updated.Equal(stored.Capacity.Updated) || !got.Reviewed.Equal(now) {
		t.Errorf("after an edit: capacity %+v (updated %v), reviewed %v; want the capacity kept as dated and reviewed now", got.Capacity, stored.Capacity.Updated, got.Reviewed)
	}
	// Removed in one call.
	if got, err = cat.SetCapacity(ctx, s.ID, nil); err != nil || got.Capacity != nil {
		t.Errorf("removing the capacity: %+v, %v", got, err)
	}
}

// "Still correct" re-dates the review, as a new version; a service
// unreviewed for the delay is due.
func TestCatalogMarkReviewed(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	cat, _, s := openCatalog(t, &now)
	ctx := context.Background()
	now = now.Add(181 * 24 * time.Hour)
	if s.ReviewDue(now, cat.ReviewAfter()) {
		t.Errorf("due after 181 days")
	}
	if _, err := cat.SetCapacity(ctx, s.ID, &directory.Capacity{Available: 1}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * 24 * time.Hour)
	cur, _ := cat.Service(ctx, s.ID)
	if !cur.ReviewDue(now, cat.ReviewAfter()) {
		t.Errorf("not due after 183 days (the capacity set since is not a review)")
	}
	got, err := cat.MarkReviewed(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Reviewed.Equal(now) || !got.Updated.After(cur.Updated) || got.ReviewDue(now, cat.ReviewAfter()) {
		t.Errorf("after still correct: reviewed %v, updated %v (was %v)", got.Reviewed, got.Updated, cur.Updated)
	}
}

// Bad dated changes are refused with every problem, nothing stored; an
// ended period already stored may stay.
func TestCatalogRefusesBadPeriods(t *testing.T) {
	now := time.Date(2026, 12, 21, 8, 30, 0, 0, time.UTC)
	cat, st, s := openCatalog(t, &now)
	ctx := context.Background()
	stored, _ := st.Service(ctx, s.ID)
	edit := *stored
	edit.Schedule.Periods = []directory.Period{
		{From: "2026-12-31", To: "2026-12-24", Closed: true},
		{From: "2029-01-01", To: "2029-01-10", Closed: true},
		{From: "2026-11-01", To: "2026-11-05", Closed: true},
		{From: "2027-01-01", To: "2027-02-01", Closed: true},
		{From: "2027-01-15", To: "2027-03-01", Hours: []directory.Slot{{Day: time.Monday, Opens: 600, Closes: 660}}},
	}
	_, err := cat.UpdateService(ctx, &edit)
	p, _ := directory.AsProblems(err)
	want := map[string]directory.Code{"periods[0].to": directory.CodePeriodOrder, "periods[1].from": directory.CodeDateTooFar,
		"periods[2].to": directory.CodeDatePast, "periods[4]": directory.CodePeriodOverlap}
	got := map[string]directory.Code{}
	for _, pr := range p {
		got[pr.Field] = pr.Code
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems %v, want %v", got, want)
	}
	if after, _ := st.Service(ctx, s.ID); !reflect.DeepEqual(after, stored) {
		t.Errorf("refused but stored: %+v", after.Schedule)
	}
	edit.Schedule.Periods = []directory.Period{{From: "2026-12-24", To: "2027-01-03", Closed: true}}
	if _, err := cat.UpdateService(ctx, &edit); err != nil {
		t.Fatal(err)
	}
	now = now.AddDate(0, 1, 0) // the closure has ended; the service is edited again
	cur, _ := st.Service(ctx, s.ID)
	cur.Name = directory.T(directory.FR, "Abri")
	if _, err := cat.UpdateService(ctx, cur); err != nil {
		t.Errorf("an edit keeping an ended period: %v", err)
	}
}
