package account

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/maillage/maillage/directory"
)

// ErrNotPending refuses to invite an address that already has an active
// or a disabled account.
var ErrNotPending error = conflict("an account with this email already exists")

// Invite creates an account without a password for email and issues an
// invitation link, valid InviteTTL, with which the person chooses one;
// until then nobody can log in to it. by is the admin who invites. An
// address whose invitation is pending is invited again: its name and
// role are updated, and the earlier links stop working. Problems with the
// input are reported at once as directory.Problems.
func (a *Accounts) Invite(ctx context.Context, email, name string, role Role, by string) (*User, string, error) {
	email, name = NormalizeEmail(email), strings.TrimSpace(name)
	var p directory.Problems
	profileRules(&p, email, name, role)
	if err := p.Err(); err != nil {
		return nil, "", err
	}
	now := a.opts.Now().UTC()
	u, err := a.st.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, ErrNotFound):
		u = &User{ID: directory.NewID(), Email: email, Name: name, Role: role, Created: now, Invited: now}
		err = a.st.CreateUser(ctx, u)
	case err != nil:
	case !u.Pending() || u.Disabled:
		return nil, "", ErrNotPending
	default:
		u.Name, u.Role, u.Invited = name, role, now
		u.TokenVersion++
		err = a.st.UpdateUser(ctx, u)
	}
	if err != nil {
		return nil, "", fmt.Errorf("account: invite: %w", err)
	}
	t := &Token{ID: newTokenID(TokenInvite), Kind: TokenInvite, User: u.ID, Version: u.TokenVersion, Created: now, Expires: now.Add(InviteTTL)}
	if err := a.st.PutAccountToken(ctx, t); err != nil {
		return nil, "", fmt.Errorf("account: invite: %w", err)
	}
	if err := a.st.AppendAccountAudit(ctx, AuditEvent{At: now, Who: by, Action: "invited", Account: u.ID}); err != nil {
		return nil, "", fmt.Errorf("account: invite: %w", err)
	}
	return u, t.ID, nil
}

// AcceptInvite sets the first password of an invited account with its
// invitation link, once. It fails as CompleteReset does.
func (a *Accounts) AcceptInvite(ctx context.Context, secret, password string) (*User, error) {
	return a.setPassword(ctx, TokenInvite, secret, password, "invitation-accepted")
}
