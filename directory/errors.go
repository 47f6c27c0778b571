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
// with a JSON path such as "phones[1].number".
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problems lists everything wrong with a record at once. A nil or empty
// Problems is no error; use Err to return it as one.
type Problems []Problem

// Add records a problem with field.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
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
