package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers database/sql driver "pgx"
	_ "modernc.org/sqlite"             // registers database/sql driver "sqlite"
)

// ErrNotFound is returned when the row an operation needs does not exist.
var ErrNotFound = errors.New("store: not found")

// DefaultMaxLocations is the number of locations kept per finding when
// [Config.MaxLocations] is zero (the same cap as report.DefaultMaxLocations).
const DefaultMaxLocations = 1000

// maxOverflowKeys bounds the keys kept per finding to count locations past the
// cap idempotently; past it, the count is an upper bound.
const maxOverflowKeys = 1 << 20

// maxAttempts bounds how many times InTx runs a transaction that lost a race.
const maxAttempts = 8

// Config configures [OpenConfig]. Only DSN is required.
type Config struct {
	// DSN is a PostgreSQL URL (postgres:// or postgresql://) or the path of
	// an SQLite file (created, mode 0600, when missing). A path may not
	// contain '?'.
	DSN string
	// Now is the clock of first_seen, last_seen, run and intent times; nil
	// means time.Now.
	Now func() time.Time
	// MaxLocations caps the locations kept per finding; the rest are counted
	// (report.Finding.LocationsTruncated). 0 means DefaultMaxLocations.
	MaxLocations int
}

// Store is the durable state of sweeps. It is safe for concurrent use, by
// goroutines and (on both drivers) by processes sharing the database.
type Store struct {
	db      *sql.DB
	d       *dialect
	now     func() time.Time
	maxLocs int
}

// Open opens the store named by dsn and brings its schema up to date: see
// [Config.DSN]. It is [OpenConfig] with defaults.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenConfig(ctx, Config{DSN: dsn})
}

// OpenConfig opens the store of cfg.DSN and applies the migrations it lacks.
// Processes may open the same database at once: migrations run once.
func OpenConfig(ctx context.Context, cfg Config) (*Store, error) {
	s := &Store{now: cfg.Now, maxLocs: cfg.MaxLocations}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxLocs <= 0 {
		s.maxLocs = DefaultMaxLocations
	}
	var err error
	if isPostgres(cfg.DSN) {
		s.d = postgresDialect
		s.db, err = sql.Open("pgx", cfg.DSN)
	} else {
		s.d = sqliteDialect
		s.db, err = openSQLite(cfg.DSN)
	}
	if err != nil {
		return nil, err
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// sqliteParams are the connection settings of every SQLite connection: the
// busy timeout first (the others may wait for a lock), WAL, synchronous=FULL
// (durable across power loss, reliability.md §0 item 4), foreign keys, and
// BEGIN IMMEDIATE for every transaction, so that a transaction never fails
// with SQLITE_BUSY when it starts to write after reading.
const sqliteParams = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
	"&_pragma=foreign_keys(1)&_txlock=immediate"

// sqliteConns is the SQLite pool size: WAL lets readers run beside the one
// writer, and the busy timeout queues writers.
const sqliteConns = 4

func openSQLite(path string) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("store: database path %q contains '?'", path)
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", path+"?"+sqliteParams)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(sqliteConns)
	return db, nil
}

// createPrivate creates the SQLite file with mode 0600 before the driver opens
// it (the store holds tokens; SQLite would create it 0644, and creates its
// -wal and -shm files with the mode of the database file). An existing file
// readable by others is made private.
func createPrivate(path string) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("store: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("store: %s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, fi.Mode().Perm()&0o700); err != nil {
			return fmt.Errorf("store: make %s private: %w", path, err)
		}
	}
	return nil
}

// DefaultPath returns the default SQLite file: sasquatch/sasquatch.db in
// $XDG_STATE_HOME, or in ~/.local/state when that is unset.
func DefaultPath() (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("store: no state directory: %w", err)
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "sasquatch", "sasquatch.db"), nil
}

// Close closes the database. Transactions in flight fail.
func (s *Store) Close() error { return s.db.Close() }

// Driver returns [DriverSQLite] or [DriverPostgres].
func (s *Store) Driver() string { return s.d.name }

// DB returns the connection pool, for River's driver (riversqlite.New on
// SQLite, riverdatabasesql.New on PostgreSQL) and for River's migrations.
// Do not close it; close the Store.
func (s *Store) DB() *sql.DB { return s.db }

// Tx is one transaction of the store: see [Store.InTx]. It is not safe for
// concurrent use and is valid only inside the function given to InTx.
type Tx struct {
	tx *sql.Tx
	s  *Store
}

// SQL returns the transaction itself, so that River can insert jobs in it
// (client.InsertTx(ctx, tx.SQL(), ...)): the jobs commit or roll back with the
// store's writes.
func (t *Tx) SQL() *sql.Tx { return t.tx }

// InTx runs fn in one transaction and commits when fn returns nil; when fn
// returns an error or panics, it rolls back. When the transaction loses a
// race (SQLITE_BUSY after the busy timeout, a PostgreSQL serialization
// failure or deadlock) it is rolled back and fn runs again, a bounded number
// of times: fn must have no effect outside tx that cannot be repeated.
//
// Inside fn use only tx: calling methods of the Store itself may wait for a
// lock that tx holds. InTx is safe for concurrent use.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	var err error
	for attempt := range maxAttempts {
		if attempt > 0 {
			if werr := backoff(ctx, attempt); werr != nil {
				return fmt.Errorf("%w (after %v)", werr, err)
			}
		}
		err = s.runTx(ctx, fn)
		if err == nil || !retryable(err) {
			return err
		}
	}
	return fmt.Errorf("store: transaction failed %d times: %w", maxAttempts, err)
}

func (s *Store) runTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			sqlTx.Rollback()
		}
	}()
	if err := fn(&Tx{tx: sqlTx, s: s}); err != nil {
		return err
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// backoff waits before attempt n (1-based): jittered, doubling from 5 ms up to
// about half a second.
func backoff(ctx context.Context, n int) error {
	d := 5 * time.Millisecond << min(n-1, 7)
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// read runs fn in a read-only transaction, so that the queries of one read
// see one snapshot: on SQLite a deferred transaction (a WAL read snapshot; no
// write lock), on PostgreSQL REPEATABLE READ.
func (s *Store) read(ctx context.Context, fn func(c conn) error) error {
	tx, err := s.db.BeginTx(ctx, s.d.readOpts)
	if err != nil {
		return fmt.Errorf("store: begin read: %w", err)
	}
	defer tx.Rollback() // read-only: nothing to commit
	return fn(conn{tx, s.d})
}

// stamp is the current time at the stored precision.
func (s *Store) stamp() time.Time { return s.now().UTC().Truncate(precision) }

// queryer is what *sql.DB and *sql.Tx share, so that one implementation
// serves a Store method (autocommit) and a Tx method.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn binds a queryer to the dialect: every query goes through d.q.
type conn struct {
	q queryer
	d *dialect
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.q.ExecContext(ctx, c.d.q(query), args...)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.q.QueryContext(ctx, c.d.q(query), args...)
}

func (c conn) row(ctx context.Context, query string, args ...any) *sql.Row {
	return c.q.QueryRowContext(ctx, c.d.q(query), args...)
}

func (t *Tx) c() conn    { return conn{t.tx, t.s.d} }
func (s *Store) c() conn { return conn{s.db, s.d} }
