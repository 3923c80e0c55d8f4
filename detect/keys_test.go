package detect

import (
	"reflect"
	"strings"
	"testing"
)

// TestAccountKeyOtherForms: account keys outside a connection string are
// found where a key name holds them, with the account paired as for a bare
// token; connection-string keys are case-insensitive and survive
// percent-encoding with their account, and their redacted form is readable.
func TestAccountKeyOtherForms(t *testing.T) {
	t.Parallel()
	k := synthKey(1)
	pk := strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(k)
	cases := []struct {
		name, in string
		want     expect
		redacted string // substring of Token.Redacted
	}{
		{"az --account-key", "az storage container create -n c --account-name contosokey01 --account-key " + k + " --auth-mode key",
			expect{account: "contosokey01", host: "-", tags: []string{TagPairedAccount}}, "--account-key " + Redacted},
		{"az --account-key=, quoted", "az storage blob list --account-key=\"" + k + "\" --account-name=contosokey02",
			expect{account: "contosokey02", tags: []string{TagPairedAccount}}, Redacted},
		{"env AZURE_STORAGE_KEY", "export AZURE_STORAGE_ACCOUNT=contosokey03\nexport AZURE_STORAGE_KEY=" + k + "\n",
			expect{account: "contosokey03", tags: []string{TagPairedAccount}}, "AZURE_STORAGE_KEY=" + Redacted},
		{"terraform state primary_access_key", "{\"type\": \"azurerm_storage_account\", \"attributes\": {\n  \"name\": \"contosokey04\",\n  \"primary_access_key\": \"" + k + "\",\n  \"primary_blob_endpoint\": \"https://contosokey04.blob.core.windows.net/\"\n}}",
			expect{account: "contosokey04", host: "contosokey04.blob.core.windows.net", tags: []string{TagPairedEndpoint}}, "\"primary_access_key\": \"" + Redacted + "\""},
		{"terraform output storage_account_key", "storage_account_name = \"contosokey05\"\r\nstorage_account_key = \"" + k + "\"\r\n",
			expect{account: "contosokey05"}, Redacted},
		{"yaml accountKey", "blob:\n  accountName: contosokey06\n  accountKey: " + k + "\n",
			expect{account: "contosokey06"}, "accountKey: " + Redacted},
		{"json accountKey", "{\"storage\": {\"accountName\": \"contosokey07\", \"accountKey\": \"" + k + "\"}}",
			expect{account: "contosokey07"}, Redacted},
		{"az storage account keys list", "[\n  {\n    \"keyName\": \"key1\",\n    \"permissions\": \"FULL\",\n    \"value\": \"" + k + "\"\n  }\n]",
			expect{}, Redacted},
		{"connection string, camelCase accountKey", "defaultEndpointsProtocol=https;accountName=contosokey09;accountKey=" + k + ";endpointSuffix=core.windows.net",
			expect{account: "contosokey09", host: "contosokey09.blob.core.windows.net", tags: []string{TagConnectionString}}, "accountKey=" + Redacted},
		{"connection string, lower case", "accountname=contosokey10;accountkey=" + k,
			expect{account: "contosokey10", tags: []string{TagConnectionString}}, Redacted},
		{"connection string percent-encoded", "https://portal.contoso.test/?cs=DefaultEndpointsProtocol%3Dhttps%3BAccountName%3Dcontosokey11%3BAccountKey%3D" + pk + "%3BEndpointSuffix%3Dcore.windows.net",
			expect{account: "contosokey11", host: "contosokey11.blob.core.windows.net"}, "DefaultEndpointsProtocol=https;AccountName=contosokey11;AccountKey=" + Redacted + ";EndpointSuffix=core.windows.net"},
		{"key without an account named anywhere", "STORAGE_KEY=" + k,
			expect{host: "-", cloud: CloudNone}, Redacted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m, ok := detectOne(t, c.in)
			if !ok {
				return
			}
			c.want.kind, c.want.sev = KindAccountKey, Critical
			c.want.check(t, m)
			if !strings.Contains(m.Token.Redacted, c.redacted) || strings.Contains(m.Token.Redacted, k[:40]) {
				t.Errorf("redacted %q, want it to hold %q and no key", m.Token.Redacted, c.redacted)
			}
			if m.Fingerprint != Fingerprint(k) {
				t.Error("fingerprint is not the key's")
			}
		})
	}
	// not keys: a base64 value under another name, a longer run, a placeholder
	for _, in := range []string{
		"checksum = \"" + k + "\"",
		"--account-key " + k[:86] + "AA==",
		"AZURE_STORAGE_KEY=" + strings.Repeat("A", 86) + "==",
		"--account-key AAAA" + k,
		"batchAccountKey: " + k + "\nstorageAccountName: contosokey12",
	} {
		if res := New(Config{Now: specNow}).Detect([]byte(in)); len(res.Matches) != 0 {
			t.Errorf("%.40q: %d matches, want none", in, len(res.Matches))
		}
	}
}

// TestCosmosKeyNotStorage: AccountKey= next to a Cosmos DB endpoint (or the
// Cosmos DB emulator's published key on localhost:8081) is not a storage
// account key: no finding, counted as rejected.
func TestCosmosKeyNotStorage(t *testing.T) {
	t.Parallel()
	k := synthKey(2)
	cases := []struct{ name, in string }{
		{"cosmos connection string", "AccountEndpoint=https://contosocosmos01.documents.azure.com:443/;AccountKey=" + k + ";"},
		{"cosmos, key first", "COSMOS=AccountKey=" + k + ";AccountEndpoint=https://contosocosmos02.documents.azure.com:443/;"},
		{"cosmos, lower-case keys", "accountendpoint=https://contosocosmos03.documents.azure.com:443/;accountkey=" + k},
		{"cosmos emulator's published key", "AccountEndpoint=https://localhost:8081/;AccountKey=" + cosmosEmulatorKey},
		{"cosmos emulator key alone", "COSMOS_KEY=AccountKey=" + cosmosEmulatorKey},
		{"cosmos settings in json", "{\"CosmosDb\": {\"AccountEndpoint\": \"https://contosocosmos04.documents.azure.com:443/\", \"AccountKey\": \"" + k + "\"}}"},
		{"cosmos table api", "DefaultEndpointsProtocol=https;AccountName=contosocosmos05;AccountKey=" + k + ";TableEndpoint=https://contosocosmos05.table.cosmos.azure.com:443/;"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := New(Config{Now: specNow}).Detect([]byte(c.in))
			if len(res.Matches) != 0 || res.Rejected == 0 {
				t.Errorf("%d matches, %d rejected; want 0 and at least 1", len(res.Matches), res.Rejected)
			}
		})
	}
	// a storage key next to a Cosmos database name is still a storage key
	m, ok := detectOne(t, "{\"CosmosDatabase\": \"orders\",\n\"Storage\": {\"AccountName\": \"contosocosmos06\", \"AccountKey\": \""+k+"\"}}")
	if ok {
		expect{kind: KindAccountKey, account: "contosocosmos06", sev: Critical}.check(t, m)
	}
}

// TestCanonicalKeepsContext: the canonical form of a token or key whose
// account came from the text around it names that account, so that Parse
// gives it back without inventing a host.
func TestCanonicalKeepsContext(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"--account-name contosocanon01 --sas-token \"sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2030-01-01&sig=" + pctSig(30) + "\"",
		"AZURE_STORAGE_ACCOUNT=contosocanon02\nAZURE_STORAGE_KEY=" + synthKey(30),
		"HEAD = \"sv=2022-11-02&ss=b&srt=sco&sp=rwdl\"\nTAIL = \"se=2030-01-01&sig=" + pctSig(31) + "\"",
		"const account = 'contosocanon03';\nconst u = `https://${account}.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01&sig=" + pctSig(32) + "`;",
	} {
		tok, err := Parse(in)
		if err != nil {
			t.Errorf("%.40q: %v", in, err)
			continue
		}
		back, err := Parse(tok.Canonical().Reveal())
		if err != nil {
			t.Errorf("%.40q: canonical form does not parse: %v", in, err)
			continue
		}
		if a, b := fieldsOf(tok), fieldsOf(back); !reflect.DeepEqual(a, b) {
			t.Errorf("%.40q: round trip differs:\n%+v\n%+v", in, a, b)
		}
	}
}
