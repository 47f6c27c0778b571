package referral

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
)

// Method is how a resident's consent was collected.
type Method string

// Collection methods.
const (
	SignedForm     Method = "signed-form"     // a form the resident signed, kept by the association
	OnScreen       Method = "on-screen"       // the resident confirmed on the worker's screen
	VerbalAttested Method = "verbal-attested" // said aloud; the worker attests it in writing
)

// Methods lists the collection methods.
var Methods = []Method{SignedForm, OnScreen, VerbalAttested}

// DefaultConsentDays is how long a consent lasts unless the worker sets
// another expiry.
const DefaultConsentDays = 90

// MaxConsentDays bounds any consent's life.
const MaxConsentDays = 365

// Consent is a resident's recorded consent to one referral. It is never
// edited: a withdrawal is a separate event (Withdrawal).
type Consent struct {
	ID       string `json:"id"`
	Resident string `json:"resident"` // pseudonymous id of the resident at this node
	Purpose  string `json:"purpose"`  // the referral this consent is for
	// To whom, for what.
	Recipient  string                   `json:"recipient"` // the receiving node's actor
	Service    string                   `json:"service"`   // the service's ActivityPub id
	Categories []directory.DataCategory `json:"categories"`
	Special    bool                     `json:"special"` // special-category data, consented explicitly
	// How.
	Method        Method `json:"method"`
	Attestation   string `json:"attestation,omitempty"` // the worker's words, for verbal-attested
	NoticeVersion string `json:"notice_version"`
	NoticeHash    string `json:"notice_hash"` // SHA-256 (hex) of the notice as shown to the resident
	NoticeLang    string `json:"notice_lang"`
	// When, and who collected it.
	GivenAt     time.Time `json:"given_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	CollectedBy string    `json:"collected_by"` // the worker's account id
	// Reference is the referral's short name on the resident's receipt.
	Reference string `json:"reference,omitempty"`
}

// Withdrawal is the event of a resident withdrawing a consent.
type Withdrawal struct {
	Consent string    `json:"consent"`
	At      time.Time `json:"at"`
	By      string    `json:"by"` // the worker who recorded it
}

// ErrConsent wraps every reason a consent does not allow a referral.
var ErrConsent = errors.New("referral: no valid consent")

// maxClockSkew is how far in the future a given-at may be.
const maxClockSkew = 5 * time.Minute

// Problems returns what is wrong with the record itself, each as a short
// sentence naming the field; none for a complete record.
func (c *Consent) Problems(now time.Time) []string {
	var out []string
	for _, p := range c.check(now) {
		out = append(out, p.Message)
	}
	return out
}

// check returns what is wrong with the record itself, with field and code.
func (c *Consent) check(now time.Time) directory.Problems {
	var p directory.Problems
	need := func(v, field string) {
		if strings.TrimSpace(v) == "" {
			p.Rule(field, CodeConsentRecord, "%s is required", field)
		}
	}
	need(c.ID, "consent.id")
	need(c.Resident, "consent.resident")
	need(c.Purpose, "consent.purpose")
	need(c.Recipient, "consent.recipient")
	need(c.Service, "consent.service")
	need(c.NoticeVersion, "consent.notice_version")
	need(c.CollectedBy, "consent.collected_by")
	if len(c.NoticeHash) != 64 || strings.Trim(c.NoticeHash, "0123456789abcdef") != "" {
		p.Rule("consent.notice_hash", CodeConsentRecord, "consent.notice_hash must be the SHA-256 of the notice, in lower-case hex")
	}
	if !slices.Contains(directory.Langs, directory.Lang(c.NoticeLang)) {
		p.Rule("consent.notice_lang", CodeConsentRecord, "consent.notice_lang must be fr, nl or en")
	}
	if !slices.Contains(Methods, c.Method) {
		p.Rule("consent.method", CodeMethod, "consent.method must be one of %v", Methods)
	}
	if c.Method == VerbalAttested && strings.TrimSpace(c.Attestation) == "" {
		p.Rule("consent.attestation", CodeAttestation, "consent.attestation is required when consent was given verbally")
	}
	if len(c.Categories) == 0 {
		p.Rule("consent.categories", CodeCategories, "consent.categories must name at least one data category")
	}
	for _, cat := range c.Categories {
		if !slices.Contains(directory.DataCategories, cat) {
			p.Rule("consent.categories", CodeCategories, "consent.categories: unknown category %q", cat)
		}
	}
	if slices.Contains(c.Categories, directory.DataSpecial) && !c.Special {
		p.Rule("special_categories", CodeSpecialFlag, "consent.categories: special-category data needs its own explicit flag (special_categories)")
	}
	switch {
	case c.GivenAt.IsZero():
		p.Rule("consent.given_at", CodeConsentRecord, "consent.given_at is required")
	case c.GivenAt.After(now.Add(maxClockSkew)):
		p.Rule("consent.given_at", CodeGivenInFuture, "consent.given_at is in the future")
	}
	switch {
	case c.ExpiresAt.IsZero():
		p.Rule("consent.expires_at", CodeConsentRecord, "consent.expires_at is required")
	case !c.GivenAt.IsZero() && !c.ExpiresAt.After(c.GivenAt):
		p.Rule("consent.expires_at", CodeExpiry, "consent.expires_at must be after given_at")
	case !c.GivenAt.IsZero() && c.ExpiresAt.Sub(c.GivenAt) > MaxConsentDays*24*time.Hour:
		p.Rule("consent.expires_at", CodeExpiry, "consent.expires_at is more than %d days after given_at", MaxConsentDays)
	}
	return p
}

// Allows checks that the consent, with its withdrawals, lets the payload
// categories cats go to recipient's service now. The error lists every
// reason it does not.
func (c *Consent) Allows(recipient, service string, cats []directory.DataCategory, withdrawals []Withdrawal, now time.Time) error {
	if c == nil {
		return fmt.Errorf("%w: none recorded", ErrConsent)
	}
	p := c.allows(recipient, service, cats, withdrawals, now)
	if len(p) > 0 {
		msgs := make([]string, len(p))
		for i, x := range p {
			msgs[i] = x.Message
		}
		return fmt.Errorf("%w: %s", ErrConsent, strings.Join(msgs, "; "))
	}
	return nil
}

// allows lists, with field and code, why c does not allow the referral.
func (c *Consent) allows(recipient, service string, cats []directory.DataCategory, withdrawals []Withdrawal, now time.Time) directory.Problems {
	p := c.check(now)
	for _, w := range withdrawals {
		if w.Consent == c.ID {
			p.Rule("consent", CodeWithdrawn, "consent was withdrawn on %s", w.At.Format(time.DateOnly))
		}
	}
	if !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt) {
		p.Rule("consent.expires_at", CodeExpired, "consent expired on %s", c.ExpiresAt.Format(time.DateOnly))
	}
	if c.Recipient != recipient {
		p.Rule("consent.recipient", CodeOtherRecipient, "consent names another recipient")
	}
	if c.Service != service {
		p.Rule("consent.service", CodeOtherRecipient, "consent names another service")
	}
	for _, cat := range cats {
		if !slices.Contains(c.Categories, cat) {
			p.Rule("consent.categories", CodeNotCovered, "consent does not cover %s data", cat)
		}
	}
	return p
}
