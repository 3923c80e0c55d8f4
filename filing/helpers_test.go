package filing

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/sasquatch-sec/sasquatch/internal/store/storetest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sasquatch-sec/sasquatch/crawler/github"
	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/fixtures/fakegh"
	"github.com/sasquatch-sec/sasquatch/internal/store"
	"github.com/sasquatch-sec/sasquatch/report"
)

type fakeghRequest = fakegh.Request

// fakeClock is the one clock of a test: the store's, the filer's and the
// GitHub client's. Sleep advances it; nothing really waits.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.Advance(d)
	return ctx.Err()
}

// backends are the store drivers a test runs on: SQLite always,
// PostgreSQL when SASQUATCH_TEST_POSTGRES is set (.ci/postgres.sh).
var backends = []string{"sqlite", "postgres"}

// newDSN returns a fresh database for backend b, skipping PostgreSQL when
// it is not configured (failing under CI).
func newDSN(t *testing.T, b string) string { return storetest.DSN(t, b) }

// env is one test's world: a fake GitHub, a store, a client and a clock.
type env struct {
	t      *testing.T
	gh     *fakegh.Server
	st     *store.Store
	client *github.Client
	clock  *fakeClock
	sigs   []string // every planted signature
}

func newEnv(t *testing.T, backend string) *env {
	t.Helper()
	clock := newClock()
	gh := fakegh.New(t)
	gh.SetClock(clock.Now)
	st, err := store.OpenConfig(context.Background(), store.Config{DSN: newDSN(t, backend), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	client, err := github.New(github.Config{APIURL: gh.APIURL(), Token: github.NewToken("ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE0000"), Clock: clock.Now, Sleep: clock.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, gh: gh, st: st, client: client, clock: clock}
}

// repo makes a repository known to the fake API and the store.
func (e *env) repo(id int64, full, visibility string) store.Repo {
	e.t.Helper()
	e.gh.AddAPIRepo(id, full, visibility)
	r := store.Repo{ID: id, FullName: full, Visibility: visibility, Private: visibility != "public", DefaultBranch: "main"}
	if err := e.st.InTx(context.Background(), func(tx *store.Tx) error { return tx.UpsertRepo(context.Background(), r) }); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// token returns a synthetic account SAS with a random signature (never a
// real key's output) and records the signature for leak checks.
func (e *env) token(account string, sev detect.Severity) detect.Match {
	return e.tokenOnly(account, sev)
}

// tokenOnly is token without the rest of the env (render tests).
func (e *env) tokenOnly(account string, sev detect.Severity) detect.Match {
	var raw [32]byte
	rand.Read(raw[:])
	sig := base64.StdEncoding.EncodeToString(raw[:])
	e.sigs = append(e.sigs, sig)
	host := account + ".blob.core.windows.net"
	q := "sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&sig=" + url.QueryEscape(sig)
	tok := detect.Token{
		Kind: detect.KindAccount, Account: account, Host: host, Cloud: "public",
		Services: []string{"blob"}, ResourceTypes: []string{"service", "container", "object"},
		Permissions: []string{"read", "list"}, SP: "rl",
		Start:     time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Expiry:    time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		Signature: detect.NewSecret(sig), Query: detect.NewSecret(q),
		URL:      detect.NewSecret("https://" + host + "/?" + q),
		Redacted: "sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&sig=REDACTED",
	}
	return detect.Match{Token: tok, Severity: sev, Reasons: []string{"account-sas", "long-lived"}, Fingerprint: detect.Fingerprint(sig)}
}

// loc is a location of a token in repository r.
func loc(r store.Repo, path string, line int) report.Location {
	commit := strings.Repeat(fmt.Sprintf("%x", line%16), 40)
	tip := true
	return report.Location{Repo: r.FullName, Path: path, Line: line, Column: 5, Commit: commit, AtTip: &tip,
		Permalink: "https://github.invalid/" + r.FullName + "/blob/" + commit + "/" + url.PathEscape(path) + "#L" + fmt.Sprint(line)}
}

// add stores token m's locations in repository r as one scan of a new run.
func (e *env) add(m detect.Match, r store.Repo, locs ...report.Location) {
	e.t.Helper()
	ctx := context.Background()
	f := report.NewFinding(m, false)
	f.Locations = locs
	err := e.st.InTx(ctx, func(tx *store.Tx) error {
		run, err := tx.BeginRun(ctx, "test")
		if err != nil {
			return err
		}
		if _, err := tx.AddFindings(ctx, run, r.ID, []report.Finding{f}); err != nil {
			return err
		}
		return tx.FinishRun(ctx, run, true, nil)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// file runs filing with the env's clock.
func (e *env) file(tracker string, apply bool) *Result {
	e.t.Helper()
	res, err := Run(context.Background(), Config{Store: e.st, API: e.client, Tracker: tracker, MinSeverity: detect.Medium,
		Apply: apply, Clock: e.clock.Now, Sleep: e.clock.Sleep})
	if err != nil {
		e.t.Fatalf("filing: %v", err)
	}
	return res
}

// assertNoLeak fails when any request the fake received holds a planted
// signature: raw, percent-encoded, or any 16-character piece of either,
// in the raw body or in any JSON string of it.
func (e *env) assertNoLeak() {
	e.t.Helper()
	for _, r := range e.gh.Requests() {
		texts := []string{string(r.Body), r.Path, r.Query}
		var v any
		if json.Unmarshal(r.Body, &v) == nil {
			texts = append(texts, jsonStrings(v)...)
		}
		for _, sig := range e.sigs {
			for _, form := range []string{sig, url.QueryEscape(sig), url.PathEscape(sig)} {
				for i := 0; i+16 <= len(form); i++ {
					for _, tx := range texts {
						if strings.Contains(tx, form[i:i+16]) {
							e.t.Fatalf("%s %s holds a 16-character piece of a signature", r.Method, r.Path)
						}
					}
				}
			}
		}
	}
}

func jsonStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, y := range x {
			out = append(out, jsonStrings(y)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, y := range x {
			out = append(out, jsonStrings(y)...)
		}
		return out
	}
	return nil
}

// markers counts, per marker line, the issues of repo carrying it.
func markers(gh *fakegh.Server, repo string) map[string]int {
	out := map[string]int{}
	for _, i := range gh.Issues(repo) {
		for line := range strings.SplitSeq(i.Body, "\n") {
			if strings.HasPrefix(line, "sasquatch:fingerprint=") {
				out[line]++
			}
		}
	}
	return out
}
