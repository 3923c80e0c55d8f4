package report

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTextLocations: locations are capped at 10 lines per finding (then
// how many more and where to find them), consecutive lines of the same file
// and commit are one range, the repository is printed once, history
// locations carry author and date, and a commit message names its commit.
func TestTextLocations(t *testing.T) {
	t.Parallel()
	f := NewFinding(corpus()[0].m, false)
	date := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	no := false
	const commit = "1a2b3c4d5e6f708192a3b4c5d6e7f80910111213"
	for line := 3; line <= 5; line++ {
		f.Locations = append(f.Locations, Location{Path: "conf/app.yaml", Line: line, Column: 7, Commit: commit, Author: "Ada Example <ada@example.invalid>", Date: &date, Repo: "contoso/web", AtTip: &no})
	}
	f.Locations = append(f.Locations, Location{Path: "", Line: 1, Column: 12, Commit: commit, Author: "Ada Example <ada@example.invalid>", Date: &date, Repo: "contoso/web", Message: true})
	for i := range 1500 {
		f.Locations = append(f.Locations, Location{Path: fmt.Sprintf("data/%04d.txt", i), Line: 1, Column: 1, Commit: commit, Repo: "contoso/web"})
	}
	f.LocationsTruncated = 7
	out := string(render(t, "text", Options{}, []Finding{f}))
	golden(t, "locations.text.golden", []byte(out))
	for _, want := range []string{
		"repository:  contoso/web\n",
		"conf/app.yaml:3-5 @ 1a2b3c4d5e6f, by Ada Example <ada@example.invalid>, 2024-03-01 (history only)\n",
		"commit message of 1a2b3c4d5e6f, by Ada Example",
		"… and 1,492 more (use --format jsonl or --all-locations)\n",
		"… and 7 more not kept",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q", want)
		}
	}
	if strings.Count(out, "contoso/web") != 1 {
		t.Errorf("the repository is printed %d times, want once", strings.Count(out, "contoso/web"))
	}
	all := string(render(t, "text", Options{AllLocations: true}, []Finding{f}))
	if n := strings.Count(all, "data/"); n != 1500 {
		t.Errorf("AllLocations lists %d of 1500 locations", n)
	}
	if strings.Contains(all, "--all-locations") {
		t.Error("AllLocations still points at --all-locations")
	}
	// Two repositories: one heading each.
	g := NewFinding(corpus()[0].m, false)
	g.Locations = []Location{{Path: "a.txt", Line: 1, Repo: "contoso/a"}, {Path: "b.txt", Line: 2, Repo: "contoso/b"}, {Path: "local.txt", Line: 3}}
	two := string(render(t, "text", Options{}, []Finding{g}))
	for _, want := range []string{"locations:   local.txt:3\n", "in contoso/a:\n                   a.txt:1\n", "in contoso/b:\n"} {
		if !strings.Contains(two, want) {
			t.Errorf("two repositories: output lacks %q:\n%s", want, two)
		}
	}
}

// TestTextReveal: with reveal the token line holds the token itself, and
// nothing else repeats it.
func TestTextReveal(t *testing.T) {
	t.Parallel()
	m := corpus()[0].m
	f := NewFinding(m, true)
	out := string(render(t, "text", Options{}, []Finding{f}))
	want := f.URL
	if want == "" {
		want = f.Token
	}
	if want == "" || !strings.Contains(out, "token:       "+want+"\n") {
		t.Fatalf("revealed text lacks the token line %q:\n%s", want, out)
	}
	if strings.Contains(out, "sig=REDACTED") || strings.Contains(out, "secret:") || strings.Contains(out, "url:") {
		t.Errorf("revealed text still shows the redacted token or a second copy:\n%s", out)
	}
}

// TestTextRemediation: every finding says how to revoke it.
func TestTextRemediation(t *testing.T) {
	t.Parallel()
	for _, c := range corpus() {
		f := NewFinding(c.m, false)
		out := string(render(t, "text", Options{}, []Finding{f}))
		if !strings.Contains(out, "remediation: 1. ") {
			t.Errorf("%s: no remediation in text:\n%s", f.Kind, out)
		}
		js := string(render(t, "jsonl", Options{}, []Finding{f}))
		if !strings.Contains(js, `"remediation":"1. `) {
			t.Errorf("%s: no remediation in JSONL: %s", f.Kind, js)
		}
	}
}
