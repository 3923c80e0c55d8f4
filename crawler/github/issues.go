package github

// What issue filing and SARIF upload need from the API (package filing and
// the report command): repository facts for routing, labels, issues and
// comments, private vulnerability reports and code scanning uploads. Every
// call goes through the Client's guarded, rate-limited transport: the token
// goes only to the API host, GETs are retried on transient errors, and
// writes (POST) are sent exactly once: a write whose outcome is not known
// returns an error wrapping [ErrUnknownOutcome] and is never re-sent here.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	gh "github.com/google/go-github/v56/github"
)

// Errors of the issue and code-scanning calls, matched with errors.Is. An
// *[APIError] wraps one of them.
var (
	// ErrIssuesDisabled: the repository has issues turned off (410 Gone).
	ErrIssuesDisabled = errors.New("issues are disabled")
	// ErrNotFound: the repository (or issue) does not exist or the token
	// cannot see it (404).
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the token may not do this (403 other than a rate limit).
	ErrForbidden = errors.New("forbidden")
	// ErrArchived: the repository is archived, so read-only.
	ErrArchived = errors.New("repository is archived")
	// ErrInvalid: GitHub refused the request as invalid (422).
	ErrInvalid = errors.New("invalid request")
	// ErrUnknownOutcome: a write was sent but its result is unknown (a
	// dropped connection, a timeout, a 5xx, a rate limit answer, an
	// unreadable reply). It may have taken effect: reconcile before writing
	// again.
	ErrUnknownOutcome = errors.New("outcome unknown")
)

// APIError is a failed issue, label, advisory or code-scanning call. Its
// Message is GitHub's (cut to 200 bytes, control characters dropped, the
// client's token removed).
type APIError struct {
	Op      string // "create issue", "list issues", ...
	Repo    string // OWNER/NAME
	Status  int    // HTTP status; 0 when there was no response
	Message string
	Err     error // one of the Err* sentinels, or the transport error
}

func (e *APIError) Error() string {
	s := e.Op + " " + e.Repo + ": "
	if e.Status != 0 {
		s += fmt.Sprintf("HTTP %d: ", e.Status)
	}
	if e.Message != "" {
		s += e.Message + ": "
	}
	return s + e.Err.Error()
}

func (e *APIError) Unwrap() error { return e.Err }

// Definitive reports whether err says for sure that a write did not take
// effect (a 4xx answer other than a rate limit): the opposite of
// [ErrUnknownOutcome].
func Definitive(err error) bool {
	return err != nil && !errors.Is(err, ErrUnknownOutcome) &&
		(errors.Is(err, ErrIssuesDisabled) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden) ||
			errors.Is(err, ErrArchived) || errors.Is(err, ErrInvalid))
}

// writeTimeout bounds one write (retryTransport gives writes no attempt
// timeout of their own). Past it the outcome is unknown.
const writeTimeout = time.Minute

// maxListPages bounds a listing followed through Link headers.
const maxListPages = 100

// apiError maps a go-github error of op on repo to an *APIError. write says
// whether the request was a write: then anything but a definitive answer
// is ErrUnknownOutcome.
func (c *Client) apiError(op, repo string, err error, write bool) error {
	if err == nil {
		return nil
	}
	e := &APIError{Op: op, Repo: repo, Status: statusOf(err)}
	if er, ok := errors.AsType[*gh.ErrorResponse](err); ok {
		e.Message = truncate(c.cfg.Token.redactString(er.Message), 200)
	}
	switch {
	case e.Status == http.StatusGone:
		e.Err = ErrIssuesDisabled
	case e.Status == http.StatusNotFound:
		e.Err = ErrNotFound
	case e.Status == http.StatusForbidden && strings.Contains(strings.ToLower(e.Message), "archived"):
		e.Err = ErrArchived
	case e.Status == http.StatusForbidden && !isRateLimit(err):
		e.Err = ErrForbidden
	case e.Status == http.StatusUnprocessableEntity:
		e.Err = ErrInvalid
	case write:
		e.Err = ErrUnknownOutcome
		if e.Status == 0 {
			e.Message = truncate(c.errString(err), 200)
		}
	default:
		e.Err = errors.New(truncate(c.errString(err), 300))
	}
	return e
}

func isRateLimit(err error) bool {
	if _, ok := errors.AsType[*gh.RateLimitError](err); ok {
		return true
	}
	_, ok := errors.AsType[*gh.AbuseRateLimitError](err)
	return ok
}

// splitRepo splits and checks OWNER/NAME.
func splitRepo(full string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(full, "/")
	if !ok || !validName(owner) || !validName(name) {
		return "", "", fmt.Errorf("github: bad repository name %q: want OWNER/NAME", full)
	}
	return owner, name, nil
}

// writeCtx is ctx with the write timeout.
func writeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, writeTimeout)
}

// RepoFacts is what routing an issue needs to know about a repository.
type RepoFacts struct {
	ID         int64
	FullName   string // OWNER/NAME as GitHub names it now (after a rename)
	Private    bool
	Visibility string // "public", "private", "internal"; may be empty (old GHES)
	Archived   bool
	Disabled   bool
	HasIssues  bool
}

// Public reports whether the repository is public.
func (f RepoFacts) Public() bool {
	if f.Visibility != "" {
		return f.Visibility == "public"
	}
	return !f.Private
}

// RepoFacts returns the facts of repository OWNER/NAME (GET /repos/O/N; a
// renamed repository's old name is followed). Safe for concurrent use.
func (c *Client) RepoFacts(ctx context.Context, full string) (RepoFacts, error) {
	owner, name, err := splitRepo(full)
	if err != nil {
		return RepoFacts{}, err
	}
	var r *gh.Repository
	_, err = c.call(ctx, "get repository", func() (resp *gh.Response, err error) {
		r, resp, err = c.gh.Repositories.Get(ctx, owner, name)
		return resp, err
	})
	if err != nil {
		return RepoFacts{}, c.apiError("get repository", full, err, false)
	}
	return RepoFacts{
		ID: r.GetID(), FullName: r.GetFullName(), Private: r.GetPrivate(), Visibility: r.GetVisibility(),
		Archived: r.GetArchived(), Disabled: r.GetDisabled(), HasIssues: r.GetHasIssues(),
	}, nil
}

// PrivateReporting reports whether repository OWNER/NAME accepts private
// vulnerability reports (GET /repos/O/N/private-vulnerability-reporting,
// which go-github v56 lacks). A 404 (an older GitHub Enterprise Server, or
// a repository the token cannot see) means no.
func (c *Client) PrivateReporting(ctx context.Context, full string) (bool, error) {
	owner, name, err := splitRepo(full)
	if err != nil {
		return false, err
	}
	var out struct {
		Enabled bool `json:"enabled"`
	}
	_, err = c.call(ctx, "private reporting", func() (*gh.Response, error) {
		req, err := c.gh.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/private-vulnerability-reporting", owner, name), nil)
		if err != nil {
			return nil, err
		}
		return c.gh.Do(ctx, req, &out)
	})
	if err != nil {
		e := c.apiError("private reporting", full, err, false)
		if errors.Is(e, ErrNotFound) {
			return false, nil
		}
		return false, e
	}
	return out.Enabled, nil
}

// Login returns the login of the authenticated user (GET /user), the creator
// whose issues reconciliation lists. An installation token has no user: the
// error is then ErrForbidden or ErrNotFound and callers list without a
// creator filter.
func (c *Client) Login(ctx context.Context) (string, error) {
	var u *gh.User
	_, err := c.call(ctx, "get user", func() (resp *gh.Response, err error) {
		u, resp, err = c.gh.Users.Get(ctx, "")
		return resp, err
	})
	if err != nil {
		return "", c.apiError("get user", "", err, false)
	}
	return u.GetLogin(), nil
}

// Label is an issue label.
type Label struct {
	Name, Color, Description string
}

// EnsureLabel creates label in repository OWNER/NAME unless it exists
// (GET, then POST when missing; a 422 already_exists from a concurrent
// creator counts as success). The POST is one write.
func (c *Client) EnsureLabel(ctx context.Context, full string, l Label) error {
	owner, name, err := splitRepo(full)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, "get label", func() (resp *gh.Response, err error) {
		_, resp, err = c.gh.Issues.GetLabel(ctx, owner, name, l.Name)
		return resp, err
	})
	if err == nil {
		return nil
	}
	if e := c.apiError("get label", full, err, false); !errors.Is(e, ErrNotFound) {
		return e
	}
	wctx, cancel := writeCtx(ctx)
	defer cancel()
	_, _, err = c.gh.Issues.CreateLabel(wctx, owner, name, &gh.Label{Name: &l.Name, Color: &l.Color, Description: &l.Description})
	if err != nil {
		if er, ok := errors.AsType[*gh.ErrorResponse](err); ok && statusOf(err) == http.StatusUnprocessableEntity {
			for _, d := range er.Errors {
				if d.Code == "already_exists" {
					return nil
				}
			}
		}
		return c.apiError("create label", full, err, true)
	}
	return nil
}

// Issue is an issue as filing needs it.
type Issue struct {
	Number  int
	URL     string // html_url
	Title   string
	Body    string
	User    string // the creator's login
	State   string
	Labels  []string
	Created time.Time
}

func fromIssue(i *gh.Issue) Issue {
	out := Issue{
		Number: i.GetNumber(), URL: i.GetHTMLURL(), Title: i.GetTitle(), Body: i.GetBody(),
		User: i.GetUser().GetLogin(), State: i.GetState(), Created: i.GetCreatedAt().Time,
	}
	for _, l := range i.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out
}

// NewIssue is an issue to create.
type NewIssue struct {
	Title, Body string
	Labels      []string
}

// CreateIssue creates an issue in repository OWNER/NAME: one POST, never
// retried. An error wrapping ErrUnknownOutcome means the issue may exist.
func (c *Client) CreateIssue(ctx context.Context, full string, in NewIssue) (Issue, error) {
	owner, name, err := splitRepo(full)
	if err != nil {
		return Issue{}, err
	}
	wctx, cancel := writeCtx(ctx)
	defer cancel()
	labels := append([]string{}, in.Labels...)
	i, _, err := c.gh.Issues.Create(wctx, owner, name, &gh.IssueRequest{Title: &in.Title, Body: &in.Body, Labels: &labels})
	if err != nil {
		return Issue{}, c.apiError("create issue", full, err, true)
	}
	if i.GetNumber() == 0 {
		return Issue{}, &APIError{Op: "create issue", Repo: full, Status: http.StatusCreated, Message: "no issue number in the reply", Err: ErrUnknownOutcome}
	}
	return fromIssue(i), nil
}

// IssueQuery selects issues for [Client.ListIssues].
type IssueQuery struct {
	Label   string    // one label; "" for any
	Creator string    // a login; "" for anyone
	Since   time.Time // updated at or after; zero for all
}

// ListIssues returns the issues (open and closed, pull requests left out)
// of repository OWNER/NAME that match q, following Link headers (at most 100
// pages). This is GitHub's list endpoint, not search, whose index lags.
func (c *Client) ListIssues(ctx context.Context, full string, q IssueQuery) ([]Issue, error) {
	owner, name, err := splitRepo(full)
	if err != nil {
		return nil, err
	}
	opt := &gh.IssueListByRepoOptions{State: "all", Creator: q.Creator, Since: q.Since,
		Sort: "created", Direction: "asc", ListOptions: gh.ListOptions{PerPage: 100}}
	if q.Label != "" {
		opt.Labels = []string{q.Label}
	}
	var out []Issue
	for range maxListPages {
		var page []*gh.Issue
		resp, err := c.call(ctx, "list issues", func() (resp *gh.Response, err error) {
			page, resp, err = c.gh.Issues.ListByRepo(ctx, owner, name, opt)
			return resp, err
		})
		if err != nil {
			return nil, c.apiError("list issues", full, err, false)
		}
		for _, i := range page {
			if i.IsPullRequest() {
				continue
			}
			out = append(out, fromIssue(i))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
	return out, fmt.Errorf("list issues %s: more than %d pages", full, maxListPages)
}

// Issue returns issue number of repository OWNER/NAME.
func (c *Client) Issue(ctx context.Context, full string, number int) (Issue, error) {
	owner, name, err := splitRepo(full)
	if err != nil {
		return Issue{}, err
	}
	var i *gh.Issue
	_, err = c.call(ctx, "get issue", func() (resp *gh.Response, err error) {
		i, resp, err = c.gh.Issues.Get(ctx, owner, name, number)
		return resp, err
	})
	if err != nil {
		return Issue{}, c.apiError("get issue", full, err, false)
	}
	return fromIssue(i), nil
}

// Comment is an issue comment.
type Comment struct {
	ID   int64
	URL  string
	Body string
	User string
}

// CreateComment adds a comment to issue number of OWNER/NAME: one POST,
// never retried.
func (c *Client) CreateComment(ctx context.Context, full string, number int, body string) (Comment, error) {
	owner, name, err := splitRepo(full)
	if err != nil {
		return Comment{}, err
	}
	wctx, cancel := writeCtx(ctx)
	defer cancel()
	cm, _, err := c.gh.Issues.CreateComment(wctx, owner, name, number, &gh.IssueComment{Body: &body})
	if err != nil {
		return Comment{}, c.apiError("create comment", full, err, true)
	}
	return Comment{ID: cm.GetID(), URL: cm.GetHTMLURL(), Body: cm.GetBody(), User: cm.GetUser().GetLogin()}, nil
}

// ListComments returns the comments of issue number of OWNER/NAME, oldest
// first, following Link headers.
func (c *Client) ListComments(ctx context.Context, full string, number int) ([]Comment, error) {
	owner, name, err := splitRepo(full)
	if err != nil {
		return nil, err
	}
	opt := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	var out []Comment
	for range maxListPages {
		var page []*gh.IssueComment
		resp, err := c.call(ctx, "list comments", func() (resp *gh.Response, err error) {
			page, resp, err = c.gh.Issues.ListComments(ctx, owner, name, number, opt)
			return resp, err
		})
		if err != nil {
			return nil, c.apiError("list comments", full, err, false)
		}
		for _, cm := range page {
			out = append(out, Comment{ID: cm.GetID(), URL: cm.GetHTMLURL(), Body: cm.GetBody(), User: cm.GetUser().GetLogin()})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
	return out, fmt.Errorf("list comments %s#%d: more than %d pages", full, number, maxListPages)
}

// PrivateReport is a private vulnerability report to send.
type PrivateReport struct {
	Summary     string   // at most 1024 characters
	Description string   // Markdown
	Severity    string   // critical, high, medium or low
	CWEs        []string // e.g. CWE-798
}

// Advisory is a repository security advisory (a private report once sent).
type Advisory struct {
	GHSAID      string `json:"ghsa_id"`
	URL         string `json:"html_url"`
	Summary     string `json:"summary"`
	Description string `json:"description"`
	State       string `json:"state"`
}

// CreatePrivateReport sends a private vulnerability report to repository
// OWNER/NAME (POST /repos/O/N/security-advisories/reports, which go-github
// v56 lacks): one POST, never retried. Only for a repository where
// [Client.PrivateReporting] is true.
func (c *Client) CreatePrivateReport(ctx context.Context, full string, r PrivateReport) (Advisory, error) {
	owner, name, err := splitRepo(full)
	if err != nil {
		return Advisory{}, err
	}
	body := map[string]any{"summary": r.Summary, "description": r.Description}
	if r.Severity != "" {
		body["severity"] = r.Severity
	}
	if len(r.CWEs) > 0 {
		body["cwe_ids"] = r.CWEs
	}
	wctx, cancel := writeCtx(ctx)
	defer cancel()
	req, err := c.gh.NewRequest(http.MethodPost, fmt.Sprintf("repos/%s/%s/security-advisories/reports", owner, name), body)
	if err != nil {
		return Advisory{}, err
	}
	var a Advisory
	if _, err := c.gh.Do(wctx, req, &a); err != nil {
		return Advisory{}, c.apiError("create private report", full, err, true)
	}
	if a.GHSAID == "" && a.URL == "" {
		return Advisory{}, &APIError{Op: "create private report", Repo: full, Status: http.StatusCreated, Message: "no advisory in the reply", Err: ErrUnknownOutcome}
	}
	return a, nil
}

// ListAdvisories returns the repository security advisories of OWNER/NAME
// that the token can see (GET /repos/O/N/security-advisories, following
// Link headers), drafts and triage included when the token may see them.
// Whether a reporter without a role in the repository sees its own reports
// here is not documented (unverified): callers treat "not found" as "not
// known", not as "not sent".
func (c *Client) ListAdvisories(ctx context.Context, full string) ([]Advisory, error) {
	owner, name, err := splitRepo(full)
	if err != nil {
		return nil, err
	}
	u := fmt.Sprintf("repos/%s/%s/security-advisories?per_page=100", owner, name)
	var out []Advisory
	for range maxListPages {
		var page []Advisory
		resp, err := c.call(ctx, "list advisories", func() (*gh.Response, error) {
			req, err := c.gh.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				return nil, err
			}
			return c.gh.Do(ctx, req, &page)
		})
		if err != nil {
			return nil, c.apiError("list advisories", full, err, false)
		}
		out = append(out, page...)
		next := nextLink(resp)
		if next == "" {
			return out, nil
		}
		u = next
	}
	return out, fmt.Errorf("list advisories %s: more than %d pages", full, maxListPages)
}

// nextLink returns the rel="next" URL of a response's Link header, only
// when it is on the API host ("" otherwise): cursor pagination, which
// go-github v56's NextPage does not parse.
func nextLink(resp *gh.Response) string {
	if resp == nil || resp.Response == nil {
		return ""
	}
	for part := range strings.SplitSeq(resp.Header.Get("Link"), ",") {
		segs := strings.Split(strings.TrimSpace(part), ";")
		if len(segs) < 2 || !strings.Contains(segs[1], `rel="next"`) {
			continue
		}
		u := strings.Trim(strings.TrimSpace(segs[0]), "<>")
		if resp.Request != nil && strings.HasPrefix(u, resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/") {
			return u
		}
	}
	return ""
}

// Branch returns the default branch of OWNER/NAME and the commit at its tip
// (for a SARIF upload without --sarif-ref/--sarif-commit).
func (c *Client) Branch(ctx context.Context, full string) (ref, sha string, err error) {
	owner, name, err := splitRepo(full)
	if err != nil {
		return "", "", err
	}
	var r *gh.Repository
	if _, err := c.call(ctx, "get repository", func() (resp *gh.Response, err error) {
		r, resp, err = c.gh.Repositories.Get(ctx, owner, name)
		return resp, err
	}); err != nil {
		return "", "", c.apiError("get repository", full, err, false)
	}
	branch := r.GetDefaultBranch()
	var b *gh.Branch
	if _, err := c.call(ctx, "get branch", func() (resp *gh.Response, err error) {
		b, resp, err = c.gh.Repositories.GetBranch(ctx, owner, name, branch, 1)
		return resp, err
	}); err != nil {
		return "", "", c.apiError("get branch", full, err, false)
	}
	return "refs/heads/" + branch, b.GetCommit().GetSHA(), nil
}

// SARIFUpload is one analysis to upload to code scanning.
type SARIFUpload struct {
	SARIF    []byte // the SARIF 2.1.0 log, uncompressed
	Commit   string // the full commit SHA the analysis is of
	Ref      string // refs/heads/BRANCH or refs/pull/N/merge
	ToolName string // optional
}

// EncodeSARIF returns sarif gzipped and base64-encoded, as code scanning
// wants it.
func EncodeSARIF(sarif []byte) (string, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(sarif); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// UploadSARIF uploads an analysis to the code scanning of OWNER/NAME
// (go-github's CodeScanning.UploadSarif: POST
// /repos/O/N/code-scanning/sarifs, accepted with 202) and returns the
// upload's ID. Needs the security_events scope. One POST, never retried.
func (c *Client) UploadSARIF(ctx context.Context, full string, u SARIFUpload) (string, error) {
	owner, name, err := splitRepo(full)
	if err != nil {
		return "", err
	}
	if len(u.Commit) != 40 || strings.Trim(strings.ToLower(u.Commit), "0123456789abcdef") != "" {
		return "", fmt.Errorf("github: SARIF upload: commit %q is not a full 40-hex SHA", u.Commit)
	}
	if !strings.HasPrefix(u.Ref, "refs/") {
		return "", fmt.Errorf("github: SARIF upload: ref %q: want refs/heads/BRANCH or refs/pull/N/merge", u.Ref)
	}
	enc, err := EncodeSARIF(u.SARIF)
	if err != nil {
		return "", fmt.Errorf("github: SARIF upload: %w", err)
	}
	a := &gh.SarifAnalysis{CommitSHA: &u.Commit, Ref: &u.Ref, Sarif: &enc}
	if u.ToolName != "" {
		a.ToolName = &u.ToolName
	}
	wctx, cancel := writeCtx(ctx)
	defer cancel()
	id, _, err := c.gh.CodeScanning.UploadSarif(wctx, owner, name, a)
	if err != nil {
		if ae, ok := errors.AsType[*gh.AcceptedError](err); ok {
			var sid gh.SarifID
			if json.Unmarshal(ae.Raw, &sid) == nil {
				return sid.GetID(), nil
			}
			return "", nil
		}
		return "", c.apiError("upload SARIF", full, err, true)
	}
	return id.GetID(), nil
}
