package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
)

// Unmet needs signalled at a node ("I could not find a service for…")
// are shared with its partners as counts by theme and area, nothing more:
// the note a person may add to a need never leaves the node.

// typeNeedsReport is the object that carries a node's counts.
const typeNeedsReport = "NeedsReport"

// Bounds of a partner's report: themes × areas is a few hundred in
// Brussels; counts are of people asking, not of requests a script sends.
const (
	maxNeedCounts = 5000
	maxNeedCount  = 1_000_000
)

// NeedsReport is a node's unmet-need counts as it shares them.
type NeedsReport struct {
	ID           string                `json:"id"`
	Type         asType                `json:"type"`
	AttributedTo string                `json:"attributedTo"`
	Updated      time.Time             `json:"updated"`
	Counts       []directory.NeedCount `json:"counts"`
}

// PublishNeeds sends the node's unmet-need counts to its partners, unless
// they already have these very counts; sent reports whether it did. The
// node calls it periodically (Options.NeedsEvery).
func (f *Federator) PublishNeeds(ctx context.Context) (sent bool, err error) {
	counts := []directory.NeedCount{}
	err = f.o.Store.ForEachNeed(ctx, func(theme, area string, n int) error {
		counts = append(counts, directory.NeedCount{Theme: theme, Area: area, Count: n})
		return nil
	})
	if err != nil {
		return false, err
	}
	inboxes, err := f.partnerInboxes(ctx)
	if err != nil || len(inboxes) == 0 {
		return false, err
	}
	// What was sent, to whom: a new partner gets the counts too.
	stamp := append(mustJSON(counts), strings.Join(inboxes, " ")...)
	f.mu.Lock()
	same := bytes.Equal(stamp, f.needsSent)
	f.mu.Unlock()
	if same {
		return false, nil
	}
	report := NeedsReport{ID: f.base + "/needs", Type: typeNeedsReport, AttributedTo: f.actorID, Updated: f.now().UTC(), Counts: counts}
	act := Activity{Context: ldContext, ID: f.activityID(), Type: typeUpdate, Actor: f.actorID, Object: mustJSON(report), To: []string{f.base + "/followers"}}
	if err := f.queue.enqueue(ctx, mustJSON(act), inboxes); err != nil {
		return false, err
	}
	f.mu.Lock()
	f.needsSent = stamp
	f.mu.Unlock()
	return true, nil
}

// partnerInboxes returns the inboxes of partners: associations that
// follow us and that we follow, both accepted.
func (f *Federator) partnerInboxes(ctx context.Context) ([]string, error) {
	rels, err := f.o.Store.Relations(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rels {
		if r.State() != "partner" || r.Kind != KindAssociation {
			continue
		}
		in := r.Inbox
		if r.SharedInbox != "" {
			in = r.SharedInbox
		}
		if !slices.Contains(out, in) {
			out = append(out, in)
		}
	}
	slices.Sort(out)
	return out, nil
}

// onNeedsReport keeps a partner's counts, replacing its previous report.
func (f *Federator) onNeedsReport(ctx context.Context, a *Activity) (outcome, error) {
	r, err := f.cachedRelation(ctx, a.Actor)
	if errors.Is(err, directory.ErrNotFound) || (err == nil && (r.Ours != StateAccepted || r.Kind != KindAssociation)) {
		return appliedUnrecorded, nil // not a partner we follow: nothing kept
	}
	if err != nil {
		return appliedNot, err
	}
	rep, err := f.readNeedsReport(a.Object, a.Actor)
	if err != nil {
		return appliedNot, refuse(http.StatusBadRequest, "payload", err)
	}
	if _, err := f.o.Store.PutPartnerNeeds(ctx, &directory.PartnerNeeds{Actor: a.Actor, Updated: rep.Updated, Counts: rep.Counts}); err != nil {
		return appliedNot, err
	}
	return appliedUnrecorded, nil
}

// readNeedsReport checks a partner's report: its own, within bounds, on
// themes of the shared taxonomy and postcodes, each pair once.
func (f *Federator) readNeedsReport(raw json.RawMessage, actor string) (*NeedsReport, error) {
	var rep NeedsReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, fmt.Errorf("needs report: %w", err)
	}
	switch {
	case rep.AttributedTo != actor || hostOf(rep.ID) != hostOf(actor):
		return nil, errors.New("needs report: not the sender's own")
	case rep.Updated.IsZero():
		return nil, errors.New("needs report: no updated time")
	case len(rep.Counts) > maxNeedCounts:
		return nil, fmt.Errorf("needs report: more than %d counts", maxNeedCounts)
	}
	tax := f.o.Catalog.Taxonomy()
	seen := map[[2]string]bool{}
	for i, c := range rep.Counts {
		key := [2]string{c.Theme, c.Area}
		switch {
		case !slices.ContainsFunc(tax.Categories, func(t directory.Term) bool { return t.Code == c.Theme }):
			return nil, fmt.Errorf("needs report: counts[%d]: theme is not a top-level theme of the taxonomy", i)
		case !isPostcode(c.Area):
			return nil, fmt.Errorf("needs report: counts[%d]: area is not a postcode", i)
		case c.Count < 1 || c.Count > maxNeedCount:
			return nil, fmt.Errorf("needs report: counts[%d]: count out of range", i)
		case seen[key]:
			return nil, fmt.Errorf("needs report: counts[%d]: theme and area given twice", i)
		}
		seen[key] = true
	}
	return &rep, nil
}

// isPostcode reports whether s is a Belgian postcode: four digits, the
// first not 0.
func isPostcode(s string) bool {
	if len(s) != 4 || s[0] == '0' {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
