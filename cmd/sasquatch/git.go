package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/crawler/gitscan"
	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/report"
)

type gitFlags struct {
	maxBlob   sizeFlag
	maxRepo   sizeFlag
	timeout   time.Duration
	keep      bool
	sinceTips string
	saveTips  string
	tempDir   string
}

func (g *gitFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	g.maxBlob = 64 << 20
	g.maxRepo = 8 << 30
	f.Var(&g.maxBlob, "max-blob-size", "skip (and report) blobs larger than `SIZE`")
	f.Var(&g.maxRepo, "max-repo-bytes", "stop scanning a repository after `SIZE` of blob content (reported as incomplete)")
	f.DurationVar(&g.timeout, "timeout", time.Hour, "give up on a repository after `DURATION` (reported as incomplete)")
	f.StringVar(&g.tempDir, "temp-dir", "", "parent `DIR` for temporary bare clones (default the system temporary directory)")
}

func (g *gitFlags) config(c *common) gitscan.Config {
	return gitscan.Config{
		MaxBlobSize:  int64(g.maxBlob),
		MaxRepoBytes: int64(g.maxRepo),
		Timeout:      g.timeout,
		TempDir:      g.tempDir,
		Keep:         g.keep,
		Logger:       c.logger,
	}
}

func newGitCmd(streams func(*common), res *outcome, strict *bool) *cobra.Command {
	var c common
	var g gitFlags
	cmd := &cobra.Command{
		Use:   "git [flags] PATH|URL...",
		Short: "Scan every blob and message in the full history of git repositories",
		Long: strings.TrimSpace(`
Scan the whole object graph of each repository: every blob reachable from any
ref (branches, tags, remote refs, refs/pull/*) exactly once, plus every commit
and tag message. A URL is cloned bare into a temporary directory; no work tree
is ever checked out and nothing from the repository is executed. Each finding
says which commit introduced the token at which path, and whether it is still
present at the tip of the default branch.`),
		Example: `  sasquatch git .
  sasquatch git --format jsonl https://github.com/OWNER/NAME.git
  sasquatch git --save-tips tips.txt repo.git && sasquatch git --since-tips tips.txt repo.git`,
		RunE: func(cmd *cobra.Command, args []string) error {
			streams(&c)
			*strict = c.strict
			if len(args) == 0 {
				return usagef("git needs at least one repository PATH or clone URL")
			}
			if err := c.resolve(); err != nil {
				return err
			}
			defer c.outAbort() // removes an uncommitted temporary --output file
			cfg := g.config(&c)
			if g.sinceTips != "" {
				tips, err := readTips(g.sinceTips)
				if err != nil {
					return usagef("--since-tips: %v", err)
				}
				cfg.SinceTips = tips
			}
			return runGit(cmd.Context(), &c, &g, cfg, args, res)
		},
	}
	c.register(cmd)
	g.register(cmd)
	cmd.Flags().BoolVar(&g.keep, "keep", false, "keep the temporary bare clone of a URL and print where it is")
	cmd.Flags().StringVar(&g.sinceTips, "since-tips", "", "scan only objects not reachable from the commits listed in `FILE` (one SHA per line, as written by --save-tips)")
	cmd.Flags().StringVar(&g.saveTips, "save-tips", "", "write the scanned refs' tips to `FILE` for a later --since-tips run")
	return cmd
}

func runGit(ctx context.Context, c *common, g *gitFlags, cfg gitscan.Config, targets []string, res *outcome) error {
	st := &stats{}
	coll := report.NewCollector(report.CollectorOptions{Reveal: c.reveal})
	eng := newEngine(c, st)
	var tips []string
	var fatal error
	for _, target := range targets {
		if ctx.Err() != nil {
			fatal = ctx.Err()
			break
		}
		t, err := scanRepo(ctx, c, eng, coll, st, target, cfg, g.keep)
		if err != nil && ctx.Err() != nil {
			fatal = ctx.Err()
			break
		}
		if err != nil {
			st.skip("repository", 0)
			st.problem(fmt.Sprintf("%s: %v", target, err))
			c.logger.Info("repository not scanned", "repo", target, "err", err)
			continue
		}
		tips = append(tips, t...)
	}
	if fatal == nil && g.saveTips != "" {
		if err := writeTips(g.saveTips, tips); err != nil {
			fatal = fmt.Errorf("--save-tips: %w", err)
		}
	}
	if ctx.Err() != nil {
		st.skip("interrupted", 0)
	}
	if err := c.finish(context.WithoutCancel(ctx), coll, st, res, "blobs"); err != nil && fatal == nil {
		fatal = err
	}
	if fatal == nil && st.repos.Load() == 0 {
		// No repository could be opened: a typo must not pass as clean.
		fatal = errors.New("no repository could be scanned")
	}
	return fatal
}

// scanRepo scans one repository's history into coll and returns its tips.
func scanRepo(ctx context.Context, c *common, eng *engine, coll *report.Collector, st *stats, target string, cfg gitscan.Config, keep bool) ([]string, error) {
	if cfg.Repo == "" {
		// The name goes into every location and message: never a password
		// from a clone URL (https://user:token@host/...).
		cfg.Repo = report.Scrub(target)
	}
	repo, err := gitscan.Open(ctx, target, cfg)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	err = collectHistory(ctx, eng, coll, st, repo, cfg.Repo, nil)
	st.repos.Add(1)
	complete := recordCoverage(st, cfg.Repo, repo.Stats())
	if err != nil {
		return nil, err
	}
	// Only a fully scanned repository's tips may be saved: an incremental
	// run from them would never look at what this run missed.
	var tips []string
	if complete {
		for _, sha := range repo.Tips() {
			tips = append(tips, sha)
		}
	} else {
		c.logger.Warn("coverage incomplete: tips not saved for the next incremental run", "repo", cfg.Repo)
	}
	if keep {
		if p := repo.Dir(); p != "" {
			fmt.Fprintf(c.stderr, "sasquatch: kept bare clone of %s at %s\n", cfg.Repo, p)
		}
	}
	return tips, nil
}

func readTips(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var tips []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sha := strings.Fields(line)[0]
		if len(sha) != 40 || strings.Trim(sha, "0123456789abcdef") != "" {
			return nil, fmt.Errorf("%s:%d: want a 40-hex commit SHA", path, n)
		}
		tips = append(tips, sha)
	}
	return tips, sc.Err()
}

func writeTips(path string, tips []string) error {
	sort.Strings(tips)
	var b strings.Builder
	b.WriteString("# sasquatch tips: commits already scanned; pass to --since-tips\n")
	seen := map[string]bool{}
	for _, t := range tips {
		if !seen[t] {
			seen[t] = true
			b.WriteString(t + "\n")
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// historySource is a repository's blobs plus the provenance of the matched
// ones: a *gitscan.Repo, or a GitHub tarball.
type historySource interface {
	Blobs(ctx context.Context) iter.Seq2[crawler.Blob, error]
	Provenance(ctx context.Context, blobIDs []string) (map[string][]crawler.Origin, error)
}

// collectHistory scans every blob of src, then asks for the provenance of
// only the blobs that matched, and adds one location per occurrence and
// origin to coll. decorate, when set, completes each location (permalinks).
// Findings whose provenance cannot be had are still reported.
func collectHistory(ctx context.Context, eng *engine, coll *report.Collector, st *stats, src historySource, repoName string, decorate func(*report.Location)) error {
	byBlob := map[string][]hit{}
	var direct []hit // messages, and blobs that carry their own origin
	err := eng.scan(ctx, src.Blobs(ctx), func(h hit) error {
		if h.blob.Message || h.blob.ID == "" || h.blob.Origin.Commit != "" {
			direct = append(direct, h)
		} else {
			byBlob[h.blob.ID] = append(byBlob[h.blob.ID], h)
		}
		return nil
	})
	add := func(b crawler.Blob, m detect.Match, unknownProvenance bool) {
		if loc, ok := report.LocationFor(b, m); ok {
			if unknownProvenance {
				loc.Blob = b.ID // no commit or path: say which object it is
			}
			if decorate != nil {
				decorate(&loc)
			}
			coll.Add(loc, m)
		}
	}
	for _, h := range direct {
		add(h.blob, h.match, false)
	}
	if len(byBlob) == 0 {
		return err
	}
	ids := make([]string, 0, len(byBlob))
	for id := range byBlob {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	// Provenance runs even after an interrupted scan: findings made so far
	// keep their commits. It gets its own short deadline when ctx is done.
	pctx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
	}
	prov, perr := src.Provenance(pctx, ids)
	if perr != nil {
		st.problem(fmt.Sprintf("%s: provenance: %v", repoName, perr))
		eng.log.Warn("provenance incomplete", "repo", repoName, "err", perr)
	}
	for _, id := range ids {
		origins := prov[id]
		unknown := len(origins) == 0
		if unknown {
			origins = []crawler.Origin{{Repo: repoName}}
		}
		for _, h := range byBlob[id] {
			for _, o := range origins {
				b := h.blob
				b.Origin = o
				add(b, h.match, unknown)
			}
		}
	}
	return err
}

// recordCoverage turns a repository's coverage into skip counts, so that
// anything not scanned shows in the summary and makes the run incomplete.
func recordCoverage(st *stats, target string, cov gitscan.Stats) (complete bool) {
	for reason, n := range cov.Skips {
		st.skipN(string(reason), int64(n), 0)
	}
	st.addSkippedBytes(cov.SkippedBytes)
	if cov.Shallow {
		st.skip("shallow-history", 0)
		st.problem(target + ": shallow clone: history before the shallow boundary was not scanned")
	}
	for _, e := range cov.Errors {
		st.problem(target + ": " + e)
	}
	if !cov.Complete && len(cov.Skips) == 0 && !cov.Shallow {
		st.skip("incomplete", 0)
	}
	return cov.Complete
}
