package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const firstPassword = "correct-horse-battery"

// firstStartEnv configures a node the way docker-compose.yml does.
func firstStartEnv(url, passwordFile string) map[string]string {
	return map[string]string{
		"MAILLAGE_URL": url, "MAILLAGE_NAME": "Maison de quartier", "MAILLAGE_HANDLE": "maison",
		"MAILLAGE_ADMIN_EMAIL": "admin@maison.test", "MAILLAGE_ADMIN_PASSWORD_FILE": passwordFile,
	}
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serveRefused runs serve expecting it to refuse to start, at once.
func serveRefused(t *testing.T, env map[string]string, args ...string) (stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"serve", "--listen", freeAddr(t)}, args...)...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var e bytes.Buffer
	cmd.Stderr = &e
	cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("serve %v kept running; it should have refused to start:\n%s", args, e.String())
	}
	return e.String(), cmd.ProcessState.ExitCode()
}

// A container's first start: serve creates the node from its environment
// and a password file, then serves it; later starts ignore what the admin
// pages own, and refuse a URL that is not the node's.
func TestServeFirstStartFromEnvironment(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	if err := os.Mkdir(dir, 0o700); err != nil { // a fresh volume: empty, not absent
		t.Fatal(err)
	}
	pw := writeFile(t, filepath.Join(root, "admin-password"), firstPassword+"\n")
	for k, v := range firstStartEnv("http://maison.test", pw) {
		t.Setenv(k, v)
	}

	srv := startServe(t, dir)
	logs := srv.Logs()
	if strings.Contains(logs, "setup?code=") || !strings.Contains(logs, "node created from the configuration") {
		t.Errorf("first start did not create the node from its configuration:\n%s", logs)
	}
	if code, _ := srv.do(t, "GET", "/readyz", "", ""); code != 200 {
		t.Errorf("readyz after first start = %d, want 200", code)
	}
	srv.token(t, "admin@maison.test", firstPassword) // the final line break was dropped
	code, body := srv.do(t, "GET", "/.well-known/webfinger?resource=acct:maison@maison.test", "", "")
	if code != 200 || !bytes.Contains(body, []byte("http://maison.test")) {
		t.Errorf("webfinger of the created node: %d %s", code, body)
	}
	srv.stop(t)
	if strings.Contains(srv.Logs(), firstPassword) {
		t.Error("serve logged the admin password")
	}

	// Later starts: the password file is not read again (emptied here), a
	// new name is ignored with a note in the log, the URL still matches.
	writeFile(t, pw, "")
	t.Setenv("MAILLAGE_NAME", "Un autre nom")
	srv = startServe(t, dir)
	if !strings.Contains(srv.Logs(), "first-start settings ignored") || !strings.Contains(srv.Logs(), "--name, --admin-email, --admin-password-file") {
		t.Errorf("second start does not say what it ignored:\n%s", srv.Logs())
	}
	srv.token(t, "admin@maison.test", firstPassword)
	srv.stop(t)

	// The URL and handle name the node in the federation: a different one
	// is a configuration error, not silently ignored.
	stderr, code := serveRefused(t, map[string]string{"MAILLAGE_URL": "https://maison.example.be"}, "--data", dir)
	if code != 2 || !strings.Contains(stderr, "differs from the node's URL http://maison.test") || !strings.Contains(stderr, "MAILLAGE_URL") {
		t.Errorf("serve with another URL: exit %d, %q; want 2 naming both URLs", code, stderr)
	}
	stderr, code = serveRefused(t, map[string]string{"MAILLAGE_HANDLE": "autre"}, "--data", dir)
	if code != 2 || !strings.Contains(stderr, "differs from the node's handle maison") {
		t.Errorf("serve with another handle: exit %d, %q; want 2", code, stderr)
	}
	// The same URL written differently is the same URL.
	t.Setenv("MAILLAGE_URL", "HTTP://Maison.test/")
	srv = startServe(t, dir)
	srv.stop(t)
}

func TestServeFirstStartRefusals(t *testing.T) {
	root := t.TempDir()
	pw := writeFile(t, filepath.Join(root, "pw"), firstPassword+"\n")
	foreign := filepath.Join(root, "foreign")
	os.Mkdir(foreign, 0o700)
	writeFile(t, filepath.Join(foreign, "thesis.odt"), "precious")
	full := firstStartEnv("http://maison.test", pw)
	with := func(changes ...string) map[string]string {
		env := map[string]string{}
		for k, v := range full {
			env[k] = v
		}
		for i := 0; i < len(changes); i += 2 {
			if changes[i+1] == "" {
				delete(env, changes[i])
			} else {
				env[changes[i]] = changes[i+1]
			}
		}
		return env
	}
	tests := []struct {
		name     string
		env      map[string]string
		dir      string
		wantCode int
		want     []string
	}{
		{"some missing", map[string]string{"MAILLAGE_URL": "http://maison.test", "MAILLAGE_NAME": "Maison"}, "", 2,
			[]string{"serve also needs --handle, --admin-email, --admin-password-file", "MAILLAGE_HANDLE, MAILLAGE_ADMIN_EMAIL, MAILLAGE_ADMIN_PASSWORD_FILE", "setup page"}},
		{"password in the environment", with("MAILLAGE_ADMIN_PASSWORD_FILE", "", "MAILLAGE_ADMIN_PASSWORD", firstPassword), "", 2,
			[]string{"needs --admin-password-file", "does not read MAILLAGE_ADMIN_PASSWORD"}},
		{"no password file", with("MAILLAGE_ADMIN_PASSWORD_FILE", filepath.Join(root, "absent")), "", 1, []string{"--admin-password-file", "absent"}},
		{"empty password file", with("MAILLAGE_ADMIN_PASSWORD_FILE", writeFile(t, filepath.Join(root, "empty"), "\n")), "", 1, []string{"--admin-password-file", "is empty"}},
		{"two lines", with("MAILLAGE_ADMIN_PASSWORD_FILE", writeFile(t, filepath.Join(root, "two"), "correct-horse\nbattery-staple\n")), "", 1, []string{"several lines"}},
		{"short password", with("MAILLAGE_ADMIN_PASSWORD_FILE", writeFile(t, filepath.Join(root, "short"), "short\n")), "", 1, []string{"--admin-password-file: must have at least 10 characters"}},
		{"bad handle and URL", with("MAILLAGE_HANDLE", "Bad Handle", "MAILLAGE_URL", "ftp://x"), "", 1, []string{"--handle:", "--url:"}},
		{"foreign directory", full, foreign, 1, []string{"holds no Maillage node"}},
	}
	for _, tt := range tests {
		dir := tt.dir
		if dir == "" {
			dir = filepath.Join(root, strings.ReplaceAll(tt.name, " ", "-"))
		}
		stderr, code := serveRefused(t, tt.env, "--data", dir)
		if code != tt.wantCode {
			t.Errorf("%s: exit %d, want %d: %s", tt.name, code, tt.wantCode, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr %q lacks %q", tt.name, stderr, w)
			}
		}
		if strings.Contains(stderr, firstPassword) || strings.Contains(stderr, "correct-horse") {
			t.Errorf("%s: the password is in the error: %q", tt.name, stderr)
		}
		if tt.dir == "" {
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("%s: a refused start left %d entries in the data directory", tt.name, len(entries))
			}
		}
	}
	if entries, _ := os.ReadDir(foreign); len(entries) != 1 {
		t.Errorf("the foreign directory now holds %d entries, want 1", len(entries))
	}
}

// init reads the admin's password from a file as serve does.
func TestInitPasswordFile(t *testing.T) {
	root := t.TempDir()
	pw := writeFile(t, filepath.Join(root, "pw"), firstPassword+"\r\n")
	dir := filepath.Join(root, "node")
	args := []string{"init", "--data", dir, "--url", "http://maison.test", "--name", "Maison", "--handle", "maison", "--admin-email", "admin@maison.test"}
	if _, stderr, code := runCLI(t, nil, append(args, "--admin-password", firstPassword, "--admin-password-file", pw)...); code != 2 || !strings.Contains(stderr, "not both") {
		t.Errorf("init with both password flags: exit %d, %q; want 2", code, stderr)
	}
	short := writeFile(t, filepath.Join(root, "short"), "short")
	if _, stderr, code := runCLI(t, nil, append(args, "--admin-password-file", short)...); code != 1 || !strings.Contains(stderr, "--admin-password-file: must have") {
		t.Errorf("init with a short password file: exit %d, %q", code, stderr)
	}
	if _, stderr, code := runCLI(t, nil, append(args, "--admin-password-file", pw)...); code != 0 {
		t.Fatalf("init --admin-password-file: exit %d, %s", code, stderr)
	}
	srv := startServe(t, dir)
	srv.token(t, "admin@maison.test", firstPassword)
	srv.stop(t)
}

// The retention settings of referrals are checked before anything
// starts: a delay of no day, or beyond its bound, is refused by name.
func TestServeRefusesRetentionOutOfBounds(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ flag, value string }{
		{"--referral-erase-days", "0"}, {"--referral-erase-days", "3651"},
		{"--referral-expire-days", "0"}, {"--referral-expire-days", "366"},
	} {
		stderr, code := serveRefused(t, nil, "--data", dir, tt.flag, tt.value)
		if code != 2 || !strings.Contains(stderr, tt.flag+" must be between") {
			t.Errorf("serve %s %s: exit %d, %q", tt.flag, tt.value, code, stderr)
		}
	}
}
