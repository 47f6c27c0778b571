package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// syncBuffer collects logs written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const serviceBody = `{
  "name": "Épicerie sociale du Midi",
  "description": "Colis alimentaires et produits de base",
  "status": "active",
  "translations": {"nl": {"name": "Sociale kruidenier Zuid"}},
  "categories": ["equipement-et-alimentation--alimentation"],
  "audiences": ["familles"],
  "languages": [{"code": "fr"}, {"code": "ar"}],
  "fee": "gratuit",
  "phones": [{"number": "+32 2 555 12 34"}],
  "schedules": [{"freq": "WEEKLY", "byday": "MO,WE", "opens_at": "09:00", "closes_at": "12:00"}],
  "service_areas": [{"name": "1060", "extent_type": "postcode"}],
  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "contact"]}
}`

func countServices(t *testing.T, n *nodetest.Node) int {
	t.Helper()
	var list struct{ Total int }
	n.Do("GET", "/api/v1/services", "", nil).JSON(t, &list)
	return list.Total
}

func TestServiceCRUD(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	admin := n.AdminToken()

	resp := n.Do("POST", "/api/v1/services", admin, serviceBody)
	if resp.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.Status, resp.Body)
	}
	var created map[string]any
	resp.JSON(t, &created)
	id, _ := created["id"].(string)
	if len(id) != 36 {
		t.Fatalf("created id = %q, want a UUID", id)
	}
	if got := resp.Header.Get("Location"); got != "/api/v1/services/"+id {
		t.Errorf("Location = %q", got)
	}
	if created["name"] != "Épicerie sociale du Midi" || created["fee"] != "gratuit" {
		t.Errorf("created = %v", created)
	}

	resp = n.Do("GET", "/api/v1/services/"+id, "", nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("get: %d %s", resp.Status, resp.Body)
	}
	var got map[string]any
	resp.JSON(t, &got)
	if tr, _ := got["translations"].(map[string]any); tr["nl"].(map[string]any)["name"] != "Sociale kruidenier Zuid" {
		t.Errorf("translations = %v", got["translations"])
	}

	// What the API returns can be sent back as it is.
	resp = n.Do("PUT", "/api/v1/services/"+id, admin, strings.Replace(string(resp.Body), "Colis alimentaires", "Colis et fruits", 1))
	if resp.Status != http.StatusOK {
		t.Fatalf("put of the returned document: %d %s", resp.Status, resp.Body)
	}
	resp.JSON(t, &got)
	if got["description"] != "Colis et fruits et produits de base" {
		t.Errorf("updated description = %v", got["description"])
	}

	// A client-chosen id is kept; a second create with it conflicts.
	withID := strings.Replace(serviceBody, `"status"`, `"id": "0b0e2c9f-4c1a-4d55-9a0d-6a0f6d8f9e01", "status"`, 1)
	if resp := n.Do("POST", "/api/v1/services", admin, withID); resp.Status != http.StatusCreated {
		t.Fatalf("create with id: %d %s", resp.Status, resp.Body)
	}
	if resp := n.Do("POST", "/api/v1/services", admin, withID); resp.Status != http.StatusConflict {
		t.Errorf("second create with the same id: %d, want 409", resp.Status)
	}
	if got := countServices(t, n); got != 2 {
		t.Errorf("services = %d, want 2", got)
	}

	if resp := n.Do("DELETE", "/api/v1/services/"+id, admin, nil); resp.Status != http.StatusNoContent {
		t.Errorf("delete: %d %s", resp.Status, resp.Body)
	}
	if resp := n.Do("GET", "/api/v1/services/"+id, "", nil); resp.Status != http.StatusNotFound {
		t.Errorf("get after delete: %d, want 404", resp.Status)
	}
	if resp := n.Do("DELETE", "/api/v1/services/"+id, admin, nil); resp.Status != http.StatusNotFound {
		t.Errorf("second delete: %d, want 404", resp.Status)
	}
}

func TestServiceWritesNeedAnAdmin(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	admin := n.AdminToken()
	if resp := n.Do("POST", "/api/v1/users", admin, `{"email": "worker@node1.test", "role": "worker", "password": "worker-password"}`); resp.Status != http.StatusCreated {
		t.Fatalf("add worker: %d %s", resp.Status, resp.Body)
	}
	worker := n.Token("worker@node1.test", "worker-password")
	tests := []struct {
		name, token string
		want        int
	}{
		{"anonymous", "", http.StatusUnauthorized},
		{"garbage token", "not.a.token", http.StatusUnauthorized},
		{"worker", worker, http.StatusForbidden},
		{"admin", admin, http.StatusCreated},
	}
	for _, tt := range tests {
		if resp := n.Do("POST", "/api/v1/services", tt.token, serviceBody); resp.Status != tt.want {
			t.Errorf("%s: create = %d, want %d (%s)", tt.name, resp.Status, tt.want, resp.Body)
		}
	}
	if got := countServices(t, n); got != 1 {
		t.Errorf("services = %d, want only the admin's", got)
	}
}

func TestBadBodiesAreRefusedAndChangeNothing(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	admin := n.AdminToken()
	huge := `{"name": "` + strings.Repeat("a", 2<<20) + `", "status": "active"}`
	tests := []struct {
		name, body, contentType string
		want                    int
		wantFields              []string
	}{
		{"unknown fields and wrong types", `{"name": 3, "colour": "red", "status": "active", "minimum_age": "ten"}`, "application/json", 400, []string{"name", "colour", "minimum_age"}},
		{"invalid values", `{"name": "x", "status": "open", "email": "nope", "categories": ["nothing"]}`, "application/json", 400, []string{"status", "email", "categories[0]"}},
		{"no name", `{"status": "active"}`, "application/json", 400, []string{"name"}},
		{"not json", `{"name": `, "application/json", 400, []string{""}},
		{"oversized", huge, "application/json", 413, nil},
		{"wrong content type", serviceBody, "text/plain", 415, nil},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("POST", n.URL+"/api/v1/services", strings.NewReader(tt.body))
		req.Header.Set("Content-Type", tt.contentType)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error    string
			Problems []struct{ Field, Message string }
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d (%+v)", tt.name, resp.StatusCode, tt.want, body)
			continue
		}
		if body.Error == "" {
			t.Errorf("%s: no error message in the answer", tt.name)
		}
		fields := map[string]bool{}
		for _, p := range body.Problems {
			fields[p.Field] = true
		}
		for _, f := range tt.wantFields {
			if !fields[f] {
				t.Errorf("%s: problem on %q missing from %+v", tt.name, f, body.Problems)
			}
		}
	}
	if got := countServices(t, n); got != 0 {
		t.Errorf("services after refused bodies = %d, want 0", got)
	}
}

func TestTokens(t *testing.T) {
	var logs syncBuffer
	n := nodetest.Start(t, 1, nodetest.Options{Log: &logs})[0]
	admin := n.AdminToken()

	if resp := n.Do("POST", "/api/v1/token", "", map[string]string{"email": n.AdminEmail, "password": "wrong-password"}); resp.Status != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", resp.Status)
	}
	if resp := n.Do("POST", "/api/v1/token", "", map[string]string{"email": "nobody@node1.test", "password": "whatever-pass"}); resp.Status != http.StatusUnauthorized {
		t.Errorf("unknown user: %d, want 401", resp.Status)
	}

	// A disabled user's token is refused at once.
	n.Do("POST", "/api/v1/users", admin, `{"email": "w@node1.test", "role": "worker", "password": "worker-password"}`)
	worker := n.Token("w@node1.test", "worker-password")
	if resp := n.Do("POST", "/api/v1/token/revoke", worker, nil); resp.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", resp.Status, resp.Body)
	}
	if resp := n.Do("POST", "/api/v1/token/revoke", worker, nil); resp.Status != http.StatusUnauthorized {
		t.Errorf("revoked token still works: %d", resp.Status)
	}
	worker = n.Token("w@node1.test", "worker-password")
	var users struct{ Users []struct{ ID, Email string } }
	n.Do("GET", "/api/v1/users", admin, nil).JSON(t, &users)
	var wid string
	for _, u := range users.Users {
		if u.Email == "w@node1.test" {
			wid = u.ID
		}
	}
	if resp := n.Do("POST", "/api/v1/users/"+wid+"/disable", admin, nil); resp.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", resp.Status, resp.Body)
	}
	if resp := n.Do("POST", "/api/v1/token/revoke", worker, nil); resp.Status != http.StatusUnauthorized {
		t.Errorf("disabled user's token: %d, want 401", resp.Status)
	}
	if resp := n.Do("POST", "/api/v1/token", "", map[string]string{"email": "w@node1.test", "password": "worker-password"}); resp.Status != http.StatusUnauthorized {
		t.Errorf("disabled user's login: %d, want 401", resp.Status)
	}

	// Throttling: after repeated failures even the right password waits.
	for range 6 {
		n.Do("POST", "/api/v1/token", "", map[string]string{"email": n.AdminEmail, "password": "guess-guess"})
	}
	resp := n.Do("POST", "/api/v1/token", "", map[string]string{"email": n.AdminEmail, "password": n.AdminPassword})
	if resp.Status != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("after repeated failures: %d (Retry-After %q), want 429 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}

	out := logs.String()
	if !strings.Contains(out, "route=token") {
		t.Fatalf("logs did not record the requests; got:\n%s", out)
	}
	for _, secret := range []string{n.AdminPassword, "worker-password", "guess-guess", admin, worker} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain a secret %q", secret[:8])
		}
	}
}

func TestOperationalEndpoints(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		if resp := n.Do("GET", path, "", nil); resp.Status != want {
			t.Errorf("%s = %d, want %d", path, resp.Status, want)
		}
	}
	n.Do("GET", "/api/v1/services", "", nil)
	resp := n.Do("GET", "/metrics", "", nil)
	for _, want := range []string{`maillage_http_requests_total{code="200",method="GET",route="services"}`, "go_goroutines", "process_resident_memory_bytes"} {
		if !bytes.Contains(resp.Body, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
