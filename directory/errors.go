package directory

import (
	"errors"
	"fmt"
	"strings"
)

// Errors that callers test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	// ErrStorageFull is a write refused because the disk is (nearly)
	// full: nothing was written; the same write succeeds once space is
	// freed.
	ErrStorageFull = errors.New("storage full")
)

// Problem is one thing wrong with a record, naming the field it concerns
// with a JSON path such as "phones[1].number" and the rule it breaks with
// a stable code: programs and the web's translated messages key on Field
// and Code, never on the English Message.
type Problem struct {
	Field   string `json:"field"`
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// Code names the rule a Problem breaks. Codes are part of the API: a new
// rule gets a new code (and a message in each language, web/locales).
type Code string

// The rules the directory's validators check.
const (
	CodeInvalid         Code = "invalid" // a check without a more precise code
	CodeRequired        Code = "required"
	CodeTooLong         Code = "too_long"
	CodeTooMany         Code = "too_many"
	CodeNotUTF8         Code = "not_utf8"
	CodeTextLanguage    Code = "text_language"
	CodeUUID            Code = "uuid"
	CodeURL             Code = "url"
	CodeDuplicate       Code = "duplicate"
	CodeEmail           Code = "email"
	CodePhone           Code = "phone"
	CodeChoice          Code = "choice"
	CodeTaxonomy        Code = "taxonomy"
	CodeLanguageCode    Code = "language_code"
	CodeAge             Code = "age"
	CodeAgeOrder        Code = "age_order"
	CodeDay             Code = "day"
	CodeTime            Code = "time"
	CodeClosesAfter     Code = "closes_after_opens"
	CodeDate            Code = "date"
	CodeClosedAndOpen   Code = "closed_and_open"
	CodePostcode        Code = "postcode"
	CodeCommune         Code = "commune"
	CodeRadius          Code = "radius"
	CodeCoordinates     Code = "coordinates"
	CodeCountry         Code = "country"
	CodeAddressOrPoint  Code = "address_or_point"
	CodeIdentifier      Code = "identifier"
	CodeBCE             Code = "bce"
	CodeDataCategory    Code = "data_category"
	CodeUnknownLocation Code = "unknown_location"

	// Capacity, dated changes of hours, and dates set from today.
	CodeCapacityRange         Code = "capacity_range"
	CodeAvailableAboveMaximum Code = "available_above_maximum"
	CodeDelayRange            Code = "delay_range"
	CodeCapacityContradiction Code = "capacity_contradiction"
	CodeDatePast              Code = "date_past"
	CodeDateTooFar            Code = "date_too_far"
	CodePeriodOrder           Code = "period_order"
	CodePeriodTooLong         Code = "period_too_long"
	CodePeriodOverlap         Code = "period_overlap"
	CodePeriodEmpty           Code = "period_empty"
)

// Problems lists everything wrong with a record at once. A nil or empty
// Problems is no error; use Err to return it as one.
type Problems []Problem

// Add records a problem with field, of no more precise rule than
// CodeInvalid.
func (p *Problems) Add(field, format string, args ...any) {
	p.Rule(field, CodeInvalid, format, args...)
}

// Rule records a problem with field breaking the rule code.
func (p *Problems) Rule(field string, code Code, format string, args ...any) {
	*p = append(*p, Problem{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Err returns p as an error, or nil when there is no problem.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return p
}

func (p Problems) Error() string {
	parts := make([]string, len(p))
	for i, pr := range p {
		parts[i] = pr.Field + ": " + pr.Message
	}
	return "invalid: " + strings.Join(parts, "; ")
}

// AsProblems extracts Problems from err, if it carries them.
func AsProblems(err error) (Problems, bool) {
	var p Problems
	ok := errors.As(err, &p)
	return p, ok
}
