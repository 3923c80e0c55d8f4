package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/crawler/gitscan"
	"github.com/sasquatch-sec/sasquatch/pipeline"
	"github.com/sasquatch-sec/sasquatch/report"
)

type gitFlags struct {
	include   []string // paths (git only; github's --include is repositories)
	exclude   []string
	filter    *pathFilter
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
	g.maxBlob = sizeFlag{n: 64 << 20, text: "64MiB"}
	g.maxRepo = sizeFlag{n: 8 << 30, text: "8GiB"}
	f.Var(&g.maxBlob, "max-blob-size", "skip (and report) blobs larger than `SIZE`")
	f.Var(&g.maxRepo, "max-repo-bytes", "stop scanning a repository after `SIZE` of blob content (reported as incomplete)")
	f.DurationVar(&g.timeout, "timeout", time.Hour, "give up on a repository after `DURATION` (reported as incomplete)")
	f.StringVar(&g.tempDir, "temp-dir", "", "parent `DIR` for temporary bare clones and provenance logs (up to 256 MiB per repository; default the system temporary directory)")
}

func (g *gitFlags) config(c *common) gitscan.Config {
	return gitscan.Config{
		MaxBlobSize:  g.maxBlob.n,
		MaxRepoBytes: g.maxRepo.n,
		Timeout:      g.timeout,
		TempDir:      g.tempDir,
		Keep:         g.keep,
		Logger:       c.logger,
	}
}

func newGitCmd(streams func(*common), res *outcome) *cobra.Command {
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
  sasquatch git --save-tips tips.txt repo.git
  # later: only what is new since then (exit 1 above does not stop this line)
  sasquatch git --since-tips tips.txt --save-tips tips.txt repo.git
  sasquatch git --exclude 'vendor/**' --exclude '*.min.js' .`,
		RunE: func(cmd *cobra.Command, args []string) error {
			streams(&c)
			if len(args) == 0 {
				return usagef("git needs at least one repository PATH or clone URL")
			}
			var err error
			if g.filter, err = newPathFilter(g.include, g.exclude); err != nil {
				return err
			}
			if err := c.resolve(); err != nil {
				return err
			}
			defer c.outAbort() // removes an uncommitted temporary --output file
			cfg := g.config(&c)
			var since tipSet
			if g.sinceTips != "" {
				var err error
				if since, err = readTips(g.sinceTips); err != nil {
					return usagef("--since-tips: %v", err)
				}
			}
			return runGit(cmd.Context(), &c, &g, cfg, since, args, res)
		},
	}
	c.register(cmd)
	c.verify.register(cmd)
	g.register(cmd)
	cmd.Flags().BoolVar(&g.keep, "keep", false, "keep the temporary bare clone of a URL and print where it is")
	cmd.Flags().StringVar(&g.sinceTips, "since-tips", "", "scan only objects not reachable from the commits listed in `FILE` (one SHA per line, as written by --save-tips)")
	cmd.Flags().StringVar(&g.saveTips, "save-tips", "", "write the scanned refs' tips to `FILE` for a later --since-tips run")
	registerPathFlags(cmd, &g.include, &g.exclude)
	return cmd
}

func runGit(ctx context.Context, c *common, g *gitFlags, cfg gitscan.Config, since tipSet, targets []string, res *outcome) error {
	coll := c.collector()
	var store pipeline.Store = coll
	if g.filter.active() {
		// A blob can sit at several paths, known only after provenance:
		// filter occurrences, not blobs.
		store = filterStore{Store: coll, f: g.filter}
	}
	prog := newBlobProgress(c, "blobs")
	p := c.pipeline()
	defer p.Close()
	var total pipeline.Result
	saved := tipSet{}
	var fatal error
	for _, target := range targets {
		if ctx.Err() != nil {
			fatal = ctx.Err()
			break
		}
		// The name goes into every location and message: never a password
		// from a clone URL (https://user:token@host/...).
		name := report.Scrub(target)
		rcfg := cfg
		rcfg.Repo = name
		rcfg.SinceTips = since.of(name)
		r, err := scanRepo(ctx, c, p, store, prog, target, rcfg, g.keep)
		total.Merge(r)
		switch {
		case err != nil && ctx.Err() != nil:
			fatal = ctx.Err()
		case err != nil:
			total.AddSkip(crawler.SkipRepository, 1, 0)
			total.AddProblem(fmt.Sprintf("%s: %v", name, err))
			c.logger.Info("repository not scanned", "repo", name, "err", err)
		case r.Tips != nil:
			saved.set(name, tipValues(r.Tips))
		default:
			// Only a fully scanned repository's tips may be saved: an
			// incremental run from them would never look at what this run
			// missed. Keep the tips it started from instead.
			c.logger.Warn("coverage incomplete: tips not saved for the next incremental run", "repo", name)
			if old := since[name]; len(old) > 0 {
				saved.set(name, old)
			}
		}
		if fatal != nil {
			break
		}
	}
	if fatal == nil && g.saveTips != "" {
		if err := writeTips(g.saveTips, tipsToSave(c, coll, saved, since)); err != nil {
			fatal = fmt.Errorf("--save-tips: %w", err)
		}
	}
	prog.finish()
	if ctx.Err() != nil {
		total.AddSkip(crawler.SkipInterrupted, 1, 0)
	}
	sum := summaryOf{
		unit: "blobs", excluded: g.filter.n.Load(), exclUnit: "occurrences",
		nothing: total.Repos == 0 && fatal == nil,
		// An incremental run with nothing new scans nothing, rightly.
		warnEmpty: len(since) == 0,
	}
	if err := c.finishWith(context.WithoutCancel(ctx), coll, &total, res, sum); err != nil && fatal == nil {
		fatal = err
	}
	if fatal == nil && total.Repos == 0 {
		// No repository could be opened: a typo must not pass as clean.
		fatal = errors.New("no repository could be scanned")
	}
	return fatal
}

// scanRepo scans one repository's history into store.
func scanRepo(ctx context.Context, c *common, p *pipeline.Pipeline, store pipeline.Store, prog *blobProgress, target string, cfg gitscan.Config, keep bool) (pipeline.Result, error) {
	if isLocalPath(target) {
		if _, err := os.Stat(target); errors.Is(err, fs.ErrNotExist) {
			return pipeline.Result{}, errors.New("not found")
		}
	}
	repo, err := gitscan.Open(ctx, target, cfg)
	if err != nil {
		return pipeline.Result{}, err
	}
	defer repo.Close()
	r, err := p.Scan(ctx, pipeline.Source{Source: repoSource{Repo: repo, tap: &tap{prog: prog}}, Name: cfg.Repo}, store)
	r.Repos = 1
	if keep {
		if dir := repo.Dir(); dir != "" {
			fmt.Fprintf(c.stderr, "sasquatch: kept bare clone of %s at %s\n", cfg.Repo, dir)
		}
	}
	return r, err
}

// isLocalPath reports whether a git target names a local path rather than a
// clone URL ("https://…", "ssh://…", "git@host:path").
func isLocalPath(target string) bool {
	if strings.Contains(target, "://") {
		return false
	}
	if i := strings.Index(target, ":"); i > 0 && !strings.ContainsAny(target[:i], `/\`) && len(target[:i]) > 1 {
		return false // scp-like syntax, user@host:path (one letter: a Windows drive)
	}
	return true
}
