package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	gh "github.com/google/go-github/v56/github"
)

// DefaultAPIURL is the public GitHub REST root.
const DefaultAPIURL = "https://api.github.com/"

// Defaults applied by [New] to zero Config fields.
const (
	DefaultPerPage     = 100
	DefaultRepoTimeout = time.Hour
)

// History modes for Config.History.
const (
	HistoryFull = "full" // clone and scan every reachable object (default)
	HistoryNone = "none" // stream the default branch's tarball; no clone
)

// Config configures a [Client]. The zero value (plus targets) sweeps the
// public API unauthenticated with full history. [New] copies it; do not
// modify slices passed in while the Client is in use.
type Config struct {
	// APIURL is the REST root, e.g. https://ghe.example.com/api/v3/.
	// Default DefaultAPIURL. Plain http is accepted (for tests and
	// lab instances) and then allows plain-http clones; otherwise clone URLs
	// must be https.
	APIURL string
	// Token authenticates API calls and clones; the zero Token means
	// unauthenticated (public repositories, low rate limit).
	Token Token
	// IncludeForks scans forks found by org/user listings (skipped by
	// default; a fork named with Targets.Repos is always scanned).
	IncludeForks bool
	// ExcludeArchived skips archived repositories found by listings
	// (scanned by default: secrets in archived repositories are live).
	ExcludeArchived bool
	// Include and Exclude are path.Match globs (case-sensitive) tried
	// against NAME and OWNER/NAME of every repository, named ones included.
	// With Include set, only matching repositories are scanned; Exclude
	// wins over Include.
	Include, Exclude []string
	// History is HistoryFull (default) or HistoryNone.
	History string
	// MaxRepoSize skips, with reason "too-large", a repository whose
	// API-reported size is clearly over this many bytes (the API size is in
	// KiB and inexact: a 25 % margin is allowed). 0: no limit.
	MaxRepoSize int64
	// MaxRepoBytes caps the blob bytes scanned per repository (gitscan's
	// MaxRepoBytes; for tarballs, the uncompressed bytes read). 0: the
	// scanner's default (tarballs: 8 GiB).
	MaxRepoBytes int64
	// MaxBlobSize is the largest file scanned (gitscan's default when 0;
	// tarballs 64 MiB). Bigger files are yielded as *crawler.Skip "too-large".
	MaxBlobSize int64
	// RepoTimeout bounds clone plus scan of one repository; default 1 h.
	RepoTimeout time.Duration
	// CacheDir, when set, keeps bare clones under it and fetches into them
	// on later sweeps (gitscan's CacheDir).
	CacheDir string
	// TempDir is the parent of temporary clones (default os.TempDir()).
	TempDir string
	// PerPage is the listing page size (default 100); a 502 halves it for
	// that listing.
	PerPage int

	// Transport is the base RoundTripper under the token guard, retry and
	// rate-limit layers (default: a clone of http.DefaultTransport). Tests
	// point it at httptest servers.
	Transport http.RoundTripper
	// Logger receives progress and warnings (default: discard). No log line
	// contains the token.
	Logger *slog.Logger
	// Clock and Sleep replace time.Now and a context-aware sleep (tests make
	// rate-limit waits instant). Sleep must return ctx.Err() when ctx ends.
	Clock func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Repo is a repository as listed by the API (a plain value, safe to copy
// and share).
type Repo struct {
	ID            int64
	Owner, Name   string
	FullName      string // exactly OWNER/NAME
	HTMLURL       string // https://HOST/OWNER/NAME
	CloneURL      string
	DefaultBranch string
	Fork          bool
	Archived      bool
	Disabled      bool
	Private       bool
	Visibility    string // "public", "private" or "internal" when the API says
	SizeKiB       int64  // API size (KiB, inexact)
}

// Targets names what to sweep (a plain value). Repositories found more
// than once (by ID) are processed once. Orgs list /orgs/O/repos (type all),
// Users list /users/U/repos (type owner), Repos are fetched one by one.
type Targets struct {
	Orgs  []string
	Users []string
	Repos []string // OWNER/NAME
}

// Client sweeps GitHub. It is safe for concurrent use, but a sweep is
// normally run once per Client (its counters are cumulative).
type Client struct {
	cfg       Config
	gh        *gh.Client
	archive   *http.Client // follows cross-host redirects (tarballs); token guarded by authTransport
	apiURL    *url.URL
	webURL    string // https://HOST (github.com for the public API)
	cloneHost string
	scheme    string
	log       *slog.Logger
	stats     stats
	gate      gate
	now       func() time.Time
	sleep     func(context.Context, time.Duration) error
	// openClone clones (or fetches) a repository and returns its scanner
	// (a seam for tests).
	openClone func(ctx context.Context, r Repo, o OpenOptions) (Source, error)
}

// validName reports whether s is a safe owner or repository name: 1 to 100
// of [A-Za-z0-9_.-] (no path separators), and not "." or ".." (nor any
// name of dots only), which would resolve out of the API path. A loop, not
// a regular expression: a bounded repetition compiles into a program of a
// hundred states at every start of the process.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 100 || strings.Trim(s, ".") == "" {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !(isAlnum(c) || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// New validates cfg and returns a Client. It makes no request.
func New(cfg Config) (*Client, error) {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	u, err := url.Parse(cfg.APIURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return nil, fmt.Errorf("github: bad API URL %q: want http(s)://HOST/PATH/", cfg.APIURL)
	}
	u.RawQuery, u.Fragment = "", ""
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	switch cfg.History {
	case "":
		cfg.History = HistoryFull
	case HistoryFull, HistoryNone:
	default:
		return nil, fmt.Errorf("github: history %q: want full or none", cfg.History)
	}
	if cfg.PerPage <= 0 || cfg.PerPage > 100 {
		cfg.PerPage = DefaultPerPage
	}
	if cfg.RepoTimeout <= 0 {
		cfg.RepoTimeout = DefaultRepoTimeout
	}
	if cfg.MaxRepoSize < 0 || cfg.MaxRepoBytes < 0 || cfg.MaxBlobSize < 0 {
		return nil, errors.New("github: negative size limit")
	}
	for _, g := range append(append([]string(nil), cfg.Include...), cfg.Exclude...) {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("github: bad glob %q: %w", g, err)
		}
	}
	if err := cfg.Token.validate(); err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	c := &Client{cfg: cfg, apiURL: u, scheme: u.Scheme}
	c.log = cfg.Logger
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.now = cfg.Clock
	if c.now == nil {
		c.now = time.Now
	}
	c.sleep = cfg.Sleep
	if c.sleep == nil {
		c.sleep = sleepCtx
	}

	apiHost := canonicalHost(u)
	c.cloneHost = apiHost
	c.webURL = u.Scheme + "://" + u.Host
	if h, ok := strings.CutPrefix(apiHost, "api."); ok && !strings.HasPrefix(u.Path, "/api/") {
		// api.github.com -> github.com; GHE.com api.contoso.ghe.com -> contoso.ghe.com.
		c.cloneHost = h
		c.webURL = u.Scheme + "://" + h
	}
	auth := &authTransport{
		token:   cfg.Token,
		scheme:  u.Scheme,
		allowed: map[string]bool{apiHost: true, c.cloneHost: true},
		apiHost: apiHost,
		stats:   &c.stats,
	}
	base := cfg.Transport
	if base == nil {
		base = defaultBaseTransport()
	}
	rt, art := c.newAPITransport(base, auth)
	// No http.Client.Timeout: it would also cut rate-limit waits inside
	// retryTransport; each attempt has its own timeout there instead.
	api := &http.Client{Transport: rt, CheckRedirect: sameHostRedirect}
	c.gh = gh.NewClient(api)
	c.gh.BaseURL = u
	c.gh.UploadURL = u
	c.archive = &http.Client{Transport: art, CheckRedirect: c.archiveRedirect}
	c.openClone = c.openGit
	return c, nil
}

// WebURL returns the web root for permalinks: https://github.com for the
// public API, else scheme://HOST of the API URL. Safe for concurrent use.
func (c *Client) WebURL() string { return c.webURL }

// archiveRedirect allows a tarball redirect to another host (the codeload
// host) over the API's scheme, at most maxRedirects hops. authTransport
// keeps the token off hosts other than the API and clone hosts.
func (c *Client) archiveRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if req.URL.Scheme != "https" && !(c.scheme == "http" && req.URL.Scheme == "http") {
		return fmt.Errorf("refusing %s redirect", req.URL.Scheme)
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// call runs one go-github call, waiting out a *github.RateLimitError that
// go-github raises itself (before sending, from an earlier response's
// X-RateLimit-Remaining: 0). Other rate limits are handled in the transport.
func (c *Client) call(ctx context.Context, what string, f func() (*gh.Response, error)) (*gh.Response, error) {
	for waits := 0; ; waits++ {
		resp, err := f()
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return resp, ctx.Err()
		}
		rl, ok := errors.AsType[*gh.RateLimitError](err)
		if !ok || waits >= maxPrimaryWaits {
			return resp, err
		}
		if err := c.waitPrimary(ctx, rl.Rate.Reset.Time, what); err != nil {
			return resp, err
		}
	}
}

// statusOf returns the HTTP status of a go-github error, or 0.
func statusOf(err error) int {
	if er, ok := errors.AsType[*gh.ErrorResponse](err); ok && er.Response != nil {
		return er.Response.StatusCode
	}
	if er, ok := errors.AsType[*gh.AbuseRateLimitError](err); ok && er.Response != nil {
		return er.Response.StatusCode
	}
	if er, ok := errors.AsType[*gh.RateLimitError](err); ok && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// reasonForStatus maps a permanent per-repository HTTP status to a skip reason.
func reasonForStatus(code int) string {
	switch code {
	case http.StatusNotFound:
		return "not-found"
	case http.StatusUnavailableForLegalReasons:
		return "blocked-451"
	case http.StatusConflict:
		return "empty"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusGone:
		return "gone"
	}
	return ""
}

func fromAPI(r *gh.Repository) Repo {
	out := Repo{
		ID:            r.GetID(),
		Name:          r.GetName(),
		FullName:      r.GetFullName(),
		HTMLURL:       r.GetHTMLURL(),
		CloneURL:      r.GetCloneURL(),
		DefaultBranch: r.GetDefaultBranch(),
		Fork:          r.GetFork(),
		Archived:      r.GetArchived(),
		Disabled:      r.GetDisabled(),
		Private:       r.GetPrivate(),
		Visibility:    r.GetVisibility(),
		SizeKiB:       int64(r.GetSize()),
	}
	out.Owner = r.GetOwner().GetLogin()
	if out.FullName == "" && out.Owner != "" {
		out.FullName = out.Owner + "/" + out.Name
	}
	if out.Owner == "" {
		out.Owner, _, _ = strings.Cut(out.FullName, "/")
	}
	return out
}

// matches reports whether glob matches r's NAME or OWNER/NAME.
func matches(globs []string, r Repo) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, r.Name); ok {
			return true
		}
		if ok, _ := path.Match(g, r.FullName); ok {
			return true
		}
	}
	return false
}

// closeQuiet closes c ignoring the error.
func closeQuiet(c io.Closer) { _ = c.Close() }
