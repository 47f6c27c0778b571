package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/directory"
)

var _ directory.Store = (*Store)(nil)

// Organization returns the node's association, or ErrNotFound before the
// node was set up.
func (s *Store) Organization(ctx context.Context) (*directory.Organization, error) {
	return readAs[directory.Organization](s, "organization", keyOrganization)
}

// PutOrganization stores the node's association, replacing any.
func (s *Store) PutOrganization(ctx context.Context, o *directory.Organization) error {
	err := s.update(func(txn *badger.Txn) error { return set(txn, keyOrganization, o) })
	if err != nil {
		return fmt.Errorf("store: put organization: %w", err)
	}
	return nil
}

// Service returns the service with id.
func (s *Store) Service(ctx context.Context, id string) (*directory.Service, error) {
	return readAs[directory.Service](s, "service "+id, serviceKey(id))
}

// CreateService stores a new service, failing with ErrConflict if its id
// is taken, and records a (when not nil) with it.
func (s *Store) CreateService(ctx context.Context, v *directory.Service, a *directory.Announcement) error {
	if v.ID == "" {
		return fmt.Errorf("store: create service: empty id")
	}
	return s.writeService("create service "+v.ID, v.ID, a, func(txn *badger.Txn) error {
		if err := mustBeAbsent(txn, serviceKey(v.ID)); err != nil {
			return err
		}
		return set(txn, serviceKey(v.ID), v)
	})
}

// UpdateService replaces an existing service, and records a (when not
// nil) with it.
func (s *Store) UpdateService(ctx context.Context, v *directory.Service, a *directory.Announcement) error {
	return s.writeService("update service "+v.ID, v.ID, a, func(txn *badger.Txn) error {
		if err := mustExist(txn, serviceKey(v.ID)); err != nil {
			return err
		}
		return set(txn, serviceKey(v.ID), v)
	})
}

// DeleteService removes a service, and records a (when not nil) with it.
func (s *Store) DeleteService(ctx context.Context, id string, a *directory.Announcement) error {
	return s.writeService("delete service "+id, id, a, func(txn *badger.Txn) error {
		if err := mustExist(txn, serviceKey(id)); err != nil {
			return err
		}
		return txn.Delete(serviceKey(id))
	})
}

// writeService runs write and records a in one transaction. A service
// has one record at most: a later change's replaces an earlier one's,
// and announces the service as it is then.
func (s *Store) writeService(what, id string, a *directory.Announcement, write func(*badger.Txn) error) error {
	err := s.update(func(txn *badger.Txn) error {
		if err := write(txn); err != nil {
			return err
		}
		if a == nil {
			return nil
		}
		if a.Service != id {
			return fmt.Errorf("announcement of service %s", a.Service)
		}
		return set(txn, unannouncedKey(id), a)
	})
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// Unannounced calls fn for every change recorded and not yet announced.
func (s *Store) Unannounced(ctx context.Context, fn func(directory.Announcement) error) error {
	return scan(ctx, s, pUnannounced, func(a *directory.Announcement) error { return fn(*a) })
}

// Announced removes the record of a, unless a later change replaced it.
func (s *Store) Announced(ctx context.Context, a directory.Announcement) error {
	err := s.update(func(txn *badger.Txn) error {
		var cur directory.Announcement
		switch err := get(txn, unannouncedKey(a.Service), &cur); {
		case errors.Is(err, directory.ErrNotFound):
			return nil
		case err != nil:
			return err
		case cur.Activity != a.Activity:
			return nil
		}
		return txn.Delete(unannouncedKey(a.Service))
	})
	if err != nil {
		return fmt.Errorf("store: announced: %w", err)
	}
	return nil
}

// CountServices counts the node's services from their keys, without
// reading or decrypting a value.
func (s *Store) CountServices(ctx context.Context) (int, error) {
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = []byte(pService)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return ctx.Err()
	})
	return n, err
}

// ForEachService calls fn for every service in id order, from one
// snapshot, until fn returns an error, which it returns as is.
func (s *Store) ForEachService(ctx context.Context, fn func(*directory.Service) error) error {
	return scan(ctx, s, pService, fn)
}

// ServicesPage calls fn for the services at positions [offset,
// offset+limit) in id order, reading only their values: a list page of
// 50 among 10,000 decodes 50.
func (s *Store) ServicesPage(ctx context.Context, offset, limit int, fn func(*directory.Service) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = []byte(pService)
		it := txn.NewIterator(opts)
		defer it.Close()
		i := 0
		for it.Rewind(); it.Valid() && i < offset+limit; it.Next() {
			if i++; i <= offset {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			v := new(directory.Service)
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

// ServicesSince calls fn for every service of the node, as forEachSince
// does: with the service if it was written after version since, with nil
// otherwise.
func (s *Store) ServicesSince(ctx context.Context, since uint64, fn func(id string, svc *directory.Service) error) error {
	return forEachSince(ctx, s, pService, since, fn)
}

// PlacesWrittenSince reports whether the organisation or a location was
// written after version since: what the node's services show of them
// (provider name, points) may then have changed. Locations cannot be
// deleted while a service uses them.
func (s *Store) PlacesWrittenSince(ctx context.Context, since uint64) (bool, error) {
	if ok, err := s.writtenSince("", keyOrganization, since); ok || err != nil {
		return ok, err
	}
	return s.writtenSince(pLocation, nil, since)
}

// Location returns the location with id.
func (s *Store) Location(ctx context.Context, id string) (*directory.Location, error) {
	return readAs[directory.Location](s, "location "+id, locationKey(id))
}

// CreateLocation stores a new location, failing with ErrConflict if its id
// is taken.
func (s *Store) CreateLocation(ctx context.Context, v *directory.Location) error {
	return s.create("location", v.ID, locationKey(v.ID), v)
}

// UpdateLocation replaces an existing location.
func (s *Store) UpdateLocation(ctx context.Context, v *directory.Location) error {
	return s.replace("location "+v.ID, locationKey(v.ID), v)
}

// DeleteLocation removes a location.
func (s *Store) DeleteLocation(ctx context.Context, id string) error {
	return s.remove("location "+id, locationKey(id))
}

// ForEachLocation calls fn for every location in id order, from one
// snapshot, until fn returns an error, which it returns as is.
func (s *Store) ForEachLocation(ctx context.Context, fn func(*directory.Location) error) error {
	return scan(ctx, s, pLocation, fn)
}
