package main

import (
	"log/slog"
	"runtime"
	"strings"
	"testing"
)

// A binary built with a Go older than CI's says so, naming both releases
// and what to do; the recommended release and later ones, and development
// builds, are not warned about.
func TestGoWarning(t *testing.T) {
	for _, tt := range []struct {
		built string
		warn  bool
	}{
		{"go1.26.8", true},
		{"go1.27.2", true},
		{"go1.27rc1", true},
		{"go1.27.3", false},
		{"go1.27.10", false},
		{"go1.28", false},
		{"devel go1.28-abcdef", false},
	} {
		w := goWarning(tt.built)
		if (w != "") != tt.warn {
			t.Errorf("goWarning(%q) = %q, want a warning: %v", tt.built, w, tt.warn)
		}
		if tt.warn && (!strings.Contains(w, tt.built) || !strings.Contains(w, recommendedGo) || !strings.Contains(w, "GOTOOLCHAIN="+recommendedGo)) {
			t.Errorf("goWarning(%q) = %q: want both releases and how to rebuild", tt.built, w)
		}
	}
}

// The start-up log names the version and the Go release, and carries the
// warning exactly when the release is too old.
func TestLogBuild(t *testing.T) {
	var buf strings.Builder
	logBuild(slog.New(slog.NewTextHandler(&buf, nil)))
	out := buf.String()
	if !strings.Contains(out, "go="+runtime.Version()) || !strings.Contains(out, "version="+version) {
		t.Errorf("start-up log %q lacks the version or the Go release", out)
	}
	if warned := strings.Contains(out, "level=WARN"); warned != (goWarning(runtime.Version()) != "") {
		t.Errorf("start-up log %q: warned %v, built with %s", out, warned, runtime.Version())
	}
}
