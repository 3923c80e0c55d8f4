package github

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sasquatch-sec/sasquatch/crawler"
)

// lockedWriter makes a bytes.Buffer safe for concurrent log writes.
type lockedWriter struct {
	mu  sync.Mutex
	buf *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func newTestLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(&lockedWriter{buf: buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// collector is a ScanFunc that records what each repository yielded.
type collector struct {
	mu      sync.Mutex
	calls   map[string]int
	found   map[int]bool // planted signature number -> seen in some blob
	origins map[int][]crawler.Origin
	prov    map[int][]crawler.Origin // from src.Provenance
	probes  map[int]string
	errs    []string
	git     int // sources that were gitscan repositories
}

func newCollector(n int) *collector {
	c := &collector{calls: map[string]int{}, found: map[int]bool{}, origins: map[int][]crawler.Origin{}, prov: map[int][]crawler.Origin{}, probes: map[int]string{}}
	for i := 1; i <= n; i++ {
		_, c.probes[i] = plantedSig(i)
	}
	return c
}

func (c *collector) scan(ctx context.Context, r Repo, src Source) error {
	c.mu.Lock()
	c.calls[r.FullName]++
	if _, ok := src.(countBlobs).Source.(gitSource); ok {
		c.git++
	}
	c.mu.Unlock()
	ids := map[string]int{}
	defer func() {
		if len(ids) == 0 {
			return
		}
		var list []string
		for id := range ids {
			list = append(list, id)
		}
		prov, err := src.(crawler.Provenancer).Provenance(ctx, list)
		c.mu.Lock()
		defer c.mu.Unlock()
		if err != nil {
			c.errs = append(c.errs, err.Error())
		}
		for id, origins := range prov {
			c.prov[ids[id]] = append(c.prov[ids[id]], origins...)
		}
	}()
	for b, err := range src.Blobs(ctx) {
		if err != nil {
			c.mu.Lock()
			c.errs = append(c.errs, err.Error())
			c.mu.Unlock()
			continue
		}
		if cb, ok := src.(countBlobs); ok {
			cb.sum.Blobs++
			cb.sum.Bytes += int64(len(b.Data))
		}
		if b.Origin.Repo != r.FullName {
			return fmt.Errorf("blob origin repo %q, want %q", b.Origin.Repo, r.FullName)
		}
		for i, p := range c.probes {
			if bytes.Contains(b.Data, []byte(p)) {
				c.mu.Lock()
				if !b.Message {
					ids[b.ID] = i
				}
				c.found[i] = true
				c.origins[i] = append(c.origins[i], b.Origin)
				c.mu.Unlock()
			}
		}
	}
	return nil
}

func (c *collector) foundList() []int {
	var out []int
	for i := range c.found {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

func skipReasons(s Summary) map[string]string {
	m := map[string]string{}
	for _, k := range s.Skipped {
		m[k.Repo] = k.Reason
	}
	return m
}

func faultRepos() []*fakeRepo {
	return []*fakeRepo{
		{ID: 101, Owner: "contoso", Name: "app-01", Tip: []int{1}},
		{ID: 102, Owner: "contoso", Name: "app-02", Tip: []int{2}, History: []int{3}},
		{ID: 103, Owner: "contoso", Name: "app-03", Tip: []int{4}},
		{ID: 104, Owner: "contoso", Name: "app-04", Tip: []int{5}},
		{ID: 105, Owner: "contoso", Name: "app-05", Tip: []int{6}},
		{ID: 106, Owner: "contoso", Name: "app-06", Empty: true},
		{ID: 107, Owner: "contoso", Name: "app-07", Fork: true, Tip: []int{7}},
		{ID: 108, Owner: "contoso", Name: "app-08", Archived: true, Tip: []int{8}},
		{ID: 109, Owner: "contoso", Name: "app-09", Disabled: true, Tip: []int{11}},
		{ID: 110, Owner: "contoso", Name: "app-10", Missing: true},
		{ID: 111, Owner: "contoso", Name: "app-11", Tip: []int{12}},
		{ID: 112, Owner: "contoso", Name: "app-12", Tip: []int{9, 10}},
		{ID: 201, Owner: "contoso-legal", Name: "dmca", APIGet: 451, Tip: []int{13}},
	}
}

// TestSweepWithFaults is issue 4 "must be true" 1: pagination over several
// pages with a secondary limit (Retry-After), a primary limit
// (X-RateLimit-Remaining: 0), a 502 (page size halved) and a reset
// connection on the listing; a 503 and a reset on clones; 404 and 451
// recorded while the sweep goes on; every repository scanned once and every
// planted token found.
func TestSweepWithFaults(t *testing.T) {
	t.Parallel()
	f := newFakeGH(t, faultRepos())
	f.users["contoso-user"] = []*fakeRepo{f.find("contoso", "app-03")} // duplicate by ID
	f.listFaults = map[int]string{2: "secondary", 4: "primary", 5: "502", 6: "reset"}
	f.gitFaults = map[string]string{"contoso/app-04": "503", "contoso/app-05": "reset", "contoso/app-11": "451"}
	var logs bytes.Buffer
	c := f.newTestClient(t, Config{PerPage: 4}, &logs)
	col := newCollector(20)
	sum, err := c.testSweep(context.Background(), Targets{
		Orgs:  []string{"contoso"},
		Users: []string{"contoso-user"},
		Repos: []string{"contoso/app-01", "contoso/gone", "contoso-legal/dmca"},
	}, col.scan)
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}

	wantList := []string{
		"page=1 per_page=4", "page=2 per_page=4", "page=2 per_page=4", // secondary limit, retried
		"page=3 per_page=4", "page=3 per_page=4", // primary limit, then 502
		"page=5 per_page=2", "page=5 per_page=2", // halved page size; reset connection, retried
		"page=6 per_page=2",
	}
	if d := cmp.Diff(wantList, f.listReqs); d != "" {
		t.Errorf("listing requests (-want +got):\n%s", d)
	}
	wantCalls := map[string]int{
		"contoso/app-01": 1, "contoso/app-02": 1, "contoso/app-03": 1, "contoso/app-04": 1,
		"contoso/app-05": 1, "contoso/app-08": 1, "contoso/app-12": 1,
	}
	if d := cmp.Diff(wantCalls, col.calls); d != "" {
		t.Errorf("scan calls per repository (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int{1, 2, 3, 4, 5, 6, 8, 9, 10}, col.foundList()); d != "" {
		t.Errorf("planted tokens found (-want +got):\n%s", d)
	}
	wantSkips := map[string]string{
		"contoso/app-09":     "disabled",
		"contoso/app-10":     "not-found",
		"contoso/app-11":     "blocked-451",
		"contoso/gone":       "not-found",
		"contoso-legal/dmca": "blocked-451",
	}
	if d := cmp.Diff(wantSkips, skipReasons(sum)); d != "" {
		t.Errorf("skips (-want +got):\n%s", d)
	}
	if sum.Listed != 12 || sum.Scanned != 8 || sum.Empty != 1 || sum.Filtered["fork"] != 1 {
		t.Errorf("summary listed/scanned/empty/forks = %d/%d/%d/%d, want 12/8/1/1", sum.Listed, sum.Scanned, sum.Empty, sum.Filtered["fork"])
	}
	if !sum.Incomplete {
		t.Error("summary not marked incomplete despite skipped repositories")
	}
	// 7 s Retry-After plus the 120 s primary window.
	if sum.RateLimitWait < 127*time.Second || sum.RateLimitWait > 10*time.Minute {
		t.Errorf("RateLimitWait = %v, want about 2m8s", sum.RateLimitWait)
	}
	if sum.APICalls < int64(len(wantList)) {
		t.Errorf("APICalls = %d, want at least %d", sum.APICalls, len(wantList))
	}
	if sum.Bytes <= 0 || sum.Blobs <= 0 {
		t.Errorf("Bytes/Blobs = %d/%d, want > 0", sum.Bytes, sum.Blobs)
	}
	// History: signature 3 exists only in an earlier commit.
	if len(col.prov[3]) == 0 {
		t.Error("no provenance for the history-only token")
	}
	for _, o := range col.prov[3] {
		if o.AtTip || o.Path != "config/old.ini" || len(o.Commit) != 40 || o.Repo != "contoso/app-02" {
			t.Errorf("history-only token provenance %+v, want config/old.ini not at tip", o)
		}
	}
	if col.git != len(wantCalls) {
		t.Errorf("GitRepo recognised %d sources, want %d", col.git, len(wantCalls))
	}
	if len(f.gitFaults) != 0 {
		t.Errorf("git faults never triggered: %v", f.gitFaults)
	}
	assertNoToken(t, "log", logs.String())
	assertNoToken(t, "summary", summaryText(t, sum))
}

func summaryText(t *testing.T, s Summary) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + fmt.Sprintf("%+v %#v", s, s)
}

// assertNoToken fails when text contains the token in any common encoding.
func assertNoToken(t *testing.T, what, text string) {
	t.Helper()
	for _, form := range []string{
		testToken,
		base64.StdEncoding.EncodeToString([]byte("x-access-token:" + testToken)),
		testToken[4:20],
	} {
		if strings.Contains(text, form) {
			t.Errorf("%s contains the token (form %q)", what, form[:8])
		}
	}
}

func TestSweepForksAndArchived(t *testing.T) {
	t.Parallel()
	repos := []*fakeRepo{
		{ID: 1, Owner: "contoso", Name: "src", Tip: []int{1}},
		{ID: 2, Owner: "contoso", Name: "forked", Fork: true, Tip: []int{2}},
		{ID: 3, Owner: "contoso", Name: "old", Archived: true, Tip: []int{3}},
		{ID: 4, Owner: "contoso", Name: "tools-x", Tip: []int{4}},
	}
	tests := []struct {
		name     string
		cfg      Config
		found    []int
		filtered map[string]int
	}{
		{"defaults", Config{}, []int{1, 3, 4}, map[string]int{"fork": 1}},
		{"include forks", Config{IncludeForks: true}, []int{1, 2, 3, 4}, map[string]int{}},
		{"exclude archived", Config{ExcludeArchived: true}, []int{1, 4}, map[string]int{"fork": 1, "archived": 1}},
		{"globs", Config{Include: []string{"contoso/*"}, Exclude: []string{"tools-*"}}, []int{1, 3}, map[string]int{"fork": 1, "excluded": 1}},
		{"history none", Config{History: HistoryNone, IncludeForks: true}, []int{1, 2, 3, 4}, map[string]int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Each subtest builds its own repositories: newFakeGH writes
			// into them (tipSHA), and the subtests run in parallel.
			own := make([]*fakeRepo, len(repos))
			for i, r := range repos {
				cp := *r
				own[i] = &cp
			}
			f := newFakeGH(t, own)
			c := f.newTestClient(t, tc.cfg, nil)
			col := newCollector(4)
			sum, err := c.testSweep(context.Background(), Targets{Orgs: []string{"contoso"}}, col.scan)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.found, col.foundList()); d != "" {
				t.Errorf("found (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.filtered, sum.Filtered); d != "" {
				t.Errorf("filtered (-want +got):\n%s", d)
			}
			if sum.Incomplete {
				t.Errorf("incomplete: %v %+v", sum.TargetProblems, sum.Skipped)
			}
		})
	}
}

// TestHistoryNone is "must be true" 3: --history none finds the tokens at
// the tip of the default branch from the tarball, without any git request,
// and the codeload host never receives the token.
func TestHistoryNone(t *testing.T) {
	t.Parallel()
	f := newFakeGH(t, []*fakeRepo{
		{ID: 1, Owner: "contoso", Name: "web", Tip: []int{1, 2}, History: []int{3}},
		{ID: 2, Owner: "contoso", Name: "blank", Empty: true},
		{ID: 3, Owner: "contoso", Name: "api", Tip: []int{4}},
	})
	var logs bytes.Buffer
	c := f.newTestClient(t, Config{History: HistoryNone}, &logs)
	col := newCollector(4)
	sum, err := c.testSweep(context.Background(), Targets{Orgs: []string{"contoso"}}, col.scan)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int{1, 2, 4}, col.foundList()); d != "" {
		t.Errorf("found (-want +got):\n%s", d)
	}
	if f.gitReqs != 0 {
		t.Errorf("%d git requests in --history none mode, want 0", f.gitReqs)
	}
	if f.codeloadHit != 2 {
		t.Errorf("codeload downloads = %d, want 2", f.codeloadHit)
	}
	web := f.find("contoso", "web")
	want := crawler.Origin{Repo: "contoso/web", Commit: web.tipSHA, Path: "deploy/settings-1.json", AtTip: true}
	if d := cmp.Diff([]crawler.Origin{want}, col.prov[1]); d != "" {
		t.Errorf("tarball provenance (-want +got):\n%s", d)
	}
	if col.git != 0 {
		t.Errorf("GitRepo recognised %d tarball sources", col.git)
	}
	for _, o := range col.origins[1] {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("origin (-want +got):\n%s", d)
		}
		link := Permalink("http://"+f.srv.Listener.Addr().String(), o.Repo, o.Commit, o.Path, 2)
		if want := f.srv.URL + "/contoso/web/blob/" + web.tipSHA + "/deploy/settings-1.json#L2"; link != want {
			t.Errorf("permalink %s, want %s", link, want)
		}
	}
	if sum.Scanned != 3 || sum.Empty != 1 || sum.Incomplete {
		t.Errorf("scanned/empty/incomplete = %d/%d/%v, want 3/1/false (%v)", sum.Scanned, sum.Empty, sum.Incomplete, sum.TargetProblems)
	}
	for _, h := range f.authSeen("codeload") {
		if h != "" {
			t.Errorf("codeload host received an Authorization header")
		}
	}
	if !slices.Contains(f.authSeen("api"), "Bearer "+testToken) {
		t.Error("API host never received the token (the test would prove nothing)")
	}
	assertNoToken(t, "log", logs.String())
}

// TestTokenNeverLeaves is "must be true" 2: a redirect to a second server
// is refused and never carries the token; clones authenticate with
// x-access-token basic auth only on the clone host; errors, logs and the
// summary never contain the token, even when a server echoes it back.
func TestTokenNeverLeaves(t *testing.T) {
	t.Parallel()
	var (
		evilMu   sync.Mutex
		evilReqs []string
	)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilMu.Lock()
		evilReqs = append(evilReqs, r.Header.Get("Authorization"))
		evilMu.Unlock()
		writeJSON(w, 200, map[string]any{"id": 999, "name": "moved", "full_name": "contoso/moved",
			"clone_url": "http://" + r.Host + "/git/contoso/moved.git"})
	}))
	t.Cleanup(evil.Close)
	f := newFakeGH(t, []*fakeRepo{
		{ID: 1, Owner: "contoso", Name: "web", Tip: []int{1}},
		{ID: 2, Owner: "contoso", Name: "echo", Tip: []int{2}},
	})
	f.redirects["repos/contoso/moved"] = evil.URL + "/api/v3/repos/contoso/moved"
	f.redirects["orgs/contoso-moved/repos"] = evil.URL + "/api/v3/orgs/contoso-moved/repos"
	f.gitFaults["contoso/echo"] = "echo"
	// A hostile git server echoes the credential it received in its error body.
	inner := f.gitCGI
	f.gitCGI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/contoso/echo.git/") {
			_, pw, _ := r.BasicAuth()
			http.Error(w, "denied for password "+pw, http.StatusForbidden)
			return
		}
		inner.ServeHTTP(w, r)
	})
	var logs bytes.Buffer
	c := f.newTestClient(t, Config{}, &logs)
	col := newCollector(2)
	sum, err := c.testSweep(context.Background(), Targets{
		Orgs:  []string{"contoso", "contoso-moved"},
		Repos: []string{"contoso/moved"},
	}, col.scan)
	if err != nil {
		assertNoToken(t, "error", err.Error())
		t.Fatal(err)
	}
	evilMu.Lock()
	if len(evilReqs) != 0 {
		t.Errorf("second server received %d requests (Authorization %q); want none", len(evilReqs), evilReqs)
	}
	evilMu.Unlock()
	if r := skipReasons(sum)["contoso/moved"]; r == "" {
		t.Errorf("redirected repository not recorded as skipped: %+v", sum.Skipped)
	}
	if r := skipReasons(sum)["contoso/echo"]; r != "forbidden" {
		t.Errorf("echo repository reason %q, want forbidden", r)
	}
	if d := cmp.Diff([]int{1}, col.foundList()); d != "" {
		t.Errorf("found (-want +got):\n%s", d)
	}
	// The clone host did get basic auth with x-access-token (so the checks above can fail).
	wantBasic := "Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+testToken))
	if !slices.Contains(f.authSeen("git"), wantBasic) {
		t.Errorf("git host never received x-access-token basic auth")
	}
	assertNoToken(t, "log", logs.String())
	assertNoToken(t, "summary", summaryText(t, sum))
	for _, k := range sum.Skipped {
		if k.Repo == "contoso/echo" && !strings.Contains(k.Detail, "REDACTED") {
			t.Errorf("echoed credential not redacted in detail %q", k.Detail)
		}
	}
}

// TestSSOPartialResults: X-GitHub-SSO on a listing marks coverage incomplete.
func TestSSOPartialResults(t *testing.T) {
	t.Parallel()
	f := newFakeGH(t, []*fakeRepo{{ID: 1, Owner: "contoso", Name: "web", Tip: []int{1}}})
	f.ssoHeader = "partial-results; organizations=21955855,20582480"
	c := f.newTestClient(t, Config{History: HistoryNone}, nil)
	sum, err := c.testSweep(context.Background(), Targets{Orgs: []string{"contoso"}}, newCollector(1).scan)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Incomplete || len(sum.TargetProblems) == 0 || !strings.Contains(sum.TargetProblems[0], "X-GitHub-SSO") {
		t.Errorf("incomplete = %v %q, want true with an X-GitHub-SSO reason", sum.Incomplete, sum.TargetProblems)
	}
	if len(sum.TargetProblems) != 1 || !strings.Contains(sum.TargetProblems[0], "org contoso") {
		t.Errorf("TargetProblems = %q, want the SSO-limited org listing", sum.TargetProblems)
	}
	if sum.Scanned != 1 {
		t.Errorf("scanned %d, want 1", sum.Scanned)
	}
}

// TestSecondaryWithoutRetryAfter backs off from 60 s.
func TestSecondaryWithoutRetryAfter(t *testing.T) {
	t.Parallel()
	f := newFakeGH(t, []*fakeRepo{{ID: 1, Owner: "contoso", Name: "web", Tip: []int{1}}})
	f.listFaults = map[int]string{1: "secondary-no-retry-after", 2: "secondary-no-retry-after"}
	c := f.newTestClient(t, Config{History: HistoryNone}, nil)
	col := newCollector(1)
	sum, err := c.testSweep(context.Background(), Targets{Orgs: []string{"contoso"}}, col.scan)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.listReqs) != 3 {
		t.Errorf("listing requests %d, want 3", len(f.listReqs))
	}
	if sum.RateLimitWait < 180*time.Second {
		t.Errorf("RateLimitWait %v, want >= 3m (60 s then 120 s)", sum.RateLimitWait)
	}
	if !col.found[1] {
		t.Error("token not found after secondary limits")
	}
}

// TestMaxRepoSize skips only repositories clearly over the limit.
func TestMaxRepoSize(t *testing.T) {
	t.Parallel()
	f := newFakeGH(t, []*fakeRepo{{ID: 1, Owner: "contoso", Name: "web", Tip: []int{1}}}) // size 12 KiB
	for _, tc := range []struct {
		max  int64
		skip bool
	}{{8 << 10, true}, {11 << 10, false}, {0, false}} {
		c := f.newTestClient(t, Config{History: HistoryNone, MaxRepoSize: tc.max}, nil)
		sum, err := c.testSweep(context.Background(), Targets{Orgs: []string{"contoso"}}, newCollector(1).scan)
		if err != nil {
			t.Fatal(err)
		}
		if got := skipReasons(sum)["contoso/web"] == "too-large"; got != tc.skip {
			t.Errorf("max %d: skipped=%v, want %v", tc.max, got, tc.skip)
		}
	}
}

// TestNoTargetListed: when every org/user listing fails the sweep is an
// error, not an empty clean result.
func TestNoTargetListed(t *testing.T) {
	t.Parallel()
	f := newFakeGH(t, []*fakeRepo{{ID: 1, Owner: "contoso", Name: "web", Tip: []int{1}}})
	c := f.newTestClient(t, Config{}, nil)
	_, err := c.testSweep(context.Background(), Targets{Orgs: []string{"contoso-nope"}, Users: []string{"bad name"}}, newCollector(1).scan)
	var le *ListError
	if !errors.As(err, &le) || len(le.Targets) != 2 || !strings.Contains(err.Error(), "org contoso-nope") {
		t.Errorf("err = %v, want a ListError naming both targets", err)
	}
}

// TestCache: a second sweep with a cache directory fetches into the kept
// clones and finds the same tokens.
func TestCache(t *testing.T) {
	t.Parallel()
	f := newFakeGH(t, []*fakeRepo{
		{ID: 1, Owner: "contoso", Name: "a", Tip: []int{1}},
		{ID: 2, Owner: "contoso", Name: "b", Tip: []int{2}},
		{ID: 3, Owner: "contoso", Name: "c", Tip: []int{3}},
	})
	cache := t.TempDir()
	for run := range 2 {
		c := f.newTestClient(t, Config{CacheDir: cache}, nil)
		col := newCollector(3)
		sum, err := c.testSweep(context.Background(), Targets{Orgs: []string{"contoso"}}, col.scan)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if d := cmp.Diff([]int{1, 2, 3}, col.foundList()); d != "" {
			t.Errorf("run %d found (-want +got):\n%s", run, d)
		}
		if sum.Scanned != 3 {
			t.Errorf("run %d scanned %d, want 3", run, sum.Scanned)
		}
		entries, _ := os.ReadDir(cache)
		if len(entries) != 3 {
			t.Errorf("run %d: cache has %d entries, want 3", run, len(entries))
		}
	}
}

// TestCancel: a cancelled context ends the sweep with ctx.Err().
func TestCancel(t *testing.T) {
	t.Parallel()
	f := newFakeGH(t, []*fakeRepo{
		{ID: 1, Owner: "contoso", Name: "a", Tip: []int{1}},
		{ID: 2, Owner: "contoso", Name: "b", Tip: []int{2}},
	})
	c := f.newTestClient(t, Config{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := c.testSweep(ctx, Targets{Orgs: []string{"contoso"}}, func(ctx context.Context, r Repo, src Source) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
