package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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

// binary is the maillage binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "maillage-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "maillage")
	// Stamped as a release is (see the Dockerfile and install.md).
	out, err := exec.Command("go", "build", "-ldflags", "-X main.version="+testVersion, "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build maillage: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runCLI runs the binary to completion.
func runCLI(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("run %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// server is a running `maillage serve` process.
type server struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
}

func (s *server) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

func startServe(t *testing.T, dir string, extra ...string) *server {
	t.Helper()
	return startServeAt(t, &server{addr: freeAddr(t), done: make(chan struct{})}, dir, extra...)
}

// startServeAt starts serve on s.addr.
func startServeAt(t *testing.T, s *server, dir string, extra ...string) *server {
	t.Helper()
	s.cmd = exec.Command(binary, append([]string{"serve", "--data", dir, "--listen", s.addr}, extra...)...)
	stderr, _ := s.cmd.StderrPipe()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.logs.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
		s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() { s.cmd.Process.Kill(); <-s.done })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + s.addr + "/healthz"); err == nil {
			resp.Body.Close()
			return s
		}
		select {
		case <-s.done:
			t.Fatalf("serve exited early:\n%s", s.Logs())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not come up:\n%s", s.Logs())
	return nil
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop on SIGTERM:\n%s", s.Logs())
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("serve exited with %d:\n%s", code, s.Logs())
	}
}

func (s *server) do(t *testing.T, method, path, token, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+s.addr+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (s *server) token(t *testing.T, email, password string) string {
	t.Helper()
	code, body := s.do(t, "POST", "/api/v1/token", "", fmt.Sprintf(`{"email": %q, "password": %q}`, email, password))
	if code != 200 {
		t.Fatalf("token: %d %s", code, body)
	}
	var out struct{ Token string }
	json.Unmarshal(body, &out)
	return out.Token
}

func initNode(t *testing.T, dir, url string) {
	t.Helper()
	_, stderr, code := runCLI(t, nil, "init", "--data", dir, "--url", url, "--name", "Maison de quartier", "--handle", "maison",
		"--admin-email", "admin@maison.test", "--admin-password", "correct-horse-battery")
	if code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
}

// The end-to-end scenario on the built binary: init, serve, get a
// token, create a service, read it through /hsds, stop, restart, and find
// the data still there; then back up online and restore elsewhere.
// testVersion is the version the test binary is stamped with.
const testVersion = "9.9.9-test"

func TestBinaryEndToEnd(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "node")
	initNode(t, dir, "http://maison.test")
	if fi, err := os.Stat(filepath.Join(dir, "store.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("store.key: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if _, stderr, code := runCLI(t, nil, "init", "--data", dir, "--url", "http://x.test", "--name", "X", "--handle", "x",
		"--admin-email", "a@x.test", "--admin-password", "correct-horse-battery"); code == 0 || !strings.Contains(stderr, "already holds a Maillage node") {
		t.Errorf("second init: %d %q, want a refusal", code, stderr)
	}

	srv := startServe(t, dir)
	tok := srv.token(t, "admin@maison.test", "correct-horse-battery")
	code, body := srv.do(t, "POST", "/api/v1/services", tok, `{"name": "Épicerie sociale", "status": "active", "categories": ["equipement-et-alimentation--alimentation"]}`)
	if code != 201 {
		t.Fatalf("create service: %d %s", code, body)
	}
	var svc struct{ ID string }
	json.Unmarshal(body, &svc)
	if code, body := srv.do(t, "GET", "/hsds/services/"+svc.ID, "", ""); code != 200 || !bytes.Contains(body, []byte("Épicerie sociale")) {
		t.Fatalf("hsds service: %d %s", code, body)
	}
	// NodeInfo reports the program's version.
	var info struct {
		Software struct{ Name, Version string }
	}
	_, body = srv.do(t, "GET", "/nodeinfo/2.1", "", "")
	if err := json.Unmarshal(body, &info); err != nil || info.Software.Version != testVersion {
		t.Errorf("nodeinfo: %+v (%v), want version %s", info.Software, err, testVersion)
	}
	if out, _, _ := runCLI(t, nil, "version"); !strings.Contains(out, testVersion) {
		t.Errorf("maillage version = %q, want %s", out, testVersion)
	}

	// Online backup while the node runs.
	backup := filepath.Join(root, "node.backup")
	if _, stderr, code := runCLI(t, nil, "backup", "--data", dir, backup); code != 0 {
		t.Fatalf("online backup: %d %s", code, stderr)
	} else if st, err := os.Stat(backup); err != nil || !regexp.MustCompile(`(?m)^backup: [\d.]+ [KM]iB  [\d.]+ [KM]?i?B/s  in [\d.]+s$`).MatchString(stderr) ||
		!strings.Contains(stderr, progressAmount(st.Size())) {
		t.Errorf("backup progress: %q (file %v)", stderr, err)
	}
	srv.stop(t)
	if strings.Contains(srv.Logs(), "correct-horse-battery") || strings.Contains(srv.Logs(), tok) {
		t.Error("serve logged a password or token")
	}

	srv = startServe(t, dir)
	if code, body := srv.do(t, "GET", "/api/v1/services/"+svc.ID, "", ""); code != 200 {
		t.Fatalf("after restart: %d %s", code, body)
	}
	// The search index is rebuilt in the background after a start.
	waitFor(t, "the rebuilt index to find the service", 10*time.Second, func() bool {
		code, body := srv.do(t, "GET", "/hsds/services?search=epicerie", "", "")
		return code == 200 && bytes.Contains(body, []byte(svc.ID))
	})
	// An acknowledged write survives kill -9: writes are synced first.
	tok = srv.token(t, "admin@maison.test", "correct-horse-battery")
	code, body = srv.do(t, "POST", "/api/v1/services", tok, `{"name": "Cours de français", "status": "active"}`)
	if code != 201 {
		t.Fatalf("create second service: %d %s", code, body)
	}
	var second struct{ ID string }
	json.Unmarshal(body, &second)
	srv.cmd.Process.Kill()
	<-srv.done
	srv = startServe(t, dir)
	if code, body := srv.do(t, "GET", "/api/v1/services/"+second.ID, "", ""); code != 200 {
		t.Fatalf("service acknowledged before kill -9 is gone: %d %s", code, body)
	}
	srv.stop(t)

	// Restore into a new directory with the key, and serve it.
	restored := filepath.Join(root, "restored")
	if _, stderr, code := runCLI(t, nil, "restore", "--data", restored, backup); code == 0 || !strings.Contains(stderr, "store key") {
		t.Errorf("restore without a key: %d %q, want a refusal naming the key", code, stderr)
	}
	if _, stderr, code := runCLI(t, nil, "restore", "--data", restored, "--key", filepath.Join(dir, "store.key"), backup); code != 0 {
		t.Fatalf("restore: %d %s", code, stderr)
	} else if !regexp.MustCompile(`(?m)^restore: ([\d.]+ [KM]iB)/([\d.]+ [KM]iB)  100\.0%  .*  in [\d.]+s$`).MatchString(stderr) {
		t.Errorf("restore progress: %q", stderr)
	}
	if _, stderr, code := runCLI(t, nil, "restore", "--data", restored, "--key", filepath.Join(dir, "store.key"), backup); code == 0 {
		t.Errorf("restore over an existing node succeeded: %s", stderr)
	}
	srv = startServe(t, restored)
	if code, body := srv.do(t, "GET", "/api/v1/services/"+svc.ID, "", ""); code != 200 {
		t.Fatalf("restored node lacks the service: %d %s", code, body)
	}
	srv.token(t, "admin@maison.test", "correct-horse-battery")
	srv.stop(t)
}

func TestUserCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	initNode(t, dir, "http://maison.test")
	if out, stderr, code := runCLI(t, nil, "user", "add", "--data", dir, "--email", "Worker@Maison.test", "--password", "worker-password-1"); code != 0 || !strings.Contains(out, "worker@maison.test (worker)") {
		t.Fatalf("user add: %d %q %q", code, out, stderr)
	}
	if _, stderr, code := runCLI(t, nil, "user", "add", "--data", dir, "--email", "worker@maison.test", "--password", "worker-password-1"); code == 0 {
		t.Errorf("adding the same email twice succeeded: %s", stderr)
	}
	if _, stderr, code := runCLI(t, nil, "user", "add", "--data", dir, "--email", "short@maison.test", "--password", "short"); code == 0 || !strings.Contains(stderr, "--password") {
		t.Errorf("short password: %d %q, want a problem on --password", code, stderr)
	}
	if _, _, code := runCLI(t, nil, "user", "disable", "--data", dir, "--email", "worker@maison.test"); code != 0 {
		t.Fatal("user disable failed")
	}
	out, _, _ := runCLI(t, nil, "user", "list", "--data", dir)
	if !regexp.MustCompile(`worker@maison.test\s+worker\s+disabled`).MatchString(out) || !regexp.MustCompile(`admin@maison.test\s+admin\s+active`).MatchString(out) {
		t.Errorf("user list:\n%s", out)
	}
	// An enabled account is not deleted; a disabled one is, and leaves the list.
	if _, stderr, code := runCLI(t, nil, "user", "delete", "--data", dir, "--email", "admin@maison.test"); code == 0 || !strings.Contains(stderr, "disable the account before deleting it") {
		t.Errorf("deleting an enabled account: %d %q", code, stderr)
	}
	if _, _, code := runCLI(t, nil, "user", "add", "--data", dir, "--email", "gone@maison.test", "--password", "gone-password-1"); code != 0 {
		t.Fatal("user add")
	}
	runCLI(t, nil, "user", "disable", "--data", dir, "--email", "gone@maison.test")
	if out, stderr, code := runCLI(t, nil, "user", "delete", "--data", dir, "--email", "Gone@Maison.test"); code != 0 || !strings.Contains(out, "deleted gone@maison.test") {
		t.Errorf("user delete: %d %q %q", code, out, stderr)
	}
	if out, _, _ := runCLI(t, nil, "user", "list", "--data", dir); strings.Contains(out, "gone@") {
		t.Errorf("the deleted account is still listed:\n%s", out)
	}
	srv := startServe(t, dir)
	if code, _ := srv.do(t, "POST", "/api/v1/token", "", `{"email": "worker@maison.test", "password": "worker-password-1"}`); code != 401 {
		t.Errorf("disabled worker got a token: %d", code)
	}
	if _, stderr, code := runCLI(t, nil, "user", "list", "--data", dir); code == 0 || !strings.Contains(stderr, "running") {
		t.Errorf("user list while serving: %d %q, want an explanation", code, stderr)
	}
	srv.stop(t)
}

func TestCLIErrors(t *testing.T) {
	root := t.TempDir()
	foreign := filepath.Join(root, "foreign")
	os.MkdirAll(foreign, 0o700)
	os.WriteFile(filepath.Join(foreign, "thesis.odt"), []byte("precious"), 0o600)

	tests := []struct {
		name     string
		env      []string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no command", nil, nil, 2, ""},
		{"unknown command", nil, []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", nil, []string{"serve", "--colour", "red"}, 2, "flag provided but not defined"},
		{"missing data", nil, []string{"serve"}, 2, "--data is required"},
		{"init missing flags", nil, []string{"init", "--data", filepath.Join(root, "n")}, 2, "missing --url, --name, --handle, --admin-email, --admin-password"},
		{"init bad values", nil, []string{"init", "--data", filepath.Join(root, "n"), "--url", "ftp://x", "--name", "X", "--handle", "Bad Handle", "--admin-email", "a@b.test", "--admin-password", "short"}, 1, "--handle"},
		{"foreign dir", nil, []string{"serve", "--data", foreign}, 1, "holds no Maillage node"},
		{"init foreign dir", nil, []string{"init", "--data", foreign, "--url", "http://x.test", "--name", "X", "--handle", "x", "--admin-email", "a@x.test", "--admin-password", "correct-horse-battery"}, 1, "not empty"},
		{"unknown env", []string{"MAILLAGE_LISTN=1"}, []string{"version"}, 2, "MAILLAGE_LISTN"},
		{"bad log level", nil, []string{"serve", "--data", root, "--log-level", "loud"}, 2, "--log-level"},
		{"help", nil, []string{"serve", "--help"}, 0, "Usage: maillage serve"},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, tt.env, tt.args...)
		if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d containing %q", tt.name, code, stderr, tt.wantCode, tt.wantErr)
		}
	}
	if b, err := os.ReadFile(filepath.Join(foreign, "thesis.odt")); err != nil || string(b) != "precious" {
		t.Error("a refused command touched the foreign directory")
	}
	entries, _ := os.ReadDir(foreign)
	if len(entries) != 1 {
		t.Errorf("foreign directory now holds %d entries, want 1", len(entries))
	}
	if out, _, code := runCLI(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "maillage ") {
		t.Errorf("version: %d %q", code, out)
	}
	for _, cmd := range [][]string{{"init"}, {"serve"}, {"user", "add"}, {"user", "list"}, {"user", "disable"}, {"backup"}, {"restore"}, {"demo"}, {"version"}} {
		if _, stderr, code := runCLI(t, nil, append(cmd, "--help")...); code != 0 || !strings.Contains(stderr, "Usage: maillage") {
			t.Errorf("%v --help: exit %d, %q", cmd, code, stderr)
		}
	}
}

func TestWrongKeyIsRefusedAndLeavesTheStoreIntact(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	initNode(t, dir, "http://maison.test")
	keyPath := filepath.Join(dir, "store.key")
	good, _ := os.ReadFile(keyPath)
	bad := bytes.Repeat([]byte{7}, len(good))
	os.WriteFile(keyPath, bad, 0o600)
	_, stderr, code := runCLI(t, nil, "user", "list", "--data", dir)
	if code == 0 || !strings.Contains(stderr, "wrong encryption key") {
		t.Errorf("wrong key: exit %d, %q", code, stderr)
	}
	os.Remove(keyPath)
	if _, stderr, code := runCLI(t, nil, "user", "list", "--data", dir); code == 0 || !strings.Contains(stderr, "store.key") {
		t.Errorf("missing key: exit %d, %q", code, stderr)
	}
	os.WriteFile(keyPath, good, 0o644)
	if _, stderr, code := runCLI(t, nil, "user", "list", "--data", dir); code == 0 || !strings.Contains(stderr, "chmod") {
		t.Errorf("world-readable key: exit %d, %q", code, stderr)
	}
	os.Chmod(keyPath, 0o600)
	if out, stderr, code := runCLI(t, nil, "user", "list", "--data", dir); code != 0 || !strings.Contains(out, "admin@maison.test") {
		t.Errorf("right key again: exit %d, %q %q", code, out, stderr)
	}
}

// serve on an empty data directory shows the setup page; only the code
// printed in the log lets one create the node, which then serves at once.
func TestSetupPage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fresh")
	srv := startServe(t, dir)
	m := regexp.MustCompile(`setup\?code=([0-9a-f]+)`).FindStringSubmatch(srv.Logs())
	if m == nil {
		t.Fatalf("no setup link in the logs:\n%s", srv.Logs())
	}
	if code, body := srv.do(t, "GET", "/setup", "", ""); code != 200 || !bytes.Contains(body, []byte(`name="handle"`)) {
		t.Fatalf("setup page: %d %s", code, body)
	}
	if code, _ := srv.do(t, "GET", "/readyz", "", ""); code != 503 {
		t.Errorf("readyz before setup = %d, want 503", code)
	}
	form := url.Values{"name": {"Maison"}, "handle": {"maison"}, "url": {"http://" + srv.addr},
		"email": {"admin@maison.test"}, "password": {"correct-horse-battery"}}
	post := func(code string) int {
		form.Set("code", code)
		resp, err := http.PostForm("http://"+srv.addr+"/setup", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("0000"); got != 403 {
		t.Errorf("setup with a wrong code = %d, want 403", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "maillage.json")); err == nil {
		t.Fatal("a wrong setup code created the node")
	}
	if got := post(m[1]); got != 200 {
		t.Fatalf("setup = %d", got)
	}
	srv.token(t, "admin@maison.test", "correct-horse-battery")
	if code, _ := srv.do(t, "GET", "/readyz", "", ""); code != 200 {
		t.Errorf("readyz after setup = %d, want 200", code)
	}
	if got := post(m[1]); got == 200 {
		t.Error("setup ran a second time")
	}
	srv.stop(t)
	_ = context.Background
}

// progressAmount writes n bytes as the progress report does.
func progressAmount(n int64) string { return (&progress{bytes: true}).amount(n) }
