package verify

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseStorageHost(t *testing.T) {
	t.Parallel()
	type want struct {
		Host, Account, Service string
		Second                 bool
	}
	tests := []struct {
		host string
		ok   bool
		want want
	}{
		// accepted: public and sovereign clouds, every probed service
		{"contoso01.blob.core.windows.net", true, want{"contoso01.blob.core.windows.net", "contoso01", "blob", false}},
		{"contoso01.dfs.core.windows.net", true, want{"contoso01.dfs.core.windows.net", "contoso01", "dfs", false}},
		{"contoso01.file.core.windows.net", true, want{"contoso01.file.core.windows.net", "contoso01", "file", false}},
		{"contoso01.queue.core.windows.net", true, want{"contoso01.queue.core.windows.net", "contoso01", "queue", false}},
		{"contoso01.table.core.windows.net", true, want{"contoso01.table.core.windows.net", "contoso01", "table", false}},
		{"contosocn.blob.core.chinacloudapi.cn", true, want{"contosocn.blob.core.chinacloudapi.cn", "contosocn", "blob", false}},
		{"contosogov.file.core.usgovcloudapi.net", true, want{"contosogov.file.core.usgovcloudapi.net", "contosogov", "file", false}},
		{"contosode.blob.core.cloudapi.de", true, want{"contosode.blob.core.cloudapi.de", "contosode", "blob", false}},
		{"contosoz.z12.blob.storage.azure.net", true, want{"contosoz.z12.blob.storage.azure.net", "contosoz", "blob", false}},
		{"contosorag-secondary.blob.core.windows.net", true, want{"contosorag-secondary.blob.core.windows.net", "contosorag", "blob", true}},
		// normalised: case, one trailing dot, port 443
		{"ContosoUP.Blob.Core.Windows.Net", true, want{"contosoup.blob.core.windows.net", "contosoup", "blob", false}},
		{"contosodot.blob.core.windows.net.", true, want{"contosodot.blob.core.windows.net", "contosodot", "blob", false}},
		{"contoso443.blob.core.windows.net:443", true, want{"contoso443.blob.core.windows.net", "contoso443", "blob", false}},
		{"abc.blob.core.windows.net", true, want{"abc.blob.core.windows.net", "abc", "blob", false}},
		{"abcdefghijklmnopqrstuvwx.blob.core.windows.net", true, want{"abcdefghijklmnopqrstuvwx.blob.core.windows.net", "abcdefghijklmnopqrstuvwx", "blob", false}},

		// refused
		{"", false, want{}},
		{"evil.example.com", false, want{}},
		{"contoso.blob.core.windows.net.evil.com", false, want{}},
		{"contoso.blob.core.windows.net.", true, want{"contoso.blob.core.windows.net", "contoso", "blob", false}},
		{"contoso.blob.core.windows.net..", false, want{}},
		{"evil.com#.blob.core.windows.net", false, want{}},
		{"evil.com/.blob.core.windows.net", false, want{}},
		{"user@contoso.blob.core.windows.net", false, want{}},
		{"contoso.blob.core.windows.net@evil.com", false, want{}},
		{"contoso%2eblob.core.windows.net", false, want{}},
		{"contoso.blob%2ecore.windows.net", false, want{}},
		{"contoso.blob.core.windows.net:8443", false, want{}},
		{"contoso.blob.core.windows.net:80", false, want{}},
		{"contoso.blob.core.windows.net:", false, want{}},
		{"contoso.web.core.windows.net", false, want{}},              // static website host
		{"contoso.z22.web.core.windows.net", false, want{}},          // static website, zone
		{"contoso.privatelink.blob.core.windows.net", false, want{}}, // private link
		{"contoso.z12.blob.core.windows.net", false, want{}},         // zone label on the wrong suffix
		{"contoso.z1.blob.storage.azure.net", false, want{}},
		{"contoso.blob.storage.azure.net", false, want{}},
		{"a.b.blob.core.windows.net", false, want{}},
		{"blob.core.windows.net", false, want{}},
		{".blob.core.windows.net", false, want{}},
		{"ab.blob.core.windows.net", false, want{}},                        // account too short
		{"abcdefghijklmnopqrstuvwxy.blob.core.windows.net", false, want{}}, // 25 characters
		{"con-toso.blob.core.windows.net", false, want{}},
		{"con_toso.blob.core.windows.net", false, want{}},
		{"contoso-ipv6.blob.core.windows.net", false, want{}},
		{"contoso.mail.core.windows.net", false, want{}},
		{"contoso.blob.core.windows.com", false, want{}},
		{"contoso.blob.local.azurestack.external", false, want{}},
		{"contoso.blob.localhost", false, want{}},
		{"devstoreaccount1.blob.localhost:10000", false, want{}},
		{"127.0.0.1:10000", false, want{}},
		{"127.0.0.1", false, want{}},
		{"localhost", false, want{}},
		{"10.1.2.3", false, want{}},
		{"169.254.169.254", false, want{}},
		{"[::1]", false, want{}},
		{"[::1]:443", false, want{}},
		{"[fd00::1]", false, want{}},
		{"host.docker.internal", false, want{}},
		{"contoso.blob.core.windows.net\x00.evil.com", false, want{}},
		{"contoso.blob.core.windows.net evil.com", false, want{}},
		{"contosо.blob.core.windows.net", false, want{}},        // Cyrillic о: IDN homoglyph
		{"xn--contos-dwe.blob.core.windows.net", false, want{}}, // punycode is not an account name
		{"contoso.blob.core.windows.net\u200b", false, want{}},
		{"contoso.blob.core.windоws.net", false, want{}}, // homoglyph in the suffix
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			t.Parallel()
			sh, ok := parseStorageHost(tt.host)
			if ok != tt.ok {
				t.Fatalf("parseStorageHost(%q) ok = %v, want %v", tt.host, ok, tt.ok)
			}
			if !ok {
				return
			}
			got := want{sh.host, sh.account, sh.service, sh.second}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("parseStorageHost(%q) (-want +got):\n%s", tt.host, d)
			}
		})
	}
}

func TestWithService(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"contoso.dfs.core.windows.net", "contoso.blob.core.windows.net"},
		{"contoso-secondary.dfs.core.chinacloudapi.cn", "contoso-secondary.blob.core.chinacloudapi.cn"},
		{"contoso.z07.dfs.storage.azure.net", "contoso.z07.blob.storage.azure.net"},
	} {
		sh, ok := parseStorageHost(tt.in)
		if !ok {
			t.Fatalf("parseStorageHost(%q) refused", tt.in)
		}
		got := sh.withService("blob")
		if got.host != tt.want {
			t.Errorf("%q withService(blob) = %q, want %q", tt.in, got.host, tt.want)
		}
		if _, ok := parseStorageHost(got.host); !ok {
			t.Errorf("%q: rewritten host %q is not allow-listed", tt.in, got.host)
		}
	}
}
