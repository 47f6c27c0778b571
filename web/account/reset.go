package account

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
)

// Password reset and invitation links. A link carries a secret made of
// the token's id and an HMAC of it under a key derived from the node's
// signing key: the store and the mail queue hold the id only, and the
// mail renderer computes the link again when it sends (TokenLink).

// How long a link is valid.
const (
	ResetTTL  = 30 * time.Minute
	InviteTTL = 7 * 24 * time.Hour
)

// Requests for a reset link are limited per address and per client,
// whether the address has an account or not.
const (
	resetsPerEmail  = 3
	resetsPerClient = 10
	resetWindow     = time.Hour
)

// Errors of a link. ErrLinkExpired and ErrLinkUsed are also
// ErrLinkInvalid: a page may tell them all alike (ask for a new link).
var (
	ErrLinkInvalid error = linkError("invalid link")
	ErrLinkExpired error = linkError("link expired")
	ErrLinkUsed    error = linkError("link already used")
)

type linkError string

func (e linkError) Error() string        { return string(e) }
func (e linkError) Is(target error) bool { return target == ErrLinkInvalid }

// ThrottledError refuses a request for a link made too often; it is an
// ErrThrottled and says how long to wait.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many requests; try again in %s", e.RetryAfter.Round(time.Second))
}

func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// links holds the key of the links' secrets and the throttles of reset
// requests.
type links struct {
	key      []byte
	byEmail  *Throttle
	byClient *Throttle
}

func newLinks(opts Options) links {
	l := links{
		byEmail:  NewThrottle(resetsPerEmail, resetWindow, opts.Now),
		byClient: NewThrottle(resetsPerClient, resetWindow, opts.Now),
	}
	if len(opts.SigningKey) == ed25519.PrivateKeySize {
		sum := sha256.Sum256(append([]byte("maillage account links\x00"), opts.SigningKey.Seed()...))
		l.key = sum[:]
	}
	return l
}

// newTokenID returns a fresh token id, which names its kind so that
// TokenLink knows the page it leads to.
func newTokenID(kind TokenKind) string {
	b := make([]byte, 16)
	rand.Read(b)
	return string(kind) + "-" + hex.EncodeToString(b)
}

func (l links) mac(id string) string {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// secret is what the link carries for the token id.
func (l links) secret(id string) string { return id + "." + l.mac(id) }

// tokenID checks a link's secret and returns its token id.
func (l links) tokenID(secret string, kind TokenKind) (string, error) {
	id, mac, ok := strings.Cut(secret, ".")
	if !ok || len(l.key) == 0 || len(secret) > 200 || !strings.HasPrefix(id, string(kind)+"-") {
		return "", ErrLinkInvalid
	}
	if !hmac.Equal([]byte(mac), []byte(l.mac(id))) {
		return "", ErrLinkInvalid
	}
	return id, nil
}

// TokenLink returns the path, with its secret, that a reset or
// invitation mail links to: /password/reset?t=… or /invite?t=…; "" for an
// id that names neither.
func (a *Accounts) TokenLink(tokenID string) string {
	kind, rest, _ := strings.Cut(tokenID, "-")
	if rest == "" {
		return ""
	}
	switch TokenKind(kind) {
	case TokenReset:
		return "/password/reset?t=" + a.links.secret(tokenID)
	case TokenInvite:
		return "/invite?t=" + a.links.secret(tokenID)
	}
	return ""
}

// StartReset issues a reset link for the account with email and returns
// its token id and the account, to send it to. client identifies where
// the request comes from (the remote address). Too many requests, for the
// address or from the client, fail with a *ThrottledError, counted alike
// for any address. An address without an account, or of a disabled one,
// gives "", nil and no error, so that the caller answers alike; a known
// address costs two store writes more, which a caller that answers over
// the network hides behind a fixed delay (web does).
func (a *Accounts) StartReset(ctx context.Context, email, client string) (string, *User, error) {
	email = NormalizeEmail(email)
	byEmail, byClient := "email:"+email, "client:"+client
	if d := max(a.links.byEmail.RetryAfter(byEmail), a.links.byClient.RetryAfter(byClient)); d > 0 {
		return "", nil, &ThrottledError{RetryAfter: d}
	}
	a.links.byEmail.Fail(byEmail)
	a.links.byClient.Fail(byClient)
	u, err := a.st.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) || (err == nil && u.Disabled) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	// An invited account may choose its password this way too: the link
	// proves the same thing, that the person reads the mailbox.
	now := a.opts.Now().UTC()
	t := &Token{ID: newTokenID(TokenReset), Kind: TokenReset, User: u.ID, Version: u.TokenVersion, Created: now, Expires: now.Add(ResetTTL)}
	if err := a.st.PutAccountToken(ctx, t); err != nil {
		return "", nil, fmt.Errorf("account: start reset: %w", err)
	}
	if err := a.st.AppendAccountAudit(ctx, AuditEvent{At: now, Who: u.ID, Action: "password-reset-requested"}); err != nil {
		return "", nil, fmt.Errorf("account: start reset: %w", err)
	}
	return t.ID, u, nil
}

// LinkUser returns the account a link of kind is for if the link can be
// used, without using it: mail scanners open links before people do.
func (a *Accounts) LinkUser(ctx context.Context, kind TokenKind, secret string) (*User, error) {
	_, u, err := a.linkToken(ctx, kind, secret)
	return u, err
}

// linkToken returns a usable link's token and account.
func (a *Accounts) linkToken(ctx context.Context, kind TokenKind, secret string) (*Token, *User, error) {
	id, err := a.links.tokenID(secret, kind)
	if err != nil {
		return nil, nil, err
	}
	t, err := a.st.AccountToken(ctx, id)
	if err == nil {
		var u *User
		if u, err = a.st.User(ctx, t.User); err == nil {
			return t, u, a.usable(t, u, kind)
		}
	}
	if errors.Is(err, ErrNotFound) {
		return nil, nil, ErrLinkInvalid
	}
	return nil, nil, err
}

// usable says why a token cannot be used now, if it cannot. A change of
// the user's TokenVersion (a password set, the account disabled, its
// tokens revoked, a newer invitation) ends every link issued before.
func (a *Accounts) usable(t *Token, u *User, kind TokenKind) error {
	switch {
	case t.Kind != kind:
		return ErrLinkInvalid
	case t.Used:
		return ErrLinkUsed
	case !a.opts.Now().Before(t.Expires):
		return ErrLinkExpired
	case u.Disabled || u.TokenVersion != t.Version:
		return ErrLinkInvalid
	case kind == TokenInvite && !u.Pending():
		return ErrLinkUsed
	}
	return nil
}

// CompleteReset sets a new password with a reset link, once. It ends
// every session and API token of the account. A link that cannot be used
// fails with ErrLinkInvalid (or ErrLinkExpired, ErrLinkUsed); a password
// that breaks the rules with directory.Problems, leaving the link usable.
func (a *Accounts) CompleteReset(ctx context.Context, secret, password string) (*User, error) {
	return a.setPassword(ctx, TokenReset, secret, password, "password-reset")
}

// setPassword uses a link of kind to set the password of its account and
// records action in the audit log.
func (a *Accounts) setPassword(ctx context.Context, kind TokenKind, secret, password, action string) (*User, error) {
	// The link is checked before the password, so that a page says first
	// that the link is no longer valid.
	t, _, err := a.linkToken(ctx, kind, secret)
	if err != nil {
		return nil, err
	}
	var p directory.Problems
	passwordRules(&p, password)
	if err := p.Err(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(password, a.opts.Params)
	if err != nil {
		return nil, err
	}
	u, err := a.st.UseAccountToken(ctx, t.ID, func(t *Token, u *User) (AuditEvent, error) {
		if err := a.usable(t, u, kind); err != nil {
			return AuditEvent{}, err
		}
		u.PasswordHash = hash
		u.TokenVersion++
		return AuditEvent{At: a.opts.Now().UTC(), Who: u.ID, Action: action}, nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil, ErrLinkInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("account: %s: %w", action, err)
	}
	// The new TokenVersion already refuses the old sessions: removing
	// them is tidying, and sessions it misses expire by themselves.
	_ = a.st.DeleteUserSessions(ctx, u.ID)
	return u, nil
}
