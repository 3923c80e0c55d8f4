package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/crawler/github"
	"github.com/sasquatch-sec/sasquatch/pipeline"
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
	sinceTips          string
	saveTips           string
	allowInsecureHTTP  bool
}

func newGitHubCmd(streams func(*common), res *outcome) *cobra.Command {
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
	c.verify.register(cmd)
	g.register(cmd)
	registerGitHubFlags(cmd, &f)
	fl := cmd.Flags()
	fl.StringVar(&f.history, "history", "full", "full: clone and scan all history; none: stream the default branch's tarball")
	fl.StringVar(&f.sinceTips, "since-tips", "", "scan only what is new since the tips in `FILE` (written by --save-tips); a repository whose refs all point at recorded tips is not fetched at all")
	fl.StringVar(&f.saveTips, "save-tips", "", "write each fully scanned repository's tips, keyed by repository ID, to `FILE`")
	return cmd
}

func runGitHub(ctx context.Context, c *common, g *gitFlags, f *githubFlags, res *outcome) error {
	if f.history != github.HistoryFull && f.history != github.HistoryNone {
		return usagef("--history %q: want full or none", f.history)
	}
	var since tipSet
	if f.sinceTips != "" {
		var err error
		if since, err = readTips(f.sinceTips); err != nil {
			return usagef("--since-tips: %v", err)
		}
	}
	client, err := newGitHubClient(c, g, f)
	if err != nil {
		return err
	}
	coll := c.collector()
	var total pipeline.Result
	sw := sweepSummary{}
	listing, listErr := client.Repos(ctx, github.Targets{Orgs: f.orgs, Users: f.users, Repos: f.repos})
	sw.listing = listing
	for _, p := range listing.Problems {
		total.AddProblem(p)
	}
	for _, k := range listing.Skipped {
		total.AddSkip(crawler.SkipRepository, 1, 0)
		total.AddProblem(fmt.Sprintf("%s: %s %s", k.Repo, k.Reason, k.Detail))
	}
	if len(listing.Problems) > 0 {
		total.Incomplete = true
	}
	if listErr != nil {
		if ctx.Err() == nil {
			// Nothing could even be listed (a typo, a wrong --api-url, no
			// network): one clear line and exit 2, never a clean run.
			return fmt.Errorf("github: %w", listErr)
		}
		listing.Repos = nil
	}

	prog := newProgress(c, len(listing.Repos), coll.Len)
	saved := tipSet{}
	web := client.WebURL()
	p := c.pipeline()
	jobs := func(yield func(pipeline.Job) bool) {
		for _, r := range listing.Repos {
			key := "github:" + strconv.FormatInt(r.ID, 10)
			if r.ID == 0 {
				key = "github:" + r.FullName
			}
			job := pipeline.Job{
				Name:    r.FullName,
				Timeout: g.timeout,
				Open: func(ctx context.Context) (pipeline.Source, error) {
					src, err := client.Open(ctx, r, github.OpenOptions{SinceTips: since.of(key)})
					if err != nil {
						return pipeline.Source{}, err
					}
					return pipeline.Source{Source: src, Name: r.FullName, Decorate: func(l *report.Location) {
						if l.Repo == "" {
							l.Repo = r.FullName
						}
						if !l.Message {
							l.Permalink = github.Permalink(web, l.Repo, l.Commit, l.Path, l.Line)
						}
					}}, nil
				},
				Done: func(jr pipeline.JobResult) {
					sw.record(jr, &total)
					switch {
					case jr.OpenErr == nil && jr.Result.Tips != nil:
						saved.set(key, tipValues(jr.Result.Tips))
					case len(since[key]) > 0:
						// Not fully scanned: the next run starts where this one did.
						saved.set(key, since[key])
					}
					prog.update(jr.Name, total.Bytes)
				},
			}
			if !yield(job) {
				return
			}
		}
	}
	runErr := p.RunAll(ctx, jobs, f.concurrency, coll)
	p.Close()
	prog.finish()
	if runErr == nil && f.saveTips != "" {
		if err := writeTips(f.saveTips, tipsToSave(c, coll, saved, since)); err != nil {
			runErr = fmt.Errorf("--save-tips: %w", err)
		}
	}
	if ctx.Err() != nil {
		total.AddSkip(crawler.SkipInterrupted, 1, 0)
	}
	ferr := c.finish(context.WithoutCancel(ctx), coll, &total, res, "blobs")
	if !c.quiet {
		sw.print(c.stderr, client)
	}
	if runErr != nil {
		return fmt.Errorf("github: %w", runErr)
	}
	return ferr
}

// maxConcurrency bounds --concurrency: each repository in flight holds a
// clone and its provenance state.
const maxConcurrency = 32

// sweepSummary counts what happened to each repository of a sweep.
type sweepSummary struct {
	listing        github.Listing
	scanned, empty int
	skipped        []github.RepoSkip
}

// record adds one repository's outcome; it runs serialized (pipeline.Job.Done).
func (s *sweepSummary) record(jr pipeline.JobResult, total *pipeline.Result) {
	var sk *github.SkipError
	switch {
	case errors.Is(jr.OpenErr, github.ErrEmpty):
		s.scanned++
		s.empty++
		total.Repos++
	case errors.As(jr.OpenErr, &sk):
		s.skipped = append(s.skipped, sk.RepoSkip)
		total.AddSkip(crawler.SkipRepository, 1, 0)
		total.AddProblem(sk.Error())
	case jr.TimedOut && jr.OpenErr != nil:
		s.skipped = append(s.skipped, github.RepoSkip{Repo: jr.Name, Reason: "timeout"})
		total.Merge(jr.Result)
		total.AddProblem(jr.Name + ": timeout while opening")
	case jr.OpenErr != nil:
		s.skipped = append(s.skipped, github.RepoSkip{Repo: jr.Name, Reason: "error"})
		total.AddSkip(crawler.SkipRepository, 1, 0)
		total.AddProblem(fmt.Sprintf("%s: %v", jr.Name, jr.OpenErr))
	default:
		s.scanned++
		total.Merge(jr.Result)
	}
}

func (s *sweepSummary) print(w io.Writer, client *github.Client) {
	l := s.listing
	filtered := make([]string, 0, len(l.Filtered))
	for _, k := range slices.Sorted(maps.Keys(l.Filtered)) {
		filtered = append(filtered, fmt.Sprintf("%s %d", k, l.Filtered[k]))
	}
	skips := map[string]int{}
	for _, k := range append(slices.Clone(l.Skipped), s.skipped...) {
		skips[k.Reason]++
	}
	skipped := make([]string, 0, len(skips))
	n := 0
	for _, k := range slices.Sorted(maps.Keys(skips)) {
		skipped = append(skipped, fmt.Sprintf("%s %d", k, skips[k]))
		n += skips[k]
	}
	fmt.Fprintf(w, "sasquatch: github: %d repositories listed, %d scanned (%d empty), %d skipped", l.Listed, s.scanned, s.empty, n)
	if len(skipped) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(skipped, ", "))
	}
	if len(filtered) > 0 {
		fmt.Fprintf(w, ", not scanned by choice: %s", strings.Join(filtered, ", "))
	}
	fmt.Fprintf(w, "\nsasquatch: github: %d API calls, %s waiting on rate limits\n",
		client.APICalls(), client.RateLimitWait().Round(time.Second))
}

// progress shows a bar on a terminal and a log line every few repositories
// otherwise. Its methods run serialized (pipeline.Job.Done).
type progress struct {
	c           *common
	findings    func() int
	bar         *progressbar.ProgressBar
	done, total int
	last        time.Time
}

func newProgress(c *common, total int, findings func() int) *progress {
	p := &progress{c: c, total: total, findings: findings, last: time.Now()}
	if c.progressOn() {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(c.errw),
			progressbar.OptionSetDescription("repositories"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionEnableColorCodes(!noColor()),
		)
	}
	return p
}

func (p *progress) update(repo string, bytes int64) {
	p.done++
	if p.bar != nil {
		_ = p.bar.Set(p.done)
		p.bar.Describe(fmt.Sprintf("repositories (%s, %d findings)", humanBytes(bytes), p.findings()))
		return
	}
	if p.c.quiet || !p.c.verbose {
		return
	}
	if p.done == p.total || p.done%10 == 0 || time.Since(p.last) > 30*time.Second {
		p.last = time.Now()
		fmt.Fprintf(p.c.stderr, "sasquatch: github: %d/%d repositories, %s, %d findings\n", p.done, p.total, humanBytes(bytes), p.findings())
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// plainHTTPHost returns the host of a plain http API URL that is not a
// loopback address (localhost, 127.0.0.0/8, ::1): a token sent there
// crosses a network in clear text.
func plainHTTPHost(apiURL string) (string, bool) {
	u, err := url.Parse(apiURL)
	if err != nil || !strings.EqualFold(u.Scheme, "http") {
		return "", false
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return h, false
	}
	if ip, err := netip.ParseAddr(h); err == nil && ip.Unmap().IsLoopback() {
		return h, false
	}
	return h, true
}
