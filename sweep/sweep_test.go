package sweep

import (
	"context"
	"encoding/base64"
	"fmt"
	"github.com/sasquatch-sec/sasquatch/internal/store/storetest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sasquatch-sec/sasquatch/crawler/github"
	"github.com/sasquatch-sec/sasquatch/fixtures/fakegh"
	"github.com/sasquatch-sec/sasquatch/internal/store"
	"github.com/sasquatch-sec/sasquatch/pipeline"
)

var now = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

func sasURL(account string, n int) string {
	sig := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("SYNTHETIC-SWEEP-PKG-SIG-%08d", n)))
	return "https://" + account + ".blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&sig=" + url.QueryEscape(sig)
}

// org serves n repositories, a token in each.
func org(t *testing.T, n int) *fakegh.Server {
	gh := fakegh.New(t)
	for i := range n {
		gh.AddRepo(t, int64(500+i), "acme", fmt.Sprintf("r%02d", i), map[string]string{
			"cfg.txt": sasURL(fmt.Sprintf("contosopkg%02d", i), i) + "\n",
		})
	}
	return gh
}

// newQueue opens a queue of its own (its own River client, pool and GitHub
// client) on dsn, as one worker process would.
func newQueue(t *testing.T, dsn string, gh *fakegh.Server) (*Queue, *store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	client, err := github.New(github.Config{APIURL: gh.APIURL()})
	if err != nil {
		t.Fatal(err)
	}
	pool := pipeline.New(pipeline.Config{Workers: 1, Now: now})
	t.Cleanup(pool.Close)
	q, err := New(ctx, Config{Store: st, GitHub: client, Pipeline: pool, Concurrency: 2, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return q, st
}

// TestTwoWorkersSplitASweep is issue 11 "must be true" 4: two workers on
// one PostgreSQL split a sweep without scanning any repository twice.
func TestTwoWorkersSplitASweep(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	const repos = 8
	gh := org(t, repos)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a hang guard
	defer cancel()
	q1, st := newQueue(t, dsn, gh)
	q2, _ := newQueue(t, dsn, gh)
	runID, _, err := q1.Enqueue(ctx, github.Targets{Orgs: []string{"acme"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []*Queue{q1, q2} {
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Stop(context.Background()) })
	}
	var last Progress
	if err := q1.Wait(ctx, runID, func(p Progress) { last = p }); err != nil {
		t.Fatal(err)
	}
	if !last.Finished || last.Done != repos || last.Total != repos || last.Findings != repos {
		t.Errorf("last progress %+v, want finished, %d/%d repositories, %d findings", last, repos, repos, repos)
	}
	packs := gh.Packs()
	if len(packs) != repos {
		t.Errorf("%d repositories fetched, want %d: %v", len(packs), repos, packs)
	}
	for repo, n := range packs {
		if n != 1 {
			t.Errorf("%s fetched %d times, want once", repo, n)
		}
	}
	q1.mu.Lock()
	n1 := q1.lastJobs[kindScan]
	q1.mu.Unlock()
	q2.mu.Lock()
	n2 := q2.lastJobs[kindScan]
	q2.mu.Unlock()
	if n1+n2 != repos || n1 == 0 || n2 == 0 {
		t.Errorf("scan jobs worked: %d and %d, want %d in all, split between both workers", n1, n2, repos)
	}
	fs, err := st.Findings(ctx, store.Filter{RunID: runID})
	if err != nil || len(fs) != repos {
		t.Errorf("%d findings (%v), want %d", len(fs), err, repos)
	}
	run, err := st.Run(ctx, runID)
	if err != nil || !run.Complete || run.Counts["repositories"] != repos {
		t.Errorf("run %+v (%v), want complete with %d repositories", run, err, repos)
	}
}

// TestSweepSQLite: the same sweep on the embedded driver, in one process,
// and a repository created during the sweep is picked up by the relist.
func TestSweepSQLite(t *testing.T) {
	gh := org(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	q, st := newQueue(t, filepath.Join(t.TempDir(), "s.db"), gh)
	var added sync.Once // AfterJob runs on River's worker goroutines, several at once
	q.cfg.AfterJob = func(kind string) {
		if kind == kindScan {
			added.Do(func() { // created while the sweep runs
				gh.AddRepo(t, 999, "acme", "late", map[string]string{"x.txt": sasURL("contosolate", 99) + "\n"})
			})
		}
	}
	runID, _, err := q.Enqueue(ctx, github.Targets{Orgs: []string{"acme"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(context.Background())
	if err := q.Wait(ctx, runID, nil); err != nil {
		t.Fatal(err)
	}
	fs, err := st.Findings(ctx, store.Filter{RunID: runID})
	if err != nil || len(fs) != 4 {
		t.Fatalf("%d findings (%v), want 4 (3 + the repository created during the sweep)", len(fs), err)
	}
	outs, err := q.Outcomes(ctx, runID)
	if err != nil || len(outs) != 4 {
		t.Errorf("%d outcomes (%v), want 4", len(outs), err)
	}
}

// TestSweepFindingsCap: a repository holding more distinct tokens than the
// collector keeps is scanned incomplete, says so (a findings-cap skip and
// a problem), and keeps no tips, so that the next sweep looks again; a
// repository under the cap is unaffected.
func TestSweepFindingsCap(t *testing.T) {
	gh := fakegh.New(t)
	gh.AddRepo(t, 700, "acme", "many", map[string]string{
		"a.txt": sasURL("contosocap01", 1) + "\n" + sasURL("contosocap02", 2) + "\n" + sasURL("contosocap03", 3) + "\n",
	})
	gh.AddRepo(t, 701, "acme", "few", map[string]string{"a.txt": sasURL("contosocap04", 4) + "\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	q, st := newQueue(t, filepath.Join(t.TempDir(), "s.db"), gh)
	q.cfg.MaxFindings = 2
	runID, _, err := q.Enqueue(ctx, github.Targets{Orgs: []string{"acme"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(context.Background())
	if err := q.Wait(ctx, runID, nil); err != nil {
		t.Fatal(err)
	}
	outs, err := q.Outcomes(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	byRepo := map[string]ScanOutcome{}
	for _, o := range outs {
		byRepo[o.Repo] = o
	}
	many, few := byRepo["acme/many"], byRepo["acme/few"]
	if many.Complete || many.Skips["findings-cap"] != 1 || len(many.Problems) == 0 || many.NewFindings != 2 {
		t.Errorf("over the cap: %+v, want incomplete with a findings-cap skip, a problem and 2 findings", many)
	}
	if !few.Complete || few.NewFindings != 1 {
		t.Errorf("under the cap: %+v", few)
	}
	for id, want := range map[int64]bool{700: false, 701: true} {
		tips, err := st.Tips(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(tips) > 0; got != want {
			t.Errorf("repository %d: tips saved %v, want %v", id, got, want)
		}
	}
}
