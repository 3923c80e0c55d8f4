package github

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v56/github"
)

// max502 bounds consecutive 502s on one listing (each halves per_page).
const max502 = 8

// maxPages bounds one listing (100 000 pages of up to 100 repositories).
const maxPages = 100_000

// lister collects repositories from all targets, deduplicated by ID.
type lister struct {
	c        *Client
	lst      *Listing
	seenID   map[int64]bool
	seenName map[string]bool // lower-cased OWNER/NAME of repositories without an ID
	repos    []listed
	// failed lists the targets whose listing failed entirely, with reasons.
	failed       []string
	failReasons  []string
	scopesLogged bool
}

// listed is a repository and whether it was named explicitly (--repo):
// fork and archived filters apply only to listings.
type listed struct {
	Repo
	explicit bool
}

func (l *lister) add(r *gh.Repository, explicit bool) {
	if r == nil {
		return
	}
	rr := fromAPI(r)
	if rr.ID != 0 {
		if l.seenID[rr.ID] {
			return
		}
		l.seenID[rr.ID] = true
	} else {
		// No ID (a broken or hostile server): dedup by name, in a map so a
		// listing of 60,000 nameless repositories stays linear.
		key := strings.ToLower(rr.FullName)
		if l.seenName[key] {
			return
		}
		l.seenName[key] = true
	}
	l.repos = append(l.repos, listed{Repo: rr, explicit: explicit})
}

// checkSSO marks coverage incomplete when GitHub says results are partial
// or SSO-limited (X-GitHub-SSO header).
func (l *lister) checkSSO(resp *gh.Response, what string) {
	if resp == nil || resp.Response == nil {
		return
	}
	if !l.scopesLogged {
		l.scopesLogged = true
		l.c.log.Info("github token scopes", "scopes", sanitizeHeader(resp.Header.Get("X-OAuth-Scopes")),
			"accepted", sanitizeHeader(resp.Header.Get("X-Accepted-OAuth-Scopes")))
	}
	if v := resp.Header.Get("X-GitHub-SSO"); v != "" {
		l.problem(fmt.Sprintf("%s: X-GitHub-SSO: %s", what, sanitizeHeader(v)))
		l.c.log.Warn("github listing limited by SAML SSO: coverage incomplete", "target", what)
	}
}

// sanitizeHeader keeps a header value printable and short.
func sanitizeHeader(v string) string {
	v = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, v)
	if len(v) > 200 {
		v = v[:200] + "..."
	}
	return v
}

// listAll lists every target. Per-target failures are recorded in the
// summary (coverage incomplete) and the other targets are still listed; only
// ctx ending is returned as an error.
func (l *lister) listAll(ctx context.Context, t Targets) error {
	for _, o := range t.Orgs {
		if err := l.listPaged(ctx, "org "+o, o, func(opt gh.ListOptions) ([]*gh.Repository, *gh.Response, error) {
			return l.c.gh.Repositories.ListByOrg(context.WithValue(ctx, keyListing, true), o,
				&gh.RepositoryListByOrgOptions{Type: "all", Sort: "full_name", Direction: "asc", ListOptions: opt})
		}); err != nil {
			return err
		}
	}
	for _, u := range t.Users {
		if err := l.listPaged(ctx, "user "+u, u, func(opt gh.ListOptions) ([]*gh.Repository, *gh.Response, error) {
			return l.c.gh.Repositories.List(context.WithValue(ctx, keyListing, true), u,
				&gh.RepositoryListOptions{Type: "owner", Sort: "full_name", Direction: "asc", ListOptions: opt})
		}); err != nil {
			return err
		}
	}
	for _, full := range t.Repos {
		owner, name, ok := strings.Cut(full, "/")
		if !ok || !validName(owner) || !validName(name) {
			l.lst.Skipped = append(l.lst.Skipped, RepoSkip{Repo: full, Reason: "bad-name"})
			l.fail("repo "+full, "bad name")
			continue
		}
		var r *gh.Repository
		resp, err := l.c.call(ctx, "repo "+full, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			r, resp, err = l.c.gh.Repositories.Get(ctx, owner, name)
			return resp, err
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		l.checkSSO(resp, "repo "+full)
		if err != nil {
			reason := reasonForStatus(statusOf(err))
			if reason == "" {
				reason = "api-error"
			}
			detail := l.c.detail(err)
			l.lst.Skipped = append(l.lst.Skipped, RepoSkip{Repo: full, Reason: reason, Detail: detail})
			l.fail("repo "+full, reason+": "+detail)
			l.c.log.Info("github repository unavailable", "repo", full, "reason", reason)
			continue
		}
		l.add(r, true)
	}
	return nil
}

// listPaged follows a listing's Link headers (go-github's NextPage). On a
// 502 it halves per_page (re-basing the page number so no item is skipped)
// and retries; duplicates from page drift are removed by ID.
func (l *lister) listPaged(ctx context.Context, what, name string,
	list func(gh.ListOptions) ([]*gh.Repository, *gh.Response, error)) error {
	if !validName(name) {
		l.fail(what, "bad name")
		l.problem(what + ": bad name")
		return nil
	}
	per, page, bad := l.c.cfg.PerPage, 1, 0
	for pages := 0; ; pages++ {
		var repos []*gh.Repository
		resp, err := l.c.call(ctx, what, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			repos, resp, err = list(gh.ListOptions{Page: page, PerPage: per})
			return resp, err
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		l.checkSSO(resp, what) // also on errors: a 403 with X-GitHub-SSO: required
		if err != nil {
			if statusOf(err) == http.StatusBadGateway && bad < max502 {
				bad++
				if np := smallerPage(per); np < per {
					page = (page-1)*per/np + 1
					l.c.log.Info("github listing 502: smaller pages", "target", what, "per_page", np)
					per = np
				}
				if err := l.c.backoff(ctx, min(bad-1, 3), what, "502"); err != nil {
					return err
				}
				continue
			}
			detail := l.c.detail(err)
			if pages == 0 {
				// Nothing of this target was listed.
				l.fail(what, detail)
			}
			l.problem(fmt.Sprintf("list %s: %s", what, detail))
			l.c.log.Info("github listing failed: coverage incomplete", "target", what, "status", statusOf(err))
			return nil
		}
		bad = 0
		for _, r := range repos {
			l.add(r, false)
		}
		if resp == nil || resp.NextPage <= page || pages >= maxPages {
			return nil
		}
		page = resp.NextPage
	}
}

// smallerPage returns the largest divisor of per that is at most per/2, so
// that (page-1)*per stays a multiple of the new size; 1 stays 1.
func smallerPage(per int) int {
	for d := per / 2; d >= 1; d-- {
		if per%d == 0 {
			return d
		}
	}
	return 1
}
