package main

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite"
)

func TestRun(t *testing.T) {
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skipf("set %s to run the MySQL example, e.g. root@tcp(127.0.0.1:3306)/test", dsnEnv)
	}
	var out bytes.Buffer
	got, err := run(&out, dsn)
	if err != nil {
		t.Fatalf("run: %v\noutput so far:\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "dualwrite_example_") {
		t.Errorf("the output names the random database:\n%s", out.String())
	}
	// The dual writes wrote rows 3 and 5 (not the deleted row 4), row 5
	// moved to key 50, and the backfill copied rows 1 and 2.
	want := [][]string{
		{"1", "Ada", "Lovelace", "ada@example.com", "3"},
		{"2", "Alan", "Turing", "alan@example.com", "5"},
		{"3", "Grace", "Brewster Hopper", "grace@example.com", "1"},
		{"50", "Ken", "Thompson", "ken@example.com", "10"},
	}
	if !reflect.DeepEqual(got.Accounts, want) {
		t.Errorf("accounts = %q\nwant       %q", got.Accounts, want)
	}
	if len(got.Refused) != 3 {
		t.Fatalf("%d refusals, want 3", len(got.Refused))
	}
	for _, err := range got.Refused {
		if !errors.Is(err, dualwrite.ErrUnsupported) {
			t.Errorf("%v, want an error wrapping dualwrite.ErrUnsupported", err)
		}
	}
}
