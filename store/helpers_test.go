package store

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/directory"
)

// newKey writes a fresh key file in a temp dir and returns the key.
func newKey(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "store.key")
	if err := GenerateKey(path); err != nil {
		t.Fatal(err)
	}
	key, err := ReadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// openTest opens a new store in a temp dir, closed at the end of the test.
func openTest(t *testing.T, opts Options) (s *Store, path string, key []byte) {
	t.Helper()
	key = newKey(t)
	path = filepath.Join(t.TempDir(), "db")
	s, err := Open(path, key, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() }) // a second Close is a no-op in Badger
	return s, path, key
}

func serviceID(n int) string { return fmt.Sprintf("a0000000-0000-4000-8000-%012d", n) }

func sampleService(id, name string) *directory.Service {
	return &directory.Service{ID: id, Name: directory.T(directory.FR, name), Status: directory.StatusActive}
}

// kv is one stored pair as dump sees it: the value and Badger's metadata
// that a restore must also bring back.
type kv struct {
	Value     string
	ExpiresAt uint64
	UserMeta  byte
}

// dump returns every key/value pair of the store, internal keys aside,
// and the lineage id too, which a restore renews (TestSidecar).
func dump(t *testing.T, s *Store) map[string]kv {
	t.Helper()
	out := map[string]kv{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if bytes.Equal(item.Key(), keyLineage) {
				continue
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			out[string(item.KeyCopy(nil))] = kv{string(v), item.ExpiresAt(), item.UserMeta()}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
