package main

import (
	"context"
	"database/sql"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
)

// The reverse groups measure a dual write in the write phase both from the
// new release's side: the application writes accounts, and the wrapper
// mirrors the write back into users with the mapping's reverse (down)
// expressions. The variants are those of the forward groups with the
// tables' roles swapped: dualwrite (the accounts statement through the
// wrapper), raw-new-only (the accounts statement alone), raw-2stmt-tx (the
// accounts statement and the users statement by hand in one transaction)
// and trigger (the accounts statement, with a trigger on accounts that
// writes users with the reverse expressions). After the rounds, users =
// down(accounts) must hold in every variant's database but raw-new-only's.
// The rows the groups write round-trip (down(up(old)) = old), so that the
// seed rows, filled as accounts = up(users), also satisfy users =
// down(accounts).

// bothDriverName is the SQLite wrapper of the reverse groups: the mapping
// of driverName, with a Switch in the write phase both.
const bothDriverName = driverName + "-both"

// reverseGroupNames and pgReverseGroupNames are the reverse groups on
// SQLite and on PostgreSQL (with -postgres).
var (
	reverseGroupNames   = []string{"reverse-insert", "reverse-update"}
	pgReverseGroupNames = []string{"pg-reverse-insert", "pg-reverse-update"}
)

// pgReverseVariants are the PostgreSQL reverse groups' variants: those of
// the forward groups, with the new table's statement alone, and without
// the fence, which checks accounts = up(users) at COMMIT: a reverse write
// passes it only when its row round-trips.
var pgReverseVariants = []pgVariant{
	{"dualwrite", 0},
	{"raw-new-only", 0},
	{"raw-2stmt-tx", 1.0},
	{"trigger", triggerTarget},
}

// sqliteReverseTrigger is the SQLite trigger variant's mirror, as
// trigger-based migration tools install it: after each row's INSERT,
// UPDATE or DELETE on accounts, upsert the users row with the mapping's
// reverse expressions (on NEW), or delete it.
var sqliteReverseTrigger = []string{
	`CREATE TRIGGER accounts_mirror_insert AFTER INSERT ON accounts BEGIN
  INSERT INTO users (id, full_name, email, visits)
  VALUES (NEW.account_id, trim(NEW.first_name || ' ' || NEW.last_name), NEW.email_address, NEW.visits)
  ON CONFLICT (id) DO UPDATE SET full_name = excluded.full_name, email = excluded.email, visits = excluded.visits;
END`,
	`CREATE TRIGGER accounts_mirror_update AFTER UPDATE ON accounts BEGIN
  DELETE FROM users WHERE id = OLD.account_id AND NEW.account_id IS NOT OLD.account_id;
  INSERT INTO users (id, full_name, email, visits)
  VALUES (NEW.account_id, trim(NEW.first_name || ' ' || NEW.last_name), NEW.email_address, NEW.visits)
  ON CONFLICT (id) DO UPDATE SET full_name = excluded.full_name, email = excluded.email, visits = excluded.visits;
END`,
	`CREATE TRIGGER accounts_mirror_delete AFTER DELETE ON accounts BEGIN
  DELETE FROM users WHERE id = OLD.account_id;
END`,
}

// The PostgreSQL trigger variant's mirror: qPgTriggerFunc and qPgTrigger
// the other way, a plpgsql function run after each row's write on
// accounts that upserts the users row with the PostgresMapping's reverse
// expressions (on NEW) or deletes it.
const (
	qPgReverseTriggerFunc = `CREATE FUNCTION accounts_mirror() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.account_id IS DISTINCT FROM OLD.account_id) THEN
    DELETE FROM users WHERE id = OLD.account_id;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO users (id, full_name, email, visits)
    VALUES (NEW.account_id, trim(NEW.first_name || ' ' || NEW.last_name), NEW.email_address, NEW.visits)
    ON CONFLICT (id) DO UPDATE SET full_name = excluded.full_name, email = excluded.email, visits = excluded.visits;
  END IF;
  RETURN NULL;
END
$$`
	qPgReverseTrigger = `CREATE TRIGGER accounts_mirror AFTER INSERT OR UPDATE OR DELETE ON accounts
FOR EACH ROW EXECUTE FUNCTION accounts_mirror()`
)

// seedReverseTrigger is seedWrites, then the SQLite trigger variant's
// triggers.
func seedReverseTrigger(tx *sql.Tx) error {
	if err := seedWrites(tx); err != nil {
		return err
	}
	for _, s := range sqliteReverseTrigger {
		if _, err := tx.Exec(s); err != nil {
			return err
		}
	}
	return nil
}

// account returns the new-table values of account id, as user(id) gives
// them, and the users.full_name that the mapping's reverse expression
// gives them, as an application that mirrors back by hand computes it.
func account(id int64) (email, first, last, fullName string) {
	_, email, first, last = user(id)
	return email, first, last, strings.Trim(first+" "+last, " ")
}

// reverseSpecs returns the SQLite reverse groups: the wrapper's variant
// runs ops[0], the accounts statement, as raw-new-only and trigger do.
func reverseSpecs(ctx context.Context) []writeSpec {
	variants := []string{"dualwrite", "raw-new-only", "raw-2stmt-tx", "trigger"}
	return []writeSpec{
		{"reverse-insert", "raw-2stmt-tx", 1.3, variants, []func(*sql.DB) func(int) error{
			func(db *sql.DB) func(int) error { // the accounts statement alone
				return func(i int) error {
					id := insertID(i)
					email, first, last, _ := account(id)
					return exec(ctx, db, qAccountInsert, id, email, first, last)
				}
			},
			func(db *sql.DB) func(int) error { // both statements by hand
				return func(i int) error {
					id := insertID(i)
					email, first, last, fullName := account(id)
					return inTx(ctx, db, []string{qAccountInsert, qUserInsert},
						[]any{id, email, first, last}, []any{id, fullName, email})
				}
			},
		}},
		{"reverse-update", "raw-2stmt-tx", 1.3, variants, []func(*sql.DB) func(int) error{
			func(db *sql.DB) func(int) error {
				return func(i int) error { return exec(ctx, db, qAccountUpdate, seedID(i)) }
			},
			func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := seedID(i)
					return inTx(ctx, db, []string{qAccountUpdate, qUserUpdate}, []any{id}, []any{id})
				}
			},
		}},
	}
}

// pgReverseSpecs returns the PostgreSQL reverse groups.
func pgReverseSpecs(ctx context.Context, m *mapping.Mapping) []pgGroupSpec {
	down := usersTable(m).Flip()
	trigger := []string{qPgReverseTriggerFunc, qPgReverseTrigger}
	return []pgGroupSpec{
		{
			name: "pg-reverse-insert", variants: pgReverseVariants, phase: mapping.WriteBoth, check: down, dir: "down", insert: true,
			trigger: trigger,
			alone: func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := insertID(i)
					email, first, last, _ := account(id)
					return exec(ctx, db, qPgAccountInsert, id, email, first, last)
				}
			},
			tx: func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := insertID(i)
					email, first, last, fullName := account(id)
					return inTx(ctx, db, []string{qPgAccountInsert, qPgUserInsert},
						[]any{id, email, first, last}, []any{id, fullName, email})
				}
			},
		},
		{
			name: "pg-reverse-update", variants: pgReverseVariants, phase: mapping.WriteBoth, check: down, dir: "down",
			trigger: trigger,
			alone: func(db *sql.DB) func(int) error {
				return func(i int) error { return exec(ctx, db, qPgAccountUpdate, seedID(i)) }
			},
			tx: func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := seedID(i)
					return inTx(ctx, db, []string{qPgAccountUpdate, qPgUserUpdate}, []any{id}, []any{id})
				}
			},
		},
	}
}
