package account

import (
	"context"
	"time"
)

// Role is what a user may do on the node.
type Role string

// The roles. Admins run the node; workers refer residents and handle
// referrals.
const (
	RoleAdmin  Role = "admin"
	RoleWorker Role = "worker"
)

// User is a staff account of the node.
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"` // lower-cased, unique
	Name         string    `json:"name,omitempty"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"password_hash"` // argon2id, PHC string
	Disabled     bool      `json:"disabled,omitempty"`
	TokenVersion int       `json:"token_version"` // bumped to revoke every token issued before
	Created      time.Time `json:"created"`
	// Invited is when the last invitation was sent, if any.
	Invited time.Time `json:"invited,omitzero"`
}

// Pending reports whether the account awaits its invitation: it has no
// password yet, so nobody can log in to it.
func (u *User) Pending() bool { return u.PasswordHash == "" }

// Session is a browser session. Only a hash of the cookie value is stored.
type Session struct {
	IDHash  string    `json:"id_hash"`
	UserID  string    `json:"user_id"`
	Version int       `json:"version"` // the user's TokenVersion when it started
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// TokenKind is what a link sent by e-mail is for.
type TokenKind string

// The kinds of link.
const (
	TokenReset  TokenKind = "reset"  // choose a new password
	TokenInvite TokenKind = "invite" // choose the first password of an invited account
)

// Token is a single-use link sent by e-mail. Only this record is stored:
// the secret in the link is computed from the id (see TokenLink).
type Token struct {
	ID      string    `json:"id"`
	Kind    TokenKind `json:"kind"`
	User    string    `json:"user"`
	Version int       `json:"version"` // the user's TokenVersion when it was issued
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Used    bool      `json:"used,omitempty"`
}

// AuditEvent is an account action for the node's audit log: who did it
// and the account it concerns, by id, never an address or a secret.
type AuditEvent struct {
	At      time.Time
	Who     string // the account that acted
	Action  string
	Account string // the account acted on, when not Who
}

// Store is what accounts need from persistence. CreateUser fails with
// directory.ErrConflict when the email is taken; lookups of an absent user,
// session or token fail with directory.ErrNotFound.
type Store interface {
	CreateUser(ctx context.Context, u *User) error
	UpdateUser(ctx context.Context, u *User) error
	User(ctx context.Context, id string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	Users(ctx context.Context) ([]*User, error)
	// DeleteUser removes the account and its email's index.
	DeleteUser(ctx context.Context, u *User) error

	PutSession(ctx context.Context, s *Session) error
	Session(ctx context.Context, idHash string) (*Session, error)
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteUserSessions removes every session of a user.
	DeleteUserSessions(ctx context.Context, userID string) error

	// PutAccountToken stores a new token until a little after it expires.
	PutAccountToken(ctx context.Context, t *Token) error
	AccountToken(ctx context.Context, id string) (*Token, error)
	// UseAccountToken passes a token and its user to fn, which refuses the
	// token with an error, returned as is, or changes the user and returns
	// the audit event of the change. The user, the token marked used and
	// the event are then stored in one transaction: of two concurrent
	// uses, fn sees the other's mark. fn may run more than once and must
	// not change the email.
	UseAccountToken(ctx context.Context, id string, fn func(*Token, *User) (AuditEvent, error)) (*User, error)

	// AppendAccountAudit adds an account action to the node's audit log.
	AppendAccountAudit(ctx context.Context, e AuditEvent) error
}
