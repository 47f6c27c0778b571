package store

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// Badger's advice about its cache sizes goes to the debug log; its other
// warnings and its errors stay visible.
func TestBadgerLoggerLevels(t *testing.T) {
	var buf bytes.Buffer
	l := badgerLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	// The formats Badger uses in db.go's monitorCache.
	l.Warningf("%s might be too small. Metrics: %s\n", "Block cache", "hit: 3905 miss: 18421")
	l.Warningf("Cache life expectancy (in seconds): %+v\n", "histogram")
	if buf.Len() != 0 {
		t.Fatalf("cache advice logged above debug:\n%s", buf.String())
	}
	l.Warningf("Value log GC attempt %s", "failed")
	l.Errorf("while compacting: %v", "disk full")
	out := buf.String()
	if !strings.Contains(out, "level=WARN msg=\"badger: Value log GC attempt failed\"") || !strings.Contains(out, "level=ERROR msg=\"badger: while compacting: disk full\"") {
		t.Fatalf("warnings or errors lost:\n%s", out)
	}

	buf.Reset()
	d := badgerLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	d.Warningf("%s might be too small. Metrics: %s\n", "Block cache", "hit: 1")
	if !strings.Contains(buf.String(), "level=DEBUG msg=\"badger: Block cache might be too small. Metrics: hit: 1\"") {
		t.Fatalf("cache advice missing from the debug log:\n%s", buf.String())
	}
}
