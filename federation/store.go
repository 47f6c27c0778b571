package federation

import (
	"context"
	"errors"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
)

// ErrNotTheirs is an actor's word about a service of another actor.
var ErrNotTheirs = errors.New("federation: the service is another actor's")

// Store is what federation needs from persistence. Lookups of absent
// records fail with directory.ErrNotFound. Every write is durable when it
// returns: what a peer sent is acknowledged only after that.
type Store interface {
	Relation(ctx context.Context, actor string) (*Relation, error)
	RelationByID(ctx context.Context, id string) (*Relation, error)
	PutRelation(ctx context.Context, r *Relation) error
	DeleteRelation(ctx context.Context, actor string) error
	Relations(ctx context.Context) ([]*Relation, error)

	PartnerService(ctx context.Context, uri string) (*directory.PartnerService, error)
	// PutPartnerService stores a replicated service (backfill), unless a
	// newer version is stored or it was deleted since; stored reports
	// whether it was.
	PutPartnerService(ctx context.Context, s *directory.PartnerService) (stored bool, err error)
	// ApplyPartnerService stores a service an activity brought, in one
	// transaction with the activity's seen mark, unless the activity was
	// seen before or a newer version is stored; applied reports whether it
	// was stored.
	ApplyPartnerService(ctx context.Context, s *directory.PartnerService, activityID string, ttl time.Duration) (applied bool, err error)
	// DeletePartnerService removes a replicated service (its partner is
	// gone, or the partnership ended): a later backfill may bring it back.
	DeletePartnerService(ctx context.Context, uri string) error
	// WithdrawPartnerService removes a service its partner deleted, and
	// remembers the deletion for ttl, even when no copy is held: a
	// version not later than at, arriving late or read before it, is not
	// stored again. A copy held of another actor's service is left, with
	// ErrNotTheirs; removed reports whether a copy was held.
	WithdrawPartnerService(ctx context.Context, uri, actor string, at time.Time, ttl time.Duration) (removed bool, err error)
	ForEachPartnerService(ctx context.Context, fn func(*directory.PartnerService) error) error

	// MarkSeen records an activity id and reports whether it was new; an
	// id is remembered for ttl.
	MarkSeen(ctx context.Context, activityID string, ttl time.Duration) (bool, error)
	Seen(ctx context.Context, activityID string) (bool, error)

	// QueueActivity stores an activity once with one delivery per inbox,
	// in one transaction.
	QueueActivity(ctx context.Context, activityID string, activity []byte, ds []*Delivery) error
	// QueuedActivity returns the activity of a delivery.
	QueuedActivity(ctx context.Context, activityID string) ([]byte, error)
	// RescheduleDelivery replaces old by next, its new attempt count and
	// time, unless old was removed meanwhile.
	RescheduleDelivery(ctx context.Context, old, next *Delivery) error
	// DeleteDelivery removes a delivery, and its activity with the last one.
	DeleteDelivery(ctx context.Context, d *Delivery) error
	// DueDeliveries returns up to limit deliveries whose NextAt is not
	// after now, the oldest first.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*Delivery, error)
	CountDeliveries(ctx context.Context) (int, error)

	Blocked(ctx context.Context, host string) (bool, error)
	SetBlocked(ctx context.Context, host string, blocked bool) error
	BlockedHosts(ctx context.Context) ([]string, error)

	// ForEachNeed gives the node's own unmet-need counts, to share.
	ForEachNeed(ctx context.Context, fn func(theme, area string, count int) error) error
	// PutPartnerNeeds keeps a partner's counts unless newer ones are
	// stored; DeletePartnerNeeds forgets them.
	PutPartnerNeeds(ctx context.Context, v *directory.PartnerNeeds) (applied bool, err error)
	DeletePartnerNeeds(ctx context.Context, actor string) error

	// ForEachReferral gives the node's referral records, to count them
	// for the shared statistics (stats.go).
	ForEachReferral(ctx context.Context, fn func(*referral.Referral) error) error
	// StatsSharing is the admin's choice to share the statistics with
	// partners (false until made).
	StatsSharing(ctx context.Context) (bool, error)
	SetStatsSharing(ctx context.Context, on bool) error
	// PutPartnerStats keeps a partner's statistics unless a newer report
	// is stored; DeletePartnerStats forgets them.
	PutPartnerStats(ctx context.Context, v *PartnerStats) (applied bool, err error)
	DeletePartnerStats(ctx context.Context, actor string) error
	ForEachPartnerStats(ctx context.Context, fn func(*PartnerStats) error) error
	// FrozenStatsMonths gives the node's own shared months, as computed
	// once and kept; FreezeStatsMonth keeps m unless its month is already
	// kept, and returns what is kept (the first computed wins).
	FrozenStatsMonths(ctx context.Context) ([]StatsMonth, error)
	FreezeStatsMonth(ctx context.Context, m *StatsMonth) (*StatsMonth, error)
}
