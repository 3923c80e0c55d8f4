package filing

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sasquatch-sec/sasquatch/crawler/github"
	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/internal/store"
)

// TestDroppedReplyOneIssuePerRepoToken is issue 12 "must be true" 2: the
// first issue creation is dropped after the issue is created (the server
// creates it, then closes the connection); at the end there is exactly one
// issue per (repository, token); a second run writes nothing; a run after a
// new location comments once and opens nothing; no title, body or comment
// holds a signature. On SQLite, and on PostgreSQL when available.
func TestDroppedReplyOneIssuePerRepoToken(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b)
			app := e.repo(101, "acme/app", "private")
			internal := e.repo(102, "acme/int", "internal")
			pub := e.repo(103, "acme/pub", "public")
			e.repo(900, "acme/tracker", "private")
			tok1, tok2 := e.token("fakeacctone", detect.High), e.token("fakeaccttwo", detect.Critical)
			low := e.token("fakeacctlow", detect.Low) // under --issue-severity medium
			e.add(tok1, app, loc(app, "deploy/sas.txt", 3))
			e.add(tok1, pub, loc(pub, "README.md", 9))
			e.add(tok2, app, loc(app, "ci/env.sh", 12), loc(app, "ci/env.sh", 40))
			e.add(tok2, internal, loc(internal, "cfg.json", 1))
			e.add(low, app, loc(app, "low.txt", 1))

			e.gh.DropIssueCreates(1)
			res := e.file("acme/tracker", true)
			if res.Incomplete() {
				t.Fatalf("first run incomplete: %+v", res.Items)
			}
			if got := res.Count(Filed) + res.Count(Adopted); got != 4 || res.Count(Adopted) != 1 {
				t.Errorf("first run: %d filed + %d adopted, want 3 + 1: %+v", res.Count(Filed), res.Count(Adopted), res.Items)
			}
			want := map[string]map[string]int{
				"acme/app":     {Marker(tok1.Fingerprint, 101): 1, Marker(tok2.Fingerprint, 101): 1},
				"acme/int":     {Marker(tok2.Fingerprint, 102): 1},
				"acme/tracker": {Marker(tok1.Fingerprint, 103): 1},
				"acme/pub":     {},
			}
			check := func(when string) {
				t.Helper()
				for repo, w := range want {
					got := markers(e.gh, repo)
					if len(got) != len(w) {
						t.Errorf("%s: %s has markers %v, want %v", when, repo, got, w)
					}
					for m, n := range w {
						if got[m] != n {
							t.Errorf("%s: %s has %d issues with %q, want %d", when, repo, got[m], m, n)
						}
					}
				}
			}
			check("first run")
			for _, iss := range e.gh.Issues("acme/tracker") {
				if !strings.Contains(iss.Title, "acme/pub") {
					t.Errorf("tracker issue title %q does not name the affected repository", iss.Title)
				}
			}
			for _, iss := range e.gh.Issues("acme/app") {
				if len(iss.Labels) != 1 || iss.Labels[0] != LabelName {
					t.Errorf("issue #%d labels %v, want [%s]", iss.Number, iss.Labels, LabelName)
				}
			}
			intents, err := e.st.Intents(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range intents {
				if in.State != store.IntentFiled || in.Number == 0 {
					t.Errorf("intent %s/%d is %s #%d, want filed", in.Fingerprint, in.RepoID, in.State, in.Number)
				}
			}
			if len(intents) != 4 {
				t.Errorf("%d intents, want 4", len(intents))
			}
			assertPaced(t, e.gh.Writes())

			// Second run: nothing changed, nothing written.
			before := len(e.gh.Writes())
			e.clock.Advance(time.Hour)
			res = e.file("acme/tracker", true)
			if n := len(e.gh.Writes()) - before; n != 0 || res.Count(Unchanged) != 4 {
				t.Errorf("second run: %d writes, %d unchanged, want 0 and 4: %+v", n, res.Count(Unchanged), res.Items)
			}

			// A new location of tok1 in acme/app: one comment there, no issue.
			e.add(tok1, app, loc(app, "deploy/other.txt", 7))
			before = len(e.gh.Writes())
			res = e.file("acme/tracker", true)
			writes := e.gh.Writes()[before:]
			if len(writes) != 1 || !strings.HasSuffix(writes[0].Path, "/comments") || res.Count(Commented) != 1 {
				t.Fatalf("run after a new location: writes %v, items %+v; want one comment", paths(writes), res.Items)
			}
			iss := e.gh.Issues("acme/app")
			var commented int
			for _, i := range iss {
				commented += len(i.Comments)
				for _, c := range i.Comments {
					if !strings.Contains(c, "deploy/other.txt") {
						t.Errorf("comment does not list the new location:\n%s", c)
					}
				}
			}
			if commented != 1 {
				t.Errorf("%d comments, want 1", commented)
			}
			check("after the comment")

			// And then nothing again.
			before = len(e.gh.Writes())
			e.file("acme/tracker", true)
			if n := len(e.gh.Writes()) - before; n != 0 {
				t.Errorf("run after the comment: %d writes, want 0", n)
			}
			e.assertNoLeak()
		})
	}
}

func paths(rs []fakeghRequest) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// assertPaced checks writes are at least a second apart and fewer than 80
// in any minute, by the fake clock.
func assertPaced(t *testing.T, writes []fakeghRequest) {
	t.Helper()
	for i := 1; i < len(writes); i++ {
		if d := writes[i].At.Sub(writes[i-1].At); d < time.Second {
			t.Errorf("writes %d and %d are %v apart, want at least 1s", i-1, i, d)
		}
		n := 0
		for j := i; j >= 0 && writes[i].At.Sub(writes[j].At) < time.Minute; j-- {
			n++
		}
		if n >= 80 {
			t.Errorf("%d writes within a minute ending at write %d", n, i)
		}
	}
}

// TestListLagSettles: the reply is lost and the list endpoint does not show
// the new issue yet. The run leaves the intent pending and does not post
// again; a run before the settle time neither; a run after it finds the
// issue (listed by then) and adopts it: one issue.
func TestListLagSettles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	app := e.repo(101, "acme/app", "private")
	tok := e.token("fakeacctlag", detect.High)
	e.add(tok, app, loc(app, "a.txt", 1))

	e.gh.DropIssueCreates(1)
	e.gh.HideNewIssues(100)
	res := e.file("", true)
	if res.Count(Pending) != 1 || !res.Incomplete() {
		t.Fatalf("first run: %+v, want pending", res.Items)
	}
	e.clock.Advance(2 * time.Minute)
	e.gh.HideNewIssues(0)
	res = e.file("", true)
	if res.Count(Adopted) != 1 {
		t.Fatalf("second run: %+v, want adopted", res.Items)
	}
	if n := len(e.gh.Issues("acme/app")); n != 1 {
		t.Errorf("%d issues, want 1", n)
	}
	if n := countPosts(e.gh.Writes(), "/issues"); n != 1 {
		t.Errorf("%d issue POSTs, want 1", n)
	}
}

// TestSettleThenRepost: the reply is lost and the issue was in fact never
// created (the fake drops it, then the test deletes nothing: it hides it
// for good by never having it). After the settle time, a run re-posts once.
func TestSettleThenRepost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	app := e.repo(101, "acme/app", "private")
	tok := e.token("fakeacctrepost", detect.High)
	e.add(tok, app, loc(app, "a.txt", 1))
	ctx := context.Background()
	// A crash right after the POST was begun, before anything was sent.
	if _, err := e.st.RecordIntent(ctx, store.Intent{Fingerprint: tok.Fingerprint, RepoID: 101, Marker: Marker(tok.Fingerprint, 101)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.BeginAttempt(ctx, tok.Fingerprint, 101); err != nil {
		t.Fatal(err)
	}
	res := e.file("", true)
	if res.Count(Pending) != 1 || len(e.gh.Writes()) != 0 {
		t.Fatalf("run within the settle time: %+v, writes %v; want pending and no write", res.Items, paths(e.gh.Writes()))
	}
	e.clock.Advance(DefaultSettle + time.Minute)
	res = e.file("", true)
	if res.Count(Filed) != 1 || len(e.gh.Issues("acme/app")) != 1 {
		t.Fatalf("run after the settle time: %+v, issues %d; want one filed", res.Items, len(e.gh.Issues("acme/app")))
	}
	in, _ := e.st.Intent(ctx, tok.Fingerprint, 101)
	if in.Attempts != 2 {
		t.Errorf("attempts %d, want 2", in.Attempts)
	}
}

// TestCrashAfterPostAdopts: a process died after its POST created the issue
// and before it recorded the number. The next run lists, finds the marker
// and adopts the issue without posting.
func TestCrashAfterPostAdopts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	app := e.repo(101, "acme/app", "private")
	tok := e.token("fakeacctcrash", detect.High)
	e.add(tok, app, loc(app, "a.txt", 1))
	ctx := context.Background()
	if _, err := e.st.RecordIntent(ctx, store.Intent{Fingerprint: tok.Fingerprint, RepoID: 101, Marker: Marker(tok.Fingerprint, 101)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.BeginAttempt(ctx, tok.Fingerprint, 101); err != nil {
		t.Fatal(err)
	}
	e.gh.AddIssue("acme/app", "Leaked", "body\n"+Marker(tok.Fingerprint, 101)+"\n", LabelName)
	res := e.file("", true)
	if res.Count(Adopted) != 1 || len(e.gh.Writes()) != 0 {
		t.Fatalf("%+v, writes %v; want adopted without a write", res.Items, paths(e.gh.Writes()))
	}
	in, _ := e.st.Intent(ctx, tok.Fingerprint, 101)
	if in.State != store.IntentFiled || in.Number != 1 {
		t.Errorf("intent %s #%d, want filed #1", in.State, in.Number)
	}
}

func countPosts(rs []fakeghRequest, suffix string) int {
	n := 0
	for _, r := range rs {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

// TestRoute is issue 12's routing table as a pure function.
func TestRoute(t *testing.T) {
	t.Parallel()
	facts := func(vis string, mod func(*github.RepoFacts)) github.RepoFacts {
		f := github.RepoFacts{ID: 1, FullName: "o/r", Visibility: vis, Private: vis != "public", HasIssues: true}
		if mod != nil {
			mod(&f)
		}
		return f
	}
	archived := func(f *github.RepoFacts) { f.Archived = true }
	noIssues := func(f *github.RepoFacts) { f.HasIssues = false }
	yes := func() (bool, error) { return true, nil }
	no := func() (bool, error) { return false, nil }
	for _, tc := range []struct {
		name    string
		facts   github.RepoFacts
		tracker string
		pvr     func() (bool, error)
		want    Destination
		ok      bool
	}{
		{"private", facts("private", nil), "", no, Destination{Repo: "o/r"}, true},
		{"private with tracker", facts("private", nil), "o/t", no, Destination{Repo: "o/r"}, true},
		{"internal", facts("internal", nil), "", no, Destination{Repo: "o/r"}, true},
		{"private without visibility", github.RepoFacts{FullName: "o/r", Private: true, HasIssues: true}, "", no, Destination{Repo: "o/r"}, true},
		{"public with tracker", facts("public", nil), "o/t", yes, Destination{Repo: "o/t", Tracker: true}, true},
		{"public with private reporting", facts("public", nil), "", yes, Destination{Repo: "o/r", Advisory: true}, true},
		{"public, nothing", facts("public", nil), "", no, Destination{}, false},
		{"public, reporting unknown", facts("public", nil), "", func() (bool, error) { return false, errors.New("boom") }, Destination{}, false},
		{"issues disabled with tracker", facts("private", noIssues), "o/t", no, Destination{Repo: "o/t", Tracker: true}, true},
		{"issues disabled, no tracker", facts("private", noIssues), "", yes, Destination{}, false},
		{"archived with tracker", facts("private", archived), "o/t", no, Destination{Repo: "o/t", Tracker: true}, true},
		{"archived, no tracker", facts("internal", archived), "", no, Destination{}, false},
		{"public archived, no tracker", facts("public", archived), "", yes, Destination{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, why, ok, err := Route(tc.facts, tc.tracker, tc.pvr)
			if err != nil || ok != tc.ok || d != tc.want || why == "" {
				t.Errorf("Route = %+v, %q, %v, %v; want %+v, %v", d, why, ok, err, tc.want, tc.ok)
			}
		})
	}
}

// TestRoutingAgainstFake runs the routing table end to end: where each
// case's POST goes, and that the cases with nowhere to go write nothing
// and are recorded failures.
func TestRoutingAgainstFake(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		vis      string
		set      map[string]any
		tracker  string
		wantPost string // path suffix of the one POST (labels aside); "" for none
		want     Outcome
	}{
		{"private", "private", nil, "", "/repos/acme/x/issues", Filed},
		{"internal", "internal", nil, "", "/repos/acme/x/issues", Filed},
		{"public+tracker", "public", map[string]any{"private_reporting": true}, "acme/tracker", "/repos/acme/tracker/issues", Filed},
		{"public+pvr", "public", map[string]any{"private_reporting": true}, "", "/repos/acme/x/security-advisories/reports", Filed},
		{"public", "public", nil, "", "", Failed},
		{"410+tracker", "private", map[string]any{"has_issues": false}, "acme/tracker", "/repos/acme/tracker/issues", Filed},
		{"410", "private", map[string]any{"has_issues": false}, "", "", Failed},
		{"archived+tracker", "internal", map[string]any{"archived": true}, "acme/tracker", "/repos/acme/tracker/issues", Filed},
		{"archived", "internal", map[string]any{"archived": true}, "", "", Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, "sqlite")
			x := e.repo(5, "acme/x", tc.vis)
			e.repo(900, "acme/tracker", "private")
			if tc.set != nil {
				e.gh.SetRepo("acme/x", tc.set)
			}
			tok := e.token("fakeacctroute", detect.High)
			e.add(tok, x, loc(x, "f.txt", 2))
			res := e.file(tc.tracker, true)
			if len(res.Items) != 1 || res.Items[0].Outcome != tc.want {
				t.Fatalf("items %+v, want one %s", res.Items, tc.want)
			}
			var posts []string
			for _, w := range e.gh.Writes() {
				if !strings.HasSuffix(w.Path, "/labels") {
					posts = append(posts, w.Path)
				}
			}
			switch {
			case tc.wantPost == "" && len(e.gh.Writes()) != 0:
				t.Errorf("writes %v, want none", paths(e.gh.Writes()))
			case tc.wantPost != "" && (len(posts) != 1 || !strings.HasSuffix(posts[0], tc.wantPost)):
				t.Errorf("writes %v, want one POST to %s", posts, tc.wantPost)
			}
			if tc.want == Failed {
				if !res.Incomplete() || res.Items[0].Detail == "" {
					t.Errorf("failure not recorded: %+v", res.Items[0])
				}
				if ins, _ := e.st.Intents(context.Background(), ""); len(ins) != 0 {
					t.Errorf("a routing failure recorded intents %+v (a later run with a tracker must be able to file)", ins)
				}
			}
			if tc.name == "public+pvr" {
				as := e.gh.Advisories("acme/x")
				if len(as) != 1 || as[0].Severity != "high" || !strings.Contains(as[0].Description, Marker(tok.Fingerprint, 5)) {
					t.Errorf("advisories %+v", as)
				}
			}
			e.assertNoLeak()
		})
	}
}

// TestIssuesGoneAtPost: has_issues said yes but the POST answers 410 (turned
// off in between): a definitive refusal, recorded as a failed intent, and
// never sent again.
func TestIssuesGoneAtPost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	x := e.repo(5, "acme/x", "private")
	tok := e.token("fakeacctgone", detect.High)
	e.add(tok, x, loc(x, "f.txt", 2))
	api := &goneAPI{Client: e.client}
	res, err := Run(context.Background(), Config{Store: e.st, API: api, MinSeverity: detect.Medium, Apply: true, Clock: e.clock.Now, Sleep: e.clock.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	if res.Count(Failed) != 1 || !strings.Contains(res.Items[0].Detail, "410") {
		t.Fatalf("%+v, want one failure naming the 410", res.Items)
	}
	in, _ := e.st.Intent(context.Background(), tok.Fingerprint, 5)
	if in.State != store.IntentFailed {
		t.Errorf("intent %s, want failed", in.State)
	}
	res, _ = Run(context.Background(), Config{Store: e.st, API: api, MinSeverity: detect.Medium, Apply: true, Clock: e.clock.Now, Sleep: e.clock.Sleep})
	if api.creates != 1 || res.Count(Failed) != 1 {
		t.Errorf("second run: %d creates in all, %+v; want 1 and a failure", api.creates, res.Items)
	}
}

// goneAPI answers issue creation with 410.
type goneAPI struct {
	*github.Client
	creates int
}

func (g *goneAPI) CreateIssue(ctx context.Context, full string, in github.NewIssue) (github.Issue, error) {
	g.creates++
	return github.Issue{}, &github.APIError{Op: "create issue", Repo: full, Status: http.StatusGone, Err: github.ErrIssuesDisabled}
}

// TestDryRunWritesNothing is issue 12 "must be true" 4 at the package level:
// no POST, PATCH, PUT or DELETE, and no intent in the store.
func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	app := e.repo(101, "acme/app", "private")
	pub := e.repo(103, "acme/pub", "public")
	e.repo(900, "acme/tracker", "private")
	tok := e.token("fakeacctdry", detect.High)
	e.add(tok, app, loc(app, "a.txt", 1))
	e.add(tok, pub, loc(pub, "b.txt", 1))
	res := e.file("acme/tracker", false)
	if res.Count(WouldFile) != 2 {
		t.Errorf("%+v, want 2 would-file", res.Items)
	}
	for _, it := range res.Items {
		if it.Title == "" || it.Where == "" || it.Why == "" {
			t.Errorf("dry-run item without title, where or why: %+v", it)
		}
	}
	if w := e.gh.Writes(); len(w) != 0 {
		t.Errorf("dry run wrote %v", paths(w))
	}
	if ins, _ := e.st.Intents(context.Background(), ""); len(ins) != 0 {
		t.Errorf("dry run recorded intents %+v", ins)
	}
}

// TestPublicTrackerRefused: a public tracker would advertise the tokens.
func TestPublicTrackerRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	e.repo(900, "acme/tracker", "public")
	_, err := Run(context.Background(), Config{Store: e.st, API: e.client, Tracker: "acme/tracker", Clock: e.clock.Now, Sleep: e.clock.Sleep})
	if err == nil || !strings.Contains(err.Error(), "public") {
		t.Errorf("err %v, want a refusal of the public tracker", err)
	}
}

// TestPacer: a second between writes (so at most 60 a minute, under 80),
// and at most 499 in any hour, on the fake clock.
func TestPacer(t *testing.T) {
	t.Parallel()
	c := newClock()
	p := newPacer(c.Now, c.Sleep)
	var at []fakeghRequest
	for range 600 {
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		at = append(at, fakeghRequest{Method: http.MethodPost, At: c.Now()})
	}
	assertPaced(t, at)
	for i := range at {
		n := 0
		for j := i; j >= 0 && at[i].At.Sub(at[j].At) < time.Hour; j-- {
			n++
		}
		if n > 499 {
			t.Fatalf("%d writes within an hour ending at write %d", n, i)
		}
	}
	if d := at[499].At.Sub(at[0].At); d < time.Hour {
		t.Errorf("write 500 came %v after the first, want at least an hour", d)
	}
}

// TestPrivateReportUnknownNeverResent: a private report whose reply was
// lost and that listing does not show stays pending: never sent again,
// even after the settle time.
func TestPrivateReportUnknownNeverResent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	x := e.repo(5, "acme/x", "public")
	e.gh.SetRepo("acme/x", map[string]any{"private_reporting": true})
	tok := e.token("fakeacctpvr", detect.High)
	e.add(tok, x, loc(x, "f.txt", 2))
	api := &lostReportAPI{Client: e.client}
	cfg := Config{Store: e.st, API: api, MinSeverity: detect.Medium, Apply: true, Clock: e.clock.Now, Sleep: e.clock.Sleep}
	for run := range 2 {
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Count(Pending) != 1 || api.sent != 1 {
			t.Fatalf("run %d: %+v, %d reports sent; want pending and 1 sent", run, res.Items, api.sent)
		}
		e.clock.Advance(2 * DefaultSettle)
	}
}

// lostReportAPI loses the reply of every private report (none is created).
type lostReportAPI struct {
	*github.Client
	sent int
}

func (l *lostReportAPI) CreatePrivateReport(ctx context.Context, full string, r github.PrivateReport) (github.Advisory, error) {
	l.sent++
	return github.Advisory{}, &github.APIError{Op: "create private report", Repo: full, Err: github.ErrUnknownOutcome}
}
