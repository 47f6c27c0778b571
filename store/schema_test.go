package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/directory"
)

func TestFreshStoreHasLatestSchema(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	got, err := s.SchemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	if want := latestVersion(migrations); got != want {
		t.Errorf("SchemaVersion() = %d, want %d", got, want)
	}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	key := newKey(t)
	path := filepath.Join(t.TempDir(), "db")
	v1 := []migration{{1, "initial", func(*badger.Txn) error { return nil }}}
	s, err := Open(path, key, Options{migrations: v1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateService(ctx, sampleService(serviceID(1), "old name"), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Version 2 renames the service; it runs once, at the next Open.
	runs := 0
	v2 := append(v1, migration{2, "rename", func(txn *badger.Txn) error {
		runs++
		var sv directory.Service
		if err := get(txn, serviceKey(serviceID(1)), &sv); err != nil {
			return err
		}
		sv.Name = directory.T(directory.FR, "new name")
		return set(txn, serviceKey(sv.ID), &sv)
	}})
	for range 2 {
		s, err = Open(path, key, Options{migrations: v2})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.SchemaVersion(); got != 2 {
			t.Errorf("SchemaVersion() = %d, want 2", got)
		}
		s.Close()
	}
	if runs != 1 {
		t.Errorf("migration ran %d times, want 1", runs)
	}
	s, err = Open(path, key, Options{migrations: v2})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Service(ctx, serviceID(1))
	s.Close()
	if err != nil || got.Name[directory.FR] != "new name" {
		t.Errorf("migrated service = %v, %v; want the new name", got, err)
	}

	// A binary that knows only version 1 refuses the newer store.
	if _, err := Open(path, key, Options{migrations: v1}); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Open(newer schema) = %v, want ErrNewerSchema", err)
	}
}

// A failing migration leaves the store at its old version, with nothing
// of the failed migration applied.
func TestFailedMigrationRollsBack(t *testing.T) {
	key := newKey(t)
	path := filepath.Join(t.TempDir(), "db")
	v1 := []migration{{1, "initial", func(*badger.Txn) error { return nil }}}
	s, err := Open(path, key, Options{migrations: v1})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	boom := errors.New("boom")
	v2 := append(v1, migration{2, "half", func(txn *badger.Txn) error {
		if err := txn.Set([]byte("half/done"), []byte("x")); err != nil {
			return err
		}
		return boom
	}})
	if _, err := Open(path, key, Options{migrations: v2}); !errors.Is(err, boom) {
		t.Fatalf("Open(failing migration) = %v, want boom", err)
	}
	s, err = Open(path, key, Options{migrations: v1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, _ := s.SchemaVersion(); got != 1 {
		t.Errorf("SchemaVersion() after a failed migration = %d, want 1", got)
	}
	if _, ok := dump(t, s)["half/done"]; ok {
		t.Error("a failed migration left a write behind")
	}
}

func TestCheckMigrations(t *testing.T) {
	nop := func(*badger.Txn) error { return nil }
	tests := []struct {
		name string
		ms   []migration
		ok   bool
	}{
		{"shipped", migrations, true},
		{"empty", []migration{}, false},
		{"not from 1", []migration{{2, "x", nop}}, false},
		{"gap", []migration{{1, "a", nop}, {3, "c", nop}}, false},
		{"no apply", []migration{{1, "a", nil}}, false},
	}
	for _, tt := range tests {
		if err := checkMigrations(tt.ms); (err == nil) != tt.ok {
			t.Errorf("checkMigrations(%s) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
