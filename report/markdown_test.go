package report

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// realMarkdownClock is the production clock, saved before init pins it.
var realMarkdownClock = markdownClock

// init pins the Markdown sink's default clock for every test of the package:
// TestReplay renders its goldens with a zero Options.Now, and a remaining
// lifetime computed from the wall clock would change every hour.
func init() { markdownClock = func() time.Time { return replayNow } }

// parseCodeSpan reads one CommonMark code span at the start of s and returns
// its content and the rest of s (ok false when s does not start with one).
func parseCodeSpan(s string) (content, rest string, ok bool) {
	n := 0
	for n < len(s) && s[n] == '`' {
		n++
	}
	if n == 0 {
		return "", s, false
	}
	for i := n; i < len(s); {
		if s[i] != '`' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '`' {
			j++
		}
		if j-i == n {
			c := s[n:i]
			if len(c) >= 2 && c[0] == ' ' && c[len(c)-1] == ' ' && strings.Trim(c, " ") != "" {
				c = c[1 : len(c)-1]
			}
			return c, s[j:], true
		}
		i = j
	}
	return "", s, false
}

// stripCodeSpans removes every code span from a Markdown line, leaving the
// text a renderer would treat as Markdown.
func stripCodeSpans(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] == '`' {
			if _, rest, ok := parseCodeSpan(line[i:]); ok {
				b.WriteString("CODE")
				i = len(line) - len(rest)
				continue
			}
			// An unmatched run of backticks is literal text.
			for i < len(line) && line[i] == '`' {
				b.WriteByte('`')
				i++
			}
			continue
		}
		b.WriteByte(line[i])
		i++
	}
	return b.String()
}

func TestCodeSpan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"a.md", "`a.md`"},
		{"a`b", "``a`b``"},
		{"docs/`weird``name`.md", "```docs/`weird``name`.md```"},
		{"`x", "`` `x ``"},
		{"x`", "`` x` ``"},
		{" padded ", "`  padded  `"},
		{"a\nb", "`\"a\\nb\"`"},
		{"", "(empty)"},
		{"@team <b>[x](y)</b>", "`@team <b>[x](y)</b>`"},
	} {
		if got := codeSpan(tc.in); got != tc.want {
			t.Errorf("codeSpan(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzCodeSpan: a code span always reads back as the value (Go-quoted when
// it has control characters) and nothing of it leaks outside the span.
func FuzzCodeSpan(f *testing.F) {
	for _, s := range []string{"a", "`", "``", "a`b``c", " ` ", "@x <script>", "line\nbreak", "  ", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return
		}
		span := codeSpan(s)
		want := s
		if strings.ContainsFunc(s, unicode.IsControl) || strings.ContainsAny(s, "\u2028\u2029") {
			want = strconv.Quote(s)
		}
		got, rest, ok := parseCodeSpan(span)
		if !ok || rest != "" || got != want {
			t.Fatalf("codeSpan(%q) = %q reads back as %q (rest %q, ok %v)", s, span, got, rest, ok)
		}
		if strings.ContainsAny(span, "\n\r") {
			t.Fatalf("codeSpan(%q) = %q has a line break", s, span)
		}
	})
}

var (
	mdMention = regexp.MustCompile(`(^|[^A-Za-z0-9])@[A-Za-z0-9]`)
	mdLink    = regexp.MustCompile(`\]\(([^)]*)\)`)
)

// TestMarkdownHostilePaths: outside code spans, the document has no HTML, no
// @mention and no link but permalinks to GitHub.
func TestMarkdownHostilePaths(t *testing.T) {
	t.Parallel()
	out := string(render(t, "markdown", replayOptions, replayFindings(t)))
	for i, line := range strings.Split(out, "\n") {
		plain := stripCodeSpans(line)
		for _, m := range mdLink.FindAllStringSubmatch(plain, -1) {
			if !strings.HasPrefix(m[1], "https://github.com/contoso-org/") {
				t.Errorf("line %d links to %q: %q", i+1, m[1], line)
			}
		}
		// A link destination is not text: no mention or HTML there.
		plain = mdLink.ReplaceAllString(plain, "](LINK)")
		if strings.ContainsAny(plain, "<>") {
			t.Errorf("line %d has HTML outside code spans: %q", i+1, line)
		}
		if mdMention.MatchString(plain) {
			t.Errorf("line %d has an @mention outside code spans: %q", i+1, line)
		}
		if strings.Contains(plain, "javascript:") || strings.Contains(plain, "evil.example)") {
			t.Errorf("line %d: %q", i+1, line)
		}
	}
	for _, want := range []string{
		"```docs/`weird``name`.md:8```",
		"`app/<script>alert(1)</script>/@contoso/security-team [x](https://evil.example)/settings.yaml:5`",
		"`weekly @ops-team`",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s", want)
		}
	}
}

func TestMarkdownLocationCap(t *testing.T) {
	t.Parallel()
	f := Finding{Fingerprint: "ff", Severity: detect.High, Kind: detect.KindAccount, Account: "contosocap1", Redacted: "sig=REDACTED", LocationsTruncated: 2}
	for i := range 15 {
		f.Locations = append(f.Locations, Location{Path: fmt.Sprintf("f%02d.txt", i), Line: i + 1})
	}
	out := string(render(t, "markdown", replayOptions, []Finding{f}))
	if !strings.Contains(out, "`f09.txt:10`") || strings.Contains(out, "f10.txt") {
		t.Errorf("not capped at 10 locations:\n%s", out)
	}
	if !strings.Contains(out, "- … and 7 more") || !strings.Contains(out, "### Locations (17)") {
		t.Errorf("no count of the rest:\n%s", out)
	}
}

func TestMarkdownClock(t *testing.T) {
	t.Parallel()
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f := Finding{Kind: detect.KindService, Severity: detect.Medium, Expiry: &exp, Redacted: "sig=REDACTED"}
	out := string(render(t, "markdown", Options{Now: time.Date(2029, 12, 29, 22, 0, 0, 0, time.UTC)}, []Finding{f}))
	if !strings.Contains(out, "2030-01-01T00:00:00Z (2 days, 2 hours left)") {
		t.Errorf("remaining lifetime not relative to Options.Now:\n%s", out)
	}
	out = string(render(t, "markdown", Options{Now: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)}, []Finding{f}))
	if !strings.Contains(out, "(expired 1 year ago)") {
		t.Errorf("elapsed time not relative to Options.Now:\n%s", out)
	}
	// A zero Options.Now means the default clock: time.Now in production,
	// pinned to replayNow in this package's tests.
	// The default is time.Now itself: compared as functions, without
	// reading the clock.
	if reflect.ValueOf(realMarkdownClock).Pointer() != reflect.ValueOf(time.Now).Pointer() {
		t.Error("the default Markdown clock is not time.Now")
	}
	zero := render(t, "markdown", Options{}, []Finding{f})
	pinned := render(t, "markdown", Options{Now: replayNow}, []Finding{f})
	if string(zero) != string(pinned) {
		t.Errorf("zero Options.Now does not use the default clock:\n%s\n%s", zero, pinned)
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, "less than a minute"},
		{time.Minute, "1 minute"},
		{90 * time.Minute, "1 hour, 30 minutes"},
		{2 * time.Hour, "2 hours"},
		{day + time.Hour, "1 day, 1 hour"},
		{365 * day, "1 year"},
		{(25*365 + 41) * day, "25 years, 41 days"},
	} {
		if got := HumanDuration(tc.d); got != tc.want {
			t.Errorf("HumanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestMarkdownEmpty(t *testing.T) {
	t.Parallel()
	if got := string(render(t, "markdown", replayOptions, nil)); got != "# sasquatch findings\n\nNo findings.\n" {
		t.Errorf("empty markdown = %q", got)
	}
}

func TestSafeLinkURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"https://github.com/o/r/blob/c/a.md#L1", "https://github.com/o/r/blob/c/a.md#L1", true},
		{"https://github.com/o/r/blob/c/a b)(<x>`.md#L1", "https://github.com/o/r/blob/c/a%20b%29%28%3Cx%3E%60.md#L1", true},
		{"javascript:alert(1)", "", false},
		{"//evil.example/x", "", false},
		{"https://user:pw@github.com/x", "", false},
		{"", "", false},
	} {
		got, ok := SafeLinkURL(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("SafeLinkURL(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
