package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/sasquatch-sec/sasquatch/crawler/github"
	"github.com/sasquatch-sec/sasquatch/report"
)

type githubFlags struct {
	orgs, users, repos []string
	apiURL             string
	tokenFile          string
	includeForks       bool
	excludeArchived    bool
	include, exclude   []string
	concurrency        int
	history            string
	maxRepoSize        sizeFlag
	cacheDir           string
}

func newGitHubCmd(streams func(*common), res *outcome, strict *bool) *cobra.Command {
	var c common
	var g gitFlags
	var f githubFlags
	cmd := &cobra.Command{
		Use:   "github [flags] (--org O | --user U | --repo OWNER/NAME)...",
		Short: "Sweep every repository of GitHub organisations and users, full history",
		Long: strings.TrimSpace(`
List the repositories of each --org and --user (and each --repo) through the
GitHub REST API, clone each one bare and scan its whole history (or, with
--history none, stream the default branch's tarball), surviving rate limits
and transient failures. The token comes from GITHUB_TOKEN or --token-file and
is sent only to the API host and its clone host, never in a URL.`),
		Example: `  GITHUB_TOKEN=... sasquatch github --org contoso --format jsonl -o findings.jsonl
  sasquatch github --api-url https://ghe.example.com/api/v3/ --token-file ~/.ghe-token --org research
  sasquatch github --repo OWNER/NAME --history none`,
		RunE: func(cmd *cobra.Command, args []string) error {
			streams(&c)
			*strict = c.strict
			if len(args) > 0 {
				return usagef("github takes no arguments; name targets with --org, --user or --repo (got %q)", args[0])
			}
			if len(f.orgs)+len(f.users)+len(f.repos) == 0 {
				return usagef("github needs at least one --org, --user or --repo")
			}
			for _, r := range f.repos {
				if o, n, ok := strings.Cut(r, "/"); !ok || o == "" || n == "" || strings.Contains(n, "/") {
					return usagef("--repo %q: want OWNER/NAME", r)
				}
			}
			if err := c.resolve(); err != nil {
				return err
			}
			defer c.outAbort() // removes an uncommitted temporary --output file
			return runGitHub(cmd.Context(), &c, &g, &f, res)
		},
	}
	c.register(cmd)
	g.register(cmd)
	fl := cmd.Flags()
	fl.StringArrayVar(&f.orgs, "org", nil, "scan every repository of organisation `O` (repeatable)")
	fl.StringArrayVar(&f.users, "user", nil, "scan every repository owned by user `U` (repeatable)")
	fl.StringArrayVar(&f.repos, "repo", nil, "scan repository `OWNER/NAME` (repeatable)")
	fl.StringVar(&f.apiURL, "api-url", github.DefaultAPIURL, "the REST API root (GitHub Enterprise: https://HOST/api/v3/)")
	fl.StringVar(&f.tokenFile, "token-file", "", "read the GitHub token from `FILE` instead of GITHUB_TOKEN")
	fl.BoolVar(&f.includeForks, "include-forks", false, "also scan forks (skipped by default)")
	fl.BoolVar(&f.excludeArchived, "exclude-archived", false, "skip archived repositories (scanned by default)")
	fl.StringArrayVar(&f.include, "include", nil, "scan only repositories whose NAME or OWNER/NAME matches `GLOB` (repeatable)")
	fl.StringArrayVar(&f.exclude, "exclude", nil, "skip repositories whose NAME or OWNER/NAME matches `GLOB` (repeatable)")
	fl.IntVar(&f.concurrency, "concurrency", github.DefaultConcurrency, "repositories cloned and scanned at once")
	fl.StringVar(&f.history, "history", "full", "full: clone and scan all history; none: stream the default branch's tarball")
	fl.Var(&f.maxRepoSize, "max-repo-size", "skip (and report) repositories whose API size is over `SIZE` (0: no limit)")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "keep bare clones in `DIR` and fetch into them on later runs")
	return cmd
}

func runGitHub(ctx context.Context, c *common, g *gitFlags, f *githubFlags, res *outcome) error {
	if f.history != github.HistoryFull && f.history != github.HistoryNone {
		return usagef("--history %q: want full or none", f.history)
	}
	token, err := github.LoadToken(f.tokenFile, os.Getenv)
	if err != nil {
		return usagef("%v", err)
	}
	if token.IsZero() {
		fmt.Fprintln(c.stderr, "sasquatch: warning: no GitHub token (GITHUB_TOKEN or --token-file): public repositories only, 60 API requests an hour")
	}
	st := &stats{}
	coll := report.NewCollector(report.CollectorOptions{Reveal: c.reveal})
	eng := newEngine(c, st)
	prog := newProgress(c)
	prog.findings = coll.Len
	client, err := github.New(github.Config{
		APIURL:          f.apiURL,
		Token:           token,
		IncludeForks:    f.includeForks,
		ExcludeArchived: f.excludeArchived,
		Include:         f.include,
		Exclude:         f.exclude,
		Concurrency:     f.concurrency,
		History:         f.history,
		MaxRepoSize:     int64(f.maxRepoSize),
		MaxRepoBytes:    int64(g.maxRepo),
		MaxBlobSize:     int64(g.maxBlob),
		RepoTimeout:     g.timeout,
		CacheDir:        f.cacheDir,
		TempDir:         g.tempDir,
		Logger:          c.logger,
		Progress:        prog.update,
	})
	if err != nil {
		return usagef("%v", err)
	}
	web := client.WebURL()
	targets := github.Targets{Orgs: f.orgs, Users: f.users, Repos: f.repos}
	sum, sweepErr := client.Sweep(ctx, targets, func(ctx context.Context, r github.Repo, src github.RepoSource) error {
		err := collectHistory(ctx, eng, coll, st, src, r.FullName, func(l *report.Location) {
			if l.Repo == "" {
				l.Repo = r.FullName
			}
			if !l.Message {
				l.Permalink = github.Permalink(web, l.Repo, l.Commit, l.Path, l.Line)
			}
		})
		st.repos.Add(1)
		if gr, ok := github.GitRepo(src); ok {
			recordCoverage(st, r.FullName, gr.Stats())
		}
		if err != nil && ctx.Err() == nil {
			// A per-repository problem: recorded, the sweep goes on.
			st.skip("repository", 0)
			st.problem(fmt.Sprintf("%s: %v", r.FullName, err))
			return nil
		}
		return err
	})
	prog.finish()
	if ctx.Err() != nil {
		st.skip("interrupted", 0)
	}
	for reason, n := range sum.SkipCounts() {
		st.skipN("repo-"+reason, int64(n), 0)
	}
	for _, k := range sum.Skipped {
		st.problem(fmt.Sprintf("%s: %s %s", k.Repo, k.Reason, k.Detail))
	}
	for _, p := range sum.TargetProblems {
		st.problem(p)
	}
	if sum.Incomplete {
		res.incomplete = true
	}
	ferr := c.finish(context.WithoutCancel(ctx), coll, st, res, "blobs")
	if !c.quiet {
		printSweepSummary(c.stderr, sum)
	}
	if sweepErr != nil {
		return fmt.Errorf("github: %w", sweepErr)
	}
	return ferr
}

func printSweepSummary(w io.Writer, s github.Summary) {
	filtered := make([]string, 0, len(s.Filtered))
	for _, k := range sortedKeys(s.Filtered) {
		filtered = append(filtered, fmt.Sprintf("%s %d", k, s.Filtered[k]))
	}
	skips := s.SkipCounts()
	skipped := make([]string, 0, len(skips))
	for _, k := range sortedKeys(skips) {
		skipped = append(skipped, fmt.Sprintf("%s %d", k, skips[k]))
	}
	fmt.Fprintf(w, "sasquatch: github: %d repositories listed, %d scanned (%d empty), %d skipped", s.Listed, s.Scanned, s.Empty, len(s.Skipped))
	if len(skipped) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(skipped, ", "))
	}
	if len(filtered) > 0 {
		fmt.Fprintf(w, ", not scanned by choice: %s", strings.Join(filtered, ", "))
	}
	fmt.Fprintf(w, "\nsasquatch: github: %d API calls, %s waiting on rate limits, %s in %s\n",
		s.APICalls, s.RateLimitWait.Round(time.Second), humanBytes(s.Bytes), s.Duration.Round(time.Millisecond))
	if s.Incomplete {
		fmt.Fprintln(w, "sasquatch: github: coverage INCOMPLETE (see above; exit 3 with --strict)")
	}
}

// progress shows a bar on a terminal and a log line every few repositories
// otherwise.
type progress struct {
	c        *common
	findings func() int
	mu       sync.Mutex
	bar      *progressbar.ProgressBar
	last     time.Time
}

func newProgress(c *common) *progress {
	p := &progress{c: c}
	if f, ok := c.stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) && !c.quiet {
		p.bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(c.stderr),
			progressbar.OptionSetDescription("repositories"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionEnableColorCodes(!noColor()),
		)
	}
	return p
}

func (p *progress) update(pr github.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.ChangeMax(pr.Total)
		_ = p.bar.Set(pr.Done)
		p.bar.Describe(fmt.Sprintf("repositories (%s, %d findings)", humanBytes(pr.Bytes), p.findings()))
		return
	}
	if p.c.quiet {
		return
	}
	if pr.Done == pr.Total || pr.Done%10 == 0 || time.Since(p.last) > 30*time.Second {
		p.last = time.Now()
		fmt.Fprintf(p.c.stderr, "sasquatch: github: %d/%d repositories, %s, %d findings\n", pr.Done, pr.Total, humanBytes(pr.Bytes), p.findings())
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
