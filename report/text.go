package report

import (
	"bufio"
	"context"
	"fmt"
	"io"
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
	p := &textPrinter{w: bw, color: s.opts.Color}
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
	w     io.Writer
	color bool
	err   error
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
	p.field("permissions", perms)
	p.field("valid", validity(f))
	p.field("reasons", strings.Join(f.Reasons, ", "))
	p.field("liveness", f.Liveness)
	p.field("token", f.Redacted)
	p.field("fingerprint", f.Fingerprint)
	for i, l := range f.Locations {
		name := "locations:"
		if i > 0 {
			name = ""
		}
		p.printf("    %-12s %s\n", name, locationText(l))
	}
	if f.LocationsTruncated > 0 {
		name := "locations:"
		if len(f.Locations) > 0 {
			name = ""
		}
		p.printf("    %-12s ... %d more not listed\n", name, f.LocationsTruncated)
	}
	// Only present with reveal.
	p.field("url", f.URL)
	if f.URL == "" {
		p.field("secret", f.Token)
	}
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

func locationText(l Location) string {
	var b strings.Builder
	if l.Message {
		b.WriteString("commit message")
		if l.Path != "" {
			b.WriteString(" " + SafeText(l.Path))
		}
	} else {
		b.WriteString(SafeText(l.Path))
	}
	if l.Line > 0 {
		b.WriteString(":" + strconv.Itoa(l.Line))
		if l.Column > 0 {
			b.WriteString(":" + strconv.Itoa(l.Column))
		}
	}
	if l.Commit != "" {
		c := l.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		b.WriteString(" @ " + c)
	}
	if l.Repo != "" {
		b.WriteString(" in " + SafeText(l.Repo))
	}
	if l.AtTip != nil && !*l.AtTip {
		b.WriteString(" (history only)")
	}
	return b.String()
}
