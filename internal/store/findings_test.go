package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/report"
)

// corpus is a direct scan's occurrences: three tokens, one seen both bare and
// as a URL (the URL names it), history and file locations, a commit message,
// a blob without provenance.
func corpus() []occurrence {
	a, aBare := fakeMatch(1, detect.Critical, true), fakeMatch(1, detect.Critical, false)
	b := fakeMatch(2, detect.Medium, true)
	ud := fakeUDMatch(3)
	return []occurrence{
		{a, histLoc("fake-org/repo1", "docs/README.md", 12, 'a', true)},
		{aBare, histLoc("fake-org/repo1", "config/app.env", 3, 'b', false)},
		{aBare, report.Location{Path: "", Line: 1, Column: 30, Repo: "fake-org/repo1", Commit: strings.Repeat("c", 40),
			Author: "Someone <s@example.invalid>", Date: ptr(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)), Message: true}},
		{b, histLoc("fake-org/repo1", "scripts/upload.sh", 40, 'd', true)},
		{b, report.Location{Path: "weird/päth with `tick`.txt", Line: 2, Column: 1, Repo: "fake-org/repo1",
			Blob: strings.Repeat("e", 40)}},
		{ud, histLoc("fake-org/repo1", "notebooks/a.ipynb", 99, 'f', false)},
	}
}

// cmpFindings compares findings; nil and empty slices are the same (a
// Credential's slices may be nil in a scan and empty from the store).
var cmpFindings = cmp.Options{cmpopts.EquateEmpty()}

// TestFindingsRoundTrip: the store returns what a direct scan reports, with
// the same fields, locations in the same order, and the credential.
func TestFindingsRoundTrip(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := openTest(t, Config{DSN: b.newDSN(t)})
		ctx := context.Background()
		want := collect(false, corpus()...)
		mustTx(t, s, func(tx *Tx) error {
			if err := tx.UpsertRepo(ctx, testRepo(1)); err != nil {
				return err
			}
			run, err := tx.BeginRun(ctx, "org:fake-org")
			if err != nil {
				return err
			}
			_, err = tx.AddFindings(ctx, run, 1, want)
			return err
		})
		got, err := s.Findings(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, cmpFindings); diff != "" {
			t.Errorf("Findings() differs from the direct scan (-scan +store):\n%s", diff)
		}
		for i := range got {
			if got[i].Credential.Signature.Reveal() != want[i].Credential.Signature.Reveal() ||
				got[i].Credential.Query.Reveal() != want[i].Credential.Query.Reveal() ||
				got[i].Credential.URL.Reveal() != want[i].Credential.URL.Reveal() {
				t.Errorf("finding %s: the stored token differs", got[i].Fingerprint)
			}
			if got[i].Token != "" || got[i].URL != "" {
				t.Errorf("finding %s: Token or URL filled without Reveal", got[i].Fingerprint)
			}
		}

		revealed, err := s.Findings(ctx, Filter{Reveal: true})
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range revealed {
			if f.Token != want[i].Credential.Query.Reveal() || f.URL != want[i].Credential.URL.Reveal() {
				t.Errorf("finding %s: Reveal gave token %q url %q", f.Fingerprint, f.Token, f.URL)
			}
		}

		high, err := s.Findings(ctx, Filter{MinSeverity: detect.Medium})
		if err != nil {
			t.Fatal(err)
		}
		if len(high) != 2 || high[0].Severity != detect.Critical || high[1].Severity != detect.Medium {
			t.Errorf("MinSeverity medium: got %d findings %v", len(high), severities(high))
		}
	})
}

func severities(fs []report.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Severity.String())
	}
	return out
}

// TestAddFindingsIdempotent: adding the same findings twice adds nothing;
// first_seen stays and last_seen moves; "new in run" names a token only in
// the run that first saw it.
func TestAddFindingsIdempotent(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		clk := newClock()
		s := openTest(t, Config{DSN: b.newDSN(t), Now: clk.now})
		ctx := context.Background()
		occ := corpus()
		first := collect(false, occ[:4]...) // tokens 1 and 2
		all := collect(false, occ...)       // and the user delegation token
		t1 := clk.now()

		add := func(run int64, fs []report.Finding) []string {
			t.Helper()
			var fresh []string
			mustTx(t, s, func(tx *Tx) error {
				var err error
				fresh, err = tx.AddFindings(ctx, run, 1, fs)
				return err
			})
			return fresh
		}
		var run1, run2 int64
		mustTx(t, s, func(tx *Tx) error {
			if err := tx.UpsertRepo(ctx, testRepo(1)); err != nil {
				return err
			}
			var err error
			run1, err = tx.BeginRun(ctx, "org:fake-org")
			return err
		})

		fps := func(fs []report.Finding) []string {
			var out []string
			for _, f := range fs {
				out = append(out, f.Fingerprint)
			}
			slices.Sort(out)
			return out
		}
		if got, want := add(run1, first), fps(first); !slices.Equal(got, want) {
			t.Errorf("first add: new = %v, want %v", got, want)
		}
		nf, nl := count(t, s, "findings"), count(t, s, "locations")
		clk.advance(time.Hour)
		if got, want := add(run1, first), fps(first); !slices.Equal(got, want) {
			t.Errorf("second add in the same run: new = %v, want %v", got, want)
		}
		if a, b := count(t, s, "findings"), count(t, s, "locations"); a != nf || b != nl {
			t.Errorf("second add: %d findings %d locations, want %d and %d", a, b, nf, nl)
		}

		mustTx(t, s, func(tx *Tx) error {
			var err error
			run2, err = tx.BeginRun(ctx, "org:fake-org")
			return err
		})
		clk.advance(24 * time.Hour)
		t3 := clk.now()
		udFP := fakeUDMatch(3).Fingerprint
		if got := add(run2, all); !slices.Equal(got, []string{udFP}) {
			t.Errorf("add in run 2: new = %v, want only %s", got, udFP)
		}
		if got := add(run2, all); !slices.Equal(got, []string{udFP}) {
			t.Errorf("add in run 2 again: new = %v, want only %s", got, udFP)
		}
		if a, b := count(t, s, "findings"), count(t, s, "locations"); a != 3 || b != 6 {
			t.Errorf("after run 2: %d findings %d locations, want 3 and 6", a, b)
		}

		got, err := s.Findings(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(all, got, cmpFindings); diff != "" {
			t.Errorf("after repeated adds (-scan +store):\n%s", diff)
		}
		for _, f := range first {
			firstSeen, lastSeen, err := s.FindingSeen(ctx, f.Fingerprint)
			if err != nil {
				t.Fatal(err)
			}
			if !firstSeen.At.Equal(t1) || firstSeen.Run != run1 {
				t.Errorf("%s first seen %v in run %d, want %v in run %d", f.Fingerprint, firstSeen.At, firstSeen.Run, t1, run1)
			}
			if !lastSeen.At.Equal(t3) || lastSeen.Run != run2 {
				t.Errorf("%s last seen %v in run %d, want %v in run %d", f.Fingerprint, lastSeen.At, lastSeen.Run, t3, run2)
			}
		}

		for _, tc := range []struct {
			run  int64
			want []string
		}{{run1, fps(first)}, {run2, []string{udFP}}} {
			fs, err := s.Findings(ctx, Filter{RunID: tc.run})
			if err != nil {
				t.Fatal(err)
			}
			if got := fps(fs); !slices.Equal(got, tc.want) {
				t.Errorf("Findings(RunID %d) = %v, want %v", tc.run, got, tc.want)
			}
		}
	})
}

// TestAddFindingsKeepsRichestOccurrence: a token first stored bare keeps
// the URL form once a later scan finds it, and not the other way round.
func TestAddFindingsKeepsRichestOccurrence(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := openTest(t, Config{DSN: b.newDSN(t)})
		ctx := context.Background()
		bare := collect(false, occurrence{fakeMatch(1, detect.Critical, false), histLoc("o/r", "a", 1, 'a', true)})
		full := collect(false, occurrence{fakeMatch(1, detect.Critical, true), histLoc("o/r", "b", 1, 'b', true)})
		for _, batch := range [][]report.Finding{bare, full, bare} {
			mustTx(t, s, func(tx *Tx) error {
				run, err := tx.BeginRun(ctx, "t")
				if err != nil {
					return err
				}
				_, err = tx.AddFindings(ctx, run, 0, batch)
				return err
			})
		}
		got, err := s.Findings(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Host == "" || got[0].Credential.URL.IsZero() || len(got[0].Locations) != 2 {
			t.Fatalf("got %+v, want the URL form with both locations", got)
		}
	})
}

func TestLocationCap(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := openTest(t, Config{DSN: b.newDSN(t), MaxLocations: 3})
		ctx := context.Background()
		var occ []occurrence
		m := fakeMatch(1, detect.High, true)
		for i := range 5 {
			occ = append(occ, occurrence{m, histLoc("o/r", fmt.Sprintf("f%d.txt", i), 1, 'a', true)})
		}
		fs := collect(false, occ...)
		var run int64
		mustTx(t, s, func(tx *Tx) error {
			var err error
			run, err = tx.BeginRun(ctx, "t")
			return err
		})
		add := func(fs []report.Finding) {
			mustTx(t, s, func(tx *Tx) error { _, err := tx.AddFindings(ctx, run, 0, fs); return err })
		}
		check := func(wantTrunc int) {
			t.Helper()
			got, err := s.Findings(ctx, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || len(got[0].Locations) != 3 || got[0].LocationsTruncated != wantTrunc {
				t.Fatalf("got %d locations, %d truncated; want 3 and %d", len(got[0].Locations), got[0].LocationsTruncated, wantTrunc)
			}
		}
		add(fs)
		check(2)
		add(fs)
		check(2)
		// A scan that itself dropped locations reports them; counted once.
		fs[0].LocationsTruncated = 4
		add(fs)
		add(fs)
		check(6)
	})
}

func TestTips(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := openTest(t, Config{DSN: b.newDSN(t)})
		ctx := context.Background()
		v1 := map[string]string{"refs/heads/main": strings.Repeat("1", 40), "refs/tags/v1": strings.Repeat("2", 40)}
		v2 := map[string]string{"refs/heads/main": strings.Repeat("3", 40), "refs/pull/1/head": strings.Repeat("4", 40)}
		mustTx(t, s, func(tx *Tx) error {
			if err := tx.UpsertRepo(ctx, testRepo(7)); err != nil {
				return err
			}
			return tx.SetTips(ctx, 7, v1)
		})
		// A scan that fails leaves the recorded tips alone.
		boom := errors.New("scan failed")
		err := s.InTx(ctx, func(tx *Tx) error {
			if err := tx.SetTips(ctx, 7, v2); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if got, err := s.Tips(ctx, 7); err != nil || !cmp.Equal(got, v1) {
			t.Errorf("after a rolled-back scan: %v, %v; want %v", got, err, v1)
		}
		mustTx(t, s, func(tx *Tx) error {
			if got, err := tx.Tips(ctx, 7); err != nil || !cmp.Equal(got, v1) {
				return fmt.Errorf("Tx.Tips = %v, %v", got, err)
			}
			return tx.SetTips(ctx, 7, v2)
		})
		if got, err := s.Tips(ctx, 7); err != nil || !cmp.Equal(got, v2) {
			t.Errorf("after SetTips: %v, %v; want %v", got, err, v2)
		}
		if got, err := s.Tips(ctx, 8); err != nil || got == nil || len(got) != 0 {
			t.Errorf("tips of an unknown repository: %v, %v; want empty", got, err)
		}
		err = s.InTx(ctx, func(tx *Tx) error { return tx.SetTips(ctx, 8, v1) })
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("SetTips of an unknown repository: %v, want ErrNotFound", err)
		}
	})
}

func TestRepoAndRun(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		clk := newClock()
		s := openTest(t, Config{DSN: b.newDSN(t), Now: clk.now})
		ctx := context.Background()
		r := testRepo(42)
		t0 := clk.now()
		mustTx(t, s, func(tx *Tx) error { return tx.UpsertRepo(ctx, r) })
		clk.advance(time.Minute)
		r.FullName, r.Archived, r.Visibility, r.Private = "fake-org/renamed", true, "public", false
		var run int64
		mustTx(t, s, func(tx *Tx) error {
			if err := tx.UpsertRepo(ctx, r); err != nil {
				return err
			}
			var err error
			if run, err = tx.BeginRun(ctx, "org:fake-org"); err != nil {
				return err
			}
			return tx.FinishRun(ctx, run, true, map[string]int64{"repos": 1, "findings": 0})
		})
		got, err := s.Repo(ctx, 42)
		if err != nil {
			t.Fatal(err)
		}
		want := r
		want.FirstSeen, want.LastSeen = t0, clk.now()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Repo (-want +got):\n%s", diff)
		}
		gotRun, err := s.Run(ctx, run)
		if err != nil {
			t.Fatal(err)
		}
		wantRun := Run{ID: run, Target: "org:fake-org", StartedAt: clk.now(), FinishedAt: clk.now(), Complete: true,
			Counts: map[string]int64{"repos": 1, "findings": 0}}
		if diff := cmp.Diff(wantRun, gotRun); diff != "" {
			t.Errorf("Run (-want +got):\n%s", diff)
		}
		if _, err := s.Repo(ctx, 43); !errors.Is(err, ErrNotFound) {
			t.Errorf("Repo(43) = %v, want ErrNotFound", err)
		}
	})
}

func TestTriage(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := openTest(t, Config{DSN: b.newDSN(t)})
		ctx := context.Background()
		fs := collect(false, corpus()...)
		mustTx(t, s, func(tx *Tx) error {
			run, err := tx.BeginRun(ctx, "t")
			if err != nil {
				return err
			}
			_, err = tx.AddFindings(ctx, run, 0, fs)
			return err
		})
		fp := fs[0].Fingerprint
		if err := s.SetTriage(ctx, fp, TriageIgnored, "test fixture", "alice"); err != nil {
			t.Fatal(err)
		}
		open, err := s.Findings(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(open) != len(fs)-1 || slices.ContainsFunc(open, func(f report.Finding) bool { return f.Fingerprint == fp }) {
			t.Errorf("open findings: %d, want %d without %s", len(open), len(fs)-1, fp)
		}
		if n, err := s.Triaged(ctx, Filter{}); err != nil || n != 1 {
			t.Errorf("Triaged = %d, %v; want 1", n, err)
		}
		if n, err := s.Triaged(ctx, Filter{MinSeverity: detect.Critical + 1}); err != nil || n != 0 {
			t.Errorf("Triaged above critical = %d, %v; want 0", n, err)
		}
		if all, err := s.Findings(ctx, Filter{IncludeTriaged: true}); err != nil || len(all) != len(fs) {
			t.Errorf("IncludeTriaged: %d findings, %v; want %d", len(all), err, len(fs))
		}
		tr, err := s.TriageOf(ctx, fp)
		if err != nil || tr.State != TriageIgnored || tr.Reason != "test fixture" || tr.Actor != "alice" || tr.UpdatedAt.IsZero() {
			t.Errorf("TriageOf = %+v, %v", tr, err)
		}
		if err := s.SetTriage(ctx, fp, TriageOpen, "reopened", "bob"); err != nil {
			t.Fatal(err)
		}
		if open, _ := s.Findings(ctx, Filter{}); len(open) != len(fs) {
			t.Errorf("after reopening: %d open, want %d", len(open), len(fs))
		}
		if err := s.SetTriage(ctx, "00", TriageIgnored, "", ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetTriage of an unknown finding: %v, want ErrNotFound", err)
		}
		if err := s.SetTriage(ctx, fp, "maybe", "", ""); err == nil {
			t.Error("SetTriage accepted an unknown state")
		}
	})
}

func TestIssueIntents(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := openTest(t, Config{DSN: b.newDSN(t)})
		ctx := context.Background()
		fs := collect(false, corpus()...)
		fp, fp2 := fs[0].Fingerprint, fs[1].Fingerprint
		// Step 1: the intents are recorded in the transaction that stores the findings.
		mustTx(t, s, func(tx *Tx) error {
			if err := tx.UpsertRepo(ctx, testRepo(1)); err != nil {
				return err
			}
			run, err := tx.BeginRun(ctx, "t")
			if err != nil {
				return err
			}
			if _, err := tx.AddFindings(ctx, run, 1, fs); err != nil {
				return err
			}
			for _, f := range []string{fp, fp2} {
				if _, err := tx.RecordIntent(ctx, Intent{Fingerprint: f, RepoID: 1, Marker: "sasquatch:" + f[:16]}); err != nil {
					return err
				}
			}
			return nil
		})
		// Recording again (a re-run after a crash) returns the same intent.
		again, err := s.RecordIntent(ctx, Intent{Fingerprint: fp, RepoID: 1, Tracker: "other/tracker", Marker: "different"})
		if err != nil {
			t.Fatal(err)
		}
		if again.State != IntentIntended || again.Marker != "sasquatch:"+fp[:16] || again.Tracker != "" || again.Attempts != 0 {
			t.Errorf("RecordIntent again = %+v", again)
		}
		in, err := s.BeginAttempt(ctx, fp, 1)
		if err != nil || in.Attempts != 1 {
			t.Fatalf("BeginAttempt = %+v, %v", in, err)
		}
		// The POST timed out: the intent stays, to be reconciled; the error is scrubbed.
		secretish := "Post https://x.blob.core.windows.net/?sv=2022&sig=" + fakeSig(1) + ": timeout"
		if err := s.MarkUnknown(ctx, fp, 1, secretish); err != nil {
			t.Fatal(err)
		}
		pending, err := s.Intents(ctx, IntentIntended)
		if err != nil || len(pending) != 2 {
			t.Fatalf("Intents(intended) = %d, %v; want 2", len(pending), err)
		}
		got, _ := s.Intent(ctx, fp, 1)
		if strings.Contains(got.LastError, fakeSig(1)) || got.Attempts != 1 || got.State != IntentIntended {
			t.Errorf("after MarkUnknown: %+v", got)
		}
		if err := s.MarkFiled(ctx, fp, 1, 17, "https://github.invalid/fake-org/repo1/issues/17"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.BeginAttempt(ctx, fp, 1); err == nil {
			t.Error("BeginAttempt on a filed intent succeeded")
		}
		if err := s.MarkFailed(ctx, fp2, 1, "issues are disabled (410)"); err != nil {
			t.Fatal(err)
		}
		for state, want := range map[IntentState]string{IntentFiled: fp, IntentFailed: fp2} {
			l, err := s.Intents(ctx, state)
			if err != nil || len(l) != 1 || l[0].Fingerprint != want {
				t.Errorf("Intents(%s) = %+v, %v", state, l, err)
			}
		}
		filed, _ := s.Intent(ctx, fp, 1)
		if filed.Number != 17 || filed.URL == "" || filed.LastError != "" || filed.CreatedAt.IsZero() {
			t.Errorf("filed intent: %+v", filed)
		}
		if all, err := s.Intents(ctx, ""); err != nil || len(all) != 2 {
			t.Errorf("Intents(\"\") = %d, %v; want 2", len(all), err)
		}
		if _, err := s.Intent(ctx, fp, 2); !errors.Is(err, ErrNotFound) {
			t.Errorf("Intent of another repository: %v, want ErrNotFound", err)
		}
	})
}

func TestLiveness(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := openTest(t, Config{DSN: b.newDSN(t)})
		ctx := context.Background()
		fs := collect(false, corpus()...)
		mustTx(t, s, func(tx *Tx) error {
			run, err := tx.BeginRun(ctx, "t")
			if err != nil {
				return err
			}
			_, err = tx.AddFindings(ctx, run, 0, fs)
			return err
		})
		at := time.Date(2026, 11, 2, 3, 4, 5, 123456000, time.UTC)
		l := Liveness{Value: "revoked", Code: "AuthenticationFailed", CheckedAt: at}
		if err := s.SetLiveness(ctx, fs[0].Fingerprint, l); err != nil {
			t.Fatal(err)
		}
		if got, err := s.LivenessOf(ctx, fs[0].Fingerprint); err != nil || !cmp.Equal(got, l) {
			t.Errorf("LivenessOf = %+v, %v; want %+v", got, err, l)
		}
		got, _ := s.Findings(ctx, Filter{})
		if got[0].Liveness != "revoked" || got[1].Liveness != "" {
			t.Errorf("Findings liveness: %q %q", got[0].Liveness, got[1].Liveness)
		}
		if err := s.SetLiveness(ctx, "00", l); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetLiveness of an unknown finding: %v", err)
		}
	})
}

// TestConcurrentAddFindings: workers adding overlapping findings at once
// (PostgreSQL: row locks and ON CONFLICT; SQLite: the busy timeout) end with
// the union, each token once and each location once.
func TestConcurrentAddFindings(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := openTest(t, Config{DSN: b.newDSN(t)})
		ctx := context.Background()
		var run int64
		mustTx(t, s, func(tx *Tx) error {
			for id := int64(1); id <= 4; id++ {
				if err := tx.UpsertRepo(ctx, testRepo(id)); err != nil {
					return err
				}
			}
			var err error
			run, err = tx.BeginRun(ctx, "org:fake-org")
			return err
		})
		const workers, tokens = 4, 6
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			repoID := int64(w + 1)
			wg.Go(func() {
				var occ []occurrence
				for i := range tokens {
					// Each worker sees every token, in a different order.
					k := (i + w) % tokens
					occ = append(occ, occurrence{fakeMatch(k, detect.High, true),
						histLoc(fmt.Sprintf("fake-org/repo%d", repoID), fmt.Sprintf("f%d.txt", k), 1, 'a', true)})
				}
				fs := collect(false, occ...)
				for range 3 {
					err := s.InTx(ctx, func(tx *Tx) error {
						if err := tx.SetTips(ctx, repoID, map[string]string{"refs/heads/main": "x"}); err != nil {
							return err
						}
						_, err := tx.AddFindings(ctx, run, repoID, fs)
						return err
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if a, b := count(t, s, "findings"), count(t, s, "locations"); a != tokens || b != tokens*workers {
			t.Errorf("%d findings %d locations, want %d and %d", a, b, tokens, tokens*workers)
		}
	})
}

func TestSigningKeyHintAndContainer(t *testing.T) {
	ud := fakeUDMatch(1).Token
	if got, want := signingKeyHint(ud), "skoid=11111111-1111-1111-1111-111111111111;sktid=22222222-2222-2222-2222-222222222222;skt=2026-08-31T00:00:00Z;ske=2026-09-06T00:00:00Z"; got != want {
		t.Errorf("user delegation hint = %q, want %q", got, want)
	}
	si := detect.Token{Kind: detect.KindService, Query: detect.NewSecret("https://a.blob.core.windows.net/c?sv=2019-02-02&sr=c&si=partner-policy&sig=" + fakeSig(1))}
	if got := signingKeyHint(si); got != "si=partner-policy" {
		t.Errorf("stored policy hint = %q", got)
	}
	if got := signingKeyHint(fakeMatch(1, detect.High, true).Token); got != "" {
		t.Errorf("account SAS hint = %q, want empty", got)
	}
	if strings.Contains(signingKeyHint(si), fakeSig(1)) {
		t.Error("the hint holds the signature")
	}
	for in, want := range map[string]string{"/c1/b1.txt": "c1", "/c1": "c1", "table orders": "orders", "": ""} {
		if got := containerOf(in); got != want {
			t.Errorf("containerOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHostileText: repository content is stored and read back byte for byte
// on both drivers, even where PostgreSQL refuses it as text (bytes that are
// not UTF-8, NUL) and where it looks like the store's own escape.
func TestHostileText(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := openTest(t, Config{DSN: b.newDSN(t)})
		ctx := context.Background()
		m := fakeMatch(1, detect.High, true)
		q := "sv=2022-11-02&x=\x00\xff\xfe&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig=" + fakeSig(1)
		m.Token.Query = detect.NewSecret(q)
		m.Token.URL = detect.NewSecret("https://fakeacct1.blob.core.windows.net/\xff?" + q)
		m.Token.Resource = "/c\xff/b\x00"
		loc := histLoc("fake-org/repo1", "dir\xff/na\x00me"+rawMark+".txt", 3, 'a', true)
		loc.Author = "\xc3\x28 Bad <x@example.invalid>"
		loc2 := histLoc("fake-org/repo1", rawMark+"looks escaped", 4, 'b', false)
		want := collect(true, occurrence{m, loc}, occurrence{m, loc2})
		tips := map[string]string{"refs/heads/\xff\x00": "sha\x00", rawMark + "x": "y"}
		var run int64
		mustTx(t, s, func(tx *Tx) error {
			if err := tx.UpsertRepo(ctx, testRepo(1)); err != nil {
				return err
			}
			var err error
			if run, err = tx.BeginRun(ctx, "org:\xff"); err != nil {
				return err
			}
			if _, err := tx.AddFindings(ctx, run, 1, want); err != nil {
				return err
			}
			return tx.SetTips(ctx, 1, tips)
		})
		got, err := s.Findings(ctx, Filter{Reveal: true})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, cmpFindings); diff != "" {
			t.Errorf("hostile text (-scan +store):\n%s", diff)
		}
		if len(got) == 1 && (got[0].Credential.Query.Reveal() != q || got[0].Token != q) {
			t.Errorf("token not kept byte for byte: %q", got[0].Token)
		}
		if gotTips, err := s.Tips(ctx, 1); err != nil || !cmp.Equal(gotTips, tips) {
			t.Errorf("tips %q, %v; want %q", gotTips, err, tips)
		}
		if r, err := s.Run(ctx, run); err != nil || r.Target != "org:\xff" {
			t.Errorf("run target %q, %v", r.Target, err)
		}
	})
}

// TestLocationLeavesTip: a token removed from the tip keeps its location,
// now marked as history only; nothing is duplicated.
func TestLocationLeavesTip(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := openTest(t, Config{DSN: b.newDSN(t)})
		ctx := context.Background()
		m := fakeMatch(1, detect.High, true)
		add := func(atTip bool) {
			t.Helper()
			fs := collect(false, occurrence{m, histLoc("o/r", "a.txt", 1, 'a', atTip)}, occurrence{m, histLoc("o/r", "b.txt", 1, 'a', true)})
			mustTx(t, s, func(tx *Tx) error {
				run, err := tx.BeginRun(ctx, "t")
				if err != nil {
					return err
				}
				_, err = tx.AddFindings(ctx, run, 0, fs)
				return err
			})
		}
		add(true)
		add(false)
		got, err := s.Findings(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || len(got[0].Locations) != 2 {
			t.Fatalf("got %d findings, want 1 with 2 locations", len(got))
		}
		if l := got[0].Locations[0]; l.Path != "a.txt" || l.AtTip == nil || *l.AtTip {
			t.Errorf("a.txt: at_tip %v, want false", l.AtTip)
		}
		if l := got[0].Locations[1]; l.AtTip == nil || !*l.AtTip {
			t.Errorf("b.txt: at_tip %v, want true", l.AtTip)
		}
	})
}
