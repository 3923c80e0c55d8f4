package detect

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHostForms covers every host form of sas-spec §5.1.
func TestHostForms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		host, path              string
		account, service, cloud string
		tags                    []string
	}{
		{"contoso1.blob.core.windows.net", "/c", "contoso1", "blob", CloudPublic, nil},
		{"contoso1.file.core.windows.net", "", "contoso1", "file", CloudPublic, nil},
		{"contoso1.queue.core.windows.net", "", "contoso1", "queue", CloudPublic, nil},
		{"contoso1.table.core.windows.net", "", "contoso1", "table", CloudPublic, nil},
		{"contoso1.dfs.core.windows.net", "", "contoso1", "dfs", CloudPublic, nil},
		{"contoso1.z22.web.core.windows.net", "", "contoso1", "web", CloudPublic, []string{"static-website"}},
		{"contoso1.web.core.windows.net", "", "contoso1", "web", CloudPublic, nil},
		{"contoso1-secondary.blob.core.windows.net", "", "contoso1", "blob", CloudPublic, []string{"secondary-endpoint"}},
		{"contoso1-ipv6.blob.core.windows.net", "", "contoso1", "blob", CloudPublic, nil},
		{"contoso1.z07.blob.storage.azure.net", "", "contoso1", "blob", CloudPublic, []string{"dns-zone"}},
		{"contoso1.blob.core.chinacloudapi.cn", "", "contoso1", "blob", CloudChina, nil},
		{"contoso1.blob.core.usgovcloudapi.net", "", "contoso1", "blob", CloudUSGov, nil},
		{"contoso1.blob.core.cloudapi.de", "", "contoso1", "blob", CloudGermanyRetired, nil},
		{"contoso1.blob.local.azurestack.external", "", "contoso1", "blob", CloudAzureStack, nil},
		{"contoso1.table.westus.stack.contoso.test", "", "contoso1", "table", CloudAzureStack, nil},
		{"contoso1.privatelink.blob.core.windows.net", "", "contoso1", "blob", CloudPublic, []string{"private-link"}},
		{"127.0.0.1:10000", "/devstoreaccount1/c", "devstoreaccount1", "blob", CloudEmulator, nil},
		{"localhost:10001", "/acct1/q", "acct1", "queue", CloudEmulator, nil},
		{"[::1]:10002", "/devstoreaccount1", "devstoreaccount1", "table", CloudEmulator, nil},
		{"host.docker.internal:10000", "/devstoreaccount1/c", "devstoreaccount1", "blob", CloudEmulator, nil},
		{"10.1.2.3:11100", "/acct2/c", "acct2", "blob", CloudEmulator, nil},
		{"devstoreaccount1.blob.localhost:10000", "/c", "devstoreaccount1", "blob", CloudEmulator, nil},
		{"[0:0:0:0:0:0:0:1]:10001", "/acct3/q", "acct3", "queue", CloudEmulator, nil},
		{"[fd12:3456::9]:10002", "/acct4/t", "acct4", "table", CloudEmulator, nil},
		{"127.8.9.10:8080", "/acct5/c", "acct5", "", CloudEmulator, nil},
		{"192.168.0.7:10000", "/acct6/c", "acct6", "blob", CloudEmulator, nil},
		{"azurite:10000", "/acct7/c", "acct7", "blob", CloudEmulator, nil},
		{"storage.contoso.test:10001", "/acct8/q", "acct8", "queue", CloudEmulator, nil},
		{"contoso1.blob.core.windows.net:10000", "/c", "contoso1", "blob", CloudPublic, nil},
		{"devstoreaccount1.blob.core.windows.net", "/c", "devstoreaccount1", "blob", CloudEmulator, nil},
		{"192.168.0.7:8080", "/acct9/c", "", "", CloudCustom, nil},
		{"cdn.contoso.com", "/c", "", "", CloudCustom, nil},
		{"CONTOSO1.BLOB.CORE.WINDOWS.NET", "", "contoso1", "blob", CloudPublic, nil},
		{"x.blob.core.windows.net", "", "", "blob", CloudPublic, nil}, // account names are 3-24 chars
	}
	for _, c := range cases {
		t.Run(c.host, func(t *testing.T) {
			t.Parallel()
			hi := parseHost(c.host, c.path)
			got := []any{hi.account, hi.service, hi.cloud, hi.tags}
			want := []any{c.account, c.service, c.cloud, c.tags}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("parseHost(%q) mismatch (-want +got):\n%s", c.host, d)
			}
		})
	}
}
