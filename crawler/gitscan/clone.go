package gitscan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

var installOnce sync.Once

// installTransport replaces go-git's process-wide http and https transports
// with one whose client has timeouts and refuses redirects to another host
// (on top of go-git's own policy: only the initial request may redirect, and
// credentials are stripped across origins). go-git v5 has no per-clone
// transport, so this is global to the process.
func installTransport() {
	installOnce.Do(func() {
		base := http.DefaultTransport.(*http.Transport).Clone()
		base.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		base.TLSHandshakeTimeout = 30 * time.Second
		base.ResponseHeaderTimeout = 5 * time.Minute
		c := &http.Client{Transport: countingTransport{base}, CheckRedirect: sameHostRedirect}
		tr := githttp.NewClientWithOptions(c, &githttp.ClientOptions{RedirectPolicy: githttp.FollowInitialRedirects})
		client.InstallProtocol("https", tr)
		client.InstallProtocol("http", tr)
	})
}

func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	if !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
		return fmt.Errorf("refusing redirect to another host %q", req.URL.Host)
	}
	return nil
}

// cloneURL makes a bare clone of every ref of raw into a temporary
// directory, or clones/fetches into the cache directory.
func (r *Repo) cloneURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("clone %s: invalid URL", redactURL(raw))
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && r.cfg.AllowInsecureHTTP:
	default:
		return fmt.Errorf("clone %s: only https URLs are allowed", redactURL(raw))
	}
	if u.User != nil {
		return fmt.Errorf("clone %s: credentials in the URL are refused; use Config.Auth", redactURL(raw))
	}
	installTransport()
	ctx = context.WithValue(ctx, budgetKey{}, &fetchBudget{left: r.cfg.MaxFetchBytes})
	var dir string
	fetch := false
	if r.cfg.CacheDir != "" {
		if err := os.MkdirAll(r.cfg.CacheDir, 0o700); err != nil {
			return fmt.Errorf("clone %s: %w", r.cfg.Repo, err)
		}
		dir = filepath.Join(r.cfg.CacheDir, cacheKey(raw))
		fetch = isGitDir(dir)
	} else {
		parent := r.cfg.TempDir
		if parent == "" {
			parent = os.TempDir()
		}
		tmp, err := os.MkdirTemp(parent, "sasquatch-repo-*")
		if err != nil {
			return fmt.Errorf("clone %s: %w", r.cfg.Repo, err)
		}
		if err := os.Chmod(tmp, 0o700); err != nil {
			return err
		}
		r.tmp = tmp
		dir = filepath.Join(tmp, "repo.git")
	}
	r.gitDir = dir
	st := openGoGit(dir)
	defer st.Close()
	refspecs := []config.RefSpec{"+refs/*:refs/*"}
	if fetch {
		repo, err := git.Open(st, nil)
		if err != nil {
			return fmt.Errorf("open cached clone of %s: %w", r.cfg.Repo, err)
		}
		err = repo.FetchContext(ctx, &git.FetchOptions{
			RemoteName: "origin",
			RemoteURL:  raw,
			RefSpecs:   refspecs,
			Auth:       r.cfg.Auth,
			Tags:       git.AllTags,
			Force:      true,
			Prune:      true,
		})
		switch {
		case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
			return nil
		case errors.Is(err, transport.ErrEmptyRemoteRepository):
			r.empty = true
			return nil
		}
		return fmt.Errorf("fetch %s: %w", r.cfg.Repo, ctxErr(ctx, err))
	}
	_, err = git.CloneContext(ctx, st, nil, &git.CloneOptions{
		URL:               raw,
		Auth:              r.cfg.Auth,
		Mirror:            true,
		NoCheckout:        true,
		Tags:              git.AllTags,
		RecurseSubmodules: git.NoRecurseSubmodules,
	})
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		r.empty = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("clone %s: %w", r.cfg.Repo, ctxErr(ctx, err))
	}
	return nil
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// ErrFetchLimit is returned (wrapped) when a clone or fetch would download
// more than Config.MaxFetchBytes.
var ErrFetchLimit = errors.New("fetch byte limit reached")

type budgetKey struct{}

// fetchBudget counts response bytes of one clone or fetch (all requests
// made with its context).
type fetchBudget struct {
	mu   sync.Mutex
	left int64
}

func (b *fetchBudget) take(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.left -= int64(n)
	return b.left >= 0
}

// countingTransport enforces the per-clone fetch budget found in a
// request's context.
type countingTransport struct{ base http.RoundTripper }

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if b, ok := req.Context().Value(budgetKey{}).(*fetchBudget); ok && resp.Body != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, b: b}
	}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	b *fetchBudget
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if n > 0 && !c.b.take(n) {
		return n, ErrFetchLimit
	}
	return n, err
}
