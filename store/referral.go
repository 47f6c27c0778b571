package store

import (
	"context"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/referral"
)

// Referrals, consents, withdrawals and the audit log. Consents,
// withdrawals and audit entries are only ever created, never replaced:
// their keys refuse a second write.

// Consent returns a consent.
func (s *Store) Consent(ctx context.Context, id string) (*referral.Consent, error) {
	return readAs[referral.Consent](s, "consent", consentKey(id))
}

// Withdrawals returns a consent's withdrawals, oldest first.
func (s *Store) Withdrawals(ctx context.Context, consentID string) ([]referral.Withdrawal, error) {
	var out []referral.Withdrawal
	err := scan(ctx, s, pWithdrawal+consentID+"/", func(w *referral.Withdrawal) error {
		out = append(out, *w)
		return nil
	})
	return out, err
}

// AddReferral records a new referral, findable by its handle too, with
// what its creation writes, in one transaction.
func (s *Store) AddReferral(ctx context.Context, r *referral.Referral, w referral.Writes) error {
	if r.ID == "" {
		return fmt.Errorf("store: create referral: empty id")
	}
	err := s.withCopiesApart(func(txn *badger.Txn, apart map[string]bool) ([]referral.Blob, error) {
		if err := mustBeAbsent(txn, referralKey(r.ID)); err != nil {
			return nil, err
		}
		if err := txn.Set(referralHandleKey(referral.Handle(r.ID)), []byte(r.ID)); err != nil {
			return nil, err
		}
		if err := set(txn, referralKey(r.ID), r); err != nil {
			return nil, err
		}
		return w.Parts.Blobs, s.writeWith(txn, w, apart)
	})
	if err != nil {
		return fmt.Errorf("store: create referral: %w", err)
	}
	return nil
}

// writeWith records what a referral's change writes with it: consents
// and audit entries are only created, and a withdrawal already recorded
// is left as it is.
func (s *Store) writeWith(txn *badger.Txn, w referral.Writes, apart map[string]bool) error {
	if c := w.Consent; c != nil {
		if c.ID == "" {
			return fmt.Errorf("consent with an empty id")
		}
		if err := mustBeAbsent(txn, consentKey(c.ID)); err != nil {
			return fmt.Errorf("consent %s: %w", c.ID, err)
		}
		if err := set(txn, consentKey(c.ID), c); err != nil {
			return err
		}
	}
	if wd := w.Withdrawal; wd != nil {
		if err := mustExist(txn, consentKey(wd.Consent)); err != nil {
			return fmt.Errorf("withdrawal: %w", err)
		}
		key := withdrawalKey(wd)
		if ok, err := exists(txn, key); err != nil {
			return err
		} else if !ok {
			if err := set(txn, key, wd); err != nil {
				return err
			}
		}
	}
	for i := range w.Audit {
		if err := set(txn, auditKey(&w.Audit[i], s.auditSeq.Add(1)), &w.Audit[i]); err != nil {
			return err
		}
	}
	if err := writeParts(txn, w.Parts, apart); err != nil { // documents and thread messages (parts.go)
		return err
	}
	return addEvents(txn, referralEvents(w.Notices)...)
}

// ReferralByHandle returns the referral with that handle.
func (s *Store) ReferralByHandle(ctx context.Context, handle string) (*referral.Referral, error) {
	return readIndexed[referral.Referral](s, "referral", referralHandleKey(handle), referralKey)
}

// UpdateReferral applies fn to a referral and records it with the writes
// fn returns, in one transaction.
func (s *Store) UpdateReferral(ctx context.Context, id string, fn func(*referral.Referral) (referral.Writes, error)) (*referral.Referral, error) {
	var r referral.Referral
	err := s.withCopiesApart(func(txn *badger.Txn, apart map[string]bool) ([]referral.Blob, error) {
		r = referral.Referral{}
		if err := get(txn, referralKey(id), &r); err != nil {
			return nil, err
		}
		w, err := fn(&r)
		if err != nil {
			return nil, err
		}
		if err := set(txn, referralKey(id), &r); err != nil {
			return nil, err
		}
		return w.Parts.Blobs, s.writeWith(txn, w, apart)
	})
	if err != nil {
		return nil, fmt.Errorf("store: referral: %w", err)
	}
	return &r, nil
}

// Referral returns a referral.
func (s *Store) Referral(ctx context.Context, id string) (*referral.Referral, error) {
	return readAs[referral.Referral](s, "referral", referralKey(id))
}

// ForEachReferral calls fn for every referral.
func (s *Store) ForEachReferral(ctx context.Context, fn func(*referral.Referral) error) error {
	return scan(ctx, s, pReferral, fn)
}

// AppendAudit adds an entry to the audit log.
func (s *Store) AppendAudit(ctx context.Context, e *referral.AuditEntry) error {
	return s.create("audit entry", "audit", auditKey(e, s.auditSeq.Add(1)), e)
}

// ForEachAudit calls fn for every audit entry, oldest first.
func (s *Store) ForEachAudit(ctx context.Context, fn func(*referral.AuditEntry) error) error {
	return scan(ctx, s, pAudit, fn)
}

var _ referral.Store = (*Store)(nil)
