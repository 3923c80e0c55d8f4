package github

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/crawler/gitscan"
)

var _ clonedRepo = (*gitscan.Repo)(nil)

// gitRepo adapts a *gitscan.Repo: it is a RepoSource and reports lost
// coverage after the scan.
type gitRepo struct {
	clonedRepo
	g *gitscan.Repo
}

// incompleteReason summarises gitscan's coverage after Blobs ("" when complete).
func (g gitRepo) incompleteReason() string {
	cov := g.g.Stats()
	if cov.Complete {
		return ""
	}
	var parts []string
	if cov.Shallow {
		parts = append(parts, "shallow")
	}
	keys := make([]string, 0, len(cov.Skips))
	for k := range cov.Skips {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, cov.Skips[crawler.SkipReason(k)]))
	}
	if len(cov.Errors) > 0 {
		parts = append(parts, fmt.Sprintf("errors=%d", len(cov.Errors)))
	}
	if len(parts) == 0 {
		return "history coverage incomplete"
	}
	return "history coverage incomplete: " + strings.Join(parts, " ")
}

// openGit clones r (or fetches into CacheDir) with gitscan, authenticating
// with x-access-token basic auth (never a token in the URL).
func (c *Client) openGit(ctx context.Context, r Repo) (clonedRepo, error) {
	gr, err := gitscan.Open(ctx, r.CloneURL, gitscan.Config{
		MaxBlobSize:       c.cfg.MaxBlobSize,
		MaxRepoBytes:      c.cfg.MaxRepoBytes,
		Timeout:           c.cfg.RepoTimeout,
		TempDir:           c.cfg.TempDir,
		CacheDir:          c.cfg.CacheDir,
		Auth:              c.cloneAuth(),
		Repo:              r.FullName,
		Logger:            c.log,
		AllowInsecureHTTP: c.scheme == "http",
	})
	if err != nil {
		// Not redacted here: the caller classifies it, then stores only
		// c.errString(err).
		return nil, err
	}
	return gitRepo{clonedRepo: gr, g: gr}, nil
}

// isEmpty reports whether the clone has no refs (an empty repository).
func (g gitRepo) isEmpty() bool { return len(g.g.Tips()) == 0 }

// GitRepo returns the *gitscan.Repo behind a RepoSource given to a
// [ScanFunc] (for Coverage and Tips), or false for a tarball source.
func GitRepo(src RepoSource) (*gitscan.Repo, bool) {
	if cs, ok := src.(*countingSource); ok {
		src = cs.RepoSource
	}
	if g, ok := src.(gitRepo); ok {
		return g.g, true
	}
	return nil, false
}
