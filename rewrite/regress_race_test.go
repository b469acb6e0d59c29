//go:build race

package rewrite_test

// regressSample makes TestRegressPostgres plan every 4th statement of each
// regression script (by position, so the sample is the same in every run)
// under the race detector, which makes cgo parsing and planning several
// times slower; the test without -race plans them all.
const regressSample = 4
