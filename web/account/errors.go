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
)
