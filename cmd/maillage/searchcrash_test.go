package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// The search index is written beside the store at every stop and every
// --index-save-every, stamped with the store version it is complete up
// to. A node killed with SIGKILL loads it at restart and applies only what
// the store holds since: local and replicated services created, changed
// and deleted after the snapshot. It then answers exactly like its store.
func TestSearchIndexAfterKill(t *testing.T) {
	partner := nodetest.Start(t, 1, nodetest.Options{})[0]
	pt := partner.AdminToken()
	dir := filepath.Join(t.TempDir(), "node")
	addr := freeAddr(t)
	if _, stderr, code := runCLI(t, nil, "init", "--data", dir, "--url", "http://"+addr, "--name", "Maison", "--handle", "maison",
		"--admin-email", "admin@maison.test", "--admin-password", "correct-horse-battery"); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	start := func(extra ...string) *server {
		return startServeAt(t, &server{addr: addr, done: make(chan struct{})}, dir, append([]string{"--allow-private-network"}, extra...)...)
	}
	names := func(s *server) string {
		var res struct {
			Total   int
			Results []struct{ Name string }
		}
		waitFor(t, "a search answer", 20*time.Second, func() bool {
			code, body := s.do(t, "GET", "/api/v1/search?per_page=100", "", "")
			return code == 200 && json.Unmarshal(body, &res) == nil
		})
		var out []string
		for _, r := range res.Results {
			out = append(out, r.Name)
		}
		slices.Sort(out)
		if res.Total != len(out) {
			t.Errorf("total %d for %d results", res.Total, len(out))
		}
		return strings.Join(out, "|")
	}
	create := func(do func(method, path, body string) (int, []byte), name string) string {
		code, body := do("POST", "/api/v1/services", fmt.Sprintf(`{"name": %q, "status": "active"}`, name))
		if code != 201 {
			t.Fatalf("create: %d %s", code, body)
		}
		var v struct{ ID string }
		json.Unmarshal(body, &v)
		return v.ID
	}
	replicated := func(s *server, want int) {
		waitFor(t, fmt.Sprintf("%d replicated services", want), 20*time.Second, func() bool {
			var out struct{ Total int }
			_, body := s.do(t, "GET", "/api/v1/network/services", "", "")
			return json.Unmarshal(body, &out) == nil && out.Total == want
		})
	}
	onPartner := func(method, path, body string) (int, []byte) {
		var b any
		if body != "" {
			b = body
		}
		r := partner.Do(method, path, pt, b)
		return r.Status, r.Body
	}

	s := start()
	tok := s.token(t, "admin@maison.test", "correct-horse-battery")
	local := func(method, path, body string) (int, []byte) { return s.do(t, method, path, tok, body) }
	if code, body := local("POST", "/api/v1/partners", fmt.Sprintf(`{"actor": "@%s@%s"}`, partner.Name, partner.Addr)); code != 202 {
		t.Fatalf("partner request: %d %s", code, body)
	}
	var rels struct{ Partners []struct{ ID, State string } }
	waitFor(t, "the partner sees the request", 15*time.Second, func() bool {
		partner.Do("GET", "/api/v1/partners", pt, nil).JSON(t, &rels)
		return len(rels.Partners) == 1 && rels.Partners[0].State == "pending"
	})
	if code, body := onPartner("POST", "/api/v1/partners/"+rels.Partners[0].ID+"/accept", ""); code != 200 {
		t.Fatalf("accept: %d %s", code, body)
	}
	l1 := create(local, "Permanence sociale")
	create(local, "Cours de français")
	p1 := create(onPartner, "Épicerie sociale")
	p2 := create(onPartner, "Vestiaire")
	replicated(s, 2)
	s.stop(t) // clean: the index is saved
	if !strings.Contains(s.Logs(), "search index saved") {
		t.Fatalf("no snapshot at a clean stop:\n%s", s.Logs())
	}

	s = start()
	const all = "Cours de français|Permanence sociale|Vestiaire|Épicerie sociale"
	if got := names(s); got != all {
		t.Fatalf("after a clean restart: %v", got)
	}
	if !regexp.MustCompile(`search index brought up to date" services=4 changed=0 removed=0`).MatchString(s.Logs()) {
		t.Errorf("the clean restart did not load the snapshot unchanged:\n%s", s.Logs())
	}

	// Changes of every kind after the snapshot, then SIGKILL: the
	// snapshot on disk is the one of the clean stop.
	tok = s.token(t, "admin@maison.test", "correct-horse-battery")
	create(local, "Aide administrative")
	if code, _ := local("DELETE", "/api/v1/services/"+l1, ""); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	create(onPartner, "Repair café")
	if code, _ := onPartner("DELETE", "/api/v1/services/"+p1, ""); code != 204 {
		t.Fatalf("delete on the partner: %d", code)
	}
	if code, body := onPartner("PUT", "/api/v1/services/"+p2, `{"name": "Vestiaire solidaire", "status": "active"}`); code != 200 {
		t.Fatalf("update on the partner: %d %s", code, body)
	}
	const changed = "Aide administrative|Cours de français|Repair café|Vestiaire solidaire"
	waitFor(t, "the changes replicated and indexed", 20*time.Second, func() bool { return names(s) == changed })
	s.cmd.Process.Kill()
	<-s.done

	s = start("--index-save-every", "1s")
	if got := names(s); got != changed {
		t.Errorf("after SIGKILL the index answers %v, want the store's %v", got, changed)
	}
	// Two added (one local, one replicated), one changed, two removed.
	if !regexp.MustCompile(`search index brought up to date" services=4 changed=3 removed=2`).MatchString(s.Logs()) {
		t.Errorf("the restart after SIGKILL did not bring the snapshot up to date:\n%s", s.Logs())
	}
	if strings.Contains(s.Logs(), "search index built") {
		t.Errorf("the index was rebuilt instead:\n%s", s.Logs())
	}

	// A snapshot written while the node runs, then SIGKILL.
	create(onPartner, "École de devoirs")
	const later = "Aide administrative|Cours de français|Repair café|Vestiaire solidaire|École de devoirs"
	waitFor(t, "the new service indexed", 20*time.Second, func() bool { return names(s) == later })
	waitFor(t, "a snapshot written while running", 20*time.Second, func() bool {
		return strings.Count(s.Logs(), "search index saved") >= 1
	})
	s.cmd.Process.Kill()
	<-s.done
	s = start()
	if got := names(s); got != later {
		t.Errorf("after the second SIGKILL the index answers %v, want %v", got, later)
	}
	if !regexp.MustCompile(`search index brought up to date" services=5 changed=0 removed=0`).MatchString(s.Logs()) {
		t.Errorf("the snapshot written while running was not the one loaded:\n%s", s.Logs())
	}
	s.stop(t)

	// A damaged snapshot is refused whole, even when only its end is
	// damaged and the rest was read: the index is built from the store.
	snap := filepath.Join(dir, "search.snapshot")
	raw, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-3] ^= 0x40
	if err := os.WriteFile(snap, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s = start()
	if got := names(s); got != later {
		t.Errorf("after a damaged snapshot the index answers %v, want %v", got, later)
	}
	if !strings.Contains(s.Logs(), "search index snapshot not used; rebuilding") || !strings.Contains(s.Logs(), `search index built" services=5`) {
		t.Errorf("a damaged snapshot was not refused:\n%s", s.Logs())
	}
	s.stop(t)
}
