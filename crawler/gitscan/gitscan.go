package gitscan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/sasquatch-sec/sasquatch/crawler"
)

// Defaults applied by [Open] to zero [Config] fields.
const (
	DefaultMaxBlobSize  int64 = 64 << 20
	DefaultMaxRepoBytes int64 = 8 << 30
	DefaultTimeout            = time.Hour
)

// Config configures [Open]. The zero value is usable: every zero field takes
// its default. Open copies it; a Config may be shared between goroutines
// that do not modify it.
type Config struct {
	MaxBlobSize  int64         // largest blob scanned (default 64 MiB); bigger: *crawler.Skip "too-large"
	MaxRepoBytes int64         // total blob bytes scanned per repository (default 8 GiB); then "repo-bytes-limit"
	Timeout      time.Duration // per repository, clone + scan (default 1h); then "timeout"
	TempDir      string        // parent of temporary clones (default os.TempDir())
	Keep         bool          // keep the temporary bare clone (see Repo.Dir)
	CacheDir     string        // clone/fetch into CacheDir/<hash of URL> instead of a temp dir, kept
	// Auth is the go-git auth for clones (x-access-token basic auth); nil for
	// none. It is never put into a URL, an argument or a log line.
	Auth      transport.AuthMethod
	Repo      string   // name put into Origin.Repo ("OWNER/NAME"); default the path or URL as given
	SinceTips []string // only objects not reachable from these commits (incremental sweeps)
	Logger    *slog.Logger
	// MaxFetchBytes bounds the bytes downloaded by one clone or fetch
	// (default MaxRepoBytes); above it Open fails with [ErrFetchLimit].
	MaxFetchBytes int64
	// AllowInsecureHTTP permits http:// clone URLs (tests, an http GHE).
	AllowInsecureHTTP bool
	// NoGitProgram forces go-git for reading objects even when git is installed.
	NoGitProgram bool
}

// Stats says how much of a repository was scanned, in detail (benchmarks,
// tests, verbose logs). Complete is true only when every reachable object
// was read and nothing was skipped. It is a plain value returned as a copy.
// Skips repeats what Blobs yielded as *crawler.Skip: a caller that counts
// the yielded skips must not add these again. Fallback is set when the git
// program's enumeration failed part way and the rest of the repository was
// read by the object walk (each object still yielded once).
type Stats struct {
	Complete     bool
	Shallow      bool                       // the repository is a shallow clone: older history is missing
	Backend      string                     // "git" (the git program) or "go-git"
	Blobs        int64                      // blobs yielded
	Bytes        int64                      // bytes of blobs yielded
	Commits      int64                      // commit messages read
	Tags         int64                      // annotated tag messages read
	Skips        map[crawler.SkipReason]int // skipped items by reason
	SkippedBytes int64                      // bytes of skipped blobs, when known
	Errors       []string                   // first few errors (no secrets), for verbose logs
	Fallback     bool                       // the object walk finished what git rev-list could not
}

// Repo is one opened repository. It is not safe for concurrent use, except
// [Repo.StartProvenance], [Repo.Coverage] and [Repo.Tips].
type Repo struct {
	cfg      Config
	gitDir   string
	tmp      string // directory to remove on Close ("" when none)
	home     string // empty HOME for the git program
	git      string // path of the git program; "" for go-git
	deadline time.Time
	log      *slog.Logger
	empty    bool // clone of an empty repository

	// filtered is the blob size limit of a partial clone made by this
	// package (git clone --filter=blob:limit): a blob missing from it was
	// left on the server for being too large. 0 when not filtered.
	filtered int64

	mu   sync.Mutex
	cov  Stats
	refs []ref
	tips map[string]string
	head string // commit at HEAD (default branch), "" when unborn

	// The git log StartProvenance started, until Provenance or Close
	// takes it; closed is set by Close.
	earlyMu    sync.Mutex
	early      *earlyLog
	closed     bool
	spillLimit int64 // tests: the early log's limit instead of maxLogSpill
}

// Open opens a local repository (a path to a work tree or a bare repository)
// or clones a URL (bare, every ref) and returns a [Repo]. The clone and all
// later reads are bounded by cfg.Timeout from now. Close the Repo to remove a
// temporary clone. Open is safe for concurrent use; distinct Repos are
// independent. The first clone installs go-git's process-wide http and
// https transports (timeouts, same-host redirects only, a per-clone byte
// budget); go-git v5 has no per-clone transport.
func Open(ctx context.Context, pathOrURL string, cfg Config) (*Repo, error) {
	if cfg.MaxBlobSize <= 0 {
		cfg.MaxBlobSize = DefaultMaxBlobSize
	}
	if cfg.MaxRepoBytes <= 0 {
		cfg.MaxRepoBytes = DefaultMaxRepoBytes
	}
	if cfg.MaxFetchBytes <= 0 {
		cfg.MaxFetchBytes = cfg.MaxRepoBytes
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Repo == "" {
		cfg.Repo = redactURL(pathOrURL)
	}
	// Every git child runs in the repository's directory: relative
	// directories would be resolved against it, not against ours.
	for _, d := range []*string{&cfg.TempDir, &cfg.CacheDir} {
		if *d == "" {
			continue
		}
		abs, err := filepath.Abs(*d)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", cfg.Repo, err)
		}
		*d = abs
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Repo{cfg: cfg, deadline: time.Now().Add(cfg.Timeout), log: log}
	r.cov.Skips = map[crawler.SkipReason]int{}
	if !cfg.NoGitProgram {
		r.git = gitProgram()
	}
	r.cov.Backend = "go-git"
	if r.git != "" {
		r.cov.Backend = "git"
	}
	ctx, cancel := context.WithDeadline(ctx, r.deadline)
	defer cancel()

	if r.git != "" {
		h, err := os.MkdirTemp(cfg.TempDir, "sasquatch-githome-*")
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", cfg.Repo, err)
		}
		r.home = h
	}
	if isURL(pathOrURL) {
		if err := r.cloneURL(ctx, pathOrURL); err != nil {
			r.Close()
			r.removeTemp()
			return nil, err
		}
	} else {
		dir, err := findGitDir(pathOrURL)
		if err == nil {
			err = checkFormat(dir)
			if err != nil {
				err = fmt.Errorf("open %s: %w", cfg.Repo, err)
			}
		}
		if err != nil {
			r.Close()
			return nil, err
		}
		r.gitDir = dir
	}
	if fi, err := os.Stat(filepath.Join(r.gitDir, "shallow")); err == nil && fi.Size() > 0 {
		r.cov.Shallow = true
	}
	if !r.empty {
		if err := r.loadTips(ctx); err != nil {
			r.Close()
			r.removeTemp()
			if ctx.Err() != nil {
				err = fmt.Errorf("%w (%v)", ctx.Err(), err)
			}
			return nil, fmt.Errorf("open %s: read refs: %w", cfg.Repo, err)
		}
	}
	if r.tips == nil {
		r.tips = map[string]string{}
	}
	return r, nil
}

// Dir returns the repository's git directory (the bare clone for a URL).
// It is safe for concurrent use.
func (r *Repo) Dir() string { return r.gitDir }

// Tips returns a copy of ref name -> commit ID (annotated tags peeled) as
// read at Open, for the next incremental sweep. Safe for concurrent use.
func (r *Repo) Tips() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string]string, len(r.tips))
	for k, v := range r.tips {
		m[k] = v
	}
	return m
}

// Coverage implements [crawler.CoverageReporter]: whether the last Blobs
// run was complete. Every loss of coverage (a shallow clone, a timeout, a
// failed enumeration, a missing object) is yielded by Blobs as a
// *crawler.Skip and is not repeated in Problems, which gitscan leaves
// empty. Safe for concurrent use.
func (r *Repo) Coverage() crawler.Coverage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return crawler.Coverage{Complete: r.cov.Complete}
}

// Stats returns a snapshot of what has been scanned so far; after Blobs
// has finished it is final. Safe for concurrent use.
func (r *Repo) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.cov
	c.Skips = make(map[crawler.SkipReason]int, len(r.cov.Skips))
	for k, v := range r.cov.Skips {
		c.Skips[k] = v
	}
	c.Errors = append([]string(nil), r.cov.Errors...)
	return c
}

// Close removes the temporary clone (unless Config.Keep) and the git
// program's empty home directory. It is idempotent.
func (r *Repo) Close() error {
	r.closeEarlyLogs() // before git's home goes
	var err error
	if r.home != "" {
		err = os.RemoveAll(r.home)
		r.home = ""
	}
	if !r.cfg.Keep {
		if e := r.removeTemp(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

func (r *Repo) removeTemp() error {
	if r.tmp == "" {
		return nil
	}
	err := os.RemoveAll(r.tmp)
	r.tmp = ""
	return err
}

func isURL(s string) bool {
	return strings.Contains(s, "://")
}

// findGitDir returns the git directory of a work tree or bare repository.
func findGitDir(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	dotgit := filepath.Join(abs, ".git")
	if fi, err := os.Lstat(dotgit); err == nil {
		if fi.IsDir() {
			return dotgit, nil
		}
		if fi.Mode().IsRegular() && fi.Size() < 4096 {
			// A "gitdir: PATH" file (linked work tree or submodule).
			b, err := os.ReadFile(dotgit)
			if err == nil && strings.HasPrefix(string(b), "gitdir: ") {
				p := strings.TrimSpace(strings.TrimPrefix(string(b), "gitdir: "))
				if !filepath.IsAbs(p) {
					p = filepath.Join(abs, p)
				}
				return p, nil
			}
		}
		return "", fmt.Errorf("open %s: .git is not a directory or gitdir file", path)
	}
	if isGitDir(abs) {
		return abs, nil
	}
	return "", fmt.Errorf("open %s: not a git repository", path)
}

func isGitDir(dir string) bool {
	for _, n := range []string{"HEAD", "objects"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			return false
		}
	}
	return true
}

// cacheKey names a cache directory after a hash of the URL, never after
// repository-controlled names.
func cacheKey(u string) string {
	s := sha256.Sum256([]byte(u))
	return hex.EncodeToString(s[:12]) + ".git"
}

// redactURL returns u with any user information and query removed, for
// names and messages.
func redactURL(s string) string {
	if !isURL(s) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

func (r *Repo) addSkip(reason crawler.SkipReason, size int64, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cov.Skips[reason]++
	r.cov.SkippedBytes += size
	if err != nil && len(r.cov.Errors) < 20 {
		r.cov.Errors = append(r.cov.Errors, err.Error())
	}
}

// addError records a diagnostic (Stats.Errors) that is not a loss of
// coverage by itself.
func (r *Repo) addError(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.cov.Errors) < 20 {
		r.cov.Errors = append(r.cov.Errors, err.Error())
	}
}

// checkFormat refuses repositories whose object IDs are not SHA-1: trees
// would be misparsed.
func checkFormat(gitDir string) error {
	b, err := os.ReadFile(filepath.Join(gitDir, "config"))
	if err != nil {
		return nil
	}
	s := strings.ToLower(string(b))
	if i := strings.Index(s, "objectformat"); i >= 0 {
		rest := strings.TrimLeft(s[i+len("objectformat"):], " \t=")
		if strings.HasPrefix(rest, "sha256") {
			return errors.New("sha256 repositories are not supported")
		}
	}
	return nil
}
