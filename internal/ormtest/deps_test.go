package ormtest

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// libraryPackages are the packages a program using dualwrite links.
var libraryPackages = []string{".", "./mapping", "./rewrite", "./txn", "./readpath", "./metrics", "./backfill", "./verify"}

// command is the command-line tool, which links the base drivers it opens
// databases with.
const command = "./cmd/dualwrite"

// testOnlyModules are modules the tests need and neither a program using
// the library nor the command may link. TiDB's MySQL parser (and the
// pingcap modules it needs) is the rewrite package's tests' oracle.
var testOnlyModules = []string{"gorm.io/", "github.com/uptrace/bun", "github.com/pganalyze/pg_query_go", "github.com/pingcap/"}

// mysqlDriver is the MySQL driver: the command links it to open MySQL
// and MariaDB, and the library must not (a program brings its own base
// driver; the library reads the driver's errors by their fields).
const mysqlDriver = "github.com/go-sql-driver/mysql"

// goList returns the packages go list prints for args, run at the
// module's root.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the library's dependencies: %v", err)
	}
	cmd := exec.Command(gobin, append([]string{"list"}, args...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return strings.Fields(string(out))
}

// testOnly returns the packages of pkgs that are in one of modules (all
// of testOnlyModules without any).
func testOnly(pkgs []string, modules ...string) []string {
	if modules == nil {
		modules = testOnlyModules
	}
	var out []string
	for _, p := range pkgs {
		for _, m := range modules {
			if strings.HasPrefix(p, m) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// TestLibraryLinksNoORM: the ORMs and the PostgreSQL and MySQL parsers, which only
// tests import, are not among the dependencies of the library's packages
// nor of the command (without their tests); the MySQL driver is among the
// command's, and not among the library's.
func TestLibraryLinksNoORM(t *testing.T) {
	deps := goList(t, append([]string{"-deps", "-test=false"}, libraryPackages...)...)
	if !slices.Contains(deps, "github.com/dualwrite/dualwrite/rewrite") {
		t.Fatalf("go list -deps did not list the library's own packages: %q", deps)
	}
	if bad := testOnly(deps, append(slices.Clip(testOnlyModules), mysqlDriver)...); len(bad) > 0 {
		t.Fatalf("the library links test-only modules or the MySQL driver: %q; import them from _test.go files (or the command) only", bad)
	}
	cmdDeps := goList(t, "-deps", "-test=false", command)
	if bad := testOnly(cmdDeps); len(bad) > 0 {
		t.Fatalf("the command links test-only modules: %q; import them from _test.go files only", bad)
	}
	if !slices.Contains(cmdDeps, mysqlDriver) {
		t.Fatalf("go list -deps of the command did not list %s, which it opens MySQL with: %q", mysqlDriver, cmdDeps)
	}
	// The check sees them where they are: in this package's tests.
	// With the MariaDB backend's dialects.
	found := testOnly(goList(t, "-deps", "-test", "./internal/ormtest"))
	for _, want := range []string{"gorm.io/gorm", "gorm.io/driver/mysql", "github.com/uptrace/bun", "github.com/uptrace/bun/dialect/mysqldialect"} {
		if !slices.Contains(found, want) {
			t.Fatalf("go list -deps -test of the ORM tests found %q, want %s among them", found, want)
		}
	}
	if found := testOnly(goList(t, "-deps", "./internal/mytest"), mysqlDriver); !slices.Contains(found, mysqlDriver) {
		t.Fatalf("go list -deps of internal/mytest found %q, want %s among them", found, mysqlDriver)
	}
	if found := testOnly(goList(t, "-deps", "-test", "./rewrite")); !slices.Contains(found, "github.com/pingcap/tidb/pkg/parser") {
		t.Fatalf("go list -deps -test of the rewrite package found %q, want github.com/pingcap/tidb/pkg/parser among them", found)
	}
}
