//go:build race

package rewrite_test

// regressSample makes TestRegressPostgres plan every other statement of each
// regression script (by position, so the sample is the same in every run)
// under the race detector, which makes cgo parsing and planning several
// times slower; the test without -race plans them all.
const regressSample = 2
