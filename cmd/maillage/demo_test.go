package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The README's first command: the demo serves sample services, answers a
// search, and stops cleanly on Ctrl-C, removing its temporary state.
func TestDemo(t *testing.T) {
	addr := freeAddr(t)
	tmp := t.TempDir()
	cmd := exec.Command(binary, "demo", "--listen", addr)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(30 * time.Second)
	var out []string
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("demo exited early: %v", out)
			}
			out = append(out, l)
			if strings.HasPrefix(l, "Press Ctrl-C") {
				break wait
			}
		case <-deadline:
			t.Fatalf("demo did not start: %v", out)
		}
	}
	text := strings.Join(out, "\n")
	for _, want := range []string{"http://" + addr + "/", "admin@demo.maillage.test", "worker@demo.maillage.test"} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	var list struct{ Total int }
	resp, err := http.Get("http://" + addr + "/api/v1/services")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if list.Total < 30 {
		t.Errorf("demo serves %d services, want 30 or more", list.Total)
	}
	waitFor(t, "the demo's search index", 20*time.Second, func() bool {
		var res struct{ Total int }
		r, err := http.Get("http://" + addr + "/api/v1/search?q=" + "cours")
		if err != nil {
			return false
		}
		defer r.Body.Close()
		json.NewDecoder(r.Body).Decode(&res)
		return res.Total > 0
	})

	// The load command runs the benchmark mix against it without error.
	benchOut, stderr, code := runCLI(t, nil, "bench-search", "--url", "http://"+addr, "--clients", "4", "--duration", "1s")
	if code != 0 || !regexp.MustCompile(`^\d+ searches in .* by 4 clients: \d+/s, 0 errors; latency p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms`).MatchString(benchOut) {
		t.Errorf("bench-search: exit %d\n%s%s", code, benchOut, stderr)
	}
	if _, stderr, code := runCLI(t, nil, "bench-search", "--url", "http://"+freeAddr(t), "--duration", "1s"); code != 1 || !strings.Contains(stderr, "bench-search") {
		t.Errorf("bench-search against nothing: exit %d, %s", code, stderr)
	}

	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not stop on Ctrl-C")
	}
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		if regexp.MustCompile(`^maillage-demo-`).MatchString(e.Name()) {
			t.Errorf("demo left its temporary state behind: %s", e.Name())
		}
	}
}
