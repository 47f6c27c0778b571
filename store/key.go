package store

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
)

// KeySize is the size of the store's encryption key (AES-256).
const KeySize = 32

// GenerateKey writes a new random key file at path, readable by its owner
// only. It never overwrites an existing file: losing the old key would
// make its store and every backup unreadable.
func GenerateKey(path string) error {
	key := make([]byte, KeySize)
	rand.Read(key) // never fails (crypto/rand, Go 1.24+)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("store: key file %s already exists; refusing to overwrite it", path)
	}
	if err != nil {
		return fmt.Errorf("store: create key file: %w", err)
	}
	if _, err = f.Write(key); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("store: write key file %s: %w", path, err)
	}
	return nil
}

// ReadKey reads a key file, refusing one that is not exactly KeySize bytes
// or that the group or others may access.
func ReadKey(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store: key file %s is missing: the store cannot be opened without it", path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("store: key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("store: key file %s is accessible to group or others (mode %v); run: chmod 600 %s", path, perm, path)
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("store: read key file: %w", err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("store: key file %s has %d bytes, want %d", path, len(key), KeySize)
	}
	return key, nil
}
