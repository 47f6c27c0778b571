package account

import (
	"errors"

	"github.com/maillage/maillage/directory"
)

// Errors are shared with the directory so that one table maps them to
// HTTP answers.
var (
	ErrNotFound = directory.ErrNotFound
	ErrConflict = directory.ErrConflict

	// ErrBadCredentials is returned for a wrong email or password, a
	// disabled account, or an invalid token, without saying which.
	ErrBadCredentials = errors.New("invalid credentials")
	// ErrThrottled is returned while too many failed logins are recent.
	ErrThrottled = errors.New("too many failed attempts; try again later")
	// ErrMustDisable refuses to delete an enabled account: disabling it
	// first is the confirmation, and ends its sessions and tokens.
	ErrMustDisable error = conflict("disable the account before deleting it")
	// ErrOwnAccount refuses to delete the caller's own account.
	ErrOwnAccount = errors.New("an admin cannot delete their own account")
)

// conflict is an ErrConflict whose reason can be shown.
type conflict string

func (c conflict) Error() string          { return string(c) }
func (c conflict) ConflictReason() string { return string(c) }
func (c conflict) Unwrap() error          { return ErrConflict }
