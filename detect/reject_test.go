package detect

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// TestRejected covers candidates that look like a SAS but are not a secret:
// no match, and each one counted in Result.Rejected.
func TestRejected(t *testing.T) {
	t.Parallel()
	pre := "https://contosorej.blob.core.windows.net/c/f.txt?sv=2022-11-02&sr=b&sp=r&se=2030-01-01T00:00:00Z&sig="
	sig31 := base64.StdEncoding.EncodeToString([]byte("SYNTHETIC-TEST-VECTOR-SIG-31byt"))
	sig33 := base64.StdEncoding.EncodeToString([]byte("SYNTHETIC-TEST-VECTOR-SIG-33bytes"))
	cases := []struct{ name, in string }{
		{"angle placeholder", pre + "<signature>"},
		{"brace placeholder", pre + "{sig}"},
		{"shell variable", pre + "${SAS_SIG}"},
		{"printf", pre + "%s"},
		{"dots", pre + "..."},
		{"XXXX", pre + strings.Repeat("X", 43) + "="},
		{"REDACTED", pre + "REDACTED"},
		{"stars", pre + "****"},
		{"your-signature", pre + "your-signature-here"},
		{"31 bytes", pre + sig31},
		{"33 bytes", pre + sig33},
		{"not base64", pre + "U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDc!"},
		{"no padding", pre + strings.TrimSuffix(sig07, "=")},
		{"hex signature", "https://cdn.example.com/f?expires=1700000000&sig=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		{"google signed URL", "https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=x&X-Goog-Date=20260101T000000Z&X-Goog-Expires=900&X-Goog-Signature=ab12&sig=" + sig07},
		{"aws presigned", "https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=x&X-Amz-Signature=ab&sig=" + sig07 + "&se=2030-01-01"},
		{"service bus", "Authorization: SharedAccessSignature sr=https%3A%2F%2Fcontoso-ns.servicebus.windows.net%2Fqueue1&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDc%3D&se=1790000000&skn=RootManageSharedAccessKey"},
		{"event hubs no skn", "SharedAccessSignature sr=contoso-hub.azure-devices.net%2Fdevices%2Fd1&sig=" + sig07 + "&se=1790000000"},
		{"logic apps callback", "https://prod-00.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + sig07},
		{"no sv/se/si (G0)", "https://contosorej.blob.core.windows.net/c?sp=r&sig=" + sig07},
		{"account key placeholder", "DefaultEndpointsProtocol=https;AccountName=contosorej;AccountKey=<your-account-key>;EndpointSuffix=core.windows.net"},
		{"account key too short", "AccountName=contosorej;AccountKey=" + sig07},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := New(Config{Now: specNow}).Detect([]byte(c.in))
			if len(res.Matches) != 0 {
				t.Errorf("got %d matches, want none: %v", len(res.Matches), res.Matches)
			}
			if res.Rejected != 1 {
				t.Errorf("Rejected = %d, want 1", res.Rejected)
			}
			if _, err := Parse(c.in); !errors.Is(err, ErrNotSecret) {
				t.Errorf("Parse: %v, want ErrNotSecret", err)
			}
		})
	}
}

// TestNotCandidates are texts with no candidate at all: nothing rejected either.
func TestNotCandidates(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"https://contosoweb36.blob.core.windows.net/$web/index.html?sv=2022-11-02&timeout=30",
		"const sig = hmac(key, msg); // signature",
		"assign(sig, design); sigma=1",
		"",
	} {
		res := New(Config{Now: specNow}).Detect([]byte(in))
		if len(res.Matches) != 0 || res.Rejected != 0 {
			t.Errorf("Detect(%q) = %+v, want nothing", in, res)
		}
	}
}

func TestAccountKeyForms(t *testing.T) {
	t.Parallel()
	key := "U1lOVEhFVElDLUZBS0UtQUNDT1VOVC1LRVktTk9ULUEtUkVBTC1TRUNSRVQtMDAwMDAwMDAwMDAwMDAwMDAwMA=="
	cases := []struct{ in, account, cloud string }{
		{"AccountName=contosok1;AccountKey=" + key + ";EndpointSuffix=core.usgovcloudapi.net", "contosok1", CloudUSGov},
		{"<add key=\"StorageAccountKey=" + key + "\" />", "", CloudNone},
		{"AZURE_STORAGE_CONNECTION_STRING=\"DefaultEndpointsProtocol=https;AccountName=contosok2;AccountKey=" + key + "\"", "contosok2", CloudPublic},
		{"BlobEndpoint=https://contosok3.blob.core.chinacloudapi.cn/;AccountKey=" + key, "contosok3", CloudChina},
	}
	for _, c := range cases {
		res := New(Config{Now: specNow}).Detect([]byte(c.in))
		if len(res.Matches) != 1 {
			t.Errorf("%q: %d matches", c.in, len(res.Matches))
			continue
		}
		m := res.Matches[0]
		if m.Token.Kind != KindAccountKey || m.Severity != Critical || m.Token.Account != c.account || m.Token.Cloud != c.cloud {
			t.Errorf("%q: kind=%s severity=%s account=%q cloud=%q", c.in, m.Token.Kind, m.Severity, m.Token.Account, m.Token.Cloud)
		}
		if strings.Contains(m.Token.Redacted, key) || !strings.Contains(m.Token.Redacted, "AccountKey="+Redacted) {
			t.Errorf("redacted form %q", m.Token.Redacted)
		}
	}
}
