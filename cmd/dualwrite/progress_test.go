package main

import (
	"strings"
	"testing"
	"time"
)

// testProgress returns a progress writing to a buffer, with a fake clock
// that advance moves.
func testProgress(tty bool) (p *progress, out *strings.Builder, advance func(time.Duration)) {
	out = &strings.Builder{}
	now := time.Unix(1_700_000_000, 0)
	p = newProgressTo(out, tty)
	p.now = func() time.Time { return now }
	return p, out, func(d time.Duration) { now = now.Add(d) }
}

// TestProgressPlain: at most one line a second, and the last state of each
// table shown when the next starts and at finish.
func TestProgressPlain(t *testing.T) {
	p, out, advance := testProgress(false)
	p.update("users", 100, 1000, 50)
	advance(300 * time.Millisecond)
	p.update("users", 200, 1000, 50) // held back
	advance(800 * time.Millisecond)
	p.update("users", 300, 1000, 100)
	advance(100 * time.Millisecond)
	p.update("users", 1000, 1000, 100) // held back, shown when the next table starts
	p.update("members", 0, 0, 0)
	p.finish()
	want := []string{
		"users: 100/1000 rows (10%), 50 rows/s, ETA 18s",
		"users: 300/1000 rows (30%), 100 rows/s, ETA 7s",
		"users: 1000/1000 rows (100%), 100 rows/s, ETA 0s",
		"members: 0/0 rows (100%), 0 rows/s, ETA 0s",
	}
	if got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestProgressTerminal: the bar is redrawn in place, a shorter bar covers
// the longer one drawn before, and finish ends its line.
func TestProgressTerminal(t *testing.T) {
	p, out, advance := testProgress(true)
	p.update("users", 1000, 2000, 123456)
	advance(time.Second)
	p.update("users", 2000, 2000, 2)
	p.finish()
	p.finish() // nothing more to end
	s := out.String()
	draws := strings.Split(strings.TrimSuffix(s, "\n"), "\r")[1:]
	if len(draws) != 2 || strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") {
		t.Fatalf("want two draws and one newline at the end, got %q", s)
	}
	half := strings.Repeat("=", barWidth/2)
	if want := "users [" + half + strings.Repeat(" ", barWidth/2) + "] 1000/2000  50% 123456 rows/s ETA <1s"; draws[0] != want {
		t.Errorf("first draw %q, want %q", draws[0], want)
	}
	if want := "users [" + half + half + "] 2000/2000 100% 2 rows/s ETA 0s"; strings.TrimRight(draws[1], " ") != want || len(draws[1]) != len(draws[0]) {
		t.Errorf("second draw %q, want %q padded to %d", draws[1], want, len(draws[0]))
	}
}
