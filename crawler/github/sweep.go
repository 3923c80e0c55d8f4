package github

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/sasquatch-sec/sasquatch/crawler"
)

// RepoSource is one repository's content handed to the scan callback.
// Blobs yields every blob once (see crawler.Source); Provenance returns the
// origins of the given blob IDs (for history: the introducing commits). A
// *gitscan.Repo satisfies it; the tarball source already sets full origins
// on each blob. A RepoSource has one consumer: not safe for concurrent use.
type RepoSource interface {
	Blobs(ctx context.Context) iter.Seq2[crawler.Blob, error]
	Provenance(ctx context.Context, blobIDs []string) (map[string][]crawler.Origin, error)
}

// ScanFunc scans one repository (cmd runs the detector here). It is called
// once per repository that could be opened and is not empty (an empty
// repository is counted in Summary.Empty without a call), concurrently for different
// repositories (up to Config.Concurrency at once), so it must be safe for
// concurrent use. src is valid only until ScanFunc returns. A non-nil
// error other than the per-repository timeout aborts the sweep (return nil
// and count per-blob problems yourself).
type ScanFunc func(ctx context.Context, r Repo, src RepoSource) error

// RepoSkip records a repository that was not (fully) scanned.
type RepoSkip struct {
	Repo   string `json:"repo"`             // OWNER/NAME (or the target as given)
	Reason string `json:"reason"`           // stable: not-found, blocked-451, disabled, too-large, forbidden, clone-failed, timeout, ...
	Detail string `json:"detail,omitempty"` // error text (bounded), never containing the token
}

// Summary describes a sweep. Skipped repositories and Incomplete mean lost
// coverage, never a clean result.
type Summary struct {
	Listed    int            `json:"listed"`     // unique repositories found (by ID) before filters
	Filtered  map[string]int `json:"filtered"`   // not scanned by choice: "fork", "archived", "excluded" (globs)
	Scanned   int            `json:"scanned"`    // repositories whose content was scanned (incl. empty ones)
	Empty     int            `json:"empty"`      // repositories that were empty (scanned-empty; part of Scanned)
	Skipped   []RepoSkip     `json:"skipped"`    // repositories not scanned (or cut short), with reasons
	Bytes     int64          `json:"bytes"`      // blob bytes yielded to ScanFunc
	Blobs     int64          `json:"blobs"`      // blobs yielded to ScanFunc
	BlobSkips int64          `json:"blob_skips"` // per-item *crawler.Skip yielded by sources (too-large, symlink, ...)
	APICalls  int64          `json:"api_calls"`  // HTTP requests sent to the API host, retries included
	// RateLimitWait is the wall time the sweep was held by primary and
	// secondary rate limits.
	RateLimitWait time.Duration `json:"rate_limit_wait_ns"`
	// Incomplete reports lost coverage: a skipped repository, a failed or
	// SSO-limited listing, incomplete history coverage, a truncated stream.
	Incomplete        bool     `json:"incomplete"`
	IncompleteReasons []string `json:"incomplete_reasons,omitempty"` // every reason, repository skips included
	// TargetProblems are the listing problems among IncompleteReasons (a
	// target that could not be listed, an SSO-limited listing), which no
	// RepoSkip describes.
	TargetProblems []string      `json:"target_problems,omitempty"`
	Duration       time.Duration `json:"duration_ns"`
}

// SkipCounts returns the number of skipped repositories per reason.
func (s *Summary) SkipCounts() map[string]int {
	m := map[string]int{}
	for _, k := range s.Skipped {
		m[k.Reason]++
	}
	return m
}

func (s *Summary) markIncomplete(reason string) {
	s.Incomplete = true
	if len(s.IncompleteReasons) < 1000 {
		s.IncompleteReasons = append(s.IncompleteReasons, reason)
	}
}

func (s *Summary) addTargetProblem(p string) {
	if len(s.TargetProblems) < 1000 {
		s.TargetProblems = append(s.TargetProblems, p)
	}
	s.markIncomplete(p)
}

func (s *Summary) addSkip(k RepoSkip) {
	s.Skipped = append(s.Skipped, k)
	s.markIncomplete(k.Repo + ": " + k.Reason)
}

// maxDetail bounds RepoSkip.Detail (server-controlled text).
const maxDetail = 300

// truncate cuts s to n bytes (at a rune boundary) and drops control characters.
func truncate(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// errString returns err's text with the token removed.
func (c *Client) errString(err error) string {
	if err == nil {
		return ""
	}
	return c.cfg.Token.redactString(err.Error())
}

// outcome is what processing one repository produced.
type outcome struct {
	scanned, empty bool
	skip           *RepoSkip
	incomplete     string
}

// Sweep lists the targets, filters them, and for each remaining repository
// opens its content (clone, or tarball with History "none") and calls scan.
// Up to Config.Concurrency repositories are processed at once, so clones
// and scans overlap. Permanent per-repository failures are recorded in the
// Summary and the sweep goes on; the returned error is non-nil only when ctx
// ends or scan returns an error. Every error and Summary field is free of
// the token. Sweep is safe for concurrent use, but Summary counters
// (API calls, waits) are per Client.
func (c *Client) Sweep(ctx context.Context, targets Targets, scan ScanFunc) (Summary, error) {
	start := c.now()
	sum := Summary{Filtered: map[string]int{}}
	l := &lister{c: c, sum: &sum, seen: map[int64]bool{}}
	if c.cfg.Token.IsZero() {
		c.log.Info("no GitHub token: public repositories only, and a low rate limit (60 requests/hour on github.com)")
	}
	finish := func(err error) (Summary, error) {
		sum.APICalls = c.stats.apiCalls.Load()
		sum.RateLimitWait = time.Duration(c.stats.waitNanos.Load())
		sum.Duration = c.now().Sub(start)
		return sum, c.cfg.Token.redactErr(err)
	}
	if err := l.listAll(ctx, targets); err != nil {
		return finish(err)
	}
	if n := len(targets.Orgs) + len(targets.Users); n > 0 && len(l.failed) == n && len(targets.Repos) == 0 {
		return finish(fmt.Errorf("github: no target could be listed (%s)", strings.Join(l.failed, ", ")))
	}
	sum.Listed = len(l.repos)
	var todo []Repo
	for _, r := range l.repos {
		switch {
		case !r.explicit && r.Fork && !c.cfg.IncludeForks:
			sum.Filtered["fork"]++
		case !r.explicit && r.Archived && c.cfg.ExcludeArchived:
			sum.Filtered["archived"]++
		case len(c.cfg.Include) > 0 && !matches(c.cfg.Include, r.Repo), matches(c.cfg.Exclude, r.Repo):
			sum.Filtered["excluded"]++
		default:
			todo = append(todo, r.Repo)
		}
	}
	c.log.Info("github listing done", "listed", sum.Listed, "to_scan", len(todo), "filtered", sum.Filtered)

	var (
		mu    sync.Mutex
		done  int
		bytes atomic.Int64
		blobs atomic.Int64
		bskip atomic.Int64
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.Concurrency)
	for _, r := range todo {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			cnt := &counter{bytes: &bytes, blobs: &blobs, skips: &bskip}
			o, err := c.processRepo(gctx, r, scan, cnt)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case o.skip != nil:
				sum.addSkip(*o.skip)
			case o.scanned:
				sum.Scanned++
				if o.empty {
					sum.Empty++
				}
			}
			if o.incomplete != "" {
				sum.markIncomplete(r.FullName + ": " + o.incomplete)
			}
			done++
			if c.cfg.Progress != nil {
				c.cfg.Progress(Progress{Done: done, Total: len(todo), Bytes: bytes.Load(), Repo: r.FullName})
			}
			if done%10 == 0 || done == len(todo) {
				c.log.Info("github sweep progress", "done", done, "total", len(todo), "bytes", bytes.Load())
			}
			return err
		})
	}
	err := g.Wait()
	if err == nil {
		err = ctx.Err()
	}
	sum.Bytes, sum.Blobs, sum.BlobSkips = bytes.Load(), blobs.Load(), bskip.Load()
	slices.SortFunc(sum.Skipped, func(a, b RepoSkip) int {
		if a.Repo < b.Repo {
			return -1
		}
		if a.Repo > b.Repo {
			return 1
		}
		return 0
	})
	return finish(err)
}

// maxCloneAttempts bounds clone attempts on transient failures.
const maxCloneAttempts = 4

// processRepo opens and scans one repository. The error is fatal (ctx or
// scan failure); everything else is in the outcome.
func (c *Client) processRepo(ctx context.Context, r Repo, scan ScanFunc, cnt *counter) (outcome, error) {
	skip := func(reason string, err error) (outcome, error) {
		c.log.Warn("github repository skipped", "repo", r.FullName, "reason", reason)
		return outcome{skip: &RepoSkip{Repo: r.FullName, Reason: reason, Detail: truncate(c.errString(err), maxDetail)}}, nil
	}
	if owner, name, ok := strings.Cut(r.FullName, "/"); !ok || !validName(owner) || !validName(name) {
		return skip("bad-name", nil)
	}
	if r.Disabled {
		return skip("disabled", nil)
	}
	if m := c.cfg.MaxRepoSize; m > 0 && r.SizeKiB > 0 && r.SizeKiB*1024 > m+m/4 {
		return skip("too-large", fmt.Errorf("API size %d KiB over --max-repo-size %d bytes", r.SizeKiB, m))
	}
	rctx, cancel := context.WithTimeout(ctx, c.cfg.RepoTimeout)
	defer cancel()
	timedOut := func() bool { return ctx.Err() == nil && rctx.Err() != nil }

	// open returns the repository's content, or "empty" or a skip reason.
	open := func() (clonedRepo, string, error) {
		if c.cfg.History == HistoryNone {
			ts, reason, err := c.openTarball(rctx, r)
			if ts == nil {
				return nil, reason, err
			}
			return ts, reason, err
		}
		return c.cloneWithRetry(rctx, r)
	}
	src, reason, err := open()
	if ctx.Err() != nil {
		if src != nil {
			closeQuiet(src)
		}
		return outcome{}, ctx.Err()
	}
	if reason == "" && src != nil {
		if e, ok := src.(interface{ isEmpty() bool }); ok && e.isEmpty() {
			reason = "empty"
		}
	}
	if reason != "" && src != nil {
		closeQuiet(src)
	}
	switch {
	case reason == "empty":
		c.log.Info("github repository empty", "repo", r.FullName)
		return outcome{scanned: true, empty: true}, nil
	case timedOut():
		return skip("timeout", err)
	case reason != "":
		return skip(reason, err)
	}
	closer := func() { closeQuiet(src) }
	defer closer()
	err = scan(rctx, r, &countingSource{RepoSource: src, cnt: cnt})
	if ctx.Err() != nil {
		return outcome{}, ctx.Err()
	}
	if timedOut() {
		return outcome{skip: &RepoSkip{Repo: r.FullName, Reason: "timeout", Detail: "per-repository timeout during scan"}}, nil
	}
	if err != nil {
		return outcome{}, fmt.Errorf("scan %s: %w", r.FullName, err)
	}
	o := outcome{scanned: true}
	if inc, ok := src.(interface{ incompleteReason() string }); ok {
		if s := inc.incompleteReason(); s != "" {
			o.incomplete = s
		}
	}
	c.log.Debug("github repository scanned", "repo", r.FullName)
	return o, nil
}

// cloneWithRetry opens a clone, retrying transient failures with backoff.
// reason is "" on success, "empty" for an empty repository, else a skip reason.
func (c *Client) cloneWithRetry(ctx context.Context, r Repo) (clonedRepo, string, error) {
	if err := c.checkCloneURL(r.CloneURL); err != nil {
		return nil, "bad-clone-url", err
	}
	var err error
	for attempt := 0; attempt < maxCloneAttempts; attempt++ {
		var cr clonedRepo
		cr, err = c.openClone(ctx, r)
		if err == nil {
			return cr, "", nil
		}
		if ctx.Err() != nil {
			return nil, "timeout", err
		}
		reason, transient := classifyCloneError(err)
		if !transient {
			return nil, reason, err
		}
		c.log.Info("github clone failed, retrying", "repo", r.FullName, "attempt", attempt+1, "error", c.errString(err))
		if attempt+1 < maxCloneAttempts {
			if err := c.backoff(ctx, attempt, r.FullName, "clone"); err != nil {
				return nil, "timeout", err
			}
		}
	}
	return nil, "clone-failed", err
}

// counter accumulates what sources yield.
type counter struct {
	bytes, blobs, skips *atomic.Int64
}

// countingSource counts yielded blobs and bytes for Progress and Summary.
type countingSource struct {
	RepoSource
	cnt *counter
}

func (s *countingSource) Blobs(ctx context.Context) iter.Seq2[crawler.Blob, error] {
	return func(yield func(crawler.Blob, error) bool) {
		for b, err := range s.RepoSource.Blobs(ctx) {
			if err != nil {
				if _, ok := errors.AsType[*crawler.Skip](err); ok {
					s.cnt.skips.Add(1)
				}
			} else {
				s.cnt.blobs.Add(1)
				s.cnt.bytes.Add(int64(len(b.Data) - b.Overlap))
			}
			if !yield(b, err) {
				return
			}
		}
	}
}
