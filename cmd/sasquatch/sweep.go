package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/crawler/github"
	"github.com/sasquatch-sec/sasquatch/internal/store"
	"github.com/sasquatch-sec/sasquatch/pipeline"
	"github.com/sasquatch-sec/sasquatch/report"
	"github.com/sasquatch-sec/sasquatch/sweep"
)

// testHookAfterJob, when set (by tests only), runs after each sweep job's
// work is committed: crash tests kill the process there.
var testHookAfterJob func(kind string)

// storeFlags are the flags of every command that uses the store.
type storeFlags struct{ db string }

func (s *storeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.db, "db", os.Getenv("SASQUATCH_DB"), "the store: an SQLite `FILE` or postgres://USER:PASSWORD@HOST/DB (default $SASQUATCH_DB, else a file in the user's state directory)")
}

// open opens (and migrates) the store.
func (s *storeFlags) open(ctx context.Context) (*store.Store, error) {
	dsn := s.db
	if dsn == "" {
		p, err := store.DefaultPath()
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(strings.TrimSuffix(p, "/sasquatch.db"), 0o700); err != nil {
			return nil, fmt.Errorf("--db: %w", err)
		}
		dsn = p
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("--db: %s", report.Scrub(err.Error()))
	}
	return st, nil
}

// sweepFlags are sweep's and worker's own flags.
type sweepFlags struct {
	enqueueOnly bool
	every       time.Duration
	poll        time.Duration
	// --file-issues (issues.go): file for real after the sweep, as
	// 'sasquatch issues --apply' would; it is an explicit opt-in.
	fileIssues bool
	issues     issueFlags
}

// sweepSetup is what sweep and worker both take from their flags: the common
// flags, git and GitHub access, the store and the queue's settings.
type sweepSetup struct {
	c  common
	g  gitFlags
	f  githubFlags
	sf storeFlags
	w  sweepFlags
}

// register adds the flags sweep and worker share (each adds its own --every).
func (s *sweepSetup) register(cmd *cobra.Command) {
	s.c.register(cmd)
	s.g.register(cmd)
	registerGitHubFlags(cmd, &s.f)
	s.sf.register(cmd)
	cmd.Flags().DurationVar(&s.w.poll, "poll", time.Second, "how often to look at the job queue")
	_ = cmd.Flags().MarkHidden("poll")
}

func newSweepCmd(streams func(*common), res *outcome) *cobra.Command {
	s := &sweepSetup{}
	c, f, w := &s.c, &s.f, &s.w
	cmd := &cobra.Command{
		Use:   "sweep [flags] (--org O | --user U | --repo OWNER/NAME)...",
		Short: "Sweep GitHub targets into the store: only what changed since the last sweep; resumable",
		Long: strings.TrimSpace(`
Run a stateful sweep: list the targets, scan every repository whose refs
moved since the last sweep (only the new objects), and keep every finding in
the store (--db). A killed sweep resumes where it stopped when run again;
nothing is scanned twice and no finding is lost or duplicated. Prints the
findings that are new in this sweep. With --enqueue-only, only queue the sweep
for 'sasquatch worker' processes (PostgreSQL); with --every, run forever and
sweep at that interval.`),
		Example: `  sasquatch sweep --org contoso
  sasquatch sweep --org contoso --db postgres://sasquatch@db/sasquatch --enqueue-only
  sasquatch report --db ~/.local/state/sasquatch/sasquatch.db --format markdown`,
		RunE: func(cmd *cobra.Command, args []string) error {
			streams(c)
			if len(args) > 0 {
				return usagef("sweep takes no arguments; name targets with --org, --user or --repo")
			}
			if len(f.orgs)+len(f.users)+len(f.repos) == 0 {
				return usagef("sweep needs at least one --org, --user or --repo")
			}
			// --file-issues (issues.go)
			if w.fileIssues && (w.enqueueOnly || w.every > 0) {
				return usagef("--file-issues needs a sweep that runs here: not with --enqueue-only or --every (run 'sasquatch issues --apply' after the workers)")
			}
			if err := w.issues.resolve(); err != nil {
				return err
			}
			if err := c.resolve(); err != nil {
				return err
			}
			defer c.outAbort()
			return runSweep(cmd.Context(), s, res)
		},
	}
	s.register(cmd)
	c.verify.register(cmd)
	cmd.Flags().BoolVar(&w.enqueueOnly, "enqueue-only", false, "queue the sweep for 'sasquatch worker' processes and exit")
	cmd.Flags().DurationVar(&w.every, "every", 0, "keep running and start a sweep at this `INTERVAL` (e.g. 24h); one leader enqueues")
	// --file-issues (issues.go)
	cmd.Flags().BoolVar(&w.fileIssues, "file-issues", false, "after the sweep, file GitHub issues for real (as 'sasquatch issues --apply'; see --tracker, --issue-severity)")
	w.issues.register(cmd)
	return cmd
}

// sweepEnv is what sweep and worker share: the store, the GitHub client,
// the detector pool and the queue.
type sweepEnv struct {
	st     *store.Store
	client *github.Client
	pool   *pipeline.Pipeline
	q      *sweep.Queue
}

func (e *sweepEnv) close() {
	if e.pool != nil {
		e.pool.Close()
	}
	if e.st != nil {
		e.st.Close()
	}
}

func openSweepEnv(ctx context.Context, s *sweepSetup) (*sweepEnv, error) {
	c, g, f, sf, w := &s.c, &s.g, &s.f, &s.sf, &s.w
	client, err := newGitHubClient(c, g, f)
	if err != nil {
		return nil, err
	}
	st, err := sf.open(ctx)
	if err != nil {
		return nil, err
	}
	e := &sweepEnv{st: st, client: client, pool: c.pipeline()}
	e.q, err = sweep.New(ctx, sweep.Config{
		Store: st, GitHub: client, Pipeline: e.pool,
		Concurrency: f.concurrency, RepoTimeout: g.timeout, Logger: c.logger,
		Every: w.every, EveryTargets: github.Targets{Orgs: f.orgs, Users: f.users, Repos: f.repos},
		AfterJob: testHookAfterJob, PollInterval: w.poll,
	})
	if err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func runSweep(ctx context.Context, s *sweepSetup, res *outcome) error {
	c, f, w := &s.c, &s.f, &s.w
	e, err := openSweepEnv(ctx, s)
	if err != nil {
		return err
	}
	defer e.close()
	targets := github.Targets{Orgs: f.orgs, Users: f.users, Repos: f.repos}
	if w.every > 0 {
		// The periodic job enqueues; this process works until stopped.
		return runWorker(ctx, c, e)
	}
	if !w.enqueueOnly {
		// One process owns this queue: what a killed sweep left running is
		// picked up now, not after the rescue delay.
		if n, err := e.q.RescueRunning(ctx); err != nil {
			return err
		} else if n > 0 {
			c.logger.Info("resuming jobs left running by a stopped sweep", "jobs", n)
		}
	}
	runID, resumed, err := e.q.Enqueue(ctx, targets)
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	if resumed {
		fmt.Fprintf(c.stderr, "sasquatch: sweep: resuming run %d\n", runID)
	}
	if w.enqueueOnly {
		fmt.Fprintf(c.stderr, "sasquatch: sweep: run %d queued; 'sasquatch worker' processes will work it\n", runID)
		return nil
	}
	if err := e.q.Start(ctx); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	bar := newSweepProgress(c)
	waitErr := e.q.Wait(ctx, runID, bar.update)
	bar.finish()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = e.q.Stop(stopCtx)
	if waitErr != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(c.stderr, "sasquatch: sweep: interrupted; run it again to resume (nothing found is lost)")
			return ctx.Err()
		}
		return fmt.Errorf("sweep: %w", waitErr)
	}
	if err := finishSweep(ctx, c, e, w, runID, res); err != nil || !w.fileIssues {
		return err
	}
	// --file-issues (issues.go)
	return runFiling(ctx, c, e.st, e.client, &w.issues, true, res)
}

// finishSweep prints the findings new in run runID and the run's summary.
func finishSweep(ctx context.Context, c *common, e *sweepEnv, w *sweepFlags, runID int64, res *outcome) error {
	run, err := e.st.Run(ctx, runID)
	if err != nil {
		return err
	}
	findings, err := e.st.Findings(ctx, store.Filter{RunID: runID, Reveal: c.reveal})
	if err != nil {
		return err
	}
	var total pipeline.Result
	total.Repos = run.Counts["repositories"]
	total.Blobs, total.Bytes = run.Counts["blobs"], run.Counts["bytes"]
	for k, n := range run.Counts {
		if r, ok := strings.CutPrefix(k, "skip:"); ok {
			total.AddSkip(crawler.SkipReason(r), n, 0)
		}
		if r, ok := strings.CutPrefix(k, "repo-skipped:"); ok {
			total.AddSkip(crawler.SkipRepository, n, 0)
			total.AddProblem(fmt.Sprintf("%d repositories not scanned: %s", n, r))
		}
	}
	if outs, err := e.q.Outcomes(ctx, runID); err == nil {
		for _, o := range outs {
			for _, p := range o.Problems {
				total.AddProblem(p)
			}
		}
	}
	if !run.Complete {
		total.Incomplete = true
		if n := run.Counts["target-not-found"]; n > 0 {
			return fmt.Errorf("sweep: target not found (check --org/--user and --api-url)")
		}
	}
	if c.verify.enabled() {
		counts, err := c.verify.check(ctx, c, findings)
		if err != nil {
			return err
		}
		at := c.nowFunc()()
		for _, f := range findings {
			if err := e.st.SetLiveness(ctx, f.Fingerprint, store.Liveness{Value: f.Liveness, CheckedAt: at}); err != nil {
				return err
			}
		}
		c.liveness = livenessLine(counts)
		c.verify = verifyFlags{} // checked above: finish must not check again
	}
	coll := storedFindings(findings, c.reveal)
	if err := c.finish(context.WithoutCancel(ctx), coll, &total, res, "blobs"); err != nil {
		return err
	}
	if !c.quiet {
		fmt.Fprintf(c.stderr, "sasquatch: sweep: run %d: %d new findings; %d repositories, %d empty\n",
			runID, len(findings), run.Counts["repositories"], run.Counts["empty"])
	}
	return nil
}

// storedFindings puts findings read from the store into a collector, so
// they go through the same sinks and summary as a direct scan. They are in
// memory already, each repository's capped when it was scanned: no cap on
// their number here.
func storedFindings(fs []report.Finding, reveal bool) *report.Collector {
	coll := report.NewCollector(report.CollectorOptions{MaxLocations: -1, MaxFindings: -1, Reveal: reveal})
	coll.AddFindings(fs)
	return coll
}

func newWorkerCmd(streams func(*common), res *outcome) *cobra.Command {
	s := &sweepSetup{}
	c := &s.c
	cmd := &cobra.Command{
		Use:   "worker [flags]",
		Short: "Work queued sweep jobs from the store until stopped (many machines on one PostgreSQL)",
		Long: strings.TrimSpace(`
Work the sweep job queue in the store (--db): scan the repositories that
'sasquatch sweep --enqueue-only' (or a periodic --every sweep) queued. Run any
number of workers on any number of machines against one PostgreSQL; a
repository is scanned by one of them. SIGTERM finishes the jobs in progress
(up to 10 s), then exits; a job cut short is rescued by another worker.`),
		RunE: func(cmd *cobra.Command, args []string) error {
			streams(c)
			if len(args) > 0 {
				return usagef("worker takes no arguments")
			}
			if err := c.resolve(); err != nil {
				return err
			}
			defer c.outAbort()
			e, err := openSweepEnv(cmd.Context(), s)
			if err != nil {
				return err
			}
			defer e.close()
			return runWorker(cmd.Context(), c, e)
		},
	}
	s.register(cmd)
	cmd.Flags().DurationVar(&s.w.every, "every", 0, "also start a sweep of the --org/--user/--repo targets at this `INTERVAL`")
	return cmd
}

// runWorker works jobs until ctx ends.
func runWorker(ctx context.Context, c *common, e *sweepEnv) error {
	if err := e.q.Start(ctx); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	fmt.Fprintln(c.stderr, "sasquatch: worker: working the sweep queue (SIGTERM to stop)")
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := e.q.Stop(stopCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("worker: stop: %w", err)
	}
	return nil
}

// sweepProgress shows repositories done/total on a terminal.
type sweepProgress struct {
	bar *progressbar.ProgressBar
}

func newSweepProgress(c *common) *sweepProgress {
	p := &sweepProgress{}
	if f, ok := c.stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) && !c.quiet {
		p.bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(c.stderr),
			progressbar.OptionSetDescription("repositories"), progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *sweepProgress) update(pr sweep.Progress) {
	if p.bar == nil {
		return
	}
	if pr.Total > 0 {
		p.bar.ChangeMax(pr.Total)
	}
	p.bar.Describe(fmt.Sprintf("repositories (%d new findings)", pr.Findings))
	_ = p.bar.Set(pr.Done)
}

func (p *sweepProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
