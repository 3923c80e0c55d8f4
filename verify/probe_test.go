package verify

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// Synthetic signatures (sas-spec §8.2): base64 of "SYNTHETIC-TEST-VECTOR-SIG-0000NN".
const (
	sig01 = "U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDE%3D"
	sig02 = "U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDI%3D"
)

func mustParse(t *testing.T, s string) detect.Token {
	t.Helper()
	tok, err := detect.Parse(s)
	if err != nil {
		t.Fatalf("detect.Parse: %v", err)
	}
	return tok
}

// opSignature names the fixed operation parameters of a probe query, in the
// form the documented table of doc.go lists them.
func opSignature(method string, q url.Values) string {
	var ops []string
	for _, k := range []string{"restype", "comp", "snapshot", "versionid", "$filter", "$top"} {
		if v, ok := q[k]; ok {
			if k == "$filter" {
				ops = append(ops, k)
				continue
			}
			ops = append(ops, k+"="+v[0])
		}
	}
	return method + " " + strings.Join(ops, "&")
}

// documentedOps are the only operations a probe may send (doc.go, sas-spec §6.2).
var documentedOps = map[string]bool{
	"HEAD restype=account&comp=properties": true, // Get Account Information
	"GET restype=service&comp=properties":  true, // Get Service Properties
	"HEAD restype=share":                   true, // Get Share Properties
	"HEAD ":                                true, // Get File Properties
	"HEAD comp=metadata":                   true, // Get Queue Metadata
	"GET $filter&$top=1":                   true, // table query that matches nothing
}

var tableFilterRE = regexp.MustCompile(`^PartitionKey eq 'sasquatch-[0-9a-f]{32}'$`)

// checkDocumented fails the test unless the request is one of the
// documented read-only probes: HEAD or GET, the fixed operation parameters
// of one operation, and otherwise SAS parameters only.
func checkDocumented(t *testing.T, method string, u *url.URL) {
	t.Helper()
	if method != "HEAD" && method != "GET" {
		t.Errorf("method %s sent to %s", method, u.Host)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		t.Fatalf("query does not parse: %v", err)
	}
	op := opSignature(method, q)
	if strings.HasPrefix(op, "HEAD restype=account&comp=properties&snapshot=") ||
		strings.HasPrefix(op, "HEAD restype=account&comp=properties&versionid=") {
		op = "HEAD restype=account&comp=properties"
	}
	if !documentedOps[op] {
		t.Errorf("undocumented operation %q", op)
	}
	if f, ok := q["$filter"]; ok && !tableFilterRE.MatchString(f[0]) {
		t.Errorf("table filter %q", f[0])
	}
	for k := range q {
		switch k {
		case "restype", "comp", "snapshot", "versionid", "$filter", "$top":
		default:
			if !detect.IsSASParam(k) {
				t.Errorf("query parameter %q is neither a SAS parameter nor the operation's", k)
			}
		}
	}
	if u.Path != "/" && strings.Contains(u.Path, "//") {
		t.Errorf("path %q", u.Path)
	}
}

func TestBuildProbe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		ep    string
		want  string // METHOD redacted-URL; "" for a not-checked token
		why   string // the not-checked detail
		check bool   // a table query: compare everything but the random key
	}{
		{name: "account SAS on blob: Get Account Information, found path and operation dropped",
			in:   "https://contosoresearch01.blob.core.windows.net/public-models/robust/m.ckpt?comp=list&restype=container&sv=2020-08-04&ss=bfqt&srt=sco&sp=rwdlacupitfx&se=2051-10-06T07:09:59Z&st=2021-10-05T23:09:59Z&spr=https,http&timeout=30&sig=" + sig01,
			want: "HEAD https://contosoresearch01.blob.core.windows.net/?restype=account&comp=properties&sv=2020-08-04&ss=bfqt&srt=sco&sp=rwdlacupitfx&se=2051-10-06T07%3A09%3A59Z&st=2021-10-05T23%3A09%3A59Z&spr=https%2Chttp&sig=REDACTED"},
		{name: "account SAS before 2018-03-28: Get Service Properties",
			in:   "https://contosoold.blob.core.windows.net/?sv=2017-07-29&ss=b&srt=s&sp=r&se=2030-01-01T00:00:00Z&sig=" + sig01,
			want: "GET https://contosoold.blob.core.windows.net/?restype=service&comp=properties&sv=2017-07-29&ss=b&srt=s&sp=r&se=2030-01-01T00%3A00%3A00Z&sig=REDACTED"},
		{name: "account SAS on queue host: Get Service Properties",
			in:   "https://contosoq.queue.core.windows.net/?sv=2022-11-02&ss=q&srt=s&sp=r&se=2029-01-01T00:00:00Z&sig=" + sig01,
			want: "GET https://contosoq.queue.core.windows.net/?restype=service&comp=properties&sv=2022-11-02&ss=q&srt=s&sp=r&se=2029-01-01T00%3A00%3A00Z&sig=REDACTED"},
		{name: "account SAS on dfs: same account's blob host",
			in:   "https://contosodl.dfs.core.windows.net/fs/x?sv=2022-11-02&ss=b&srt=sco&sp=r&se=2029-01-01T00:00:00Z&sig=" + sig01,
			want: "HEAD https://contosodl.blob.core.windows.net/?restype=account&comp=properties&sv=2022-11-02&ss=b&srt=sco&sp=r&se=2029-01-01T00%3A00%3A00Z&sig=REDACTED"},
		{name: "container SAS",
			in:   "https://contosoapp06.blob.core.windows.net/uploads?sv=2023-11-03&sr=c&sp=racwdl&se=2028-09-01T00:00:00Z&st=2026-08-01T00:00:00Z&spr=https&sig=" + sig01,
			want: "HEAD https://contosoapp06.blob.core.windows.net/uploads?restype=account&comp=properties&sv=2023-11-03&sr=c&sp=racwdl&se=2028-09-01T00%3A00%3A00Z&st=2026-08-01T00%3A00%3A00Z&spr=https&sig=REDACTED"},
		{name: "blob SAS, name with a space",
			in:   "https://contosocdn07.blob.core.windows.net/public/dir/setup%20x.zip?sv=2022-11-02&sr=b&sp=r&se=2029-09-01T00:00:00Z&spr=https&sig=" + sig01,
			want: "HEAD https://contosocdn07.blob.core.windows.net/public/dir/setup%20x.zip?restype=account&comp=properties&sv=2022-11-02&sr=b&sp=r&se=2029-09-01T00%3A00%3A00Z&spr=https&sig=REDACTED"},
		{name: "blob SAS on a secondary endpoint",
			in:   "https://contosorag-secondary.blob.core.windows.net/c1/a.txt?sv=2022-11-02&sr=b&sp=r&se=2029-01-01T00:00:00Z&sig=" + sig01,
			want: "HEAD https://contosorag-secondary.blob.core.windows.net/c1/a.txt?restype=account&comp=properties&sv=2022-11-02&sr=b&sp=r&se=2029-01-01T00%3A00%3A00Z&sig=REDACTED"},
		{name: "snapshot SAS: the signed snapshot goes along",
			in:   "https://contososn.blob.core.windows.net/c/a.txt?snapshot=2024-01-01T00:00:00.0000000Z&sv=2022-11-02&sr=bs&sp=r&se=2029-01-01T00:00:00Z&sig=" + sig01,
			want: "HEAD https://contososn.blob.core.windows.net/c/a.txt?restype=account&comp=properties&snapshot=2024-01-01T00%3A00%3A00.0000000Z&sv=2022-11-02&sr=bs&sp=r&se=2029-01-01T00%3A00%3A00Z&sig=REDACTED"},
		{name: "directory SAS on dfs",
			in:   "https://contosodl34.dfs.core.windows.net/fs1/raw/2024?sv=2020-02-10&sr=d&sdd=2&sp=racwdlmeop&se=2027-09-01T00:00:00Z&spr=https&sig=" + sig01,
			want: "HEAD https://contosodl34.blob.core.windows.net/fs1/raw/2024?restype=account&comp=properties&sv=2020-02-10&sr=d&sdd=2&sp=racwdlmeop&se=2027-09-01T00%3A00%3A00Z&spr=https&sig=REDACTED"},
		{name: "share SAS, US Gov",
			in:   "https://contosogov22.file.core.usgovcloudapi.net/share1?sv=2020-08-04&sr=s&sp=rcwdl&se=2027-10-06T00:00:00Z&spr=https&sig=" + sig01,
			want: "HEAD https://contosogov22.file.core.usgovcloudapi.net/share1?restype=share&sv=2020-08-04&sr=s&sp=rcwdl&se=2027-10-06T00%3A00%3A00Z&spr=https&sig=REDACTED"},
		{name: "file SAS, China",
			in:   "https://contosocn.file.core.chinacloudapi.cn/share1/a/b.txt?sv=2020-08-04&sr=f&sp=r&se=2027-10-06T00:00:00Z&spr=https&sig=" + sig01,
			want: "HEAD https://contosocn.file.core.chinacloudapi.cn/share1/a/b.txt?sv=2020-08-04&sr=f&sp=r&se=2027-10-06T00%3A00%3A00Z&spr=https&sig=REDACTED"},
		{name: "queue SAS: metadata, never messages",
			in:   "https://contosoq33.queue.core.windows.net/jobs/messages?sv=2021-08-06&sp=raup&se=2027-03-01T00:00:00Z&spr=https&sig=" + sig01,
			want: "HEAD https://contosoq33.queue.core.windows.net/jobs?comp=metadata&sv=2021-08-06&sp=raup&se=2027-03-01T00%3A00%3A00Z&spr=https&sig=REDACTED"},
		{name: "table SAS: a query that matches nothing", check: true,
			in:   "https://contosotbl32.table.core.windows.net/Orders?sv=2019-02-02&tn=orders&sp=raud&se=2029-01-01T00:00:00Z&spk=cust001&epk=cust001&sig=" + sig01,
			want: "GET https://contosotbl32.table.core.windows.net/orders()?%24filter=PartitionKey%20eq%20%27sasquatch-X%27&%24top=1&sv=2019-02-02&tn=orders&sp=raud&se=2029-01-01T00%3A00%3A00Z&spk=cust001&epk=cust001&sig=REDACTED"},

		// never probed
		{name: "another host", in: "https://evil.example.com/c/x?sv=2022-11-02&sr=b&sp=r&se=2099-01-01T00:00:00Z&sig=" + sig01, why: "host-not-allowed"},
		{name: "suffix inside another name", in: "https://contoso.blob.core.windows.net.evil.com/c/x?sv=2022-11-02&sr=b&sp=r&se=2099-01-01T00:00:00Z&sig=" + sig01, why: "host-not-allowed"},
		{name: "an IP", in: "https://10.1.2.3/c/x?sv=2022-11-02&sr=b&sp=r&se=2099-01-01T00:00:00Z&sig=" + sig01, why: "host-not-allowed"},
		{name: "emulator", in: "http://127.0.0.1:10000/devstoreaccount1/test/x.txt?sv=2022-11-02&sr=b&sp=r&se=2099-01-01T00:00:00Z&sig=" + sig01, why: "host-not-allowed"},
		{name: "private link", in: "https://contosopl37.privatelink.blob.core.windows.net/c1?sv=2022-11-02&sr=c&sp=rl&se=2027-01-01T00:00:00Z&spr=https&sig=" + sig01, why: "host-not-allowed"},
		{name: "bare token", in: "sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&sig=" + sig01, why: "no-endpoint"},
		{name: "account key", in: "DefaultEndpointsProtocol=https;AccountName=contosokey38;AccountKey=U1lOVEhFVElDLUZBS0UtQUNDT1VOVC1LRVktTk9ULUEtUkVBTC1TRUNSRVQtMDAwMDAwMDAwMDAwMDAwMDAwMA==;EndpointSuffix=core.windows.net", why: "account-key"},

		// --verify-endpoint
		{name: "endpoint: emulator blob SAS", ep: "http://127.0.0.1:10000/devstoreaccount1",
			in:   "http://127.0.0.1:10000/devstoreaccount1/test/dir/x.txt?sv=2022-11-02&sr=b&sp=r&se=2099-01-01T00:00:00Z&sig=" + sig01,
			want: "HEAD http://127.0.0.1:10000/devstoreaccount1/test/dir/x.txt?restype=account&comp=properties&sv=2022-11-02&sr=b&sp=r&se=2099-01-01T00%3A00%3A00Z&sig=REDACTED"},
		{name: "endpoint: account SAS", ep: "http://127.0.0.1:10000/devstoreaccount1/",
			in:   "http://127.0.0.1:10000/devstoreaccount1/some/path?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2099-01-01T00:00:00Z&sig=" + sig01,
			want: "HEAD http://127.0.0.1:10000/devstoreaccount1/?restype=account&comp=properties&sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2099-01-01T00%3A00%3A00Z&sig=REDACTED"},
		{name: "endpoint: Azure token of the endpoint's account", ep: "https://contosopl37.privatelink.blob.core.windows.net",
			in:   "https://contosopl37.blob.core.windows.net/c1?sv=2022-11-02&sr=c&sp=rl&se=2027-01-01T00:00:00Z&spr=https&sig=" + sig01,
			want: "HEAD https://contosopl37.privatelink.blob.core.windows.net/c1?restype=account&comp=properties&sv=2022-11-02&sr=c&sp=rl&se=2027-01-01T00%3A00%3A00Z&spr=https&sig=REDACTED"},
		{name: "endpoint: another account's token is not sent there", ep: "http://127.0.0.1:10000/devstoreaccount1",
			in: "https://contoso01.blob.core.windows.net/c1?sv=2022-11-02&sr=c&sp=rl&se=2027-01-01T00:00:00Z&sig=" + sig02, why: "account-mismatch"},
		{name: "endpoint: bare token", ep: "http://127.0.0.1:10000/devstoreaccount1",
			in: "sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&sig=" + sig01, why: "no-endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok := mustParse(t, tt.in)
			var ep *endpoint
			if tt.ep != "" {
				var err error
				if ep, err = parseEndpoint(tt.ep); err != nil {
					t.Fatal(err)
				}
			}
			p, err := buildProbe(tok, ep)
			if tt.why != "" {
				if err == nil || err.Error() != tt.why {
					t.Fatalf("buildProbe err = %v, want %s (probe %+v)", err, tt.why, p)
				}
				return
			}
			if err != nil {
				t.Fatalf("buildProbe: %v", err)
			}
			got := p.method + " " + redactedURL(p.url)
			if tt.check {
				got = regexp.MustCompile(`sasquatch-[0-9a-f]{32}`).ReplaceAllString(got, "sasquatch-X")
			}
			if got != tt.want {
				t.Errorf("probe\n got %s\nwant %s", got, tt.want)
			}
			checkDocumented(t, p.method, p.url)
			if strings.Contains(got, strings.TrimSuffix(sig01, "%3D")) {
				t.Errorf("redacted probe holds the signature: %s", got)
			}
			// the real request carries the token's own signature
			if s := p.url.Query().Get("sig"); s != tok.Signature.Reveal() {
				t.Errorf("probe sig = %q, want the token's", s)
			}
		})
	}
}

// TestBuildProbeSnapshotUnknown: the signature of a snapshot or version SAS
// covers the snapshot; without it the probe would fail for the wrong reason.
func TestBuildProbeSnapshotUnknown(t *testing.T) {
	t.Parallel()
	for _, sr := range []string{"bs", "bv"} {
		tok := mustParse(t, "https://contososn.blob.core.windows.net/c/a.txt?sv=2022-11-02&sr="+sr+"&sp=r&se=2029-01-01T00:00:00Z&sig="+sig01)
		if _, err := buildProbe(tok, nil); !errors.Is(err, errSnapshotNeeded) {
			t.Errorf("sr=%s: err = %v, want %v", sr, err, errSnapshotNeeded)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, base, account string
		bad               bool
	}{
		{in: "http://127.0.0.1:10000/devstoreaccount1", base: "http://127.0.0.1:10000/devstoreaccount1", account: "devstoreaccount1"},
		{in: "http://127.0.0.1:10000/DevStoreAccount1/", base: "http://127.0.0.1:10000/DevStoreAccount1", account: "devstoreaccount1"},
		{in: "https://contoso.privatelink.blob.core.windows.net", base: "https://contoso.privatelink.blob.core.windows.net", account: "contoso"},
		{in: "https://contoso.blob.core.windows.net/", base: "https://contoso.blob.core.windows.net", account: "contoso"},
		{in: "http://devstoreaccount1.blob.localhost:10000", base: "http://devstoreaccount1.blob.localhost:10000", account: "devstoreaccount1"},
		{in: "http://127.0.0.1:10000", bad: true},      // names no account
		{in: "https://storage.contoso.com", bad: true}, // custom domain: no account
		{in: "ftp://127.0.0.1/x", bad: true},
		{in: "http://user:pw@127.0.0.1:10000/acct", bad: true},
		{in: "http://127.0.0.1:10000/acct?sig=x", bad: true},
		{in: "/devstoreaccount1", bad: true},
		{in: "127.0.0.1:10000", bad: true},
	} {
		ep, err := parseEndpoint(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("parseEndpoint(%q) accepted", tt.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseEndpoint(%q): %v", tt.in, err)
			continue
		}
		if ep.base.String() != tt.base || ep.account != tt.account {
			t.Errorf("parseEndpoint(%q) = %s, %q; want %s, %q", tt.in, ep.base, ep.account, tt.base, tt.account)
		}
	}
}

func TestRedactedURL(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("https://a.blob.core.windows.net/c?restype=account&SIG=abc%2B%3D&sv=1&sig=def")
	if got, want := redactedURL(u), "https://a.blob.core.windows.net/c?restype=account&SIG=REDACTED&sv=1&sig=REDACTED"; got != want {
		t.Errorf("redactedURL = %s, want %s", got, want)
	}
}
