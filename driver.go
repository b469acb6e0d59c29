package dualwrite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// Driver is the database/sql driver that Register registers: it wraps the
// base driver and gives each sql.DB its own [Connector].
type Driver struct {
	base    driver.Driver
	mapping *mapping.Mapping
	dialect *rewrite.Dialect
	opts    []Option

	mu         sync.Mutex
	connectors map[string]driver.Connector // for Open, which has no connector of its own
}

var (
	_ driver.Driver        = (*Driver)(nil)
	_ driver.DriverContext = (*Driver)(nil)
)

// Register registers a database/sql driver called name that wraps the driver
// already registered as base (for example "sqlite3"), so that
// sql.Open(name, dsn) opens base's dsn through dualwrite with mapping m. It
// also teaches sqlx the base driver's bind style, so that sqlx.Open(name,
// dsn) works with NamedExec, In and Rebind. The options apply to every sql.DB
// opened with name; each sql.DB checks the mapping against the live schema
// when it first connects. Register, and sql.Open of name, return an error
// wrapping [ErrInvalidPhase] when a phase variable of the environment holds
// an invalid value.
func Register(name, base string, m *mapping.Mapping, opts ...Option) error {
	if m == nil {
		return errors.New("dualwrite: Register: nil mapping")
	}
	if slices.Contains(sql.Drivers(), name) {
		return fmt.Errorf("dualwrite: Register: a driver named %q is already registered; choose another name", name)
	}
	db, err := sql.Open(base, "")
	if err != nil {
		return fmt.Errorf("dualwrite: Register: base driver %q: %w (import the driver package first)", base, err)
	}
	inner := db.Driver()
	if err := db.Close(); err != nil {
		return err
	}
	d, err := dialectFor(m, base, inner)
	if err != nil {
		return err
	}
	if _, err := newConfig(opts); err != nil {
		return err
	}
	if err := NewSwitch().checkEnv(); err != nil {
		return err
	}
	sql.Register(name, &Driver{base: inner, mapping: m, dialect: d, opts: opts, connectors: map[string]driver.Connector{}})
	sqlx.BindDriver(name, sqlx.BindType(base))
	return nil
}

// NewConnector returns a connector for sql.OpenDB that wraps base with
// mapping m. The result is a *Connector. It returns an error wrapping
// [ErrInvalidPhase] when DUALWRITE_WRITE_PHASE or DUALWRITE_READ_PHASE holds
// a value that is not a phase, rather than run with the mapping's default
// phase: the environment is checked when the connector is created, and
// later invalid values leave the last valid phase in force.
func NewConnector(base driver.Connector, m *mapping.Mapping, opts ...Option) (driver.Connector, error) {
	if base == nil || m == nil {
		return nil, errors.New("dualwrite: NewConnector: nil connector or mapping")
	}
	d, err := dialectFor(m, "", base.Driver())
	if err != nil {
		return nil, err
	}
	drv := &Driver{base: base.Driver(), mapping: m, dialect: d, opts: opts, connectors: map[string]driver.Connector{}}
	return newConnector(base, drv)
}

// Open opens a connection through a connector kept per dsn, so that the
// schema is checked once per dsn. database/sql uses OpenConnector instead.
func (d *Driver) Open(dsn string) (driver.Conn, error) {
	d.mu.Lock()
	c, ok := d.connectors[dsn]
	if !ok {
		var err error
		if c, err = d.OpenConnector(dsn); err != nil {
			d.mu.Unlock()
			return nil, err
		}
		d.connectors[dsn] = c
	}
	d.mu.Unlock()
	return c.Connect(context.Background())
}

// OpenConnector returns a new [Connector] for dsn. dualwrite claims
// driver.DriverContext even when the base driver does not, so that every
// sql.DB has one connector that checks the schema once; for such a driver
// it connects with the base driver's Open, as database/sql itself would.
func (d *Driver) OpenConnector(dsn string) (driver.Connector, error) {
	var base driver.Connector
	if dc, ok := d.base.(driver.DriverContext); ok {
		var err error
		if base, err = dc.OpenConnector(dsn); err != nil {
			return nil, err
		}
	} else {
		base = dsnConnector{dsn: dsn, driver: d.base}
	}
	return newConnector(base, d)
}

type dsnConnector struct {
	dsn    string
	driver driver.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.driver }

// dialectFor picks the mapping's dialect, or infers it from the base driver.
func dialectFor(m *mapping.Mapping, baseName string, base driver.Driver) (*rewrite.Dialect, error) {
	name := m.Dialect
	if name == "" {
		pkg := reflect.TypeOf(base).String() + " " + baseName
		if t := reflect.TypeOf(base); t.Kind() == reflect.Pointer {
			pkg += " " + t.Elem().PkgPath()
		}
		switch {
		case strings.Contains(pkg, "sqlite"):
			name = "sqlite"
		case strings.Contains(pkg, "pgx"), strings.Contains(pkg, "lib/pq"), strings.Contains(pkg, "postgres"):
			name = "postgres"
		case strings.Contains(pkg, "mysql"), strings.Contains(pkg, "mariadb"):
			name = "mysql"
		default:
			return nil, fmt.Errorf("dualwrite: cannot infer the SQL dialect of driver %s; set dialect: in the mapping file", pkg)
		}
	}
	d := rewrite.DialectByName(name)
	if d == nil {
		return nil, fmt.Errorf("dualwrite: dialect %q is not supported yet; supported: sqlite, postgres, mysql", name)
	}
	return d, nil
}
