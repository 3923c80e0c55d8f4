package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one file of migrations/, named NNNN_description.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s: name must start with a positive number and '_'", base)
		}
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("store: migrations %s and %s have the same version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema version this package writes: the number of its
// newest migration.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrate applies the missing migrations in one transaction, under the
// dialect's migration lock, recording each in schema_version. A database
// newer than this binary is an error: it would be written with an old schema.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		c := tx.c()
		if lock := s.d.migrationLock(); lock != "" {
			if _, err := c.exec(ctx, lock); err != nil {
				return fmt.Errorf("store: migration lock: %w", err)
			}
		}
		create := s.d.schema.Replace(`CREATE TABLE IF NOT EXISTS schema_version (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at {{TIME}} NOT NULL
		)`)
		if _, err := c.exec(ctx, create); err != nil {
			return fmt.Errorf("store: create schema_version: %w", err)
		}
		var have sql.NullInt64
		if err := c.row(ctx, `SELECT MAX(version) FROM schema_version`).Scan(&have); err != nil {
			return fmt.Errorf("store: read schema_version: %w", err)
		}
		if latest := ms[len(ms)-1].version; int(have.Int64) > latest {
			return fmt.Errorf("store: database schema version %d is newer than this program's (%d): upgrade sasquatch", have.Int64, latest)
		}
		for _, m := range ms {
			if m.version <= int(have.Int64) {
				continue
			}
			for _, stmt := range splitStatements(s.d.schema.Replace(m.sql)) {
				if _, err := c.exec(ctx, stmt); err != nil {
					return fmt.Errorf("store: migration %s: %w", m.name, err)
				}
			}
			if _, err := c.exec(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, s.d.t(s.stamp())); err != nil {
				return fmt.Errorf("store: record migration %s: %w", m.name, err)
			}
		}
		return nil
	})
}

// splitStatements splits a migration file into statements at semicolons that
// end a line, dropping "--" comment lines. Migrations hold no semicolon at the
// end of a line inside a literal or a body.
func splitStatements(src string) []string {
	var out []string
	var cur strings.Builder
	for line := range strings.Lines(src) {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(trimmed, ";") {
			if stmt := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")); stmt != "" {
				out = append(out, stmt)
			}
			cur.Reset()
		}
	}
	if stmt := strings.TrimSpace(cur.String()); stmt != "" {
		out = append(out, stmt)
	}
	return out
}
