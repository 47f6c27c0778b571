package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
)

// A sidecar is a file kept beside the store that caches something derived
// from it (the search index): encrypted like a backup, and stamped with a
// version of the store (see Version) up to which it holds every change.
// The caller brings it up to date with the changes written since, which
// the store can list by version (PartnerServicesSince). Nothing is lost
// with a sidecar: without one, or with a damaged one, the caller rebuilds
// from the store.

const sidecarMagic = "MAILLAGE-SIDECAR 2\n"

// ErrStaleSidecar reports a sidecar written for another store: one this
// store was restored from, or which has not reached its version.
var ErrStaleSidecar = errors.New("store: sidecar does not match the store")

// Version identifies the store's current state: every committed write
// makes it larger, and every record carries the version that wrote it.
// It is the timestamp a new read transaction reads at, which counts every
// commit made so far; Badger's MaxVersion reads the memtable's while a
// commit writes it, a data race (TestVersionWhileWriting).
func (s *Store) Version() uint64 {
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	return txn.ReadTs()
}

// SaveSidecar writes path atomically with what write produces, stamped
// with version: what write produces must hold every change the store
// committed up to that version.
func (s *Store) SaveSidecar(path string, version uint64, write func(io.Writer) error) (err error) {
	if version > s.Version() {
		return fmt.Errorf("store: sidecar stamped %d, ahead of the store at %d", version, s.Version())
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("store: sidecar: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	err = writeBackup(context.Background(), f, s.key, sidecarMagic, func(w io.Writer) error {
		if _, err := w.Write(s.lineage); err != nil {
			return err
		}
		if err := binary.Write(w, binary.BigEndian, version); err != nil {
			return err
		}
		return write(w)
	})
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		return fmt.Errorf("store: sidecar %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store: sidecar: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("store: sidecar: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// LoadSidecar reads path with read, which is given the version the
// sidecar was stamped with. It returns os.ErrNotExist when there is none,
// ErrStaleSidecar when it belongs to another store, and read's error or
// ErrBadBackup when it is damaged (tampering included: it is
// authenticated with the store's key); in every case the caller rebuilds
// what the sidecar held. The file stays: the next start may use it too.
func (s *Store) LoadSidecar(path string, read func(r io.Reader, version uint64) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := openBackup(f, s.key, sidecarMagic)
	if err != nil {
		return err
	}
	lineage := make([]byte, len(s.lineage))
	var version uint64
	if _, err := io.ReadFull(r, lineage); err != nil {
		return fmt.Errorf("%w: %v", ErrBadBackup, err)
	}
	if err := binary.Read(r, binary.BigEndian, &version); err != nil {
		return fmt.Errorf("%w: %v", ErrBadBackup, err)
	}
	switch {
	case !bytes.Equal(lineage, s.lineage):
		return fmt.Errorf("%w: written for a store restored since, or for another one", ErrStaleSidecar)
	case version > s.Version():
		return fmt.Errorf("%w: written at version %d, store at %d", ErrStaleSidecar, version, s.Version())
	}
	if err := read(r, version); err != nil {
		return err
	}
	// The last chunk authenticates the end of the file.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// lineage returns the store's lineage id, making one for a new store.
// Versions are comparable within one lineage only: a store restored from a
// backup starts a new one (newLineage), even when the versions it carries
// are those of the store it came from.
func lineage(db *badger.DB) ([]byte, error) {
	var id []byte
	err := db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(keyLineage)
		if err != nil {
			return err
		}
		id, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		if err := newLineage(db); err != nil {
			return nil, err
		}
		return lineage(db)
	}
	if err == nil && len(id) != lineageSize {
		err = fmt.Errorf("lineage id of %d bytes", len(id))
	}
	return id, err
}

const lineageSize = 16

func newLineage(db *badger.DB) error {
	id := make([]byte, lineageSize)
	rand.Read(id)
	return db.Update(func(txn *badger.Txn) error { return txn.Set(keyLineage, id) })
}
