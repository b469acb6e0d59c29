package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// Cluster is a PostgreSQL server of a test's own, started from the
// machine's binaries in a temporary directory: a test may stop and start
// it without disturbing the others.
type Cluster struct {
	DSN  string // of its database postgres, as user postgres, trust auth
	t    testing.TB
	bin  string // the directory of initdb and pg_ctl
	data string
	port int
}

// NewCluster initializes and starts a cluster, stopped and removed when
// the test ends. It is skipped without DSNEnv, as every PostgreSQL test,
// and when the machine has no initdb.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	if os.Getenv(DSNEnv) == "" {
		t.Skipf("set %s to run PostgreSQL tests, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", DSNEnv)
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skipf("%s is set, but this test starts a PostgreSQL server of its own and finds no /usr/lib/postgresql/*/bin/initdb", DSNEnv)
	}
	dir, err := os.MkdirTemp("", "dualwrite-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, bin: filepath.Dir(bins[len(bins)-1]), data: filepath.Join(dir, "data")}
	t.Cleanup(func() {
		_ = c.pgCtl("stop", "-m", "immediate")
		_ = os.RemoveAll(dir)
	})
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		// PostgreSQL refuses to run as root: the server runs as postgres.
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, and no user postgres to run the server as: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := c.command("initdb", "-D", c.data, "-A", "trust", "-U", "postgres", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	c.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	c.Start()
	return c
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start() {
	c.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.port, filepath.Dir(c.data))
	if err := c.pgCtl("start", "-w", "-l", filepath.Join(filepath.Dir(c.data), "log"), "-o", opts); err != nil {
		c.t.Fatalf("starting the test's PostgreSQL server: %v", err)
	}
}

// Stop stops the server at once, as a crash or a restart ends the
// clients' connections.
func (c *Cluster) Stop() {
	c.t.Helper()
	if err := c.pgCtl("stop", "-w", "-m", "fast"); err != nil {
		c.t.Fatalf("stopping the test's PostgreSQL server: %v", err)
	}
}

func (c *Cluster) pgCtl(args ...string) error {
	out, err := c.command("pg_ctl", append([]string{"-D", c.data}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %v: %w\n%s", args, err, out)
	}
	return nil
}

// command runs one of the server's programs, as postgres when the test
// runs as root.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}
