package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress reports how far a long command is, table after table: on a
// terminal, a bar redrawn in place at most 10 times a second; elsewhere (a
// log file, a pipe), plain lines, at most one a second. The last state of
// each table is always shown, when the next table starts or at finish.
type progress struct {
	w     io.Writer
	tty   bool
	every time.Duration
	now   func() time.Time
	last  time.Time // when the last report was shown
	width int       // the length of the bar on the terminal's line; 0 when none

	cur       string // the table being reported, "" when none
	curShown  bool   // its latest state has been shown
	done, all int64
	rate      float64
}

// newProgress returns a progress that writes to w, as a bar when w is a
// terminal.
func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return newProgressTo(w, ok && isTerminal(f))
}

// newProgressTo returns a progress that writes to w, as a bar when tty is
// set.
func newProgressTo(w io.Writer, tty bool) *progress {
	every := time.Second
	if tty {
		every = 100 * time.Millisecond
	}
	return &progress{w: w, tty: tty, every: every, now: time.Now}
}

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// update reports that done of total rows of table are processed, at rate
// rows a second. A report that comes too soon after the last one shown is
// held back, until a later one or finish shows it.
func (p *progress) update(table string, done, total int64, rate float64) {
	if table != p.cur {
		p.finish()
	}
	p.cur, p.done, p.all, p.rate, p.curShown = table, done, max(total, done), rate, false
	if now := p.now(); p.last.IsZero() || now.Sub(p.last) >= p.every {
		p.last = now
		p.show()
	}
}

// finish shows the last state of the current table, if it has not been
// shown, and ends the bar's line, so that what is printed next starts on a
// line of its own.
func (p *progress) finish() {
	if p.cur != "" && !p.curShown {
		p.show()
	}
	if p.width > 0 {
		fmt.Fprintln(p.w)
	}
	p.cur, p.width, p.last = "", 0, time.Time{}
}

// barWidth is the number of cells of the bar.
const barWidth = 30

// show draws the current table's state.
func (p *progress) show() {
	p.curShown = true
	pct := 100.0
	if p.all > 0 {
		pct = 100 * float64(p.done) / float64(p.all)
	}
	eta := "?" // no rate yet
	if p.done == p.all {
		eta = "0s"
	} else if p.rate > 0 {
		eta = "<1s"
		if left := time.Duration(float64(p.all-p.done) / p.rate * float64(time.Second)); left >= time.Second {
			eta = left.Round(time.Second).String()
		}
	}
	if !p.tty {
		fmt.Fprintf(p.w, "%s: %d/%d rows (%.0f%%), %.0f rows/s, ETA %s\n", p.cur, p.done, p.all, pct, p.rate, eta)
		return
	}
	filled := int(pct / 100 * barWidth)
	line := fmt.Sprintf("%s [%s%s] %d/%d %3.0f%% %.0f rows/s ETA %s",
		p.cur, strings.Repeat("=", filled), strings.Repeat(" ", barWidth-filled), p.done, p.all, pct, p.rate, eta)
	// Spaces cover what is left of a longer line drawn before.
	fmt.Fprint(p.w, "\r"+line+strings.Repeat(" ", max(p.width-len(line), 0)))
	p.width = len(line)
}
