package report

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// Synthetic test data: invented accounts, signatures that are base64 of
// ASCII "SYNTHETIC-TEST-REPORT-SIG-NNNNNN" (32 bytes). Never a real token.

func testSig(i int) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "SYNTHETIC-TEST-REPORT-SIG-%06d", i))
}

func testKey(i int) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "SYNTHETIC-TEST-REPORT-ACCOUNT-KEY-NOT-A-REAL-SECRET-%012d", i))
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// sasMatch builds a match the way the detector would: query with the
// URL-encoded signature, redacted form with the signature masked.
func sasMatch(sev detect.Severity, kind detect.Kind, account, host, cloud, path, params string, sigN int, reasons ...string) detect.Match {
	sig := testSig(sigN)
	query := params + "&sig=" + url.QueryEscape(sig)
	tok := detect.Token{
		Kind:      kind,
		Account:   account,
		Host:      host,
		Cloud:     cloud,
		Signature: detect.NewSecret(sig),
		Query:     detect.NewSecret(query),
		Redacted:  params + "&sig=" + detect.Redacted,
	}
	if host != "" {
		tok.URL = detect.NewSecret("https://" + host + path + "?" + query)
	}
	vals, _ := url.ParseQuery(params)
	tok.SP = vals.Get("sp")
	if st := vals.Get("st"); st != "" {
		tok.Start = mustTime(st)
	}
	if se := vals.Get("se"); se != "" {
		tok.Expiry = mustTime(se)
	}
	if path != "" && path != "/" {
		tok.Resource = path
	}
	for _, c := range vals.Get("ss") {
		tok.Services = append(tok.Services, map[rune]string{'b': "blob", 'f': "file", 'q': "queue", 't': "table"}[c])
	}
	for _, c := range vals.Get("srt") {
		tok.ResourceTypes = append(tok.ResourceTypes, map[rune]string{'s': "service", 'c': "container", 'o': "object"}[c])
	}
	words := map[rune]string{'r': "read", 'w': "write", 'd': "delete", 'l': "list", 'a': "add", 'c': "create", 'u': "update", 'p': "process", 'x': "delete-version"}
	for _, c := range tok.SP {
		if w, ok := words[c]; ok {
			tok.Permissions = append(tok.Permissions, w)
		}
	}
	m := detect.Match{
		Start: 10, End: 10 + len(query), Line: 1, Column: 11,
		Token:    tok,
		Severity: sev,
		Expired:  strings.Contains(strings.Join(reasons, ","), "expired"),
		Reasons:  reasons,
	}
	m.Fingerprint = detect.Fingerprint(sig)
	return m
}

func keyMatch(account string, n int) detect.Match {
	key := testKey(n)
	conn := "DefaultEndpointsProtocol=https;AccountName=" + account + ";AccountKey=" + key + ";EndpointSuffix=core.windows.net"
	return detect.Match{
		Start: 0, End: len(conn), Line: 1, Column: 1,
		Token: detect.Token{
			Kind:      detect.KindAccountKey,
			Account:   account,
			Host:      account + ".blob.core.windows.net",
			Cloud:     "public",
			Signature: detect.NewSecret(key),
			Query:     detect.NewSecret(conn),
			Redacted:  "DefaultEndpointsProtocol=https;AccountName=" + account + ";AccountKey=" + detect.Redacted + ";EndpointSuffix=core.windows.net",
		},
		Severity:    detect.Critical,
		Reasons:     []string{"account-key"},
		Fingerprint: detect.Fingerprint(key),
	}
}

type occurrence struct {
	loc Location
	m   detect.Match
}

func at(m detect.Match, path string, line, col int) occurrence {
	m.Line, m.Column = line, col
	return occurrence{loc: Location{Path: path, Line: line, Column: col}, m: m}
}

func boolPtr(b bool) *bool { return &b }

// corpus returns the occurrences behind testdata/findings*.jsonl.golden.
func corpus() []occurrence {
	critical := sasMatch(detect.Critical, detect.KindAccount, "contosoresearch01", "contosoresearch01.blob.core.windows.net", "public",
		"/public-models/robust/m.ckpt", "sv=2020-08-04&ss=bfqt&srt=sco&sp=rwdlacupx&se=2051-10-06T07:09:59Z&st=2021-10-05T23:09:59Z&spr=https,http", 1,
		"account SAS", "account-wide", "full-control", "far-future-expiry", "issued-lifetime>1y", "http-allowed")
	medium := sasMatch(detect.Medium, detect.KindService, "contosoapp09", "contosoapp09.blob.core.windows.net", "public",
		"/logs", "sv=2021-08-06&sr=c&sp=rl&se=2026-11-30T00:00:00Z&spr=https", 2, "service SAS", "multi-object")
	expired := sasMatch(detect.Info, detect.KindAccount, "contosoold16", "contosoold16.blob.core.windows.net", "public",
		"/", "sv=2021-04-10&ss=bfqt&srt=sco&sp=rwdlacupx&se=2023-04-01T00:00:00Z&st=2022-04-01T00:00:00Z&spr=https", 3, "expired", "full-control")
	bare := sasMatch(detect.Critical, detect.KindAccount, "", "", "none",
		"", "sv=2019-12-12&ss=bfqt&srt=sco&sp=rwdlacupx&se=2028-10-08T09:31:33Z&st=2020-10-08T01:31:33Z&spr=https", 4, "no-endpoint", "full-control")
	low := sasMatch(detect.Low, detect.KindUserDelegation, "contosoud12", "contosoud12.blob.core.windows.net", "public",
		"/c1/b1.txt", "sp=r&st=2026-08-31T00:00:00Z&se=2026-09-06T00:00:00Z&sks=b&skv=2022-11-02&spr=https&sv=2022-11-02&sr=b", 5, "user-delegation")
	key := keyMatch("contosokey38", 1)

	hist := at(critical, "docs/setup.md", 4, 9)
	hist.loc.Repo = "contoso-org/models"
	hist.loc.Commit = "0123456789abcdef0123456789abcdef01234567"
	hist.loc.Author = "Ada Example <ada@example.invalid>"
	d := mustTime("2021-10-06T08:00:00Z")
	hist.loc.Date = &d
	hist.loc.AtTip = boolPtr(false)
	msg := at(critical, "", 3, 1)
	msg.loc.Repo = "contoso-org/models"
	msg.loc.Commit = "89abcdef0123456789abcdef0123456789abcdef"
	msg.loc.Message = true

	// The critical token is also seen in a weaker, host-less form: the merged
	// finding keeps the most informative representative.
	weaker := critical
	weaker.Severity = detect.High
	weaker.Token.Host = ""
	weaker.Token.URL = detect.Secret{}

	return []occurrence{
		at(critical, "README.md", 12, 5),
		at(critical, "README.md", 12, 5), // same occurrence twice: one location
		at(weaker, "notebooks/train.ipynb", 40, 17),
		hist,
		msg,
		at(medium, "scripts/sync.sh", 3, 14),
		at(expired, "old/config.json", 7, 20),
		at(bare, "deploy/token.ps1", 2, 1),
		at(low, "app/settings.yaml", 5, 8),
		at(key, ".env", 1, 31),
	}
}

// secretsOf returns every string from the corpus that must not appear in
// output without reveal.
func secretsOf(occs []occurrence) []string {
	var out []string
	for _, o := range occs {
		s := o.m.Token.Signature.Reveal()
		out = append(out, strings.TrimRight(s, "="), url.QueryEscape(s))
	}
	return out
}
