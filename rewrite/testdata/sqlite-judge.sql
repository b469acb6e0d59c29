# Corpus of TestRegressSQLite (regress_sqlite_test.go).
#
# Entries are separated by blank lines; lines starting with # are left out.
# The entries before the line "#statements" are the schema, run in order on
# the judge's database; those after it are the statements judged and
# planned. A statement whose text starts with "-- invalid" is one SQLite
# must refuse to compile (the planner still must not panic on it).

CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, parent_id INTEGER REFERENCES orgs (id) ON DELETE CASCADE)

CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE, name TEXT, visits INTEGER NOT NULL DEFAULT 0,
  org_id INTEGER REFERENCES orgs (id) ON DELETE SET NULL)

CREATE INDEX users_name ON users (name)

CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE ON UPDATE CASCADE, title TEXT, body TEXT)

CREATE TABLE tags (post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE, tag TEXT NOT NULL,
  PRIMARY KEY (post_id, tag)) WITHOUT ROWID

CREATE TABLE "Order Items" ("order id" INTEGER NOT NULL, "line no" INTEGER NOT NULL, sku TEXT, qty INTEGER,
  PRIMARY KEY ("order id", "line no"))

CREATE TABLE kv (k TEXT NOT NULL PRIMARY KEY, v BLOB) WITHOUT ROWID

CREATE TABLE counters (name TEXT NOT NULL PRIMARY KEY ON CONFLICT REPLACE, n INTEGER)

CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, user_id INTEGER, at TEXT)

CREATE UNIQUE INDEX events_kind_at ON events (kind, at)

CREATE TABLE audit (what TEXT, at TEXT)

CREATE TABLE inbox (id INTEGER PRIMARY KEY, payload TEXT)

CREATE TABLE sessions (token TEXT NOT NULL PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE, expires INTEGER)

CREATE TABLE profiles (user_id INTEGER NOT NULL PRIMARY KEY REFERENCES users (id) ON UPDATE CASCADE ON DELETE SET DEFAULT,
  bio TEXT, shout TEXT GENERATED ALWAYS AS (upper(bio)) VIRTUAL)

CREATE TABLE Mixed (Id INTEGER PRIMARY KEY, Val TEXT)

CREATE TABLE [select] (id INTEGER PRIMARY KEY, "from" TEXT)

CREATE TABLE stage (id INTEGER PRIMARY KEY, email TEXT, name TEXT)

CREATE VIEW active_users AS SELECT id, email, name FROM users WHERE visits > 0

CREATE VIEW user_posts AS SELECT u.id AS uid, p.id AS pid, p.title FROM users u JOIN posts p ON p.user_id = u.id

CREATE TRIGGER active_users_ins INSTEAD OF INSERT ON active_users
BEGIN
  INSERT INTO users (id, email, name, visits) VALUES (new.id, new.email, new.name, 1);
END

CREATE TRIGGER active_users_del INSTEAD OF DELETE ON active_users
BEGIN
  DELETE FROM [users] WHERE id = old.id;
END

CREATE TRIGGER active_users_upd INSTEAD OF UPDATE OF email ON active_users
BEGIN
  UPDATE "USERS" SET email = new.email WHERE id = old.id;
END

CREATE TRIGGER inbox_route AFTER INSERT ON inbox WHEN new.payload LIKE 'user:%'
BEGIN
  INSERT OR REPLACE INTO `users` (id, email) VALUES (new.id, substr(new.payload, 6));
END

CREATE TRIGGER events_touch BEFORE INSERT ON events
BEGIN
  UPDATE users SET visits = visits + 1 WHERE id = new.user_id;
END

CREATE TRIGGER stage_del AFTER DELETE ON stage
BEGIN
  INSERT INTO audit VALUES ('stage', datetime());
END

CREATE TRIGGER audit_chain AFTER INSERT ON audit WHEN new.what = 'stage'
BEGIN
  DELETE FROM kv WHERE k = new.what;
END

CREATE TRIGGER users_audit AFTER UPDATE ON users
BEGIN
  INSERT INTO audit VALUES ('users', datetime());
END

CREATE TRIGGER mixed_upd AFTER UPDATE OF Val ON Mixed
BEGIN
  INSERT INTO "Order Items" VALUES (new.Id, 1, new.Val, 0) ON CONFLICT DO NOTHING;
END

CREATE TRIGGER user_posts_del INSTEAD OF DELETE ON user_posts
BEGIN
  SELECT 1;
  DELETE FROM/**/tags WHERE post_id = old.pid;
END

CREATE TEMP TABLE scratch (id INTEGER PRIMARY KEY, note TEXT)

CREATE TEMP TRIGGER scratch_push AFTER INSERT ON scratch
BEGIN
  UPDATE orgs SET name = new.note WHERE id = new.id;
END

CREATE TEMP TRIGGER kv_watch AFTER DELETE ON main.kv
BEGIN
  DELETE FROM "select" WHERE "from" = old.k;
END

ATTACH DATABASE ':memory:' AS aux

CREATE TABLE aux.users (id INTEGER PRIMARY KEY, email TEXT)

CREATE TABLE aux.archive (id INTEGER PRIMARY KEY, payload TEXT)

CREATE TABLE codes (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE ON CONFLICT REPLACE)

CREATE TABLE code_uses (id INTEGER PRIMARY KEY, code_id INTEGER REFERENCES codes (id) ON DELETE CASCADE, used_at TEXT)

CREATE TABLE "users.archive" (id INTEGER PRIMARY KEY, email TEXT)

CREATE TABLE "Ünï" (id INTEGER PRIMARY KEY, v TEXT)

CREATE TABLE "where" ("order" INTEGER NOT NULL PRIMARY KEY, "group" TEXT)

CREATE TRIGGER "odd trigger" AFTER DELETE ON "Order Items" FOR EACH ROW WHEN old.qty > 0
BEGIN
  SELECT CASE WHEN old.qty > 10 THEN RAISE(IGNORE) END;
  UPDATE [Mixed] SET Val = 'gone; really' WHERE Id = old."order id";
END

CREATE TRIGGER where_ins AFTER INSERT ON "where"
BEGIN
  INSERT INTO "users.archive" (id) VALUES (new."order");
  REPLACE INTO codes (id, code) VALUES (new."order", new."group");
END

CREATE TRIGGER archive_upd BEFORE UPDATE OF email ON "users.archive" FOR EACH ROW
BEGIN
  INSERT INTO code_uses (code_id, used_at) SELECT id, 'x' FROM codes WHERE code = new.email ON CONFLICT DO NOTHING;
END

ATTACH DATABASE ':memory:' AS kv

CREATE TABLE kv.kv (k PRIMARY KEY, v)

CREATE TABLE kv.users (id INTEGER PRIMARY KEY)

CREATE TABLE shipments (id INTEGER PRIMARY KEY, oid INTEGER, line INTEGER,
  FOREIGN KEY (oid, line) REFERENCES "Order Items" ("order id", "line no")
    ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED)

CREATE TABLE feed (id INTEGER PRIMARY KEY, body TEXT)

CREATE TRIGGER feed_ins AFTER INSERT ON feed FOR EACH ROW WHEN EXISTS (SELECT 1 FROM users)
BEGIN
  INSERT INTO active_users (id, email, name) VALUES (new.id, new.body, NULL);
END

#statements
# INSERT
INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'Ada')

INSERT INTO users (id, email) VALUES (?, ?)

INSERT INTO users (id, email) VALUES (?1, ?2), (?3, ?4)

INSERT INTO users (id, email) VALUES (:id, :email)

INSERT INTO users (id, email) VALUES (@id, $email)

INSERT INTO users DEFAULT VALUES

INSERT INTO users VALUES (2, 'b@x', 'Bob', 0, NULL)

INSERT INTO users SELECT id, email, name, 0, NULL FROM stage

INSERT INTO users (id, email) SELECT id, email FROM stage WHERE email NOT IN (SELECT email FROM users)

INSERT INTO "users" (id) VALUES (3)

INSERT INTO [users] (id) VALUES (4)

INSERT INTO `users` (id) VALUES (5)

INSERT INTO 'users' (id) VALUES (6)

INSERT INTO main.users (id) VALUES (7)

INSERT INTO "main"."users" (id) VALUES (8)

INSERT INTO [main].[users] (id) VALUES (9)

INSERT INTO main . users (id) VALUES (10)

INSERT INTO USERS (ID) VALUES (11)

INSERT INTO "Users" ("Id") VALUES (12)

INSERT /* a comment */ INTO /* another */ users /* here */ (id) VALUES (13)

INSERT -- line comment
INTO -- another
users (id) VALUES (14)

INSERT INTO users AS u (id, email) VALUES (15, 'c@x')

INSERT INTO users (id, email) VALUES (16, 'd@x') RETURNING *

INSERT INTO users (id, email) VALUES (17, 'e@x') RETURNING id AS "users", email || 'users'

INSERT INTO users (id) VALUES ((SELECT max(id) + 1 FROM users))

INSERT INTO users (id, name) VALUES (18, 'INSERT INTO orgs VALUES (1)')

INSERT INTO users (id, name) VALUES (19, 'it''s; DELETE FROM orgs')

INSERT OR IGNORE INTO users (id, email) VALUES (20, 'a@x')

INSERT OR REPLACE INTO users (id, email) VALUES (21, 'a@x')

INSERT OR ABORT INTO users (id) VALUES (22)

INSERT OR FAIL INTO users (id) VALUES (23)

INSERT OR ROLLBACK INTO users (id) VALUES (24)

REPLACE INTO users (id, email) VALUES (25, 'f@x')

REPLACE INTO main.users SELECT id, email, name, 0, NULL FROM stage

INSERT INTO users (id, email) VALUES (26, 'g@x') ON CONFLICT DO NOTHING

INSERT INTO users (id, email) VALUES (27, 'h@x') ON CONFLICT (id) DO NOTHING

INSERT INTO users (id, email) VALUES (28, 'i@x') ON CONFLICT (email) DO UPDATE SET name = excluded.name

INSERT INTO users (id, email) VALUES (29, 'j@x') ON CONFLICT (id) DO UPDATE SET visits = visits + 1 WHERE excluded.email IS NOT NULL

INSERT INTO users (id, email) VALUES (30, 'k@x') ON CONFLICT (email) DO UPDATE SET visits = 0 ON CONFLICT (id) DO NOTHING

INSERT INTO users (id, email) VALUES (31, 'l@x') ON CONFLICT (email) DO NOTHING ON CONFLICT DO UPDATE SET name = 'dup'

INSERT INTO users (id, email) VALUES (32, 'm@x') ON CONFLICT (id) DO UPDATE SET id = excluded.id + 1000

INSERT INTO users (id, email) VALUES (33, 'n@x') ON CONFLICT (id) DO UPDATE SET (name, visits) = (excluded.name, 1) RETURNING id

INSERT INTO users (id, email) SELECT id, email FROM stage WHERE true ON CONFLICT (id) DO UPDATE SET email = excluded.email

INSERT INTO users AS u (id, visits) VALUES (34, 1) ON CONFLICT (id) DO UPDATE SET visits = u.visits + excluded.visits

WITH s AS (SELECT id, email FROM stage) INSERT INTO users (id, email) SELECT id, email FROM s

WITH RECURSIVE seq(n) AS (SELECT 100 UNION ALL SELECT n + 1 FROM seq WHERE n < 110) INSERT INTO users (id) SELECT n FROM seq

WITH users AS (SELECT 1 AS id) INSERT INTO stage (id) SELECT id FROM users

WITH x AS (SELECT 1) INSERT OR REPLACE INTO users (id) VALUES (35)

WITH x AS MATERIALIZED (SELECT id FROM orgs) REPLACE INTO users (id) SELECT id FROM x

INSERT INTO users (id, email) VALUES (36, 'o@x');

INSERT INTO users (id) SELECT value FROM json_each('[37, 38]')

INSERT INTO users (id) SELECT id FROM aux.users

INSERT INTO users (id) VALUES (39) RETURNING (SELECT count(*) FROM orgs)

INSERT INTO orgs (id, name) VALUES (1, 'one')

INSERT INTO orgs (id, name) SELECT id, email FROM users

INSERT OR REPLACE INTO orgs (id, name) VALUES (1, 'uno')

REPLACE INTO orgs VALUES (2, 'two', 1)

INSERT INTO orgs (id, name) VALUES (3, 'three') ON CONFLICT (name) DO UPDATE SET parent_id = NULL

INSERT INTO posts (user_id, title) VALUES (1, 'hello')

INSERT INTO posts (user_id, title) SELECT id, name FROM users WHERE visits > 3

REPLACE INTO posts (id, user_id, title) VALUES (1, 1, 'again')

INSERT INTO tags VALUES (1, 'go')

INSERT OR REPLACE INTO tags (post_id, tag) VALUES (1, 'sql')

INSERT INTO tags (post_id, tag) VALUES (1, 'x') ON CONFLICT (post_id, tag) DO NOTHING

INSERT INTO "Order Items" VALUES (1, 1, 'sku', 2)

INSERT INTO [Order Items] ("order id", "line no") VALUES (1, 2)

INSERT INTO `Order Items` ("order id", "line no", qty) VALUES (1, 3, 1) ON CONFLICT ("order id", "line no") DO UPDATE SET qty = qty + 1

INSERT INTO "order items" ("order id", "line no") VALUES (1, 4)

INSERT INTO kv VALUES ('a', x'01')

INSERT INTO kv (k, v) VALUES ('a', 'b') ON CONFLICT (k) DO UPDATE SET v = excluded.v

REPLACE INTO kv VALUES ('a', NULL)

INSERT INTO counters VALUES ('hits', 1)

INSERT INTO counters (name, n) SELECT 'hits', coalesce(max(n), 0) + 1 FROM counters

INSERT INTO events (kind, user_id, at) VALUES ('login', 1, datetime())

INSERT OR IGNORE INTO events (kind, user_id, at) VALUES ('login', ?, ?)

INSERT INTO audit VALUES ('x', 'y')

INSERT INTO inbox (payload) VALUES ('user:z@x')

INSERT INTO inbox (id, payload) VALUES (1, 'other')

INSERT INTO sessions VALUES ('t1', 1, 0)

INSERT INTO profiles (user_id, bio) VALUES (1, 'hi')

INSERT INTO Mixed VALUES (1, 'v')

INSERT INTO mixed (id, val) VALUES (2, 'w')

INSERT INTO [select] VALUES (1, 'a')

INSERT INTO "select" ("from") VALUES ('b')

INSERT INTO stage (id, email) SELECT id, email FROM users

INSERT INTO active_users (id, email, name) VALUES (50, 'v@x', 'View')

INSERT INTO scratch (note) VALUES ('n')

INSERT INTO temp.scratch (id, note) VALUES (1, 'org')

INSERT INTO aux.users (id) VALUES (1)

INSERT INTO aux.users SELECT id, email FROM main.users

INSERT INTO aux.archive (payload) SELECT email FROM users

# UPDATE
UPDATE users SET visits = visits + 1 WHERE id = ?

UPDATE users SET name = 'x'

UPDATE users SET email = lower(email) WHERE email <> lower(email) RETURNING id, email

UPDATE users SET id = id + 1000 WHERE id < 10

UPDATE users SET (name, email) = ('n', 'e') WHERE id = 1

UPDATE users SET (id, name) = (SELECT id + 1, email FROM stage WHERE stage.id = users.id)

UPDATE "users" SET visits = 0

UPDATE [users] SET visits = 0 WHERE id IN (SELECT user_id FROM events)

UPDATE `users` SET visits = 1

UPDATE 'users' SET visits = 2

UPDATE main.users SET visits = 3

UPDATE "main".users SET visits = 4

UPDATE USERS SET VISITS = 5

UPDATE /* c */ users /* d */ SET visits = 6

UPDATE users AS u SET visits = u.visits * 2 WHERE u.id > 3

UPDATE users INDEXED BY users_name SET visits = 0 WHERE name = 'a'

UPDATE users NOT INDEXED SET visits = 0 WHERE name = 'a'

UPDATE OR IGNORE users SET email = 'same@x'

UPDATE OR REPLACE users SET email = 'same@x' WHERE id = 1

UPDATE OR ABORT users SET visits = 1

UPDATE OR FAIL users SET visits = 1

UPDATE OR ROLLBACK users SET visits = 1

UPDATE users SET name = s.name FROM stage AS s WHERE s.id = users.id

UPDATE users SET visits = c.n FROM (SELECT user_id, count(*) AS n FROM events GROUP BY user_id) AS c WHERE c.user_id = users.id

UPDATE users AS u SET email = s.email FROM stage s JOIN orgs o ON o.id = s.id WHERE s.id = u.id RETURNING id

UPDATE stage SET name = u.name FROM users u WHERE u.id = stage.id

UPDATE users SET id = s.id + 500 FROM stage s WHERE s.email = users.email

WITH s AS (SELECT id FROM stage) UPDATE users SET visits = 0 WHERE id IN (SELECT id FROM s)

WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) UPDATE users SET visits = visits + 1 WHERE id IN r

WITH users AS (SELECT 1 AS id) UPDATE stage SET name = 'x' WHERE id IN (SELECT id FROM users)

WITH x AS (SELECT 1 AS id) UPDATE users SET id = 7 WHERE id IN x

UPDATE users SET visits = (SELECT count(*) FROM posts WHERE posts.user_id = users.id)

UPDATE users SET org_id = NULL WHERE org_id NOT IN (SELECT id FROM orgs)

UPDATE users SET rowid = rowid + 1 WHERE id = 1

UPDATE users SET _rowid_ = 5 WHERE id = 2

UPDATE users SET name = 'x' WHERE id = 1;

UPDATE users SET name = (SELECT group_concat(tag) FROM tags) WHERE id = 1

UPDATE orgs SET id = id + 1 WHERE id = 1

UPDATE orgs SET name = 'n' WHERE id = 2

UPDATE posts SET user_id = 2 WHERE id = 1

UPDATE posts SET title = upper(title)

UPDATE tags SET tag = 'y' WHERE tag = 'x'

UPDATE "Order Items" SET qty = qty + 1 WHERE "order id" = 1

UPDATE [Order Items] SET "line no" = "line no" + 1

UPDATE kv SET v = NULL WHERE k = 'a'

UPDATE kv SET k = k || '!' WHERE k = 'a'

UPDATE counters SET n = n + 1 WHERE name = 'hits'

UPDATE events SET at = datetime() WHERE id = 1

UPDATE sessions SET expires = 0

UPDATE profiles SET bio = 'x' WHERE user_id = 1

UPDATE Mixed SET Val = 'z'

UPDATE mixed SET id = 3 WHERE id = 1

UPDATE [select] SET "from" = 'to'

UPDATE stage SET email = 'e'

UPDATE active_users SET email = 'v@y' WHERE id = 50

UPDATE scratch SET note = 'm'

UPDATE aux.users SET email = 'aux'

UPDATE users SET email = (SELECT email FROM aux.users WHERE aux.users.id = users.id)

UPDATE inbox SET payload = 'user:' || payload

UPDATE users SET visits = 1 WHERE id = 1 RETURNING *

UPDATE users SET name = 'x' WHERE id = ? AND email = :e AND visits > @v AND name <> $n

# DELETE
DELETE FROM users

DELETE FROM users WHERE id = ?

DELETE FROM users WHERE id IN (SELECT id FROM stage)

DELETE FROM users RETURNING id

DELETE FROM users WHERE visits = 0 RETURNING *

DELETE FROM "users" WHERE id = 1

DELETE FROM [users] WHERE id = 1

DELETE FROM `users` WHERE id = 1

DELETE FROM 'users' WHERE id = 1

DELETE FROM main.users WHERE id = 1

DELETE FROM Main.Users

DELETE FROM users AS u WHERE u.id = 1

DELETE FROM users INDEXED BY users_name WHERE name = 'x'

DELETE FROM users NOT INDEXED WHERE name = 'x'

DELETE /**/ FROM/**/users/**/WHERE id = 1

WITH s AS (SELECT id FROM stage) DELETE FROM users WHERE id IN s

WITH RECURSIVE chain(id) AS (SELECT 1 UNION SELECT o.id FROM orgs o JOIN chain c ON o.parent_id = c.id) DELETE FROM users WHERE org_id IN chain

WITH users AS (SELECT 1 AS id) DELETE FROM stage WHERE id IN users

DELETE FROM users WHERE EXISTS (SELECT 1 FROM events e WHERE e.user_id = users.id)

DELETE FROM users WHERE id = 1;

DELETE FROM orgs

DELETE FROM orgs WHERE id = 1

DELETE FROM posts WHERE id = 1

DELETE FROM posts

DELETE FROM tags WHERE post_id = 1

DELETE FROM "Order Items" WHERE "order id" = 1

DELETE FROM kv WHERE k = 'a'

DELETE FROM kv

DELETE FROM counters

DELETE FROM events WHERE id = 1

DELETE FROM audit

DELETE FROM inbox

DELETE FROM sessions WHERE expires < 1

DELETE FROM profiles WHERE user_id = 1

DELETE FROM Mixed

DELETE FROM [select]

DELETE FROM stage

DELETE FROM stage WHERE id = 1

DELETE FROM active_users WHERE id = 1

DELETE FROM user_posts WHERE pid = 1

DELETE FROM scratch

DELETE FROM temp.scratch WHERE id = 1

DELETE FROM aux.users

DELETE FROM aux.users WHERE id IN (SELECT id FROM main.users)

DELETE FROM users WHERE id IN (SELECT id FROM aux.users)

-- invalid: UPDATE ... LIMIT needs SQLITE_ENABLE_UPDATE_DELETE_LIMIT
UPDATE users SET visits = 0 ORDER BY id LIMIT 1

-- invalid: DELETE ... LIMIT needs SQLITE_ENABLE_UPDATE_DELETE_LIMIT
DELETE FROM users ORDER BY id DESC LIMIT 2 OFFSET 1

# Reads
SELECT * FROM users

SELECT id, email FROM users WHERE id = ?

SELECT u.*, o.name FROM users u LEFT JOIN orgs o ON o.id = u.org_id

SELECT * FROM users NATURAL JOIN stage

SELECT * FROM users CROSS JOIN orgs

SELECT * FROM users u RIGHT JOIN orgs o ON o.id = u.org_id

SELECT * FROM users FULL OUTER JOIN stage USING (id)

SELECT id FROM users UNION SELECT id FROM stage

SELECT id FROM users UNION ALL SELECT id FROM orgs EXCEPT SELECT post_id FROM tags INTERSECT SELECT id FROM events

SELECT id, row_number() OVER (PARTITION BY org_id ORDER BY visits DESC) FROM users

SELECT id, sum(visits) OVER w FROM users WINDOW w AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)

SELECT count(*) FILTER (WHERE visits > 0) FROM users

VALUES (1, 'users'), (2, 'orgs')

SELECT * FROM (VALUES (1), (2)) AS v JOIN users ON users.id = v.column1

WITH RECURSIVE tree(id, depth) AS (SELECT id, 0 FROM orgs WHERE parent_id IS NULL UNION ALL SELECT o.id, depth + 1 FROM orgs o JOIN tree t ON o.parent_id = t.id) SELECT * FROM tree

WITH u AS NOT MATERIALIZED (SELECT * FROM users) SELECT * FROM u

SELECT * FROM "users"

SELECT * FROM [users]

SELECT * FROM `users`

SELECT * FROM main.users

SELECT * FROM temp.scratch

SELECT * FROM aux.users

SELECT 'DELETE FROM users'

SELECT * FROM users WHERE name = 'UPDATE users SET id = 1'

SELECT (SELECT count(*) FROM posts p WHERE p.user_id = u.id) FROM users u

SELECT * FROM users WHERE id IN (SELECT user_id FROM sessions) ORDER BY id LIMIT 10 OFFSET 5

SELECT * FROM active_users

SELECT * FROM user_posts

SELECT * FROM users INDEXED BY users_name WHERE name > 'a'

SELECT * FROM json_each((SELECT json_group_array(id) FROM users))

SELECT * FROM pragma_table_info('users')

SELECT name FROM sqlite_schema WHERE tbl_name = 'users'

SELECT * FROM "Order Items" JOIN kv ON kv.k = "Order Items".sku

SELECT * FROM [select]

SELECT * FROM Mixed, counters, profiles, events, audit, inbox

SELECT * FROM users WHERE id = 1 -- DELETE FROM users

SELECT * FROM users /* ; DELETE FROM users */ WHERE id = 2

SELECT DISTINCT org_id FROM users GROUP BY org_id HAVING count(*) > 1

SELECT * FROM users u WHERE EXISTS (SELECT 1 FROM posts p WHERE p.user_id = u.id AND p.title LIKE ? ESCAPE '\')

SELECT max(id) FROM users

SELECT CASE WHEN EXISTS (SELECT 1 FROM users) THEN 1 ELSE 0 END

SELECT * FROM users LIMIT -1

EXPLAIN DELETE FROM users

EXPLAIN QUERY PLAN UPDATE users SET visits = 0

EXPLAIN QUERY PLAN SELECT * FROM users JOIN orgs ON orgs.id = users.org_id

EXPLAIN SELECT 1

explain insert into users (id) values (1)

# Schema changes
CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY)

-- invalid: users exists
CREATE TABLE users (id INTEGER PRIMARY KEY)

CREATE TABLE users_copy AS SELECT * FROM users

CREATE TABLE IF NOT EXISTS archive AS SELECT * FROM users WHERE visits = 0

CREATE TABLE child (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id) ON DELETE CASCADE)

CREATE TABLE parent_of_users (id INTEGER PRIMARY KEY)

CREATE TEMP TABLE t_users AS SELECT * FROM users

CREATE TEMP TABLE users (id INTEGER PRIMARY KEY)

CREATE TABLE temp.orgs_copy (id)

CREATE TABLE aux.users2 AS SELECT * FROM main.users

CREATE INDEX users_visits ON users (visits)

CREATE UNIQUE INDEX IF NOT EXISTS users_email_name ON users (email, name)

CREATE INDEX orgs_parent ON orgs (parent_id) WHERE parent_id IS NOT NULL

CREATE INDEX "Order Items sku" ON "Order Items" (sku)

CREATE INDEX kv_v ON kv (v)

CREATE VIEW users_v AS SELECT * FROM users

CREATE TEMP VIEW users_tv AS SELECT id FROM users

-- invalid: orgs exists
CREATE VIEW orgs AS SELECT 1

CREATE TRIGGER stage_ins AFTER INSERT ON stage BEGIN INSERT INTO users (id) VALUES (new.id); END

CREATE TRIGGER IF NOT EXISTS users_ins BEFORE INSERT ON users BEGIN SELECT RAISE(ABORT, 'no'); END

CREATE TEMP TRIGGER stage_tmp AFTER UPDATE ON stage BEGIN DELETE FROM users WHERE id = old.id; END

CREATE TRIGGER main.orgs_upd AFTER UPDATE ON orgs BEGIN UPDATE users SET visits = 0 WHERE org_id = new.id; END

CREATE VIRTUAL TABLE vt USING json_each

DROP TABLE users

DROP TABLE IF EXISTS users

DROP TABLE main.users

DROP TABLE stage

DROP TABLE orgs

DROP TABLE posts

DROP TABLE tags

DROP TABLE kv

DROP TABLE "Order Items"

DROP TABLE scratch

DROP TABLE aux.users

DROP TABLE IF EXISTS nothing_here

DROP INDEX users_name

DROP INDEX IF EXISTS events_kind_at

DROP VIEW active_users

DROP VIEW user_posts

DROP TRIGGER events_touch

DROP TRIGGER IF EXISTS users_audit

DROP TRIGGER temp.kv_watch

ALTER TABLE users ADD COLUMN nick TEXT

ALTER TABLE users ADD nick TEXT DEFAULT 'n'

ALTER TABLE users RENAME TO people

ALTER TABLE users RENAME COLUMN name TO full_name

ALTER TABLE users RENAME name TO full_name

ALTER TABLE users DROP COLUMN name

ALTER TABLE stage DROP COLUMN name

ALTER TABLE stage RENAME TO users2

-- invalid: users exists
ALTER TABLE stage RENAME TO users

ALTER TABLE stage ADD COLUMN user_id INTEGER REFERENCES users (id)

ALTER TABLE main.orgs ADD COLUMN note TEXT

ALTER TABLE posts DROP COLUMN body

ALTER TABLE "Order Items" DROP COLUMN qty

ALTER TABLE kv RENAME COLUMN v TO value

ALTER TABLE aux.users ADD COLUMN x

ALTER TABLE aux.users DROP COLUMN email

ALTER TABLE temp.scratch DROP COLUMN note

# Utility statements
PRAGMA foreign_keys

PRAGMA foreign_keys = OFF

PRAGMA foreign_keys = ON

PRAGMA recursive_triggers = ON

PRAGMA table_info(users)

PRAGMA main.table_info("users")

PRAGMA index_list('users')

PRAGMA foreign_key_list(posts)

PRAGMA foreign_key_check

PRAGMA foreign_key_check(users)

PRAGMA integrity_check

PRAGMA quick_check(users)

PRAGMA user_version

PRAGMA user_version = 3

PRAGMA main.journal_mode

PRAGMA optimize

PRAGMA defer_foreign_keys = ON

PRAGMA wal_checkpoint(PASSIVE)

PRAGMA incremental_vacuum

VACUUM

VACUUM main

VACUUM INTO '/nonexistent/dir/copy.db'

REINDEX

REINDEX users

REINDEX users_name

REINDEX main.users

REINDEX "Order Items"

REINDEX BINARY

ANALYZE

ANALYZE users

ANALYZE main.users

ANALYZE users_name

BEGIN

BEGIN IMMEDIATE

BEGIN EXCLUSIVE TRANSACTION

BEGIN DEFERRED

COMMIT

END TRANSACTION

ROLLBACK

SAVEPOINT sp

SAVEPOINT "users"

RELEASE sp

RELEASE SAVEPOINT users

ROLLBACK TO sp

ROLLBACK TRANSACTION TO SAVEPOINT users

ATTACH DATABASE ':memory:' AS other

ATTACH ':memory:' AS users

DETACH aux

DETACH DATABASE aux

SELECT sqlite_version()

SELECT 1

-- invalid: a syntax error
DELETE users

-- invalid: no such table
INSERT INTO nobody VALUES (1)

-- invalid: unterminated
UPDATE users SET name = 'x

-- invalid: a view without a trigger for UPDATE OF name
UPDATE active_users SET name = 'n'

-- invalid: an INSERT into a view without an INSTEAD OF INSERT trigger
INSERT INTO user_posts VALUES (1, 2, 't')

-- invalid: a generated column
UPDATE profiles SET shout = 'x'

# Tables with a constraint declared ON CONFLICT REPLACE, and names that
# look like others
INSERT INTO codes (code) VALUES ('a')

INSERT INTO codes (id, code) VALUES (1, 'b') ON CONFLICT (id) DO NOTHING

UPDATE codes SET code = 'c' WHERE id = 1

INSERT OR IGNORE INTO codes (code) VALUES ('d')

INSERT OR ABORT INTO codes (code) VALUES ('e')

UPDATE OR FAIL codes SET code = 'f'

DELETE FROM codes WHERE code = 'a'

INSERT INTO code_uses (code_id) VALUES (1)

DELETE FROM code_uses

INSERT INTO "users.archive" (id) VALUES (1)

UPDATE "users.archive" SET email = 'a'

UPDATE "users.archive" SET id = 2

DELETE FROM "users.archive"

INSERT INTO "where" VALUES (1, 'g')

UPDATE "where" SET "group" = 'h'

DELETE FROM "where" WHERE "order" = 1

INSERT INTO "Ünï" VALUES (1, 'u')

UPDATE "Ünï" SET v = 'w'

DELETE FROM "Order Items" WHERE qty > 0

INSERT INTO kv.kv VALUES (1, 2)

DELETE FROM kv.kv

UPDATE kv.users SET id = 3

INSERT INTO kv.users SELECT id FROM main.users

INSERT INTO main.kv SELECT k, v FROM kv.kv

# Tokens run together, leading comments, odd spellings
INSERT INTO users(id)VALUES(200)

INSERT INTO"users"(id)VALUES(201)

INSERT INTO[users]VALUES(202,NULL,NULL,0,NULL)

REPLACE INTO`users`(id)VALUES(203)

UPDATE"users"SET"name"='x'WHERE"id"=1

UPDATE[users]SET[name]=NULL

DELETE FROM"users"WHERE id=1

DELETE FROM[main].[users]WHERE+id=1

/* leading */ DELETE FROM users WHERE id = 1

-- leading line comment
UPDATE users SET visits = 0 WHERE id = 1

   INSERT INTO users (id) VALUES (204)

insert into users (id) values (205)

InSeRt Or RePlAcE iNtO uSeRs (id) VaLuEs (206)

UPDATE users AS "x" SET visits = "x".visits + 1

UPDATE users AS [u] SET visits = 1 WHERE [u].id = 1

DELETE FROM users AS "del" WHERE "del".id = 1

INSERT INTO users (id) VALUES (207) ON CONFLICT DO UPDATE SET visits = 1

INSERT INTO users (id) SELECT id FROM stage UNION SELECT id FROM orgs

INSERT INTO users (id, visits) SELECT id, row_number() OVER (ORDER BY id) FROM stage

INSERT INTO users (id) SELECT column1 FROM (VALUES (208), (209))

UPDATE users SET visits = u2.visits FROM users AS u2 WHERE u2.id = users.id + 1

UPDATE users SET org_id = (SELECT id FROM orgs ORDER BY id LIMIT 1) WHERE org_id IS NULL RETURNING id, org_id

DELETE FROM users WHERE id = (SELECT min(id) FROM users) RETURNING email, (SELECT count(*) FROM stage)

WITH a AS (SELECT 1 AS id), b AS (SELECT id FROM a) UPDATE users SET visits = 0 WHERE id IN b RETURNING *

WITH d AS (SELECT id FROM users WHERE visits = 0) DELETE FROM users WHERE id IN d RETURNING id

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 3) INSERT OR IGNORE INTO users (id) SELECT i FROM n

WITH u AS (SELECT * FROM users) INSERT INTO stage SELECT id, email, name FROM u

WITH x AS (SELECT 1) UPDATE OR REPLACE users SET email = 'q@x' WHERE id = 1

WITH x AS (SELECT 1) DELETE FROM orgs WHERE id IN x

WITH x AS (SELECT 1) INSERT INTO inbox (payload) SELECT 'user:' || 1 FROM x

WITH x AS (SELECT 1) REPLACE INTO orgs (id, name) SELECT 1, 'n' FROM x

UPDATE OR REPLACE orgs SET name = 'one' WHERE id = 2

UPDATE OR IGNORE orgs SET name = 'one'

INSERT INTO orgs (id, name) VALUES (4, 'four') ON CONFLICT DO UPDATE SET name = 'x' || excluded.name

INSERT INTO posts (id, user_id) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id

UPDATE users SET id = -id

UPDATE profiles SET user_id = user_id + 1

INSERT OR REPLACE INTO profiles (user_id, bio) VALUES (1, 'b')

INSERT OR REPLACE INTO sessions VALUES ('t', 1, 1)

UPDATE Mixed SET Id = Id + 1

UPDATE mixed SET val = 'lower'

UPDATE MIXED SET VAL = 'upper'

INSERT INTO active_users (id) SELECT id FROM stage

UPDATE active_users SET email = 'a' WHERE email IS NULL

DELETE FROM active_users

DELETE FROM user_posts

INSERT INTO scratch (id, note) SELECT id, name FROM orgs

UPDATE temp.scratch SET note = 'x'

SELECT * FROM codes, code_uses, "users.archive", "Ünï", "where"

SELECT "users.archive".id FROM "users.archive" JOIN users ON users.id = "users.archive".id

SELECT * FROM kv.kv JOIN main.kv USING (k)

SELECT 1 FROM users WHERE id IN (SELECT id FROM "users.archive") AND EXISTS (SELECT 1 FROM kv)

SELECT ntile(3) OVER (ORDER BY visits), lag(id) OVER (PARTITION BY org_id ORDER BY id), first_value(email) OVER win FROM users WINDOW win AS (PARTITION BY org_id)

SELECT id FROM users WHERE id > ? ORDER BY id LIMIT ? OFFSET ?

SELECT * FROM users WHERE name GLOB '*x*' OR name LIKE 'y' COLLATE NOCASE

-- invalid: no regexp() function
SELECT * FROM users WHERE name REGEXP 'y'

SELECT * FROM users WHERE name MATCH 'y'

SELECT total(visits), group_concat(DISTINCT email) FROM users

SELECT json_object('id', id) FROM users

-- invalid: no generate_series table-valued function
SELECT * FROM generate_series(1, 3)

SELECT printf('%s', 'DELETE FROM users; --')

SELECT x'00' || 'users', "users".id FROM users

VALUES ((SELECT count(*) FROM users))

DROP TABLE codes

DROP TABLE IF EXISTS main.codes

DROP TABLE "users.archive"

DROP TABLE "where"

DROP TABLE sessions

DROP TABLE kv.kv

DROP VIEW IF EXISTS main.active_users

DROP TRIGGER "odd trigger"

-- invalid: a UNIQUE column
ALTER TABLE codes DROP COLUMN code

ALTER TABLE codes ADD COLUMN note TEXT

ALTER TABLE code_uses DROP COLUMN used_at

ALTER TABLE "users.archive" RENAME TO users_archive

ALTER TABLE orgs RENAME COLUMN name TO title

ALTER TABLE profiles DROP COLUMN shout

CREATE TRIGGER codes_del AFTER DELETE ON codes BEGIN DELETE FROM users WHERE id = old.id; END

CREATE TABLE new_child (id INTEGER PRIMARY KEY, code_id REFERENCES codes ON DELETE SET NULL)

CREATE UNIQUE INDEX users_name_u ON users (name) WHERE name IS NOT NULL

REINDEX codes

REINDEX tags

ANALYZE kv

PRAGMA kv.table_info(kv)

PRAGMA main.index_info(users_name)

PRAGMA table_xinfo("Order Items")

SAVEPOINT "x y"

RELEASE "x y"

# REPLACE on tables with DELETE triggers (fired with recursive triggers on)
REPLACE INTO stage (id) VALUES (1)

INSERT OR REPLACE INTO stage (id, email) SELECT id, email FROM users

UPDATE OR REPLACE stage SET id = 1

INSERT INTO stage (id) VALUES (1) ON CONFLICT DO UPDATE SET email = 'x'

REPLACE INTO "Order Items" VALUES (1, 1, 'a', 1)

UPDATE OR REPLACE "Order Items" SET "line no" = 1

INSERT OR REPLACE INTO kv VALUES ('k', 'v')

REPLACE INTO audit VALUES ('stage', 'now')

# Trailing text
DELETE FROM users WHERE id = 1; -- done

UPDATE users SET visits = 0 /* trailing */ ;

INSERT INTO users (id) VALUES (300) ;   

-- invalid: temp.users does not exist
INSERT INTO temp.users (id) VALUES (1)

DELETE FROM users; DELETE FROM orgs

SELECT * FROM users; INSERT INTO kv VALUES ('a', 'b')

INSERT INTO stage (id) VALUES (1); /* and */ UPDATE users SET visits = 0;

# Deferred foreign keys and cascades through WITHOUT ROWID tables
DELETE FROM posts WHERE user_id IN (SELECT id FROM users WHERE visits = 0)

UPDATE posts SET id = id + 1

INSERT OR REPLACE INTO posts (id, user_id, title) SELECT id, user_id, title FROM posts

DELETE FROM orgs WHERE parent_id IS NOT NULL

UPDATE users SET id = 5 WHERE id = 4 RETURNING id

# Composite, deferred foreign keys; a trigger that writes through a view
INSERT INTO feed (body) VALUES ('b')

INSERT INTO feed (id, body) SELECT id, email FROM stage

UPDATE feed SET body = 'c'

DELETE FROM feed

INSERT INTO shipments (oid, line) VALUES (1, 1)

UPDATE shipments SET line = 2

DELETE FROM shipments

UPDATE "Order Items" SET "line no" = 9 WHERE "order id" = 1

UPDATE "Order Items" SET qty = 0

DELETE FROM "Order Items"

INSERT OR REPLACE INTO "Order Items" ("order id", "line no") VALUES (1, 1)

DROP TABLE "Order Items"

DROP TABLE feed
