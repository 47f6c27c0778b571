package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// bench-seed fills a stopped node with generated services, one location
// each by default or sharing a few; the node then serves them.
func TestBenchSeed(t *testing.T) {
	for _, tt := range []struct {
		args      []string
		locations int
	}{{nil, 4}, {[]string{"--locations", "2"}, 2}} {
		dir := filepath.Join(t.TempDir(), "node")
		if _, stderr, code := runCLI(t, nil, "init", "--data", dir, "--url", "http://127.0.0.1:1", "--name", "Banc", "--handle", "banc",
			"--admin-email", "admin@banc.test", "--admin-password", "correct-horse-battery"); code != 0 {
			t.Fatalf("init: %s", stderr)
		}
		if _, stderr, code := runCLI(t, nil, append([]string{"bench-seed", "--data", dir, "--services", "4"}, tt.args...)...); code != 0 {
			t.Fatalf("bench-seed %v: %s", tt.args, stderr)
		}
		s := startServe(t, dir)
		count := func(path string) int {
			_, body := s.do(t, "GET", path, "", "")
			var v struct{ Total int }
			json.Unmarshal(body, &v)
			return v.Total
		}
		if n := count("/api/v1/services"); n != 4 {
			t.Errorf("bench-seed %v: %d services, want 4", tt.args, n)
		}
		if n := count("/api/v1/locations"); n != tt.locations {
			t.Errorf("bench-seed %v: %d locations, want %d", tt.args, n, tt.locations)
		}
		s.stop(t)
	}
	if _, _, code := runCLI(t, nil, "bench-seed", "--data", t.TempDir(), "--services", "2", "--locations", "3"); code != 2 {
		t.Errorf("more shared locations than services: exit %d, want 2", code)
	}
}
