// Package ormtest runs applications written with GORM and bun through
// dualwrite, on SQLite, on PostgreSQL and on MariaDB (as itself, where
// the ORMs insert with RETURNING, and as MySQL, where they read
// LastInsertId), and checks after every step that
// new = up(old) row by row, that the compare read phase found no
// difference, and that the new read phase returned what the old one did.
// It also checks that the library's packages do not link an ORM.
//
// Only its test files import the ORMs, so they are test-only requirements
// of the module and never part of a program that uses the library.
package ormtest
