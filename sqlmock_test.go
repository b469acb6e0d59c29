package dualwrite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/mapping"
)

// The statements the wrapper generates for the users -> accounts pair.
const (
	mockInsert  = "INSERT INTO users (id, full_name) VALUES (?, ?)"
	mockCapture = `INSERT INTO users (id, full_name) VALUES (?, ?) RETURNING "id"`
	mockResult  = "SELECT last_insert_rowid(), changes()"
	mockUpsert  = `INSERT INTO "accounts" ("account_id", "email_address", "first_name", "last_name", "visits") SELECT id, email, substr(full_name, 1, instr(full_name || ' ', ' ') - 1), ltrim(substr(full_name, instr(full_name || ' ', ' '))), visits FROM "users" WHERE "id" IN (?1) ON CONFLICT ("account_id") DO UPDATE SET "email_address" = excluded."email_address", "first_name" = excluded."first_name", "last_name" = excluded."last_name", "visits" = excluded."visits"`
)

var mockSeq int

// newMock opens go-sqlmock through dualwrite with the test mapping.
func newMock(t *testing.T) (*sql.DB, sqlmock.Sqlmock) {
	t.Helper()
	mockSeq++
	dsn := fmt.Sprintf("dualwrite_mock_%d", mockSeq)
	mockDB, mock, err := sqlmock.NewWithDSN(dsn, sqlmock.QueryMatcherOption(sqlmock.QueryMatcherEqual))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mockDB.Close() })
	m, err := mapping.Parse([]byte(corpus.Mapping))
	if err != nil {
		t.Fatal(err)
	}
	c, err := dualwrite.NewConnector(dbtest.Connector{DSN: dsn, Base: mockDB.Driver()}, m, dualwrite.WithoutSchemaCheck())
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	return db, mock
}

// expectMirroredInsert expects the statements of one dual INSERT, in a
// caller's transaction (a savepoint) or not (a transaction of its own). The
// wrapper runs each statement it generates without preparing it on its
// first use on a connection, prepares it on its second, and runs it
// prepared after: use says which use of the connection's this is.
func expectMirroredInsert(mock sqlmock.Sqlmock, use int, inTx bool) {
	exec := func(q string) *sqlmock.ExpectedExec {
		if use == 1 {
			return mock.ExpectPrepare(q).ExpectExec()
		}
		return mock.ExpectExec(q)
	}
	query := func(q string) *sqlmock.ExpectedQuery {
		if use == 1 {
			return mock.ExpectPrepare(q).ExpectQuery()
		}
		return mock.ExpectQuery(q)
	}
	begin, end := "BEGIN IMMEDIATE", "COMMIT"
	if inTx {
		begin, end = "SAVEPOINT dualwrite", "RELEASE dualwrite"
	}
	exec(begin).WillReturnResult(sqlmock.NewResult(0, 0))
	query(mockCapture).WithArgs(7, "Ada Lovelace").WillReturnRows(sqlmock.NewRows([]string{"id"}).AddRow(7))
	query(mockResult).WillReturnRows(sqlmock.NewRows([]string{"a", "b"}).AddRow(int64(7), int64(1)))
	exec(mockUpsert).WithArgs(7).WillReturnResult(sqlmock.NewResult(7, 1))
	exec(end).WillReturnResult(sqlmock.NewResult(0, 0))
}

func checkResult(t *testing.T, r sql.Result, id, n int64) {
	t.Helper()
	gotID, err1 := r.LastInsertId()
	gotN, err2 := r.RowsAffected()
	if err1 != nil || err2 != nil || gotID != id || gotN != n {
		t.Fatalf("result = (%d, %v), (%d, %v); want %d, %d", gotID, err1, gotN, err2, id, n)
	}
}

func TestMockAutocommitSequence(t *testing.T) {
	db, mock := newMock(t)
	db.SetMaxOpenConns(1)
	for use := range 3 {
		expectMirroredInsert(mock, use, false)
	}
	for range 3 {
		r, err := db.Exec(mockInsert, 7, "Ada Lovelace")
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, r, 7, 1)
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatal(err)
	}
}

func TestMockCallerTransactionSequence(t *testing.T) {
	db, mock := newMock(t)
	mock.ExpectBegin()
	expectMirroredInsert(mock, 0, true)
	mock.ExpectExec("UPDATE audit SET msg = ?").WithArgs("x").WillReturnResult(sqlmock.NewResult(0, 3))
	mock.ExpectCommit()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(mockInsert, 7, "Ada Lovelace"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("UPDATE audit SET msg = ?", "x"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatal(err)
	}
}

func TestMockPreparedSequence(t *testing.T) {
	db, mock := newMock(t)
	mock.ExpectPrepare(mockInsert)
	for use := range 3 {
		expectMirroredInsert(mock, use, false)
	}
	s, err := db.Prepare(mockInsert)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 3 {
		r, err := s.Exec(7, "Ada Lovelace")
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, r, 7, 1)
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatal(err)
	}
}

func TestMockMirrorFailureRollsBack(t *testing.T) {
	db, mock := newMock(t)
	boom := errors.New("boom: no such column")
	mock.ExpectExec("BEGIN IMMEDIATE").WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectQuery(mockCapture).WithArgs(7, "Ada Lovelace").WillReturnRows(sqlmock.NewRows([]string{"id"}).AddRow(7))
	mock.ExpectQuery(mockResult).WillReturnRows(sqlmock.NewRows([]string{"a", "b"}).AddRow(int64(7), int64(1)))
	mock.ExpectExec(mockUpsert).WithArgs(7).WillReturnError(boom)
	mock.ExpectExec("ROLLBACK").WillReturnResult(sqlmock.NewResult(0, 0))
	_, err := db.ExecContext(context.Background(), mockInsert, 7, "Ada Lovelace")
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the mirror's error", err)
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatal(err)
	}
}

func TestMockUnmappedPassesThrough(t *testing.T) {
	db, mock := newMock(t)
	mock.ExpectExec("INSERT INTO audit (msg) VALUES (?)").WithArgs("hi").WillReturnResult(sqlmock.NewResult(3, 1))
	r, err := db.Exec("INSERT INTO audit (msg) VALUES (?)", "hi")
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r, 3, 1)
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatal(err)
	}
}
