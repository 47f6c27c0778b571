package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress tells how far a long task (an import, a backup, a reindex) has
// gone: on a terminal a one-line bar redrawn at most ten times a second,
// elsewhere (a log, a pipe) a line every few seconds, and at the end one
// line with the totals. It counts items, or bytes when made with
// countBytes. Its methods may be called from several goroutines.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	label    string
	bytes    bool
	tty      bool
	now      func() time.Time
	every    time.Duration
	start    time.Time
	last     time.Time
	done     int64
	total    int64
	finished bool
}

// Redraw intervals.
const (
	progressTTYEvery = 100 * time.Millisecond
	progressLogEvery = 5 * time.Second
	progressBarWidth = 24
)

type progressUnit bool

const (
	countItems progressUnit = false
	countBytes progressUnit = true
)

func newProgress(w io.Writer, label string, unit progressUnit, tty bool, now func() time.Time) *progress {
	if now == nil {
		now = time.Now
	}
	p := &progress{w: w, label: label, bytes: bool(unit), tty: tty, now: now, every: progressLogEvery}
	if tty {
		p.every = progressTTYEvery
	}
	p.start = now()
	p.last = p.start
	return p
}

// progress returns a progress report on the command's standard error.
func (c *cli) progress(label string, unit progressUnit) *progress {
	return newProgress(c.stderr, label, unit, c.stderrTerminal(), c.clock())
}

// SetTotal says how many items (or bytes) there are; 0 when unknown.
// Before anything is done it also starts the clock, so that a progress
// made ahead of its task does not count the wait in its rate.
func (p *progress) SetTotal(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = n
	if p.done == 0 {
		p.start = p.now()
		p.last = p.start
	}
}

// Add counts n more done, redrawing when the last drawing is old enough.
func (p *progress) Add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if p.finished {
		return
	}
	if t := p.now(); t.Sub(p.last) >= p.every {
		p.last = t
		p.draw(t, false)
	}
}

// Done draws the totals; later calls do nothing.
func (p *progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	p.draw(p.now(), true)
}

func (p *progress) draw(t time.Time, final bool) {
	elapsed := t.Sub(p.start)
	var rate float64
	if elapsed > 0 {
		rate = float64(p.done) / elapsed.Seconds()
	}
	count := p.amount(p.done)
	if p.total > 0 {
		count += "/" + p.amount(p.total)
	}
	parts := []string{count}
	if p.total > 0 {
		parts = append(parts, fmt.Sprintf("%.1f%%", percent(p.done, p.total)))
	}
	if elapsed >= time.Second/10 || final {
		parts = append(parts, p.amount(int64(rate))+"/s")
	}
	switch {
	case final:
		parts = append(parts, "in "+shortDuration(elapsed))
	case p.total > 0 && rate > 0 && p.done < p.total:
		parts = append(parts, "ETA "+shortDuration(time.Duration(float64(p.total-p.done)/rate*float64(time.Second))))
	}
	text := strings.Join(parts, "  ")
	if !p.tty {
		fmt.Fprintf(p.w, "%s: %s\n", p.label, text)
		return
	}
	bar := ""
	if p.total > 0 {
		filled := int(percent(p.done, p.total) / 100 * progressBarWidth)
		bar = "[" + strings.Repeat("=", filled) + strings.Repeat(" ", progressBarWidth-filled) + "] "
	}
	// \r back to the start of the line, \x1b[K clears what a longer
	// earlier drawing left.
	fmt.Fprintf(p.w, "\r%s %s%s\x1b[K", p.label, bar, text)
	if final {
		fmt.Fprintln(p.w)
	}
}

func percent(done, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return min(100, float64(done)*100/float64(total))
}

func (p *progress) amount(n int64) string {
	if !p.bytes {
		return fmt.Sprint(n)
	}
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// shortDuration writes 4s, 1m05s, 2h03m.
func shortDuration(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
