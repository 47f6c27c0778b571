package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
)

// Shared statistics: the admin's choice to share the node's statistics
// with its partners, and what partners share (federation/stats.go).

func partnerStatsKey(actor string) []byte { return []byte(pPartnerStats + actor) }

// StatsSharing reports whether the admin chose to share the node's
// statistics with its partners; false until chosen.
func (s *Store) StatsSharing(ctx context.Context) (bool, error) {
	var on bool
	err := s.read("statistics sharing", keyShareStats, &on)
	if errors.Is(err, directory.ErrNotFound) {
		return false, nil
	}
	return on, err
}

// SetStatsSharing records the admin's choice.
func (s *Store) SetStatsSharing(ctx context.Context, on bool) error {
	err := s.update(func(txn *badger.Txn) error { return set(txn, keyShareStats, on) })
	if err != nil {
		return fmt.Errorf("store: statistics sharing: %w", err)
	}
	return nil
}

// PutPartnerStats keeps the statistics a partner shares, replacing what
// it shared before unless that is newer; applied reports whether it did.
func (s *Store) PutPartnerStats(ctx context.Context, v *federation.PartnerStats) (applied bool, err error) {
	applied, err = putIfNewer(s, partnerStatsKey(v.Actor), v, func(x *federation.PartnerStats) time.Time { return x.Updated })
	if err != nil {
		return false, fmt.Errorf("store: partner statistics: %w", err)
	}
	return applied, nil
}

// DeletePartnerStats forgets what a partner shared, if anything.
func (s *Store) DeletePartnerStats(ctx context.Context, actor string) error {
	key := partnerStatsKey(actor)
	var cur federation.PartnerStats
	if err := s.read("partner statistics", key, &cur); errors.Is(err, directory.ErrNotFound) {
		return nil // the usual case: no write for nothing
	}
	err := s.remove("partner statistics", key)
	if errors.Is(err, directory.ErrNotFound) {
		return nil
	}
	return err
}

// ForEachPartnerStats calls fn with what each partner shares.
func (s *Store) ForEachPartnerStats(ctx context.Context, fn func(*federation.PartnerStats) error) error {
	return scan(ctx, s, pPartnerStats, fn)
}

func statsMonthKey(month string) []byte { return []byte(pStatsMonth + month) }

// FrozenStatsMonths gives the node's own shared months as they were
// frozen, oldest first.
func (s *Store) FrozenStatsMonths(ctx context.Context) ([]federation.StatsMonth, error) {
	var out []federation.StatsMonth
	err := scan(ctx, s, pStatsMonth, func(m *federation.StatsMonth) error {
		out = append(out, *m)
		return nil
	})
	return out, err
}

// FreezeStatsMonth keeps the node's shared statistics of a month unless
// that month is already kept, and returns what is kept: a month, once
// computed, never changes.
func (s *Store) FreezeStatsMonth(ctx context.Context, m *federation.StatsMonth) (*federation.StatsMonth, error) {
	if m.Month == "" {
		return nil, errors.New("store: shared statistics: a month without its name")
	}
	key := statsMonthKey(m.Month)
	var kept federation.StatsMonth
	err := s.update(func(txn *badger.Txn) error {
		switch err := get(txn, key, &kept); {
		case err == nil:
			return nil
		case !errors.Is(err, directory.ErrNotFound):
			return err
		}
		kept = *m
		return set(txn, key, m)
	})
	if err != nil {
		return nil, fmt.Errorf("store: shared statistics: %w", err)
	}
	return &kept, nil
}
