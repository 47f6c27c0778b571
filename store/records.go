package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/web/account"
)

var (
	_ directory.Store = (*Store)(nil)
	_ account.Store   = (*Store)(nil)
)

// The helpers below run inside one transaction each; records are JSON.

func get(txn *badger.Txn, key []byte, v any) error {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return directory.ErrNotFound
	}
	if err != nil {
		return err
	}
	return item.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func set(txn *badger.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, b)
}

func exists(txn *badger.Txn, key []byte) (bool, error) {
	_, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// read loads the record at key into v.
func (s *Store) read(what string, key []byte, v any) error {
	err := s.db.View(func(txn *badger.Txn) error { return get(txn, key, v) })
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// create stores v at key, failing with ErrConflict if key is taken.
func (s *Store) create(what string, key []byte, v any) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		if ok, err := exists(txn, key); err != nil || ok {
			if ok {
				return directory.ErrConflict
			}
			return err
		}
		return set(txn, key, v)
	})
	if err != nil {
		return fmt.Errorf("store: create %s: %w", what, err)
	}
	return nil
}

// replace stores v at key, failing with ErrNotFound if key is absent.
func (s *Store) replace(what string, key []byte, v any) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		if ok, err := exists(txn, key); err != nil || !ok {
			if err == nil {
				return directory.ErrNotFound
			}
			return err
		}
		return set(txn, key, v)
	})
	if err != nil {
		return fmt.Errorf("store: update %s: %w", what, err)
	}
	return nil
}

// remove deletes key, failing with ErrNotFound if it is absent.
func (s *Store) remove(what string, key []byte) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		if ok, err := exists(txn, key); err != nil || !ok {
			if err == nil {
				return directory.ErrNotFound
			}
			return err
		}
		return txn.Delete(key)
	})
	if err != nil {
		return fmt.Errorf("store: delete %s: %w", what, err)
	}
	return nil
}

// scan decodes every record under prefix, in key order, and passes it to fn.
func scan[T any](ctx context.Context, s *Store, prefix string, fn func(*T) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(prefix)
		opts.PrefetchSize = 16
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			v := new(T)
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, v) }); err != nil {
				return fmt.Errorf("store: decode %s: %w", it.Item().Key(), err)
			}
			if err := fn(v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Organization returns the node's association.
func (s *Store) Organization(ctx context.Context) (*directory.Organization, error) {
	var o directory.Organization
	return &o, s.read("organization", keyOrganization, &o)
}

// PutOrganization stores the node's association.
func (s *Store) PutOrganization(ctx context.Context, o *directory.Organization) error {
	err := s.db.Update(func(txn *badger.Txn) error { return set(txn, keyOrganization, o) })
	if err != nil {
		return fmt.Errorf("store: put organization: %w", err)
	}
	return nil
}

// Service returns the service with id.
func (s *Store) Service(ctx context.Context, id string) (*directory.Service, error) {
	var v directory.Service
	if err := s.read("service "+id, serviceKey(id), &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// CreateService stores a new service.
func (s *Store) CreateService(ctx context.Context, v *directory.Service) error {
	return s.create("service "+v.ID, serviceKey(v.ID), v)
}

// UpdateService replaces a service.
func (s *Store) UpdateService(ctx context.Context, v *directory.Service) error {
	return s.replace("service "+v.ID, serviceKey(v.ID), v)
}

// DeleteService removes a service.
func (s *Store) DeleteService(ctx context.Context, id string) error {
	return s.remove("service "+id, serviceKey(id))
}

// ForEachService calls fn for every service in id order.
func (s *Store) ForEachService(ctx context.Context, fn func(*directory.Service) error) error {
	return scan(ctx, s, pService, fn)
}

// Location returns the location with id.
func (s *Store) Location(ctx context.Context, id string) (*directory.Location, error) {
	var v directory.Location
	if err := s.read("location "+id, locationKey(id), &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// CreateLocation stores a new location.
func (s *Store) CreateLocation(ctx context.Context, v *directory.Location) error {
	return s.create("location "+v.ID, locationKey(v.ID), v)
}

// UpdateLocation replaces a location.
func (s *Store) UpdateLocation(ctx context.Context, v *directory.Location) error {
	return s.replace("location "+v.ID, locationKey(v.ID), v)
}

// DeleteLocation removes a location.
func (s *Store) DeleteLocation(ctx context.Context, id string) error {
	return s.remove("location "+id, locationKey(id))
}

// ForEachLocation calls fn for every location in id order.
func (s *Store) ForEachLocation(ctx context.Context, fn func(*directory.Location) error) error {
	return scan(ctx, s, pLocation, fn)
}

// CreateUser stores a new account; its email must be free.
func (s *Store) CreateUser(ctx context.Context, u *account.User) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		for _, k := range [][]byte{userKey(u.ID), userEmailKey(u.Email)} {
			if ok, err := exists(txn, k); err != nil || ok {
				if ok {
					return directory.ErrConflict
				}
				return err
			}
		}
		if err := txn.Set(userEmailKey(u.Email), []byte(u.ID)); err != nil {
			return err
		}
		return set(txn, userKey(u.ID), u)
	})
	if err != nil {
		return fmt.Errorf("store: create user: %w", err)
	}
	return nil
}

// UpdateUser replaces an account, moving its email index if the email
// changed.
func (s *Store) UpdateUser(ctx context.Context, u *account.User) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		var old account.User
		if err := get(txn, userKey(u.ID), &old); err != nil {
			return err
		}
		if old.Email != u.Email {
			if ok, err := exists(txn, userEmailKey(u.Email)); err != nil || ok {
				if ok {
					return directory.ErrConflict
				}
				return err
			}
			if err := txn.Delete(userEmailKey(old.Email)); err != nil {
				return err
			}
			if err := txn.Set(userEmailKey(u.Email), []byte(u.ID)); err != nil {
				return err
			}
		}
		return set(txn, userKey(u.ID), u)
	})
	if err != nil {
		return fmt.Errorf("store: update user: %w", err)
	}
	return nil
}

// User returns the account with id.
func (s *Store) User(ctx context.Context, id string) (*account.User, error) {
	var u account.User
	if err := s.read("user", userKey(id), &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// UserByEmail returns the account with email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*account.User, error) {
	var u account.User
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(userEmailKey(email))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return directory.ErrNotFound
		}
		if err != nil {
			return err
		}
		id, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		return get(txn, userKey(string(id)), &u)
	})
	if err != nil {
		return nil, fmt.Errorf("store: user by email: %w", err)
	}
	return &u, nil
}

// Users lists every account.
func (s *Store) Users(ctx context.Context) ([]*account.User, error) {
	var out []*account.User
	err := scan(ctx, s, pUser, func(u *account.User) error {
		out = append(out, u)
		return nil
	})
	return out, err
}

// PutSession stores a session until it expires.
func (s *Store) PutSession(ctx context.Context, v *account.Session) error {
	ttl := v.Expires.Sub(s.now())
	if ttl <= 0 {
		return fmt.Errorf("store: put session: already expired")
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		// Badger drops the entry once its TTL passes (by the wall clock);
		// Session also checks Expires against the injected clock.
		return txn.SetEntry(badger.NewEntry(sessionKey(v.IDHash), b).WithTTL(ttl + time.Second))
	})
	if err != nil {
		return fmt.Errorf("store: put session: %w", err)
	}
	return nil
}

// Session returns a live session.
func (s *Store) Session(ctx context.Context, idHash string) (*account.Session, error) {
	var v account.Session
	if err := s.read("session", sessionKey(idHash), &v); err != nil {
		return nil, err
	}
	if !s.now().Before(v.Expires) {
		return nil, fmt.Errorf("store: session: %w", directory.ErrNotFound)
	}
	return &v, nil
}

// DeleteSession removes a session.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	return s.remove("session", sessionKey(idHash))
}

// Secret returns a secret of the node (a private key).
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(secretKey(name))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return directory.ErrNotFound
		}
		if err != nil {
			return err
		}
		out, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: secret %s: %w", name, err)
	}
	return out, nil
}

// PutSecret stores a secret of the node.
func (s *Store) PutSecret(ctx context.Context, name string, value []byte) error {
	err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(secretKey(name), value) })
	if err != nil {
		return fmt.Errorf("store: put secret %s: %w", name, err)
	}
	return nil
}
