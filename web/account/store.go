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
}

// Session is a browser session. Only a hash of the cookie value is stored.
type Session struct {
	IDHash  string    `json:"id_hash"`
	UserID  string    `json:"user_id"`
	Version int       `json:"version"` // the user's TokenVersion when it started
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// Store is what accounts need from persistence. CreateUser fails with
// directory.ErrConflict when the email is taken; lookups of an absent user
// or session fail with directory.ErrNotFound.
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
}
