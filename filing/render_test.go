package filing

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/internal/store"
	"github.com/sasquatch-sec/sasquatch/report"
)

var showBody = flag.Bool("show-body", false, "print an example issue body (for the README)")

// exampleFinding is a synthetic finding with its locations in o/app.
func exampleFinding(paths ...string) (report.Finding, []report.Location) {
	e := &env{}
	m := e.tokenOnly("contosodata", detect.High)
	f := report.NewFinding(m, false)
	r := store.Repo{ID: 42, FullName: "contoso/app"}
	for i, p := range paths {
		f.Locations = append(f.Locations, loc(r, p, i+3))
	}
	return f, f.Locations
}

// codeSpans splits a Markdown line into its code spans and the text outside
// them, by CommonMark's rule: a run of n backticks opens a span that the
// next run of exactly n backticks closes; an unmatched run is literal.
func codeSpans(line string) (outside string, spans []string) {
	var out strings.Builder
	i := 0
	for i < len(line) {
		if line[i] != '`' {
			out.WriteByte(line[i])
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		closeAt := -1
		for j := i + n; j < len(line); {
			if line[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(line) && line[j+m] == '`' {
				m++
			}
			if m == n {
				closeAt = j
				break
			}
			j += m
		}
		if closeAt < 0 {
			out.WriteString(line[i : i+n])
			i += n
			continue
		}
		spans = append(spans, line[i+n:closeAt])
		i = closeAt + n
	}
	return out.String(), spans
}

// TestHostilePathInCodeSpan is issue 12 "must be true" 3: a path with
// backticks, a mention, a link, HTML and a newline can neither mention,
// link nor inject: outside code spans the body holds none of it, and the
// path is inside one code span on one line.
func TestHostilePathInCodeSpan(t *testing.T) {
	t.Parallel()
	hostile := "dir/``a`b @acme/security-team [x](http://evil.example) <img src=x onerror=alert(1)>\n## injected heading\r\n@everyone.txt"
	f, locs := exampleFinding(hostile)
	f.Account = "acct`` @ceo [y](http://evil2.example)"
	f.Reasons = append(f.Reasons, "<script>alert(1)</script>", "@team")
	for name, body := range map[string]string{
		"issue":   Body(f, BodyInput{Repo: "contoso/app", RepoID: 42, Locations: locs, Now: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}),
		"tracker": Body(f, BodyInput{Repo: "contoso/app", RepoID: 42, Locations: locs, Now: time.Now(), Tracker: true}),
		"comment": CommentBody(f, BodyInput{Repo: "contoso/app", RepoID: 42, Locations: locs, Now: time.Now()}),
	} {
		t.Run(name, func(t *testing.T) {
			var outside strings.Builder
			pathLines := 0
			for line := range strings.SplitSeq(body, "\n") {
				if strings.HasPrefix(line, "<!-- sasquatch:") {
					continue // the marker comment: sasquatch's own text
				}
				o, spans := codeSpans(line)
				// Link destinations written by sasquatch (permalinks) are
				// checked apart: drop "([permalink](...))".
				if i := strings.Index(o, "([permalink]("); i >= 0 {
					if !strings.HasPrefix(o[i:], "([permalink](https://github.invalid/") {
						t.Errorf("permalink not from the finding: %q", o[i:])
					}
					o = o[:i]
				}
				outside.WriteString(o + "\n")
				for _, s := range spans {
					if strings.Contains(s, "@acme/security-team") {
						pathLines++
						if !strings.Contains(s, "[x](http://evil.example)") || !strings.Contains(s, "<img") {
							t.Errorf("the path is split across spans: %q", s)
						}
					}
				}
			}
			if pathLines != 1 {
				t.Errorf("the hostile path is in %d code spans, want exactly 1:\n%s", pathLines, body)
			}
			for _, bad := range []string{"@acme", "@everyone", "@ceo", "@team", "](http://evil", "<img", "<script", "## injected", "\r"} {
				if strings.Contains(outside.String(), bad) {
					t.Errorf("%q outside code spans:\n%s", bad, outside.String())
				}
			}
			title := Title(f, "contoso/app", true)
			if strings.ContainsAny(title, "@[]<>`\n") {
				t.Errorf("title %q holds markup", title)
			}
		})
	}
}

// TestBodyCut: a token in thousands of places with long paths gives a body
// under 60,000 characters that keeps the remediation and the marker and
// points to sasquatch report for the rest.
func TestBodyCut(t *testing.T) {
	t.Parallel()
	var paths []string
	for i := range 3000 {
		paths = append(paths, fmt.Sprintf("%s/é-file-%05d.txt", strings.Repeat("dîr", 30), i))
	}
	f, locs := exampleFinding(paths...)
	body := Body(f, BodyInput{Repo: "contoso/app", RepoID: 42, Locations: locs, Now: time.Now()})
	if n := utf8.RuneCountInString(body); n >= MaxBody {
		t.Errorf("body has %d characters, want < %d", n, MaxBody)
	}
	for _, want := range []string{"more: run `sasquatch report`", "### What to do", Marker(f.Fingerprint, 42), "sasquatch:state="} {
		if !strings.Contains(body, want) {
			t.Errorf("cut body lacks %q", want)
		}
	}
	comment := CommentBody(f, BodyInput{Repo: "contoso/app", RepoID: 42, Locations: locs, Now: time.Now()})
	if n := utf8.RuneCountInString(comment); n >= MaxBody {
		t.Errorf("comment has %d characters", n)
	}
}

// TestCheckNoSecret: the last check refuses a text holding the signature in
// any form or any 16-character piece of it.
func TestCheckNoSecret(t *testing.T) {
	t.Parallel()
	e := &env{}
	m := e.tokenOnly("contosodata", detect.High)
	f := report.NewFinding(m, false)
	sig := e.sigs[0]
	for _, text := range []string{sig, "x" + sig[5:21] + "y", strings.ReplaceAll(strings.ReplaceAll(sig, "+", "%2B"), "/", "%2F"), "a\n" + sig[20:36]} {
		if checkNoSecret(f, "fine", text) == nil {
			t.Errorf("checkNoSecret accepted %q", text)
		}
	}
	if err := checkNoSecret(f, Body(f, BodyInput{Repo: "o/r", RepoID: 1, Now: time.Now()}), Title(f, "o/r", false)); err != nil {
		t.Errorf("a normal body was refused: %v", err)
	}
}

// TestShowBody prints an example body with -show-body (README material).
func TestShowBody(t *testing.T) {
	if !*showBody {
		t.Skip("-show-body not set")
	}
	f, locs := exampleFinding("deploy/settings.json", "scripts/upload.sh")
	fmt.Println(Title(f, "contoso/app", false))
	fmt.Println(Body(f, BodyInput{Repo: "contoso/app", RepoID: 42, Locations: locs, Now: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}))
}
