package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/crawler/gitscan"
)

// Source is an opened repository: a crawler.Source to close after the
// scan. A clone also implements crawler.CoverageReporter,
// crawler.Provenancer and crawler.Tipper; a tarball implements the first two.
type Source interface {
	crawler.Source
	io.Closer
}

// ErrEmpty is returned (wrapped) by [Client.Open] for an empty repository:
// scanned, and clean.
var ErrEmpty = errors.New("empty repository")

// SkipError is a per-repository problem from [Client.Open] (not found,
// blocked, disabled, too large, clone failed): the repository is recorded
// as skipped and a sweep goes on. Its text never contains the token.
type SkipError struct{ RepoSkip }

func (e *SkipError) Error() string {
	msg := e.Repo + ": " + e.Reason
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// OpenOptions says how to open a repository.
type OpenOptions struct {
	// SinceTips are commits scanned by an earlier run (its tips): only
	// objects not reachable from them are scanned. When every ref the
	// server advertises already points at one of them, nothing is fetched
	// at all and the source yields nothing.
	SinceTips []string
}

// maxCloneAttempts bounds clone attempts on transient failures.
const maxCloneAttempts = 4

// Open returns r's content: a bare clone (fetched into Config.CacheDir when
// set), or with History "none" a stream of the default branch's tarball.
// Transient clone failures are retried with backoff. Errors: ctx's, a
// *SkipError, or one wrapping ErrEmpty. Close the source when done.
func (c *Client) Open(ctx context.Context, r Repo, o OpenOptions) (Source, error) {
	skip := func(reason string, err error) error {
		c.log.Info("github repository skipped", "repo", r.FullName, "reason", reason)
		return &SkipError{RepoSkip{Repo: r.FullName, Reason: reason, Detail: c.detail(err)}}
	}
	if owner, name, ok := strings.Cut(r.FullName, "/"); !ok || !validName(owner) || !validName(name) {
		return nil, skip("bad-name", nil)
	}
	if r.Disabled {
		return nil, skip("disabled", nil)
	}
	if m := c.cfg.MaxRepoSize; m > 0 && r.SizeKiB > 0 && r.SizeKiB*1024 > m+m/4 {
		return nil, skip("too-large", fmt.Errorf("API size %d KiB over --max-repo-size %d bytes", r.SizeKiB, m))
	}
	if c.cfg.History == HistoryNone {
		ts, reason, err := c.openTarball(ctx, r)
		if ts == nil { // a nil *tarballSource must not become a non-nil Source
			return c.opened(ctx, r, nil, reason, err, skip)
		}
		return c.opened(ctx, r, ts, reason, err, skip)
	}
	if err := c.checkCloneURL(r.CloneURL); err != nil {
		return nil, skip("bad-clone-url", err)
	}
	if len(o.SinceTips) > 0 {
		if tips, same := c.unchanged(ctx, r, o.SinceTips); same {
			c.log.Info("github repository unchanged since the recorded tips: not fetched", "repo", r.FullName)
			return unchangedSource{tips: tips}, nil
		}
	}
	src, reason, err := c.cloneWithRetry(ctx, r, o)
	return c.opened(ctx, r, src, reason, err, skip)
}

// opened turns an open attempt into Open's result.
func (c *Client) opened(ctx context.Context, r Repo, src Source, reason string, err error, skip func(string, error) error) (Source, error) {
	if ctx.Err() != nil {
		if src != nil {
			closeQuiet(src)
		}
		return nil, ctx.Err()
	}
	if reason == "" && src != nil {
		if e, ok := src.(interface{ isEmpty() bool }); ok && e.isEmpty() {
			reason = "empty"
		}
	}
	if reason != "" && src != nil {
		closeQuiet(src)
	}
	switch reason {
	case "":
		return src, nil
	case "empty":
		c.log.Info("github repository empty", "repo", r.FullName)
		return nil, fmt.Errorf("%s: %w", r.FullName, ErrEmpty)
	}
	return nil, skip(reason, err)
}

// cloneWithRetry opens a clone, retrying transient failures with backoff.
// reason is "" on success, "empty" for an empty repository, else a skip reason.
func (c *Client) cloneWithRetry(ctx context.Context, r Repo, o OpenOptions) (Source, string, error) {
	var err error
	for attempt := 0; attempt < maxCloneAttempts; attempt++ {
		var src Source
		src, err = c.openClone(ctx, r, o)
		if err == nil {
			return src, "", nil
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

// openGit clones r (or fetches into CacheDir) with gitscan, authenticating
// with x-access-token basic auth (never a token in the URL).
func (c *Client) openGit(ctx context.Context, r Repo, o OpenOptions) (Source, error) {
	gr, err := gitscan.Open(ctx, r.CloneURL, gitscan.Config{
		MaxBlobSize:       c.cfg.MaxBlobSize,
		MaxRepoBytes:      c.cfg.MaxRepoBytes,
		Timeout:           c.cfg.RepoTimeout,
		TempDir:           c.cfg.TempDir,
		CacheDir:          c.cfg.CacheDir,
		Auth:              c.cloneAuth(),
		Repo:              r.FullName,
		SinceTips:         o.SinceTips,
		Logger:            c.log,
		AllowInsecureHTTP: c.scheme == "http",
	})
	if err != nil {
		// Not redacted here: the caller classifies it, then stores only
		// c.errString(err).
		return nil, err
	}
	return gitSource{gr}, nil
}

// gitSource is a clone; it is empty when it has no refs.
type gitSource struct{ *gitscan.Repo }

func (g gitSource) isEmpty() bool { return len(g.Tips()) == 0 }

// unchanged asks the server for its refs (a ref advertisement, as `git
// ls-remote` shows it: no pack is downloaded) and reports whether every
// ref already points at a recorded tip. tips is the advertisement, ref ->
// commit (annotated tags peeled), for the next run.
func (c *Client) unchanged(ctx context.Context, r Repo, since []string) (map[string]string, bool) {
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{r.CloneURL}})
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: c.cloneAuth(), PeelingOption: git.AppendPeeled})
	if err != nil {
		// Not knowing is not "unchanged": fetch as usual.
		c.log.Info("github ref advertisement failed: fetching", "repo", r.FullName, "error", c.errString(err))
		return nil, false
	}
	peeled := map[string]string{}
	for _, ref := range refs {
		if name, ok := strings.CutSuffix(ref.Name().String(), "^{}"); ok {
			peeled[name] = ref.Hash().String()
		}
	}
	known := map[string]bool{}
	for _, t := range since {
		known[t] = true
	}
	tips := map[string]string{}
	for _, ref := range refs {
		name := ref.Name().String()
		if name == "HEAD" || strings.HasSuffix(name, "^{}") || !strings.HasPrefix(name, "refs/") || ref.Hash().IsZero() {
			continue
		}
		sha := ref.Hash().String()
		if p, ok := peeled[name]; ok {
			sha = p
		}
		if !known[sha] {
			return nil, false
		}
		tips[name] = sha
	}
	return tips, len(tips) > 0
}

// unchangedSource is a repository whose refs all point at recorded tips:
// there is nothing new to scan.
type unchangedSource struct{ tips map[string]string }

func (unchangedSource) Blobs(context.Context) iter.Seq2[crawler.Blob, error] {
	return func(func(crawler.Blob, error) bool) {}
}
func (unchangedSource) Close() error               { return nil }
func (unchangedSource) Coverage() crawler.Coverage { return crawler.Coverage{Complete: true} }
func (u unchangedSource) Tips() map[string]string  { return u.tips }
func (unchangedSource) Provenance(context.Context, []string) (map[string][]crawler.Origin, error) {
	return nil, nil
}

// SortSkips orders skips by repository (for stable summaries).
func SortSkips(s []RepoSkip) {
	slices.SortFunc(s, func(a, b RepoSkip) int { return strings.Compare(a.Repo, b.Repo) })
}
