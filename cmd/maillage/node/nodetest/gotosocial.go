package nodetest

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
	"strings"
	"testing"
	"time"
)

// GoToSocial is a real GoToSocial server on loopback, started from the
// peer kit beside the repository (../shared/peers/gotosocial, or the
// script named by GOTOSOCIAL_PEER), with a fresh data directory for each
// test: it remembers actors and their keys, so nothing of an earlier run
// may linger. Tests drive its account "tester" through the Mastodon
// client API, which GoToSocial implements.
type GoToSocial struct {
	URL    string // http://127.0.0.9:PORT
	Host   string // 127.0.0.9:PORT
	Dir    string // its database, media and log
	Handle string // @tester@HOST
	Token  string // OAuth token of tester (read write follow)

	t      testing.TB
	script string
}

// peerScript finds the peer kit's script: GOTOSOCIAL_PEER, else
// ../shared/peers/gotosocial/peer beside the module's root.
func peerScript() (string, error) {
	if p := os.Getenv("GOTOSOCIAL_PEER"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(dir), "shared", "peers", "gotosocial", "peer"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// StartGoToSocial starts the server and stops it when the test ends. When
// the kit or one of the commands it needs (xz, curl, jq) is missing, the
// test is skipped with a message naming it, or fails under CI, where the
// peer must be there.
func StartGoToSocial(t testing.TB) *GoToSocial {
	t.Helper()
	script, err := peerScript()
	if err == nil {
		_, err = os.Stat(script)
	}
	missing := ""
	if err != nil {
		missing = "the GoToSocial peer kit (../shared/peers/gotosocial/peer beside the repository, or GOTOSOCIAL_PEER): " + err.Error()
	} else {
		for _, cmd := range []string{"xz", "curl", "jq", "bash"} {
			if _, err := exec.LookPath(cmd); err != nil {
				missing = "the command " + cmd + ", which the GoToSocial peer kit needs"
				break
			}
		}
	}
	if missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s is missing", missing)
		}
		t.Skipf("skipped: %s is missing", missing)
	}
	ip := "127.0.0.9"
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatalf("gotosocial: find a free port: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	g := &GoToSocial{Dir: t.TempDir(), t: t, script: script}
	out, err := g.run("start", ip, fmt.Sprint(port))
	if err != nil {
		t.Fatalf("gotosocial: start: %v\n%s\nlog:\n%s", err, out, g.logTail())
	}
	t.Cleanup(func() { g.run("stop") })
	vars := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = v
		}
	}
	g.URL = vars["URL"]
	g.Host = strings.TrimPrefix(g.URL, "http://")
	g.Handle = "@" + vars["USERNAME"] + "@" + g.Host
	if g.URL == "" || vars["USERNAME"] == "" {
		t.Fatalf("gotosocial: start printed no URL or USERNAME:\n%s", out)
	}
	tok, err := g.run("token")
	if err != nil {
		t.Fatalf("gotosocial: token: %v\n%s", err, tok)
	}
	g.Token = strings.TrimSpace(tok)
	return g
}

func (g *GoToSocial) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{g.script, args[0], g.Dir}, args[1:]...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out) + stderr.String(), err
	}
	return string(out), nil
}

// Log returns the server's log so far.
func (g *GoToSocial) Log() string {
	b, _ := os.ReadFile(filepath.Join(g.Dir, "log"))
	return string(b)
}

func (g *GoToSocial) logTail() string {
	l := g.Log()
	if len(l) > 4000 {
		l = l[len(l)-4000:]
	}
	return l
}

// API calls the Mastodon client API as tester: GET without form, POST
// with one (which may be empty). It returns the status and decodes a 2xx
// body into out when out is not nil.
func (g *GoToSocial) API(method, path string, form url.Values, out any) int {
	g.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, g.URL+path, body)
	if err != nil {
		g.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Authorization", "Bearer "+g.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("gotosocial: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatalf("gotosocial: %s %s: read: %v", method, path, err)
	}
	if resp.StatusCode/100 == 2 && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			g.t.Fatalf("gotosocial: %s %s: decode %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}
