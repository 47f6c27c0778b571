package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/web/account"
)

// fill writes one of every kind of record, with enough services to span
// several backup chunks.
func fill(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.PutOrganization(ctx, &directory.Organization{ID: "o", Name: directory.T(directory.FR, "Maison")}))
	for i := range 300 {
		must(s.CreateService(ctx, sampleService(serviceID(i), strings.Repeat("nom ", 200)), nil))
	}
	must(s.CreateLocation(ctx, &directory.Location{ID: "l1", Name: directory.T(directory.NL, "Onthaal")}))
	must(s.CreateUser(ctx, &account.User{ID: "u1", Email: "a@x.test", PasswordHash: "$argon2id$…"}))
	must(s.PutSession(ctx, &account.Session{IDHash: "h1", UserID: "u1", Expires: time.Now().Add(time.Hour)}))
	must(s.PutSecret(ctx, "actor", []byte{0, 1, 2, 255}))
	must(s.DeleteService(ctx, serviceID(299), nil)) // a deletion must not come back
}

func backup(t *testing.T, s *Store) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Backup(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	s, _, key := openTest(t, Options{})
	fill(t, s)
	b := backup(t, s)
	for _, clear := range []string{"Maison", "a@x.test", "nom nom", "Onthaal"} {
		if bytes.Contains(b, []byte(clear)) {
			t.Errorf("the backup holds %q in clear", clear)
		}
	}
	want := dump(t, s)
	if _, ok := want[string(secretKey("actor"))]; !ok || len(want) < 300 {
		t.Fatalf("dump of the source holds %d pairs, without the secret?", len(want))
	}

	dst := filepath.Join(t.TempDir(), "restored")
	if err := Restore(dst, key, bytes.NewReader(b), Options{}); err != nil {
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
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("restored %q = %+v (present %v), want %+v", k, g, ok, w)
		}
	}

	// An existing empty directory is fine too.
	empty := t.TempDir()
	if err := Restore(empty, key, bytes.NewReader(b), Options{}); err != nil {
		t.Errorf("Restore into an empty directory = %v", err)
	}
}

// The store stays open and writable while a backup streams, and the backup
// is the snapshot of the moment it began.
func TestBackupWhileWriting(t *testing.T) {
	s, _, key := openTest(t, Options{})
	fill(t, s)
	before := dump(t, s)
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 1000; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.CreateService(ctx, sampleService(serviceID(i), "during"), nil); err != nil {
				t.Error(err)
				return
			}
		}
	})
	b := backup(t, s)
	close(stop)
	wg.Wait()

	dst := filepath.Join(t.TempDir(), "restored")
	if err := Restore(dst, key, bytes.NewReader(b), Options{}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dst, key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := dump(t, r)
	for k, w := range before {
		if got[k] != w {
			t.Errorf("restored %q = %+v, want %+v", k, got[k], w)
		}
	}
}

func TestRestoreRefusesBadBackups(t *testing.T) {
	s, _, key := openTest(t, Options{})
	fill(t, s)
	b := backup(t, s)
	if len(b) < 3*chunkSize {
		t.Fatalf("backup is %d bytes; the test needs several chunks", len(b))
	}
	header := len(backupMagic) + saltSize + checkSize
	firstChunk := header + 4 + chunkSize + 16 // end of the first sealed chunk
	flip := func(i int) []byte { c := bytes.Clone(b); c[i] ^= 1; return c }
	swapped := bytes.Clone(b) // chunks 1 and 2 exchanged
	copy(swapped[firstChunk:], b[firstChunk+(firstChunk-header):2*firstChunk-header])
	copy(swapped[2*firstChunk-header:], b[firstChunk:2*firstChunk-header])

	tests := []struct {
		name    string
		data    []byte
		key     []byte
		want    error
		wantMsg string
	}{
		{"truncated mid-chunk", b[:len(b)-100], key, ErrBadBackup, "truncated"},
		{"cut at a chunk boundary", b[:firstChunk], key, ErrBadBackup, "truncated"},
		{"header only", b[:header], key, ErrBadBackup, "truncated"},
		{"byte flipped in a chunk", flip(len(b) / 2), key, ErrBadBackup, "damaged"},
		{"byte flipped in a length", flip(header + 1), key, ErrBadBackup, ""},
		{"chunks reordered", swapped, key, ErrBadBackup, "out of place"},
		{"trailing garbage", append(bytes.Clone(b), 0), key, ErrBadBackup, "after the last chunk"},
		{"not a backup", []byte("hello, this is not a backup at all, really not"), key, ErrBadBackup, "unknown format"},
		{"empty", nil, key, ErrBadBackup, "unknown format"},
		{"wrong key", b, bytes.Repeat([]byte{9}, KeySize), ErrWrongKey, "another store key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "restored")
			err := Restore(dir, tt.key, bytes.NewReader(tt.data), Options{})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Restore = %v, want %v saying %q", err, tt.want, tt.wantMsg)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed restore left %s behind", dir)
			}
		})
	}

	// A failure in an existing empty directory leaves it empty.
	empty := t.TempDir()
	if err := Restore(empty, key, bytes.NewReader(b[:len(b)/2]), Options{}); !errors.Is(err, ErrBadBackup) {
		t.Errorf("Restore(truncated, empty dir) = %v, want ErrBadBackup", err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("a failed restore left %d entries in an empty directory", len(entries))
	}
}

func TestRestoreRefusesNonEmptyDir(t *testing.T) {
	s, path, key := openTest(t, Options{})
	fill(t, s)
	b := backup(t, s)
	busy := t.TempDir()
	os.WriteFile(filepath.Join(busy, "keep.txt"), []byte("keep"), 0o600)
	if err := Restore(busy, key, bytes.NewReader(b), Options{}); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("Restore(non-empty dir) = %v, want ErrNotEmpty", err)
	}
	if entries, _ := os.ReadDir(busy); len(entries) != 1 {
		t.Errorf("Restore touched a non-empty directory: %d entries, want 1", len(entries))
	}
	if c, _ := os.ReadFile(filepath.Join(busy, "keep.txt")); string(c) != "keep" {
		t.Error("Restore changed a file of a non-empty directory")
	}
	// Not into a live store either, even one made with the same key.
	before := dump(t, s)
	if err := Restore(path, key, bytes.NewReader(b), Options{}); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("Restore(live store) = %v, want ErrNotEmpty", err)
	}
	if after := dump(t, s); len(after) != len(before) {
		t.Errorf("live store has %d pairs after a refused restore, want %d", len(after), len(before))
	}
}

// A backup from a newer schema is refused at restore, leaving nothing.
func TestRestoreRefusesNewerSchema(t *testing.T) {
	nop := func(*badger.Txn) error { return nil }
	v2 := []migration{{1, "initial", nop}, {2, "next", nop}}
	s, _, key := openTest(t, Options{migrations: v2})
	b := backup(t, s)
	dir := filepath.Join(t.TempDir(), "restored")
	if err := Restore(dir, key, bytes.NewReader(b), Options{}); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Restore(newer schema) = %v, want ErrNewerSchema", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused restore left %s behind", dir)
	}
}

func TestBackupCancelled(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	fill(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	if err := s.Backup(ctx, &buf); err == nil {
		t.Error("Backup with a cancelled context succeeded")
	}
}
