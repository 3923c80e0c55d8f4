package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// scanRepoArgs stands for the sweep's follow-up job.
type scanRepoArgs struct {
	RepoID int64 `json:"repo_id"`
}

func (scanRepoArgs) Kind() string { return "sasquatch_test_scan_repo" }

// riverDriver returns River's driver for the store's database, on the
// store's *sql.DB, so that client.InsertTx takes the *sql.Tx of Tx.SQL.
// PostgreSQL needs riverdatabasesql (River's database/sql driver): see
// river_pg_test.go.
func riverDriver(t *testing.T, s *Store) riverdriver.Driver[*sql.Tx] {
	t.Helper()
	if s.Driver() == DriverSQLite {
		return riversqlite.New(s.DB())
	}
	return riverPostgresDriver(t, s)
}

// TestRiverInsertInStoreTransaction: River's tables live beside the store's,
// and a job inserted with client.InsertTx inside InTx commits and rolls back
// together with the findings of the same transaction.
func TestRiverInsertInStoreTransaction(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openTest(t, Config{DSN: b.newDSN(t)})
		drv := riverDriver(t, s)
		mig, err := rivermigrate.New(drv, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mig.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			t.Fatalf("river migrations: %v", err)
		}
		client, err := river.NewClient(drv, &river.Config{}) // insert-only: no queues, no workers
		if err != nil {
			t.Fatal(err)
		}
		fs := collect(false, occurrence{fakeMatch(1, detect.Critical, true), histLoc("fake-org/repo1", "a.txt", 1, 'a', true)})

		scanTx := func(tx *Tx) error {
			if err := tx.UpsertRepo(ctx, testRepo(1)); err != nil {
				return err
			}
			run, err := tx.BeginRun(ctx, "org:fake-org")
			if err != nil {
				return err
			}
			if _, err := tx.AddFindings(ctx, run, 1, fs); err != nil {
				return err
			}
			if err := tx.SetTips(ctx, 1, map[string]string{"refs/heads/main": "aaaa"}); err != nil {
				return err
			}
			_, err = client.InsertTx(ctx, tx.SQL(), scanRepoArgs{RepoID: 1}, nil)
			return err
		}
		state := func() (jobs, findings int) {
			t.Helper()
			res, err := client.JobList(ctx, river.NewJobListParams().Kinds(scanRepoArgs{}.Kind()))
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Findings(ctx, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			return len(res.Jobs), len(got)
		}

		rollback := errors.New("scan failed after enqueueing")
		if err := s.InTx(ctx, func(tx *Tx) error {
			if err := scanTx(tx); err != nil {
				return err
			}
			// Inside the transaction both are visible.
			var n int
			if err := tx.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job`).Scan(&n); err != nil || n != 1 {
				t.Errorf("inside the transaction: %d jobs, %v", n, err)
			}
			return rollback
		}); !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		if jobs, findings := state(); jobs != 0 || findings != 0 {
			t.Fatalf("after rollback: %d jobs, %d findings; want none", jobs, findings)
		}

		mustTx(t, s, scanTx)
		if jobs, findings := state(); jobs != 1 || findings != 1 {
			t.Fatalf("after commit: %d jobs, %d findings; want 1 and 1", jobs, findings)
		}
		res, err := client.JobList(ctx, river.NewJobListParams())
		if err != nil {
			t.Fatal(err)
		}
		var args struct {
			RepoID int64 `json:"repo_id"`
		}
		// PostgreSQL's jsonb re-spaces the JSON: compare values, not text.
		if err := json.Unmarshal(res.Jobs[0].EncodedArgs, &args); err != nil || args.RepoID != 1 {
			t.Errorf("job args %s (%v)", res.Jobs[0].EncodedArgs, err)
		}
	})
}
