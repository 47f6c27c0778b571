package node

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web/notify"
)

// newNotifier builds the node's notifications: e-mail when SMTP is
// configured (or a Mailer given, in tests), in the app always.
// Its unsubscribe links are signed with a key derived from the token
// seed, so that nothing more is kept.
func (n *Node) newNotifier(seed []byte) (*notify.Notifier, error) {
	mac := hmac.New(sha256.New, seed)
	mac.Write([]byte("maillage unsubscribe links"))
	key := mac.Sum(nil)
	mailer := n.cfg.Mailer
	if mailer == nil && n.cfg.SMTP.URL != "" {
		var err error
		if mailer, err = newSMTP(n.cfg.SMTP); err != nil {
			return nil, err
		}
	}
	return notify.New(notify.Options{
		Store: n.Store, People: n.Store, Subjects: subjects{n}, Mailer: mailer, Renderer: n.Web,
		Key: key, Logger: n.cfg.Logger, Now: n.cfg.Now, Every: n.cfg.NotifyEvery, FirstRetry: n.cfg.MailRetry,
		Registry: n.Metrics.Registry,
	})
}

// subjects tells the notifier who a referral event concerns.
type subjects struct{ n *Node }

func (s subjects) Subject(ctx context.Context, ev *notify.Event) (notify.Subject, error) {
	r, err := s.n.Store.Referral(ctx, ev.Referral)
	if errors.Is(err, directory.ErrNotFound) {
		return notify.Subject{}, nil
	}
	if err != nil {
		return notify.Subject{}, err
	}
	out := notify.Subject{Worker: r.CreatedBy, Side: string(r.Side)}
	if id, ok := strings.CutPrefix(r.Service, s.n.ID.BaseURL+"/services/"); ok {
		out.Service = id
	}
	return out, nil
}

// remind records the reminders due: unanswered and expiring referrals,
// and services not reviewed for a long time.
func (n *Node) remind(ctx context.Context) error {
	k, err := n.Referrals.Remind(ctx, referral.Reminders{After: n.cfg.ReminderAfter, Before: n.cfg.ExpiryWarning}, n.cfg.Retention)
	if err != nil {
		return err
	}
	stale, err := n.staleServices(ctx)
	if err != nil {
		return err
	}
	if len(stale) > 0 {
		if err := n.Notify.AddEvents(ctx, stale...); err != nil {
			return err
		}
	}
	if k+len(stale) > 0 {
		n.Notify.Wake()
		n.cfg.Logger.Info("reminders", "referrals", k, "services", len(stale))
	}
	return nil
}

// staleServices are the events of the node's services not reviewed for
// longer than the review delay: one per service and review, since the
// event's id names the time it was last reviewed (created, edited, or
// said "still correct"). A change of its capacity alone is no review:
// it neither puts the reminder off nor asks again.
func (n *Node) staleServices(ctx context.Context) ([]notify.Event, error) {
	after := n.cfg.ReviewAfter
	if after <= 0 {
		after = directory.DefaultReviewAfter
	}
	now := n.cfg.Now()
	var out []notify.Event
	err := n.Catalog.ForEachService(ctx, func(s *directory.Service) error {
		if s.Status != directory.StatusActive || !s.ReviewDue(now, after) {
			return nil
		}
		out = append(out, notify.Event{ID: fmt.Sprintf("service-stale/%s/%d", s.ID, s.ReviewedAt().Unix()),
			Kind: notify.ServiceStale, At: now.UTC(), Service: s.ID})
		return nil
	})
	return out, err
}

// newSMTP builds the SMTP mailer.
func newSMTP(c notify.SMTPConfig) (notify.Mailer, error) { return notify.NewSMTP(c) }
