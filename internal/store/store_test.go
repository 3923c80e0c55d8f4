package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestOpenMigratesOnce(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.newDSN(t)
		ctx := context.Background()
		for range 2 {
			s, err := Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Driver(); got != b.name {
				t.Errorf("Driver() = %q, want %q", got, b.name)
			}
			if n := count(t, s, "schema_version"); n != SchemaVersion() {
				t.Errorf("schema_version has %d rows, want %d", n, SchemaVersion())
			}
			s.Close()
		}
	})
}

// TestConcurrentOpen: processes that start at once on a fresh database
// migrate it once (PostgreSQL: the advisory lock; SQLite: BEGIN IMMEDIATE).
func TestConcurrentOpen(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.newDSN(t)
		const n = 6
		var wg sync.WaitGroup
		stores := make([]*Store, n)
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				stores[i], errs[i] = Open(context.Background(), dsn)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("open %d: %v", i, err)
			}
			defer stores[i].Close()
		}
		if got := count(t, stores[0], "schema_version"); got != SchemaVersion() {
			t.Errorf("schema_version has %d rows, want %d (one per migration)", got, SchemaVersion())
		}
	})
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.newDSN(t)
		s := openTest(t, Config{DSN: dsn})
		if _, err := s.c().exec(context.Background(), `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`,
			99999, "9999_future.sql", s.d.t(s.stamp())); err != nil {
			t.Fatal(err)
		}
		s2, err := Open(context.Background(), dsn)
		if err == nil {
			s2.Close()
			t.Fatal("Open accepted a database with a newer schema")
		}
	})
}

func TestSQLiteFileMode(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state", "sasquatch")
	path := filepath.Join(dir, "sasquatch.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	mustTx(t, s, func(tx *Tx) error { return tx.UpsertRepo(ctx, testRepo(1)) }) // make SQLite write the WAL
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && p != path {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(p), got)
		}
	}
	if fi, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	} else if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("created directory: mode %o, want 700", got)
	}
	s.Close()

	// A store file readable by others (an old copy, a careless umask) is made
	// private when opened.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if fi, err := os.Stat(path); err != nil {
		t.Fatal(err)
	} else if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("reopened: mode %o, want 600", got)
	}
}

// TestSQLitePragmas: every connection of the pool is durable (WAL,
// synchronous=FULL) and waits for locks.
func TestSQLitePragmas(t *testing.T) {
	t.Parallel()
	s := openTest(t, Config{DSN: filepath.Join(t.TempDir(), "s.db")})
	ctx := context.Background()
	// Hold several connections at once, so that more than one is checked.
	var conns []*sql.Conn
	for range sqliteConns {
		c, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		var mode string
		var sync, busy, fk int
		if err := c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || sync != 2 || busy <= 0 || fk != 1 {
			t.Errorf("connection %d: journal_mode=%s synchronous=%d busy_timeout=%d foreign_keys=%d; want wal, 2 (FULL), > 0, 1",
				i, mode, sync, busy, fk)
		}
	}
}

func TestSQLitePathWithQuestionMark(t *testing.T) {
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "a?b.db")); err == nil {
		t.Error("Open accepted a path with '?'")
	}
}

func TestDefaultPath(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	got, err := DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(state, "sasquatch", "sasquatch.db"); got != want {
		t.Errorf("DefaultPath() = %q, want %q", got, want)
	}
	home := t.TempDir()
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", home)
	got, err = DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, ".local", "state", "sasquatch", "sasquatch.db"); got != want {
		t.Errorf("DefaultPath() without XDG_STATE_HOME = %q, want %q", got, want)
	}
}

func TestInTxRetriesOnlyRaces(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := openTest(t, Config{DSN: b.newDSN(t)})
		ctx := context.Background()
		calls := 0
		err := s.InTx(ctx, func(tx *Tx) error {
			calls++
			if err := tx.UpsertRepo(ctx, testRepo(int64(calls))); err != nil {
				return err
			}
			if calls < 3 {
				return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if calls != 3 {
			t.Errorf("fn ran %d times, want 3", calls)
		}
		// The rolled-back attempts left nothing.
		if n := count(t, s, "repositories"); n != 1 {
			t.Errorf("%d repositories, want 1 (only the committed attempt)", n)
		}

		calls = 0
		boom := errors.New("boom")
		if err := s.InTx(ctx, func(tx *Tx) error { calls++; return boom }); !errors.Is(err, boom) {
			t.Errorf("InTx = %v, want boom", err)
		}
		if calls != 1 {
			t.Errorf("a plain error ran fn %d times, want 1", calls)
		}
	})
}

func TestSplitStatements(t *testing.T) {
	got := splitStatements("-- comment;\nCREATE TABLE a (\n x INT, -- x; y\n y INT\n);\n\nCREATE INDEX i ON a (x);\n")
	if len(got) != 2 || got[0] != "CREATE TABLE a (\n x INT, -- x; y\n y INT\n)" || got[1] != "CREATE INDEX i ON a (x)" {
		t.Errorf("splitStatements = %q", got)
	}
}

func TestPlaceholders(t *testing.T) {
	if got := postgresDialect.q("a = ? AND b IN (?, ?)"); got != "a = $1 AND b IN ($2, $3)" {
		t.Errorf("postgres: %q", got)
	}
	if got := sqliteDialect.q("a = ?"); got != "a = ?" {
		t.Errorf("sqlite: %q", got)
	}
}
