// Package store is the durable state of sweeps and the source of truth that
// reports are rendered from (design.md "State and scale"; reliability.md §0
// item 4): repositories by GitHub ID, the ref tips of their last complete
// scan, scan runs, findings (one per token, by fingerprint) with first- and
// last-seen times and their locations, triage state, issue intents (the
// write-ahead records of reliability.md §3.2) and liveness results.
//
// # Drivers
//
// One schema and one implementation on two database/sql drivers:
//
//   - SQLite (modernc.org/sqlite, pure Go), the embedded default: [Open] with
//     a file path, by default [DefaultPath]. The file is created with mode
//     0600 before the driver opens it (an existing file readable by others is
//     made private); every connection uses WAL, synchronous=FULL, a busy
//     timeout, foreign keys, and BEGIN IMMEDIATE transactions.
//   - PostgreSQL (github.com/jackc/pgx/v5 through pgx/v5/stdlib) for many
//     machines: [Open] with a postgres:// or postgresql:// URL. Transactions
//     run at READ COMMITTED; the rows they update are locked in one order.
//
// The differences between the two (placeholders, identity and time column
// types, row locks, retryable errors, the migration lock) are all in
// dialect.go. Times are stored in UTC with microsecond precision. Text from
// repositories is stored byte for byte on both: a value PostgreSQL would
// refuse (not UTF-8, or holding NUL) is stored escaped, in the same form on
// both drivers.
//
// # Schema and migrations
//
// Migrations are the embedded files migrations/NNNN_*.sql, applied in order
// by Open in one transaction and recorded in the table schema_version. Two
// processes opening a fresh database at once apply them once: on PostgreSQL
// under a transaction-scoped advisory lock, on SQLite in an IMMEDIATE
// transaction. A database with a newer schema than this package's is refused.
//
// # Transactions
//
// Writes that belong together go through [Store.InTx]: a scan job upserts
// its repository, adds findings and locations ([Tx.AddFindings]), replaces
// the tips ([Tx.SetTips]) and enqueues follow-up jobs with River
// (client.InsertTx(ctx, tx.SQL(), ...)) in one transaction, so that a killed
// process leaves either all of it or none. InTx retries a transaction that
// lost a race (SQLITE_BUSY, a PostgreSQL serialization failure or deadlock)
// a bounded number of times, so its function must be repeatable. River's
// drivers: riversqlite.New(store.DB()) on SQLite and
// riverdatabasesql.New(store.DB()) on PostgreSQL; both take the *sql.Tx of
// [Tx.SQL].
//
// # Idempotency
//
// Every write can be repeated after a crash: AddFindings adds no finding or
// location twice (locations are keyed like report.Collector's), keeps
// first_seen and moves last_seen; RecordIntent returns the existing intent.
//
// # Secrets
//
// The store keeps each token (signature, query string and URL) because
// verify and report --reveal need them; [Store.Findings] returns them in
// report.Finding.Credential as detect.Secret values, and in Token and URL only
// with [Filter.Reveal]. The store never logs, and its errors never carry a
// token: they name findings by fingerprint, and issue errors are passed
// through report.Scrub before they are stored.
//
// # Concurrency
//
// A [Store] is safe for concurrent use by goroutines and by processes
// sharing the database. A [Tx] is not, and is valid only inside its InTx
// function, which must use only the Tx (calling Store methods from inside it
// may wait for a lock the Tx holds).
package store
