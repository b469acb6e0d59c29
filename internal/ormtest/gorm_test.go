package ormtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/dualwrite/dualwrite/internal/dbtest"
)

type gormUser struct {
	ID        int64
	Name      string `gorm:"not null"`
	Email     string `gorm:"not null;unique"`
	Visits    int    `gorm:"not null;default:0"`
	DeletedAt gorm.DeletedAt
	Posts     []gormPost `gorm:"foreignKey:UserID"`
}

func (gormUser) TableName() string { return "users" }

type gormPost struct {
	ID       int64
	UserID   int64         `gorm:"not null"`
	Title    string        `gorm:"not null"`
	Slug     string        `gorm:"not null;unique"`
	User     *gormUser     `gorm:"foreignKey:UserID"`
	Comments []gormComment `gorm:"foreignKey:PostID"`
}

func (gormPost) TableName() string { return "posts" }

// gormComment is a row of comments, which is not mapped.
type gormComment struct {
	ID     int64
	PostID int64  `gorm:"not null"`
	Body   string `gorm:"not null"`
}

func (gormComment) TableName() string { return "comments" }

// pgExplained matches a PostgreSQL placeholder as GORM's logger spells it
// when it is given no arguments ("$1$").
var pgExplained = regexp.MustCompile(`\$(\d+)\$`)

// gormLog is a GORM logger that keeps every statement, with its
// placeholders rather than its arguments, in a statementLog.
type gormLog struct{ *statementLog }

func (l gormLog) LogMode(logger.LogLevel) logger.Interface                         { return l }
func (gormLog) Info(context.Context, string, ...any)                               {}
func (gormLog) Warn(context.Context, string, ...any)                               {}
func (gormLog) Error(context.Context, string, ...any)                              {}
func (gormLog) ParamsFilter(_ context.Context, q string, _ ...any) (string, []any) { return q, nil }
func (l gormLog) Trace(_ context.Context, _ time.Time, fc func() (string, int64), err error) {
	q, _ := fc()
	l.add(pgExplained.ReplaceAllString(q, "$$$1"), err)
}

// mysqlTimePrecision is the precision of mysqlSchema's DATETIME columns,
// which GORM's models declare with (by default 3).
var mysqlTimePrecision = 6

// openGORM opens GORM in the backend's dialect over db. For the env's own
// pool on SQLite and MySQL it opens the driver name registered with
// dualwrite instead, as an application that gives GORM a DSN does.
func openGORM(t *testing.T, e *env, db *sql.DB, log *statementLog) *gorm.DB {
	t.Helper()
	var d gorm.Dialector
	switch {
	case e.b.kind == "postgres":
		d = postgres.New(postgres.Config{Conn: db})
	case e.b.kind == "mysql" && db == e.db:
		d = mysql.New(mysql.Config{DriverName: e.register("mysql"), DSN: e.dsn, DefaultDatetimePrecision: &mysqlTimePrecision, DisableWithReturning: e.b.noReturning})
	case e.b.kind == "mysql":
		d = mysql.New(mysql.Config{Conn: db, DefaultDatetimePrecision: &mysqlTimePrecision, DisableWithReturning: e.b.noReturning})
	case db == e.db:
		d = sqlite.New(sqlite.Config{DriverName: e.register("sqlite3"), DSN: e.dsn})
	default:
		d = sqlite.New(sqlite.Config{Conn: db})
	}
	g, err := gorm.Open(d, &gorm.Config{Logger: gormLog{log}, DisableForeignKeyConstraintWhenMigrating: true})
	if err != nil {
		t.Fatal(err)
	}
	if sqlDB, err := g.DB(); err == nil && sqlDB != db {
		t.Cleanup(func() { _ = sqlDB.Close() })
	}
	return g
}

var errRollback = errors.New("rolled back on purpose")

// notFound is the result of a read that found no row.
const notFound = "record not found"

func gormFound[T any](v T, err error) (any, error) {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return notFound, nil
	}
	return v, err
}

// TestGORM runs a GORM application's writes, transactions and reads
// through dualwrite.
func TestGORM(t *testing.T) {
	forBackends(t, func(t *testing.T, e *env) {
		log := &statementLog{}
		db := openGORM(t, e, e.db, log)
		stop := e.watch(func(pool *sql.DB) func(context.Context) error {
			g := openGORM(t, e, pool, &statementLog{})
			return func(ctx context.Context) error {
				var us []gormUser
				return g.WithContext(ctx).Preload("Posts").Order("id").Find(&us).Error
			}
		})
		e.run(context.Background(), log, gormSteps(db), gormReads(db))
		stop()
	})
}

func user(id int64, name string) gormUser {
	return gormUser{ID: id, Name: name, Email: fmt.Sprintf("u%d@example.com", id)}
}

func gormSteps(db *gorm.DB) []step {
	var generated int64
	var batch []gormUser
	return []step{
		{name: "create with associations", do: func(context.Context) error {
			u := user(1, "Ada Lovelace")
			u.Posts = []gormPost{
				{ID: 1, Title: "Notes on the Engine", Slug: "notes", Comments: []gormComment{{Body: "first"}}},
				{ID: 2, Title: "Bernoulli Numbers", Slug: "bernoulli", Comments: []gormComment{{Body: "second"}, {Body: "third"}}},
			}
			return db.Create(&u).Error
		}, want: rowCounts(map[string]int{"users": 1, "posts": 2, "comments": 3}), refused: mysqlUpsertRefusal},
		// On MySQL GORM saves a has-many association with ON DUPLICATE KEY
		// UPDATE, refused on posts: the application creates the rows of
		// each table by itself (the comments, not mapped, still as an
		// association of their post).
		{name: "create with associations one table at a time", only: []string{"mysql"}, do: func(context.Context) error {
			return db.Transaction(func(tx *gorm.DB) error {
				u := user(1, "Ada Lovelace")
				if err := tx.Omit(clause.Associations).Create(&u).Error; err != nil {
					return err
				}
				ps := []gormPost{
					{ID: 1, UserID: 1, Title: "Notes on the Engine", Slug: "notes", Comments: []gormComment{{Body: "first"}}},
					{ID: 2, UserID: 1, Title: "Bernoulli Numbers", Slug: "bernoulli", Comments: []gormComment{{Body: "second"}, {Body: "third"}}},
				}
				return tx.Create(&ps).Error
			})
		}, want: rowCounts(map[string]int{"users": 1, "posts": 2, "comments": 3})},
		{name: "batch create", do: func(context.Context) error {
			us := []gormUser{user(2, "Alan Turing"), user(3, "Edsger Dijkstra"), user(4, "Plato"), user(5, "Barbara Liskov")}
			return db.Create(&us).Error
		}, want: rowCounts(map[string]int{"users": 5})},
		{name: "create in batches", do: func(context.Context) error {
			ps := []gormPost{
				{ID: 3, UserID: 2, Title: "Computable Numbers", Slug: "computable"},
				{ID: 4, UserID: 2, Title: "Imitation Game", Slug: "imitation"},
				{ID: 5, UserID: 3, Title: "Goto Considered Harmful", Slug: "goto"},
				{ID: 6, UserID: 5, Title: "Data Abstraction", Slug: "abstraction"},
				{ID: 7, UserID: 4, Title: "Republic", Slug: "republic"},
			}
			return db.CreateInBatches(&ps, 2).Error
		}, want: rowCounts(map[string]int{"posts": 7})},
		{name: "save a loaded row", do: func(context.Context) error {
			var u gormUser
			if err := db.First(&u, 2).Error; err != nil {
				return err
			}
			u.Name, u.Visits = "Alan Mathison Turing", 4
			return db.Save(&u).Error
		}, want: cell("SELECT name FROM users WHERE id = 2", "Alan Mathison Turing")},
		{name: "save a new row", do: func(context.Context) error {
			u := user(6, "Donald Knuth")
			return db.Save(&u).Error
		}, want: rowCounts(map[string]int{"users": 6}), refused: mysqlUpsertRefusal},
		{name: "create instead of save", only: []string{"mysql"}, do: func(context.Context) error {
			u := user(6, "Donald Knuth")
			return db.Create(&u).Error
		}, want: rowCounts(map[string]int{"users": 6})},
		{name: "update with an expression", do: func(context.Context) error {
			return db.Model(&gormUser{}).Where("id IN ?", []int64{1, 2}).Update("visits", gorm.Expr("visits + ?", 1)).Error
		}, want: cell("SELECT visits FROM users WHERE id = 2", "5")},
		{name: "updates of a model", do: func(context.Context) error {
			return db.Model(&gormUser{ID: 3}).Updates(map[string]any{"name": "Edsger W Dijkstra", "visits": gorm.Expr("visits * 2 + 3")}).Error
		}, want: cell("SELECT visits FROM users WHERE id = 3", "3")},
		{name: "updates with a struct", do: func(context.Context) error {
			return db.Model(&gormPost{}).Where("user_id = ?", 2).Updates(gormPost{Title: "Untitled"}).Error
		}},
		{name: "upsert on the key", do: func(context.Context) error {
			us := []gormUser{user(1, "Augusta Ada King"), user(7, "John Backus")}
			return db.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "id"}},
				DoUpdates: clause.AssignmentColumns([]string{"name", "visits"}),
			}).Create(&us).Error
		}, want: cell("SELECT name FROM users WHERE id = 1", "Augusta Ada King"), refused: mysqlUpsertRefusal},
		{name: "update and create instead of the upsert on the key", only: []string{"mysql"}, do: func(context.Context) error {
			return db.Transaction(func(tx *gorm.DB) error {
				if err := tx.Model(&gormUser{ID: 1}).Updates(map[string]any{"name": "Augusta Ada King", "visits": 0}).Error; err != nil {
					return err
				}
				u := user(7, "John Backus")
				return tx.Create(&u).Error
			})
		}, want: cell("SELECT name FROM users WHERE id = 1", "Augusta Ada King")},
		{name: "upsert on a unique column", do: func(context.Context) error {
			u := gormUser{ID: 50, Name: "Someone Else", Email: "u4@example.com"}
			return db.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "email"}},
				DoUpdates: clause.Assignments(map[string]any{"visits": gorm.Expr("users.visits + 10")}),
			}).Create(&u).Error
		}, want: cell("SELECT visits FROM users WHERE id = 4", "10"), refused: mysqlUpsertRefusal},
		{name: "update by the unique column instead of the upsert", only: []string{"mysql"}, do: func(context.Context) error {
			return db.Model(&gormUser{}).Where("email = ?", "u4@example.com").Update("visits", gorm.Expr("visits + 10")).Error
		}, want: cell("SELECT visits FROM users WHERE id = 4", "10")},
		{name: "upsert do nothing", do: func(context.Context) error {
			us := []gormUser{user(7, "Nobody"), user(8, "Niklaus Wirth")}
			return db.Clauses(clause.OnConflict{DoNothing: true}).Create(&us).Error
		}, want: cell("SELECT name FROM users WHERE id = 7", "John Backus"), refused: mysqlUpsertRefusal},
		{name: "create instead of upsert do nothing", only: []string{"mysql"}, do: func(context.Context) error {
			u := user(8, "Niklaus Wirth")
			return db.Create(&u).Error
		}, want: cell("SELECT name FROM users WHERE id = 7", "John Backus")},
		{name: "upsert update all", do: func(context.Context) error {
			u := user(8, "Niklaus Emil Wirth")
			u.Visits = 2
			return db.Clauses(clause.OnConflict{UpdateAll: true}).Create(&u).Error
		}, want: cell("SELECT name FROM users WHERE id = 8", "Niklaus Emil Wirth"), refused: mysqlUpsertRefusal},
		{name: "save instead of upsert update all", only: []string{"mysql"}, do: func(context.Context) error {
			u := user(8, "Niklaus Emil Wirth")
			u.Visits = 2
			return db.Save(&u).Error
		}, want: cell("SELECT name FROM users WHERE id = 8", "Niklaus Emil Wirth")},
		{name: "create with a generated key", do: func(context.Context) error {
			u := gormUser{Name: "Grace Hopper", Email: "grace@navy.mil"}
			err := db.Create(&u).Error
			generated = u.ID
			return err
		}, want: func(e *env) error {
			if err := e.generatedKeys([]int64{generated}, []string{"grace@navy.mil"}); err != nil {
				return err
			}
			return rowCounts(map[string]int{"users": 9})(e)
		}},
		{name: "soft delete", do: func(context.Context) error {
			return db.Delete(&gormUser{ID: 5}).Error
		}, want: cell("SELECT count(*) FROM users WHERE deleted_at IS NOT NULL", "1")},
		{name: "hard delete", do: func(context.Context) error {
			if err := db.Where("user_id = ?", 3).Delete(&gormPost{}).Error; err != nil {
				return err
			}
			return db.Unscoped().Delete(&gormUser{}, 3).Error
		}, want: rowCounts(map[string]int{"users": 8, "posts": 6})},
		{name: "delete of unmapped rows", do: func(context.Context) error {
			return db.Where("body = ?", "third").Delete(&gormComment{}).Error
		}, want: rowCounts(map[string]int{"comments": 2})},
		{name: "raw update", do: func(context.Context) error {
			return db.Exec("UPDATE users SET visits = visits + 1 WHERE email LIKE ?", "%@example.com").Error
		}},
		{name: "key change of a user", do: func(context.Context) error {
			return db.Model(&gormUser{}).Where("id = ?", 4).Update("id", 40).Error
		}, want: rowCounts(map[string]int{"users": 8})},
		{name: "key change of a post", do: func(context.Context) error {
			return db.Model(&gormPost{}).Where("id = ?", 7).Update("id", 70).Error
		}},
		{name: "AutoMigrate of models that match the schema", do: func(context.Context) error {
			return db.AutoMigrate(&gormUser{}, &gormPost{}, &gormComment{})
		}},
		{name: "AutoMigrate that adds a column", do: func(context.Context) error {
			type gormUserV2 struct {
				gormUser
				Nickname string
			}
			return db.Table("users").AutoMigrate(&gormUserV2{})
		}, refused: alterRefusal},
		{name: "insert or replace", only: []string{"sqlite"}, do: func(context.Context) error {
			u := user(2, "Alan Turing")
			return db.Clauses(clause.Insert{Modifier: "OR REPLACE"}).Create(&u).Error
		}},
		{name: "upsert that assigns the key", do: func(context.Context) error {
			u := gormUser{ID: 60, Name: "Moved Row", Email: "u2@example.com"}
			return db.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "email"}},
				DoUpdates: clause.AssignmentColumns([]string{"id", "name"}),
			}).Create(&u).Error
		}, refused: upsertKeyRefusal},
		{name: "several statements in one Exec", do: func(context.Context) error {
			return db.Exec("UPDATE users SET visits = 0 WHERE id = 1; UPDATE users SET visits = 1 WHERE id = 2").Error
		}, refused: multiStatementRefusal},
		{name: "write to a new table", do: func(context.Context) error {
			return db.Table("accounts").Where("account_id = ?", 1).Update("visit_count", 99).Error
		}, refused: newTableRefusal},
		{name: "truncate", only: []string{"postgres"}, do: func(context.Context) error {
			return db.Exec("TRUNCATE users").Error
		}, refused: truncateRefusal},
		{name: "nested transaction rolled back", do: func(context.Context) error {
			return db.Transaction(func(tx *gorm.DB) error {
				if err := tx.Create(&[]gormUser{user(30, "Kept Outer")}).Error; err != nil {
					return err
				}
				err := tx.Transaction(func(tx *gorm.DB) error {
					if err := tx.Create(&[]gormUser{user(31, "Dropped Inner")}).Error; err != nil {
						return err
					}
					if err := tx.Model(&gormUser{}).Where("id = ?", 30).Update("visits", 9).Error; err != nil {
						return err
					}
					return errRollback
				})
				if !errors.Is(err, errRollback) {
					return fmt.Errorf("inner transaction: %w", err)
				}
				return tx.Create(&gormPost{ID: 30, UserID: 30, Title: "Kept", Slug: "kept"}).Error
			})
		}, want: rows("SELECT id, visits FROM users WHERE id IN (30, 31)", "[[30 0]]")},
		{name: "nested transaction committed", do: func(context.Context) error {
			return db.Transaction(func(tx *gorm.DB) error {
				return tx.Transaction(func(tx *gorm.DB) error {
					return tx.Model(&gormUser{}).Where("id = ?", 30).Update("visits", gorm.Expr("visits + 2")).Error
				})
			})
		}, want: cell("SELECT visits FROM users WHERE id = 30", "2")},
		{name: "savepoint rolled back to", do: func(context.Context) error {
			tx := db.Begin()
			if err := tx.Create(&gormUser{ID: 32, Name: "Before Savepoint", Email: "sp@example.com"}).Error; err != nil {
				tx.Rollback()
				return err
			}
			tx.SavePoint("sp1")
			tx.Create(&gormUser{ID: 33, Name: "After Savepoint", Email: "sp2@example.com"})
			tx.Model(&gormUser{}).Where("id = ?", 32).Update("name", "Changed After")
			tx.Unscoped().Delete(&gormUser{}, 1)
			tx.RollbackTo("sp1")
			if tx.Error != nil {
				tx.Rollback()
				return tx.Error
			}
			return tx.Commit().Error
		}, want: rows("SELECT id, name FROM users WHERE id IN (1, 32, 33) ORDER BY id", "[[1 Augusta Ada King] [32 Before Savepoint]]")},
		{name: "transaction rolled back", do: func(context.Context) error {
			err := db.Transaction(func(tx *gorm.DB) error {
				if err := tx.Create(&[]gormUser{user(34, "Never Here")}).Error; err != nil {
					return err
				}
				if err := tx.Model(&gormUser{}).Where("1 = 1").Update("visits", 0).Error; err != nil {
					return err
				}
				return errRollback
			})
			if !errors.Is(err, errRollback) {
				return fmt.Errorf("the transaction returned %w", err)
			}
			return nil
		}, want: rowCounts(map[string]int{"users": 10})},
		{name: "batch create with generated keys", do: func(context.Context) error {
			batch = []gormUser{{Name: "Frances Allen", Email: "fran@example.com"}, {Name: "Jean Sammet", Email: "jean@example.com"}, {Name: "Adele Goldberg", Email: "adele@example.com"}}
			return db.Create(&batch).Error
		}, want: func(e *env) error {
			var ids []int64
			var emails []string
			for _, u := range batch {
				ids, emails = append(ids, u.ID), append(emails, u.Email)
			}
			return e.generatedKeys(ids, emails)
		}},
	}
}

func gormReads(db *gorm.DB) []read {
	return []read{
		{name: "find with preloads", do: func(context.Context) (any, error) {
			var us []gormUser
			err := db.Preload("Posts", func(db *gorm.DB) *gorm.DB { return db.Order("posts.id") }).
				Preload("Posts.Comments", func(db *gorm.DB) *gorm.DB { return db.Order("comments.id") }).
				Order("id").Find(&us).Error
			return us, err
		}},
		{name: "find with soft-deleted rows", do: func(context.Context) (any, error) {
			var us []gormUser
			err := db.Unscoped().Order("id").Find(&us).Error
			return us, err
		}},
		{name: "join of the belongs-to relation", do: func(context.Context) (any, error) {
			var ps []gormPost
			err := db.Joins("User").Order("posts.id").Find(&ps).Error
			return ps, err
		}},
		{name: "join with group by", do: func(context.Context) (any, error) {
			var out []struct {
				Name  string
				Posts int
			}
			err := db.Table("users").Select("users.name, count(posts.id) AS posts").
				Joins("LEFT JOIN posts ON posts.user_id = users.id").
				Where("users.deleted_at IS NULL").Group("users.id, users.name").Order("users.id").Scan(&out).Error
			return out, err
		}},
		{name: "count", do: func(context.Context) (any, error) {
			var n int64
			err := db.Model(&gormUser{}).Where("visits >= ?", 1).Count(&n).Error
			return n, err
		}},
		{name: "pluck", do: func(context.Context) (any, error) {
			var emails []string
			err := db.Model(&gormUser{}).Order("email").Pluck("email", &emails).Error
			return emails, err
		}},
		{name: "exists subquery", do: func(context.Context) (any, error) {
			var ids []int64
			err := db.Model(&gormUser{}).Where("EXISTS (?)", db.Table("posts").Select("1").Where("posts.user_id = users.id")).
				Order("id").Pluck("id", &ids).Error
			return ids, err
		}},
		{name: "first", do: func(context.Context) (any, error) {
			var u gormUser
			return gormFound(u, db.First(&u).Error)
		}},
		{name: "take by key", do: func(context.Context) (any, error) {
			var u gormUser
			err := db.Take(&u, "id = ?", 2).Error
			return gormFound(u, err)
		}},
		{name: "locking read", do: func(context.Context) (any, error) {
			var us []gormUser
			err := db.Clauses(clause.Locking{Strength: "UPDATE"}).Order("id").Find(&us).Error
			return us, err
		}, refused: lockingReadRefusal},
	}
}

// TestGORMMySQLUpsertDoNothing: on mapped tables whose only unique key is
// their key, GORM's OnConflict{DoNothing: true}, which is ON DUPLICATE KEY
// UPDATE id = id on MySQL, inserts the new rows and leaves the others as
// they are, as INSERT IGNORE does.
func TestGORMMySQLUpsertDoNothing(t *testing.T) {
	for _, b := range backends {
		if b.kind != "mysql" {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			b.schema = nil
			for _, s := range mysqlSchema {
				b.schema = append(b.schema, strings.ReplaceAll(s, " UNIQUE", ""))
			}
			e := open(t, b)
			log := &statementLog{}
			db := openGORM(t, e, e.db, log)
			if err := db.Create(&[]gormUser{user(1, "Ada Lovelace")}).Error; err != nil {
				t.Fatal(err)
			}
			us := []gormUser{user(1, "Nobody"), user(2, "Alan Turing")}
			if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&us).Error; err != nil {
				t.Fatalf("%v; GORM sent:\n  %s", err, strings.Join(log.take(), "\n  "))
			}
			if err := rows("SELECT id, name FROM users ORDER BY id", "[[1 Ada Lovelace] [2 Alan Turing]]")(e); err != nil {
				t.Fatal(err)
			}
			e.check("the upsert")
		})
	}
}

// rowCounts checks the number of rows of tables.
func rowCounts(want map[string]int) func(e *env) error {
	return func(e *env) error {
		for tb, n := range want {
			if got := e.count(tb); got != n {
				return fmt.Errorf("%s has %d rows, want %d", tb, got, n)
			}
		}
		return nil
	}
}

// cell checks the single value a query returns, formatted with %v.
func cell(q, want string) func(e *env) error {
	return func(e *env) error {
		var got any
		if err := e.raw.QueryRow(q).Scan(&got); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		if b, ok := got.([]byte); ok {
			got = string(b)
		}
		if fmt.Sprint(got) != want {
			return fmt.Errorf("%s = %v, want %s", q, got, want)
		}
		return nil
	}
}

// rows checks the rows a query returns, formatted with %v.
func rows(q, want string) func(e *env) error {
	return func(e *env) error {
		if got := fmt.Sprint(dbtest.Rows(e.t, e.raw, q)); got != want {
			return fmt.Errorf("%s = %s, want %s", q, got, want)
		}
		return nil
	}
}
