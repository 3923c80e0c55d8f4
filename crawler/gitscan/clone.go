package gitscan

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/filesystem"
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
		r.tmp = tmp
		if err := os.Chmod(tmp, 0o700); err != nil {
			return err
		}
		dir = filepath.Join(tmp, "repo.git")
	}
	r.gitDir = dir
	if header, ok := authHeader(r.cfg.Auth); ok && r.git != "" {
		err = r.cloneGit(ctx, u, raw, dir, fetch, header)
	} else {
		err = r.cloneGoGit(ctx, raw, dir, fetch)
	}
	if err != nil && !fetch && r.cfg.CacheDir != "" {
		// A first clone cut short (cancelled, killed, refused) must not
		// pass for a cache later runs fetch into.
		os.RemoveAll(dir)
	}
	return err
}

// authHeader returns the HTTP Authorization header value for auth, "" for
// none; ok is false for an auth method the git program cannot be given.
func authHeader(auth transport.AuthMethod) (header string, ok bool) {
	switch a := auth.(type) {
	case nil:
		return "", true
	case *githttp.BasicAuth:
		if a == nil {
			return "", true
		}
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password)), true
	case *githttp.TokenAuth:
		if a == nil {
			return "", true
		}
		return "Bearer " + a.Token, true
	}
	return "", false
}

// cloneBigFileThreshold makes the git program stream blobs above it while
// indexing a pack instead of inflating them in memory.
const cloneBigFileThreshold = 8 << 20

// fetchPoll is how often the size of a clone in progress is checked
// against Config.MaxFetchBytes.
const fetchPoll = 100 * time.Millisecond

// cloneGit clones (or, for a cached clone, fetches) with the git program,
// hardened as for reads but allowed the URL's scheme: `git clone --mirror`
// with --filter=blob:limit so that blobs over MaxBlobSize stay on the
// server (they are reported as too large, never fetched later). The
// credential travels in an http.<scheme>://<host>/.extraHeader given
// through the environment (GIT_CONFIG_COUNT), so it is never on a command
// line and is sent only to the clone URL's host; redirects are not
// followed. Cancelling ctx kills git and its helpers.
func (r *Repo) cloneGit(ctx context.Context, u *url.URL, raw, dir string, fetch bool, header string) error {
	args := append([]string(nil), hardenedArgs...)
	args = append(args,
		"-c", "protocol."+u.Scheme+".allow=always",
		"-c", "http.followRedirects=false",
		// A mirror wants every ref anyway; protocol v0 asks for them in the
		// first GET and makes one POST per clone or fetch (v2 adds one for
		// ls-refs).
		"-c", "protocol.version=0",
		"-c", "core.bigFileThreshold="+strconv.Itoa(cloneBigFileThreshold),
		"-c", "transfer.fsckObjects=false",
		"-c", "fetch.writeCommitGraph=false",
		"-c", "gc.auto=0",
		"-c", "maintenance.auto=false",
	)
	if fetch {
		args = append(args, "--git-dir="+dir, "fetch", "--quiet", "--prune", "--force", "--no-tags",
			"--no-write-fetch-head", "--recurse-submodules=no", "origin", "+refs/*:refs/*")
	} else {
		args = append(args, "clone", "--quiet", "--mirror", "--no-local",
			"--filter=blob:limit="+strconv.FormatInt(r.cfg.MaxBlobSize+1, 10), "--", raw, dir)
	}
	cmd := exec.CommandContext(ctx, r.git, args...)
	cmd.Dir = filepath.Dir(dir)
	cmd.Env = r.baseEnv(u.Scheme)
	if header != "" {
		cmd.Env = append(cmd.Env,
			"GIT_CONFIG_COUNT=1",
			"GIT_CONFIG_KEY_0=http."+u.Scheme+"://"+u.Host+"/.extraHeader",
			"GIT_CONFIG_VALUE_0=Authorization: "+header)
	}
	errb := &tailBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = io.Discard, errb
	setupProcess(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("clone %s: %w", r.cfg.Repo, err)
	}
	// The budget is enforced on what reaches the disk, polled while git
	// runs (git has no fetch byte limit of its own).
	var over atomic.Bool
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		t := time.NewTicker(fetchPoll)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if dirSize(dir) > r.cfg.MaxFetchBytes {
					over.Store(true)
					killGroup(cmd)
					return
				}
			}
		}
	}()
	err := cmd.Wait()
	close(stop)
	<-polled
	if over.Load() || (err == nil && !fetch && dirSize(dir) > r.cfg.MaxFetchBytes) {
		return fmt.Errorf("clone %s: %w (%d bytes)", r.cfg.Repo, ErrFetchLimit, r.cfg.MaxFetchBytes)
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("clone %s: %w", r.cfg.Repo, ctx.Err())
		}
		verb := "clone"
		if fetch {
			verb = "fetch"
		}
		return fmt.Errorf("%s %s: %w", verb, r.cfg.Repo, gitRemoteError(u, err, errb.String()))
	}
	if !fetch {
		r.filtered = r.cfg.MaxBlobSize
	} else if partialClone(dir) {
		r.filtered = r.cfg.MaxBlobSize
	}
	return nil
}

// gitRemoteError turns a failed git clone or fetch into the transport
// error it stands for, so that callers can classify it with errors.Is and
// errors.As. git reports the HTTP status only in its message (the text of
// a child process, not of a Go error), which is read here and nowhere else.
func gitRemoteError(u *url.URL, err error, stderr string) error {
	status := 0
	if _, rest, ok := strings.Cut(stderr, "The requested URL returned error: "); ok {
		n := 0
		for n < len(rest) && n < 3 && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		status, _ = strconv.Atoi(rest[:n])
	}
	var kind error
	switch {
	case status == http.StatusNotFound, strings.Contains(stderr, "not found"):
		kind = transport.ErrRepositoryNotFound
	case status == http.StatusUnauthorized, strings.Contains(stderr, "Authentication failed"),
		strings.Contains(stderr, "could not read Username"), strings.Contains(stderr, "could not read Password"):
		kind = transport.ErrAuthenticationRequired
	case status == http.StatusForbidden:
		kind = transport.ErrAuthorizationFailed
	case status == 0 && networkFailure(stderr):
		// The connection failed or ended early: as go-git reports it.
		kind = io.ErrUnexpectedEOF
	case status != 0:
		kind = &githttp.Err{Response: &http.Response{StatusCode: status, Status: http.StatusText(status),
			Request: &http.Request{URL: &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}}}}
	}
	if kind != nil {
		return fmt.Errorf("%w: git: %v: %s", kind, err, stderr)
	}
	return fmt.Errorf("git: %w: %s", err, stderr)
}

// networkFailure reports whether git's message is curl's or git's account
// of a connection that failed or ended early (worth retrying).
func networkFailure(stderr string) bool {
	for _, m := range []string{"Empty reply from server", "Connection reset", "Recv failure", "Send failure",
		"Failed to connect", "Couldn't connect", "timed out", "early EOF", "unexpected disconnect",
		"remote end hung up unexpectedly", "transfer closed", "curl 18", "curl 52", "curl 56"} {
		if strings.Contains(stderr, m) {
			return true
		}
	}
	return false
}

// partialClone reports whether the repository's config names a promisor
// remote (a clone made with --filter).
func partialClone(gitDir string) bool {
	b, err := os.ReadFile(filepath.Join(gitDir, "config"))
	return err == nil && strings.Contains(strings.ToLower(string(b)), "partialclone")
}

// dirSize returns the bytes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// cloneGoGit clones or fetches with go-git (no git program, or an auth
// method the git program cannot take).
func (r *Repo) cloneGoGit(ctx context.Context, raw, dir string, fetch bool) error {
	installTransport()
	ctx = context.WithValue(ctx, budgetKey{}, &fetchBudget{left: r.cfg.MaxFetchBytes})
	fs := openGoGit(dir)
	defer fs.Close()
	st := ctxStorage{Storage: fs, ctx: ctx, objCap: max(r.cfg.MaxBlobSize, goGitObjectCap), totalCap: r.cfg.MaxRepoBytes}
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
	_, err := git.CloneContext(ctx, st, nil, &git.CloneOptions{
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

// ctxStorage stops go-git's reference updates once ctx is done (go-git
// writes every ref of a clone, 100,000 refs/pull/* on a big repository,
// without looking at its context), and guards the packs it receives
// (see [packGuard]).
type ctxStorage struct {
	*filesystem.Storage
	ctx              context.Context
	objCap, totalCap int64
}

func (s ctxStorage) PackfileWriter() (io.WriteCloser, error) {
	w, err := s.Storage.PackfileWriter()
	if err != nil {
		return nil, err
	}
	return newPackGuard(w, s.objCap, s.totalCap), nil
}

func (s ctxStorage) SetReference(ref *plumbing.Reference) error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	return s.Storage.SetReference(ref)
}

func (s ctxStorage) CheckAndSetReference(ref, old *plumbing.Reference) error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	return s.Storage.CheckAndSetReference(ref, old)
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
