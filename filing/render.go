package filing

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/report"
)

// MaxBody is the most characters (runes) an issue body or comment has;
// GitHub's limit is 65,536.
const MaxBody = 60000

// Value caps: a hostile value cannot crowd out the rest of the body.
const (
	maxValue   = 512  // an account, a host, a reason, the redacted token
	maxPath    = 1024 // a path
	maxReasons = 32
	maxTitle   = 240 // GitHub's limit is 256
)

// BodyInput is what an issue body says besides the finding.
type BodyInput struct {
	Repo      string // the affected repository, OWNER/NAME
	RepoID    int64
	Locations []report.Location // the finding's locations in Repo
	Now       time.Time         // for remaining lifetimes
	Tracker   bool              // the issue is in the tracker, not in Repo
}

// kindName is a kind in words.
func kindName(k detect.Kind) string {
	switch k {
	case detect.KindAccount:
		return "account SAS"
	case detect.KindService:
		return "service SAS"
	case detect.KindUserDelegation:
		return "user delegation SAS"
	case detect.KindAccountKey:
		return "account key"
	}
	return "credential"
}

// titleSafe keeps letters, digits and . _ - / of s (a repository or account
// name): a title is shown in lists and notifications, so it holds nothing
// that could be read as markup or a mention.
func titleSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' || r == '/' {
			return r
		}
		return '_'
	}, s)
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// Title is the issue title: severity, kind and account; in a tracker it
// also names the affected repository.
func Title(f report.Finding, repo string, tracker bool) string {
	t := "Leaked Azure Storage " + kindName(f.Kind) + " (" + f.Severity.String() + ")"
	if f.Account != "" {
		t += ": storage account " + titleSafe(f.Account)
	}
	if tracker {
		t += " in " + titleSafe(repo)
	}
	if len(t) > maxTitle {
		t = t[:maxTitle]
	}
	return t
}

// cut shortens s to n runes, marking the cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// span is report.CodeSpan of s cut to n runes and scrubbed of anything that
// looks like a signature (a path can be a wget file name holding one).
func span(s string, n int) string {
	return report.CodeSpan(cut(report.Scrub(s), n))
}

// word writes a word of sasquatch's own vocabulary (a permission, a
// service) as text when it is plain, else as a code span.
func word(s string) string {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == ' ')
	}) {
		return span(s, maxValue)
	}
	return s
}

func words(ws []string) string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = word(w)
	}
	return strings.Join(out, ", ")
}

// facts writes the finding's description lines.
func facts(b *strings.Builder, f report.Finding, now time.Time) {
	item := func(name, value string) {
		if value != "" {
			fmt.Fprintf(b, "- **%s:** %s\n", name, value)
		}
	}
	sev := strings.ToUpper(f.Severity.String())
	if len(f.Reasons) > 0 {
		rs := f.Reasons
		if len(rs) > maxReasons {
			rs = rs[:maxReasons]
		}
		parts := make([]string, len(rs))
		for i, r := range rs {
			parts[i] = span(r, maxValue)
		}
		sev += ", because: " + strings.Join(parts, ", ")
	}
	item("Severity", sev)
	item("Kind", kindName(f.Kind))
	acct := "unknown"
	if f.Account != "" {
		acct = span(f.Account, maxValue)
	}
	item("Storage account", acct)
	host := "none found near the token"
	if f.Host != "" {
		host = span(f.Host, maxValue)
		if f.Cloud != "" && f.Cloud != "none" {
			host += " (" + word(f.Cloud) + " cloud)"
		}
	}
	item("Host", host)
	var scope []string
	if len(f.Services) > 0 {
		scope = append(scope, "services "+words(f.Services))
	}
	if len(f.ResourceTypes) > 0 {
		scope = append(scope, "resource types "+words(f.ResourceTypes))
	}
	if f.Resource != "" {
		scope = append(scope, "resource "+span(f.Resource, maxValue))
	} else if f.Kind == detect.KindAccount {
		scope = append(scope, "account-wide")
	}
	item("Scope", strings.Join(scope, "; "))
	perms := words(f.Permissions)
	switch {
	case f.Kind == detect.KindAccountKey:
		perms = "everything: an account key can mint any SAS"
	case perms == "":
		perms = "unknown (none in the token; a stored access policy may set them)"
	}
	if f.SP != "" && f.Kind != detect.KindAccountKey {
		perms += " (sp=" + span(f.SP, 64) + ")"
	}
	item("Permissions", perms)
	if f.Start != nil {
		item("Valid from", f.Start.UTC().Format(time.RFC3339))
	}
	switch {
	case f.Expiry != nil:
		exp := f.Expiry.UTC().Format(time.RFC3339)
		if d := f.Expiry.Sub(now); d > 0 {
			exp += " (" + report.HumanDuration(d) + " left)"
		} else {
			exp += " (expired " + report.HumanDuration(-d) + " ago)"
		}
		item("Expiry", exp)
		if f.Start != nil && f.Expiry.After(*f.Start) {
			item("Lifetime", report.HumanDuration(f.Expiry.Sub(*f.Start))+" from start to expiry")
		} else {
			item("Lifetime", "unknown (no start time in the token)")
		}
	case f.Kind == detect.KindAccountKey:
		item("Expiry", "never: an account key is valid until it is rotated")
	case f.Expired:
		item("Expiry", "expired")
	default:
		item("Expiry", "none in the token (a stored access policy may set one)")
	}
	live := "not checked (sasquatch verify checks it)"
	if f.Liveness != "" {
		live = span(f.Liveness, 64)
	}
	item("Liveness", live)
	item("Token, redacted", span(f.Redacted, maxValue))
	item("Fingerprint", span(f.Fingerprint, 64))
}

// locationLine is one location: path (in a code span), line, commit,
// permalink.
func locationLine(l report.Location) string {
	var parts []string
	switch {
	case l.Message:
		parts = append(parts, "a commit message")
	case l.Path != "":
		parts = append(parts, span(l.Path, maxPath))
	case l.Blob != "":
		parts = append(parts, "blob "+span(l.Blob, 64))
	default:
		parts = append(parts, "unknown path")
	}
	if l.Line > 0 {
		parts = append(parts, "line "+strconv.Itoa(l.Line))
	}
	if l.Commit != "" {
		parts = append(parts, "commit "+span(l.Commit, 64))
	}
	if l.Date != nil {
		parts = append(parts, l.Date.UTC().Format(time.DateOnly))
	}
	if l.AtTip != nil && !*l.AtTip {
		parts = append(parts, "history only (no longer at the tip: still in the repository's history)")
	}
	s := "- " + strings.Join(parts, ", ")
	if u, ok := report.SafeLinkURL(l.Permalink); ok {
		s += " ([permalink](" + u + "))"
	}
	return s
}

// footer is the end of every body and comment: the visible fingerprint and
// the marker (also as an HTML comment) and the state line.
func footer(f report.Finding, in BodyInput) string {
	m := Marker(f.Fingerprint, in.RepoID)
	return "\n---\nsasquatch fingerprint: " + f.Fingerprint + " (`sasquatch report` shows every detail; `sasquatch triage` accepts a finding)\n\n" +
		"<!-- " + m + " -->\n" + m + "\n" + stateLinePrefix + StateHash(in.Locations, f.Liveness) + "\n"
}

// locationsSection writes the locations that fit in budget runes, then how
// many were left out.
func locationsSection(b *strings.Builder, f report.Finding, in BodyInput, budget int) {
	total := len(in.Locations)
	fmt.Fprintf(b, "\n### Where (%d %s in %s)\n\n", total, plural(total, "location", "locations"), span(in.Repo, maxValue))
	used := 0
	shown := 0
	for _, l := range in.Locations {
		line := locationLine(l) + "\n"
		n := utf8.RuneCountInString(line)
		if used+n > budget {
			break
		}
		b.WriteString(line)
		used += n
		shown++
	}
	if more := total - shown; more > 0 {
		fmt.Fprintf(b, "- … and %d more: run `sasquatch report` on the store for every location of fingerprint %s\n", more, f.Fingerprint)
	}
	if total == 0 {
		b.WriteString("- none recorded\n")
	}
	if f.LocationsTruncated > 0 {
		fmt.Fprintf(b, "\n%d more occurrences (in all repositories) were counted but not kept.\n", f.LocationsTruncated)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// remediation is the numbered steps of report.RemediationSteps, values in
// code spans (report.Remediation's text, Markdown-safe).
func remediation(f report.Finding) string {
	var b strings.Builder
	b.WriteString("\n### What to do\n\n")
	for i, s := range report.RemediationSteps(f) {
		fmt.Fprintf(&b, "%d. %s\n", i+1, s.Render(func(v string) string { return span(v, maxValue) }))
	}
	return b.String()
}

// Body is the issue (or private report) body of f for one repository.
func Body(f report.Finding, in BodyInput) string {
	var head strings.Builder
	head.WriteString("## Leaked Azure Storage " + kindName(f.Kind) + "\n\n")
	if in.Tracker {
		fmt.Fprintf(&head, "sasquatch found an Azure Storage %s in the repository %s (ID %d). "+
			"It is filed here, in a private tracker, because an issue in that repository would be public and would advertise the token.\n\n",
			kindName(f.Kind), span(in.Repo, maxValue), in.RepoID)
	} else {
		fmt.Fprintf(&head, "sasquatch found an Azure Storage %s in this repository. Anyone who can read the repository can use it until it is revoked.\n\n", kindName(f.Kind))
	}
	head.WriteString("This issue does not contain the token: only what it grants, where it is and how to revoke it. " +
		"Removing it from the files is not enough: it stays in the history and in every clone.\n\n")
	facts(&head, f, in.Now)
	rem := remediation(f)
	foot := footer(f, in)
	budget := MaxBody - utf8.RuneCountInString(head.String()) - utf8.RuneCountInString(rem) - utf8.RuneCountInString(foot) - 1000
	var locs strings.Builder
	locationsSection(&locs, f, in, max(budget, 0))
	return head.String() + locs.String() + rem + foot
}

// CommentBody is the comment posted on a filed issue when the locations or
// the liveness of its token changed.
func CommentBody(f report.Finding, in BodyInput) string {
	var head strings.Builder
	fmt.Fprintf(&head, "sasquatch: the locations or the liveness of this token changed (as of %s).\n\n", in.Now.UTC().Format(time.RFC3339))
	live := "not checked"
	if f.Liveness != "" {
		live = span(f.Liveness, 64)
	}
	fmt.Fprintf(&head, "- **Liveness:** %s\n", live)
	foot := footer(f, in)
	budget := MaxBody - utf8.RuneCountInString(head.String()) - utf8.RuneCountInString(foot) - 1000
	var locs strings.Builder
	locationsSection(&locs, f, in, max(budget, 0))
	return head.String() + locs.String() + foot
}

const stateLinePrefix = "sasquatch:state="

// StateHash is a hash of what an issue says that can change: the
// repository's locations of the token (repository, path, line, commit,
// message or file, at the tip or history only) and its liveness.
func StateHash(locs []report.Location, liveness string) string {
	lines := make([]string, 0, len(locs)+1)
	for _, l := range locs {
		tip := "?"
		if l.AtTip != nil {
			tip = strconv.FormatBool(*l.AtTip)
		}
		lines = append(lines, strings.Join([]string{l.Repo, l.Path, strconv.Itoa(l.Line), l.Commit,
			strconv.FormatBool(l.Message), l.Blob, tip}, "\x00"))
	}
	slices.Sort(lines)
	lines = append(lines, "liveness\x00"+liveness)
	h := sha256.New()
	for _, s := range lines {
		h.Write([]byte(strconv.Itoa(len(s)) + ":" + s))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// stateOf returns the last state hash in a body, or "".
func stateOf(body string) string {
	last := ""
	for line := range strings.SplitSeq(body, "\n") {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), stateLinePrefix); ok {
			last = s
		}
	}
	return last
}

// hasLine reports whether body has a line that is exactly line (spaces
// around it aside).
func hasLine(body, line string) bool {
	for l := range strings.SplitSeq(body, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

// errSecret is returned when a text to send would hold the token.
var errSecret = errors.New("refused: the text would contain the token's signature")

// checkNoSecret is the last check before a write: no text may hold the
// signature of f, raw, percent-encoded (once or twice), base64url, or any
// 16-character piece of it. It reads f.Credential and nothing else does.
func checkNoSecret(f report.Finding, texts ...string) error {
	sig := f.Credential.Signature.Reveal()
	if sig == "" {
		return nil
	}
	forms := []string{sig, url.QueryEscape(sig), url.QueryEscape(url.QueryEscape(sig)), url.PathEscape(sig),
		strings.NewReplacer("+", "-", "/", "_").Replace(sig)}
	for _, t := range texts {
		for _, form := range forms {
			if len(form) < 16 {
				if len(form) >= 8 && strings.Contains(t, form) {
					return errSecret
				}
				continue
			}
			for i := 0; i+16 <= len(form); i++ {
				if strings.Contains(t, form[i:i+16]) {
					return errSecret
				}
			}
		}
	}
	return nil
}
