// Package storetest gives tests a fresh, empty store database: an SQLite
// file in t.TempDir(), or a PostgreSQL schema of its own in the database
// named by SASQUATCH_TEST_POSTGRES (started by .ci/postgres.sh), dropped
// when the test ends. Under CI (CI set) a missing PostgreSQL fails the
// test; elsewhere the PostgreSQL case is skipped.
package storetest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// EnvPostgres names the base DSN of the test PostgreSQL.
const EnvPostgres = "SASQUATCH_TEST_POSTGRES"

// Drivers are the store's drivers, for table tests over both.
var Drivers = []string{"sqlite", "postgres"}

// DSN returns the DSN of a fresh database for driver ("sqlite" or "postgres").
func DSN(t testing.TB, driver string) string {
	t.Helper()
	if driver == "sqlite" {
		return filepath.Join(t.TempDir(), "sasquatch.db")
	}
	return PostgresDSN(t)
}

// PostgresDSN returns a DSN whose search_path is a new schema of its own.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %s is not: run eval \"$(.ci/postgres.sh)\" first", EnvPostgres)
		}
		t.Skipf("%s is not set (eval \"$(.ci/postgres.sh)\" to run the PostgreSQL cases)", EnvPostgres)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "sq_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL", EnvPostgres)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
