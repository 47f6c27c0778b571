package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web/account"
)

var _ account.Store = (*Store)(nil)

// Users are stored under user/<id>; user-email/<email> holds the id, so
// that a login finds its account with two reads and the index, written in
// the same transaction, makes emails unique.

// CreateUser stores a new account, failing with ErrConflict if its id or
// its email is taken.
func (s *Store) CreateUser(ctx context.Context, u *account.User) error {
	if u.ID == "" || u.Email == "" {
		return errors.New("store: create user: empty id or email")
	}
	err := s.update(func(txn *badger.Txn) error {
		for _, k := range [][]byte{userKey(u.ID), userEmailKey(u.Email)} {
			if err := mustBeAbsent(txn, k); err != nil {
				return err
			}
		}
		if err := txn.Set(userEmailKey(u.Email), []byte(u.ID)); err != nil {
			return err
		}
		return set(txn, userKey(u.ID), u)
	})
	if err != nil {
		return fmt.Errorf("store: create user %s: %w", u.ID, err)
	}
	return nil
}

// UpdateUser replaces an account. If its email changed, the index moves
// with it, failing with ErrConflict if the new email is taken.
func (s *Store) UpdateUser(ctx context.Context, u *account.User) error {
	if u.Email == "" {
		return fmt.Errorf("store: update user %s: empty email", u.ID)
	}
	err := s.update(func(txn *badger.Txn) error {
		var old account.User
		if err := get(txn, userKey(u.ID), &old); err != nil {
			return err
		}
		if old.Email != u.Email {
			if err := mustBeAbsent(txn, userEmailKey(u.Email)); err != nil {
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
		return fmt.Errorf("store: update user %s: %w", u.ID, err)
	}
	return nil
}

// User returns the account with id.
func (s *Store) User(ctx context.Context, id string) (*account.User, error) {
	return readAs[account.User](s, "user "+id, userKey(id))
}

// UserByEmail returns the account with email, as stored (the account
// package lower-cases emails before they reach the store).
func (s *Store) UserByEmail(ctx context.Context, email string) (*account.User, error) {
	return readIndexed[account.User](s, "user by email", userEmailKey(email), userKey)
}

// DeleteUser removes an account and its email's index, in one
// transaction. What was kept for the person is removed with it; a
// backlog too large for that transaction (a digest of thousands of
// reminders) is removed first, in chunks.
func (s *Store) DeleteUser(ctx context.Context, u *account.User) error {
	for _, prefix := range []string{pNotification + u.ID + "/", pDigest + u.ID + "/"} {
		err := s.deleteChunked(func(txn *badger.Txn, limit int) ([][]byte, error) {
			if err := mustExist(txn, userKey(u.ID)); err != nil {
				return nil, err
			}
			keys := keysUnder(txn, prefix)
			return keys[:min(len(keys), limit)], nil
		})
		if err != nil {
			return fmt.Errorf("store: delete user %s: %w", u.ID, err)
		}
	}
	err := s.update(func(txn *badger.Txn) error {
		var cur account.User
		if err := get(txn, userKey(u.ID), &cur); err != nil {
			return err
		}
		if err := txn.Delete(userEmailKey(cur.Email)); err != nil {
			return err
		}
		// What was kept for the person goes with the account: their
		// notifications, digest entries and choices (mails still queued
		// for them are dropped when their turn comes).
		for _, prefix := range []string{pNotification + u.ID + "/", pDigest + u.ID + "/"} {
			for _, k := range keysUnder(txn, prefix) {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
		}
		for _, k := range [][]byte{prefsKey(u.ID), digestTakenKey(u.ID)} {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return txn.Delete(userKey(u.ID))
	})
	if err != nil {
		return fmt.Errorf("store: delete user %s: %w", u.ID, err)
	}
	return nil
}

// Users lists every account in id order.
func (s *Store) Users(ctx context.Context) ([]*account.User, error) {
	var out []*account.User
	err := scan(ctx, s, pUser, func(u *account.User) error {
		out = append(out, u)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	return out, nil
}

// PutSession stores a session until it expires. Badger drops the record
// by itself then (its TTL), so abandoned sessions do not pile up.
//
// The TTL is Expires as seen from the injected clock, and Badger counts it
// on the wall clock: with a test clock set apart from the wall clock, a
// session still lives as long as it should. Badger's expiry has a
// resolution of one second, rounded down; the extra second keeps it from
// dropping a session early, and Session checks Expires exactly.
func (s *Store) PutSession(ctx context.Context, v *account.Session) error {
	ttl := v.Expires.Sub(s.now())
	if ttl <= 0 {
		return fmt.Errorf("store: put session: already expired at %s", v.Expires.Format(time.RFC3339))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: put session: %w", err)
	}
	err = s.update(func(txn *badger.Txn) error {
		return txn.SetEntry(badger.NewEntry(sessionKey(v.IDHash), b).WithTTL(ttl + time.Second))
	})
	if err != nil {
		return fmt.Errorf("store: put session: %w", err)
	}
	return nil
}

// Session returns a live session; an expired one is ErrNotFound.
func (s *Store) Session(ctx context.Context, idHash string) (*account.Session, error) {
	v, err := readAs[account.Session](s, "session", sessionKey(idHash))
	if err != nil {
		return nil, err
	}
	if !s.now().Before(v.Expires) {
		return nil, fmt.Errorf("store: session: expired: %w", directory.ErrNotFound)
	}
	return v, nil
}

// DeleteSession removes a session (log out).
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	return s.remove("session", sessionKey(idHash))
}

// DeleteUserSessions removes every session of a user, however many
// (a transaction per deletesPerTxn). Sessions are keyed by the hash of
// their cookie only, so this reads them all: a node has few.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	err := s.deleteChunked(func(txn *badger.Txn, limit int) ([][]byte, error) {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(pSession)
		it := txn.NewIterator(opts)
		defer it.Close()
		var keys [][]byte
		for it.Rewind(); it.Valid() && len(keys) < limit; it.Next() {
			var v account.Session
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &v) }); err != nil {
				return nil, err
			}
			if v.UserID == userID {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
		}
		return keys, nil
	})
	if err != nil {
		return fmt.Errorf("store: delete sessions of %s: %w", userID, err)
	}
	return nil
}

// tokenGrace keeps a token a while after it expires, so that a late use
// is told the link expired rather than that it never existed.
const tokenGrace = time.Hour

// PutAccountToken stores a reset or invitation token, which Badger drops
// tokenGrace after it expires (see PutSession for the clocks).
func (s *Store) PutAccountToken(ctx context.Context, t *account.Token) error {
	ttl := t.Expires.Sub(s.now()) + tokenGrace
	if t.ID == "" || ttl <= 0 {
		return fmt.Errorf("store: put account token %q: no id, or expired", t.ID)
	}
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("store: put account token: %w", err)
	}
	err = s.update(func(txn *badger.Txn) error {
		if err := mustBeAbsent(txn, accountTokenKey(t.ID)); err != nil {
			return err
		}
		return txn.SetEntry(badger.NewEntry(accountTokenKey(t.ID), b).WithTTL(ttl))
	})
	if err != nil {
		return fmt.Errorf("store: put account token %s: %w", t.ID, err)
	}
	return nil
}

// AccountToken returns a reset or invitation token.
func (s *Store) AccountToken(ctx context.Context, id string) (*account.Token, error) {
	return readAs[account.Token](s, "account token "+id, accountTokenKey(id))
}

// UseAccountToken marks a token used and stores its user as fn changed it,
// with the audit entry fn returns, in one transaction (account.Store).
func (s *Store) UseAccountToken(ctx context.Context, id string, fn func(*account.Token, *account.User) (account.AuditEvent, error)) (*account.User, error) {
	var out *account.User
	err := s.update(func(txn *badger.Txn) error {
		item, err := txn.Get(accountTokenKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return directory.ErrNotFound
		}
		if err != nil {
			return err
		}
		var t account.Token
		if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &t) }); err != nil {
			return err
		}
		var u account.User
		if err := get(txn, userKey(t.User), &u); err != nil {
			return err
		}
		email := u.Email
		e, err := fn(&t, &u)
		if err != nil {
			return err
		}
		if u.Email != email || u.ID != t.User {
			return errors.New("the user's id or email changed")
		}
		t.Used = true
		b, err := json.Marshal(&t)
		if err != nil {
			return err
		}
		used := badger.NewEntry(accountTokenKey(id), b)
		used.ExpiresAt = item.ExpiresAt() // the token keeps its end
		if err := txn.SetEntry(used); err != nil {
			return err
		}
		if err := set(txn, userKey(u.ID), &u); err != nil {
			return err
		}
		if err := s.appendAccountAudit(txn, e); err != nil {
			return err
		}
		out = &u
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: use account token %s: %w", id, err)
	}
	return out, nil
}

// AppendAccountAudit adds an account action to the audit log, as an
// entry of no referral whose detail is the account acted on.
func (s *Store) AppendAccountAudit(ctx context.Context, e account.AuditEvent) error {
	if err := s.update(func(txn *badger.Txn) error { return s.appendAccountAudit(txn, e) }); err != nil {
		return fmt.Errorf("store: append account audit: %w", err)
	}
	return nil
}

func (s *Store) appendAccountAudit(txn *badger.Txn, e account.AuditEvent) error {
	entry := &referral.AuditEntry{At: e.At, Who: e.Who, Action: e.Action, Detail: e.Account}
	return set(txn, auditKey(entry, s.auditSeq.Add(1)), entry)
}
