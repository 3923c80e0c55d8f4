package report

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sasquatch-sec/sasquatch/detect"
)

func TestRemediationByKind(t *testing.T) {
	t.Parallel()
	d1 := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	d0 := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	exp := time.Date(2023, 4, 1, 0, 0, 0, 0, time.UTC)
	always := []string{"Set a SAS expiration policy", "user delegation SAS", "Check the storage logs"}
	for _, tc := range []struct {
		name    string
		f       Finding
		want    []string
		notWant []string
	}{
		{"account SAS", Finding{Kind: detect.KindAccount, Account: "contosoa1"},
			[]string{`regenerate key1 or key2 of storage account "contosoa1"`, "the token does not say which key signed it", "Re-issue", "from when the token was first published to now"},
			[]string{"stored access policy", "user delegation keys"}},
		{"ad hoc service SAS", Finding{Kind: detect.KindService, Account: "contosos1", Redacted: "sv=2021-08-06&sr=c&sp=rl&se=2027-01-01&sig=REDACTED"},
			[]string{"Rotate the account key that signed it", "Re-issue"},
			[]string{"stored access policy"}},
		{"service SAS with si", Finding{Kind: detect.KindService, Account: "contosos2", Redacted: "sv=2021-08-06&si=read-only%2Fnightly&sr=c&sig=REDACTED", Reasons: []string{detect.TagStoredPolicy}},
			[]string{`Delete the stored access policy "read-only/nightly"`, "Do not re-create a policy with the same name", "If the policy cannot be changed"},
			[]string{"Re-issue"}},
		{"service SAS tagged stored-policy without si in redacted", Finding{Kind: detect.KindService, Reasons: []string{detect.TagStoredPolicy}},
			[]string{"stored access policy named in the token's si parameter", "the storage account it belongs to"}, nil},
		{"HTML-escaped si", Finding{Kind: detect.KindService, Redacted: "sv=2021-08-06&amp;si=pol1&amp;sig=REDACTED"},
			[]string{`stored access policy "pol1"`}, nil},
		{"user delegation", Finding{Kind: detect.KindUserDelegation, Account: "contosou1"},
			[]string{`Revoke the user delegation keys of storage account "contosou1"`, "Keep to user delegation SAS"},
			[]string{"regenerate key1", "Prefer user delegation"}},
		{"account key", Finding{Kind: detect.KindAccountKey, Account: "contosok1", Locations: []Location{{Date: &d1}, {Date: &d0}, {}}},
			[]string{"Rotate this key now", "Shared Key or by SAS", "from 2023-01-02T03:04:05Z (the earliest commit seen) to now"},
			[]string{"Re-issue the SAS"}},
		{"expired SAS", Finding{Kind: detect.KindAccount, Account: "contosoe1", Expired: true, Expiry: &exp},
			[]string{"This SAS expired on 2023-04-01T00:00:00Z", "no key rotation"},
			[]string{"Rotate the account key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Remediation(tc.f)
			if got != Remediation(tc.f) {
				t.Fatal("Remediation is not deterministic")
			}
			for _, w := range append(tc.want, always...) {
				if !strings.Contains(got, w) {
					t.Errorf("remediation lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("remediation has %q:\n%s", w, got)
				}
			}
			if !strings.HasPrefix(got, "1. ") || strings.HasSuffix(got, "\n") {
				t.Errorf("not numbered lines without a trailing newline: %q", got)
			}
		})
	}
}

func TestRemediationEmulator(t *testing.T) {
	t.Parallel()
	for _, tag := range []string{detect.TagEmulator, detect.TagEmulatorWellKnownKey} {
		got := Remediation(Finding{Kind: detect.KindAccountKey, Account: "devstoreaccount1", Reasons: []string{tag}})
		if !strings.HasPrefix(got, "1. Nothing to revoke") || strings.Contains(got, "2. ") {
			t.Errorf("emulator (%s) remediation = %q", tag, got)
		}
	}
}

// TestRemediationQuotesValues: values from the scan are quoted in plain text
// (Go syntax when they hold quotes or control characters) and rendered in
// code spans by the Markdown sink.
func TestRemediationQuotesValues(t *testing.T) {
	t.Parallel()
	f := Finding{Kind: detect.KindService, Redacted: "si=a%22b%0A%40team&sig=REDACTED"}
	steps := RemediationSteps(f)
	if got := steps[0].String(); !strings.Contains(got, `policy "a\"b\n@team"`) {
		t.Errorf("plain step = %q", got)
	}
	if got := steps[0].Render(codeSpan); !strings.Contains(got, "policy `\"a\\\"b\\n@team\"`") {
		t.Errorf("markdown step = %q", got)
	}
}

// TestRemediationNoSecret: the remediation reads only redacted fields.
func TestRemediationNoSecret(t *testing.T) {
	t.Parallel()
	sig := testSig(4242)
	f := Finding{
		Kind: detect.KindService, Account: "contosos9", Redacted: "sv=2021-08-06&si=p&sig=REDACTED",
		Credential: detect.Token{Signature: detect.NewSecret(sig), Query: detect.NewSecret("si=p&sig=" + sig)},
	}
	if got := Remediation(f); strings.Contains(got, sig[:16]) {
		t.Errorf("remediation contains the signature: %q", got)
	}
}

func TestQueryParam(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		q, want string
		ok      bool
	}{
		{"sv=1&si=pol&sig=REDACTED", "pol", true},
		{"https://a.blob.core.windows.net/c?sv=1&SI=Pol%201&sig=REDACTED", "Pol 1", true},
		{"BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=1&si=x&sig=REDACTED", "x", true},
		{"sv=1&sig=REDACTED", "", false},
		{"sv=1&sip=1.2.3.4&sig=REDACTED", "", false},
		{"si=%zz", "%zz", true},
	} {
		got, ok := queryParam(tc.q, "si")
		if got != tc.want || ok != tc.ok {
			t.Errorf("queryParam(%q) = %q, %v; want %q, %v", tc.q, got, ok, tc.want, tc.ok)
		}
	}
}

// TestRemediationFormats: every step of every branch has only %s verbs, one
// per value, so that render (a substitution without fmt) writes what
// fmt.Sprintf would.
func TestRemediationFormats(t *testing.T) {
	t.Parallel()
	d0 := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	var fs []Finding
	for _, k := range []detect.Kind{detect.KindAccount, detect.KindService, detect.KindUserDelegation, detect.KindAccountKey, detect.Kind("other")} {
		for _, acct := range []string{"", "contosof1", `odd"%s%d\name`} {
			for _, red := range []string{"", "sv=2021-08-06&si=pol%25s&sig=REDACTED"} {
				for _, expired := range []bool{false, true} {
					f := Finding{Kind: k, Account: acct, Redacted: red, Expired: expired, Expiry: &d0}
					fs = append(fs, f)
					f.Locations = []Location{{Date: &d0}}
					f.Reasons = []string{detect.TagStoredPolicy}
					fs = append(fs, f)
				}
			}
		}
	}
	fs = append(fs, Finding{Kind: detect.KindAccount, Reasons: []string{detect.TagEmulator}})
	for _, f := range fs {
		for _, s := range RemediationSteps(f) {
			if n := strings.Count(s.Format, "%"); n != strings.Count(s.Format, "%s") || n != len(s.Args) {
				t.Fatalf("step %q has %d verbs for %d values", s.Format, n, len(s.Args))
			}
			args := make([]any, len(s.Args))
			for i, a := range s.Args {
				args[i] = plainQuote(a)
			}
			if got, want := s.String(), fmt.Sprintf(s.Format, args...); got != want {
				t.Fatalf("String() = %q, fmt.Sprintf = %q", got, want)
			}
		}
	}
}
