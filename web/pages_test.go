package web_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func postForm(t *testing.T, c *http.Client, target string, form url.Values, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formToken loads a page with c and returns the token its forms carry.
func formToken(t *testing.T, c *http.Client, page string) string {
	t.Helper()
	resp, err := c.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s has no form token:\n%s", page, b)
	}
	return html.UnescapeString(string(m[1]))
}

func TestBrowserSessions(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect}
	creds := url.Values{"email": {n.AdminEmail}, "password": {n.AdminPassword}}

	// A form posted from another site is refused before it is read.
	resp := postForm(t, c, n.URL+"/login", creds, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site login = %d, want 403", resp.StatusCode)
	}
	if len(jar.Cookies(mustURL(n.URL))) != 0 {
		t.Error("a cross-site login set a cookie")
	}

	// A same-origin form without the page's token is refused: the token
	// stands when a browser sends neither Sec-Fetch-Site nor Origin.
	resp = postForm(t, c, n.URL+"/login", creds, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without a form token = %d, want 403", resp.StatusCode)
	}
	token := formToken(t, c, n.URL+"/login")
	withToken := func(v url.Values) url.Values {
		out := url.Values{"csrf": {token}}
		for k, vs := range v {
			out[k] = vs
		}
		return out
	}
	if resp := postForm(t, c, n.URL+"/login", withToken(url.Values{"csrf": {"forged"}, "email": creds["email"], "password": creds["password"]}), nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("login with a forged token = %d, want 403", resp.StatusCode)
	}
	creds = withToken(creds)

	// A planted session cookie is replaced at login (no session fixation).
	jar.SetCookies(mustURL(n.URL), []*http.Cookie{{Name: "maillage_session", Value: "planted-by-attacker", Path: "/"}})
	resp = postForm(t, c, n.URL+"/login", withToken(url.Values{"email": {n.AdminEmail}, "password": {"wrong-password"}}), map[string]string{"Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password = %d, want 401", resp.StatusCode)
	}
	resp = postForm(t, c, n.URL+"/login", creds, map[string]string{"Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login = %d, want 303", resp.StatusCode)
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "maillage_session" {
			session = ck
		}
	}
	if session == nil || session.Value == "planted-by-attacker" || len(session.Value) < 40 {
		t.Fatalf("session cookie = %+v, want a fresh random value", session)
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie HttpOnly=%v SameSite=%v, want HttpOnly and Lax", session.HttpOnly, session.SameSite)
	}

	// The session authenticates the JSON API too (same-origin browser use).
	req, _ := http.NewRequest("GET", n.URL+"/api/v1/users", nil)
	r2, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusOK {
		t.Errorf("GET /api/v1/users with the session = %d, want 200", r2.StatusCode)
	}
	// …but an unsafe request from another site is refused, cookie or not.
	req, _ = http.NewRequest("POST", n.URL+"/api/v1/services", strings.NewReader(serviceBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	r3, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r3.Body.Close()
	if r3.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site API write with the session cookie = %d, want 403", r3.StatusCode)
	}

	// Logging out ends the session on the server, not only in the browser.
	resp = postForm(t, c, n.URL+"/logout", withToken(nil), map[string]string{"Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logout = %d", resp.StatusCode)
	}
	replay := &http.Client{CheckRedirect: noRedirect}
	req, _ = http.NewRequest("GET", n.URL+"/api/v1/users", nil)
	req.AddCookie(session)
	r4, err := replay.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r4.Body.Close()
	if r4.StatusCode != http.StatusUnauthorized {
		t.Errorf("old session cookie after logout = %d, want 401", r4.StatusCode)
	}
}

func TestHomePageLanguages(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	for lang, want := range map[string]string{"fr": "Se connecter", "nl-BE,nl;q=0.9": "Aanmelden", "en-GB": "Log in", "de": "Se connecter"} {
		req, _ := http.NewRequest("GET", n.URL+"/", nil)
		req.Header.Set("Accept-Language", lang)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("Accept-Language %s: %d, page lacks %q", lang, resp.StatusCode, want)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("CSP = %q", csp)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// The language switch is remembered: after choosing Dutch, the pages stay
// Dutch whatever the browser's Accept-Language says, and each page
// offers the same page in the other languages.
func TestLanguageSwitchIsRemembered(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(path string) string {
		req, _ := http.NewRequest("GET", n.URL+path, nil)
		req.Header.Set("Accept-Language", "en")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(b)
	}
	if page := get("/about"); !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, `href="/about?lang=nl"`) {
		t.Fatalf("the English page does not offer Dutch:\n%.600s", page)
	}
	if page := get("/about?lang=nl"); !strings.Contains(page, `<html lang="nl">`) {
		t.Fatal("?lang=nl did not switch")
	}
	if page := get("/search"); !strings.Contains(page, `<html lang="nl">`) || !strings.Contains(page, "Een dienst zoeken") {
		t.Error("the choice was not remembered on the next page")
	}
	for _, ck := range jar.Cookies(mustURL(n.URL)) {
		if ck.Name == "lang" && ck.Value != "nl" {
			t.Errorf("lang cookie = %q", ck.Value)
		}
	}
}

// The login page refuses after five wrong passwords for an address, even
// with the right one, for a quarter of an hour; a session ends after
// twelve hours.
func TestLoginThrottleAndSessionExpiry(t *testing.T) {
	start := time.Date(2026, 12, 21, 9, 0, 0, 0, time.UTC)
	n := nodetest.Start(t, 1, nodetest.Options{Clock: &start})[0]
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect}
	token := formToken(t, c, n.URL+"/login")
	post := func(password string) int {
		return postForm(t, c, n.URL+"/login", url.Values{"csrf": {token}, "email": {n.AdminEmail}, "password": {password}}, nil).StatusCode
	}
	for i := range 5 {
		if code := post("wrong-password"); code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i+1, code)
		}
	}
	if code := post(n.AdminPassword); code != http.StatusTooManyRequests {
		t.Errorf("the right password after five failures = %d, want 429", code)
	}
	n.Clock.Advance(16 * time.Minute)
	if code := post(n.AdminPassword); code != http.StatusSeeOther {
		t.Fatalf("login after the window = %d, want 303", code)
	}
	page := func() (int, string) {
		resp, err := c.Get(n.URL + "/referrals")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	if code, _ := page(); code != http.StatusOK {
		t.Fatalf("a worker page with a fresh session = %d", code)
	}
	n.Clock.Advance(12*time.Hour + time.Minute)
	if code, loc := page(); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Errorf("after twelve hours = %d %s, want the login page", code, loc)
	}
}

// The home page's count of the node's services follows creations and
// deletions (it is kept, not recounted on each visit).
func TestHomeCountsServices(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	tok := n.AdminToken()
	count := func() string {
		body := string(n.Do("GET", "/?lang=en", "", nil).Body)
		return strings.ReplaceAll(regexp.MustCompile(`Our association(&#39;|')s \d+ services`).FindString(body), "&#39;", "'")
	}
	before := count()
	var ids []string
	for _, name := range []string{"Un", "Deux", "Trois"} {
		r := n.Do("POST", "/api/v1/services", tok, `{"name": "`+name+`", "status": "active"}`)
		var s struct{ ID string }
		r.JSON(t, &s)
		ids = append(ids, s.ID)
	}
	n.Do("DELETE", "/api/v1/services/"+ids[0], tok, nil)
	after := count()
	if before != "Our association's 0 services" || after != "Our association's 2 services" {
		t.Errorf("home count before %q, after three creations and a deletion %q; want 2", before, after)
	}
}

// Behind a trusted reverse proxy, one visitor's wrong passwords throttle
// that visitor, not everyone who comes through the proxy; without the
// setting, an X-Forwarded-For sent to the node changes nothing (an
// attacker cannot choose its address to escape the throttle).
func TestLoginThrottleBehindProxy(t *testing.T) {
	for _, behindProxy := range []bool{true, false} {
		n := nodetest.Start(t, 1, nodetest.Options{Configure: func(c *node.Config) {
			if behindProxy {
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
			}
		}})[0]
		login := func(email, password, from string) int {
			req, _ := http.NewRequest("POST", n.URL+"/api/v1/token", strings.NewReader(fmt.Sprintf(`{"email": %q, "password": %q}`, email, password)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", from)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		// 25 wrong passwords from one visitor, each for another account
		// (the per-account limit is 5): the per-address limit is 20.
		for i := range 25 {
			login(fmt.Sprintf("guess%d@example.test", i), "wrong-password", "203.0.113.5")
		}
		if code := login("guess@example.test", "wrong-password", "203.0.113.5"); code != http.StatusTooManyRequests {
			t.Errorf("behind a proxy %v: the guessing visitor is not throttled: %d", behindProxy, code)
		}
		code := login(n.AdminEmail, n.AdminPassword, "198.51.100.7")
		if behindProxy && code != http.StatusOK {
			t.Errorf("behind a trusted proxy, another visitor's login = %d, want 200", code)
		}
		if !behindProxy && code != http.StatusTooManyRequests {
			t.Errorf("an X-Forwarded-For from an untrusted address let a throttled client log in: %d", code)
		}
	}
}

// An admin deletes a staff account once it is disabled (the disabling is
// the confirmation, and ends its sessions and tokens): its email and name
// are gone, the email can be used again, and its old token stays dead.
// Nobody deletes their own account, and an enabled one is refused.
func TestDeleteStaffAccount(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	admin := n.AdminToken()
	add := func(email string) string {
		resp := n.Do("POST", "/api/v1/users", admin, `{"email": "`+email+`", "name": "Ancienne Travailleuse", "role": "worker", "password": "worker-password"}`)
		if resp.Status != http.StatusCreated {
			t.Fatalf("add %s: %d %s", email, resp.Status, resp.Body)
		}
		var u struct{ ID string }
		resp.JSON(t, &u)
		return u.ID
	}
	id := add("leaving@node1.test")
	worker := n.Token("leaving@node1.test", "worker-password")
	if resp := n.Do("DELETE", "/api/v1/users/"+id, admin, nil); resp.Status != http.StatusConflict || !strings.Contains(string(resp.Body), "disable the account") {
		t.Errorf("delete of an enabled account: %d %s", resp.Status, resp.Body)
	}
	var me struct{ Users []struct{ ID, Email string } }
	n.Do("GET", "/api/v1/users", admin, nil).JSON(t, &me)
	for _, u := range me.Users {
		if u.Email == n.AdminEmail {
			if resp := n.Do("DELETE", "/api/v1/users/"+u.ID, admin, nil); resp.Status != http.StatusForbidden {
				t.Errorf("an admin deleted their own account: %d", resp.Status)
			}
		}
	}
	if resp := n.Do("DELETE", "/api/v1/users/"+id, worker, nil); resp.Status != http.StatusForbidden {
		t.Errorf("a worker deleted an account: %d", resp.Status)
	}
	n.Do("POST", "/api/v1/users/"+id+"/disable", admin, nil)
	if resp := n.Do("DELETE", "/api/v1/users/"+id, admin, nil); resp.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.Status, resp.Body)
	}
	if body := string(n.Do("GET", "/api/v1/users", admin, nil).Body); strings.Contains(body, "leaving@") || strings.Contains(body, "Ancienne") {
		t.Errorf("the deleted account is still listed: %s", body)
	}
	if resp := n.Do("GET", "/api/v1/referrals", worker, nil); resp.Status != http.StatusUnauthorized {
		t.Errorf("the deleted account's token: %d", resp.Status)
	}
	if again := add("leaving@node1.test"); again == id {
		t.Error("the email came back with the old account")
	}

	// From the accounts page: a disabled account has a Delete button.
	other, enabled := add("other@node1.test"), add("third@node1.test")
	n.Do("POST", "/api/v1/users/"+other+"/disable", admin, nil)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect}
	token := formToken(t, c, n.URL+"/login")
	if resp := postForm(t, c, n.URL+"/login", url.Values{"csrf": {token}, "email": {n.AdminEmail}, "password": {n.AdminPassword}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	resp, err := c.Get(n.URL + "/admin/users")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `/admin/users/`+other+`/delete`) || strings.Contains(string(page), `/admin/users/`+enabled+`/delete`) {
		t.Error("the accounts page does not offer deletion for disabled accounts only")
	}
	token = formToken(t, c, n.URL+"/admin/users")
	if resp := postForm(t, c, n.URL+"/admin/users/"+other+"/delete", url.Values{"csrf": {token}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete from the page: %d", resp.StatusCode)
	}
	if body := string(n.Do("GET", "/api/v1/users", admin, nil).Body); strings.Contains(body, "other@") {
		t.Error("the page's deletion left the account")
	}
}
