package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Secrets are the node's private keys (actor key, token key, sealing key).
// They live only here, inside the encrypted store, so that one key file
// and one backup cover them; they never reach the data directory in clear.

// Secret returns the secret called name, or ErrNotFound.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	return s.readRaw("secret "+name, secretKey(name))
}

// PutSecret stores the secret called name, replacing any.
func (s *Store) PutSecret(ctx context.Context, name string, value []byte) error {
	if name == "" {
		return errors.New("store: put secret: empty name")
	}
	err := s.update(func(txn *badger.Txn) error { return txn.Set(secretKey(name), value) })
	if err != nil {
		return fmt.Errorf("store: put secret %s: %w", name, err)
	}
	return nil
}
