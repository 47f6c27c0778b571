package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// The search index never outlives the store it was built from: a node
// killed with SIGKILL after changes since its last clean stop refuses the
// older snapshot at restart and rebuilds, and answers like its store.
func TestSearchIndexAfterKill(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	addr := freeAddr(t)
	if _, stderr, code := runCLI(t, nil, "init", "--data", dir, "--url", "http://"+addr, "--name", "Maison", "--handle", "maison",
		"--admin-email", "admin@maison.test", "--admin-password", "correct-horse-battery"); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	start := func() *server { return startServeAt(t, &server{addr: addr, done: make(chan struct{})}, dir) }
	names := func(s *server) []string {
		var res struct {
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
		sort.Strings(out)
		return out
	}
	create := func(s *server, tok, name string) string {
		code, body := s.do(t, "POST", "/api/v1/services", tok, fmt.Sprintf(`{"name": %q, "status": "active"}`, name))
		if code != 201 {
			t.Fatalf("create: %d %s", code, body)
		}
		var v struct{ ID string }
		json.Unmarshal(body, &v)
		return v.ID
	}

	s := start()
	tok := s.token(t, "admin@maison.test", "correct-horse-battery")
	first := create(s, tok, "Permanence sociale")
	create(s, tok, "Cours de français")
	s.stop(t) // clean: the index is saved
	if !strings.Contains(s.Logs(), "search index saved") {
		t.Fatalf("no snapshot at a clean stop:\n%s", s.Logs())
	}

	s = start()
	if got := names(s); strings.Join(got, "|") != "Cours de français|Permanence sociale" {
		t.Fatalf("after a clean restart: %v", got)
	}
	if !strings.Contains(s.Logs(), "search index loaded") {
		t.Errorf("the clean restart rebuilt instead of loading the snapshot:\n%s", s.Logs())
	}
	tok = s.token(t, "admin@maison.test", "correct-horse-battery")
	create(s, tok, "Épicerie sociale")
	if code, _ := s.do(t, "DELETE", "/api/v1/services/"+first, tok, ""); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	s.cmd.Process.Kill() // SIGKILL: no snapshot of these changes
	<-s.done

	s = start()
	if got := names(s); strings.Join(got, "|") != "Cours de français|Épicerie sociale" {
		t.Errorf("after SIGKILL the index answers %v, want the store's two services", got)
	}
	if strings.Contains(s.Logs(), "search index loaded") {
		t.Errorf("a snapshot was loaded after SIGKILL:\n%s", s.Logs())
	}
	s.stop(t)
}
