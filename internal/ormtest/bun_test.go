package ormtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/feature"
	"github.com/uptrace/bun/dialect/mysqldialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/schema"
)

type bunUser struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID        int64      `bun:"id,pk,autoincrement"`
	Name      string     `bun:"name,notnull"`
	Email     string     `bun:"email,notnull,unique"`
	Visits    int        `bun:"visits,notnull"`
	DeletedAt time.Time  `bun:"deleted_at,soft_delete,nullzero"`
	Posts     []*bunPost `bun:"rel:has-many,join:id=user_id"`
}

type bunPost struct {
	bun.BaseModel `bun:"table:posts,alias:p"`

	ID       int64         `bun:"id,pk,autoincrement"`
	UserID   int64         `bun:"user_id,notnull"`
	Title    string        `bun:"title,notnull"`
	Slug     string        `bun:"slug,notnull,unique"`
	User     *bunUser      `bun:"rel:belongs-to,join:user_id=id"`
	Comments []*bunComment `bun:"rel:has-many,join:id=post_id"`
}

// bunComment is a row of comments, which is not mapped.
type bunComment struct {
	bun.BaseModel `bun:"table:comments,alias:c"`

	ID     int64  `bun:"id,pk,autoincrement"`
	PostID int64  `bun:"post_id,notnull"`
	Body   string `bun:"body,notnull"`
}

// bunLog is a bun query hook that keeps every statement in a statementLog.
type bunLog struct{ *statementLog }

func (bunLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (l bunLog) AfterQuery(_ context.Context, ev *bun.QueryEvent) {
	err := ev.Err
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	l.add(ev.Query, err)
}

// mysqlWithoutReturning is bun's MySQL dialect as on MySQL, which has no
// RETURNING: bun's Init turns RETURNING on when it finds MariaDB.
type mysqlWithoutReturning struct{ *mysqldialect.Dialect }

func (d mysqlWithoutReturning) Features() feature.Feature {
	return d.Dialect.Features().Remove(feature.InsertReturning | feature.DeleteReturning)
}

// openBun opens db with bun in the backend's dialect.
func openBun(e *env, db *sql.DB, log *statementLog) *bun.DB {
	var d schema.Dialect = sqlitedialect.New()
	switch e.b.kind {
	case "postgres":
		d = pgdialect.New()
	case "mysql":
		d = mysqldialect.New()
		if e.b.noReturning {
			d = mysqlWithoutReturning{mysqldialect.New()}
		}
	}
	return bun.NewDB(db, d).WithQueryHook(bunLog{log})
}

// TestBun runs a bun application's writes, transactions and reads through
// dualwrite.
func TestBun(t *testing.T) {
	forBackends(t, func(t *testing.T, e *env) {
		log := &statementLog{}
		db := openBun(e, e.db, log)
		stop := e.watch(func(pool *sql.DB) func(context.Context) error {
			b := openBun(e, pool, &statementLog{})
			return func(ctx context.Context) error {
				var us []bunUser
				return b.NewSelect().Model(&us).Relation("Posts").Order("u.id").Scan(ctx)
			}
		})
		e.run(context.Background(), log, bunSteps(db), bunReads(db))
		stop()
	})
}

func bunU(id int64, name string) *bunUser {
	return &bunUser{ID: id, Name: name, Email: fmt.Sprintf("u%d@example.com", id)}
}

// onConflict makes q an upsert on the conflict target (a column list) that
// runs the assignments, given as PostgreSQL and SQLite write them
// (EXCLUDED.c for the row proposed for insertion) and as MySQL does
// (VALUES(c)); no assignment updates every column.
func onConflict(q *bun.InsertQuery, target, set, mysqlSet string) *bun.InsertQuery {
	if q.Dialect().Name() == dialect.MySQL {
		q = q.On("DUPLICATE KEY UPDATE")
		set = mysqlSet
	} else {
		q = q.On("CONFLICT (" + target + ") DO UPDATE")
	}
	if set != "" {
		q = q.Set(set)
	}
	return q
}

func bunSteps(db *bun.DB) []step {
	var generated bunUser
	var batch []*bunUser
	return []step{
		{name: "insert", do: func(ctx context.Context) error {
			if _, err := db.NewInsert().Model(bunU(1, "Ada Lovelace")).Exec(ctx); err != nil {
				return err
			}
			if _, err := db.NewInsert().Model(&bunPost{ID: 1, UserID: 1, Title: "Notes on the Engine", Slug: "notes"}).Exec(ctx); err != nil {
				return err
			}
			_, err := db.NewInsert().Model(&[]*bunComment{{PostID: 1, Body: "first"}, {PostID: 1, Body: "second"}}).Exec(ctx)
			return err
		}, want: rowCounts(map[string]int{"users": 1, "posts": 1, "comments": 2})},
		{name: "bulk insert", do: func(ctx context.Context) error {
			us := []*bunUser{bunU(2, "Alan Turing"), bunU(3, "Edsger Dijkstra"), bunU(4, "Plato"), bunU(5, "Barbara Liskov")}
			if _, err := db.NewInsert().Model(&us).Exec(ctx); err != nil {
				return err
			}
			ps := []*bunPost{
				{ID: 2, UserID: 1, Title: "Bernoulli Numbers", Slug: "bernoulli"},
				{ID: 3, UserID: 2, Title: "Computable Numbers", Slug: "computable"},
				{ID: 4, UserID: 2, Title: "Imitation Game", Slug: "imitation"},
				{ID: 5, UserID: 3, Title: "Goto Considered Harmful", Slug: "goto"},
				{ID: 6, UserID: 5, Title: "Data Abstraction", Slug: "abstraction"},
				{ID: 7, UserID: 4, Title: "Republic", Slug: "republic"},
			}
			_, err := db.NewInsert().Model(&ps).Exec(ctx)
			return err
		}, want: rowCounts(map[string]int{"users": 5, "posts": 7})},
		{name: "update of a loaded model", do: func(ctx context.Context) error {
			u := &bunUser{ID: 2}
			if err := db.NewSelect().Model(u).WherePK().Scan(ctx); err != nil {
				return err
			}
			u.Name, u.Visits = "Alan Mathison Turing", 4
			_, err := db.NewUpdate().Model(u).WherePK().Exec(ctx)
			return err
		}, want: cell("SELECT name FROM users WHERE id = 2", "Alan Mathison Turing")},
		{name: "update of chosen columns", do: func(ctx context.Context) error {
			_, err := db.NewUpdate().Model(&bunUser{ID: 3, Name: "Edsger W Dijkstra"}).Column("name").WherePK().Exec(ctx)
			return err
		}, want: cell("SELECT name FROM users WHERE id = 3", "Edsger W Dijkstra")},
		{name: "update with an expression", do: func(ctx context.Context) error {
			_, err := db.NewUpdate().Model((*bunUser)(nil)).Set("visits = visits + 1").Where("id IN (?)", bun.List([]int64{1, 2})).Exec(ctx)
			return err
		}, want: cell("SELECT visits FROM users WHERE id = 2", "5")},
		{name: "bulk update", do: func(ctx context.Context) error {
			ps := []*bunPost{{ID: 3, Title: "On Computable Numbers"}, {ID: 4, Title: "Computing Machinery"}}
			_, err := db.NewUpdate().Model(&ps).Column("title").Bulk().Exec(ctx)
			return err
		}, want: cell("SELECT title FROM posts WHERE id = 4", "Computing Machinery"), refused: mysqlWithRefusal},
		{name: "update of each row instead of the bulk update", only: []string{"mysql"}, do: func(ctx context.Context) error {
			return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				for _, p := range []*bunPost{{ID: 3, Title: "On Computable Numbers"}, {ID: 4, Title: "Computing Machinery"}} {
					if _, err := tx.NewUpdate().Model(p).Column("title").WherePK().Exec(ctx); err != nil {
						return err
					}
				}
				return nil
			})
		}, want: cell("SELECT title FROM posts WHERE id = 4", "Computing Machinery")},
		{name: "upsert on the key", do: func(ctx context.Context) error {
			us := []*bunUser{bunU(1, "Augusta Ada King"), bunU(6, "Donald Knuth")}
			_, err := onConflict(db.NewInsert().Model(&us), "id", "name = EXCLUDED.name", "name = VALUES(name)").Exec(ctx)
			return err
		}, want: cell("SELECT name FROM users WHERE id = 1", "Augusta Ada King"), refused: mysqlUpsertRefusal},
		{name: "update and insert instead of the upsert on the key", only: []string{"mysql"}, do: func(ctx context.Context) error {
			return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.NewUpdate().Model(bunU(1, "Augusta Ada King")).Column("name").WherePK().Exec(ctx); err != nil {
					return err
				}
				_, err := tx.NewInsert().Model(bunU(6, "Donald Knuth")).Exec(ctx)
				return err
			})
		}, want: cell("SELECT name FROM users WHERE id = 1", "Augusta Ada King")},
		{name: "upsert of every column", do: func(ctx context.Context) error {
			u := bunU(6, "Donald Ervin Knuth")
			u.Visits = 3
			_, err := onConflict(db.NewInsert().Model(u), "id", "", "").Exec(ctx)
			return err
		}, want: cell("SELECT name FROM users WHERE id = 6", "Donald Ervin Knuth"), refused: mysqlUpsertRefusal},
		{name: "update of every column instead of the upsert", only: []string{"mysql"}, do: func(ctx context.Context) error {
			u := bunU(6, "Donald Ervin Knuth")
			u.Visits = 3
			_, err := db.NewUpdate().Model(u).WherePK().Exec(ctx)
			return err
		}, want: cell("SELECT name FROM users WHERE id = 6", "Donald Ervin Knuth")},
		{name: "upsert on a unique column", do: func(ctx context.Context) error {
			u := &bunUser{ID: 50, Name: "Someone Else", Email: "u4@example.com"}
			_, err := onConflict(db.NewInsert().Model(u), "email", "visits = u.visits + 10", "visits = visits + 10").Exec(ctx)
			return err
		}, want: cell("SELECT visits FROM users WHERE id = 4", "10"), refused: mysqlUpsertRefusal},
		{name: "update by the unique column instead of the upsert", only: []string{"mysql"}, do: func(ctx context.Context) error {
			_, err := db.NewUpdate().Model((*bunUser)(nil)).Set("visits = visits + 10").Where("email = ?", "u4@example.com").Exec(ctx)
			return err
		}, want: cell("SELECT visits FROM users WHERE id = 4", "10")},
		{name: "insert ignore", do: func(ctx context.Context) error {
			us := []*bunUser{bunU(6, "Nobody"), bunU(7, "Niklaus Wirth")}
			_, err := db.NewInsert().Model(&us).Ignore().Exec(ctx)
			return err
		}, want: cell("SELECT count(*) FROM users", "7")},
		{name: "insert with a generated key", do: func(ctx context.Context) error {
			generated = bunUser{Name: "Grace Hopper", Email: "grace@navy.mil"}
			_, err := db.NewInsert().Model(&generated).Exec(ctx)
			return err
		}, want: func(e *env) error {
			if err := e.generatedKeys([]int64{generated.ID}, []string{generated.Email}); err != nil {
				return err
			}
			return rowCounts(map[string]int{"users": 8})(e)
		}},
		{name: "soft delete", do: func(ctx context.Context) error {
			_, err := db.NewDelete().Model(&bunUser{ID: 5}).WherePK().Exec(ctx)
			return err
		}, want: cell("SELECT count(*) FROM users WHERE deleted_at IS NOT NULL", "1")},
		{name: "hard delete", do: func(ctx context.Context) error {
			if _, err := db.NewDelete().Model((*bunPost)(nil)).Where("user_id = ?", 3).Exec(ctx); err != nil {
				return err
			}
			_, err := db.NewDelete().Model(&bunUser{ID: 3}).WherePK().ForceDelete().Exec(ctx)
			return err
		}, want: rowCounts(map[string]int{"users": 7, "posts": 6})},
		{name: "delete of unmapped rows", do: func(ctx context.Context) error {
			_, err := db.NewDelete().Model((*bunComment)(nil)).Where("body = ?", "second").Exec(ctx)
			return err
		}, want: rowCounts(map[string]int{"comments": 1})},
		{name: "raw update", do: func(ctx context.Context) error {
			_, err := db.NewRaw("UPDATE users SET visits = visits + 1 WHERE email LIKE ?", "%@example.com").Exec(ctx)
			return err
		}},
		{name: "key change of a user", do: func(ctx context.Context) error {
			_, err := db.NewUpdate().Model((*bunUser)(nil)).Set("id = ?", 40).Where("id = ?", 4).Exec(ctx)
			return err
		}},
		{name: "key change of a post", do: func(ctx context.Context) error {
			_, err := db.NewUpdate().Model((*bunPost)(nil)).Set("id = ?", 70).Where("id = ?", 7).Exec(ctx)
			return err
		}},
		{name: "CreateTable IfNotExists of the mapped models", do: func(ctx context.Context) error {
			for _, m := range []any{(*bunUser)(nil), (*bunPost)(nil), (*bunComment)(nil)} {
				if _, err := db.NewCreateTable().Model(m).IfNotExists().Exec(ctx); err != nil {
					return err
				}
			}
			return nil
		}},
		{name: "replace", only: []string{"sqlite", "mysql"}, do: func(ctx context.Context) error {
			_, err := db.NewInsert().Model(bunU(2, "Alan Turing")).Replace().Exec(ctx)
			return err
		}, refused: mysqlReplaceRefusal},
		{name: "upsert that assigns the key", do: func(ctx context.Context) error {
			u := &bunUser{ID: 60, Name: "Moved Row", Email: "u2@example.com"}
			_, err := onConflict(db.NewInsert().Model(u), "email", "id = EXCLUDED.id", "id = VALUES(id)").Exec(ctx)
			return err
		}, refused: upsertKeyRefusal},
		{name: "merge", only: []string{"postgres"}, do: func(ctx context.Context) error {
			us := []*bunUser{bunU(1, "Ada Merged"), bunU(61, "New Merged")}
			_, err := db.NewMerge().Model(new(bunUser)).With("_data", db.NewValues(&us)).Using("_data").
				On("u.id = _data.id").
				WhenUpdate("MATCHED", func(q *bun.UpdateQuery) *bun.UpdateQuery { return q.Set("name = _data.name") }).
				WhenInsert("NOT MATCHED", func(q *bun.InsertQuery) *bun.InsertQuery {
					return q.Value("id", "_data.id").Value("name", "_data.name").Value("email", "_data.email").Value("visits", "_data.visits")
				}).Exec(ctx)
			return err
		}, refused: mergeRefusal},
		{name: "truncate", only: []string{"postgres"}, do: func(ctx context.Context) error {
			_, err := db.NewTruncateTable().Model((*bunUser)(nil)).Exec(ctx)
			return err
		}, refused: truncateRefusal},
		{name: "nested transaction rolled back", do: func(ctx context.Context) error {
			return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.NewInsert().Model(bunU(30, "Kept Outer")).Exec(ctx); err != nil {
					return err
				}
				err := tx.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					if _, err := tx.NewInsert().Model(bunU(31, "Dropped Inner")).Exec(ctx); err != nil {
						return err
					}
					if _, err := tx.NewUpdate().Model((*bunUser)(nil)).Set("visits = 9").Where("id = 30").Exec(ctx); err != nil {
						return err
					}
					return errRollback
				})
				if !errors.Is(err, errRollback) {
					return fmt.Errorf("inner transaction: %w", err)
				}
				_, err = tx.NewInsert().Model(&bunPost{ID: 30, UserID: 30, Title: "Kept", Slug: "kept"}).Exec(ctx)
				return err
			})
		}, want: rows("SELECT id, visits FROM users WHERE id IN (30, 31)", "[[30 0]]")},
		{name: "nested transaction committed", do: func(ctx context.Context) error {
			return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				return tx.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					_, err := tx.NewUpdate().Model((*bunUser)(nil)).Set("visits = visits + 2").Where("id = 30").Exec(ctx)
					return err
				})
			})
		}, want: cell("SELECT visits FROM users WHERE id = 30", "2")},
		{name: "transaction rolled back", do: func(ctx context.Context) error {
			err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.NewInsert().Model(bunU(34, "Never Here")).Exec(ctx); err != nil {
					return err
				}
				if _, err := tx.NewUpdate().Model((*bunUser)(nil)).Set("visits = 0").Where("1 = 1").Exec(ctx); err != nil {
					return err
				}
				return errRollback
			})
			if !errors.Is(err, errRollback) {
				return fmt.Errorf("the transaction returned %w", err)
			}
			return nil
		}, want: rowCounts(map[string]int{"users": 8})},
		{name: "bulk insert with generated keys", do: func(ctx context.Context) error {
			batch = []*bunUser{{Name: "Frances Allen", Email: "fran@example.com"}, {Name: "Jean Sammet", Email: "jean@example.com"}, {Name: "Adele Goldberg", Email: "adele@example.com"}}
			_, err := db.NewInsert().Model(&batch).Exec(ctx)
			return err
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

func bunReads(db *bun.DB) []read {
	return []read{
		{name: "select with relations", do: func(ctx context.Context) (any, error) {
			var us []bunUser
			err := db.NewSelect().Model(&us).
				Relation("Posts", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("p.id") }).
				Relation("Posts.Comments", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("c.id") }).
				Order("u.id").Scan(ctx)
			return us, err
		}},
		{name: "select with soft-deleted rows", do: func(ctx context.Context) (any, error) {
			var us []bunUser
			err := db.NewSelect().Model(&us).WhereAllWithDeleted().Order("u.id").Scan(ctx)
			return us, err
		}},
		{name: "join of the belongs-to relation", do: func(ctx context.Context) (any, error) {
			var ps []bunPost
			err := db.NewSelect().Model(&ps).Relation("User").Order("p.id").Scan(ctx)
			return ps, err
		}},
		{name: "join with group by", do: func(ctx context.Context) (any, error) {
			var out []struct {
				Name  string `bun:"name"`
				Posts int    `bun:"posts"`
			}
			err := db.NewSelect().TableExpr("users AS u").ColumnExpr("u.name, count(p.id) AS posts").
				Join("LEFT JOIN posts AS p ON p.user_id = u.id").Where("u.deleted_at IS NULL").
				Group("u.id", "u.name").Order("u.id").Scan(ctx, &out)
			return out, err
		}},
		{name: "count", do: func(ctx context.Context) (any, error) {
			return db.NewSelect().Model((*bunUser)(nil)).Where("visits >= ?", 1).Count(ctx)
		}},
		{name: "exists", do: func(ctx context.Context) (any, error) {
			return db.NewSelect().Model((*bunUser)(nil)).Where("email = ?", "u2@example.com").Exists(ctx)
		}},
		{name: "scan and count of a page", do: func(ctx context.Context) (any, error) {
			var us []bunUser
			n, err := db.NewSelect().Model(&us).Order("u.id").Limit(2).Offset(1).ScanAndCount(ctx)
			return []any{n, us}, err
		}},
		{name: "get by key", do: func(ctx context.Context) (any, error) {
			var u bunUser
			err := db.NewSelect().Model(&u).Where("u.id = ?", 2).Limit(1).Scan(ctx)
			if errors.Is(err, sql.ErrNoRows) {
				return notFound, nil
			}
			return u, err
		}},
		{name: "locking read", only: []string{"postgres", "mysql"}, do: func(ctx context.Context) (any, error) {
			var us []bunUser
			err := db.NewSelect().Model(&us).Order("u.id").For("UPDATE").Scan(ctx)
			return us, err
		}, refused: lockingReadRefusal},
	}
}
