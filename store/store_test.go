package store

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/directory"
)

func TestOpenRefusals(t *testing.T) {
	_, live, key := openTest(t, Options{})

	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o600)

	// A Badger database with the same key but no Maillage schema.
	alien := filepath.Join(t.TempDir(), "alien")
	db, err := badger.Open(badgerOptions(alien, key, slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("theirs"), []byte("x")) })
	db.Close()

	tests := []struct {
		name    string
		path    string
		key     []byte
		wantErr error
		wantMsg string
	}{
		{"already open", live, key, ErrLocked, "a node may already be running"},
		{"foreign directory", foreign, key, ErrNotAStore, "refusing to create a store there"},
		{"badger without schema", alien, key, ErrNotAStore, "without a Maillage schema"},
		{"no key", filepath.Join(t.TempDir(), "db"), nil, nil, "encryption key has 0 bytes"},
		{"short key", filepath.Join(t.TempDir(), "db"), key[:16], nil, "encryption key has 16 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.path, tt.key, Options{})
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Open = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Open = %q, want it to say %q", err, tt.wantMsg)
			}
		})
	}
	if entries, _ := os.ReadDir(foreign); len(entries) != 1 {
		t.Errorf("Open touched the foreign directory: %d entries, want 1", len(entries))
	}
}

// Nothing written to the store is readable in its files without the key,
// and a wrong key is refused without harming the store.
func TestEncryptedAtRest(t *testing.T) {
	key := newKey(t)
	path := filepath.Join(t.TempDir(), "db")
	s, err := Open(path, key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const marker = "MARKER-Zoë-7f3a9c"
	ctx := context.Background()
	small := sampleService(serviceID(1), marker)
	large := sampleService(serviceID(2), strings.Repeat(marker+" ", valueThreshold/len(marker)+1)) // in the value log
	for _, v := range []*directory.Service{small, large} {
		if err := s.CreateService(ctx, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutSecret(ctx, "k", []byte(marker)); err != nil {
		t.Fatal(err)
	}
	// Read the files while the store is open too: the write-ahead log of
	// the memtable holds the newest records.
	checkFiles := func(when string) {
		files := 0
		filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			files++
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte("MARKER")) {
				t.Errorf("%s: %s holds the marker in clear", when, filepath.Base(p))
			}
			return nil
		})
		if files == 0 {
			t.Fatalf("%s: no store files found", when)
		}
	}
	checkFiles("open")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkFiles("closed")

	wrong := bytes.Repeat([]byte{1}, KeySize)
	if _, err := Open(path, wrong, Options{}); !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "wrong encryption key for "+path) {
		t.Errorf("Open(wrong key) = %v, want ErrWrongKey naming %s", err, path)
	}
	s, err = Open(path, key, Options{})
	if err != nil {
		t.Fatalf("reopen with the right key: %v", err)
	}
	defer s.Close()
	for _, want := range []*directory.Service{small, large} {
		got, err := s.Service(ctx, want.ID)
		if err != nil || got.Name[directory.FR] != want.Name[directory.FR] {
			t.Errorf("Service(%s) after the wrong-key attempt = %v, want the stored name", want.ID, err)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	s, path, key := openTest(t, Options{})
	ctx := context.Background()
	if err := s.CreateService(ctx, sampleService(serviceID(1), "Épicerie"), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping = %v", err)
	}
	if got, err := s.Service(ctx, serviceID(1)); err != nil || got.Name[directory.FR] != "Épicerie" {
		t.Errorf("Service after reopen = %+v, %v", got, err)
	}
}

// Durability against power loss cannot be shown by killing a process (the
// page cache survives it), so the options that give it and keep memory
// small are pinned here.
func TestBadgerOptions(t *testing.T) {
	key := make([]byte, KeySize)
	o := badgerOptions("x", key, slog.New(slog.DiscardHandler))
	checks := []struct {
		name      string
		got, want int64
	}{
		{"SyncWrites", b2i(o.SyncWrites), 1},
		{"DetectConflicts", b2i(o.DetectConflicts), 1},
		{"encryption key size", int64(len(o.EncryptionKey)), KeySize},
		{"MemTableSize", o.MemTableSize, 2 << 20},
		{"NumMemtables", int64(o.NumMemtables), 2},
		{"BlockCacheSize", o.BlockCacheSize, 1 << 20},
		{"IndexCacheSize", o.IndexCacheSize, 4 << 20},
		{"ValueLogFileSize", o.ValueLogFileSize, 16 << 20},
		{"NumCompactors", int64(o.NumCompactors), 2},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// A value-log file of zero bytes, as a process killed while creating one
// leaves it, does not keep the store from opening, and nothing is lost.
func TestOpenAfterTornValueLog(t *testing.T) {
	s, dir, key := openTest(t, Options{})
	ctx := context.Background()
	if err := s.AddNeed(ctx, "sante", "1060", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "000099.vlog"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, key, Options{})
	if err != nil {
		t.Fatalf("open with an empty value log: %v", err)
	}
	defer s.Close()
	n := 0
	s.ForEachNeed(ctx, func(_, _ string, c int) error { n = c; return nil })
	if n != 1 {
		t.Errorf("need count after reopening = %d, want 1", n)
	}
}
