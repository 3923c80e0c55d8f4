package detect

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"
)

// Synthetic signatures: base64 of 32-byte ASCII strings.
var (
	reviewSig1 = base64.StdEncoding.EncodeToString([]byte("SYNTHETIC-REVIEW-SIG-00000000001"))
	reviewSig2 = base64.StdEncoding.EncodeToString([]byte("SYNTHETIC-REVIEW-SIG-00000000002"))
	reviewKey  = base64.StdEncoding.EncodeToString([]byte("SYNTHETIC-REVIEW-ACCOUNT-KEY-00000000000000000000000000000000000"))
)

// TestRedactedMasksEveryCredential: the Redacted form of a match is built
// from the text around one credential; any other signature or key in that
// text (a second sig= parameter, a SharedAccessSignature= in the same
// connection string as an AccountKey=, a second AccountKey=, a URL password)
// must be masked too, and both credentials of one connection string are
// reported.
func TestRedactedMasksEveryCredential(t *testing.T) {
	t.Parallel()
	enc := strings.ReplaceAll(reviewSig2, "=", "%3D")
	cases := []struct {
		name    string
		in      string
		kinds   []Kind // expected matches, in order
		secrets []string
	}{
		{"second sig parameter",
			"https://contosodup.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&sig=" + reviewSig1 + "&sig=" + enc,
			[]Kind{KindService}, []string{reviewSig2[:40]}},
		{"second Sig parameter, other case",
			"https://contosodup.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&sig=" + reviewSig1 + "&Sig=" + reviewSig2,
			[]Kind{KindService}, []string{reviewSig2[:40]}},
		{"SAS after the key in one connection string",
			"DefaultEndpointsProtocol=https;AccountName=contosokey;AccountKey=" + reviewKey + ";SharedAccessSignature=sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&sig=" + enc,
			[]Kind{KindAccountKey, KindAccount}, []string{reviewSig2[:40], reviewKey[:40]}},
		{"SAS before the key in one connection string",
			"BlobEndpoint=https://contosokey.blob.core.windows.net;SharedAccessSignature=sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&sig=" + enc + ";AccountName=contosokey;AccountKey=" + reviewKey,
			[]Kind{KindAccount, KindAccountKey}, []string{reviewSig2[:40], reviewKey[:40]}},
		{"two AccountKey=",
			"AccountName=contosokey;AccountKey=" + reviewKey + ";AccountKey=" + reviewKey,
			[]Kind{KindAccountKey}, []string{reviewKey[:40]}},
		{"URL password",
			"https://admin:hunter2secret@contosouser.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&sig=" + reviewSig1,
			[]Kind{KindService}, []string{"hunter2secret"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := New(Config{Now: specNow}).Detect([]byte(c.in))
			var kinds []Kind
			for _, m := range res.Matches {
				kinds = append(kinds, m.Token.Kind)
				for _, s := range append(c.secrets, reviewSig1[:40]) {
					for _, o := range []string{m.Token.Redacted, m.Token.String(), m.Token.GoString()} {
						if strings.Contains(o, s) {
							t.Errorf("%s match leaks %q: %s", m.Token.Kind, s, o)
						}
					}
				}
			}
			if strings.Join(kindStrings(kinds), ",") != strings.Join(kindStrings(c.kinds), ",") {
				t.Errorf("kinds = %v, want %v", kinds, c.kinds)
			}
		})
	}
}

func kindStrings(ks []Kind) []string {
	var out []string
	for _, k := range ks {
		out = append(out, string(k))
	}
	return out
}

// TestDoublyHTMLEscaped: a query string escaped twice (&amp;amp;, an HTML
// page quoting an XML config) is found like a singly escaped one.
func TestDoublyHTMLEscaped(t *testing.T) {
	t.Parallel()
	q := "sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&spr=https&sig=" + reviewSig1
	for _, sep := range []string{"&amp;", "&amp;amp;", "&amp;amp;amp;", "&amp;#38;", "&AMP;amp;"} {
		in := "<a href=\"https://contosohtml.blob.core.windows.net/c?" + strings.ReplaceAll(q, "&", sep) + "\">x</a>"
		res := New(Config{Now: specNow}).Detect([]byte(in))
		if len(res.Matches) != 1 {
			t.Errorf("%s: got %d matches (rejected %d), want 1", sep, len(res.Matches), res.Rejected)
			continue
		}
		m := res.Matches[0]
		if m.Token.Kind != KindService || m.Severity != Medium || m.Token.Account != "contosohtml" || !hasTag(m.Reasons, TagHTMLEscaped) {
			t.Errorf("%s: got %s %s %q %v", sep, m.Token.Kind, m.Severity, m.Token.Account, m.Reasons)
		}
		if got := in[m.Start:m.End]; !strings.HasPrefix(got, "https://") || !strings.HasSuffix(got, reviewSig1) {
			t.Errorf("%s: span %q", sep, got)
		}
	}
	// text that is not an entity after &amp; stays '&' + text
	res := New(Config{Now: specNow}).Detect([]byte("https://contosohtml.blob.core.windows.net/c?" + strings.ReplaceAll(q, "&", "&amp;") + "&amp;x=1"))
	if len(res.Matches) != 1 {
		t.Errorf("trailing &amp;x: got %d matches", len(res.Matches))
	}
}

func hasTag(rs []string, tag string) bool {
	for _, r := range rs {
		if r == tag {
			return true
		}
	}
	return false
}

// TestAnchorCapIsTruncation: when the anchor bound stops the prefilter
// before the end of the input, the result says so, even when windows that
// overlap at chunk borders reported some anchors twice (the count after
// removing duplicates is then below the bound).
func TestAnchorCapIsTruncation(t *testing.T) {
	t.Parallel()
	tail := "\nhttps://contosotail.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&spr=https&sig=" + reviewSig1 + "\n"
	in := strings.Repeat("sig=", 2*maxAnchors) + tail
	res := New(Config{Now: specNow}).Detect([]byte(in))
	found := false
	for _, m := range res.Matches {
		found = found || m.Token.Account == "contosotail"
	}
	if !found && !res.Truncated {
		t.Fatalf("the token after %d anchors was not examined and Truncated is false", 2*maxAnchors)
	}
}

// TestKeyPrefixLinear: the key-before-the-query loop of extractSAS
// ("a=a=a=...sig=") does linear work in the candidate's length: it looks
// for the '&' of a segment once, not once per key= (it was quadratic). The
// work is counted (bytes examined by keyPrefix), not timed: a test that
// compares durations fails on a busy machine.
func TestKeyPrefixLinear(t *testing.T) {
	t.Parallel()
	work := func(n int) int {
		b := []byte(strings.Repeat("a=", n) + "sig=" + strings.Repeat("b", 44))
		s := bytes.Index(b, []byte("sig="))
		_, _, steps := keyPrefix(b, 0, s, len(b))
		return steps
	}
	for _, n := range []int{100, 1000, 2040} {
		if w := work(n); w > 8*2*n+64 {
			t.Errorf("%d key= segments: %d steps, want at most %d (linear)", n, w, 8*2*n+64)
		}
	}
	// doubling the input at most doubles the work (plus a constant)
	if a, b := work(1000), work(2000); b > 2*a+64 {
		t.Errorf("work %d for 1000 segments, %d for 2000: not linear", a, b)
	}
	// and Detect over a hostile input examines it all without a match
	hostile := []byte(strings.Repeat(strings.Repeat("a=", 2040)+"sig="+strings.Repeat("b", 4090)+" ", 4))
	if res := New(Config{Now: specNow}).Detect(hostile); len(res.Matches) != 0 || res.Truncated {
		t.Errorf("hostile key prefix: %d matches, truncated %v", len(res.Matches), res.Truncated)
	}
}

// TestSignatureWithPlaceholderWordByChance: about one real signature in
// 9000 contains "todo", "your" or "xxxx" (case-insensitively) by chance; it
// is a secret, not a placeholder. A partly masked signature (a run of X) is
// still a placeholder.
func TestSignatureWithPlaceholderWordByChance(t *testing.T) {
	t.Parallel()
	pre := "https://contosoword.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&spr=https&sig="
	for _, raw := range []string{"SYNTHETIC-REVIEW-SIG-8:9z[',yDtY", "SYNTHETIC-REVIEW-SIG-QdD]|W}*C$6", "SYNTHETIC-REVIEW-SIG-q%uvO5w*.FJ"} {
		sig := base64.StdEncoding.EncodeToString([]byte(raw))
		res := New(Config{Now: specNow}).Detect([]byte(pre + strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(sig)))
		if len(res.Matches) != 1 {
			t.Errorf("sig %s: got %d matches (rejected %d), want 1", sig, len(res.Matches), res.Rejected)
		}
	}
	masked := "U1lOVEhFVElDLVJFVklFVy1TSUctXXXXXXXXXXXXXXX="
	if res := New(Config{Now: specNow}).Detect([]byte(pre + masked)); len(res.Matches) != 0 || res.Rejected != 1 {
		t.Errorf("masked sig: got %d matches, %d rejected; want 0, 1", len(res.Matches), res.Rejected)
	}
}

// TestUnparseableExpiryIsMalformed: an se that is not a time (the service
// answers 400, sas-spec §6.3) is gate G1 like a missing se: INFO malformed,
// not a live token with an unknown lifetime.
func TestUnparseableExpiryIsMalformed(t *testing.T) {
	t.Parallel()
	for _, se := range []string{"garbage", "2030-13-45T00:00:00Z", "tomorrow"} {
		for _, q := range []string{"sv=2022-11-02&ss=b&srt=sco&sp=rwdl&se=" + se, "sv=2022-11-02&sr=c&sp=rwdl&se=" + se} {
			in := "https://contosobadse.blob.core.windows.net/c?" + q + "&spr=https&sig=" + reviewSig1
			res := New(Config{Now: specNow}).Detect([]byte(in))
			if len(res.Matches) != 1 {
				t.Errorf("%s: got %d matches", q, len(res.Matches))
				continue
			}
			if m := res.Matches[0]; m.Severity != Info || !hasTag(m.Reasons, TagMalformed) {
				t.Errorf("%s: got %s %v, want info malformed", q, m.Severity, m.Reasons)
			}
		}
	}
}

// TestEncodedTerminatorsStayEncoded: percent-decoding must not turn %20,
// %3B, %22 (bytes that end a query or a URL) into the real thing: SAS links
// with response-header overrides (rscd=attachment%3B%20filename%3D%22a.pdf%22)
// were dropped whole (the sig ended up in a query without sv/se), and a
// path with %20 lost its host.
func TestEncodedTerminatorsStayEncoded(t *testing.T) {
	t.Parallel()
	sig := strings.ReplaceAll(reviewSig1, "=", "%3D")
	cases := []struct {
		name, in, account string
		kind              Kind
		sev               Severity
	}{
		{"rscd attachment", "https://contosorscd.blob.core.windows.net/c/report.pdf?sv=2022-11-02&sr=b&sp=r&se=2030-01-01T00:00:00Z&rscd=attachment%3B%20filename%3Dreport.pdf&spr=https&sig=" + sig,
			"contosorscd", KindService, Low},
		{"rscd quoted filename", "https://contosorscd.blob.core.windows.net/c/r.pdf?sv=2022-11-02&ss=b&srt=sco&sp=rwdl&se=2030-01-01T00:00:00Z&rscd=inline%3B%20filename%3D%22r.pdf%22&spr=https&sig=" + sig,
			"contosorscd", KindAccount, Critical},
		{"rsct charset", "https://contosorsct.blob.core.windows.net/c/a.txt?sv=2022-11-02&sr=c&sp=rw&se=2030-01-01T00:00:00Z&rsct=text%2Fplain%3B%20charset%3Dutf-8&spr=https&sig=" + sig,
			"contosorsct", KindService, High},
		{"space in path", "https://contosospace.blob.core.windows.net/c/my%20file.txt?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&spr=https&sig=" + sig,
			"contosospace", KindService, Medium},
		{"nested URL in encoded quotes", "https://example.org/dl?u=%22https%3A%2F%2Fcontosonest.blob.core.windows.net%2Fc%3Fsv%3D2022-11-02%26sr%3Dc%26sp%3Drl%26se%3D2030-01-01T00%253A00%253A00Z%26spr%3Dhttps%26sig%3D" + strings.ReplaceAll(reviewSig1, "=", "%253D") + "%22",
			"contosonest", KindService, Medium},
	}
	for _, c := range cases {
		res := New(Config{Now: specNow}).Detect([]byte(c.in))
		if len(res.Matches) != 1 {
			t.Errorf("%s: got %d matches (rejected %d), want 1", c.name, len(res.Matches), res.Rejected)
			continue
		}
		m := res.Matches[0]
		if m.Token.Account != c.account || m.Token.Kind != c.kind || m.Severity != c.sev || m.Token.Signature.Reveal() != reviewSig1 {
			t.Errorf("%s: got %q %s %s sig ok=%v %v", c.name, m.Token.Account, m.Token.Kind, m.Severity, m.Token.Signature.Reveal() == reviewSig1, m.Reasons)
		}
		if u := m.Token.URL.Reveal(); !strings.HasPrefix(u, "https://"+c.account+".") {
			t.Errorf("%s: URL %q", c.name, m.Token.Redacted)
		}
	}
}

// TestJSONInJSONAndTemplatedHost: a URL JSON-escaped twice (\\u0026 inside
// a JSON string that holds JSON) is found; a token whose own URL names its
// account with a template (https://{account}.blob...) is not paired with an
// unrelated endpoint elsewhere in the text.
func TestJSONInJSONAndTemplatedHost(t *testing.T) {
	t.Parallel()
	sig := strings.ReplaceAll(reviewSig1, "=", "%3D")
	q := "sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&spr=https&sig=" + sig
	cases := []struct{ name, in, account string }{
		{"json in json", `{"body": "{\\"url\\": \\"https://contosojj.blob.core.windows.net/c?` + strings.ReplaceAll(q, "&", `\\u0026`) + `\\"}"}`, "contosojj"},
		{"f-string host", "a = 'https://contosoother.blob.core.windows.net/x'\nurl = f\"https://{account}.blob.core.windows.net/c?" + q + "\"", ""},
		{"printf host", "a = 'https://contosoother.blob.core.windows.net/x'\nfmt.Sprintf(\"https://%s.blob.core.windows.net/c?" + q + "\", acct)", ""},
		{"shell host", "A=https://contosoother.blob.core.windows.net/x\ncurl \"https://${ACCOUNT}.blob.core.windows.net/c?" + q + "\"", ""},
		{"bare token still pairs", "endpoint: https://contosopair.blob.core.windows.net\nsas: \"" + q + "\"", "contosopair"},
	}
	for _, c := range cases {
		res := New(Config{Now: specNow}).Detect([]byte(c.in))
		if len(res.Matches) != 1 {
			t.Errorf("%s: got %d matches (rejected %d), want 1", c.name, len(res.Matches), res.Rejected)
			continue
		}
		if m := res.Matches[0]; m.Token.Account != c.account || m.Severity != Medium {
			t.Errorf("%s: account %q severity %s, want %q medium", c.name, m.Token.Account, m.Severity, c.account)
		}
	}
}

// TestSchemeGluedToText: a URL glued to the text before it ("xyzhttps://",
// a minified file, a base64 run) starts at its http(s) scheme, so the match,
// the redacted form and the column do not swallow the preceding text, and a
// very long run before it does not hide the token.
func TestSchemeGluedToText(t *testing.T) {
	t.Parallel()
	const tok = "https://contosoglue01.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&sig=U1lOVEhFVElDLUdMVUUtU0lHLTAwMDAwMDAwMDAwMDE%3D"
	d := New(Config{Now: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)})
	for _, prefix := range []string{"xyz", strings.Repeat("a", 1<<20)} {
		in := []byte(prefix + tok + " end")
		res := d.Detect(in)
		if len(res.Matches) != 1 {
			t.Fatalf("prefix of %d bytes: %d matches", len(prefix), len(res.Matches))
		}
		m := res.Matches[0]
		if m.Start != len(prefix) || !strings.HasPrefix(m.Token.Redacted, "https://contosoglue01.") {
			t.Errorf("prefix of %d bytes: match starts at %d (want %d), redacted %.40q", len(prefix), m.Start, len(prefix), m.Token.Redacted)
		}
	}
}

// TestPairNearestEndpoint: a bare token takes the nearest endpoint, before or
// after it, not any endpoint before it.
func TestPairNearestEndpoint(t *testing.T) {
	t.Parallel()
	const q = "sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&sig=U1lOVEhFVElDLVBBSVItU0lHLTAwMDAwMDAwMDAwMDE%3D"
	d := New(Config{Now: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)})
	for _, tc := range []struct {
		name, in, want string
	}{
		{"host header after the request line",
			"docs: see https://contosofar01.blob.core.windows.net/\n" + strings.Repeat("filler line\n", 100) +
				"GET /c?" + q + " HTTP/1.1\nHost: contosonear01.blob.core.windows.net\n", "contosonear01"},
		{"account url just before the credential",
			"account_url = \"https://contosobefore1.blob.core.windows.net\"\ncredential = \"" + q + "\"\n" +
				strings.Repeat("x = 1\n", 20) + "other = \"https://contosoafter01.blob.core.windows.net\"\n", "contosobefore1"},
	} {
		res := d.Detect([]byte(tc.in))
		if len(res.Matches) != 1 || res.Matches[0].Token.Account != tc.want {
			var got []string
			for _, m := range res.Matches {
				got = append(got, m.Token.Account)
			}
			t.Errorf("%s: accounts %v, want [%s]", tc.name, got, tc.want)
		}
	}
}

// TestUppercasePermissions: sp=RWDL is judged as rwdl (the worse case), with a tag.
func TestUppercasePermissions(t *testing.T) {
	t.Parallel()
	const u = "https://contosoupper1.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=RWDL&se=2031-01-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVVQUEVSLVNJRy0wMDAwMDAwMDAwMDE%3D"
	res := New(Config{Now: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)}).Detect([]byte(u))
	if len(res.Matches) != 1 {
		t.Fatalf("%d matches", len(res.Matches))
	}
	m := res.Matches[0]
	if m.Severity != Critical || !slices.Contains(m.Reasons, TagUppercasePermissions) || !slices.Contains(m.Reasons, TagFullControl) || m.Token.SP != "RWDL" {
		t.Errorf("severity %s, reasons %v, sp %q; want critical with uppercase-permissions and full-control, sp as found", m.Severity, m.Reasons, m.Token.SP)
	}
}

// TestIpynbTagOnlyInNotebooks: the ipynb tag needs a notebook key just before
// the token, not anywhere in the region (a test file quoting a notebook far
// away, a Terraform state with "outputs").
func TestIpynbTagOnlyInNotebooks(t *testing.T) {
	t.Parallel()
	const u = "https://contosonb77.blob.core.windows.net/c/f?sv=2022-11-02&sr=b&sp=r&se=2030-01-01T00:00:00Z&sig=U1lOVEhFVElDLUlQWU5CLVNJRy0wMDAwMDAwMDAwMDE%3D"
	d := New(Config{Now: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)})
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{"notebook cell", `{"cell_type": "code", "source": ["x = \"` + u + `\"\n"]}`, true},
		{"far from a quoted notebook", `{"cell_type": "code"}` + strings.Repeat("\n// filler", 1000) + "\nx := \"" + u + "\"\n", false},
		{"terraform outputs", `{"outputs": {"sas": {"value": "` + u + `"}}}`, false},
	} {
		res := d.Detect([]byte(tc.in))
		if len(res.Matches) != 1 {
			t.Fatalf("%s: %d matches", tc.name, len(res.Matches))
		}
		if got := slices.Contains(res.Matches[0].Reasons, TagIpynb); got != tc.want {
			t.Errorf("%s: ipynb tag %v, want %v (%v)", tc.name, got, tc.want, res.Matches[0].Reasons)
		}
	}
}

// TestAccountSASNeedsSsAndSrt: an account SAS without ss or srt is rejected by
// the service (sas-spec §2.1: both are required), so it is info "malformed".
func TestAccountSASNeedsSsAndSrt(t *testing.T) {
	t.Parallel()
	d := New(Config{Now: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)})
	const base = "https://contosossrt1.blob.core.windows.net/?sv=2022-11-02&sp=rwdl&se=2031-01-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVNTU1JULVNJRy0wMDAwMDAwMDAwMDE%3D"
	for _, tc := range []struct {
		params string
		want   Severity
	}{
		{"&ss=b&srt=sco", Critical},
		{"&ss=b", Info},
		{"&srt=sco", Info},
	} {
		res := d.Detect([]byte(base + tc.params))
		if len(res.Matches) != 1 {
			t.Fatalf("%s: %d matches", tc.params, len(res.Matches))
		}
		m := res.Matches[0]
		if m.Severity != tc.want || (tc.want == Info) != slices.Contains(m.Reasons, TagMalformed) {
			t.Errorf("%s: %s %v, want %s (malformed when info)", tc.params, m.Severity, m.Reasons, tc.want)
		}
	}
}
