package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/web/account"
)

func TestUsers(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	a := &account.User{ID: "u1", Email: "a@x.test", Role: account.RoleAdmin, PasswordHash: "$argon2id$v=19$x"}
	b := &account.User{ID: "u2", Email: "b@x.test", Role: account.RoleWorker}
	for _, u := range []*account.User{a, b} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.User(ctx, "u1"); err != nil || got.Email != "a@x.test" || got.PasswordHash != a.PasswordHash {
		t.Errorf("User(u1) = %+v, %v; want a", got, err)
	}
	if got, err := s.UserByEmail(ctx, "b@x.test"); err != nil || got.ID != "u2" {
		t.Errorf("UserByEmail(b) = %+v, %v; want u2", got, err)
	}

	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"CreateUser email taken", func() error { return s.CreateUser(ctx, &account.User{ID: "u3", Email: "a@x.test"}) }, directory.ErrConflict},
		{"CreateUser id taken", func() error { return s.CreateUser(ctx, &account.User{ID: "u1", Email: "new@x.test"}) }, directory.ErrConflict},
		{"UpdateUser onto a taken email", func() error { return s.UpdateUser(ctx, &account.User{ID: "u2", Email: "a@x.test"}) }, directory.ErrConflict},
		{"UpdateUser absent", func() error { return s.UpdateUser(ctx, &account.User{ID: "u9", Email: "z@x.test"}) }, directory.ErrNotFound},
		{"User absent", func() error { _, err := s.User(ctx, "u9"); return err }, directory.ErrNotFound},
		{"UserByEmail absent", func() error { _, err := s.UserByEmail(ctx, "z@x.test"); return err }, directory.ErrNotFound},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, err, tt.want)
		}
	}
	// The refused calls changed nothing.
	if _, err := s.UserByEmail(ctx, "new@x.test"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("UserByEmail(new) after refused create = %v, want ErrNotFound", err)
	}
	if got, _ := s.UserByEmail(ctx, "a@x.test"); got.ID != "u1" {
		t.Errorf("UserByEmail(a) after refused update = %s, want u1", got.ID)
	}

	// An email change moves the index: the old email is free again.
	b.Email, b.Disabled = "c@x.test", true
	if err := s.UpdateUser(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByEmail(ctx, "b@x.test"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("UserByEmail(old email) = %v, want ErrNotFound", err)
	}
	if got, err := s.UserByEmail(ctx, "c@x.test"); err != nil || got.ID != "u2" || !got.Disabled {
		t.Errorf("UserByEmail(new email) = %+v, %v; want disabled u2", got, err)
	}
	if err := s.CreateUser(ctx, &account.User{ID: "u3", Email: "b@x.test"}); err != nil {
		t.Errorf("CreateUser with the freed email = %v, want nil", err)
	}
	// An update that keeps the email keeps the index.
	a.TokenVersion++
	if err := s.UpdateUser(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := s.UserByEmail(ctx, "a@x.test"); err != nil || got.TokenVersion != 1 {
		t.Errorf("UserByEmail(a) after update = %+v, %v; want token version 1", got, err)
	}

	users, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	if len(ids) != 3 || ids[0] != "u1" || ids[2] != "u3" {
		t.Errorf("Users = %v, want [u1 u2 u3]", ids)
	}
}

// Two accounts racing for one email: exactly one gets it.
func TestConcurrentCreateUserOneEmail(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	ids := []string{"u1", "u2", "u3", "u4"}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { errs[i] = s.CreateUser(ctx, &account.User{ID: id, Email: "same@x.test"}) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, directory.ErrConflict) {
			t.Errorf("racing CreateUser = %v, want nil or ErrConflict", err)
		}
	}
	if users, _ := s.Users(ctx); ok != 1 || len(users) != 1 {
		t.Errorf("racing CreateUser: %d succeeded, %d stored; want 1 and 1", ok, len(users))
	}
}

func TestSessions(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC) // far from the wall clock on purpose
	s, _, _ := openTest(t, Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	sess := &account.Session{IDHash: "h1", UserID: "u1", Version: 2, Created: now, Expires: now.Add(time.Hour)}
	if err := s.PutSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	got, err := s.Session(ctx, "h1")
	if err != nil || got.UserID != "u1" || got.Version != 2 || !got.Expires.Equal(sess.Expires) {
		t.Errorf("Session = %+v, %v; want the stored one", got, err)
	}
	now = now.Add(time.Hour)
	if _, err := s.Session(ctx, "h1"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Session at its expiry = %v, want ErrNotFound", err)
	}
	if err := s.PutSession(ctx, &account.Session{IDHash: "h2", Expires: now.Add(-time.Second)}); err == nil {
		t.Error("PutSession of an expired session succeeded")
	}
	if err := s.DeleteSession(ctx, "h1"); err != nil {
		t.Errorf("DeleteSession = %v", err)
	}
	if err := s.DeleteSession(ctx, "h1"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("second DeleteSession = %v, want ErrNotFound", err)
	}
	if _, err := s.Session(ctx, "never"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Session(absent) = %v, want ErrNotFound", err)
	}
}

// Badger itself drops a session once its TTL has passed on the wall clock,
// even while the injected clock still calls it live.
func TestSessionTTL(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a Badger TTL (2 s)")
	}
	t.Parallel()
	frozen := time.Now()
	s, _, _ := openTest(t, Options{Now: func() time.Time { return frozen }})
	ctx := context.Background()
	if err := s.PutSession(ctx, &account.Session{IDHash: "h", UserID: "u", Expires: frozen.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "h"); err != nil {
		t.Fatalf("Session just after PutSession = %v", err)
	}
	if got := dump(t, s)[string(sessionKey("h"))].ExpiresAt; got == 0 {
		t.Error("session stored without a Badger TTL")
	}
	time.Sleep(2100 * time.Millisecond) // TTL is 1 s plus Badger's 1 s rounding margin
	if _, err := s.Session(ctx, "h"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Session after its Badger TTL = %v, want ErrNotFound", err)
	}
	if _, ok := dump(t, s)[string(sessionKey("h"))]; ok {
		t.Error("an expired session is still visible to iteration")
	}
}

// Every session of a person goes, however many they opened (7,000: more
// deletions than one transaction takes), and another person's stay.
func TestDeleteManySessions(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	now := time.Now().UTC()
	for start := 0; start < 7000; start += 500 {
		if err := s.update(func(txn *badger.Txn) error {
			for i := start; i < start+500; i++ {
				hash := fmt.Sprintf("%064x", i)
				if err := set(txn, sessionKey(hash), account.Session{IDHash: hash, UserID: "u1", Created: now, Expires: now.Add(time.Hour)}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	other := account.Session{IDHash: "other", UserID: "u2", Created: now, Expires: now.Add(time.Hour)}
	if err := s.update(func(txn *badger.Txn) error { return set(txn, sessionKey(other.IDHash), other) }); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUserSessions(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if err := s.db.View(func(txn *badger.Txn) error {
		if keys := keysUnder(txn, pSession); len(keys) != 1 || string(keys[0]) != string(sessionKey("other")) {
			t.Errorf("%d sessions left, want only the other person's", len(keys))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
