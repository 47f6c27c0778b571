package account_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/store"
	"github.com/maillage/maillage/web/account"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is Accounts over a real store in a temp dir, with one worker.
type fixture struct {
	acc    *account.Accounts
	st     *store.Store
	clock  *clock
	worker *account.User
}

const workerPassword = "worker-password-1"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "store.key")
	if err := store.GenerateKey(keyPath); err != nil {
		t.Fatal(err)
	}
	key, err := store.ReadKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	st, err := store.Open(filepath.Join(dir, "db"), key, store.Options{Now: c.Now, MinFree: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seed := sha256.Sum256([]byte("test signing key"))
	acc := account.New(st, account.Options{Issuer: "https://node.test", SigningKey: ed25519.NewKeyFromSeed(seed[:]),
		Params: account.Params{Time: 1, MemKiB: 64, Threads: 1}, Now: c.Now})
	w, err := acc.AddUser(context.Background(), "worker@node.test", "Travailleuse", account.RoleWorker, workerPassword)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{acc: acc, st: st, clock: c, worker: w}
}

// secretOf returns the secret a mail links to, and checks the path.
func (f *fixture) secretOf(t *testing.T, tokenID, path string) string {
	t.Helper()
	link := f.acc.TokenLink(tokenID)
	u, err := url.Parse(link)
	if err != nil || u.Path != path || u.Query().Get("t") == "" {
		t.Fatalf("TokenLink(%q) = %q, want %s?t=…", tokenID, link, path)
	}
	return u.Query().Get("t")
}

// startReset asks a reset for the worker and returns the link's secret.
func (f *fixture) startReset(t *testing.T, client string) string {
	t.Helper()
	id, u, err := f.acc.StartReset(context.Background(), " Worker@Node.test ", client)
	if err != nil || u == nil || u.ID != f.worker.ID || id == "" {
		t.Fatalf("StartReset(worker) = %q, %+v, %v; want a token for the worker", id, u, err)
	}
	return f.secretOf(t, id, "/password/reset")
}

func TestReset(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cookie, _, err := f.acc.NewSession(ctx, f.worker)
	if err != nil {
		t.Fatal(err)
	}
	bearer, _, err := f.acc.IssueToken(f.worker)
	if err != nil {
		t.Fatal(err)
	}
	secret := f.startReset(t, "192.0.2.1")

	// Opening the link uses nothing: mail scanners open links too.
	for range 2 {
		if u, err := f.acc.LinkUser(ctx, account.TokenReset, secret); err != nil || u.ID != f.worker.ID {
			t.Fatalf("LinkUser = %+v, %v; want the worker", u, err)
		}
	}
	// A password that breaks the rules leaves the link usable.
	if _, err := f.acc.CompleteReset(ctx, secret, "short"); !isProblem(err, "password") {
		t.Errorf("CompleteReset with a short password = %v, want a password problem", err)
	}
	u, err := f.acc.CompleteReset(ctx, secret, "a-brand-new-password")
	if err != nil || u.ID != f.worker.ID {
		t.Fatalf("CompleteReset = %+v, %v", u, err)
	}
	if _, err := f.acc.CompleteReset(ctx, secret, "another-new-password"); !errors.Is(err, account.ErrLinkUsed) {
		t.Errorf("second CompleteReset = %v, want ErrLinkUsed", err)
	}
	if _, err := f.acc.LinkUser(ctx, account.TokenReset, secret); !errors.Is(err, account.ErrLinkInvalid) {
		t.Errorf("LinkUser after use = %v, want ErrLinkInvalid", err)
	}

	if _, err := f.acc.Login(ctx, "worker@node.test", workerPassword, "192.0.2.1"); !errors.Is(err, account.ErrBadCredentials) {
		t.Errorf("Login with the old password = %v, want ErrBadCredentials", err)
	}
	if _, err := f.acc.Login(ctx, "worker@node.test", "a-brand-new-password", "192.0.2.1"); err != nil {
		t.Errorf("Login with the new password = %v", err)
	}
	// Every session and API token from before is revoked, and the
	// sessions are gone from the store.
	if _, err := f.acc.SessionUser(ctx, cookie); !errors.Is(err, account.ErrBadCredentials) {
		t.Errorf("SessionUser(old cookie) = %v, want ErrBadCredentials", err)
	}
	if _, err := f.acc.VerifyToken(ctx, bearer); !errors.Is(err, account.ErrBadCredentials) {
		t.Errorf("VerifyToken(old token) = %v, want ErrBadCredentials", err)
	}
	sum := sha256.Sum256([]byte(cookie))
	if _, err := f.st.Session(ctx, hex.EncodeToString(sum[:])); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("the old session is still stored: %v", err)
	}
}

func isProblem(err error, field string) bool {
	p, ok := directory.AsProblems(err)
	return ok && len(p) > 0 && p[0].Field == field
}

// An address without an account, or of a disabled one, gets no link and
// the same answer as any other.
func TestResetUnknownAddress(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.acc.SetDisabled(ctx, "worker@node.test", true); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"nobody@node.test", "worker@node.test", "not an address"} {
		id, u, err := f.acc.StartReset(ctx, email, "192.0.2.1")
		if id != "" || u != nil || err != nil {
			t.Errorf("StartReset(%q) = %q, %v, %v; want nothing and no error", email, id, u, err)
		}
	}
}

// A link asked for before the account was disabled does not work after.
func TestResetDisabledAfterRequest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret := f.startReset(t, "192.0.2.1")
	if _, err := f.acc.SetDisabled(ctx, "worker@node.test", true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.acc.CompleteReset(ctx, secret, "a-brand-new-password"); !errors.Is(err, account.ErrLinkInvalid) {
		t.Errorf("CompleteReset for a disabled account = %v, want ErrLinkInvalid", err)
	}
}

func TestResetThrottle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	throttled := func(email, client string) time.Duration {
		t.Helper()
		_, _, err := f.acc.StartReset(ctx, email, client)
		var te *account.ThrottledError
		if errors.As(err, &te) {
			if !errors.Is(err, account.ErrThrottled) {
				t.Errorf("%v is not ErrThrottled", err)
			}
			return te.RetryAfter
		}
		if err != nil {
			t.Fatalf("StartReset(%s, %s) = %v", email, client, err)
		}
		return 0
	}
	// Three per address and hour, known or not, from any client.
	for _, email := range []string{"worker@node.test", "nobody@node.test"} {
		for i := range 3 {
			if d := throttled(email, "192.0.2."+string(rune('1'+i))); d != 0 {
				t.Fatalf("request %d for %s throttled", i+1, email)
			}
			f.clock.Advance(time.Minute)
		}
		if d := throttled(strings.ToUpper(email), "192.0.2.9"); d <= 0 || d > time.Hour {
			t.Errorf("fourth request for %s: wait %v, want it throttled for under an hour", email, d)
		}
	}
	// Ten per client and hour, whatever the addresses.
	for i := range 10 {
		if d := throttled("other"+string(rune('a'+i))+"@node.test", "198.51.100.7"); d != 0 {
			t.Fatalf("request %d from one client throttled", i+1)
		}
	}
	if d := throttled("fresh@node.test", "198.51.100.7"); d <= 0 {
		t.Error("the eleventh request from one client was not throttled")
	}
	f.clock.Advance(time.Hour)
	if d := throttled("worker@node.test", "198.51.100.7"); d != 0 {
		t.Errorf("after an hour: still throttled for %v", d)
	}
}

func TestResetExpires(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret := f.startReset(t, "192.0.2.1")
	f.clock.Advance(account.ResetTTL - time.Second)
	if _, err := f.acc.LinkUser(ctx, account.TokenReset, secret); err != nil {
		t.Errorf("LinkUser just before expiry = %v", err)
	}
	f.clock.Advance(time.Second)
	if _, err := f.acc.LinkUser(ctx, account.TokenReset, secret); !errors.Is(err, account.ErrLinkExpired) {
		t.Errorf("LinkUser at expiry = %v, want ErrLinkExpired", err)
	}
	if _, err := f.acc.CompleteReset(ctx, secret, "a-brand-new-password"); !errors.Is(err, account.ErrLinkExpired) || !errors.Is(err, account.ErrLinkInvalid) {
		t.Errorf("CompleteReset after expiry = %v, want ErrLinkExpired, an ErrLinkInvalid", err)
	}
}

// Of two uses of one link at the same time, one wins.
func TestResetConcurrentUse(t *testing.T) {
	f := newFixture(t)
	secret := f.startReset(t, "192.0.2.1")
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = f.acc.CompleteReset(context.Background(), secret, "concurrent-password-"+string(rune('a'+i)))
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, account.ErrLinkInvalid): // used, or its account changed since
			t.Errorf("a losing use = %v, want ErrLinkInvalid", err)
		}
	}
	if won != 1 {
		t.Errorf("%d uses of one link succeeded, want 1", won)
	}
	u, _ := f.acc.User(context.Background(), f.worker.ID)
	if u.TokenVersion != f.worker.TokenVersion+1 {
		t.Errorf("TokenVersion = %d, want one more than %d", u.TokenVersion, f.worker.TokenVersion)
	}
}

// Only a link of this node, of the right kind and unaltered, is one.
func TestLinkSecrets(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret := f.startReset(t, "192.0.2.1")
	id, mac, _ := strings.Cut(secret, ".")
	other := account.New(f.st, account.Options{Issuer: "https://node.test", SigningKey: ed25519.NewKeyFromSeed(make([]byte, 32)), Now: f.clock.Now})
	otherSecret := strings.TrimPrefix(other.TokenLink(id), "/password/reset?t=")
	flipped := []byte(mac)
	flipped[3] ^= 1
	for _, bad := range []string{"", "x", id, id + ".", id + "." + string(flipped), otherSecret, "invite-" + strings.TrimPrefix(secret, "reset-"), secret + "x"} {
		if _, err := f.acc.LinkUser(ctx, account.TokenReset, bad); !errors.Is(err, account.ErrLinkInvalid) {
			t.Errorf("LinkUser(reset, %q) = %v, want ErrLinkInvalid", bad, err)
		}
	}
	if _, err := f.acc.LinkUser(ctx, account.TokenInvite, secret); !errors.Is(err, account.ErrLinkInvalid) {
		t.Errorf("a reset link used as an invitation: %v, want ErrLinkInvalid", err)
	}
	if _, err := f.acc.AcceptInvite(ctx, secret, "a-brand-new-password"); !errors.Is(err, account.ErrLinkInvalid) {
		t.Errorf("AcceptInvite(reset link) = %v, want ErrLinkInvalid", err)
	}
	for _, id := range []string{"", "other-123", "reset", "reset-"} {
		if got := f.acc.TokenLink(id); got != "" {
			t.Errorf("TokenLink(%q) = %q, want \"\"", id, got)
		}
	}
}

func TestInvite(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin, err := f.acc.AddUser(ctx, "admin@node.test", "", account.RoleAdmin, "admin-password-1")
	if err != nil {
		t.Fatal(err)
	}
	u, id, err := f.acc.Invite(ctx, "New@Node.test", " Nouvelle ", account.RoleWorker, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Pending() || u.Email != "new@node.test" || u.Name != "Nouvelle" || !u.Invited.Equal(f.clock.Now()) {
		t.Errorf("invited account = %+v, want pending new@node.test named Nouvelle, invited now", u)
	}
	secret := f.secretOf(t, id, "/invite")

	// Nobody logs in to a pending account, with any password: the answer
	// is that of a wrong password.
	for _, pw := range []string{"", "anything-at-all", "not a password of anyone"} {
		if _, err := f.acc.Login(ctx, "new@node.test", pw, "192.0.2.1"); !errors.Is(err, account.ErrBadCredentials) {
			t.Errorf("Login(pending, %q) = %v, want ErrBadCredentials", pw, err)
		}
	}
	// Nor is an address of an account invited again, nor added.
	if _, _, err := f.acc.Invite(ctx, "worker@node.test", "", account.RoleWorker, admin.ID); !errors.Is(err, directory.ErrConflict) {
		t.Errorf("Invite(active account) = %v, want ErrConflict", err)
	}
	if _, err := f.acc.AddUser(ctx, "new@node.test", "", account.RoleWorker, "some-password-1"); !errors.Is(err, directory.ErrConflict) {
		t.Errorf("AddUser(pending address) = %v, want ErrConflict", err)
	}
	if _, _, err := f.acc.Invite(ctx, "not an address", "", "boss", admin.ID); !isProblem(err, "email") {
		t.Errorf("Invite(bad input) = %v, want problems", err)
	}

	// Inviting again issues a new link and ends the old one.
	f.clock.Advance(time.Hour)
	again, id2, err := f.acc.Invite(ctx, "new@node.test", "Nouvelle Collègue", account.RoleAdmin, admin.ID)
	if err != nil || again.ID != u.ID || again.Role != account.RoleAdmin || !again.Invited.Equal(f.clock.Now()) {
		t.Fatalf("second Invite = %+v, %v; want the same account, updated", again, err)
	}
	if _, err := f.acc.AcceptInvite(ctx, secret, "the-chosen-password"); !errors.Is(err, account.ErrLinkInvalid) {
		t.Errorf("AcceptInvite(first link) = %v, want ErrLinkInvalid", err)
	}
	secret = f.secretOf(t, id2, "/invite")
	if got, err := f.acc.LinkUser(ctx, account.TokenInvite, secret); err != nil || got.Name != "Nouvelle Collègue" {
		t.Errorf("LinkUser(invite) = %+v, %v", got, err)
	}
	if _, err := f.acc.AcceptInvite(ctx, secret, "short"); !isProblem(err, "password") {
		t.Errorf("AcceptInvite(short password) = %v, want a password problem", err)
	}
	if _, err := f.acc.AcceptInvite(ctx, secret, "the-chosen-password"); err != nil {
		t.Fatalf("AcceptInvite = %v", err)
	}
	if _, err := f.acc.AcceptInvite(ctx, secret, "the-chosen-password"); !errors.Is(err, account.ErrLinkUsed) {
		t.Errorf("second AcceptInvite = %v, want ErrLinkUsed", err)
	}
	if got, err := f.acc.Login(ctx, "new@node.test", "the-chosen-password", "192.0.2.1"); err != nil || got.Pending() {
		t.Errorf("Login after accepting = %+v, %v", got, err)
	}
	if _, _, err := f.acc.Invite(ctx, "new@node.test", "", account.RoleWorker, admin.ID); !errors.Is(err, account.ErrNotPending) {
		t.Errorf("Invite(accepted account) = %v, want ErrNotPending", err)
	}
}

func TestInviteExpires(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, id, err := f.acc.Invite(ctx, "late@node.test", "", account.RoleWorker, f.worker.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(account.InviteTTL)
	if _, err := f.acc.AcceptInvite(ctx, f.secretOf(t, id, "/invite"), "the-chosen-password"); !errors.Is(err, account.ErrLinkExpired) {
		t.Errorf("AcceptInvite after a week = %v, want ErrLinkExpired", err)
	}
}

// The audit log names who asked, set a password, invited and accepted,
// by account id: never an address or a link.
func TestAccountAudit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret := f.startReset(t, "192.0.2.1")
	if _, err := f.acc.CompleteReset(ctx, secret, "a-brand-new-password"); err != nil {
		t.Fatal(err)
	}
	f.acc.StartReset(ctx, "nobody@node.test", "192.0.2.1")
	u, id, err := f.acc.Invite(ctx, "new@node.test", "", account.RoleWorker, f.worker.ID)
	if err != nil {
		t.Fatal(err)
	}
	invite := f.secretOf(t, id, "/invite")
	if _, err := f.acc.AcceptInvite(ctx, invite, "the-chosen-password"); err != nil {
		t.Fatal(err)
	}
	var got []string
	err = f.st.ForEachAudit(ctx, func(e *referral.AuditEntry) error {
		got = append(got, e.Who+" "+e.Action+" "+e.Detail)
		for _, s := range []string{e.Who, e.Action, e.Detail, e.Referral} {
			if strings.Contains(s, "@") || strings.Contains(s, secret) || strings.Contains(s, invite) || strings.Contains(s, ".") {
				t.Errorf("audit entry %+v names an address or a link", e)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	w := f.worker.ID
	want := []string{w + " password-reset-requested ", w + " password-reset ", w + " invited " + u.ID, u.ID + " invitation-accepted "}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
