package ormtest

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// libraryPackages are the packages a program using dualwrite links, and
// the command.
var libraryPackages = []string{".", "./mapping", "./rewrite", "./txn", "./readpath", "./metrics", "./backfill", "./verify", "./cmd/dualwrite"}

// testOnlyModules are modules the tests need and a program using the
// library must not link: the ORMs with their dialects and drivers
// (gorm.io/driver/mysql and bun's mysqldialect among them), PostgreSQL's
// parser, and the MySQL driver, which only internal/mytest and tests
// import.
var testOnlyModules = []string{"gorm.io/", "gorm.io/driver/mysql", "github.com/uptrace/bun", "github.com/uptrace/bun/dialect/mysqldialect", "github.com/pganalyze/pg_query_go", "github.com/go-sql-driver/mysql"}

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

func testOnly(pkgs []string) []string {
	var out []string
	for _, p := range pkgs {
		for _, m := range testOnlyModules {
			if strings.HasPrefix(p, m) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// TestLibraryLinksNoORM: the ORMs and PostgreSQL's parser, which only
// tests import, are not among the dependencies of the library's packages
// (without their tests).
func TestLibraryLinksNoORM(t *testing.T) {
	deps := goList(t, append([]string{"-deps", "-test=false"}, libraryPackages...)...)
	if !slices.Contains(deps, "github.com/dualwrite/dualwrite/rewrite") {
		t.Fatalf("go list -deps did not list the library's own packages: %q", deps)
	}
	if bad := testOnly(deps); len(bad) > 0 {
		t.Fatalf("the library links test-only modules: %q; import them from _test.go files only", bad)
	}
	// The check sees them where they are: in this package's tests.
	// With the MariaDB backend's dialects.
	found := testOnly(goList(t, "-deps", "-test", "./internal/ormtest"))
	for _, want := range []string{"gorm.io/gorm", "gorm.io/driver/mysql", "github.com/uptrace/bun", "github.com/uptrace/bun/dialect/mysqldialect"} {
		if !slices.Contains(found, want) {
			t.Fatalf("go list -deps -test of the ORM tests found %q, want %s among them", found, want)
		}
	}
	if found := testOnly(goList(t, "-deps", "./internal/mytest")); !slices.Contains(found, "github.com/go-sql-driver/mysql") {
		t.Fatalf("go list -deps of internal/mytest found %q, want github.com/go-sql-driver/mysql among them", found)
	}
}
