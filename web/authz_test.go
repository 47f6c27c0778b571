package web_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// Who may use a route.
type access int

const (
	open      access = iota // anyone
	staff                   // a worker or an admin of this node
	adminOnly               // an admin of this node
)

// routeAccess says who may use each route, by name. A route missing here
// fails the test: a new route is added to the matrix when it is added.
var routeAccess = map[string]access{
	"healthz": open, "readyz": open, "metrics": open, "static": open, "favicon": open,
	"token": open, "token-revoke": staff, "taxonomy": open, "organization": open, "organization-update": adminOnly,
	"services": open, "service-create": adminOnly, "services-similar": staff, "services-similar-post": staff,
	"service": open, "service-update": adminOnly, "service-delete": adminOnly,
	"service-capacity": staff, "service-capacity-delete": staff, "service-reviewed": adminOnly, "service-capacity-page": staff, "admin-service-reviewed": adminOnly,
	"locations": open, "location-create": adminOnly, "location": open, "location-update": adminOnly, "location-delete": adminOnly,
	"users": adminOnly, "user-create": adminOnly, "user-disable": adminOnly, "user-enable": adminOnly, "backup": adminOnly,
	"partners": adminOnly, "partner-request": adminOnly, "partner-accept": adminOnly, "partner-decline": adminOnly, "partner-end": adminOnly,
	"search": open, "network-services": open, "network-overlaps": open, "network-gaps": open, "network-needs": open, "network-pop": staff,
	"referrals": staff, "referral-create": staff, "referrals-due": adminOnly, "referral": staff, "referral-transition": staff,
	"referral-withdraw": staff, "referral-erase": adminOnly, "user-delete": adminOnly, "admin-user-delete": adminOnly, "referral-erase-page": adminOnly, "referral-receipt": staff, "audit": adminOnly, "blocklist": adminOnly, "block": adminOnly, "unblock": adminOnly,
	"hsds-root": open, "hsds-services": open, "hsds-service": open, "hsds-organizations": open, "hsds-organization": open,
	"hsds-taxonomies": open, "hsds-taxonomy": open, "hsds-terms": open, "hsds-term": open,
	"home": open, "search-page": open, "service-page": open, "partner-service-page": open, "association-page": open,
	"partner-association-page": open, "about-page": open, "network-page": open, "network-need": open,
	"refer-page": staff, "refer-post": staff, "notice-page": staff, "referrals-page": staff, "referral-page": staff,
	"referral-open": staff, "referral-move": staff, "referral-withdraw-page": staff,
	"referral-receipt-mail":  staff,
	"referral-documents-add": staff, "referral-document": staff, "referral-messages": staff, "referral-message-create": staff,
	"referral-documents-add-page": staff, "referral-document-download": staff, "referral-message-page": staff,
	"admin-page": adminOnly, "admin-services-page": adminOnly, "admin-service-new": adminOnly, "admin-service-create": adminOnly,
	"admin-service-edit": adminOnly, "admin-service-save": adminOnly, "admin-locations-page": adminOnly, "admin-location-new": adminOnly,
	"admin-location-create": adminOnly, "admin-location-edit": adminOnly, "admin-location-save": adminOnly,
	"admin-organization": adminOnly, "admin-organization-save": adminOnly, "admin-partners-page": adminOnly,
	"admin-partner-request": adminOnly, "admin-partner-action": adminOnly, "admin-partner-end": adminOnly, "admin-users-page": adminOnly, "admin-user-add": adminOnly,
	"admin-user-disabled": adminOnly, "admin-blocklist-page": adminOnly, "admin-block": adminOnly, "admin-audit-page": adminOnly,
	"login": open, "login-post": open, "logout": open,
	"password-forgot": open, "password-forgot-post": open, "password-reset": open, "password-reset-post": open,
	"invite-page": open, "invite-accept": open, "admin-user-invite": adminOnly, "admin-user-reinvite": adminOnly,
	"notifications-page": staff, "notifications-read": staff, "notification-settings": staff, "notification-settings-save": staff,
	"unsubscribe-page": open, "unsubscribe": open, "admin-mail-page": adminOnly, "admin-mail-test": adminOnly,
	"stats": adminOnly, "admin-stats-page": adminOnly, "admin-stats-csv": adminOnly, "admin-stats-pdf": adminOnly, "admin-stats-share": adminOnly,
}

// Every route × anonymous, this node's worker, this node's admin, and a
// worker of a partner node (whose token this node must not honour): API
// routes answer 401 or 403 where they must, and pages send strangers to
// the login page and refuse workers their admin pages.
func TestAuthorizationMatrix(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b := nodes[0], nodes[1]
	for _, n := range nodes {
		if r := n.Do("POST", "/api/v1/users", n.AdminToken(), `{"email": "worker@`+n.Name+`.test", "password": "worker-password-1", "role": "worker"}`); r.Status != 201 {
			t.Fatalf("add worker on %s: %d %s", n.Name, r.Status, r.Body)
		}
	}
	// Tokens are taken afresh for every route: token-revoke revokes them.
	callers := []struct {
		who   string
		token func() string
		rank  access // the highest access it has on A; -1: none
	}{
		{"anonymous", func() string { return "" }, -1},
		{"worker", func() string { return a.Token("worker@node1.test", "worker-password-1") }, staff},
		{"admin", a.AdminToken, adminOnly},
		{"partner's worker", func() string { return b.Token("worker@node2.test", "worker-password-1") }, -1},
		{"partner's admin", b.AdminToken, -1},
	}
	vars := regexp.MustCompile(`\{([a-z]+)(:[^}]*)?\}`)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	seen := map[string]bool{}
	for _, rt := range a.Node().Web.Routes() {
		want, ok := routeAccess[rt.Name]
		if !ok {
			t.Errorf("route %s (%s %s) is not in the authorization matrix", rt.Name, rt.Method, rt.Path)
			continue
		}
		seen[rt.Name] = true
		path := vars.ReplaceAllStringFunc(rt.Path, func(v string) string {
			if strings.HasPrefix(v, "{path") {
				return "app.css"
			}
			return "00000000-0000-4000-8000-000000000000"
		})
		page := !strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, "/hsds/")
		for _, c := range callers {
			var body io.Reader
			if rt.Method != "GET" {
				body = strings.NewReader("{}")
			}
			req, _ := http.NewRequest(rt.Method, a.URL+path, body)
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			token := c.token()
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			got := res.StatusCode
			allowed := want == open || c.rank >= want
			denied := got == 401 || got == 403 || (page && got == 303 && strings.HasPrefix(res.Header.Get("Location"), "/login"))
			foreign := c.rank < 0 && token != ""
			switch {
			case rt.Name == "unsubscribe":
				// Its signed link is its proof, not a form token: without
				// one, the link is refused.
				if got != 400 {
					t.Errorf("%s %s by %s = %d, want 400 (no signed link)", rt.Method, path, c.who, got)
				}
			case page && rt.Method == "POST":
				// A form posted without its page's token is refused
				// whoever sends it: the CSRF check comes first.
				if got != 403 {
					t.Errorf("%s %s by %s = %d, want 403 (no form token)", rt.Method, path, c.who, got)
				}
			case rt.Name == "token":
				if got != 401 { // no credentials in the body
					t.Errorf("%s %s by %s = %d, want 401", rt.Method, path, c.who, got)
				}
			case foreign && !page:
				// Another node's token is refused, even where none is
				// needed: a credential that does not verify is an error.
				if got != 401 {
					t.Errorf("%s %s by %s = %d, want 401", rt.Method, path, c.who, got)
				}
			case foreign && page && want > open && !denied:
				t.Errorf("%s %s by %s = %d, want it refused", rt.Method, path, c.who, got)
			case foreign:
			case allowed && denied:
				t.Errorf("%s %s by %s = %d, want access", rt.Method, path, c.who, got)
			case !allowed && !denied:
				t.Errorf("%s %s by %s = %d, want it refused", rt.Method, path, c.who, got)
			case !allowed && !page && c.rank < 0 && got != 401:
				t.Errorf("%s %s by %s = %d, want 401", rt.Method, path, c.who, got)
			case !allowed && !page && c.rank >= staff && got != 403:
				t.Errorf("%s %s by %s = %d, want 403", rt.Method, path, c.who, got)
			}
			if got >= 500 {
				t.Errorf("%s %s by %s = %d", rt.Method, path, c.who, got)
			}
		}
	}
	for name := range routeAccess {
		if !seen[name] {
			t.Errorf("the matrix names route %s, which the node does not serve", name)
		}
	}
}
