package corpus

// Mapping is the mapping of the tests and the benchmark program: users ->
// accounts (a key, a split name), memberships -> members (a composite key).
const Mapping = `
dialect: sqlite
phases:
  write: dual
tables:
  - old: users
    new: accounts
    key: [id]
    columns:
      account_id: id
      email_address: email
      first_name: "substr(full_name, 1, instr(full_name || ' ', ' ') - 1)"
      last_name: "ltrim(substr(full_name, instr(full_name || ' ', ' ')))"
      visits: visits
    reverse:
      id: account_id
      full_name: "trim(first_name || ' ' || last_name)"
      email: email_address
      visits: visits
  - old: memberships
    new: members
    key: [org_id, user_id]
    columns:
      org: org_id
      usr: user_id
      role_name: upper(role)
    reverse:
      org_id: org
      user_id: usr
      role: lower(role_name)
`

// Schema is the SQLite schema Mapping maps, one statement per element; audit
// is not mapped. accounts.email_address is unique, as users.email is, so
// that the tests write through a unique non-key column on both sides.
var Schema = append(BenchSchema[:len(BenchSchema):len(BenchSchema)],
	`CREATE UNIQUE INDEX accounts_email_address ON accounts (email_address)`)

// BenchSchema is Schema without the unique index on
// accounts.email_address: the tables of the benchmark program, whose
// figures have been measured on them from the start (a unique index that
// the mirror's upsert rewrites and a hand-coded UPDATE of one column does
// not is measured apart; docs/benchmarks.md).
var BenchSchema = []string{
	`CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL DEFAULT 'Anon Ymous', email TEXT UNIQUE, visits INTEGER NOT NULL DEFAULT 0)`,
	`CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, last_name TEXT, visits INTEGER NOT NULL DEFAULT 0)`,
	`CREATE TABLE memberships (org_id INTEGER NOT NULL, user_id INTEGER NOT NULL, role TEXT, PRIMARY KEY (org_id, user_id))`,
	`CREATE TABLE members (org INTEGER NOT NULL, usr INTEGER NOT NULL, role_name TEXT, PRIMARY KEY (org, usr))`,
	`CREATE TABLE audit (id INTEGER PRIMARY KEY, msg TEXT)`,
}

// ReverseBenchSchema is BenchSchema read the other way, for the benchmark
// program's groups of the write phase both, whose writes go to accounts
// and are mirrored into users: the unique index on email is on the
// caller's table (accounts.email_address) and not on the mirror's
// (users.email), as in BenchSchema it is on users.email and not on
// accounts.email_address.
var ReverseBenchSchema = []string{
	`CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL DEFAULT 'Anon Ymous', email TEXT, visits INTEGER NOT NULL DEFAULT 0)`,
	`CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT UNIQUE, first_name TEXT, last_name TEXT, visits INTEGER NOT NULL DEFAULT 0)`,
	BenchSchema[2], BenchSchema[3], BenchSchema[4],
}

// PostgresMapping is Mapping with PostgreSQL expressions.
const PostgresMapping = `
dialect: postgres
tables:
  - old: users
    new: accounts
    key: [id]
    columns:
      account_id: id
      email_address: email
      first_name: "split_part(full_name, ' ', 1)"
      last_name: "substr(full_name, length(split_part(full_name, ' ', 1)) + 2)"
      visits: visits
    reverse:
      id: account_id
      full_name: "trim(first_name || ' ' || last_name)"
      email: email_address
      visits: visits
  - old: memberships
    new: members
    key: [org_id, user_id]
    columns:
      org: org_id
      usr: user_id
      role_name: upper(role)
    reverse:
      org_id: org
      user_id: usr
      role: lower(role_name)
`

// PostgresSchema is Schema in PostgreSQL; memberships names its primary key
// constraint, for ON CONFLICT ON CONSTRAINT.
var PostgresSchema = append(PostgresBenchSchema[:len(PostgresBenchSchema):len(PostgresBenchSchema)],
	`CREATE UNIQUE INDEX accounts_email_address ON accounts (email_address)`)

// PostgresReverseBenchSchema is ReverseBenchSchema in PostgreSQL.
var PostgresReverseBenchSchema = []string{
	`CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL DEFAULT 'Anon Ymous', email text, visits int NOT NULL DEFAULT 0)`,
	`CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address text UNIQUE, first_name text, last_name text, visits int NOT NULL DEFAULT 0)`,
	PostgresBenchSchema[2], PostgresBenchSchema[3], PostgresBenchSchema[4],
}

// PostgresBenchSchema is BenchSchema in PostgreSQL.
var PostgresBenchSchema = []string{
	`CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL DEFAULT 'Anon Ymous', email text UNIQUE, visits int NOT NULL DEFAULT 0)`,
	`CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address text, first_name text, last_name text, visits int NOT NULL DEFAULT 0)`,
	`CREATE TABLE memberships (org_id int NOT NULL, user_id int NOT NULL, role text, CONSTRAINT memberships_pk PRIMARY KEY (org_id, user_id))`,
	`CREATE TABLE members (org int NOT NULL, usr int NOT NULL, role_name text, PRIMARY KEY (org, usr))`,
	`CREATE TABLE audit (id int PRIMARY KEY, msg text)`,
}

// MySQLMapping is Mapping with MySQL expressions (CONCAT: || is OR
// unless sql_mode has PIPES_AS_CONCAT).
const MySQLMapping = `
dialect: mysql
tables:
  - old: users
    new: accounts
    key: [id]
    columns:
      account_id: id
      email_address: email
      first_name: "SUBSTRING_INDEX(full_name, ' ', 1)"
      last_name: "SUBSTRING(full_name, CHAR_LENGTH(SUBSTRING_INDEX(full_name, ' ', 1)) + 2)"
      visits: visits
    reverse:
      id: account_id
      full_name: "TRIM(CONCAT(first_name, ' ', last_name))"
      email: email_address
      visits: visits
  - old: memberships
    new: members
    key: [org_id, user_id]
    columns:
      org: org_id
      usr: user_id
      role_name: UPPER(role)
    reverse:
      org_id: org
      user_id: usr
      role: LOWER(role_name)
`

// MySQLSchema is Schema in MySQL and MariaDB: users.id is AUTO_INCREMENT,
// as an application's key usually is there.
var MySQLSchema = append(MySQLBenchSchema[:len(MySQLBenchSchema):len(MySQLBenchSchema)],
	`CREATE UNIQUE INDEX accounts_email_address ON accounts (email_address)`)

// MySQLBenchSchema is BenchSchema in MySQL and MariaDB.
var MySQLBenchSchema = []string{
	`CREATE TABLE users (id BIGINT AUTO_INCREMENT PRIMARY KEY, full_name VARCHAR(200) NOT NULL DEFAULT 'Anon Ymous', email VARCHAR(200) UNIQUE, visits INT NOT NULL DEFAULT 0) ENGINE=InnoDB`,
	`CREATE TABLE accounts (account_id BIGINT PRIMARY KEY, email_address VARCHAR(200), first_name VARCHAR(200), last_name VARCHAR(200), visits INT NOT NULL DEFAULT 0) ENGINE=InnoDB`,
	`CREATE TABLE memberships (org_id INT NOT NULL, user_id INT NOT NULL, role VARCHAR(50), PRIMARY KEY (org_id, user_id)) ENGINE=InnoDB`,
	`CREATE TABLE members (org INT NOT NULL, usr INT NOT NULL, role_name VARCHAR(50), PRIMARY KEY (org, usr)) ENGINE=InnoDB`,
	`CREATE TABLE audit (id INT PRIMARY KEY, msg TEXT) ENGINE=InnoDB`,
}
