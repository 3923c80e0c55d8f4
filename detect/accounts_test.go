package detect

import (
	"strings"
	"testing"
)

// TestHostOnlyFromSchemeOrStorageName: a host comes from scheme://host, a
// connection-string endpoint or a storage host name. A file name in front
// of "?sv=" is not a host; such a token pairs with the nearest endpoint.
func TestHostOnlyFromSchemeOrStorageName(t *testing.T) {
	t.Parallel()
	sig := pctSig(10)
	cases := []struct {
		name, in string
		want     expect
	}{
		{"checkpoint file name",
			"ROOT = \"https://contosohost01.blob.core.windows.net/ckpt/\"\nw = ROOT + \"model_eps3.ckpt?sv=2020-08-04&ss=b&srt=sco&sp=rl&se=2031-01-01T00:00:00Z&sig=" + sig + "\"",
			expect{kind: KindAccount, account: "contosohost01", host: "contosohost01.blob.core.windows.net", cloud: CloudPublic, sev: Critical, tags: []string{TagPairedEndpoint}, notTags: []string{"cloud=custom"}}},
		{"video file name, endpoint after",
			"clip_1000.mp4?sv=2021-08-06&sr=b&sp=r&se=2030-01-01&sig=" + sig + "\n# served from https://contosohost02.blob.core.windows.net/videos\n",
			expect{kind: KindService, account: "contosohost02", host: "contosohost02.blob.core.windows.net", sev: Low, tags: []string{TagPairedEndpoint}}},
		{"file name, no endpoint anywhere",
			"weights/best.pt?sv=2021-08-06&sr=b&sp=r&se=2030-01-01&sig=" + sig,
			expect{kind: KindService, host: "-", cloud: CloudNone, sev: Low, tags: []string{TagNoEndpoint}}},
		{"storage host name without a scheme",
			"contosohost04.blob.core.windows.net/c/a.bin?sv=2021-08-06&sr=b&sp=rw&se=2030-01-01&sig=" + sig,
			expect{kind: KindService, account: "contosohost04", host: "contosohost04.blob.core.windows.net", sev: Medium, notTags: []string{TagPairedEndpoint}}},
		{"custom domain with a scheme stays a host",
			"https://files.contoso.test/c/a.bin?sv=2021-08-06&sr=b&sp=r&se=2030-01-01&sig=" + sig,
			expect{kind: KindService, host: "files.contoso.test", cloud: CloudCustom, sev: Low}},
		{"markdown autolink with spaces",
			"Get it <https://contosohost06.blob.core.windows.net/shared docs/Q3 report.pdf?sv=2022-11-02&sr=b&sp=r&se=2030-01-01&sig=" + sig + "> today.",
			expect{kind: KindService, account: "contosohost06", host: "contosohost06.blob.core.windows.net", sev: Low}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if m, ok := detectOne(t, c.in); ok {
				c.want.check(t, m)
			}
		})
	}
	m, ok := detectOne(t, "<https://contosohost06.blob.core.windows.net/shared docs/Q3 report.pdf?sv=2022-11-02&sr=b&sp=r&se=2030-01-01&sig="+sig+">")
	if ok && m.Token.Resource != "/shared docs/Q3 report.pdf" {
		t.Errorf("autolink resource %q", m.Token.Resource)
	}
}

// TestPairedAccount: a bare token takes the account named nearest to it in
// every common form, tagged paired-account; nearest wins, before or after;
// an endpoint nearer than the name wins over it.
func TestPairedAccount(t *testing.T) {
	t.Parallel()
	tok := "sv=2022-11-02&ss=b&srt=sco&sp=rwdl&se=2030-01-01T00:00:00Z&sig=" + pctSig(11)
	cases := []struct {
		name, in, account string
		tag               string
	}{
		{"az --account-name", "az storage blob list --account-name contosopair01 -c logs --sas-token \"" + tok + "\"", "contosopair01", TagPairedAccount},
		{"azcopy-style --account-name=", "tool --account-name=contosopair02 --sas '" + tok + "'", "contosopair02", TagPairedAccount},
		{"connection string AccountName, no endpoint", "AccountName=contosopair03;SharedAccessSignature=" + tok, "contosopair03", ""},
		{"env AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_ACCOUNT=contosopair04\r\nAZURE_STORAGE_SAS_TOKEN=" + tok + "\r\n", "contosopair04", TagPairedAccount},
		{"terraform account_name", "resource \"x\" \"y\" {\n  account_name = \"contosopair05\"\n  sas          = \"?" + tok + "\"\n}", "contosopair05", TagPairedAccount},
		{"terraform storage_account_name", "storage_account_name = \"contosopair06\"\nsas_token = \"" + tok + "\"", "contosopair06", TagPairedAccount},
		{"json accountName", "{\n  \"accountName\": \"contosopair07\",\n  \"sas\": \"" + tok + "\"\n}", "contosopair07", TagPairedAccount},
		{"yaml accountName", "storage:\n  accountName: contosopair08\n  sasToken: '" + tok + "'\n", "contosopair08", TagPairedAccount},
		{"bicep param", "param storageAccountName string = 'contosopair09'\nvar sas = '" + tok + "'\n", "contosopair09", TagPairedAccount},
		{"powershell -StorageAccountName", "New-AzStorageContext -StorageAccountName \"contosopair10\" -SasToken \"?" + tok + "\"", "contosopair10", TagPairedAccount},
		{"name after the token", "SAS=" + tok + "\nSTORAGE_ACCOUNT_NAME=contosopair11\n", "contosopair11", TagPairedAccount},
		{"nearest name wins", "account_name = \"contosopair12\"\n" + strings.Repeat("# filler line\n", 20) + "account_name = \"contosopair13\"\nsas = \"" + tok + "\"", "contosopair13", TagPairedAccount},
		{"nearer endpoint wins over a name", "account_name = \"contosopair14\"\n" + strings.Repeat("# filler line\n", 20) + "url = \"https://contosopair15.blob.core.windows.net\"\nsas = \"" + tok + "\"", "contosopair15", TagPairedEndpoint},
		{"name's endpoint gives the host", "url = \"https://contosopair16.blob.core.windows.net\"\nother = \"https://contosopair17.blob.core.windows.net\"\n" + strings.Repeat("# filler\n", 30) + "--account-name contosopair16 --sas-token \"" + tok + "\"", "contosopair16", TagPairedAccount},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m, ok := detectOne(t, c.in)
			if !ok {
				return
			}
			e := expect{kind: KindAccount, account: c.account, sev: Critical}
			if c.tag != "" {
				e.tags = []string{c.tag}
			}
			e.check(t, m)
		})
	}
	// not account names: a comparison, a variable, a name with a template
	for _, in := range []string{
		"if account_name == \"contosopair18\" {}\nsas = \"" + tok + "\"",
		"account_name = var.name\nsas = \"" + tok + "\"",
		"accountName: ${ACCOUNT}\nsas: \"" + tok + "\"",
		"account_name = \"contosopair19.blob\"\nsas = \"" + tok + "\"",
	} {
		if m, ok := detectOne(t, in); ok && m.Token.Account != "" {
			t.Errorf("%q: account %q, want none", in, m.Token.Account)
		}
	}
}

// TestConnectionStringSASHost: a SharedAccessSignature= takes the endpoint
// of its own connection string for the service it is used for (the
// BlobEndpoint when there is one), as written, not the nearest endpoint.
func TestConnectionStringSASHost(t *testing.T) {
	t.Parallel()
	sas := "SharedAccessSignature=sv=2022-11-02&ss=bq&srt=sco&sp=rwdl&se=2030-01-01T00:00:00Z&sig=" + pctSig(12)
	cases := []struct {
		name, in string
		want     expect
	}{
		{"blob endpoint after the queue endpoint",
			"QueueEndpoint=https://contosocs01.queue.core.windows.net/;BlobEndpoint=https://contosocs01.blob.core.windows.net/;" + sas,
			expect{account: "contosocs01", host: "contosocs01.blob.core.windows.net", sev: Critical, notTags: []string{TagPairedEndpoint}}},
		{"endpoints after the signature",
			sas + ";BlobEndpoint=https://contosocs02.blob.core.windows.net",
			expect{account: "contosocs02", host: "contosocs02.blob.core.windows.net", sev: Critical}},
		{"azurite compose service, not rewritten",
			"BlobEndpoint=http://azurite1:10000/devstoreaccount1/;" + sas,
			expect{account: "devstoreaccount1", host: "azurite1:10000", cloud: CloudEmulator, sev: Info, tags: []string{TagEmulator}}},
		{"queue-only token takes the queue endpoint",
			"BlobEndpoint=https://contosocs04.blob.core.windows.net;QueueEndpoint=https://contosocs04.queue.core.windows.net;SharedAccessSignature=sv=2022-11-02&ss=q&srt=sco&sp=raup&se=2030-01-01&sig=" + pctSig(12),
			expect{account: "contosocs04", host: "contosocs04.queue.core.windows.net", sev: Critical}},
		{"another account's endpoint nearby is not it",
			"# https://contosocs05.blob.core.windows.net\nBlobEndpoint=https://contosocs06.blob.core.windows.net/;" + sas,
			expect{account: "contosocs06", host: "contosocs06.blob.core.windows.net", sev: Critical}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if m, ok := detectOne(t, c.in); ok {
				c.want.kind = KindAccount
				c.want.tags = append(c.want.tags, TagConnectionString)
				c.want.check(t, m)
			}
		})
	}
}
