package github

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testToken is a synthetic GitHub token; no output may ever contain it.
const testToken = "ghp_SYNTHETICcontosoTESTtoken0123456789AB"

// plantedSig returns the URL-encoded signature value and the raw base64
// prefix (what bytes.Contains looks for) of synthetic SAS number i.
func plantedSig(i int) (urlSig, probe string) {
	raw := fmt.Sprintf("SYNTHETIC-GH-TEST-SIG-%010d", i)  // 32 ASCII bytes
	b64 := base64.StdEncoding.EncodeToString([]byte(raw)) // 44 chars, ends '='
	return b64[:43] + "%3D", b64[:43]
}

// sasURL returns a synthetic SAS URL carrying signature i.
func sasURL(i int) string {
	s, _ := plantedSig(i)
	return "https://contosogh01.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&sig=" + s
}

// fakeClock advances only when Sleep is called, so waits are instant.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.slept += d
	f.mu.Unlock()
	return nil
}

// fakeRepo is one repository served by the fake GitHub.
type fakeRepo struct {
	ID       int64
	Owner    string
	Name     string
	Fork     bool
	Archived bool
	Disabled bool
	Empty    bool  // bare repository without commits
	Missing  bool  // listed, but the git endpoint has no repository (404)
	APIGet   int   // status for GET /repos/O/N (0: 200)
	Tip      []int // planted signatures in the tip commit
	History  []int // planted signatures only in an earlier commit (removed at tip)
	tipSHA   string
}

func (r *fakeRepo) full() string { return r.Owner + "/" + r.Name }

// fakeGH is a GitHub Enterprise-like server: REST under /api/v3/ and git
// smart HTTP under /git/ (git http-backend through net/http/cgi), plus a
// second "codeload" server for tarball downloads.
type fakeGH struct {
	t        *testing.T
	srv      *httptest.Server
	codeload *httptest.Server
	clock    *fakeClock
	root     string // GIT_PROJECT_ROOT
	repos    []*fakeRepo
	orgs     map[string][]*fakeRepo
	users    map[string][]*fakeRepo
	gitCGI   http.Handler

	mu          sync.Mutex
	listFaults  map[int]string // org listing request ordinal (1-based) -> fault
	listReqs    []string       // "page=P per_page=N" of every org listing request
	gitFaults   map[string]string
	gitReqs     int
	authByHost  map[string][]string // Authorization headers seen per server ("api", "git", "codeload")
	ssoHeader   string
	redirects   map[string]string // API path -> absolute Location (301)
	scanned     map[string]int
	codeloadHit int
}

// emptyGitConfig is an empty file used as the global git config (not
// /dev/null, which a broken environment may have replaced).
var emptyGitConfig = sync.OnceValue(func() string {
	f, err := os.CreateTemp("", "sasquatch-github-gitconfig-*")
	if err != nil {
		panic(err)
	}
	f.Close()
	return f.Name()
})

func TestMain(m *testing.M) {
	code := m.Run()
	os.Remove(emptyGitConfig())
	os.Exit(code)
}

func gitCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+emptyGitConfig(), "HOME="+dir,
		"GIT_AUTHOR_NAME=Contoso Dev", "GIT_AUTHOR_EMAIL=dev@contoso.example",
		"GIT_COMMITTER_NAME=Contoso Dev", "GIT_COMMITTER_EMAIL=dev@contoso.example",
		"GIT_AUTHOR_DATE=2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2024-01-02T03:04:05Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// build creates the bare repository of r under root.
func (f *fakeGH) build(r *fakeRepo) {
	t := f.t
	bare := filepath.Join(f.root, r.Owner, r.Name+".git")
	if r.Missing {
		return
	}
	if r.Empty {
		if err := os.MkdirAll(bare, 0o755); err != nil {
			t.Fatal(err)
		}
		gitCmd(t, bare, "init", "--bare", "-q", "-b", "main")
		return
	}
	work := t.TempDir()
	gitCmd(t, work, "init", "-q", "-b", "main")
	write := func(name, content string) {
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.History) > 0 {
		var b strings.Builder
		for _, i := range r.History {
			fmt.Fprintf(&b, "backup_url = %q\n", sasURL(i))
		}
		write("config/old.ini", b.String())
		gitCmd(t, work, "add", "-A")
		gitCmd(t, work, "commit", "-q", "-m", "add backup config")
		gitCmd(t, work, "rm", "-q", "config/old.ini")
		gitCmd(t, work, "commit", "-q", "-m", "remove backup config")
	}
	write("README.md", "# "+r.full()+"\n")
	for _, i := range r.Tip {
		write(fmt.Sprintf("deploy/settings-%d.json", i), fmt.Sprintf("{\n  \"blob\": %q\n}\n", sasURL(i)))
	}
	gitCmd(t, work, "add", "-A")
	gitCmd(t, work, "commit", "-q", "--allow-empty", "-m", "tip")
	r.tipSHA = gitCmd(t, work, "rev-parse", "HEAD")
	if err := os.MkdirAll(filepath.Dir(bare), 0o755); err != nil {
		t.Fatal(err)
	}
	gitCmd(t, filepath.Dir(bare), "clone", "-q", "--bare", work, bare)
}

func newFakeGH(t *testing.T, repos []*fakeRepo) *fakeGH {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git program not installed")
	}
	f := &fakeGH{
		t: t, clock: newFakeClock(), root: t.TempDir(), repos: repos,
		orgs: map[string][]*fakeRepo{}, users: map[string][]*fakeRepo{},
		listFaults: map[int]string{}, gitFaults: map[string]string{},
		authByHost: map[string][]string{}, redirects: map[string]string{}, scanned: map[string]int{},
	}
	for _, r := range repos {
		f.build(r)
		f.orgs[r.Owner] = append(f.orgs[r.Owner], r)
	}
	gitPath, _ := exec.LookPath("git")
	f.gitCGI = &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Root: "/git",
		Env: []string{"GIT_PROJECT_ROOT=" + f.root, "GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + emptyGitConfig(), "HOME=" + f.root},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v3/", f.api)
	mux.HandleFunc("/git/", f.git)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.codeload = httptest.NewServer(http.HandlerFunc(f.serveCodeload))
	t.Cleanup(f.codeload.Close)
	return f
}

func (f *fakeGH) apiURL() string { return f.srv.URL + "/api/v3/" }

func (f *fakeGH) recordAuth(who string, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.authByHost[who] = append(f.authByHost[who], r.Header.Get("Authorization"))
}

func (f *fakeGH) repoJSON(r *fakeRepo) map[string]any {
	size := 12
	if r.Empty {
		size = 0
	}
	return map[string]any{
		"id": r.ID, "name": r.Name, "full_name": r.full(),
		"owner":          map[string]any{"login": r.Owner},
		"html_url":       f.srv.URL + "/" + r.full(),
		"clone_url":      f.srv.URL + "/git/" + r.full() + ".git",
		"default_branch": "main", "fork": r.Fork, "archived": r.Archived, "disabled": r.Disabled,
		"size": size, "private": false, "visibility": "public",
	}
}

func (f *fakeGH) find(owner, name string) *fakeRepo {
	for _, r := range f.repos {
		if strings.EqualFold(r.Owner, owner) && strings.EqualFold(r.Name, name) {
			return r
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-RateLimit-Resource", "core")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// hijackClose drops the connection without a response (a reset).
func hijackClose(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("no hijacker")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

func (f *fakeGH) api(w http.ResponseWriter, r *http.Request) {
	f.recordAuth("api", r)
	p := strings.TrimPrefix(r.URL.Path, "/api/v3/")
	f.mu.Lock()
	loc, redirect := f.redirects[p]
	sso := f.ssoHeader
	f.mu.Unlock()
	if redirect {
		http.Redirect(w, r, loc, http.StatusMovedPermanently)
		return
	}
	parts := strings.Split(p, "/")
	switch {
	case len(parts) == 3 && (parts[0] == "orgs" || parts[0] == "users") && parts[2] == "repos":
		f.list(w, r, parts[0], parts[1], sso)
	case len(parts) == 3 && parts[0] == "repos":
		rp := f.find(parts[1], parts[2])
		if rp == nil {
			writeJSON(w, 404, map[string]string{"message": "Not Found"})
			return
		}
		if rp.APIGet != 0 {
			writeJSON(w, rp.APIGet, map[string]string{"message": "Repository access blocked"})
			return
		}
		writeJSON(w, 200, f.repoJSON(rp))
	case len(parts) == 5 && parts[0] == "repos" && parts[3] == "commits":
		rp := f.find(parts[1], parts[2])
		switch {
		case rp == nil || rp.Missing:
			writeJSON(w, 404, map[string]string{"message": "Not Found"})
		case rp.Empty:
			writeJSON(w, 409, map[string]string{"message": "Git Repository is empty."})
		case !strings.Contains(r.Header.Get("Accept"), "sha"):
			writeJSON(w, 415, map[string]string{"message": "want sha media type"})
		default:
			w.Header().Set("Content-Type", "application/vnd.github.sha")
			fmt.Fprint(w, rp.tipSHA)
		}
	case len(parts) == 5 && parts[0] == "repos" && parts[3] == "tarball":
		rp := f.find(parts[1], parts[2])
		if rp == nil || rp.Empty || rp.Missing {
			writeJSON(w, 404, map[string]string{"message": "Not Found"})
			return
		}
		http.Redirect(w, r, f.codeload.URL+"/"+rp.full()+"/legacy.tar.gz/"+parts[4]+"?token=SHORTLIVED", http.StatusFound)
	default:
		writeJSON(w, 404, map[string]string{"message": "Not Found", "path": p})
	}
}

func (f *fakeGH) list(w http.ResponseWriter, r *http.Request, kind, name, sso string) {
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	per, _ := strconv.Atoi(q.Get("per_page"))
	if page < 1 {
		page = 1
	}
	if per < 1 {
		per = 30
	}
	var all []*fakeRepo
	if kind == "orgs" {
		all = f.orgs[name]
		f.mu.Lock()
		f.listReqs = append(f.listReqs, fmt.Sprintf("page=%d per_page=%d", page, per))
		fault := f.listFaults[len(f.listReqs)]
		f.mu.Unlock()
		switch fault {
		case "secondary":
			w.Header().Set("Retry-After", "7")
			writeJSON(w, 403, map[string]string{
				"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
				"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
			})
			return
		case "secondary-no-retry-after":
			writeJSON(w, 403, map[string]string{
				"message":           "You have exceeded a secondary rate limit.",
				"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
			})
			return
		case "primary":
			w.Header().Set("X-RateLimit-Limit", "5000")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(f.clock.Now().Add(120*time.Second).Unix(), 10))
			writeJSON(w, 403, map[string]string{"message": "API rate limit exceeded for user ID 1."})
			return
		case "502":
			writeJSON(w, 502, map[string]string{"message": "Server Error"})
			return
		case "reset":
			hijackClose(w)
			return
		}
	} else {
		all = f.users[name]
		if all == nil {
			writeJSON(w, 404, map[string]string{"message": "Not Found"})
			return
		}
	}
	if all == nil && kind == "orgs" {
		writeJSON(w, 404, map[string]string{"message": "Not Found"})
		return
	}
	lo := min((page-1)*per, len(all))
	hi := min(lo+per, len(all))
	var out []map[string]any
	for _, rp := range all[lo:hi] {
		out = append(out, f.repoJSON(rp))
	}
	if out == nil {
		out = []map[string]any{}
	}
	if hi < len(all) {
		next := *r.URL
		next.Scheme, next.Host = "http", r.Host
		nq := next.Query()
		nq.Set("page", strconv.Itoa(page+1))
		nq.Set("per_page", strconv.Itoa(per))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, next.String()))
	}
	if sso != "" {
		w.Header().Set("X-GitHub-SSO", sso)
	}
	writeJSON(w, 200, out)
}

func (f *fakeGH) git(w http.ResponseWriter, r *http.Request) {
	f.recordAuth("git", r)
	// /git/OWNER/NAME.git/...
	rest := strings.TrimPrefix(r.URL.Path, "/git/")
	parts := strings.SplitN(rest, "/", 3)
	key := ""
	if len(parts) >= 2 {
		key = parts[0] + "/" + strings.TrimSuffix(parts[1], ".git")
	}
	f.mu.Lock()
	f.gitReqs++
	fault := f.gitFaults[key]
	if fault != "" {
		delete(f.gitFaults, key) // one-shot
	}
	f.mu.Unlock()
	switch fault {
	case "503":
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	case "reset":
		hijackClose(w)
		return
	case "451":
		http.Error(w, "blocked", http.StatusUnavailableForLegalReasons)
		return
	}
	f.gitCGI.ServeHTTP(w, r)
}

// serveCodeload serves /OWNER/NAME/legacy.tar.gz/SHA with git archive.
func (f *fakeGH) serveCodeload(w http.ResponseWriter, r *http.Request) {
	f.recordAuth("codeload", r)
	f.mu.Lock()
	f.codeloadHit++
	f.mu.Unlock()
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[2] != "legacy.tar.gz" || r.URL.Query().Get("token") != "SHORTLIVED" {
		http.NotFound(w, r)
		return
	}
	rp := f.find(parts[0], parts[1])
	if rp == nil || rp.tipSHA != parts[3] {
		http.NotFound(w, r)
		return
	}
	bare := filepath.Join(f.root, rp.Owner, rp.Name+".git")
	prefix := fmt.Sprintf("%s-%s-%s/", rp.Owner, rp.Name, rp.tipSHA[:7])
	cmd := exec.Command("git", "archive", "--format=tar.gz", "--prefix="+prefix, rp.tipSHA)
	cmd.Dir = bare
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+emptyGitConfig(), "HOME="+f.root)
	out, err := cmd.Output()
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/x-gzip")
	_, _ = w.Write(out)
}

// authSeen returns the Authorization headers a server received.
func (f *fakeGH) authSeen(who string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.authByHost[who]...)
}

// newTestClient returns a Client for f with fake sleeps and a JSON log into buf.
func (f *fakeGH) newTestClient(t *testing.T, cfg Config, logBuf *bytes.Buffer) *Client {
	t.Helper()
	cfg.APIURL = f.apiURL()
	if cfg.Token.IsZero() {
		cfg.Token = NewToken(testToken)
	}
	cfg.Clock, cfg.Sleep = f.clock.Now, f.clock.Sleep
	if logBuf != nil {
		cfg.Logger = newTestLogger(logBuf)
	}
	cfg.TempDir = t.TempDir()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
