package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock               { return &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)} }
func lines(b *bytes.Buffer) []string {
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}
func frames(b *bytes.Buffer) []string          { return strings.Split(b.String(), "\r")[1:] }
func (c *fakeClock) step(p *progress, n int64) { c.advance(50 * time.Millisecond); p.Add(n) }
func (c *fakeClock) steps(p *progress, k, n int) {
	for range k {
		c.step(p, int64(n))
	}
}

// In a log, a line every five seconds and one at the end, with counts,
// percentage, rate and time left.
func TestProgressLog(t *testing.T) {
	var b bytes.Buffer
	clock := newFakeClock()
	p := newProgress(&b, "importing", countItems, false, clock.now)
	clock.advance(time.Minute) // made ahead of its task
	p.SetTotal(1000)
	clock.steps(p, 99, 2) // 4.95 s: not yet
	if b.Len() != 0 {
		t.Fatalf("drawn before five seconds: %q", b.String())
	}
	clock.step(p, 2) // 5 s, 200 done: 40 a second, 20 s left
	clock.steps(p, 100, 3)
	p.Done()
	p.Done()
	want := []string{
		"importing: 200/1000  20.0%  40/s  ETA 20s",
		"importing: 500/1000  50.0%  50/s  ETA 10s",
		"importing: 500/1000  50.0%  50/s  in 10s",
	}
	if got := lines(&b); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log lines:\n got %q\nwant %q", got, want)
	}
}

// On a terminal, a bar redrawn at most ten times a second on one line,
// and a new line at the end; bytes are counted in KiB and MiB.
func TestProgressTerminal(t *testing.T) {
	var b bytes.Buffer
	clock := newFakeClock()
	p := newProgress(&b, "checking", countBytes, true, clock.now)
	p.SetTotal(4 << 20)
	clock.step(p, 1<<20) // 50 ms: too soon
	clock.step(p, 1<<20) // 100 ms: 2 MiB
	clock.step(p, 512<<10)
	clock.step(p, 512<<10) // 200 ms: 3 MiB
	p.Done()
	want := []string{
		"checking [============            ] 2.0 MiB/4.0 MiB  50.0%  20.0 MiB/s  ETA 0.1s\x1b[K",
		"checking [==================      ] 3.0 MiB/4.0 MiB  75.0%  15.0 MiB/s  ETA 0.1s\x1b[K",
		"checking [==================      ] 3.0 MiB/4.0 MiB  75.0%  15.0 MiB/s  in 0.2s\x1b[K\n",
	}
	if got := frames(&b); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("frames:\n got %q\nwant %q", got, want)
	}
	if strings.Count(b.String(), "\n") != 1 {
		t.Errorf("the bar left %d lines, want 1", strings.Count(b.String(), "\n"))
	}
}

// Without a total (a stream), the count and the rate, and no ETA.
func TestProgressUnknownTotal(t *testing.T) {
	var b bytes.Buffer
	clock := newFakeClock()
	p := newProgress(&b, "exporting", countItems, false, clock.now)
	clock.advance(90 * time.Minute)
	p.Add(5400)
	p.Done()
	want := []string{"exporting: 5400  1/s", "exporting: 5400  1/s  in 1h30m"}
	if got := lines(&b); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n got %q\nwant %q", got, want)
	}
}
