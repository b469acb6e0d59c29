package dualwrite_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/feature"
	"github.com/uptrace/bun/dialect/mysqldialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	gormmysql "gorm.io/driver/mysql"
	gormpostgres "gorm.io/driver/postgres"
	gormsqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"

	"github.com/dualwrite/dualwrite"
)

// gormUser is users as a GORM model; its index on visits and the orders
// that reference it are what AutoMigrate adds.
type gormUser struct {
	ID       int64       `gorm:"primaryKey;autoIncrement:false"`
	FullName string      `gorm:"not null;default:'Anon Ymous'"`
	Email    *string     `gorm:"unique"`
	Visits   int32       `gorm:"not null;default:0;index:users_visits"`
	Orders   []gormOrder `gorm:"foreignKey:UserID"`
}

func (gormUser) TableName() string { return "users" }

// gormUserKept is gormUser with full_name left out of migrations: GORM's
// SQLite driver reads the default 'Anon Ymous' back as another value, and
// alters the column by rebuilding the table.
type gormUserKept struct {
	ID       int64       `gorm:"primaryKey;autoIncrement:false"`
	FullName string      `gorm:"-:migration"`
	Email    *string     `gorm:"unique"`
	Visits   int32       `gorm:"not null;default:0;index:users_visits"`
	Orders   []gormOrder `gorm:"foreignKey:UserID"`
}

func (gormUserKept) TableName() string { return "users" }

// gormUserMySQL is gormUser with the MySQL schema's column types, which
// AutoMigrate would otherwise alter (a string is a longtext to GORM).
type gormUserMySQL struct {
	ID       int64       `gorm:"primaryKey;autoIncrement:false"`
	FullName string      `gorm:"type:varchar(200);not null;default:'Anon Ymous'"`
	Email    *string     `gorm:"type:varchar(200);unique"`
	Visits   int32       `gorm:"type:int;not null;default:0;index:users_visits"`
	Orders   []gormOrder `gorm:"foreignKey:UserID"`
}

func (gormUserMySQL) TableName() string { return "users" }

type gormOrder struct {
	ID     int64 `gorm:"primaryKey;autoIncrement:false"`
	UserID int64 `gorm:"index"`
}

func (gormOrder) TableName() string { return "orders" }

// sqlLog records the statements GORM sends.
type sqlLog struct {
	gormlogger.Interface
	mu    sync.Mutex
	stmts []string
}

func (l *sqlLog) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	q, _ := fc()
	l.mu.Lock()
	l.stmts = append(l.stmts, q)
	l.mu.Unlock()
}

func (l *sqlLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.stmts, "\n")
}

// openGorm opens GORM over the wrapper's sql.DB.
func openGorm(t *testing.T, b backend, e *env) (*gorm.DB, *sqlLog) {
	t.Helper()
	log := &sqlLog{Interface: gormlogger.Discard}
	var d gorm.Dialector = gormsqlite.Dialector{Conn: e.db}
	switch {
	case b.name == "postgres":
		d = gormpostgres.New(gormpostgres.Config{Conn: e.db})
	case b.runs("mysql"):
		d = gormmysql.New(gormmysql.Config{Conn: e.db})
	}
	gdb, err := gorm.Open(d, &gorm.Config{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return gdb, log
}

// TestGormAutoMigrate: GORM's AutoMigrate at start-up, through the wrapper
// in the dual phase, on the existing mapped table users and a new table
// orders that references it: it reads the catalog, creates the index on
// users, the table orders with its foreign key and its index, passes again
// at the next start-up, and dual writes through GORM go on.
func TestGormAutoMigrate(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		gdb, log := openGorm(t, b, e)
		var model any = &gormUser{}
		switch {
		case b.name == "sqlite":
			model = &gormUserKept{}
		case b.runs("mysql"):
			model = &gormUserMySQL{}
		}
		for round := range 2 { // every start-up migrates again
			if err := gdb.AutoMigrate(model, &gormOrder{}); err != nil {
				t.Fatalf("AutoMigrate (round %d): %v\nstatements:\n%s", round, err, log)
			}
		}
		if !gdb.Migrator().HasIndex("users", "users_visits") || !gdb.Migrator().HasConstraint(&gormUser{}, "Orders") {
			t.Fatalf("AutoMigrate did not create the index or the foreign key; statements:\n%s", log)
		}
		email := "ada@x"
		if err := gdb.Create(&gormUser{ID: 1, FullName: "Ada Lovelace", Email: &email}).Error; err != nil {
			t.Fatal(err)
		}
		if err := gdb.Create(&gormOrder{ID: 10, UserID: 1}).Error; err != nil {
			t.Fatal(err)
		}
		if err := gdb.Model(&gormUser{ID: 1}).Updates(map[string]any{"full_name": "Ada King", "visits": 4}).Error; err != nil {
			t.Fatal(err)
		}
		if n := e.count("accounts"); n != 1 {
			t.Fatalf("accounts has %d rows, want 1", n)
		}
		e.checkInvariant()
	})
}

// TestGormAutoMigrateRebuildIsRefused: where GORM alters a column of
// SQLite's users by rebuilding the table (a copy, then DROP TABLE users and
// a rename), the DROP is refused and users stays as it was, rows and
// mirror included.
func TestGormAutoMigrateRebuildIsRefused(t *testing.T) {
	b := sqliteBackend
	e := b.open(t)
	mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')")
	before := columns(t, e.raw, b, "users")
	gdb, log := openGorm(t, b, e)
	err := gdb.AutoMigrate(&gormUser{})
	if !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "DROP TABLE") {
		t.Fatalf("AutoMigrate: %v, want the DROP TABLE refused\nstatements:\n%s", err, log)
	}
	if after := columns(t, e.raw, b, "users"); !reflect.DeepEqual(before, after) || e.count("users") != 1 {
		t.Fatalf("users changed: %v, then %v, %d rows", before, after, e.count("users"))
	}
	e.checkInvariant()
}

// bunUser is users as a bun model.
type bunUser struct {
	bun.BaseModel `bun:"table:users"`
	ID            int64   `bun:"id,pk"`
	FullName      string  `bun:"full_name,notnull"`
	Email         *string `bun:"email,unique"`
	Visits        int32   `bun:"visits,notnull"`
}

type bunOrder struct {
	bun.BaseModel `bun:"table:orders"`
	ID            int64 `bun:"id,pk"`
	UserID        int64 `bun:"user_id"`
}

// bunMySQL8 is bun's MySQL dialect as on a server without RETURNING
// (MySQL): bun reads MariaDB's version and would use it.
type bunMySQL8 struct{ *mysqldialect.Dialect }

// Features are those of bun's MySQL dialect, without RETURNING.
func (d bunMySQL8) Features() feature.Feature {
	return d.Dialect.Features().Remove(feature.InsertReturning | feature.DeleteReturning)
}

// TestBunCreateTableIfNotExists: bun's CreateTable().IfNotExists() of the
// mapped table users and of a new table with a foreign key to it, through
// the wrapper in the dual phase, pass; dual writes go on.
func TestBunCreateTableIfNotExists(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		var bdb *bun.DB
		fk := `("user_id") REFERENCES "users" ("id") ON DELETE CASCADE`
		switch {
		case b.name == "postgres":
			bdb = bun.NewDB(e.db, pgdialect.New())
		case b.name == "mariadb-noreturning":
			bdb = bun.NewDB(e.db, bunMySQL8{mysqldialect.New()})
			fk = "(`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE"
		case b.runs("mysql"):
			bdb = bun.NewDB(e.db, mysqldialect.New())
			fk = "(`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE"
		default:
			bdb = bun.NewDB(e.db, sqlitedialect.New())
		}
		ctx := context.Background()
		if _, err := bdb.NewCreateTable().Model((*bunUser)(nil)).IfNotExists().Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := bdb.NewCreateTable().Model((*bunOrder)(nil)).IfNotExists().ForeignKey(fk).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := bdb.NewInsert().Model(&bunUser{ID: 1, FullName: "Ada Lovelace"}).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := bdb.NewInsert().Model(&bunOrder{ID: 10, UserID: 1}).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := bdb.NewUpdate().Model(&bunUser{ID: 1, FullName: "Ada King", Visits: 3}).WherePK().Exec(ctx); err != nil {
			t.Fatal(err)
		}
		e.checkInvariant()
	})
}
