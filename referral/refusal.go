package referral

import (
	"strings"

	"github.com/maillage/maillage/directory"
)

// The rules a referral, its consent or its resident data can break, as
// stable codes: the API returns them with each problem, and the web shows
// a message for each in the worker's language (web/locales, "refusal
// <code>"). A new rule gets a new code.
const (
	CodeNotAccepting     directory.Code = "service_not_accepting"
	CodePartnersOnly     directory.Code = "partners_only"
	CodeNoSealingKey     directory.Code = "no_sealing_key"
	CodeNotNeeded        directory.Code = "category_not_needed"
	CodeSpecialFlag      directory.Code = "special_not_agreed"
	CodeConsentRecord    directory.Code = "consent_incomplete"
	CodeMethod           directory.Code = "consent_method"
	CodeAttestation      directory.Code = "attestation_required"
	CodeCategories       directory.Code = "consent_categories"
	CodeGivenInFuture    directory.Code = "consent_given_in_future"
	CodeExpiry           directory.Code = "consent_expiry"
	CodeWithdrawn        directory.Code = "consent_withdrawn"
	CodeExpired          directory.Code = "consent_expired"
	CodeOtherRecipient   directory.Code = "consent_other_recipient"
	CodeNotCovered       directory.Code = "consent_not_covered"
	CodeResidentShape    directory.Code = "resident_shape"
	CodeResidentField    directory.Code = "resident_field"
	CodeResidentValue    directory.Code = "resident_value"
	CodeResidentEmpty    directory.Code = "resident_empty"
	CodeNothingToSend    directory.Code = "nothing_to_send"
	CodeNoPartnerService directory.Code = "no_partner_service"
)

// Refusal is why a referral cannot be made: every reason, each naming
// its field and rule, never a value of the resident's data. It is
// ErrRefused, and carries directory.Problems for callers that show them.
type Refusal struct {
	Problems directory.Problems
}

func (e *Refusal) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Message
	}
	return ErrRefused.Error() + ": " + strings.Join(msgs, "; ")
}

// Unwrap makes a Refusal both ErrRefused and its Problems.
func (e *Refusal) Unwrap() []error { return []error{ErrRefused, e.Problems} }

// refuse returns p as a Refusal, or nil when p is empty.
func refuse(p directory.Problems) error {
	if len(p) == 0 {
		return nil
	}
	return &Refusal{Problems: p}
}

// Refused returns a Refusal of one reason, for callers that refuse a
// referral before the Service sees it (an unknown partner service).
func Refused(field string, code directory.Code, message string) error {
	var p directory.Problems
	p.Rule(field, code, "%s", message)
	return refuse(p)
}
