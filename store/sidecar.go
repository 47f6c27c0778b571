package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// A sidecar is a file kept beside the store that caches something derived
// from it (the search index): encrypted like a backup, and stamped with
// the store's version when written, so that it is used only if the store
// has not changed since. Nothing is lost with a sidecar: without one, or
// with a stale or damaged one, the caller rebuilds from the store.

const sidecarMagic = "MAILLAGE-SIDECAR 1\n"

// ErrStaleSidecar reports a sidecar written for another state of the store.
var ErrStaleSidecar = errors.New("store: sidecar does not match the store")

// Version identifies the store's current state: every committed write
// changes it.
func (s *Store) Version() uint64 { return s.db.MaxVersion() }

// SaveSidecar writes path atomically with what write produces, stamped
// with the store's current version. Call it when nothing writes to the
// store, or the stamp may not match what was written.
func (s *Store) SaveSidecar(path string, write func(io.Writer) error) (err error) {
	version := s.Version()
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

// LoadSidecar reads path with read if it matches the store's current
// state, then removes it: a sidecar serves one start. It returns
// os.ErrNotExist when there is none, ErrStaleSidecar when the store has
// changed since, and read's error or ErrBadBackup when it is damaged; in
// every case the caller rebuilds what the sidecar held.
func (s *Store) LoadSidecar(path string, read func(io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer f.Close()
	r, err := openBackup(f, s.key, sidecarMagic)
	if err != nil {
		return err
	}
	var version uint64
	if err := binary.Read(r, binary.BigEndian, &version); err != nil {
		return fmt.Errorf("%w: %v", ErrBadBackup, err)
	}
	if version != s.Version() {
		return fmt.Errorf("%w: written at version %d, store at %d", ErrStaleSidecar, version, s.Version())
	}
	if err := read(r); err != nil {
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
