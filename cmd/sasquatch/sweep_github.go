package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sasquatch-sec/sasquatch/crawler/github"
)

// registerGitHubFlags adds the GitHub target, connection and filter flags
// that github, sweep, worker and issues share.
func registerGitHubFlags(cmd *cobra.Command, f *githubFlags) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.orgs, "org", nil, "sweep every repository of organisation `O` (repeatable)")
	fl.StringArrayVar(&f.users, "user", nil, "sweep every repository owned by user `U` (repeatable)")
	fl.StringArrayVar(&f.repos, "repo", nil, "sweep repository `OWNER/NAME` (repeatable)")
	fl.StringVar(&f.apiURL, "api-url", github.DefaultAPIURL, "the REST API root (GitHub Enterprise: https://HOST/api/v3/)")
	fl.StringVar(&f.tokenFile, "token-file", "", "read the GitHub token from `FILE` instead of GITHUB_TOKEN")
	fl.BoolVar(&f.includeForks, "include-forks", false, "also scan forks (skipped by default)")
	fl.BoolVar(&f.excludeArchived, "exclude-archived", false, "skip archived repositories (scanned by default)")
	fl.StringArrayVar(&f.include, "include", nil, "scan only repositories whose NAME or OWNER/NAME matches `GLOB` (repeatable)")
	fl.StringArrayVar(&f.exclude, "exclude", nil, "skip repositories whose NAME or OWNER/NAME matches `GLOB` (repeatable)")
	fl.IntVar(&f.concurrency, "concurrency", 4, "repositories scanned at once by this process; all share the --workers detector goroutines")
	fl.Var(&f.maxRepoSize, "max-repo-size", "skip (and report) repositories whose API size is over `SIZE` (0: no limit)")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "keep bare clones in `DIR` and fetch into them on later runs")
	fl.BoolVar(&f.allowInsecureHTTP, "allow-insecure-http", false, "allow sending the token to a plain http --api-url that is not a loopback address")
}

// newGitHubClient builds the GitHub client from the flags.
func newGitHubClient(c *common, g *gitFlags, f *githubFlags) (*github.Client, error) {
	for _, r := range f.repos {
		if o, n, ok := strings.Cut(r, "/"); !ok || o == "" || n == "" || strings.Contains(n, "/") {
			return nil, usagef("--repo %q: want OWNER/NAME", r)
		}
	}
	if f.concurrency < 1 || f.concurrency > maxConcurrency {
		return nil, usagef("--concurrency must be between 1 and %d", maxConcurrency)
	}
	token, err := github.LoadToken(f.tokenFile, os.Getenv)
	if err != nil {
		return nil, usagef("%v", err)
	}
	if token.IsZero() {
		if !c.quiet {
			fmt.Fprintln(c.stderr, "sasquatch: warning: no GitHub token (GITHUB_TOKEN or --token-file): public repositories only, 60 API requests an hour")
		}
	} else if host, insecure := plainHTTPHost(f.apiURL); insecure && !f.allowInsecureHTTP {
		return nil, usagef("--api-url is plain http to %s: the GitHub token would cross the network unencrypted; use https, or --allow-insecure-http", host)
	}
	history := f.history
	if history == "" {
		history = github.HistoryFull
	}
	client, err := github.New(github.Config{
		APIURL:          f.apiURL,
		Token:           token,
		IncludeForks:    f.includeForks,
		ExcludeArchived: f.excludeArchived,
		Include:         f.include,
		Exclude:         f.exclude,
		History:         history,
		MaxRepoSize:     f.maxRepoSize.n,
		MaxRepoBytes:    g.maxRepo.n,
		MaxBlobSize:     g.maxBlob.n,
		RepoTimeout:     g.timeout,
		CacheDir:        f.cacheDir,
		TempDir:         g.tempDir,
		Logger:          c.logger,
	})
	if err != nil {
		return nil, usagef("%v", err)
	}
	return client, nil
}
