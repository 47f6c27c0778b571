package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// demoRun is a running demo process.
type demoRun struct {
	cmd    *exec.Cmd
	out    []string
	stderr *lockedBuffer
}

// lockedBuffer is a buffer the process writes to while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startDemo runs the demo with args and waits until it says it serves.
func startDemo(t *testing.T, env []string, args ...string) *demoRun {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"demo"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	d := &demoRun{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("demo exited early: %s\n%s", strings.Join(d.out, "\n"), d.stderr)
			}
			d.out = append(d.out, l)
			if strings.HasPrefix(l, "Press Ctrl-C") {
				return d
			}
		case <-deadline:
			t.Fatalf("demo did not start: %s\n%s", strings.Join(d.out, "\n"), d.stderr)
		}
	}
}

// stop sends Ctrl-C and waits for a clean exit.
func (d *demoRun) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo exited with %v\n%s", err, d.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop on Ctrl-C")
	}
}

func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func demoToken(t *testing.T, base, email string) string {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/token", "application/json", strings.NewReader(`{"email": "`+email+`", "password": "demo-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	if tok.Token == "" {
		t.Fatalf("login %s on %s: %d", email, base, resp.StatusCode)
	}
	return tok.Token
}

// sentStates returns the states of the referrals a node sent.
func sentStates(t *testing.T, base string) map[string]int {
	t.Helper()
	var out struct{ Counts map[string]map[string]int }
	getJSON(t, base+"/api/v1/referrals?box=sent", demoToken(t, base, "worker@demo.maillage.test"), &out)
	return out.Counts["sent"]
}

// The README's first command: three federated nodes with their services,
// partnerships (one still pending), referrals in several states and demo
// accounts; Ctrl-C stops them all and removes the temporary state.
func TestDemo(t *testing.T) {
	addrs := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	tmp := t.TempDir()
	d := startDemo(t, []string{"TMPDIR=" + tmp}, "--listen", strings.Join(addrs, ","))
	text := strings.Join(d.out, "\n")
	for _, want := range []string{"http://" + addrs[0] + "/", "http://" + addrs[1] + "/", "http://" + addrs[2] + "/",
		"admin@demo.maillage.test", "worker@demo.maillage.test", "demo-password"} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	urls := []string{"http://" + addrs[0], "http://" + addrs[1], "http://" + addrs[2]}
	own, replicas := 0, map[string]int{}
	for _, u := range urls {
		var list struct{ Total int }
		getJSON(t, u+"/api/v1/services", "", &list)
		if list.Total < 10 {
			t.Errorf("%s serves %d services, want 10 or more", u, list.Total)
		}
		own += list.Total
		var net struct{ Total int }
		getJSON(t, u+"/api/v1/network/services?per_page=100", "", &net)
		replicas[u] = net.Total
	}
	if own < 30 {
		t.Errorf("the demo network has %d services, want 30 or more", own)
	}
	// Midi holds Le Panier's services; Le Panier holds Midi's and Babel's;
	// Babel holds Le Panier's: the nodes federate.
	if replicas[urls[0]] < 10 || replicas[urls[1]] < 20 || replicas[urls[2]] < 10 {
		t.Errorf("replicas = %v, want Midi ≥ 10, Le Panier ≥ 20, Babel ≥ 10", replicas)
	}
	var partners struct {
		Partners []struct{ Actor, State string }
	}
	getJSON(t, urls[0]+"/api/v1/partners", demoToken(t, urls[0], "admin@demo.maillage.test"), &partners)
	states := map[string]string{}
	for _, p := range partners.Partners {
		states[p.Actor] = p.State
	}
	if states[urls[1]+"/actor"] != "partner" || states[urls[2]+"/actor"] != "pending" {
		t.Errorf("Midi's partners = %v, want Le Panier partner and Babel pending", states)
	}
	if got := sentStates(t, urls[0]); got["received"] != 1 || got["in-progress"] != 1 || got["rejected"] != 1 || got["completed"] != 1 || got["cancelled"] != 1 {
		t.Errorf("Midi's sent referrals by state = %v", got)
	}
	if got := sentStates(t, urls[1]); got["accepted"] != 1 {
		t.Errorf("Le Panier's sent referrals by state = %v", got)
	}
	waitFor(t, "the demo's search index", 20*time.Second, func() bool {
		var res struct{ Total int }
		r, err := http.Get(urls[2] + "/api/v1/search?q=cours&scope=all")
		if err != nil {
			return false
		}
		defer r.Body.Close()
		json.NewDecoder(r.Body).Decode(&res)
		return res.Total > 0
	})

	// The load command runs the benchmark mix against it without error.
	benchOut, stderr, code := runCLI(t, nil, "bench-search", "--url", urls[0], "--clients", "4", "--duration", "1s")
	if code != 0 || !regexp.MustCompile(`^\d+ searches in .* by 4 clients: \d+/s, 0 errors; latency p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms`).MatchString(benchOut) {
		t.Errorf("bench-search: exit %d\n%s%s", code, benchOut, stderr)
	}
	if _, stderr, code := runCLI(t, nil, "bench-search", "--url", "http://"+freeAddr(t), "--duration", "1s"); code != 1 || !strings.Contains(stderr, "bench-search") {
		t.Errorf("bench-search against nothing: exit %d, %s", code, stderr)
	}
	// The residents' names never reach the demo's output.
	for _, name := range []string{"Amina", "Peeters", "Diallo", "Nowak", "Rossi", "Demir"} {
		if strings.Contains(text, name) || strings.Contains(d.stderr.String(), name) {
			t.Errorf("the demo printed a resident's name (%s)", name)
		}
	}

	d.stop(t)
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		if regexp.MustCompile(`^maillage-demo-`).MatchString(e.Name()) {
			t.Errorf("demo left its temporary state behind: %s", e.Name())
		}
	}
}

// With --data the demo network is kept: a second run serves the same
// state without linking the nodes again, and refuses other addresses.
func TestDemoKeepsState(t *testing.T) {
	addrs := strings.Join([]string{freeAddr(t), freeAddr(t), freeAddr(t)}, ",")
	data := filepath.Join(t.TempDir(), "demo")
	d := startDemo(t, nil, "--data", data, "--listen", addrs)
	first := sentStates(t, "http://"+strings.Split(addrs, ",")[0])
	d.stop(t)
	if !strings.Contains(d.stderr.String(), "linking the demo nodes") {
		t.Errorf("the first run did not link the nodes:\n%s", d.stderr)
	}

	d = startDemo(t, nil, "--data", data, "--listen", addrs)
	if again := sentStates(t, "http://"+strings.Split(addrs, ",")[0]); len(again) != len(first) || again["cancelled"] != first["cancelled"] || again["received"] != first["received"] {
		t.Errorf("referrals after a restart = %v, before %v", again, first)
	}
	d.stop(t)
	if strings.Contains(d.stderr.String(), "linking the demo nodes") {
		t.Error("the second run linked the nodes again")
	}

	_, stderr, code := runCLI(t, nil, "demo", "--data", data, "--listen", strings.Join([]string{freeAddr(t), freeAddr(t), freeAddr(t)}, ","))
	if code == 0 || !strings.Contains(stderr, "was made for") {
		t.Errorf("demo at other addresses: exit %d, %s", code, stderr)
	}
}
