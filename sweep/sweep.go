package sweep

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/crawler/github"
	"github.com/sasquatch-sec/sasquatch/internal/store"
	"github.com/sasquatch-sec/sasquatch/pipeline"
	"github.com/sasquatch-sec/sasquatch/report"
)

// Job kinds (stable: they are stored in the queue).
const (
	kindStart  = "sasquatch_sweep_start"
	kindSweep  = "sasquatch_sweep"
	kindScan   = "sasquatch_scan_repo"
	kindRelist = "sasquatch_sweep_relist"
)

// Config configures a [Queue].
type Config struct {
	Store    *store.Store
	GitHub   *github.Client
	Pipeline *pipeline.Pipeline
	// Concurrency is the number of scan jobs this process works at once
	// (all share Pipeline's detector goroutines). Default 4.
	Concurrency int
	// RepoTimeout bounds one scan job (clone plus scan). Default 1 h. Jobs
	// left running by a killed worker are rescued after it plus a margin.
	RepoTimeout time.Duration
	// Every, when set, makes this process's queue enqueue a new sweep of
	// EveryTargets at this interval (River periodic jobs: only the elected
	// leader enqueues).
	Every        time.Duration
	EveryTargets github.Targets
	Logger       *slog.Logger
	// AfterJob, when set, is called after each job's work is committed and
	// before River records it as done (tests kill the process there). It is
	// called from River's worker goroutines, several at once.
	AfterJob func(kind string)
	// PollInterval is how often Wait and the relist job look at the queue
	// (default 1 s; tests use less).
	PollInterval time.Duration
	// MaxFindings caps the unique tokens kept per repository (default
	// report.DefaultMaxFindings). Past it the repository's scan is
	// incomplete and its tips are not saved.
	MaxFindings int
}

// Queue is the sweep job queue of one process.
type Queue struct {
	cfg    Config
	client *river.Client[*sql.Tx]
	log    *slog.Logger
	web    string

	mu       sync.Mutex
	lastJobs map[string]int // kind -> jobs this process finished (tests, progress)
}

// New migrates River's tables in the store's database and returns a queue
// ready to Start (or only to enqueue).
func New(ctx context.Context, cfg Config) (*Queue, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.RepoTimeout <= 0 {
		cfg.RepoTimeout = time.Hour
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &Queue{cfg: cfg, log: log, lastJobs: map[string]int{}}
	if cfg.GitHub != nil {
		q.web = cfg.GitHub.WebURL()
	}
	var driver riverdriver.Driver[*sql.Tx]
	switch cfg.Store.Driver() {
	case "postgres":
		driver = riverdatabasesql.New(cfg.Store.DB())
	default:
		driver = riversqlite.New(cfg.Store.DB())
	}
	mig, err := rivermigrate.New(driver, nil)
	if err != nil {
		return nil, fmt.Errorf("sweep: job queue migrations: %w", err)
	}
	if _, err := mig.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("sweep: migrate job queue: %w", err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &startWorker{q: q})
	river.AddWorker(workers, &sweepWorker{q: q})
	river.AddWorker(workers, &scanWorker{q: q})
	river.AddWorker(workers, &relistWorker{q: q})
	rc := &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Concurrency}},
		Workers:              workers,
		JobTimeout:           cfg.RepoTimeout,
		RescueStuckJobsAfter: cfg.RepoTimeout + 5*time.Minute,
		Logger:               slog.New(slog.DiscardHandler),
		FetchPollInterval:    min(cfg.PollInterval, time.Second),
		FetchCooldown:        min(cfg.PollInterval/4, 100*time.Millisecond),
	}
	if cfg.Every > 0 {
		targets := cfg.EveryTargets
		rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(cfg.Every),
			func() (river.JobArgs, *river.InsertOpts) { return StartArgs{Target: targets}, nil },
			&river.PeriodicJobOpts{RunOnStart: true})}
	}
	q.client, err = river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("sweep: job queue: %w", err)
	}
	return q, nil
}

// Start works jobs until Stop.
func (q *Queue) Start(ctx context.Context) error { return q.client.Start(ctx) }

// Stop waits for the jobs in progress, then stops. Jobs cut short by ctx are
// rescued by the next process.
func (q *Queue) Stop(ctx context.Context) error { return q.client.Stop(ctx) }

// targetName is a run's stored target: "github:" plus the sorted targets.
func targetName(t github.Targets) string {
	var parts []string
	for _, o := range t.Orgs {
		parts = append(parts, "org:"+o)
	}
	for _, u := range t.Users {
		parts = append(parts, "user:"+u)
	}
	for _, r := range t.Repos {
		parts = append(parts, "repo:"+r)
	}
	slices.Sort(parts)
	return "github " + strings.Join(parts, " ")
}

// active are the states of a job not yet done.
var active = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateRetryable,
	rivertype.JobStateScheduled, rivertype.JobStatePending,
}

// Enqueue starts a sweep of t and returns its run ID, or resumes the
// unfinished sweep of the same target that a killed process left behind.
func (q *Queue) Enqueue(ctx context.Context, t github.Targets) (runID int64, resumed bool, err error) {
	if id, ok, err := q.unfinished(ctx, t); err != nil || ok {
		return id, ok, err
	}
	err = q.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		id, err := tx.BeginRun(ctx, targetName(t))
		if err != nil {
			return err
		}
		runID = id
		_, err = q.client.InsertTx(ctx, tx.SQL(), SweepArgs{RunID: id, Target: t}, nil)
		return err
	})
	return runID, false, err
}

// unfinished finds a sweep of t whose jobs are still queued.
func (q *Queue) unfinished(ctx context.Context, t github.Targets) (int64, bool, error) {
	res, err := q.client.JobList(ctx, river.NewJobListParams().Kinds(kindSweep, kindRelist).States(active...).First(1000))
	if err != nil {
		return 0, false, fmt.Errorf("sweep: list jobs: %w", err)
	}
	want := targetName(t)
	for _, j := range res.Jobs {
		var a struct {
			RunID  int64          `json:"run_id"`
			Target github.Targets `json:"target"`
		}
		if json.Unmarshal(j.EncodedArgs, &a) == nil && targetName(a.Target) == want {
			return a.RunID, true, nil
		}
	}
	return 0, false, nil
}

// RescueRunning makes every job left "running" by a process that is gone
// available again at once, instead of after River's rescue delay. Call it
// only where no other process works the same queue (the single-process
// sweep on SQLite, or on PostgreSQL without separate workers).
func (q *Queue) RescueRunning(ctx context.Context) (int, error) {
	res, err := q.cfg.Store.DB().ExecContext(ctx,
		`UPDATE river_job SET state = 'available', scheduled_at = CURRENT_TIMESTAMP WHERE state = 'running'`)
	if err != nil {
		return 0, fmt.Errorf("sweep: rescue running jobs: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Progress is how far a run is.
type Progress struct {
	Done, Total int  // scan jobs finished / enqueued so far
	Findings    int  // findings first seen in this run so far
	Finished    bool // the run is finished
}

// Progress returns how far run id is.
func (q *Queue) Progress(ctx context.Context, id int64) (Progress, error) {
	run, err := q.cfg.Store.Run(ctx, id)
	if err != nil {
		return Progress{}, err
	}
	var p Progress
	p.Finished = !run.FinishedAt.IsZero()
	if p.Findings, err = q.cfg.Store.CountFindings(ctx, store.Filter{RunID: id, IncludeTriaged: true}); err != nil {
		return p, err
	}
	err = q.eachScanJob(ctx, id, nil, func(j *rivertype.JobRow) {
		p.Total++
		if !slices.Contains(active, j.State) {
			p.Done++
		}
	})
	return p, err
}

// Wait returns when run id is finished, calling progress (if set) at each
// poll.
func (q *Queue) Wait(ctx context.Context, id int64, progress func(Progress)) error {
	t := time.NewTicker(q.cfg.PollInterval)
	defer t.Stop()
	for {
		p, err := q.Progress(ctx, id)
		if err != nil {
			return err
		}
		if progress != nil {
			progress(p)
		}
		if p.Finished {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// runTag tags the scan jobs of a run, so they can be listed by run.
func runTag(id int64) string { return "run-" + strconv.FormatInt(id, 10) }

// eachScanJob calls fn for each scan job of run id in states (all when nil).
func (q *Queue) eachScanJob(ctx context.Context, id int64, states []rivertype.JobState, fn func(*rivertype.JobRow)) error {
	params := river.NewJobListParams().Kinds(kindScan).TagsAll(runTag(id)).First(10000)
	if states != nil {
		params = params.States(states...)
	}
	for {
		res, err := q.client.JobList(ctx, params)
		if err != nil {
			return fmt.Errorf("sweep: list scan jobs: %w", err)
		}
		for _, j := range res.Jobs {
			fn(j)
		}
		if len(res.Jobs) < 10000 || res.LastCursor == nil {
			return nil
		}
		params = params.After(res.LastCursor)
	}
}

func (q *Queue) done(kind string) {
	q.mu.Lock()
	q.lastJobs[kind]++
	q.mu.Unlock()
	if q.cfg.AfterJob != nil {
		q.cfg.AfterJob(kind)
	}
}

// StartArgs starts a new sweep of Target (the periodic job's).
type StartArgs struct {
	Target github.Targets `json:"target"`
}

func (StartArgs) Kind() string { return kindStart }

type startWorker struct {
	river.WorkerDefaults[StartArgs]
	q *Queue
}

func (w *startWorker) Work(ctx context.Context, job *river.Job[StartArgs]) error {
	_, _, err := w.q.Enqueue(ctx, job.Args.Target)
	w.q.done(kindStart)
	return err
}

// SweepArgs lists a target for run RunID and enqueues its repositories.
type SweepArgs struct {
	RunID  int64          `json:"run_id"`
	Target github.Targets `json:"target"`
}

func (SweepArgs) Kind() string { return kindSweep }

func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	q *Queue
}

func (w *sweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	q, a := w.q, job.Args
	if err := q.cfg.GitHub.Preflight(ctx, a.Target); err != nil {
		var le *github.ListError
		if errors.As(err, &le) {
			// A typo: permanent. The run ends at once, incomplete.
			q.finish(ctx, a.RunID, false, map[string]int64{"target-not-found": int64(len(le.Targets))}, le.Error())
			q.done(kindSweep)
			return river.JobCancel(err)
		}
		return err // transient: River retries
	}
	n, err := q.enqueueRepos(ctx, a.RunID, a.Target, func(tx *store.Tx) error {
		_, err := q.client.InsertTx(ctx, tx.SQL(), RelistArgs{RunID: a.RunID, Target: a.Target}, &river.InsertOpts{
			ScheduledAt: time.Now().Add(q.cfg.PollInterval)})
		return err
	})
	if err != nil {
		return err
	}
	q.log.Info("sweep listed", "run", a.RunID, "target", targetName(a.Target), "repositories", n)
	q.done(kindSweep)
	return nil
}

// enqueueRepos lists t and, in one transaction, records every repository and
// enqueues its scan job (a duplicate of a job already in the run is
// skipped), plus whatever more does. It returns the number of new jobs.
func (q *Queue) enqueueRepos(ctx context.Context, runID int64, t github.Targets, more func(*store.Tx) error) (int, error) {
	lst, err := q.cfg.GitHub.Repos(ctx, t)
	if err != nil {
		return 0, err
	}
	var inserted int
	err = q.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		inserted = 0
		params := make([]river.InsertManyParams, 0, len(lst.Repos))
		for _, r := range lst.Repos {
			if r.ID == 0 {
				continue // no stable key: cannot be tracked across sweeps
			}
			if err := tx.UpsertRepo(ctx, store.Repo{ID: r.ID, FullName: r.FullName, Private: r.Private,
				Visibility: r.Visibility, DefaultBranch: r.DefaultBranch, CloneURL: r.CloneURL, Archived: r.Archived}); err != nil {
				return err
			}
			params = append(params, river.InsertManyParams{Args: ScanArgs{RunID: runID, Repo: r, RepoID: r.ID},
				InsertOpts: &river.InsertOpts{Tags: []string{runTag(runID)}}})
		}
		if len(params) > 0 {
			res, err := q.client.InsertManyTx(ctx, tx.SQL(), params)
			if err != nil {
				return err
			}
			for _, r := range res {
				if !r.UniqueSkippedAsDuplicate {
					inserted++
				}
			}
		}
		if more != nil {
			return more(tx)
		}
		return nil
	})
	if len(lst.Problems) > 0 || len(lst.Skipped) > 0 {
		q.log.Warn("sweep listing incomplete", "run", runID, "problems", len(lst.Problems), "skipped", len(lst.Skipped))
	}
	return inserted, err
}

// ScanArgs scans one repository for run RunID. Unique by run and
// repository ID.
type ScanArgs struct {
	RunID int64       `json:"run_id" river:"unique"`
	Repo  github.Repo `json:"repo"`
	// RepoID duplicates Repo.ID as the unique key.
	RepoID int64 `json:"repo_id" river:"unique"`
}

func (ScanArgs) Kind() string { return kindScan }

func (ScanArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ScanOutcome is what a scan job records as its River output, aggregated
// into the run's counts when the sweep ends.
type ScanOutcome struct {
	Repo        string           `json:"repo"`
	Blobs       int64            `json:"blobs"`
	Bytes       int64            `json:"bytes"`
	Skips       map[string]int64 `json:"skips,omitempty"`
	Problems    []string         `json:"problems,omitempty"`
	Complete    bool             `json:"complete"`
	Empty       bool             `json:"empty,omitempty"`
	Skipped     string           `json:"skipped,omitempty"` // why the repository could not be opened
	NewFindings int              `json:"new_findings"`
}

type scanWorker struct {
	river.WorkerDefaults[ScanArgs]
	q *Queue
}

func (w *scanWorker) Work(ctx context.Context, job *river.Job[ScanArgs]) error {
	q, a := w.q, job.Args
	if a.RepoID == 0 {
		a.RepoID = a.Repo.ID
	}
	out := ScanOutcome{Repo: a.Repo.FullName}
	tips, err := q.cfg.Store.Tips(ctx, a.RepoID)
	if err != nil {
		return err
	}
	src, err := q.cfg.GitHub.Open(ctx, a.Repo, github.OpenOptions{SinceTips: slices.Collect(maps.Values(tips))})
	var sk *github.SkipError
	switch {
	case errors.Is(err, github.ErrEmpty):
		out.Empty, out.Complete = true, true
		return w.record(ctx, out)
	case errors.As(err, &sk):
		out.Skipped = sk.Reason
		out.Problems = []string{sk.Error()}
		return w.record(ctx, out)
	case err != nil:
		return err // transient or ctx: River retries or rescues
	}
	defer src.Close()
	coll := report.NewCollector(report.CollectorOptions{MaxFindings: q.cfg.MaxFindings})
	res, err := q.cfg.Pipeline.Scan(ctx, pipeline.Source{Source: src, Name: a.Repo.FullName, Decorate: w.decorate(a.Repo)}, coll)
	if err != nil {
		return err // interrupted: nothing committed, the job runs again
	}
	findings := coll.Findings()
	if d := coll.Dropped(); d > 0 {
		res.AddDropped(d, cmp.Or(q.cfg.MaxFindings, report.DefaultMaxFindings))
	}
	err = q.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		added, err := tx.AddFindings(ctx, a.RunID, a.RepoID, findings)
		if err != nil {
			return err
		}
		out.NewFindings = len(added)
		if res.Tips != nil {
			return tx.SetTips(ctx, a.RepoID, res.Tips)
		}
		return nil
	})
	if err != nil {
		return err
	}
	out.Blobs, out.Bytes, out.Complete, out.Problems = res.Blobs, res.Bytes, !res.LostContent(), res.Problems
	if len(res.Skips) > 0 {
		out.Skips = map[string]int64{}
		for r, n := range res.Skips {
			out.Skips[string(r)] = n
		}
	}
	return w.record(ctx, out)
}

func (w *scanWorker) record(ctx context.Context, out ScanOutcome) error {
	if err := river.RecordOutput(ctx, out); err != nil {
		return err
	}
	w.q.done(kindScan)
	return nil
}

func (w *scanWorker) decorate(r github.Repo) func(*report.Location) {
	return func(l *report.Location) {
		if l.Repo == "" {
			l.Repo = r.FullName
		}
		if !l.Message && w.q.web != "" {
			l.Permalink = github.Permalink(w.q.web, l.Repo, l.Commit, l.Path, l.Line)
		}
	}
}

// RelistArgs waits for a run's scan jobs, lists the target again to catch
// repositories created during the sweep, then (Relisted) finishes the run.
type RelistArgs struct {
	RunID    int64          `json:"run_id"`
	Target   github.Targets `json:"target"`
	Relisted bool           `json:"relisted"`
}

func (RelistArgs) Kind() string { return kindRelist }

func (RelistArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type relistWorker struct {
	river.WorkerDefaults[RelistArgs]
	q *Queue
}

func (w *relistWorker) Work(ctx context.Context, job *river.Job[RelistArgs]) error {
	q, a := w.q, job.Args
	pending := 0
	if err := q.eachScanJob(ctx, a.RunID, active, func(*rivertype.JobRow) { pending++ }); err != nil {
		return err
	}
	if pending > 0 {
		return river.JobSnooze(q.cfg.PollInterval)
	}
	if !a.Relisted {
		next := a
		next.Relisted = true
		n, err := q.enqueueRepos(ctx, a.RunID, a.Target, func(tx *store.Tx) error {
			_, err := q.client.InsertTx(ctx, tx.SQL(), next, nil)
			return err
		})
		if err != nil {
			return err
		}
		q.log.Info("sweep relisted", "run", a.RunID, "new repositories", n)
		q.done(kindRelist)
		return nil
	}
	complete, counts, err := q.tally(ctx, a.RunID)
	if err != nil {
		return err
	}
	q.finish(ctx, a.RunID, complete, counts, "")
	q.done(kindRelist)
	return nil
}

// tally adds up the outcomes of a run's scan jobs.
func (q *Queue) tally(ctx context.Context, id int64) (bool, map[string]int64, error) {
	complete := true
	counts := map[string]int64{}
	err := q.eachScanJob(ctx, id, nil, func(j *rivertype.JobRow) {
		var out ScanOutcome
		if o := j.Output(); len(o) == 0 || json.Unmarshal(o, &out) != nil {
			complete = false
			counts["repos-failed"]++
			return
		}
		counts["repositories"]++
		counts["blobs"] += out.Blobs
		counts["bytes"] += out.Bytes
		counts["new-findings"] += int64(out.NewFindings)
		for r, n := range out.Skips {
			counts["skip:"+r] += n
		}
		if out.Empty {
			counts["empty"]++
		}
		if out.Skipped != "" {
			counts["repo-skipped:"+out.Skipped]++
		}
		if !out.Complete || out.Skipped != "" {
			complete = false
		}
	})
	return complete, counts, err
}

// finish records the end of a run.
func (q *Queue) finish(ctx context.Context, id int64, complete bool, counts map[string]int64, problem string) {
	if problem != "" {
		q.log.Warn("sweep failed", "run", id, "problem", problem)
	}
	err := q.cfg.Store.InTx(ctx, func(tx *store.Tx) error { return tx.FinishRun(ctx, id, complete, counts) })
	if err != nil {
		q.log.Warn("sweep: finish run", "run", id, "err", err)
	}
}

// Outcomes returns the recorded outcome of each scan job of run id, sorted
// by repository (for the summary).
func (q *Queue) Outcomes(ctx context.Context, id int64) ([]ScanOutcome, error) {
	var outs []ScanOutcome
	err := q.eachScanJob(ctx, id, nil, func(j *rivertype.JobRow) {
		var out ScanOutcome
		if json.Unmarshal(j.Output(), &out) == nil {
			outs = append(outs, out)
		}
	})
	slices.SortFunc(outs, func(a, b ScanOutcome) int { return strings.Compare(a.Repo, b.Repo) })
	return outs, err
}

var _ = crawler.SkipTimeout
