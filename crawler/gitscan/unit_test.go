package gitscan

import (
	"context"
	"github.com/sasquatch-sec/sasquatch/crawler"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sasquatch-sec/sasquatch/fixtures/history"
)

func TestParseIdent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, who string
		unix          int64
		offset        int
	}{
		{"plain", "Contoso Dev <dev@contoso.example> 1704067200 +0000", "Contoso Dev <dev@contoso.example>", 1704067200, 0},
		{"zone", "A <a@b> 1704067200 -0130", "A <a@b>", 1704067200, -90 * 60},
		{"no time", "A <a@b>", "A <a@b>", 0, 0},
		{"garbage time", "A <a@b> soon", "A <a@b>", 0, 0},
		{"no email", "nobody", "nobody", 0, 0},
		{"invalid utf8", "caf\xe9 <x@y> 1 +0000", "caf? <x@y>", 1, 0},
		// Hostile dates git stores without complaint: no report may fail on them.
		{"zone of days", "A <a@b> 1704067200 +9959", "A <a@b>", 1704067200, 0},
		{"year 33658", "A <a@b> 999999999999 +0000", "A <a@b>", 0, 0},
		{"before year 1", "A <a@b> -62135596801 +0000", "A <a@b>", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			who, tm := parseIdent([]byte(tt.in))
			if who != tt.who {
				t.Errorf("who = %q, want %q", who, tt.who)
			}
			if tt.unix == 0 {
				if !tm.IsZero() {
					t.Errorf("time = %v, want zero", tm)
				}
				return
			}
			_, off := tm.Zone()
			if tm.Unix() != tt.unix || off != tt.offset {
				t.Errorf("time = %v (offset %d), want %d %d", tm, off, tt.unix, tt.offset)
			}
		})
	}
}

func TestParseTree(t *testing.T) {
	t.Parallel()
	id := strings.Repeat("\x01", 20)
	good := "100644 a.txt\x00" + id + "40000 dir\x00" + id
	tests := []struct {
		name    string
		in      string
		want    []treeEntry
		wantErr bool
	}{
		{"empty", "", nil, false},
		{"two", good, []treeEntry{{"100644", "a.txt", strings.Repeat("01", 20)}, {"40000", "dir", strings.Repeat("01", 20)}}, false},
		{"truncated id", "100644 a\x00" + id[:5], nil, true},
		{"no nul", "100644 abc", nil, true},
		{"no mode", " x\x00" + id, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseTree([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(treeEntry{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			var n int
			ferr := forEachEntry([]byte(tt.in), func(_, _, _ []byte) { n++ })
			if (ferr != nil) != tt.wantErr || n != len(tt.want) {
				t.Errorf("forEachEntry: %d entries, err %v", n, ferr)
			}
		})
	}
}

func TestParseCommitAndTag(t *testing.T) {
	t.Parallel()
	tree := strings.Repeat("a", 40)
	par := strings.Repeat("b", 40)
	raw := "tree " + tree + "\nparent " + par + "\nauthor A <a@b> 1704067200 +0000\ncommitter C <c@d> 1 +0000\ngpgsig -----BEGIN\n more\n\nsubject\n\nbody\n"
	c, err := parseCommit([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := commitInfo{tree: tree, parents: []string{par}, author: "A <a@b>", time: time.Unix(1704067200, 0), message: []byte("subject\n\nbody\n")}
	if diff := cmp.Diff(want, c, cmp.AllowUnexported(commitInfo{}), cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := parseCommit([]byte("tree zzz\n\nmsg")); err == nil {
		t.Error("invalid tree accepted")
	}
	tg, err := parseTag([]byte("object " + tree + "\ntype commit\ntag v1\ntagger T <t@x> 5 +0000\n\nnotes\n"))
	if err != nil || tg.object != tree || tg.name != "v1" || tg.tagger != "T <t@x>" || string(tg.message) != "notes\n" {
		t.Errorf("parseTag = %+v, %v", tg, err)
	}
}

func TestGitVersionOK(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"git version 2.39.5":           true,
		"git version 2.36.0":           true,
		"git version 3.0.0":            true,
		"git version 2.35.1":           false,
		"git version 1.9":              false,
		"git version 2.40.1.windows.1": true,
		"nonsense":                     false,
	} {
		if got := gitVersionOK(in); got != want {
			t.Errorf("gitVersionOK(%q) = %v", in, got)
		}
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	b := history.New(t, t.TempDir(), false)
	b.Write("a.txt", "a\n")
	b.Commit("one")
	backends(t, func(t *testing.T, cfg Config) {
		r := open(t, b.Dir, cfg)
		r.deadline = time.Now().Add(-time.Second) // the repository's time is up
		res := collect(t, r)
		if len(res.skipsFor(crawler.SkipTimeout)) != 1 || len(res.blobs) != 0 || len(res.errs) != 0 {
			t.Errorf("got %+v", res)
		}
		if cov := r.Stats(); cov.Complete || cov.Skips[crawler.SkipTimeout] != 1 {
			t.Errorf("coverage %+v", cov)
		}
		// Provenance still works after the repository's time is up (it gets
		// its own grace), so findings made before a timeout keep their commit;
		// the caller's context still bounds it.
		if _, err := r.Provenance(context.Background(), []string{strings.Repeat("a", 40)}); err != nil {
			t.Errorf("Provenance after the repository deadline: %v", err)
		}
		done, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := r.Provenance(done, []string{strings.Repeat("a", 40)}); err == nil {
			t.Errorf("Provenance with a cancelled context succeeded")
		}
	})
}

// TestCloneRefusesCrossHostRedirect: a clone URL that redirects to another
// host is refused, and the other host sees no request (no credential leak).
func TestCloneRefusesCrossHostRedirect(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "no", http.StatusNotFound)
	}))
	t.Cleanup(other.Close)
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(redir.Close)
	_, err := Open(context.Background(), redir.URL+"/contoso/repo.git", Config{AllowInsecureHTTP: true, TempDir: t.TempDir()})
	if err == nil {
		t.Fatal("clone through a cross-host redirect succeeded")
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("other host received %d requests", n)
	}
}

func TestSHA256Refused(t *testing.T) {
	t.Parallel()
	b := history.New(t, t.TempDir(), true)
	b.Git("config", "core.repositoryFormatVersion", "1")
	b.Git("config", "extensions.objectFormat", "sha256")
	backends(t, func(t *testing.T, cfg Config) {
		_, err := Open(context.Background(), b.Dir, cfg)
		if err == nil || !strings.Contains(err.Error(), "sha256") {
			t.Errorf("Open = %v, want a sha256 error", err)
		}
	})
}

// TestResultID: the ID a raw diff line gives its path is the last before
// the status, for a plain and a combined (merge) diff; a line of another
// shape has none.
func TestResultID(t *testing.T) {
	a, b, c := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	for _, tc := range []struct{ line, want string }{
		{":100644 100644 " + a + " " + b + " M\tdir/f.txt", b},
		{":000000 100644 " + strings.Repeat("0", 40) + " " + a + " A\tnew file.txt", a},
		{"::100644 100644 100644 " + a + " " + b + " " + c + " MM\tmerged.txt", c},
		{":100644 100644 " + a + " " + b + " R100\told\tnew", b},
		{":100644 100644 " + a + " " + b + " M", ""},         // no path
		{":100644 100644 " + a + " " + b[:39] + " M\tf", ""}, // short ID
		{"not a raw line\tf", ""},
	} {
		if got := string(resultID([]byte(tc.line))); got != tc.want {
			t.Errorf("resultID(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}
