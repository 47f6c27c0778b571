package federation

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
)

// relStore answers relation lookups with one relation, if any.
type relStore struct {
	noStore
	rel *Relation
}

func (s relStore) Relation(_ context.Context, actor string) (*Relation, error) {
	if s.rel != nil && s.rel.Actor == actor {
		return s.rel, nil
	}
	return nil, directory.ErrNotFound
}

type fakeReferrals struct {
	calls []string
	err   error
}

func (f *fakeReferrals) Offered(_ context.Context, from string, partner bool, o *ReferralObject) error {
	f.calls = append(f.calls, fmt.Sprintf("offer %s partner=%v %s", from, partner, o.ID))
	return f.err
}

func (f *fakeReferrals) StatusReported(_ context.Context, from string, st *ReferralStatus) error {
	f.calls = append(f.calls, fmt.Sprintf("status %s %s %s", from, st.Referral, st.State))
	return f.err
}

func (f *fakeReferrals) ErasureRequested(_ context.Context, from string, e *ReferralErasure) error {
	f.calls = append(f.calls, fmt.Sprintf("erase %s %s", from, e.Referral))
	return f.err
}

const (
	us   = "https://b.example/actor"
	them = "https://a.example/actor"
)

func referralFederator(t *testing.T, partner bool, h Referrals) *Federator {
	t.Helper()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	st := relStore{}
	if partner {
		st.rel = &Relation{Actor: them, Ours: StateAccepted, Theirs: StateAccepted, Kind: KindAssociation}
	}
	f, err := New(Options{BaseURL: "https://b.example", Handle: "b", Key: key, SealingKey: []byte{1},
		Catalog: directory.NewCatalog(memCatalogStore{}, directory.Options{}), Store: st, Referrals: h})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func offer(change func(a *Activity, o *ReferralObject)) *Activity {
	o := ReferralObject{ID: "https://a.example/referrals/1", Type: typeReferral, AttributedTo: them, To: []string{us},
		Service: "https://b.example/services/s1", Sealed: []byte("sealed"),
		Consent: referral.ConsentSummary{ID: "c", Method: referral.OnScreen, Categories: []directory.DataCategory{directory.DataIdentity},
			NoticeVersion: "1", GivenAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}}
	a := &Activity{ID: "https://a.example/activities/1", Type: typeOffer, Actor: them, To: []string{us}}
	if change != nil {
		change(a, &o)
	}
	a.Object = mustJSON(o)
	return a
}

func status(referralID string, typ string) *Activity {
	return &Activity{ID: "https://a.example/activities/2", Type: typ, Actor: them, To: []string{us},
		Object: mustJSON(ReferralStatus{Type: typeReferralStatus, Referral: referralID, State: referral.Accepted})}
}

func codeOf(err error) int {
	var ie *inboxError
	if errors.As(err, &ie) {
		return ie.code
	}
	if err != nil {
		return 500
	}
	return 202
}

func TestReferralActivitiesAreCheckedThenHandedOver(t *testing.T) {
	ctx := context.Background()
	h := &fakeReferrals{}
	f := referralFederator(t, true, h)
	if handled, err := f.onReferral(ctx, offer(nil)); !handled || err != nil {
		t.Fatalf("valid offer: handled %v, %v", handled, err)
	}
	if handled, err := f.onReferral(ctx, status("https://b.example/referrals/9", typeAccept)); !handled || err != nil {
		t.Fatalf("valid status: %v %v", handled, err)
	}
	erase := &Activity{ID: "https://a.example/activities/3", Type: typeDelete, Actor: them, To: []string{us},
		Object: mustJSON(ReferralErasure{Type: typeReferralErasure, Referral: "https://a.example/referrals/1"})}
	if handled, err := f.onReferral(ctx, erase); !handled || err != nil {
		t.Fatalf("valid erasure: %v %v", handled, err)
	}
	want := []string{"offer " + them + " partner=true https://a.example/referrals/1", "status " + them + " https://b.example/referrals/9 accepted",
		"erase " + them + " https://a.example/referrals/1"}
	if strings.Join(h.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls = %q", h.calls)
	}

	bad := map[string]struct {
		a    *Activity
		code int
	}{
		"cc'd": {offer(func(a *Activity, _ *ReferralObject) { a.Cc = []string{"https://a.example/followers"} }), 403},
		"public": {offer(func(a *Activity, _ *ReferralObject) {
			a.To = []string{us, "https://www.w3.org/ns/activitystreams#Public"}
		}), 403},
		"to someone else":   {offer(func(a *Activity, _ *ReferralObject) { a.To = []string{"https://c.example/actor"} }), 403},
		"object to others":  {offer(func(_ *Activity, o *ReferralObject) { o.To = []string{us, "https://c.example/actor"} }), 400},
		"id on other host":  {offer(func(_ *Activity, o *ReferralObject) { o.ID = "https://c.example/referrals/1" }), 400},
		"not attributed":    {offer(func(_ *Activity, o *ReferralObject) { o.AttributedTo = "https://c.example/actor" }), 400},
		"not our service":   {offer(func(_ *Activity, o *ReferralObject) { o.Service = "https://c.example/services/s" }), 400},
		"oversized payload": {offer(func(_ *Activity, o *ReferralObject) { o.Sealed = make([]byte, maxSealed+1) }), 400},
		"empty payload":     {offer(func(_ *Activity, o *ReferralObject) { o.Sealed = nil }), 400},
		"unknown category": {offer(func(_ *Activity, o *ReferralObject) {
			o.Consent.Categories = []directory.DataCategory{"religion"}
		}), 400},
		"status of another node's referral": {status("https://c.example/referrals/9", typeUpdate), 400},
		"erasure of someone else's": {&Activity{ID: "https://a.example/activities/4", Type: typeDelete, Actor: them, To: []string{us},
			Object: mustJSON(ReferralErasure{Type: typeReferralErasure, Referral: "https://c.example/referrals/1"})}, 400},
	}
	for name, tt := range bad {
		h.calls = nil
		handled, err := f.onReferral(ctx, tt.a)
		if !handled || codeOf(err) != tt.code {
			t.Errorf("%s: handled %v, answer %d (%v), want %d", name, handled, codeOf(err), err, tt.code)
		}
		if len(h.calls) != 0 {
			t.Errorf("%s: handed over anyway: %v", name, h.calls)
		}
	}

	// The handler's refusals are answered, never as 500.
	for err, code := range map[error]int{referral.ErrRefused: http.StatusForbidden, referral.ErrTransition: http.StatusConflict, directory.ErrNotFound: http.StatusNotFound} {
		h.err = fmt.Errorf("%w: because", err)
		if _, got := f.onReferral(ctx, offer(nil)); codeOf(got) != code {
			t.Errorf("handler error %v answered %d, want %d", err, codeOf(got), code)
		}
	}

	// A non-partner's offer says so; a node without referrals refuses them.
	h2 := &fakeReferrals{}
	if _, err := referralFederator(t, false, h2).onReferral(ctx, offer(nil)); err != nil || len(h2.calls) != 1 || !strings.Contains(h2.calls[0], "partner=false") {
		t.Errorf("non-partner offer: %v %v", err, h2.calls)
	}
	if _, err := referralFederator(t, true, nil).onReferral(ctx, offer(nil)); codeOf(err) != http.StatusForbidden {
		t.Errorf("node without referrals: %v", err)
	}
	// Other activities are not referral business.
	page := &Activity{ID: "https://a.example/activities/5", Type: typeUpdate, Actor: them, Object: json.RawMessage(`{"type": "Page"}`)}
	if handled, _ := f.onReferral(ctx, page); handled {
		t.Error("a service update was taken for a referral")
	}
}

// A suggested service travels only with referred-elsewhere, as a Service,
// in a report about one of this node's referrals; anything else is
// refused whole (400) and reaches no handler.
func TestSuggestionOnTheWire(t *testing.T) {
	ctx := context.Background()
	report := func(st ReferralStatus) *Activity {
		st.Type = typeReferralStatus
		return &Activity{ID: "https://a.example/activities/5", Type: typeReject, Actor: them, To: []string{us}, Object: mustJSON(st)}
	}
	g := &SuggestedService{ID: "https://c.example/services/fle", Type: "Service",
		NameMap: LangMap{{Lang: "fr", Value: "Cours de français"}, {Lang: "nl-BE", Value: "Frans"}, {Lang: "de", Value: "Französisch"}}, Provider: "Babel"}
	h := &fakeReferrals{}
	f := referralFederator(t, true, h)
	ok := ReferralStatus{Referral: "https://b.example/referrals/9", State: referral.Rejected, Reason: referral.ReferredElsewhere, Suggestion: g}
	if _, err := f.onReferral(ctx, report(ok)); err != nil {
		t.Fatalf("valid suggestion: %v", err)
	}
	if names := g.Names(); names[directory.FR] != "Cours de français" || names[directory.NL] != "Frans" || len(names) != 2 {
		t.Errorf("names read: %v", names)
	}
	for name, st := range map[string]ReferralStatus{
		"another reason": {Referral: "https://b.example/referrals/9", State: referral.Rejected, Reason: "no-capacity", Suggestion: g},
		"not a Service": {Referral: "https://b.example/referrals/9", State: referral.Rejected, Reason: referral.ReferredElsewhere,
			Suggestion: &SuggestedService{ID: g.ID, Type: "Person", NameMap: g.NameMap}},
		"with a cancellation of theirs": {Referral: "https://a.example/referrals/1", State: referral.Cancelled, Reason: referral.ReferredElsewhere, Suggestion: g},
	} {
		if _, err := f.onReferral(ctx, report(st)); codeOf(err) != 400 {
			t.Errorf("%s: %d %v", name, codeOf(err), err)
		}
	}
	if len(h.calls) != 1 {
		t.Errorf("handler calls: %q", h.calls)
	}
}
