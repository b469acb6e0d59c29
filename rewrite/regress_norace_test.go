//go:build !race

package rewrite_test

// regressSample is 1: TestRegressPostgres plans every statement of the
// regression suite.
const regressSample = 1
