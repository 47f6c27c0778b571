package referral_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/store"
)

const marker = "Zorglub-Quintessence-4417" // the resident's name: must never show

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

type fixture struct {
	svc      *referral.Service
	st       *store.Store
	dir      string
	target   referral.Target
	theirs   *referral.Keyring
	ctx      context.Context
	notice   string
	consent  referral.ConsentInput
	resident json.RawMessage
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "store.key")
	if err := store.GenerateKey(keyPath); err != nil {
		t.Fatal(err)
	}
	key, err := store.ReadKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "db"), key, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keyring := func() *referral.Keyring {
		raw, err := referral.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		k, err := referral.NewKeyring(raw)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	ours, theirs := keyring(), keyring()
	f := &fixture{
		svc:    &referral.Service{Store: st, Keys: ours, Actor: "https://a.example/actor", Base: "https://a.example", Now: func() time.Time { return t0 }},
		st:     st,
		dir:    dir,
		theirs: theirs,
		ctx:    context.Background(),
		target: referral.Target{Service: "https://b.example/services/s1", Recipient: "https://b.example/actor", Partner: true, SealingKey: theirs.Public(),
			Policy: &directory.ReferralPolicy{Accepts: true, From: directory.FromPartners,
				Categories: []directory.DataCategory{directory.DataIdentity, directory.DataContact, directory.DataSituation}}},
		consent: referral.ConsentInput{Method: referral.OnScreen, NoticeVersion: "2026-11", NoticeHash: strings.Repeat("0f", 32), NoticeLang: "fr",
			Categories: []directory.DataCategory{directory.DataIdentity, directory.DataContact}, GivenAt: t0.Add(-time.Minute)},
		resident: json.RawMessage(`{"name": "` + marker + `", "phone": "+32 470 12 34 56"}`),
	}
	return f
}

func (f *fixture) create() (*referral.Referral, error) {
	return f.svc.Create(f.ctx, f.target, referral.Request{Resident: f.resident, Consent: f.consent, Worker: "worker-1"})
}

func TestCreateSealsOnlyWhatIsConsented(t *testing.T) {
	f := newFixture(t)
	r, err := f.create()
	if err != nil {
		t.Fatal(err)
	}
	if r.State != referral.Requested || r.Side != referral.Sender || !strings.HasPrefix(r.ID, "https://a.example/referrals/") {
		t.Errorf("referral = %+v", r)
	}
	if r.Consent.ExpiresAt != f.consent.GivenAt.Add(referral.DefaultConsentDays*24*time.Hour) {
		t.Errorf("default expiry = %v", r.Consent.ExpiresAt)
	}
	// The recipient opens what it was sent, with the right binding only.
	bind := referral.Binding{Referral: r.ID, Sender: "https://a.example/actor", Recipient: "https://b.example/actor"}
	pt, err := f.theirs.Open(r.Outbox.Offer, bind)
	if err != nil || !bytes.Contains(pt, []byte(marker)) {
		t.Fatalf("recipient opens %q, %v", pt, err)
	}
	// This node opens its own copy for a worker, and that is audited.
	res, err := f.svc.Open(f.ctx, r.ID, "worker-2")
	if err != nil || res["name"] != marker {
		t.Fatalf("Open = %v, %v", res, err)
	}
	var audit []referral.AuditEntry
	f.st.ForEachAudit(f.ctx, func(e *referral.AuditEntry) error { audit = append(audit, *e); return nil })
	if len(audit) != 2 || audit[0].Action != "created" || audit[1].Action != "opened" || audit[1].Who != "worker-2" {
		t.Errorf("audit = %+v", audit)
	}
	// Nothing in clear: the stored referral, the audit log, the consent,
	// and the raw files of the (encrypted) store.
	stored, _ := f.st.Referral(f.ctx, r.ID)
	for what, v := range map[string]any{"referral": stored, "audit": audit, "created": r} {
		b, _ := json.Marshal(v)
		if bytes.Contains(b, []byte(marker)) {
			t.Errorf("%s holds the resident's name in clear", what)
		}
	}
	f.st.Close()
	filepath.WalkDir(f.dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(marker)) || bytes.Contains(b, []byte("+32 470 12 34 56")) {
				t.Errorf("%s holds the resident's data in clear", filepath.Base(path))
			}
		}
		return nil
	})
}

func TestCreateRefusals(t *testing.T) {
	tests := []struct {
		name   string
		change func(f *fixture)
		want   string
	}{
		{"not a partner", func(f *fixture) { f.target.Partner = false }, "partners only"},
		{"no referrals", func(f *fixture) { f.target.Policy = nil }, "does not accept referrals"},
		{"no sealing key", func(f *fixture) { f.target.SealingKey = nil }, "no sealing key"},
		{"category not needed", func(f *fixture) {
			f.resident = json.RawMessage(`{"name": "` + marker + `", "documents": ["passeport"]}`)
		}, "does not need documents"},
		{"category not consented", func(f *fixture) {
			f.resident = json.RawMessage(`{"name": "` + marker + `", "situation": "sans logement"}`)
		}, "does not cover situation"},
		{"special without flag", func(f *fixture) {
			f.target.Policy.Categories = append(f.target.Policy.Categories, directory.DataSpecial)
			f.consent.Categories = append(f.consent.Categories, directory.DataSpecial)
			f.resident = json.RawMessage(`{"name": "` + marker + `", "health": "diabète"}`)
		}, "special_categories"},
		{"consent expired", func(f *fixture) {
			f.consent.GivenAt, f.consent.ExpiresAt = t0.AddDate(0, -4, 0), t0.AddDate(0, 0, -1)
		}, "expired"},
		{"no consent method", func(f *fixture) { f.consent.Method = "" }, "consent.method"},
		{"no notice", func(f *fixture) { f.consent.NoticeVersion, f.consent.NoticeHash = "", "" }, "consent.notice_version"},
		{"field outside the allow-list", func(f *fixture) {
			f.resident = json.RawMessage(`{"name": "` + marker + `", "worker_notes": "` + marker + `"}`)
		}, "resident.worker_notes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.change(f)
			_, err := f.create()
			if !errors.Is(err, referral.ErrRefused) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrRefused mentioning %q", err, tt.want)
			}
			if strings.Contains(err.Error(), marker) {
				t.Errorf("the error echoes the resident's data: %v", err)
			}
			n := 0
			f.st.ForEachReferral(f.ctx, func(*referral.Referral) error { n++; return nil })
			f.st.ForEachAudit(f.ctx, func(*referral.AuditEntry) error { n++; return nil })
			if n != 0 {
				t.Errorf("a refused referral left %d records", n)
			}
		})
	}
}

func TestTransitionsBySide(t *testing.T) {
	f := newFixture(t)
	out, err := f.create()
	if err != nil {
		t.Fatal(err)
	}
	id := out.ID
	// The sender's node cannot accept its own referral.
	if _, err := f.svc.Transition(f.ctx, id, referral.Received, referral.Recipient, "worker-1", ""); !errors.Is(err, referral.ErrTransition) {
		t.Errorf("recipient transition on the sender's node: %v", err)
	}
	if _, err := f.svc.Transition(f.ctx, id, referral.Received, referral.System, "system", ""); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.Transition(f.ctx, id, referral.Cancelled, referral.Sender, "worker-1", "")
	if err != nil {
		t.Fatal(err)
	}
	if r.State != referral.Cancelled || len(r.History) != 4 || r.History[3].From != referral.Received {
		t.Errorf("after cancelling: %+v", r)
	}
	if _, err := f.svc.Transition(f.ctx, id, referral.Requested, referral.Sender, "worker-1", ""); !errors.Is(err, referral.ErrTransition) {
		t.Errorf("left a final state: %v", err)
	}
	stored, _ := f.st.Referral(f.ctx, id)
	if stored.State != referral.Cancelled {
		t.Errorf("stored state = %s", stored.State)
	}
}
