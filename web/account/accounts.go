package account

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/maillage/maillage/directory"
)

// Options configure Accounts.
type Options struct {
	// Issuer is the node's base URL; tokens name it as issuer and audience.
	Issuer string
	// SigningKey signs and verifies API tokens (EdDSA).
	SigningKey ed25519.PrivateKey
	// TokenTTL is how long an API token is valid (default 15 minutes).
	TokenTTL time.Duration
	// SessionTTL is how long a browser session lasts (default 12 hours).
	SessionTTL time.Duration
	// Params are the argon2id costs of new password hashes.
	Params Params
	// Throttle limits failed logins; default 5 per email and 20 per client
	// address in 15 minutes.
	Throttle *Throttle
	Now      func() time.Time
}

// Accounts manages staff accounts, logins, sessions and API tokens.
type Accounts struct {
	st       Store
	opts     Options
	dummy    string // hash checked when an email is unknown, so timing does not tell
	byClient *Throttle
	links    links // reset and invitation links (reset.go)
}

// New returns Accounts over st.
func New(st Store, opts Options) *Accounts {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = 15 * time.Minute
	}
	if opts.SessionTTL == 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.Params == (Params{}) {
		opts.Params = DefaultParams
	}
	if opts.Throttle == nil {
		opts.Throttle = NewThrottle(5, 15*time.Minute, opts.Now)
	}
	dummy, _ := HashPassword("not a password of anyone", opts.Params)
	return &Accounts{st: st, opts: opts, dummy: dummy, byClient: NewThrottle(4*opts.Throttle.Max, opts.Throttle.Window, opts.Now),
		links: newLinks(opts)}
}

// NormalizeEmail returns the canonical (trimmed, lower-case) form of an email.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// AddUser creates an account. Every problem with the input is reported at
// once as directory.Problems.
func (a *Accounts) AddUser(ctx context.Context, email, name string, role Role, password string) (*User, error) {
	email = NormalizeEmail(email)
	var p directory.Problems
	profileRules(&p, email, name, role)
	passwordRules(&p, password)
	if err := p.Err(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(password, a.opts.Params)
	if err != nil {
		return nil, err
	}
	u := &User{ID: directory.NewID(), Email: email, Name: strings.TrimSpace(name), Role: role, PasswordHash: hash, Created: a.opts.Now().UTC()}
	if err := a.st.CreateUser(ctx, u); err != nil {
		return nil, fmt.Errorf("account: add user: %w", err)
	}
	return u, nil
}

// profileRules adds what is wrong with a new account's (normalized) email,
// name and role to p.
func profileRules(p *directory.Problems, email, name string, role Role) {
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		p.Add("email", "is not an email address")
	}
	if role != RoleAdmin && role != RoleWorker {
		p.Add("role", "must be admin or worker")
	}
	if len(name) > 200 {
		p.Add("name", "is longer than 200 characters")
	}
}

// passwordRules adds what is wrong with a new password to p.
func passwordRules(p *directory.Problems, password string) {
	if len([]rune(password)) < MinPasswordLen {
		p.Add("password", "must have at least %d characters", MinPasswordLen)
	}
	if len(password) > maxPasswordLen {
		p.Add("password", "must have at most %d bytes", maxPasswordLen)
	}
}

// Users lists every account.
func (a *Accounts) Users(ctx context.Context) ([]*User, error) { return a.st.Users(ctx) }

// UserByEmail returns the account with email (in any case).
func (a *Accounts) UserByEmail(ctx context.Context, email string) (*User, error) {
	return a.st.UserByEmail(ctx, NormalizeEmail(email))
}

// User returns the account with id.
func (a *Accounts) User(ctx context.Context, id string) (*User, error) { return a.st.User(ctx, id) }

// SetDisabled disables or re-enables the account with email. Disabling
// revokes every token and session at once.
func (a *Accounts) SetDisabled(ctx context.Context, email string, disabled bool) (*User, error) {
	u, err := a.st.UserByEmail(ctx, NormalizeEmail(email))
	if err != nil {
		return nil, err
	}
	u.Disabled = disabled
	u.TokenVersion++
	if err := a.st.UpdateUser(ctx, u); err != nil {
		return nil, fmt.Errorf("account: update user: %w", err)
	}
	return u, nil
}

// DeleteUser deletes a disabled account other than the caller's (by):
// its email, name and password hash are gone; the audit log keeps its id,
// which names no one once the account is deleted.
func (a *Accounts) DeleteUser(ctx context.Context, id, by string) error {
	if id == by {
		return ErrOwnAccount
	}
	u, err := a.st.User(ctx, id)
	if err != nil {
		return err
	}
	if !u.Disabled {
		return ErrMustDisable
	}
	if err := a.st.DeleteUser(ctx, u); err != nil {
		return fmt.Errorf("account: delete user: %w", err)
	}
	return nil
}

// RevokeTokens invalidates every token and session of the user.
func (a *Accounts) RevokeTokens(ctx context.Context, userID string) error {
	u, err := a.st.User(ctx, userID)
	if err != nil {
		return err
	}
	u.TokenVersion++
	return a.st.UpdateUser(ctx, u)
}

// Login checks a password. client identifies where the attempt comes from
// (the remote address) for throttling. Failures all look the same.
func (a *Accounts) Login(ctx context.Context, email, password, client string) (*User, error) {
	email = NormalizeEmail(email)
	t := a.opts.Throttle
	if !t.Allowed("email:"+email) || !a.byClient.Allowed("client:"+client) {
		return nil, ErrThrottled
	}
	u, err := a.st.UserByEmail(ctx, email)
	hash := a.dummy
	if err == nil && !u.Pending() {
		hash = u.PasswordHash
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	// An invited account has no password yet: it is refused as a wrong
	// password would be, after the same work.
	ok, herr := CheckPassword(hash, password)
	if herr != nil || !ok || err != nil || u.Disabled || u.Pending() {
		t.Fail("email:" + email)
		a.byClient.Fail("client:" + client)
		return nil, ErrBadCredentials
	}
	t.Reset("email:" + email)
	return u, nil
}

// RetryAfter says how long a throttled client or email must wait.
func (a *Accounts) RetryAfter(email, client string) time.Duration {
	return max(a.opts.Throttle.RetryAfter("email:"+NormalizeEmail(email)), a.byClient.RetryAfter("client:"+client))
}

type claims struct {
	jwt.RegisteredClaims
	Version int `json:"ver"`
}

// IssueToken returns a signed API token for u and its expiry.
func (a *Accounts) IssueToken(u *User) (string, time.Time, error) {
	now := a.opts.Now()
	exp := now.Add(a.opts.TokenTTL)
	jti := make([]byte, 16)
	rand.Read(jti)
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    a.opts.Issuer,
			Subject:   u.ID,
			Audience:  jwt.ClaimStrings{a.audience()},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        hex.EncodeToString(jti),
		},
		Version: u.TokenVersion,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c).SignedString(a.opts.SigningKey)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("account: sign token: %w", err)
	}
	return s, exp, nil
}

func (a *Accounts) audience() string { return strings.TrimSuffix(a.opts.Issuer, "/") + "/api" }

// VerifyToken returns the user a valid token was issued to. Expired,
// foreign, tampered and revoked tokens, and tokens of disabled users, all
// fail with ErrBadCredentials.
func (a *Accounts) VerifyToken(ctx context.Context, token string) (*User, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) {
		return a.opts.SigningKey.Public(), nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(a.opts.Issuer),
		jwt.WithAudience(a.audience()),
		jwt.WithTimeFunc(a.opts.Now),
		jwt.WithIssuedAt(),
	)
	if err != nil {
		return nil, ErrBadCredentials
	}
	return a.activeUser(ctx, c.Subject, c.Version)
}

func (a *Accounts) activeUser(ctx context.Context, id string, version int) (*User, error) {
	u, err := a.st.User(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled || u.TokenVersion != version {
		return nil, ErrBadCredentials
	}
	return u, nil
}

// NewSession starts a browser session for u and returns the cookie value.
// Only its hash is stored, so a copy of the store opens no session.
func (a *Accounts) NewSession(ctx context.Context, u *User) (string, *Session, error) {
	raw := make([]byte, 32)
	rand.Read(raw)
	value := base64.RawURLEncoding.EncodeToString(raw)
	now := a.opts.Now().UTC()
	s := &Session{IDHash: hashSession(value), UserID: u.ID, Version: u.TokenVersion, Created: now, Expires: now.Add(a.opts.SessionTTL)}
	if err := a.st.PutSession(ctx, s); err != nil {
		return "", nil, fmt.Errorf("account: new session: %w", err)
	}
	return value, s, nil
}

// SessionUser returns the user of a live session cookie value.
func (a *Accounts) SessionUser(ctx context.Context, value string) (*User, error) {
	if value == "" || len(value) > 100 {
		return nil, ErrBadCredentials
	}
	s, err := a.st.Session(ctx, hashSession(value))
	if errors.Is(err, ErrNotFound) {
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if !a.opts.Now().Before(s.Expires) {
		return nil, ErrBadCredentials
	}
	return a.activeUser(ctx, s.UserID, s.Version)
}

// EndSession deletes a session (log out).
func (a *Accounts) EndSession(ctx context.Context, value string) error {
	err := a.st.DeleteSession(ctx, hashSession(value))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func hashSession(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}
