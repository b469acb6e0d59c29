package main

import (
	"bufio"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dualwrite/dualwrite/internal/control"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/rewrite"
)

// fleetRefresh is how often the fleet's processes read the shared phases
// in these tests, and propagation how long after a change a process may
// take it: the refresh and the time of one read, which is a
// primary-key SELECT; a second covers a loaded machine.
const (
	fleetRefresh = 50 * time.Millisecond
	propagation  = fleetRefresh + time.Second
)

var (
	childOnce   sync.Once
	childBinary string
	childErr    error
)

// buildChild builds internal/fleetchild once.
func buildChild(t *testing.T) string {
	t.Helper()
	childOnce.Do(func() {
		childBinary = filepath.Join(filepath.Dir(binary), "fleetchild")
		out, err := exec.Command("go", "build", "-o", childBinary, "../../internal/fleetchild").CombinedOutput()
		if err != nil {
			childErr = fmt.Errorf("building fleetchild: %w\n%s", err, out)
		}
	})
	if childErr != nil {
		t.Fatal(childErr)
	}
	return childBinary
}

// child is one process of the fleet.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *dbtest.SyncBuffer
	last   string // the last phases line read
}

// startChild starts a fleetchild on b's database with the extra
// environment env, and waits for its first phases.
func startChild(t *testing.T, b *backend, dsn string, env ...string) *child {
	t.Helper()
	return startChildWith(t, b, dsn, b.mapping, env...)
}

// startChildWith is startChild with another mapping file.
func startChildWith(t *testing.T, b *backend, dsn, mappingFile string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(buildChild(t), "-driver", b.driver, "-dsn", dsn, "-mapping", mappingFile, "-refresh", fleetRefresh.String())
	cmd.Env = append(cmd.Environ(), env...)
	c := &child{cmd: cmd, lines: make(chan string, 100), stderr: &dbtest.SyncBuffer{}}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(func() {
		_ = c.stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("fleetchild %d stderr:\n%s", cmd.Process.Pid, c.errors())
		}
	})
	c.wait(t, "phases ", 30*time.Second)
	return c
}

// errors returns what the child wrote to its standard error.
func (c *child) errors() string { return c.stderr.String() }

func (c *child) pid() int { return c.cmd.Process.Pid }

// wait waits up to d for a phases line that starts with want and returns
// how long it took.
func (c *child) wait(t *testing.T, want string, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if strings.HasPrefix(c.last, want) {
		return 0
	}
	timeout := time.After(d)
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				t.Fatalf("fleetchild %d exited waiting for %q; stderr:\n%s", c.pid(), want, c.errors())
			}
			c.last = line
			if strings.HasPrefix(line, want) {
				return time.Since(start)
			}
		case <-timeout:
			t.Fatalf("fleetchild %d: no %q within %v (last: %q)", c.pid(), want, d, c.last)
		}
	}
}

// still checks that the child's phases stay want for d.
func (c *child) still(t *testing.T, want string, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				t.Fatalf("fleetchild %d exited; stderr:\n%s", c.pid(), c.errors())
			}
			c.last = line
			t.Fatalf("fleetchild %d changed its phases to %q, want %q kept", c.pid(), line, want)
		case <-timeout:
			if !strings.HasPrefix(c.last, want) {
				t.Fatalf("fleetchild %d runs %q, want %q", c.pid(), c.last, want)
			}
			return
		}
	}
}

// stop ends the child: it closes its database, which deletes its record.
func (c *child) stop(t *testing.T) {
	t.Helper()
	_ = c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("fleetchild %d: %v; stderr:\n%s", c.pid(), err, c.errors())
	}
}

// send writes a command to the child.
func (c *child) send(t *testing.T, command string) {
	t.Helper()
	if _, err := io.WriteString(c.stdin, command+"\n"); err != nil {
		t.Fatal(err)
	}
}

// setPhases runs dualwrite phase set and checks that every child takes
// the phases within propagation.
func setPhases(t *testing.T, b *backend, children []*child, write, read string) {
	t.Helper()
	invoke(t, nil, b.flags("phase", "set", "--write", write, "--read", read, "--by", "fleet test")...).expect(t, 0, "-> write "+write+", read "+read)
	want := "phases write=" + write + " read=" + read
	for _, c := range children {
		if took := c.wait(t, want, propagation); took > 0 {
			t.Logf("fleetchild %d took %v to run %s", c.pid(), took.Round(time.Millisecond), want)
		}
	}
}

// waitStatus runs dualwrite status until its output matches every one of
// want, for up to d, and returns the output.
func waitStatus(t *testing.T, b *backend, d time.Duration, want ...*regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		r := invoke(t, nil, b.flags("status")...)
		ok := r.code == 0
		for _, w := range want {
			ok = ok && w.MatchString(r.stdout)
		}
		if ok {
			return r.stdout
		}
		if time.Now().After(deadline) {
			t.Fatalf("dualwrite status: no match for %v within %v:\n%s%s", want, d, r.stdout, r.stderr)
		}
		time.Sleep(fleetRefresh)
	}
}

// processLine matches the status line of the process pid with its phases.
func processLine(pid int, write, read string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^  \S+ pid ` + strconv.Itoa(pid) + ` \(.*\): write ` + write + `, read ` + read + ` `)
}

func TestFleetSQLite(t *testing.T) {
	b := newSQLite(t, corpus.Schema...)
	testFleet(t, b, b.dsn+"?_busy_timeout=10000")
}

func TestFleetPostgres(t *testing.T) {
	b := newPostgres(t)
	testFleet(t, b, b.dsn)
}

func TestFleetMySQL(t *testing.T) {
	b := newMySQL(t)
	testFleet(t, b, b.dsn)
}

// testFleet runs three processes on b's database: a phase change reaches
// them all; status shows each; a transition that reads the new tables is
// refused while one writes off, and accepted once it mirrors; a process
// killed with SIGKILL goes stale and ages out; writes cannot go off while
// processes read the new tables.
func testFleet(t *testing.T, b *backend, dsn string) {
	b.exec(t, "INSERT INTO users (id, full_name, email, visits) VALUES (1, 'Ada Lovelace', 'ada@example.com', 3), (2, 'Alan Turing', NULL, 1)")
	// The fleet starts off, whatever the mapping file says.
	invoke(t, nil, b.flags("phase", "set", "--write", "off")...).expect(t, 0, "-> write off, read old (version 1")
	off := startChild(t, b, dsn, "DUALWRITE_WRITE_PHASE=off")
	c1, c2 := startChild(t, b, dsn), startChild(t, b, dsn)
	all := []*child{off, c1, c2}
	for _, c := range all {
		c.wait(t, "phases write=off read=old", 0)
	}
	waitStatus(t, b, 30*time.Second, regexp.MustCompile(`processes: 3 live, 0 stale, 0 with another mapping`),
		processLine(off.pid(), "off", "old"), processLine(c1.pid(), "off", "old"), processLine(c2.pid(), "off", "old"))

	// Writes go dual everywhere but where the environment decides.
	invoke(t, nil, b.flags("phase", "set", "--write", "dual")...).expect(t, 0, "write off, read old -> write dual, read old (version 2")
	for _, c := range []*child{c1, c2} {
		c.wait(t, "phases write=dual read=old", propagation)
	}
	off.still(t, "phases write=off read=old", 5*fleetRefresh)
	out := waitStatus(t, b, 30*time.Second, processLine(c1.pid(), "dual", "old"), processLine(c2.pid(), "dual", "old"))
	if !processLine(off.pid(), "off", "old").MatchString(out) || !strings.Contains(out, "(write: environment; read: control table)") {
		t.Errorf("status does not show the process whose environment writes off:\n%s", out)
	}

	// Reads leave old only after a backfill and a verify, and only once
	// every process mirrors.
	invoke(t, nil, b.flags("phase", "set", "--read", "compare")...).expect(t, 1, "users backfilled and verified with no difference: it was never backfilled")
	invoke(t, nil, b.flags("backfill")...).expect(t, 0)
	invoke(t, nil, b.flags("verify")...).expect(t, 0)
	invoke(t, nil, b.flags("phase", "set", "--read", "compare")...).expect(t, 1,
		fmt.Sprintf("needs every live process to mirror writes: process %d on", off.pid()), "writes off (write: environment")
	off.send(t, "write dual")
	off.wait(t, "phases write=dual read=old", propagation)
	waitStatus(t, b, 30*time.Second, processLine(off.pid(), "dual", "old"))
	setPhases(t, b, all, "dual", "compare")

	// A process with another mapping reads old, is shown, and keeps reads
	// from going further until it stops.
	mappingText, err := os.ReadFile(b.mapping)
	if err != nil {
		t.Fatal(err)
	}
	otherMapping := writeFile(t, t.TempDir(), "other.yaml", strings.Replace(strings.Replace(string(mappingText), "upper(role)", "lower(role)", 1), "UPPER(role)", "LOWER(role)", 1))
	odd := startChildWith(t, b, dsn, otherMapping)
	odd.wait(t, "phases write=dual read=old", propagation)
	waitStatus(t, b, 30*time.Second, regexp.MustCompile(`processes: 4 live, 0 stale, 1 with another mapping`),
		regexp.MustCompile(`pid `+strconv.Itoa(odd.pid())+` .*capped: this process runs another mapping.*ANOTHER MAPPING`))
	invoke(t, nil, b.flags("phase", "set", "--read", "new")...).expect(t, 1,
		fmt.Sprintf("read phase new needs every live process to run this mapping: process %d on", odd.pid()))
	odd.stop(t)
	waitStatus(t, b, 30*time.Second, regexp.MustCompile(`processes: 3 live, 0 stale, 0 with another mapping`))

	// A process killed with SIGKILL goes stale, then ages out.
	if err := c2.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, b, control.StaleAfter(fleetRefresh)+10*time.Second, regexp.MustCompile(`processes: 2 live, 1 stale`),
		regexp.MustCompile(`pid `+strconv.Itoa(c2.pid())+` .*STALE: last seen`))
	out = waitStatus(t, b, control.AgedOutAfter(fleetRefresh)+10*time.Second, regexp.MustCompile(`processes: 2 live, 0 stale`))
	if strings.Contains(out, "pid "+strconv.Itoa(c2.pid())+" ") {
		t.Errorf("the killed process has not aged out:\n%s", out)
	}

	// Writes cannot stop mirroring while processes read the new tables.
	invoke(t, nil, b.flags("phase", "set", "--write", "off")...).expect(t, 1, "write phase off needs every live process to read old", "reads compare")
	setPhases(t, b, all[:2], "dual", "old")
	// The change is acknowledged once every record says so.
	waitStatus(t, b, 30*time.Second, processLine(off.pid(), "dual", "old"), processLine(c1.pid(), "dual", "old"))
	setPhases(t, b, []*child{c1}, "off", "old")
	off.still(t, "phases write=dual read=old", 5*fleetRefresh) // its override
	r := invoke(t, nil, b.flags("phase", "history", "-n", "3")...)
	r.expect(t, 0, "5  ", "write dual, read old -> write off, read old", "4  ", "3  ", "write dual, read old -> write dual, read compare")
	if strings.Contains(r.stdout, "2  ") {
		t.Errorf("history -n 3 lists more:\n%s", r.stdout)
	}
}

// TestFleetUnreachableSQLite: processes keep their phases while the
// control table is dropped, and take the phases set once it is back.
func TestFleetUnreachableSQLite(t *testing.T) {
	b := newSQLite(t, corpus.Schema...)
	testControlDropped(t, b, b.dsn+"?_busy_timeout=10000", nil)
}

func TestFleetUnreachableMySQL(t *testing.T) {
	b := newMySQL(t)
	testControlDropped(t, b, b.dsn, nil)
}

// TestFleetUnreachablePostgres: the application's role loses the right to
// read the control table, the table is dropped, and every connection of
// the role is ended (as a restart of the server ends them): each time the
// processes keep their phases, and take the next change once the control
// table answers again.
func TestFleetUnreachablePostgres(t *testing.T) {
	b := newPostgres(t)
	role := fmt.Sprintf("dw_fleet_%d", time.Now().UnixNano()%1e9)
	b.exec(t, "CREATE ROLE "+role+" LOGIN")
	t.Cleanup(func() {
		for _, s := range []string{"DROP OWNED BY " + role, "DROP ROLE " + role} {
			if _, err := b.db.Exec(s); err != nil {
				t.Errorf("%s: %v", s, err)
			}
		}
	})
	grant := func() {
		b.exec(t, "GRANT USAGE ON SCHEMA "+schemaOf(t, b)+" TO "+role,
			"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "+schemaOf(t, b)+" TO "+role)
	}
	// The operator creates the control tables; the application may only use them.
	invoke(t, nil, b.flags("phase", "set", "--write", "dual")...).expect(t, 0, "(version 1")
	grant()
	dsn := strings.Replace(b.dsn, "postgres@", role+"@", 1)
	children := testControlDropped(t, b, dsn, grant)

	b.exec(t, "REVOKE SELECT ON "+control.PhasesTable+" FROM "+role)
	invoke(t, nil, b.flags("phase", "set", "--write", "dual")...).expect(t, 0)
	for _, c := range children {
		c.still(t, "phases write=off read=old", 10*fleetRefresh)
		waitFor(t, c, "the control table cannot be used")
	}
	grant()
	for _, c := range children {
		c.wait(t, "phases write=dual read=old", propagation)
	}

	b.exec(t, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '"+role+"'")
	for _, c := range children {
		c.still(t, "phases write=dual read=old", 5*fleetRefresh)
	}
	invoke(t, nil, b.flags("phase", "set", "--write", "off")...).expect(t, 0)
	for _, c := range children {
		c.wait(t, "phases write=off read=old", propagation)
	}
}

// schemaOf returns the schema of b's PostgreSQL DSN.
func schemaOf(t *testing.T, b *backend) string {
	t.Helper()
	var s string
	if err := b.db.QueryRow("SELECT current_schema()").Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// waitFor waits until the child's standard error holds want.
func waitFor(t *testing.T, c *child, want string) {
	t.Helper()
	deadline := time.Now().Add(propagation)
	for !strings.Contains(c.errors(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("fleetchild %d has not logged %q; stderr:\n%s", c.pid(), want, c.errors())
		}
		time.Sleep(fleetRefresh)
	}
}

// testControlDropped starts two processes on dsn in the shared phases
// write dual, read old; drops the phases table, under which they keep
// them; and sets write off, which recreates it (then calls regrant, if
// any, for the new table) and which they take. It returns the processes.
func testControlDropped(t *testing.T, b *backend, dsn string, regrant func()) []*child {
	invoke(t, nil, b.flags("phase", "set", "--write", "dual")...).expect(t, 0)
	children := []*child{startChild(t, b, dsn), startChild(t, b, dsn)}
	for _, c := range children {
		c.wait(t, "phases write=dual read=old", propagation)
	}
	b.exec(t, "DROP TABLE "+control.PhasesTable)
	for _, c := range children {
		c.still(t, "phases write=dual read=old", 10*fleetRefresh)
		waitFor(t, c, "are gone from "+control.PhasesTable)
	}
	invoke(t, nil, b.flags("phase", "set", "--write", "off")...).expect(t, 0, "-> write off, read old (version")
	if regrant != nil {
		regrant()
	}
	for _, c := range children {
		c.wait(t, "phases write=off read=old", propagation)
		waitFor(t, c, "the control table answers again")
	}
	return children
}

// TestFleetServerRestartPostgres: the server stops under the processes
// (a server of the test's own) and starts again: they keep their phases
// while it is down, and take the next change once it is back.
func TestFleetServerRestartPostgres(t *testing.T) {
	cl := pgtest.NewCluster(t)
	db, err := sql.Open("pgx", cl.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	b := &backend{driver: "pgx", dsn: cl.DSN, db: db, d: rewrite.Postgres,
		mapping: writeFile(t, t.TempDir(), "mapping.yaml", corpus.PostgresMapping)}
	b.exec(t, corpus.PostgresSchema...)
	invoke(t, nil, b.flags("phase", "set", "--write", "dual")...).expect(t, 0)
	children := []*child{startChild(t, b, cl.DSN), startChild(t, b, cl.DSN)}
	for _, c := range children {
		c.wait(t, "phases write=dual read=old", propagation)
	}
	cl.Stop()
	for _, c := range children {
		waitFor(t, c, "the control table cannot be used")
		c.still(t, "phases write=dual read=old", 10*fleetRefresh)
	}
	cl.Start()
	invoke(t, nil, b.flags("phase", "set", "--write", "off")...).expect(t, 0, "-> write off, read old (version 2")
	for _, c := range children {
		c.wait(t, "phases write=off read=old", propagation)
		waitFor(t, c, "the control table answers again")
	}
}
