package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// TriageState is the triage state of a finding.
type TriageState string

// The triage states. A finding never triaged is open.
const (
	TriageOpen    TriageState = "open"
	TriageIgnored TriageState = "ignored" // accepted: kept out of reports, counted
)

// Triage is the triage record of a finding.
type Triage struct {
	State     TriageState
	Reason    string
	Actor     string    // who decided
	UpdatedAt time.Time // zero when never triaged
}

// SetTriage records the triage state of finding fp, with a reason and who
// decided; it returns [ErrNotFound] when the store has no such finding.
func (s *Store) SetTriage(ctx context.Context, fp string, state TriageState, reason, actor string) error {
	if state != TriageOpen && state != TriageIgnored {
		return fmt.Errorf("store: unknown triage state %q", state)
	}
	return s.InTx(ctx, func(tx *Tx) error {
		c := tx.c()
		if err := findingExists(ctx, c, fp); err != nil {
			return err
		}
		_, err := c.exec(ctx, `INSERT INTO triage (fingerprint, state, reason, actor, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (fingerprint) DO UPDATE SET state = excluded.state, reason = excluded.reason,
				actor = excluded.actor, updated_at = excluded.updated_at`,
			fp, string(state), enc(reason), enc(actor), s.d.t(s.stamp()))
		if err != nil {
			return fmt.Errorf("store: triage %s: %w", fp, err)
		}
		return nil
	})
}

// TriageOf returns the triage record of finding fp; a finding never triaged
// is open with a zero UpdatedAt.
func (s *Store) TriageOf(ctx context.Context, fp string) (Triage, error) {
	var t Triage
	var state string
	var at nullTime
	err := s.c().row(ctx, `SELECT state, reason, actor, updated_at FROM triage WHERE fingerprint = ?`, fp).
		Scan(&state, &t.Reason, &t.Actor, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Triage{State: TriageOpen}, nil
	}
	if err != nil {
		return Triage{}, fmt.Errorf("store: triage of %s: %w", fp, err)
	}
	decAll(&t.Reason, &t.Actor)
	t.State, t.UpdatedAt = TriageState(state), at.Time
	return t, nil
}

// Triaged counts the findings that filter would select with IncludeTriaged
// and that are triaged as ignored: what a report leaves out.
func (s *Store) Triaged(ctx context.Context, filter Filter) (int, error) {
	filter.IncludeTriaged = true
	where, args := filter.where()
	var n int
	err := s.c().row(ctx, `SELECT COUNT(*) FROM findings f JOIN triage t ON t.fingerprint = f.fingerprint
		WHERE t.state = '`+string(TriageIgnored)+`' AND `+where, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count triaged: %w", err)
	}
	return n, nil
}

// Liveness is the result of the last liveness check of a token (verify).
type Liveness struct {
	Value     string    // the JSONL "liveness" value, e.g. "live", "revoked"
	Code      string    // the storage error code Azure answered, if any
	CheckedAt time.Time // zero: never checked
}

// SetLiveness records the result of a liveness check of finding fp; it
// returns [ErrNotFound] when the store has no such finding.
func (s *Store) SetLiveness(ctx context.Context, fp string, l Liveness) error {
	res, err := s.c().exec(ctx, `UPDATE findings SET liveness = ?, liveness_code = ?, liveness_checked_at = ? WHERE fingerprint = ?`,
		enc(l.Value), enc(l.Code), s.d.t(l.CheckedAt), fp)
	if err != nil {
		return fmt.Errorf("store: set liveness of %s: %w", fp, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: set liveness of %s: %w", fp, err)
	} else if n == 0 {
		return fmt.Errorf("set liveness: finding %s: %w", fp, ErrNotFound)
	}
	return nil
}

// LivenessOf returns the last liveness result of finding fp, or
// [ErrNotFound].
func (s *Store) LivenessOf(ctx context.Context, fp string) (Liveness, error) {
	var l Liveness
	var at nullTime
	err := s.c().row(ctx, `SELECT liveness, liveness_code, liveness_checked_at FROM findings WHERE fingerprint = ?`, fp).
		Scan(&l.Value, &l.Code, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Liveness{}, fmt.Errorf("liveness: finding %s: %w", fp, ErrNotFound)
	}
	if err != nil {
		return Liveness{}, fmt.Errorf("store: liveness of %s: %w", fp, err)
	}
	decAll(&l.Value, &l.Code)
	l.CheckedAt = at.Time
	return l, nil
}

func findingExists(ctx context.Context, c conn, fp string) error {
	var one int
	err := c.row(ctx, `SELECT 1 FROM findings WHERE fingerprint = ?`, fp).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("finding %s: %w", fp, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: finding %s: %w", fp, err)
	}
	return nil
}
