package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/web/account"
)

func newKey(t *testing.T) ([]byte, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "store.key")
	if err := GenerateKey(path); err != nil {
		t.Fatal(err)
	}
	key, err := ReadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	return key, path
}

func openTest(t *testing.T) (*Store, string, []byte) {
	t.Helper()
	key, _ := newKey(t)
	path := filepath.Join(t.TempDir(), "db")
	s, err := Open(path, key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.db.Close() })
	return s, path, key
}

func TestKeyFile(t *testing.T) {
	_, path := newKey(t)
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	if err := GenerateKey(path); err == nil {
		t.Error("GenerateKey overwrote an existing key")
	}
	os.Chmod(path, 0o640)
	if _, err := ReadKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("ReadKey(group-readable) = %v, want a refusal telling to chmod", err)
	}
	short := filepath.Join(t.TempDir(), "short.key")
	os.WriteFile(short, []byte("abc"), 0o600)
	if _, err := ReadKey(short); err == nil || !strings.Contains(err.Error(), "3 bytes") {
		t.Errorf("ReadKey(short) = %v", err)
	}
	if _, err := ReadKey(filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("ReadKey(missing) = %v", err)
	}
}

func sampleService(id, name string) *directory.Service {
	return &directory.Service{ID: id, Name: directory.T(directory.FR, name), Status: directory.StatusActive}
}

func TestServicesCRUD(t *testing.T) {
	s, _, _ := openTest(t)
	ctx := context.Background()
	a := sampleService("a0000000-0000-4000-8000-000000000001", "Épicerie")
	if err := s.CreateService(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateService(ctx, a); !errors.Is(err, directory.ErrConflict) {
		t.Errorf("second create = %v, want ErrConflict", err)
	}
	got, err := s.Service(ctx, a.ID)
	if err != nil || got.Name[directory.FR] != "Épicerie" {
		t.Fatalf("Service = %+v, %v", got, err)
	}
	a.Name = directory.T(directory.FR, "Épicerie sociale")
	if err := s.UpdateService(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Service(ctx, a.ID); got.Name[directory.FR] != "Épicerie sociale" {
		t.Errorf("after update: %v", got.Name)
	}
	missing := "b0000000-0000-4000-8000-000000000002"
	if _, err := s.Service(ctx, missing); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Service(missing) = %v, want ErrNotFound", err)
	}
	if err := s.UpdateService(ctx, sampleService(missing, "x")); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("UpdateService(missing) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteService(ctx, missing); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("DeleteService(missing) = %v, want ErrNotFound", err)
	}
	s.CreateService(ctx, sampleService(missing, "Cours"))
	var ids []string
	s.ForEachService(ctx, func(v *directory.Service) error { ids = append(ids, v.ID); return nil })
	if len(ids) != 2 || ids[0] != a.ID || ids[1] != missing {
		t.Errorf("ForEachService ids = %v, want both in order", ids)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.ForEachService(ctx, func(*directory.Service) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("ForEachService did not stop on fn's error: %v after %d", err, n)
	}
	if err := s.DeleteService(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Service(ctx, a.ID); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
}

func TestLocationsAndOrganization(t *testing.T) {
	s, _, _ := openTest(t)
	ctx := context.Background()
	if _, err := s.Organization(ctx); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Organization before put = %v, want ErrNotFound", err)
	}
	o := &directory.Organization{ID: "o1", Name: directory.T(directory.NL, "Buurthuis")}
	if err := s.PutOrganization(ctx, o); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Organization(ctx); err != nil || got.Name[directory.NL] != "Buurthuis" {
		t.Errorf("Organization = %+v, %v", got, err)
	}
	l := &directory.Location{ID: "l1", Name: directory.T(directory.FR, "Accueil"), Point: &directory.Point{Lat: 50.8, Lon: 4.3}}
	if err := s.CreateLocation(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLocation(ctx, l); !errors.Is(err, directory.ErrConflict) {
		t.Errorf("second create = %v", err)
	}
	l.Point.Lat = 50.9
	s.UpdateLocation(ctx, l)
	if got, _ := s.Location(ctx, "l1"); got.Point.Lat != 50.9 {
		t.Errorf("location after update = %+v", got.Point)
	}
	count := 0
	s.ForEachLocation(ctx, func(*directory.Location) error { count++; return nil })
	if count != 1 {
		t.Errorf("locations = %d", count)
	}
	if err := s.DeleteLocation(ctx, "l1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLocation(ctx, "l1"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("second delete = %v", err)
	}
}

func TestUsersAndSessions(t *testing.T) {
	s, _, _ := openTest(t)
	ctx := context.Background()
	now := time.Now()
	s.now = func() time.Time { return now }
	a := &account.User{ID: "u1", Email: "a@x.test", Role: account.RoleAdmin}
	b := &account.User{ID: "u2", Email: "b@x.test", Role: account.RoleWorker}
	for _, u := range []*account.User{a, b} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateUser(ctx, &account.User{ID: "u3", Email: "a@x.test"}); !errors.Is(err, directory.ErrConflict) {
		t.Errorf("duplicate email = %v, want ErrConflict", err)
	}
	b.Email = "a@x.test"
	if err := s.UpdateUser(ctx, b); !errors.Is(err, directory.ErrConflict) {
		t.Errorf("email change onto a taken one = %v, want ErrConflict", err)
	}
	b.Email = "c@x.test"
	if err := s.UpdateUser(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByEmail(ctx, "b@x.test"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("old email still finds the user: %v", err)
	}
	if got, err := s.UserByEmail(ctx, "c@x.test"); err != nil || got.ID != "u2" {
		t.Errorf("UserByEmail(new) = %+v, %v", got, err)
	}
	if users, _ := s.Users(ctx); len(users) != 2 {
		t.Errorf("Users = %d", len(users))
	}

	sess := &account.Session{IDHash: "h1", UserID: "u1", Expires: now.Add(time.Hour)}
	if err := s.PutSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Session(ctx, "h1"); err != nil || got.UserID != "u1" {
		t.Errorf("Session = %+v, %v", got, err)
	}
	now = now.Add(2 * time.Hour)
	if _, err := s.Session(ctx, "h1"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("expired session = %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, "h1"); err != nil {
		t.Errorf("DeleteSession = %v", err)
	}
	if err := s.PutSession(ctx, &account.Session{IDHash: "h2", Expires: now.Add(-time.Second)}); err == nil {
		t.Error("an already expired session was stored")
	}
}

func TestConcurrentWrites(t *testing.T) {
	s, _, _ := openTest(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				id := fmt.Sprintf("%08d-0000-4000-8000-%012d", g, i)
				if err := s.CreateService(ctx, sampleService(id, "x")); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	n := 0
	s.ForEachService(ctx, func(*directory.Service) error { n++; return nil })
	if n != 200 {
		t.Errorf("services = %d, want 200", n)
	}
}

// Nothing written to the store is readable in its files without the key.
func TestEncryptedAtRest(t *testing.T) {
	key, _ := newKey(t)
	path := filepath.Join(t.TempDir(), "db")
	s, err := Open(path, key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const marker = "MARKER-Zoë-7f3a9c"
	ctx := context.Background()
	s.CreateService(ctx, sampleService("a0000000-0000-4000-8000-000000000001", marker))
	s.CreateService(ctx, sampleService("a0000000-0000-4000-8000-000000000002", strings.Repeat(marker, 200))) // goes to the value log
	s.PutSecret(ctx, "k", []byte(marker))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	files := 0
	filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte(marker)) || bytes.Contains(b, []byte("MARKER")) {
			t.Errorf("%s holds the marker in clear", filepath.Base(p))
		}
		return nil
	})
	if files == 0 {
		t.Fatal("no store files found")
	}

	wrong := bytes.Repeat([]byte{1}, KeySize)
	if _, err := Open(path, wrong, Options{}); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Open(wrong key) = %v, want ErrWrongKey", err)
	}
	s, err = Open(path, key, Options{})
	if err != nil {
		t.Fatalf("reopen with the right key: %v", err)
	}
	defer s.Close()
	if got, err := s.Service(ctx, "a0000000-0000-4000-8000-000000000001"); err != nil || got.Name[directory.FR] != marker {
		t.Errorf("data after the wrong-key attempt: %+v, %v", got, err)
	}
}

func TestOpenRefusals(t *testing.T) {
	s, path, key := openTest(t)
	if _, err := Open(path, key, Options{}); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open = %v, want ErrLocked", err)
	}
	_ = s
	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o600)
	if _, err := Open(foreign, key, Options{}); !errors.Is(err, ErrNotAStore) {
		t.Errorf("Open(foreign dir) = %v, want ErrNotAStore", err)
	}
	if entries, _ := os.ReadDir(foreign); len(entries) != 1 {
		t.Errorf("Open touched the foreign directory: %d entries", len(entries))
	}
}

func TestMigrations(t *testing.T) {
	key, _ := newKey(t)
	path := filepath.Join(t.TempDir(), "db")
	v1 := []migration{{1, "initial", func(*badger.Txn) error { return nil }}}
	s, err := Open(path, key, Options{migrations: v1})
	if err != nil {
		t.Fatal(err)
	}
	s.CreateService(context.Background(), sampleService("a0000000-0000-4000-8000-000000000001", "old name"))
	s.Close()

	// Version 2 renames every service; it runs once, at the next Open.
	runs := 0
	v2 := append(v1, migration{2, "rename", func(txn *badger.Txn) error {
		runs++
		var sv directory.Service
		if err := get(txn, serviceKey("a0000000-0000-4000-8000-000000000001"), &sv); err != nil {
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
		if v, _ := s.SchemaVersion(); v != 2 {
			t.Errorf("schema version = %d, want 2", v)
		}
		s.Close()
	}
	if runs != 1 {
		t.Errorf("migration ran %d times, want 1", runs)
	}
	s, _ = Open(path, key, Options{migrations: v2})
	got, _ := s.Service(context.Background(), "a0000000-0000-4000-8000-000000000001")
	s.Close()
	if got.Name[directory.FR] != "new name" {
		t.Errorf("migrated name = %q", got.Name[directory.FR])
	}
	// A binary that knows only version 1 refuses the newer store.
	if _, err := Open(path, key, Options{migrations: v1}); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Open(newer schema) = %v, want ErrNewerSchema", err)
	}
	if v := migrations[len(migrations)-1].version; v < 1 {
		t.Errorf("latest schema version = %d", v)
	}
}

// dump returns every key/value pair of the store.
func dump(t *testing.T, s *Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out[string(it.Item().Key())] = string(v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	s, _, key := openTest(t)
	ctx := context.Background()
	s.PutOrganization(ctx, &directory.Organization{ID: "o", Name: directory.T(directory.FR, "Maison")})
	for i := range 300 { // several backup chunks
		s.CreateService(ctx, sampleService(fmt.Sprintf("a0000000-0000-4000-8000-%012d", i), strings.Repeat("nom ", 50)))
	}
	s.CreateUser(ctx, &account.User{ID: "u1", Email: "a@x.test", PasswordHash: "$argon2id$…"})
	s.PutSecret(ctx, "actor", []byte{0, 1, 2, 255})
	var buf bytes.Buffer
	if err := s.Backup(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("Maison")) || bytes.Contains(buf.Bytes(), []byte("a@x.test")) {
		t.Error("the backup holds plaintext")
	}
	// The store stays writable during and after a backup.
	if err := s.CreateService(ctx, sampleService("f0000000-0000-4000-8000-000000000001", "after")); err != nil {
		t.Fatal(err)
	}
	want := dump(t, s)
	delete(want, string(serviceKey("f0000000-0000-4000-8000-000000000001")))

	dst := filepath.Join(t.TempDir(), "restored")
	if err := Restore(dst, key, bytes.NewReader(buf.Bytes()), Options{}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dst, key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := dump(t, r)
	r.Close()
	if len(got) != len(want) {
		t.Errorf("restored %d pairs, want %d", len(got), len(want))
	}
	var diff []string
	for k, v := range want {
		if got[k] != v {
			diff = append(diff, k)
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Errorf("restored values differ for %d keys, first %q", len(diff), diff[0])
	}

	bad := func(name string, data []byte, k []byte, wantErr error) {
		t.Helper()
		dir := filepath.Join(t.TempDir(), name)
		err := Restore(dir, k, bytes.NewReader(data), Options{})
		if !errors.Is(err, wantErr) {
			t.Errorf("%s: Restore = %v, want %v", name, err, wantErr)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: a failed restore left %s behind", name, dir)
		}
	}
	b := buf.Bytes()
	bad("truncated", b[:len(b)-100], key, ErrBadBackup)
	bad("cut at a chunk", b[:len(b)/2], key, ErrBadBackup)
	flipped := bytes.Clone(b)
	flipped[len(flipped)/2] ^= 1
	bad("flipped", flipped, key, ErrBadBackup)
	bad("not a backup", []byte("hello"), key, ErrBadBackup)
	bad("wrong key", b, bytes.Repeat([]byte{9}, KeySize), ErrWrongKey)

	// Never into a directory that holds something.
	busy := t.TempDir()
	os.WriteFile(filepath.Join(busy, "keep.txt"), []byte("keep"), 0o600)
	if err := Restore(busy, key, bytes.NewReader(b), Options{}); err == nil {
		t.Error("Restore into a non-empty directory succeeded")
	}
	if c, _ := os.ReadFile(filepath.Join(busy, "keep.txt")); string(c) != "keep" {
		t.Error("Restore touched a non-empty directory")
	}
}

// Durability against power loss cannot be shown by killing a process (the
// page cache survives it), so the option that gives it is pinned here.
func TestOptionsSyncWritesAndStayLean(t *testing.T) {
	o := badgerOptions("x", make([]byte, KeySize), slogDiscard())
	if !o.SyncWrites {
		t.Error("SyncWrites is off: acknowledged writes could be lost on power failure")
	}
	if o.MemTableSize > 8<<20 || o.BlockCacheSize > 8<<20 || o.IndexCacheSize == 0 || o.IndexCacheSize > 4<<20 || o.NumMemtables > 2 {
		t.Errorf("options grew: memtable %d ×%d, block cache %d, index cache %d", o.MemTableSize, o.NumMemtables, o.BlockCacheSize, o.IndexCacheSize)
	}
}
