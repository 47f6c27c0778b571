package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With a terminal attached, init asks for what the flags did not give,
// reading the password without echo.
func TestInitAsksForMissingFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	var stdout, stderr bytes.Buffer
	secrets := 0
	c := &cli{
		stdin:    strings.NewReader("Maison de quartier\nmaison\nadmin@maison.test\n"),
		stdout:   &stdout,
		stderr:   &stderr,
		terminal: func() bool { return true },
		readSecret: func() (string, error) {
			secrets++
			return "correct-horse-battery", nil
		},
	}
	code := run(context.Background(), c, []string{"init", "--data", dir, "--url", "http://maison.test"})
	if code != 0 {
		t.Fatalf("init exit %d: %s", code, stderr.String())
	}
	for _, label := range []string{"Name of the association:", "Handle", "Admin email:", "Admin password"} {
		if !strings.Contains(stderr.String(), label) {
			t.Errorf("prompt %q not shown; stderr: %q", label, stderr.String())
		}
	}
	if strings.Contains(stderr.String()+stdout.String(), "correct-horse-battery") {
		t.Error("the password was echoed")
	}
	if secrets != 1 {
		t.Errorf("password read %d times without echo, want 1", secrets)
	}
	b, err := os.ReadFile(filepath.Join(dir, "maillage.json"))
	if err != nil || !strings.Contains(string(b), `"handle": "maison"`) {
		t.Errorf("maillage.json = %s, %v", b, err)
	}
}
