package report

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sasquatch-sec/sasquatch/detect"
)

var _ Sink = (*Markdown)(nil)

// markdownClock is the clock used when Options.Now is zero: time.Now, which
// the package's tests pin so that goldens rendered with a zero Options (the
// TestReplay corpus) do not drift.
var markdownClock = time.Now

// markdownMaxLocations caps the locations listed per finding; the rest are
// counted ("… and N more").
const markdownMaxLocations = 10

// Markdown renders findings as a GitHub-flavoured Markdown document for
// people: a table of counts by severity, then one section per finding
// (highest severity first) with its account, host, kind, scope, permissions
// in words, expiry and remaining lifetime relative to Options.Now, reasons,
// redacted token, up to 10 locations (permalinks when known) and the steps of
// [RemediationSteps].
//
// Every value that comes from the scanned content or the store (paths,
// account, host, resource, reasons, authors, policy names) is written inside
// a code span whose fence is longer than any backtick run in the value, with
// control characters Go-quoted, so it cannot open a link, mention a user or
// team, inject HTML or break out of its line; permalinks are written only
// when they are http(s) URLs, percent-encoded so they cannot end the link
// early. The signature appears only when the finding carries Token or URL
// (reveal). Markdown buffers in Write and renders in Close. Not safe for
// concurrent use.
type Markdown struct {
	w    io.Writer
	opts Options
	buffer
}

// NewMarkdown returns a Markdown sink writing to w.
func NewMarkdown(w io.Writer, opts Options) *Markdown { return &Markdown{w: w, opts: opts} }

// Write buffers f until Close.
func (s *Markdown) Write(ctx context.Context, f Finding) error { return s.add(ctx, f) }

// Close renders the document (a heading and "No findings." when there were
// none). Calling Close twice is an error.
func (s *Markdown) Close() error {
	if err := s.close(); err != nil {
		return err
	}
	now := s.opts.Now
	if now.IsZero() {
		now = markdownClock()
	}
	SortFindings(s.findings)
	bw := bufio.NewWriter(s.w)
	var b strings.Builder
	b.WriteString("# sasquatch findings\n\n")
	if len(s.findings) == 0 {
		b.WriteString("No findings.\n")
	} else {
		writeSeverityTable(&b, s.findings)
		for i, f := range s.findings {
			writeMarkdownFinding(&b, i+1, f, now)
		}
	}
	if _, err := bw.WriteString(b.String()); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	return nil
}

func writeSeverityTable(b *strings.Builder, fs []Finding) {
	counts := map[detect.Severity]int{}
	for _, f := range fs {
		counts[f.Severity]++
	}
	b.WriteString("| Severity | Findings |\n| --- | ---: |\n")
	for sev := detect.Critical; sev >= detect.Info; sev-- {
		fmt.Fprintf(b, "| %s | %d |\n", sev, counts[sev])
		delete(counts, sev)
	}
	// Severities outside the known range (a hand-edited store) still count.
	for sev, n := range counts {
		fmt.Fprintf(b, "| %s | %d |\n", codeSpan(sev.String()), n)
	}
	fmt.Fprintf(b, "| **total** | **%d** |\n", len(fs))
}

func writeMarkdownFinding(b *strings.Builder, n int, f Finding, now time.Time) {
	account := "(unknown account)"
	if f.Account != "" {
		account = codeSpan(f.Account)
	}
	fmt.Fprintf(b, "\n## %d. %s: %s %s\n\n", n, strings.ToUpper(f.Severity.String()), mdWord(kindName(f.Kind)), account)

	item := func(name, value string) {
		if value != "" {
			fmt.Fprintf(b, "- **%s:** %s\n", name, value)
		}
	}
	item("Severity", mdWord(f.Severity.String()))
	item("Kind", mdWord(kindName(f.Kind)))
	item("Account", account)
	host := "(none found near the token)"
	if f.Host != "" {
		host = codeSpan(f.Host)
		if f.Cloud != "" && f.Cloud != "none" {
			host += " (" + mdWord(f.Cloud) + " cloud)"
		}
	}
	item("Host", host)
	var scope []string
	if len(f.Services) > 0 {
		scope = append(scope, "services "+mdWords(f.Services))
	}
	if len(f.ResourceTypes) > 0 {
		scope = append(scope, "resource types "+mdWords(f.ResourceTypes))
	}
	if f.Kind == detect.KindAccount && f.Resource == "" {
		scope = append(scope, "account-wide")
	}
	item("Scope", strings.Join(scope, "; "))
	if f.Resource != "" {
		item("Resource", codeSpan(f.Resource))
	}
	perms := mdWords(f.Permissions)
	if f.SP != "" {
		if perms != "" {
			perms += " "
		}
		perms += "(sp=" + codeSpan(f.SP) + ")"
	}
	if perms == "" && f.Kind != detect.KindAccountKey {
		perms = "unknown"
		if _, ok := storedPolicy(f); ok {
			perms = "unknown (set by a stored access policy)"
		}
	}
	if f.Kind == detect.KindAccountKey {
		perms = "everything: an account key can mint any SAS"
	}
	item("Permissions", perms)
	if f.Start != nil {
		item("Valid from", f.Start.UTC().Format(time.RFC3339))
	}
	item("Expiry", expiryText(f, now))
	if len(f.Reasons) > 0 {
		rs := make([]string, len(f.Reasons))
		for i, r := range f.Reasons {
			rs[i] = codeSpan(r)
		}
		item("Reasons", strings.Join(rs, ", "))
	}
	if f.Liveness != "" {
		item("Liveness", codeSpan(f.Liveness))
	}
	item("Token (redacted)", codeSpan(f.Redacted))
	item("Fingerprint", codeSpan(f.Fingerprint))
	// Only with reveal.
	if f.Token != "" {
		item("Token (revealed)", codeSpan(f.Token))
	}
	if f.URL != "" {
		item("URL (revealed)", codeSpan(f.URL))
	}

	total := len(f.Locations) + f.LocationsTruncated
	fmt.Fprintf(b, "\n### Locations (%d)\n\n", total)
	shown := f.Locations
	if len(shown) > markdownMaxLocations {
		shown = shown[:markdownMaxLocations]
	}
	for _, l := range shown {
		b.WriteString("- " + locationMarkdown(l) + "\n")
	}
	if more := total - len(shown); more > 0 {
		fmt.Fprintf(b, "- … and %d more (use --format jsonl for every location)\n", more)
	}
	if total == 0 {
		b.WriteString("- none recorded\n")
	}

	b.WriteString("\n### Remediation\n\n")
	for i, s := range RemediationSteps(f) {
		fmt.Fprintf(b, "%d. %s\n", i+1, s.Render(codeSpan))
	}
}

// expiryText is the expiry with the remaining (or elapsed) time relative to now.
func expiryText(f Finding, now time.Time) string {
	if f.Expiry == nil {
		switch {
		case f.Kind == detect.KindAccountKey:
			return "never (an account key is valid until it is rotated)"
		case f.Expired:
			return "expired"
		default:
			if _, ok := storedPolicy(f); ok {
				return "none in the token (may be set by the stored access policy)"
			}
			return "none in the token"
		}
	}
	exp := f.Expiry.UTC()
	s := exp.Format(time.RFC3339)
	if d := exp.Sub(now); d > 0 {
		s += " (" + HumanDuration(d) + " left)"
	} else {
		s += " (expired " + HumanDuration(-d) + " ago)"
	}
	return s
}

// humanDuration writes d in its two largest units: "25 years, 40 days",
// "3 days, 4 hours", "2 hours, 5 minutes", "less than a minute". A year is
// 365 days.
func HumanDuration(d time.Duration) string {
	const day = 24 * time.Hour
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return strconv.FormatInt(n, 10) + " " + name + "s"
	}
	pair := func(a int64, an string, b int64, bn string) string {
		if b == 0 {
			return unit(a, an)
		}
		return unit(a, an) + ", " + unit(b, bn)
	}
	switch {
	case d >= 365*day:
		return pair(int64(d/(365*day)), "year", int64(d%(365*day)/day), "day")
	case d >= day:
		return pair(int64(d/day), "day", int64(d%day/time.Hour), "hour")
	case d >= time.Hour:
		return pair(int64(d/time.Hour), "hour", int64(d%time.Hour/time.Minute), "minute")
	case d >= time.Minute:
		return unit(int64(d/time.Minute), "minute")
	default:
		return "less than a minute"
	}
}

// locationMarkdown is one location: a permalink or a code span with
// path:line, then the commit, author, date and repository.
func locationMarkdown(l Location) string {
	var where string
	switch {
	case l.Message:
		where = "commit message"
		if l.Commit != "" {
			where += " of " + codeSpan(shortCommit(l.Commit))
		}
		if l.Line > 0 {
			where += ", line " + strconv.Itoa(l.Line)
		}
	default:
		ref := l.Path
		if ref == "" && l.Blob != "" {
			ref = "blob " + l.Blob
		}
		if l.Line > 0 {
			ref += ":" + strconv.Itoa(l.Line)
		}
		where = codeSpan(ref)
	}
	if u, ok := SafeLinkURL(l.Permalink); ok {
		where = "[" + where + "](" + u + ")"
	}
	var extra []string
	if l.Commit != "" && !l.Message {
		extra = append(extra, "commit "+codeSpan(shortCommit(l.Commit)))
	}
	if l.Author != "" {
		extra = append(extra, "by "+codeSpan(l.Author))
	}
	if l.Date != nil {
		extra = append(extra, "on "+l.Date.UTC().Format(time.DateOnly))
	}
	if l.Repo != "" {
		extra = append(extra, "in "+codeSpan(l.Repo))
	}
	if l.Blob != "" && l.Path != "" {
		extra = append(extra, "blob "+codeSpan(l.Blob))
	}
	if l.AtTip != nil && !*l.AtTip {
		extra = append(extra, "history only (no longer at the tip)")
	}
	if len(extra) == 0 {
		return where
	}
	return where + ", " + strings.Join(extra, ", ")
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// codeSpan returns s as a Markdown code span: verbatim, fenced by one more
// backtick than its longest backtick run, padded with spaces when it starts
// or ends with a backtick or a space but is not all spaces (CommonMark strips
// one space on each side), and Go-quoted when it holds a control character (a newline would
// end the span's paragraph). Inside a code span nothing is a link, a mention,
// an emphasis or HTML.
func codeSpan(s string) string {
	if s == "" {
		return "(empty)"
	}
	if strings.ContainsFunc(s, unicode.IsControl) || strings.ContainsRune(s, '\u2028') || strings.ContainsRune(s, '\u2029') {
		s = strconv.Quote(s)
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if s[0] == '`' || s[len(s)-1] == '`' || (s[0] == ' ' || s[len(s)-1] == ' ') && strings.Trim(s, " ") != "" {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdWord writes a word from sasquatch's own vocabulary (a kind name, a
// permission, a service) as plain text when it is only ASCII letters, digits,
// hyphens and spaces, and as a code span otherwise.
func mdWord(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == ' ') {
			return codeSpan(s)
		}
	}
	if s == "" {
		return codeSpan(s)
	}
	return s
}

// mdWords is mdWord of each, comma-separated.
func mdWords(ws []string) string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = mdWord(w)
	}
	return strings.Join(out, ", ")
}

// SafeLinkURL returns raw as a Markdown link destination when it is an
// absolute http or https URL with a host and no user info, with every
// character that could end the destination or the link early, or be read
// as emphasis (spaces, parentheses, angle brackets, backticks, quotes,
// backslashes, brackets, emphasis marks, controls) percent-encoded. Issue
// bodies use it too.
func SafeLinkURL(raw string) (string, bool) {
	if raw == "" || len(raw) > 4096 {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>`\"'\\[]{}|^*_~!", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), true
}
