package github

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v56/github"
)

// Listing is what [Client.Repos] found. Its Skipped and Problems are lost
// coverage, never a clean result.
type Listing struct {
	// Repos are the repositories to scan, unique by ID (by OWNER/NAME when
	// a server gives no ID), in listing order, filters applied.
	Repos []Repo
	// Listed counts unique repositories found before filters.
	Listed int
	// Filtered counts repositories not scanned by choice: "fork",
	// "archived", "excluded" (globs).
	Filtered map[string]int
	// Skipped are named repositories (--repo) that could not be had: not
	// found, blocked, a bad name, an API error.
	Skipped []RepoSkip
	// Problems are targets that could not be listed, or were listed only in
	// part (an SSO-limited listing), as secret-free sentences.
	Problems []string
}

// Incomplete reports whether the listing lost coverage.
func (l Listing) Incomplete() bool { return len(l.Skipped) > 0 || len(l.Problems) > 0 }

// ListError says that no target at all could be listed: nothing can be
// scanned, which a caller must not report as clean.
type ListError struct {
	Targets []string // the targets as named ("org contoso", "repo acme/tools")
	Reasons []string // one secret-free reason per target
}

func (e *ListError) Error() string {
	parts := make([]string, len(e.Targets))
	for i, t := range e.Targets {
		parts[i] = t
		if i < len(e.Reasons) && e.Reasons[i] != "" {
			parts[i] += " (" + e.Reasons[i] + ")"
		}
	}
	return "could not list " + strings.Join(parts, ", ")
}

// RepoSkip records a repository that was not (fully) scanned.
type RepoSkip struct {
	Repo   string `json:"repo"`             // OWNER/NAME (or the target as given)
	Reason string `json:"reason"`           // stable: not-found, blocked-451, disabled, too-large, forbidden, clone-failed, timeout, ...
	Detail string `json:"detail,omitempty"` // error text (bounded), never containing the token
}

// Repos lists every target, deduplicates by repository ID and applies the
// fork, archived and glob filters. Per-target failures are recorded in the
// Listing and the other targets are still listed. The error is ctx.Err(),
// or a *ListError when targets were named and none could be listed (a typo,
// a wrong --api-url, no network). Every text in the Listing is free of the
// token. Repos makes no clone.
func (c *Client) Repos(ctx context.Context, targets Targets) (Listing, error) {
	lst := Listing{Filtered: map[string]int{}}
	l := &lister{c: c, lst: &lst, seenID: map[int64]bool{}, seenName: map[string]bool{}}
	if c.cfg.Token.IsZero() {
		c.log.Info("no GitHub token: public repositories only, and a low rate limit (60 requests/hour on github.com)")
	}
	if err := l.listAll(ctx, targets); err != nil {
		return lst, c.cfg.Token.redactErr(err)
	}
	lst.Listed = len(l.repos)
	for _, r := range l.repos {
		switch {
		case !r.explicit && r.Fork && !c.cfg.IncludeForks:
			lst.Filtered["fork"]++
		case !r.explicit && r.Archived && c.cfg.ExcludeArchived:
			lst.Filtered["archived"]++
		case len(c.cfg.Include) > 0 && !matches(c.cfg.Include, r.Repo), matches(c.cfg.Exclude, r.Repo):
			lst.Filtered["excluded"]++
		default:
			lst.Repos = append(lst.Repos, r.Repo)
		}
	}
	c.log.Info("github listing done", "listed", lst.Listed, "to_scan", len(lst.Repos), "filtered", lst.Filtered)
	named := len(targets.Orgs) + len(targets.Users) + len(targets.Repos)
	if named > 0 && lst.Listed == 0 && len(l.failed) == named {
		return lst, &ListError{Targets: l.failed, Reasons: l.failReasons}
	}
	return lst, nil
}

// APICalls returns the HTTP requests sent to the API host so far, retries
// included. Safe for concurrent use.
func (c *Client) APICalls() int64 { return c.stats.apiCalls.Load() }

// RateLimitWait returns how long calls were held by rate limits so far.
// Safe for concurrent use.
func (c *Client) RateLimitWait() time.Duration { return time.Duration(c.stats.waitNanos.Load()) }

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

// detail describes err for a skip or a listing problem. An API error is
// described by its HTTP status only: the server's own text is never copied
// (a hostile server can echo anything, the token in any form included).
func (c *Client) detail(err error) string {
	if code := statusOf(err); code != 0 {
		return fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))
	}
	return truncate(c.errString(err), maxDetail)
}

// errString returns err's text with the token removed.
func (c *Client) errString(err error) string {
	if err == nil {
		return ""
	}
	return c.cfg.Token.redactString(err.Error())
}

func (l *lister) problem(p string) {
	if len(l.lst.Problems) < 1000 {
		l.lst.Problems = append(l.lst.Problems, p)
	}
}

func (l *lister) fail(target, reason string) {
	l.failed = append(l.failed, target)
	l.failReasons = append(l.failReasons, reason)
}

// Preflight checks that every org and user target exists (GET /orgs/O,
// GET /users/U) before anything is listed or scanned, so that a typo fails
// at once instead of as an empty sweep. It returns a *ListError naming the
// targets that do not exist (404) and nil otherwise; other failures (rate
// limits, 5xx, no network) are ctx's or the call's error.
func (c *Client) Preflight(ctx context.Context, targets Targets) error {
	var missing ListError
	check := func(kind, name string, get func() (*gh.Response, error)) error {
		what := kind + " " + name
		if !validName(name) {
			missing.Targets = append(missing.Targets, what)
			missing.Reasons = append(missing.Reasons, "bad name")
			return nil
		}
		_, err := c.call(ctx, what, get)
		switch {
		case err == nil:
			return nil
		case statusOf(err) == http.StatusNotFound:
			missing.Targets = append(missing.Targets, what)
			missing.Reasons = append(missing.Reasons, "not found")
			return nil
		default:
			return c.cfg.Token.redactErr(fmt.Errorf("%s: %w", what, err))
		}
	}
	for _, o := range targets.Orgs {
		if err := check("org", o, func() (*gh.Response, error) {
			_, resp, err := c.gh.Organizations.Get(ctx, o)
			return resp, err
		}); err != nil {
			return err
		}
	}
	for _, u := range targets.Users {
		if err := check("user", u, func() (*gh.Response, error) {
			_, resp, err := c.gh.Users.Get(ctx, u)
			return resp, err
		}); err != nil {
			return err
		}
	}
	if len(missing.Targets) > 0 {
		return &missing
	}
	return nil
}
