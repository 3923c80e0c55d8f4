package report

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/sasquatch-sec/sasquatch/detect"
)

var _ Sink = (*SARIF)(nil)

// SARIF writes every finding as one SARIF 2.1.0 log on Close, shaped for
// GitHub code scanning:
//
//   - one run whose tool driver is "sasquatch" with Options.Version;
//   - one rule per kind of finding present (account, service, user-delegation,
//     account-key), whose help holds the kind's remediation;
//   - one result per location, in the order of [SortFindings], with the
//     finding's fingerprint in partialFingerprints ("sasquatchFingerprint/v1",
//     the same for every location of the token) plus a hash of the location
//     ("sasquatchLocation/v1") so that code scanning keeps one alert per
//     location instead of merging them;
//   - the location's path, relative to the scanned root or repository and
//     percent-encoded segment by segment, as artifactLocation.uri under
//     uriBaseId %SRCROOT%, with region startLine and startColumn (the column
//     counts bytes, as the detector does; SARIF's default columnKind counts
//     UTF-16 code units, which differs only on lines with non-ASCII text
//     before the token). An occurrence in a commit message has no file: it
//     gets a logical location (the commit) instead;
//   - history provenance (commit, author, date, repository, permalink, whether
//     the token is still at the tip) in the result's properties: a run over a
//     history has no single revision for versionControlProvenance, and code
//     scanning takes the analysed commit from the upload.
//
// Severity maps to the SARIF level and to the "security-severity" property
// GitHub uses to rank security alerts (a string holding a CVSS-like score):
//
//	critical  error    9.5
//	high      error    8.0
//	medium    warning  5.5
//	low       note     3.0
//	info      note     1.0
//
// A rule's level and security-severity are those of its most severe result
// in the log. Message texts hold the redacted token, never the signature; the
// signature appears only in the "token" and "url" result properties, and only
// when the finding carries Token or URL (reveal).
//
// The log is built with go-sarif's builder (github.com/owenrumney/go-sarif/v3)
// and written with its PrettyWrite, so every object carries go-sarif's
// explicit spec defaults (empty arrays, "rank": -1, "ruleIndex", "id": -1 and
// the like); the only change made to its text is undoing encoding/json's HTML
// escaping (see [unescapeHTML]) so that tokens and URLs read with their '&'.
// SARIF buffers in Write and renders in Close. Not safe for concurrent use.
type SARIF struct {
	w    io.Writer
	opts Options
	buffer
}

// NewSARIF returns a SARIF sink writing to w.
func NewSARIF(w io.Writer, opts Options) *SARIF { return &SARIF{w: w, opts: opts} }

// Write buffers f until Close.
func (s *SARIF) Write(ctx context.Context, f Finding) error { return s.add(ctx, f) }

// Close writes the log (with an empty results array when there were no
// findings). Calling Close twice is an error.
func (s *SARIF) Close() error {
	if err := s.close(); err != nil {
		return err
	}
	SortFindings(s.findings)
	if err := writeSARIF(s.w, buildSARIF(s.findings, s.opts)); err != nil {
		return fmt.Errorf("write sarif: %w", err)
	}
	return nil
}

// writeSARIF writes log indented, HTML characters unescaped, with a final
// newline.
func writeSARIF(w io.Writer, log *sarif.Report) error {
	var buf bytes.Buffer
	if err := log.PrettyWrite(&buf); err != nil {
		return err
	}
	out := append(unescapeHTML(buf.Bytes()), '\n')
	_, err := w.Write(out)
	return err
}

// unescapeHTML undoes the HTML escaping encoding/json applies to '<', '>'
// and '&' in the JSON text b (go-sarif's PropertyBag marshals with
// json.Marshal, which always escapes, whatever the outer encoder is set to):
// "\u003c", "\u003e" and "\u0026" become the characters again. Escape
// sequences are read pairwise from their backslash, so an escaped backslash
// followed by "u0026" in the text is left alone. The result is the same JSON
// value.
func unescapeHTML(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			out = append(out, c)
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) {
			switch string(b[i+2 : i+6]) {
			case "003c":
				out, i = append(out, '<'), i+5
				continue
			case "003e":
				out, i = append(out, '>'), i+5
				continue
			case "0026":
				out, i = append(out, '&'), i+5
				continue
			}
		}
		out, i = append(out, c, b[i+1]), i+1
	}
	return out
}

const (
	sarifSchema         = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifFingerprintKey = "sasquatchFingerprint/v1"
	sarifLocationKey    = "sasquatchLocation/v1"
	sarifInformationURI = "https://github.com/sasquatch-sec/sasquatch"
	sarifSrcRoot        = "%SRCROOT%"
)

// sarifLevels maps a severity to its SARIF level and security-severity score.
var sarifLevels = map[detect.Severity]struct {
	level string
	score string
}{
	detect.Critical: {sarif.LevelError, "9.5"},
	detect.High:     {sarif.LevelError, "8.0"},
	detect.Medium:   {sarif.LevelWarning, "5.5"},
	detect.Low:      {sarif.LevelNote, "3.0"},
	detect.Info:     {sarif.LevelNote, "1.0"},
}

func sarifLevel(sev detect.Severity) (level, score string) {
	l, ok := sarifLevels[sev]
	if !ok { // outside the known range: the nearest end
		if sev > detect.Critical {
			l = sarifLevels[detect.Critical]
		} else {
			l = sarifLevels[detect.Info]
		}
	}
	return l.level, l.score
}

// sarifRuleDef is the identity and description of a kind's rule.
type sarifRuleDef struct {
	kind        detect.Kind
	id, name    string
	description string
}

// sarifKinds fixes the rule order and texts of the known kinds.
var sarifKinds = []sarifRuleDef{
	{detect.KindAccount, "azure-storage-account-sas", "LeakedAccountSAS",
		"An account SAS grants access to one or more services of a storage account (ss) at the service, container or object level (srt), with the permissions in sp until se. It is signed with an account key and, without a stored access policy, can only be revoked at once by regenerating that key."},
	{detect.KindService, "azure-storage-service-sas", "LeakedServiceSAS",
		"A service SAS grants access to one container, directory, blob, share, file, queue or table, with the permissions in sp until se. It is signed with an account key; when it names a stored access policy (si), deleting or changing that policy revokes it, otherwise only regenerating the signing key does."},
	{detect.KindUserDelegation, "azure-storage-user-delegation-sas", "LeakedUserDelegationSAS",
		"A user delegation SAS is signed with a user delegation key obtained with Microsoft Entra credentials (skoid, sktid); it is valid at most 7 days and is revoked by revoking the account's user delegation keys or the signer's role assignment."},
	{detect.KindAccountKey, "azure-storage-account-key", "LeakedAccountKey",
		"A storage account key gives full control of the account through Shared Key authorization and can mint any account or service SAS. Only regenerating the key revokes it."},
}

// sarifRuleDefs returns the rules for the kinds in fs: the known ones in the
// order of sarifKinds, then the others sorted by kind.
func sarifRuleDefs(fs []Finding) []sarifRuleDef {
	present := map[detect.Kind]bool{}
	for _, f := range fs {
		present[f.Kind] = true
	}
	var defs []sarifRuleDef
	for _, k := range sarifKinds {
		if present[k.kind] {
			defs = append(defs, k)
			delete(present, k.kind)
		}
	}
	var unknown []detect.Kind
	for k := range present {
		unknown = append(unknown, k)
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		slug := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
				return r
			}
			return '-'
		}, strings.ToLower(string(k)))
		defs = append(defs, sarifRuleDef{k, "azure-storage-credential-" + slug, "LeakedAzureStorageCredential",
			"A credential for Azure Storage of a kind sasquatch does not name."})
	}
	return defs
}

func buildSARIF(fs []Finding, opts Options) *sarif.Report {
	run := sarif.NewRunWithInformationURI("sasquatch", sarifInformationURI)
	run.Tool.Driver.WithVersion(cmp.Or(opts.Version, "dev"))

	// One rule per kind present (two unknown kinds whose slugs collide share
	// one), at the level of its most severe result.
	defs := sarifRuleDefs(fs)
	ruleID := map[detect.Kind]string{}
	for _, d := range defs {
		ruleID[d.kind] = d.id
	}
	worst := map[string]detect.Severity{}
	for _, f := range fs {
		id := ruleID[f.Kind]
		if w, ok := worst[id]; !ok || f.Severity > w {
			worst[id] = f.Severity
		}
	}
	for _, d := range defs {
		if run.GetRuleIndex(d.id) >= 0 {
			continue
		}
		level, score := sarifLevel(worst[d.id])
		text, markdown := ruleHelp(d.kind, d.description)
		run.AddRule(d.id).
			WithName(d.name).
			WithShortDescription(sarif.NewMultiformatMessageString().WithText("Leaked Azure Storage " + kindName(d.kind))).
			WithFullDescription(sarif.NewMultiformatMessageString().WithText(d.description)).
			WithHelp(sarif.NewMultiformatMessageString().WithText(text).WithMarkdown(markdown)).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(level)).
			WithProperties(sarif.NewPropertyBag().
				WithTags([]string{"security", "secret", "azure-storage"}).
				Add("precision", "high").
				Add("security-severity", score))
	}

	for _, f := range fs {
		level, _ := sarifLevel(f.Severity)
		msg := sarifMessage(f)
		locs := f.Locations
		if len(locs) == 0 {
			// A finding without a location (a hand-built store) still
			// reports, with no location.
			locs = []Location{{}}
		}
		for i, l := range locs {
			run.CreateResultForRule(ruleID[f.Kind]).
				WithKind("fail").
				WithLevel(level).
				WithMessage(sarif.NewTextMessage(msg + sarifWhere(l))).
				WithLocations(sarifLocationsOf(l)).
				WithPartialFingerprints(map[string]string{
					sarifFingerprintKey: f.Fingerprint,
					sarifLocationKey:    locationHash(l),
				}).
				WithProperties(sarifResultProperties(f, l, i == len(locs)-1))
		}
	}

	log := sarif.NewReport()
	log.Schema = sarifSchema
	return log.AddRun(run)
}

// sarifResultProperties is the property bag of f's result at l; last marks
// the last location of f, which carries locationsTruncated.
func sarifResultProperties(f Finding, l Location, last bool) *sarif.PropertyBag {
	_, score := sarifLevel(f.Severity)
	p := sarif.NewPropertyBag().
		Add("security-severity", score).
		Add("severity", f.Severity.String()).
		Add("findingKind", string(f.Kind)).
		Add("fingerprint", f.Fingerprint).
		Add("expired", f.Expired).
		Add("redacted", f.Redacted).
		Add("remediation", Remediation(f))
	str := func(key, v string) {
		if v != "" {
			p.Add(key, v)
		}
	}
	list := func(key string, v []string) {
		if len(v) > 0 {
			p.Add(key, v)
		}
	}
	str("account", f.Account)
	str("host", f.Host)
	list("permissions", f.Permissions)
	if f.Expiry != nil {
		p.Add("expiry", f.Expiry.UTC().Format(time.RFC3339))
	}
	list("reasons", f.Reasons)
	str("liveness", f.Liveness)
	str("commit", l.Commit)
	str("author", l.Author)
	if l.Date != nil {
		p.Add("date", l.Date.UTC().Format(time.RFC3339))
	}
	str("repo", l.Repo)
	str("permalink", l.Permalink)
	if l.AtTip != nil {
		p.Add("atTip", *l.AtTip)
	}
	str("blob", l.Blob)
	// Set on the last result of a finding whose locations were capped
	// before they reached the sink.
	if last && f.LocationsTruncated != 0 {
		p.Add("locationsTruncated", f.LocationsTruncated)
	}
	// Only with reveal.
	str("token", f.Token)
	str("url", f.URL)
	return p
}

// ruleHelp is a rule's help: the kind's description and its remediation
// steps, in plain text and Markdown. For service SAS both revocation paths
// are given (with and without a stored access policy).
func ruleHelp(k detect.Kind, desc string) (text, markdown string) {
	generic := Finding{Kind: k}
	steps := RemediationSteps(generic)
	var extra []RemediationStep
	if k == detect.KindService {
		withPolicy := RemediationSteps(Finding{Kind: k, Reasons: []string{detect.TagStoredPolicy}})
		extra = withPolicy[:2] // delete the policy; else rotate the key
	}
	var t, m strings.Builder
	t.WriteString(desc + "\n\nHow to revoke and contain it:\n")
	m.WriteString(desc + "\n\n**How to revoke and contain it:**\n\n")
	for i, s := range steps {
		fmt.Fprintf(&t, "%d. %s\n", i+1, s)
		fmt.Fprintf(&m, "%d. %s\n", i+1, s.Render(codeSpan))
	}
	if len(extra) > 0 {
		t.WriteString("\nWhen the SAS names a stored access policy (si), instead of the first two steps:\n")
		m.WriteString("\n**When the SAS names a stored access policy (`si`)**, instead of the first two steps:\n\n")
		for i, s := range extra {
			fmt.Fprintf(&t, "%d. %s\n", i+1, s)
			fmt.Fprintf(&m, "%d. %s\n", i+1, s.Render(codeSpan))
		}
	}
	t.WriteString("\nEach result's \"remediation\" property holds the steps for that token.")
	m.WriteString("\nEach result's `remediation` property holds the steps for that token.")
	return t.String(), m.String()
}

// sarifMessage is the part of a result's message common to every location
// of f: severity, kind, account, host, permissions, expiry and the redacted
// token. Brackets and backslashes are escaped (SARIF §3.11.6: "[text](n)"
// in a plain-text message is a link to a related location).
func sarifMessage(f Finding) string {
	var b strings.Builder
	sev := f.Severity.String()
	if sev != "" {
		sev = strings.ToUpper(sev[:1]) + sev[1:]
	}
	b.WriteString(sev + " leaked " + kindName(f.Kind))
	if f.Account != "" {
		b.WriteString(" for storage account " + f.Account)
	} else {
		b.WriteString(" for an unknown storage account")
	}
	if f.Host != "" {
		b.WriteString(" (" + f.Host + ")")
	}
	if len(f.Permissions) > 0 {
		b.WriteString("; permissions: " + strings.Join(f.Permissions, ", "))
	}
	switch {
	case f.Expiry != nil && f.Expired:
		b.WriteString("; expired " + f.Expiry.UTC().Format(time.RFC3339))
	case f.Expiry != nil:
		b.WriteString("; expires " + f.Expiry.UTC().Format(time.RFC3339))
	case f.Expired:
		b.WriteString("; expired")
	}
	b.WriteString("; token: " + f.Redacted)
	return sarifEscape(SafeText(b.String()))
}

// sarifWhere is the location-specific tail of a result's message.
func sarifWhere(l Location) string {
	var parts []string
	if l.Message {
		parts = append(parts, "in a commit message")
	}
	if l.Commit != "" {
		parts = append(parts, "commit "+shortCommit(l.Commit))
	}
	if l.Repo != "" {
		parts = append(parts, "in "+l.Repo)
	}
	if l.AtTip != nil && !*l.AtTip {
		parts = append(parts, "history only")
	}
	if len(parts) == 0 {
		return "."
	}
	return sarifEscape(SafeText(" (" + strings.Join(parts, ", ") + ")."))
}

func sarifEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`).Replace(s)
}

func sarifLocationsOf(l Location) []*sarif.Location {
	logical := func(name, fqn string) []*sarif.Location {
		return []*sarif.Location{sarif.NewLocation().AddLogicalLocation(
			sarif.NewLogicalLocation().WithName(name).WithFullyQualifiedName(fqn).WithKind("object"))}
	}
	switch {
	case l.Message:
		name := "commit message"
		if l.Commit != "" {
			name = "commit " + l.Commit
		}
		return logical(name, cmp.Or(l.Commit, name))
	case l.Path == "" && l.Blob != "":
		return logical("blob "+l.Blob, l.Blob)
	case l.Path == "":
		return []*sarif.Location{}
	}
	uri := pathURI(l.Path)
	phys := sarif.NewPhysicalLocation().
		WithArtifactLocation(sarif.NewSimpleArtifactLocation(uri).WithURIBaseID(sarifSrcRoot))
	if l.Line > 0 {
		region := sarif.NewRegion().WithStartLine(l.Line)
		if l.Column > 0 {
			region.WithStartColumn(l.Column)
		}
		phys.WithRegion(region)
	}
	loc := sarif.NewLocationWithPhysicalLocation(phys)
	if uri != l.Path {
		// The original path, so a reader sees it verbatim.
		loc.WithProperties(sarif.NewPropertyBag().Add("path", l.Path))
	}
	return []*sarif.Location{loc}
}

// pathURI turns a slash-separated path into a relative URI reference:
// each segment percent-encoded (spaces, '?', '#', '%', ':', backticks,
// non-ASCII bytes as UTF-8), separators kept. A path that is not valid UTF-8
// is encoded byte by byte, which keeps it a valid URI.
func pathURI(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
	}
	return strings.Join(segs, "/")
}

// locationHash identifies one location of a finding for partialFingerprints.
func locationHash(l Location) string {
	h := sha256.New()
	for _, s := range []string{l.Repo, l.Commit, l.Path, strconv.Itoa(l.Line), strconv.Itoa(l.Column), strconv.FormatBool(l.Message), l.Blob} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
