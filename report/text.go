package report

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fatih/color"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// Text renders findings for people: grouped by severity, highest first, each
// with its kind, account and host, scope, permissions, validity, reasons,
// redacted token, fingerprint and locations (path:line:column, then the short
// commit and the repository for history). With Options.Color the severity and
// headings are coloured with ANSI escapes; without it the output is plain and
// stable (golden-tested). The signature appears only when the finding carries
// Token or URL (reveal). Text buffers in Write and renders in Close. Not safe
// for concurrent use.
type Text struct {
	w    io.Writer
	opts Options
	buffer
}

// NewText returns a Text sink writing to w.
func NewText(w io.Writer, opts Options) *Text { return &Text{w: w, opts: opts} }

// Write buffers f until Close.
func (s *Text) Write(ctx context.Context, f Finding) error { return s.add(ctx, f) }

// Close renders every buffered finding. Nothing is written when there were
// no findings (the caller prints the summary). Calling Close twice is an error.
func (s *Text) Close() error {
	if err := s.close(); err != nil {
		return err
	}
	SortFindings(s.findings)
	bw := bufio.NewWriter(s.w)
	p := &textPrinter{w: bw, color: s.opts.Color, allLocations: s.opts.AllLocations}
	for i := 0; i < len(s.findings); {
		sev := s.findings[i].Severity
		j := i
		for j < len(s.findings) && s.findings[j].Severity == sev {
			j++
		}
		if i > 0 {
			p.printf("\n")
		}
		noun := "findings"
		if j-i == 1 {
			noun = "finding"
		}
		p.printf("%s\n", p.paint(sev, fmt.Sprintf("%s: %d %s", strings.ToUpper(sev.String()), j-i, noun)))
		for _, f := range s.findings[i:j] {
			p.finding(f)
		}
		i = j
	}
	if err := bw.Flush(); err != nil && p.err == nil {
		p.err = err
	}
	if p.err != nil {
		return fmt.Errorf("write text: %w", p.err)
	}
	return nil
}

type textPrinter struct {
	w            io.Writer
	color        bool
	allLocations bool
	err          error
}

func (p *textPrinter) printf(format string, args ...any) {
	if p.err != nil {
		return
	}
	_, p.err = fmt.Fprintf(p.w, format, args...)
}

var severityColors = map[detect.Severity][]color.Attribute{
	detect.Critical: {color.FgHiRed, color.Bold},
	detect.High:     {color.FgRed},
	detect.Medium:   {color.FgYellow},
	detect.Low:      {color.FgCyan},
	detect.Info:     {color.Faint},
}

func (p *textPrinter) paint(sev detect.Severity, s string) string {
	c := color.New(severityColors[sev]...)
	if p.color {
		c.EnableColor()
	} else {
		c.DisableColor()
	}
	return c.Sprint(s)
}

func (p *textPrinter) bold(s string) string {
	c := color.New(color.Bold)
	if p.color {
		c.EnableColor()
	} else {
		c.DisableColor()
	}
	return c.Sprint(s)
}

var kindNames = map[detect.Kind]string{
	detect.KindAccount:        "account SAS",
	detect.KindService:        "service SAS",
	detect.KindUserDelegation: "user delegation SAS",
	detect.KindAccountKey:     "account key",
}

func kindName(k detect.Kind) string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	if k == "" {
		return "credential"
	}
	return string(k)
}

func (p *textPrinter) field(name, value string) {
	if value == "" {
		return
	}
	p.printf("    %-12s %s\n", name+":", SafeText(value))
}

func (p *textPrinter) finding(f Finding) {
	account := f.Account
	if account == "" {
		account = "(unknown account)"
	}
	p.printf("\n  %s %s %s\n", p.paint(f.Severity, "["+f.Severity.String()+"]"), kindName(f.Kind), p.bold(account))
	host := f.Host
	if host != "" && f.Cloud != "" && f.Cloud != "none" {
		host += " (" + f.Cloud + ")"
	} else if host == "" {
		host = "(none found near the token)"
	}
	p.field("host", host)
	var scope []string
	if len(f.Services) > 0 {
		scope = append(scope, "services "+strings.Join(f.Services, ", "))
	}
	if len(f.ResourceTypes) > 0 {
		scope = append(scope, "resource types "+strings.Join(f.ResourceTypes, ", "))
	}
	p.field("scope", strings.Join(scope, "; "))
	p.field("resource", f.Resource)
	perms := strings.Join(f.Permissions, ", ")
	if f.SP != "" {
		if perms != "" {
			perms += " "
		}
		perms += "(sp=" + f.SP + ")"
	}
	if perms == "" && f.Kind != detect.KindAccountKey {
		perms = "unknown (no sp)" // never read-only: nothing says what it grants
	}
	p.field("permissions", perms)
	p.field("valid", validity(f))
	p.field("reasons", strings.Join(f.Reasons, ", "))
	p.field("liveness", f.Liveness)
	// With --reveal the token line shows the token itself (the URL when
	// there was one), in place of its redacted form.
	token := f.Redacted
	switch {
	case f.URL != "":
		token = f.URL
	case f.Token != "":
		token = f.Token
	}
	p.field("token", token)
	p.field("fingerprint", f.Fingerprint)
	p.locations(f, p.allLocations)
	p.remediation(f)
}

// textMaxLocations is the number of location lines printed per finding
// unless Options.AllLocations is set.
const textMaxLocations = 10

// locations prints f's locations: the repository once (a "repository:"
// line when every location is in the same one, else one "in REPO:" heading
// per repository), consecutive lines of the same file and commit as one
// range, at most textMaxLocations lines unless all, then how many more there
// are and where to find them.
func (p *textPrinter) locations(f Finding, all bool) {
	groups := groupLocations(f.Locations)
	single := len(groups) == 1 && groups[0].repo != ""
	if single {
		p.field("repository", groups[0].repo)
	}
	first := true
	line := func(indent, s string) {
		name := ""
		if first {
			name = "locations:"
			first = false
		}
		p.printf("    %-12s %s%s\n", name, indent, s)
	}
	shown, hidden := 0, 0
	for _, g := range groups {
		indent := ""
		if !single && g.repo != "" {
			if !all && shown >= textMaxLocations {
				for _, r := range g.ranges {
					hidden += r.n
				}
				continue
			}
			line("", "in "+SafeText(g.repo)+":")
			indent = "  "
		}
		for _, r := range g.ranges {
			if !all && shown >= textMaxLocations {
				hidden += r.n
				continue
			}
			line(indent, r.text())
			shown++
		}
	}
	if hidden > 0 {
		line("", fmt.Sprintf("… and %s more (use --format jsonl or --all-locations)", thousands(hidden)))
	}
	if f.LocationsTruncated > 0 {
		line("", fmt.Sprintf("… and %s more not kept (over the cap of locations per finding)", thousands(f.LocationsTruncated)))
	}
}

// remediation prints the numbered steps of [Remediation], wrapped.
func (p *textPrinter) remediation(f Finding) {
	text := f.Remediation
	if text == "" {
		text = Remediation(f)
	}
	for i, step := range strings.Split(text, "\n") {
		name := ""
		if i == 0 {
			name = "remediation:"
		}
		num, rest, _ := strings.Cut(step, " ")
		for j, l := range wrap(SafeText(rest), textWrap-len(num)-1) {
			if j == 0 {
				p.printf("    %-12s %s %s\n", name, num, l)
			} else {
				p.printf("    %-12s %s %s\n", "", strings.Repeat(" ", len(num)), l)
			}
		}
	}
}

// textWrap is the width remediation steps are wrapped to, after the
// 17-column field indent.
const textWrap = 84

// wrap splits s into lines of at most width bytes at spaces (a longer word
// stays whole on its own line).
func wrap(s string, width int) []string {
	var lines []string
	var cur strings.Builder
	for _, w := range strings.Fields(s) {
		if cur.Len() > 0 && cur.Len()+1+len(w) > width {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(w)
	}
	if cur.Len() > 0 || len(lines) == 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// thousands formats n with comma separators (1,490).
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// locGroup is the locations of one repository ("" for files outside any).
type locGroup struct {
	repo   string
	ranges []locRange
}

// locRange is one printed location line: one location, or consecutive
// lines of the same file, commit, author and date.
type locRange struct {
	first    Location
	lastLine int
	n        int // locations merged into it
}

func (r locRange) text() string {
	l := r.first
	var b strings.Builder
	if l.Message {
		b.WriteString("commit message")
		if l.Commit != "" {
			b.WriteString(" of " + shortCommit(l.Commit))
		}
		if l.Path != "" {
			b.WriteString(" (" + SafeText(l.Path) + ")")
		}
		if l.Line > 1 || r.lastLine > l.Line {
			b.WriteString(", line " + strconv.Itoa(l.Line))
			if r.lastLine > l.Line {
				b.WriteString("-" + strconv.Itoa(r.lastLine))
			}
		}
	} else {
		path := SafeText(l.Path)
		if path == "" && l.Blob != "" {
			path = "blob " + shortCommit(l.Blob)
		}
		b.WriteString(path)
		if l.Line > 0 {
			b.WriteString(":" + strconv.Itoa(l.Line))
			switch {
			case r.lastLine > l.Line:
				b.WriteString("-" + strconv.Itoa(r.lastLine))
			case l.Column > 0:
				b.WriteString(":" + strconv.Itoa(l.Column))
			}
		}
		if l.Commit != "" {
			b.WriteString(" @ " + shortCommit(l.Commit))
		}
	}
	if l.Author != "" || l.Date != nil {
		var who []string
		if l.Author != "" {
			who = append(who, "by "+SafeText(l.Author))
		}
		if l.Date != nil {
			who = append(who, l.Date.UTC().Format("2006-01-02"))
		}
		b.WriteString(", " + strings.Join(who, ", "))
	}
	if l.AtTip != nil && !*l.AtTip && !l.Message {
		b.WriteString(" (history only)")
	}
	return b.String()
}

// groupLocations groups locs by repository (files outside a repository
// first), orders each group by path, commit and line, and merges
// consecutive lines of the same file and commit into ranges.
func groupLocations(locs []Location) []locGroup {
	sorted := slices.Clone(locs)
	slices.SortStableFunc(sorted, func(a, b Location) int {
		return cmp.Or(
			cmp.Compare(a.Repo, b.Repo),
			compareBool(b.Message, a.Message), // messages first: never hidden behind files
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Commit, b.Commit),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
		)
	})
	var groups []locGroup
	for _, l := range sorted {
		if len(groups) == 0 || groups[len(groups)-1].repo != l.Repo {
			groups = append(groups, locGroup{repo: l.Repo})
		}
		g := &groups[len(groups)-1]
		if n := len(g.ranges); n > 0 && mergeable(g.ranges[n-1], l) {
			r := &g.ranges[n-1]
			r.lastLine = l.Line
			r.n++
			continue
		}
		g.ranges = append(g.ranges, locRange{first: l, lastLine: l.Line, n: 1})
	}
	return groups
}

// mergeable reports whether l continues r: the same file (or message) of
// the same commit, by the same author on the same date, on the next line.
func mergeable(r locRange, l Location) bool {
	f := r.first
	if l.Line != r.lastLine+1 || f.Line <= 0 || f.Path != l.Path || f.Commit != l.Commit ||
		f.Message != l.Message || f.Author != l.Author || f.Blob != l.Blob || f.Permalink != "" && l.Permalink == "" {
		return false
	}
	if (f.Date == nil) != (l.Date == nil) || f.Date != nil && !f.Date.Equal(*l.Date) {
		return false
	}
	if (f.AtTip == nil) != (l.AtTip == nil) || f.AtTip != nil && *f.AtTip != *l.AtTip {
		return false
	}
	return true
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func validity(f Finding) string {
	var b strings.Builder
	if f.Start != nil {
		b.WriteString("from " + f.Start.UTC().Format(time.RFC3339) + " ")
	}
	if f.Expiry != nil {
		b.WriteString("until " + f.Expiry.UTC().Format(time.RFC3339))
	} else if f.Kind != detect.KindAccountKey {
		b.WriteString("no expiry in the token")
	}
	if f.Expired {
		b.WriteString(" (expired)")
	}
	return strings.TrimSpace(b.String())
}
