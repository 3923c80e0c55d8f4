package detect

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sig07 is SIG07 of sas-spec §8.2: base64("SYNTHETIC-TEST-VECTOR-SIG-000007").
const sig07 = "U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDc="

// TestParseForms covers sas-spec §8.2's parser-only vectors: the forms of the
// signature, the separators, case-insensitive keys, first-value-wins, and
// the time formats of §1.1.
func TestParseForms(t *testing.T) {
	t.Parallel()
	base := "https://contosoparse.blob.core.windows.net/c/f.txt?"
	exp := time.Date(2029, 9, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name, in string
		expiry   time.Time
		sp       string
	}{
		{"sig %3D", base + "sv=2022-11-02&sr=b&sp=r&se=2029-09-01T00:00:00Z&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDc%3D", exp, "r"},
		{"sig =", base + "sv=2022-11-02&sr=b&sp=r&se=2029-09-01T00:00:00Z&sig=" + sig07, exp, "r"},
		{"sig %253D", base + "sv=2022-11-02&sr=b&sp=r&se=2029-09-01T00:00:00Z&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDc%253D", exp, "r"},
		{`sig \u003d`, base + `sv=2022-11-02&sr=b&sp=r&se=2029-09-01T00:00:00Z&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDc\u003d`, exp, "r"},
		{"sep &amp;", base + "sv=2022-11-02&amp;sr=b&amp;sp=r&amp;se=2029-09-01T00:00:00Z&amp;sig=" + sig07, exp, "r"},
		{"sep &#38;", base + "sv=2022-11-02&#38;sr=b&#38;sp=r&#38;se=2029-09-01T00:00:00Z&#38;sig=" + sig07, exp, "r"},
		{"sep &#x26;", base + "sv=2022-11-02&#x26;sr=b&#x26;sp=r&#x26;se=2029-09-01T00:00:00Z&#x26;sig=" + sig07, exp, "r"},
		{`sep \u0026`, base + `sv=2022-11-02\u0026sr=b\u0026sp=r\u0026se=2029-09-01T00:00:00Z\u0026sig=` + sig07, exp, "r"},
		{"sep %26 whole URL encoded", "https%3A%2F%2Fcontosoparse.blob.core.windows.net%2Fc%2Ff.txt%3Fsv%3D2022-11-02%26sr%3Db%26sp%3Dr%26se%3D2029-09-01T00%253A00%253A00Z%26sig%3DU1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDc%253D", exp, "r"},
		{"upper-case keys", base + "SV=2022-11-02&SR=b&SP=r&SE=2029-09-01T00:00:00Z&Sig=" + sig07, exp, "r"},
		{"first value wins", base + "sv=2022-11-02&sr=b&sp=r&sp=rwdl&se=2029-09-01T00:00:00Z&se=2099-01-01&sig=" + sig07, exp, "r"},
		{"any order", base + "sig=" + sig07 + "&se=2029-09-01T00:00:00Z&sp=r&sr=b&sv=2022-11-02", exp, "r"},
		{"date only", base + "sv=2022-11-02&sr=b&sp=r&se=2029-09-01&sig=" + sig07, exp, "r"},
		{"percent-encoded time", base + "sv=2022-11-02&sr=b&sp=r&se=2029-09-01T00%3A00%3A00Z&sig=" + sig07, exp, "r"},
		{"7-digit fraction", base + "sv=2022-11-02&sr=b&sp=r&se=2029-09-01T00:00:00.0000000Z&sig=" + sig07, exp, "r"},
		{"minutes only", base + "sv=2022-11-02&sr=b&sp=r&se=2029-09-01T00:00Z&sig=" + sig07, exp, "r"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tok, err := Parse(c.in)
			if err != nil {
				t.Fatal(err)
			}
			got := struct {
				Kind          Kind
				Account, SP   string
				Expiry        time.Time
				Sig, Resource string
			}{tok.Kind, tok.Account, tok.SP, tok.Expiry, tok.Signature.Reveal(), tok.Resource}
			want := got
			want.Kind, want.Account, want.SP, want.Expiry, want.Sig, want.Resource = KindService, "contosoparse", c.sp, c.expiry, sig07, "/c/f.txt"
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("mismatch (-want +got):\n%s", d)
			}
		})
	}
}

// TestBareTokens covers tokens without a URL: with and without '?', in
// connection strings and paired with an endpoint nearby.
func TestBareTokens(t *testing.T) {
	t.Parallel()
	q := "sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&spr=https&sig=" + sig07
	cases := []struct {
		name, in, account, cloud string
		tags                     []string
	}{
		{"bare", q, "", CloudNone, []string{"no-endpoint"}},
		{"leading ?", "?" + q, "", CloudNone, []string{"no-endpoint"}},
		{"env var", "AZURE_STORAGE_SAS_TOKEN=" + q, "", CloudNone, nil},
		{"yaml", "sas_token: \"" + q + "\"", "", CloudNone, nil},
		{"connection string", "BlobEndpoint=https://contosocs.blob.core.windows.net/;SharedAccessSignature=" + q, "contosocs", CloudPublic, []string{"connection-string"}},
		{"python client", "client = BlobServiceClient(account_url=\"https://contosopy.blob.core.chinacloudapi.cn\",\n    credential=\"" + q + "\")", "contosopy", CloudChina, []string{"paired-endpoint", "cloud=china"}},
		{"endpoint after", "token = '" + q + "'\nurl = 'https://contosoafter.queue.core.windows.net'", "contosoafter", CloudPublic, []string{"paired-endpoint"}},
		{"emulator connection string", "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;SharedAccessSignature=" + q, "devstoreaccount1", CloudEmulator, []string{"emulator"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := New(Config{Now: specNow}).Detect([]byte(c.in))
			if len(res.Matches) != 1 {
				t.Fatalf("got %d matches, want 1", len(res.Matches))
			}
			m := res.Matches[0]
			if m.Token.Account != c.account || m.Token.Cloud != c.cloud || m.Token.Kind != KindAccount {
				t.Errorf("account=%q cloud=%q kind=%s, want %q %q account", m.Token.Account, m.Token.Cloud, m.Token.Kind, c.account, c.cloud)
			}
			for _, tag := range c.tags {
				if !slices.Contains(m.Reasons, tag) {
					t.Errorf("reason %q missing from %q", tag, m.Reasons)
				}
			}
			if got := m.Token.Query.Reveal(); got != q {
				t.Errorf("query = %q, want %q", got, q)
			}
		})
	}
}

func TestParseErrorRedacts(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"https://contoso.blob.core.windows.net/c?sv=2022-11-02&sig=" + strings.Repeat("Q", 43) + "=",
		"nothing here",
		"sig=tooShortButSecret123&sv=2020-01-01",
		// '=' written as an HTML entity: its '&' must not end the masked value
		"https://x.example.com/?sig&#61;" + reviewSig1,
		"https://x.example.com/?SIG&#x3D;" + reviewSig1,
		"AccountKey&#61;" + reviewSig1,
	} {
		_, err := Parse(in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("Parse(%q): got %v, want *ParseError", in, err)
		}
		if in == "nothing here" && !errors.Is(err, ErrNoCredential) {
			t.Errorf("Parse(%q): %v, want ErrNoCredential", in, err)
		}
		for _, secret := range []string{strings.Repeat("Q", 43), "tooShortButSecret123", reviewSig1[:30]} {
			if strings.Contains(err.Error(), secret) || strings.Contains(pe.Input, secret) {
				t.Errorf("error %q leaks the signature", err)
			}
		}
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	want := time.Date(2019, 8, 10, 2, 23, 26, 0, time.UTC)
	for _, s := range []string{"2019-08-10T02:23:26Z", "2019-08-10T02:23:26.0000000Z", "2019-08-10T04:23:26+02:00"} {
		if got, ok := parseTime(s); !ok || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v", s, got, ok)
		}
	}
	if got, ok := parseTime("2019-08-10T02:23Z"); !ok || !got.Equal(want.Truncate(time.Minute)) {
		t.Errorf("minutes: %v %v", got, ok)
	}
	if got, ok := parseTime("2019-08-10"); !ok || !got.Equal(want.Truncate(24*time.Hour)) {
		t.Errorf("date: %v %v", got, ok)
	}
	if _, ok := parseTime("1565403806"); ok {
		t.Error("unix seconds accepted")
	}
}

// TestParseTimeLikelyLayout: trying the likely layout first gives what the
// layouts in order give, for every accepted form and for near misses.
func TestParseTimeLikelyLayout(t *testing.T) {
	t.Parallel()
	inOrder := func(s string) (time.Time, bool) {
		for _, layout := range timeLayouts {
			if tm, err := time.Parse(layout, s); err == nil {
				return tm.UTC(), true
			}
		}
		return time.Time{}, false
	}
	for _, s := range []string{
		"2030-01-02", "2030-01-02T03:04Z", "2030-01-02T03:04", "2030-01-02T03:04:05", "2030-01-02T03:04:05Z",
		"2030-01-02T03:04:05.1234567Z", "2030-01-02T03:04:05.5+02:00", "2030-01-02T03:04:05-07:00",
		"2030-13-02", "2030-01-02T25:04Z", "2030-01-02T03:04+0", "2030-01-02 03:04:05", "", "x", "2030-01-02T03:04:05.Z",
	} {
		gotT, gotOK := parseTime(s)
		wantT, wantOK := inOrder(s)
		if gotOK != wantOK || !gotT.Equal(wantT) {
			t.Errorf("parseTime(%q) = %v %v, want %v %v", s, gotT, gotOK, wantT, wantOK)
		}
	}
}
