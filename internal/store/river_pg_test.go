package store

import (
	"database/sql"
	"testing"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
)

// riverPostgresDriver is River's database/sql driver for PostgreSQL, on the
// store's pool.
func riverPostgresDriver(t *testing.T, s *Store) riverdriver.Driver[*sql.Tx] {
	t.Helper()
	return riverdatabasesql.New(s.DB())
}
