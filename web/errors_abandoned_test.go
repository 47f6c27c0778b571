package web

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A request its client abandoned is no failure of the node: no error in
// the log and no 500 in the access log, but 499; a real failure is still
// an error.
func TestAbandonedRequestIsNoError(t *testing.T) {
	var log bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest(http.MethodGet, "/hsds/services", nil).WithContext(ctx)
	rec := httptest.NewRecorder()
	s.writeError(rec, r, fmt.Errorf("listing services: %w", context.Canceled))
	if rec.Code != statusClientClosed || strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("abandoned request: status %d, log %q; want 499 and no error", rec.Code, log.String())
	}
	// The same error while the client still waits is the node's own.
	rec = httptest.NewRecorder()
	s.writeError(rec, httptest.NewRequest(http.MethodGet, "/hsds/services", nil), fmt.Errorf("listing services: %w", context.Canceled))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("failure with the client waiting: status %d, log %q; want 500 and an error", rec.Code, log.String())
	}
}
