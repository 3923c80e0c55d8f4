package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Repo is a GitHub repository, keyed by its numeric ID (stable across renames).
type Repo struct {
	ID            int64
	FullName      string // "owner/name"
	Private       bool
	Visibility    string // "public", "private", "internal" (GitHub's field; may be empty)
	DefaultBranch string
	CloneURL      string
	Archived      bool
	// FirstSeen and LastSeen are set by the store.
	FirstSeen, LastSeen time.Time
}

// public reports whether the repository is public, as far as the row says.
func (r Repo) public() bool {
	if r.Visibility != "" {
		return r.Visibility == "public"
	}
	return !r.Private
}

// UpsertRepo records r (by r.ID, which must not be 0). A new repository gets
// first_seen now; a known one keeps it, and its other fields and last_seen are
// updated.
func (t *Tx) UpsertRepo(ctx context.Context, r Repo) error {
	if r.ID == 0 {
		return errors.New("store: repository ID 0")
	}
	now := t.s.d.t(t.s.stamp())
	_, err := t.c().exec(ctx, `INSERT INTO repositories
		(id, full_name, private, visibility, default_branch, clone_url, archived, first_seen, last_seen)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET full_name = excluded.full_name, private = excluded.private,
			visibility = excluded.visibility, default_branch = excluded.default_branch,
			clone_url = excluded.clone_url, archived = excluded.archived, last_seen = excluded.last_seen`,
		r.ID, enc(r.FullName), r.Private, enc(r.Visibility), enc(r.DefaultBranch), enc(r.CloneURL), r.Archived, now, now)
	if err != nil {
		return fmt.Errorf("store: upsert repository %d: %w", r.ID, err)
	}
	return nil
}

// Repo returns the repository with GitHub ID id, or [ErrNotFound].
func (s *Store) Repo(ctx context.Context, id int64) (Repo, error) {
	return getRepo(ctx, s.c(), id)
}

func getRepo(ctx context.Context, c conn, id int64) (Repo, error) {
	var r Repo
	var first, last nullTime
	err := c.row(ctx, `SELECT id, full_name, private, visibility, default_branch, clone_url, archived, first_seen, last_seen
		FROM repositories WHERE id = ?`, id).Scan(
		&r.ID, &r.FullName, &r.Private, &r.Visibility, &r.DefaultBranch, &r.CloneURL, &r.Archived, &first, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return Repo{}, fmt.Errorf("repository %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Repo{}, fmt.Errorf("store: repository %d: %w", id, err)
	}
	decAll(&r.FullName, &r.Visibility, &r.DefaultBranch, &r.CloneURL)
	r.FirstSeen, r.LastSeen = first.Time, last.Time
	return r, nil
}

// Tips returns the ref tips (ref name -> commit SHA) recorded by the last
// SetTips of repository repoID; empty, not nil, when there are none.
func (t *Tx) Tips(ctx context.Context, repoID int64) (map[string]string, error) {
	return tips(ctx, t.c(), repoID)
}

// Tips is [Tx.Tips] outside a transaction.
func (s *Store) Tips(ctx context.Context, repoID int64) (map[string]string, error) {
	return tips(ctx, s.c(), repoID)
}

func tips(ctx context.Context, c conn, repoID int64) (map[string]string, error) {
	rows, err := c.query(ctx, `SELECT ref, sha FROM ref_tips WHERE repo_id = ?`, repoID)
	if err != nil {
		return nil, fmt.Errorf("store: tips of %d: %w", repoID, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var ref, sha string
		if err := rows.Scan(&ref, &sha); err != nil {
			return nil, fmt.Errorf("store: tips of %d: %w", repoID, err)
		}
		out[dec(ref)] = dec(sha)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: tips of %d: %w", repoID, err)
	}
	return out, nil
}

// SetTips replaces the recorded tips of repository repoID (which must have
// been recorded with UpsertRepo) with tips: call it at the end of a complete
// scan, in the transaction that stores its findings.
func (t *Tx) SetTips(ctx context.Context, repoID int64, tips map[string]string) error {
	c := t.c()
	// Lock the repository row first, so that two transactions replacing the
	// same tips (two workers, PostgreSQL) take turns instead of interleaving
	// their deletes and inserts.
	var id int64
	err := c.row(ctx, `SELECT id FROM repositories WHERE id = ?`+t.s.d.forUpdate, repoID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("set tips: repository %d: %w", repoID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: set tips of %d: %w", repoID, err)
	}
	if _, err := c.exec(ctx, `DELETE FROM ref_tips WHERE repo_id = ?`, repoID); err != nil {
		return fmt.Errorf("store: set tips of %d: %w", repoID, err)
	}
	for _, ref := range slices.Sorted(maps.Keys(tips)) {
		if _, err := c.exec(ctx, `INSERT INTO ref_tips (repo_id, ref, sha) VALUES (?, ?, ?)`, repoID, enc(ref), enc(tips[ref])); err != nil {
			return fmt.Errorf("store: set tips of %d: %w", repoID, err)
		}
	}
	return nil
}

// Run is one scan run: a sweep of a target, or one scan.
type Run struct {
	ID         int64
	Target     string // what was scanned: "org:NAME", a repository, a path
	StartedAt  time.Time
	FinishedAt time.Time // zero while running (or when the process died)
	Complete   bool      // every repository and blob of the target was covered
	Counts     map[string]int64
}

// BeginRun records the start of a run and returns its ID.
func (t *Tx) BeginRun(ctx context.Context, target string) (int64, error) {
	var id int64
	err := t.c().row(ctx, `INSERT INTO runs (target, started_at) VALUES (?, ?) RETURNING id`,
		enc(target), t.s.d.t(t.s.stamp())).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: begin run: %w", err)
	}
	return id, nil
}

// FinishRun records the end of run id: whether it covered everything and its
// counts (repositories, blobs, findings, skips by reason: the caller's
// choice of names). Finishing a run again overwrites the earlier result.
func (t *Tx) FinishRun(ctx context.Context, id int64, complete bool, counts map[string]int64) error {
	if counts == nil {
		counts = map[string]int64{}
	}
	b, err := json.Marshal(counts)
	if err != nil {
		return fmt.Errorf("store: finish run %d: %w", id, err)
	}
	res, err := t.c().exec(ctx, `UPDATE runs SET finished_at = ?, complete = ?, counts = ? WHERE id = ?`,
		t.s.d.t(t.s.stamp()), complete, string(b), id)
	if err != nil {
		return fmt.Errorf("store: finish run %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("finish run %d: %w", id, ErrNotFound)
	}
	return nil
}

// Run returns run id, or [ErrNotFound].
func (s *Store) Run(ctx context.Context, id int64) (Run, error) {
	var r Run
	var started, finished nullTime
	var counts string
	err := s.c().row(ctx, `SELECT id, target, started_at, finished_at, complete, counts FROM runs WHERE id = ?`, id).
		Scan(&r.ID, &r.Target, &started, &finished, &r.Complete, &counts)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Run{}, fmt.Errorf("store: run %d: %w", id, err)
	}
	r.Target = dec(r.Target)
	r.StartedAt, r.FinishedAt = started.Time, finished.Time
	if err := json.Unmarshal([]byte(counts), &r.Counts); err != nil {
		return Run{}, fmt.Errorf("store: run %d counts: %w", id, err)
	}
	return r, nil
}
