package report

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

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
// when the finding carries Token or URL (reveal). SARIF buffers in Write and
// renders in Close. Not safe for concurrent use.
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
	enc := json.NewEncoder(s.w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(buildSARIF(s.findings, s.opts)); err != nil {
		return fmt.Errorf("write sarif: %w", err)
	}
	return nil
}

// SARIF 2.1.0 objects, only the properties sasquatch writes. Field order is
// the order of the spec's sections, so the output reads top-down.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string              `json:"id"`
		Name                 string              `json:"name"`
		ShortDescription     sarifText           `json:"shortDescription"`
		FullDescription      sarifText           `json:"fullDescription"`
		Help                 sarifHelp           `json:"help"`
		DefaultConfiguration sarifConfiguration  `json:"defaultConfiguration"`
		Properties           sarifRuleProperties `json:"properties"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifHelp struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifConfiguration struct {
		Level string `json:"level"`
	}
	sarifRuleProperties struct {
		Tags             []string `json:"tags"`
		Precision        string   `json:"precision"`
		SecuritySeverity string   `json:"security-severity"`
	}
	sarifResult struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           int               `json:"ruleIndex"`
		Kind                string            `json:"kind"`
		Level               string            `json:"level"`
		Message             sarifText         `json:"message"`
		Locations           []sarifLocation   `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Properties          sarifResultProps  `json:"properties"`
	}
	sarifLocation struct {
		PhysicalLocation *sarifPhysical  `json:"physicalLocation,omitempty"`
		LogicalLocations []sarifLogical  `json:"logicalLocations,omitempty"`
		Message          *sarifText      `json:"message,omitempty"`
		Properties       *sarifLocations `json:"properties,omitempty"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId,omitempty"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
	}
	sarifLogical struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
		Kind               string `json:"kind"`
	}
	// sarifLocations is a location's property bag: the original path when
	// the URI had to be encoded, so a reader sees it verbatim.
	sarifLocations struct {
		Path string `json:"path"`
	}
	sarifResultProps struct {
		SecuritySeverity string   `json:"security-severity"`
		Severity         string   `json:"severity"`
		FindingKind      string   `json:"findingKind"`
		Account          string   `json:"account,omitempty"`
		Host             string   `json:"host,omitempty"`
		Fingerprint      string   `json:"fingerprint"`
		Permissions      []string `json:"permissions,omitempty"`
		Expiry           string   `json:"expiry,omitempty"`
		Expired          bool     `json:"expired"`
		Reasons          []string `json:"reasons,omitempty"`
		Redacted         string   `json:"redacted"`
		Liveness         string   `json:"liveness,omitempty"`
		Remediation      string   `json:"remediation"`
		Commit           string   `json:"commit,omitempty"`
		Author           string   `json:"author,omitempty"`
		Date             string   `json:"date,omitempty"`
		Repo             string   `json:"repo,omitempty"`
		Permalink        string   `json:"permalink,omitempty"`
		AtTip            *bool    `json:"atTip,omitempty"`
		Blob             string   `json:"blob,omitempty"`
		// LocationsTruncated is set on the last result of a finding whose
		// locations were capped before they reached the sink.
		LocationsTruncated int `json:"locationsTruncated,omitempty"`
		// Only with reveal.
		Token string `json:"token,omitempty"`
		URL   string `json:"url,omitempty"`
	}
)

const (
	sarifSchema         = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifFingerprintKey = "sasquatchFingerprint/v1"
	sarifLocationKey    = "sasquatchLocation/v1"
	sarifInformationURI = "https://github.com/sasquatch-sec/sasquatch"
)

// sarifLevels maps a severity to its SARIF level and security-severity score.
var sarifLevels = map[detect.Severity]struct {
	level string
	score string
}{
	detect.Critical: {"error", "9.5"},
	detect.High:     {"error", "8.0"},
	detect.Medium:   {"warning", "5.5"},
	detect.Low:      {"note", "3.0"},
	detect.Info:     {"note", "1.0"},
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

// sarifKinds fixes the rule order and texts of the known kinds.
var sarifKinds = []struct {
	kind        detect.Kind
	id, name    string
	description string
}{
	{detect.KindAccount, "azure-storage-account-sas", "LeakedAccountSAS",
		"An account SAS grants access to one or more services of a storage account (ss) at the service, container or object level (srt), with the permissions in sp until se. It is signed with an account key and, without a stored access policy, can only be revoked at once by regenerating that key."},
	{detect.KindService, "azure-storage-service-sas", "LeakedServiceSAS",
		"A service SAS grants access to one container, directory, blob, share, file, queue or table, with the permissions in sp until se. It is signed with an account key; when it names a stored access policy (si), deleting or changing that policy revokes it, otherwise only regenerating the signing key does."},
	{detect.KindUserDelegation, "azure-storage-user-delegation-sas", "LeakedUserDelegationSAS",
		"A user delegation SAS is signed with a user delegation key obtained with Microsoft Entra credentials (skoid, sktid); it is valid at most 7 days and is revoked by revoking the account's user delegation keys or the signer's role assignment."},
	{detect.KindAccountKey, "azure-storage-account-key", "LeakedAccountKey",
		"A storage account key gives full control of the account through Shared Key authorization and can mint any account or service SAS. Only regenerating the key revokes it."},
}

func buildSARIF(fs []Finding, opts Options) sarifLog {
	version := opts.Version
	if version == "" {
		version = "dev"
	}
	// Rules: the kinds present, known ones in a fixed order, then unknown ones.
	worst := map[detect.Kind]detect.Severity{}
	for _, f := range fs {
		if w, ok := worst[f.Kind]; !ok || f.Severity > w {
			worst[f.Kind] = f.Severity
		}
	}
	var rules []sarifRule
	index := map[detect.Kind]int{}
	addRule := func(k detect.Kind, id, name, desc string) {
		level, score := sarifLevel(worst[k])
		index[k] = len(rules)
		text, markdown := ruleHelp(k, desc)
		rules = append(rules, sarifRule{
			ID:                   id,
			Name:                 name,
			ShortDescription:     sarifText{Text: "Leaked Azure Storage " + kindName(k)},
			FullDescription:      sarifText{Text: desc},
			Help:                 sarifHelp{Text: text, Markdown: markdown},
			DefaultConfiguration: sarifConfiguration{Level: level},
			Properties: sarifRuleProperties{
				Tags:             []string{"security", "secret", "azure-storage"},
				Precision:        "high",
				SecuritySeverity: score,
			},
		})
	}
	for _, k := range sarifKinds {
		if _, ok := worst[k.kind]; ok {
			addRule(k.kind, k.id, k.name, k.description)
			delete(worst, k.kind)
		}
	}
	var unknown []detect.Kind
	for k := range worst {
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
		addRule(k, "azure-storage-credential-"+slug, "LeakedAzureStorageCredential",
			"A credential for Azure Storage of a kind sasquatch does not name.")
	}

	results := []sarifResult{}
	for _, f := range fs {
		level, score := sarifLevel(f.Severity)
		props := sarifResultProps{
			SecuritySeverity: score,
			Severity:         f.Severity.String(),
			FindingKind:      string(f.Kind),
			Account:          f.Account,
			Host:             f.Host,
			Fingerprint:      f.Fingerprint,
			Permissions:      f.Permissions,
			Expired:          f.Expired,
			Reasons:          f.Reasons,
			Redacted:         f.Redacted,
			Liveness:         f.Liveness,
			Remediation:      Remediation(f),
			Token:            f.Token,
			URL:              f.URL,
		}
		if f.Expiry != nil {
			props.Expiry = f.Expiry.UTC().Format(time.RFC3339)
		}
		rule := sarifKindRule(f.Kind, rules, index)
		msg := sarifMessage(f)
		locs := f.Locations
		if len(locs) == 0 {
			// A finding without a location (a hand-built store) still
			// reports, with no location.
			locs = []Location{{}}
		}
		for i, l := range locs {
			p := props
			p.Commit, p.Author, p.Repo, p.Permalink, p.AtTip, p.Blob = l.Commit, l.Author, l.Repo, l.Permalink, l.AtTip, l.Blob
			if l.Date != nil {
				p.Date = l.Date.UTC().Format(time.RFC3339)
			}
			if i == len(locs)-1 {
				p.LocationsTruncated = f.LocationsTruncated
			}
			r := sarifResult{
				RuleID:    rules[rule].ID,
				RuleIndex: rule,
				Kind:      "fail",
				Level:     level,
				Message:   sarifText{Text: msg + sarifWhere(l)},
				Locations: sarifLocationsOf(l),
				PartialFingerprints: map[string]string{
					sarifFingerprintKey: f.Fingerprint,
					sarifLocationKey:    locationHash(l),
				},
				Properties: p,
			}
			results = append(results, r)
		}
	}
	if rules == nil {
		rules = []sarifRule{}
	}
	return sarifLog{
		Schema:  sarifSchema,
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name:           "sasquatch",
				Version:        version,
				InformationURI: sarifInformationURI,
				Rules:          rules,
			}},
			Results: results,
		}},
	}
}

func sarifKindRule(k detect.Kind, rules []sarifRule, index map[detect.Kind]int) int {
	i, ok := index[k]
	if !ok || i >= len(rules) {
		return 0
	}
	return i
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

func sarifLocationsOf(l Location) []sarifLocation {
	switch {
	case l.Message:
		name := "commit message"
		if l.Commit != "" {
			name = "commit " + l.Commit
		}
		return []sarifLocation{{LogicalLocations: []sarifLogical{{Name: name, FullyQualifiedName: cmp.Or(l.Commit, name), Kind: "object"}}}}
	case l.Path == "" && l.Blob != "":
		return []sarifLocation{{LogicalLocations: []sarifLogical{{Name: "blob " + l.Blob, FullyQualifiedName: l.Blob, Kind: "object"}}}}
	case l.Path == "":
		return []sarifLocation{}
	}
	loc := sarifLocation{PhysicalLocation: &sarifPhysical{
		ArtifactLocation: sarifArtifact{URI: pathURI(l.Path), URIBaseID: "%SRCROOT%"},
	}}
	if l.Line > 0 {
		loc.PhysicalLocation.Region = &sarifRegion{StartLine: l.Line, StartColumn: max(l.Column, 0)}
	}
	if loc.PhysicalLocation.ArtifactLocation.URI != l.Path {
		loc.Properties = &sarifLocations{Path: l.Path}
	}
	return []sarifLocation{loc}
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
