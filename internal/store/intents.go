package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sasquatch-sec/sasquatch/report"
)

// IntentState is the state of an issue intent (reliability.md §3.2).
type IntentState string

// The states of an issue intent.
const (
	// IntentIntended: recorded before the POST. With Attempts > 0 a POST may
	// have been sent: reconcile (list the repository's labelled issues and
	// match the marker) before posting again, never blindly re-POST.
	IntentIntended IntentState = "intended"
	// IntentFiled: the issue exists; Number and URL name it.
	IntentFiled IntentState = "filed"
	// IntentFailed: filing is impossible (issues disabled, a public
	// repository and no tracker, ...); LastError says why.
	IntentFailed IntentState = "failed"
)

// Intent is the write-ahead record of one issue: one per (token, repository).
type Intent struct {
	Fingerprint string
	RepoID      int64  // the affected repository
	Tracker     string // "OWNER/NAME" where the issue goes; "" for the affected repository
	State       IntentState
	Number      int    // issue number once filed
	URL         string // issue URL once filed
	Marker      string // the visible marker in the issue that identifies it when reconciling
	Attempts    int    // POSTs begun (BeginAttempt)
	LastError   string // scrubbed of anything that looks like a secret
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const intentCols = `fingerprint, repo_id, tracker, state, issue_number, issue_url, marker, attempts, last_error, created_at, updated_at`

// RecordIntent records the intent to file in.Fingerprint's issue for
// in.RepoID (step 1 of the protocol: in the transaction that stores the
// finding) and returns the stored intent. It is idempotent: when an intent
// for (fingerprint, repository) exists, it is returned unchanged, whatever
// its state. in.Marker is required; the finding and repository must exist.
func (t *Tx) RecordIntent(ctx context.Context, in Intent) (Intent, error) {
	return recordIntent(ctx, t.c(), t.s, in)
}

// RecordIntent is [Tx.RecordIntent] in a transaction of its own.
func (s *Store) RecordIntent(ctx context.Context, in Intent) (out Intent, err error) {
	err = s.InTx(ctx, func(tx *Tx) error {
		out, err = tx.RecordIntent(ctx, in)
		return err
	})
	return out, err
}

func recordIntent(ctx context.Context, c conn, s *Store, in Intent) (Intent, error) {
	if in.Marker == "" {
		return Intent{}, errors.New("store: an issue intent needs a marker")
	}
	now := s.d.t(s.stamp())
	_, err := c.exec(ctx, `INSERT INTO issue_intents (fingerprint, repo_id, tracker, state, marker, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint, repo_id) DO NOTHING`,
		in.Fingerprint, in.RepoID, enc(in.Tracker), string(IntentIntended), enc(in.Marker), now, now)
	if err != nil {
		return Intent{}, fmt.Errorf("store: record intent %s/%d: %w", in.Fingerprint, in.RepoID, err)
	}
	return getIntent(ctx, c, in.Fingerprint, in.RepoID)
}

// BeginAttempt counts one more POST for an intended issue, just before it is
// sent (step 2), and returns the intent. It fails for an intent that is not
// in state intended.
func (s *Store) BeginAttempt(ctx context.Context, fp string, repoID int64) (Intent, error) {
	return s.updateIntent(ctx, fp, repoID, `attempts = attempts + 1`, nil, IntentIntended)
}

// MarkFiled records the issue that was created or found by reconciliation
// (step 3 or 4).
func (s *Store) MarkFiled(ctx context.Context, fp string, repoID int64, number int, url string) error {
	_, err := s.updateIntent(ctx, fp, repoID, `state = ?, issue_number = ?, issue_url = ?, last_error = ''`,
		[]any{string(IntentFiled), number, enc(url)}, "")
	return err
}

// MarkUnknown records that the outcome of a POST is unknown (a timeout, a
// 5xx, a dropped connection): the intent stays intended, to be reconciled
// before any new POST.
func (s *Store) MarkUnknown(ctx context.Context, fp string, repoID int64, msg string) error {
	_, err := s.updateIntent(ctx, fp, repoID, `last_error = ?`, []any{enc(report.Scrub(msg))}, IntentIntended)
	return err
}

// MarkFailed records that the issue cannot be filed, with the reason.
func (s *Store) MarkFailed(ctx context.Context, fp string, repoID int64, reason string) error {
	_, err := s.updateIntent(ctx, fp, repoID, `state = ?, last_error = ?`,
		[]any{string(IntentFailed), enc(report.Scrub(reason))}, "")
	return err
}

// updateIntent applies set to one intent (in state `from` when not empty)
// and returns the result.
func (s *Store) updateIntent(ctx context.Context, fp string, repoID int64, set string, args []any, from IntentState) (out Intent, err error) {
	err = s.InTx(ctx, func(tx *Tx) error {
		c := tx.c()
		q := `UPDATE issue_intents SET ` + set + `, updated_at = ? WHERE fingerprint = ? AND repo_id = ?`
		a := append(append([]any{}, args...), s.d.t(s.stamp()), fp, repoID)
		if from != "" {
			q += ` AND state = ?`
			a = append(a, string(from))
		}
		res, err := c.exec(ctx, q, a...)
		if err != nil {
			return fmt.Errorf("store: update intent %s/%d: %w", fp, repoID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: update intent %s/%d: %w", fp, repoID, err)
		} else if n == 0 {
			cur, err := getIntent(ctx, c, fp, repoID)
			if err != nil {
				return err
			}
			return fmt.Errorf("store: intent %s/%d is %s, not %s", fp, repoID, cur.State, from)
		}
		out, err = getIntent(ctx, c, fp, repoID)
		return err
	})
	return out, err
}

// Intent returns the intent for (fp, repoID), or [ErrNotFound].
func (s *Store) Intent(ctx context.Context, fp string, repoID int64) (Intent, error) {
	return getIntent(ctx, s.c(), fp, repoID)
}

func getIntent(ctx context.Context, c conn, fp string, repoID int64) (Intent, error) {
	rows, err := c.query(ctx, `SELECT `+intentCols+` FROM issue_intents WHERE fingerprint = ? AND repo_id = ?`, fp, repoID)
	if err != nil {
		return Intent{}, fmt.Errorf("store: intent %s/%d: %w", fp, repoID, err)
	}
	in, err := scanIntents(rows)
	if err != nil {
		return Intent{}, fmt.Errorf("store: intent %s/%d: %w", fp, repoID, err)
	}
	if len(in) == 0 {
		return Intent{}, fmt.Errorf("intent %s/%d: %w", fp, repoID, ErrNotFound)
	}
	return in[0], nil
}

// Intents returns the intents in state (every intent when state is ""),
// oldest first.
func (s *Store) Intents(ctx context.Context, state IntentState) ([]Intent, error) {
	q, args := `SELECT `+intentCols+` FROM issue_intents`, []any{}
	if state != "" {
		q += ` WHERE state = ?`
		args = append(args, string(state))
	}
	rows, err := s.c().query(ctx, q+` ORDER BY created_at, fingerprint, repo_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: intents: %w", err)
	}
	in, err := scanIntents(rows)
	if err != nil {
		return nil, fmt.Errorf("store: intents: %w", err)
	}
	return in, nil
}

func scanIntents(rows *sql.Rows) ([]Intent, error) {
	defer rows.Close()
	out := []Intent{}
	for rows.Next() {
		var in Intent
		var state string
		var created, updated nullTime
		if err := rows.Scan(&in.Fingerprint, &in.RepoID, &in.Tracker, &state, &in.Number, &in.URL, &in.Marker,
			&in.Attempts, &in.LastError, &created, &updated); err != nil {
			return nil, err
		}
		decAll(&in.Tracker, &in.URL, &in.Marker, &in.LastError)
		in.State, in.CreatedAt, in.UpdatedAt = IntentState(state), created.Time, updated.Time
		out = append(out, in)
	}
	return out, rows.Err()
}
