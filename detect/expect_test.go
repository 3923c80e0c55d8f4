package detect

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Synthetic credentials of the round-two tests: base64 of ASCII strings that
// start "SYNTHETIC-", 32 bytes for a signature and 64 for a key.
func synthSig(n int) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "SYNTHETIC-ROUND2-SIG-%011d", n))
}

func synthKey(n int) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "SYNTHETIC-ROUND2-ACCOUNT-KEY-%035d", n))
}

// pctSig is a signature as written in a URL ('+', '/', '=' encoded).
func pctSig(n int) string {
	return strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(synthSig(n))
}

// expect is what one match must be; zero fields are not checked, except
// that a non-nil perms (even empty) is compared and host "-" means "".
type expect struct {
	kind          Kind
	account, host string
	cloud         string
	sev           Severity
	tags, notTags []string
	perms         []string
}

func (e expect) check(t *testing.T, m Match) {
	t.Helper()
	tok := m.Token
	if e.kind != "" && tok.Kind != e.kind {
		t.Errorf("kind %s, want %s", tok.Kind, e.kind)
	}
	if e.account != "" && tok.Account != strings.TrimPrefix(e.account, "-") {
		t.Errorf("account %q, want %q", tok.Account, e.account)
	}
	if e.host == "-" && tok.Host != "" || e.host != "" && e.host != "-" && tok.Host != e.host {
		t.Errorf("host %q, want %q", tok.Host, e.host)
	}
	if e.cloud != "" && tok.Cloud != e.cloud {
		t.Errorf("cloud %q, want %q", tok.Cloud, e.cloud)
	}
	if m.Severity != e.sev {
		t.Errorf("severity %s, want %s (reasons %q)", m.Severity, e.sev, m.Reasons)
	}
	for _, tag := range e.tags {
		if !slices.Contains(m.Reasons, tag) {
			t.Errorf("reasons %q lack %q", m.Reasons, tag)
		}
	}
	for _, tag := range e.notTags {
		if slices.Contains(m.Reasons, tag) {
			t.Errorf("reasons %q hold %q", m.Reasons, tag)
		}
	}
	if e.perms != nil && !slices.Equal(tok.Permissions, e.perms) {
		t.Errorf("permissions %q, want %q", tok.Permissions, e.perms)
	}
}

// detectOne runs Detect at the spec clock and wants exactly one match.
func detectOne(t *testing.T, in string) (Match, bool) {
	t.Helper()
	res := New(Config{Now: specNow}).Detect([]byte(in))
	if len(res.Matches) != 1 {
		t.Errorf("got %d matches (rejected %d), want 1", len(res.Matches), res.Rejected)
		for _, m := range res.Matches {
			t.Logf("  %s %q %q %s %q", m.Token.Kind, m.Token.Account, m.Token.Host, m.Severity, m.Reasons)
		}
		return Match{}, false
	}
	return res.Matches[0], true
}
