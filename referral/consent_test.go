package referral

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
)

var now = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func validConsent() *Consent {
	return &Consent{
		ID: "c1", Resident: "res-7f3a", Purpose: "https://a.example/referrals/1",
		Recipient: "https://b.example/actor", Service: "https://b.example/services/s1",
		Categories: []directory.DataCategory{directory.DataIdentity, directory.DataContact},
		Method:     OnScreen, NoticeVersion: "2026-11", NoticeHash: strings.Repeat("ab", 32), NoticeLang: "fr",
		GivenAt: now.Add(-time.Hour), ExpiresAt: now.Add(DefaultConsentDays * 24 * time.Hour), CollectedBy: "worker-1",
	}
}

func TestConsentAllows(t *testing.T) {
	c := validConsent()
	ok := []directory.DataCategory{directory.DataIdentity}
	if err := c.Allows("https://b.example/actor", "https://b.example/services/s1", ok, nil, now); err != nil {
		t.Fatalf("valid consent refused: %v", err)
	}
	tests := []struct {
		name   string
		change func(c *Consent) (recipient, service string, cats []directory.DataCategory, w []Withdrawal, at time.Time)
		want   string
	}{
		{"expired", func(c *Consent) (string, string, []directory.DataCategory, []Withdrawal, time.Time) {
			return c.Recipient, c.Service, ok, nil, c.ExpiresAt
		}, "expired"},
		{"withdrawn", func(c *Consent) (string, string, []directory.DataCategory, []Withdrawal, time.Time) {
			return c.Recipient, c.Service, ok, []Withdrawal{{Consent: "c1", At: now, By: "worker-1"}}, now
		}, "withdrawn"},
		{"other recipient", func(c *Consent) (string, string, []directory.DataCategory, []Withdrawal, time.Time) {
			return "https://c.example/actor", c.Service, ok, nil, now
		}, "another recipient"},
		{"other service", func(c *Consent) (string, string, []directory.DataCategory, []Withdrawal, time.Time) {
			return c.Recipient, "https://b.example/services/s2", ok, nil, now
		}, "another service"},
		{"category not covered", func(c *Consent) (string, string, []directory.DataCategory, []Withdrawal, time.Time) {
			return c.Recipient, c.Service, []directory.DataCategory{directory.DataSituation}, nil, now
		}, "does not cover situation"},
	}
	for _, tt := range tests {
		r, s, cats, w, at := tt.change(c)
		err := c.Allows(r, s, cats, w, at)
		if !errors.Is(err, ErrConsent) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want ErrConsent mentioning %q", tt.name, err, tt.want)
		}
	}
	var none *Consent
	if err := none.Allows("r", "s", ok, nil, now); !errors.Is(err, ErrConsent) {
		t.Errorf("no consent: %v", err)
	}
}

func TestConsentProblems(t *testing.T) {
	for _, tt := range []struct {
		change func(c *Consent)
		want   string
	}{
		{func(c *Consent) { c.Method = "nodded" }, "consent.method"},
		{func(c *Consent) { c.Method = VerbalAttested }, "consent.attestation"},
		{func(c *Consent) { c.NoticeHash = "abc" }, "consent.notice_hash"},
		{func(c *Consent) { c.NoticeLang = "de" }, "consent.notice_lang"},
		{func(c *Consent) { c.Categories = append(c.Categories, directory.DataSpecial) }, "explicit flag"},
		{func(c *Consent) { c.Categories = []directory.DataCategory{"religion"} }, "unknown category"},
		{func(c *Consent) { c.Categories = nil }, "at least one"},
		{func(c *Consent) { c.GivenAt = now.Add(time.Hour) }, "in the future"},
		{func(c *Consent) { c.ExpiresAt = c.GivenAt }, "after given_at"},
		{func(c *Consent) { c.ExpiresAt = c.GivenAt.AddDate(2, 0, 0) }, "more than 365 days"},
		{func(c *Consent) { c.Purpose = "" }, "consent.purpose is required"},
	} {
		c := validConsent()
		tt.change(c)
		if p := strings.Join(c.Problems(now), "; "); !strings.Contains(p, tt.want) {
			t.Errorf("problems = %q, want one mentioning %q", p, tt.want)
		}
	}
	c := validConsent()
	c.Method, c.Attestation = VerbalAttested, "Consent given aloud in French after reading the notice."
	c.Categories, c.Special = append(c.Categories, directory.DataSpecial), true
	if p := c.Problems(now); len(p) > 0 {
		t.Errorf("valid verbal consent with special data: %v", p)
	}
}

func TestResidentAllowListAndMinimisation(t *testing.T) {
	const marker = "Zorglub-7731"
	r, err := ParseResident(json.RawMessage(`{"name": "` + marker + `", "phone": "+32 470 00 00 00", "situation": "Cherche un logement",
	  "documents": ["carte d'identité"], "health": "asthme"}`))
	if err != nil {
		t.Fatal(err)
	}
	got := r.Categories()
	want := []directory.DataCategory{directory.DataIdentity, directory.DataContact, directory.DataSituation, directory.DataDocuments, directory.DataSpecial}
	if len(got) != len(want) {
		t.Fatalf("categories = %v, want %v", got, want)
	}
	p, err := r.Payload([]directory.DataCategory{directory.DataIdentity, directory.DataContact})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(p); !strings.Contains(s, marker) || strings.Contains(s, "logement") || strings.Contains(s, "asthme") || strings.Contains(s, "identit") {
		t.Errorf("payload carries more than the allowed categories: %s", s)
	}
	if _, err := r.Payload([]directory.DataCategory{directory.DataDocuments + "x"}); !errors.Is(err, ErrResident) {
		t.Errorf("payload with nothing allowed: %v", err)
	}

	// Fields outside the allow-list, wrong shapes, oversize values: all
	// listed, and no value ever echoed in the error.
	_, err = ParseResident(json.RawMessage(`{"name": "` + marker + `", "notes": "` + marker + `", "case_file": {"x": 1},
	  "phone": 32470, "documents": "passport", "situation": "` + strings.Repeat("x", maxFieldBytes+1) + `"}`))
	if !errors.Is(err, ErrResident) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"resident.notes", "resident.case_file", "resident.phone", "resident.documents", "resident.situation"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if strings.Contains(err.Error(), marker) {
		t.Errorf("error echoes the resident's data: %q", err)
	}
	for _, bad := range []string{`[]`, `null`, `"name"`, `{}`, `{"name": "  "}`} {
		if _, err := ParseResident(json.RawMessage(bad)); !errors.Is(err, ErrResident) {
			t.Errorf("ParseResident(%s) = %v", bad, err)
		}
	}
}
