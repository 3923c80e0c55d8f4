package report_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/report"
)

// exampleMatch is a synthetic service SAS as the detector would report it
// (signature: base64 of "SYNTHETIC-TEST-EXAMPLE-SIG-00001").
func exampleMatch() detect.Match {
	sig := "U1lOVEhFVElDLVRFU1QtRVhBTVBMRS1TSUctMDAwMDE="
	q := "sv=2022-11-02&sr=b&sp=r&se=2029-09-01T00:00:00Z&spr=https&sig=" + sig
	return detect.Match{
		Line: 3, Column: 10,
		Token: detect.Token{
			Kind: detect.KindService, Account: "contosocdn07", Host: "contosocdn07.blob.core.windows.net", Cloud: "public",
			Services: []string{"blob"}, Resource: "/public/setup.zip", Permissions: []string{"read"}, SP: "r",
			Expiry:    time.Date(2029, 9, 1, 0, 0, 0, 0, time.UTC),
			Signature: detect.NewSecret(sig), Query: detect.NewSecret(q),
			Redacted: "sv=2022-11-02&sr=b&sp=r&se=2029-09-01T00:00:00Z&spr=https&sig=REDACTED",
		},
		Severity:    detect.Low,
		Reasons:     []string{"single-object"},
		Fingerprint: detect.Fingerprint(sig),
	}
}

func ExampleNewFinding() {
	f := report.NewFinding(exampleMatch(), false)
	fmt.Println(f.Severity, f.Kind, f.Account, f.Expiry.Format(time.RFC3339))
	fmt.Println(f.Redacted)
	fmt.Printf("token revealed: %q\n", f.Token)
	// Output:
	// low service contosocdn07 2029-09-01T00:00:00Z
	// sv=2022-11-02&sr=b&sp=r&se=2029-09-01T00:00:00Z&spr=https&sig=REDACTED
	// token revealed: ""
}

func ExampleJSONL() {
	c := report.NewCollector(report.CollectorOptions{})
	m := exampleMatch()
	c.Add(report.Location{Path: "README.md", Line: 3, Column: 10}, m)
	c.Add(report.Location{Path: "README.md", Line: 3, Column: 10}, m) // same occurrence: merged

	sink := report.NewJSONL(os.Stdout)
	for _, f := range c.Findings() {
		if err := sink.Write(context.Background(), f); err != nil {
			fmt.Println(err)
		}
	}
	if err := sink.Close(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"type":"finding","fingerprint":"cc69d6606feab7993686f836a85c7a33","severity":"low","kind":"service","account":"contosocdn07","host":"contosocdn07.blob.core.windows.net","cloud":"public","services":["blob"],"resource_types":[],"resource":"/public/setup.zip","permissions":["read"],"sp":"r","start":null,"expiry":"2029-09-01T00:00:00Z","expired":false,"reasons":["single-object"],"redacted":"sv=2022-11-02&sr=b&sp=r&se=2029-09-01T00:00:00Z&spr=https&sig=REDACTED","remediation":"1. Rotate the account key that signed it: regenerate key1 or key2 of storage account \"contosocdn07\" (the token does not say which key signed it: regenerate the one used to create SAS tokens, or both in turn, moving legitimate clients to the other key first). Regenerating the signing key is the only way to revoke an ad hoc SAS at once; every SAS signed with that key stops working.\n2. Re-issue the SAS tokens legitimate clients still need: short-lived, least-privilege, preferably user delegation SAS, and delivered through a secret store rather than source files.\n3. Set a SAS expiration policy on storage account \"contosocdn07\" (sasPolicy with the Block action) so that long-lived SAS are refused.\n4. Prefer user delegation SAS (signed with Microsoft Entra credentials, capped at 7 days) over account keys and account or service SAS.\n5. Check the storage logs (Azure Monitor resource logs such as StorageBlobLogs) of storage account \"contosocdn07\" for requests authorized by SAS during the exposure window, from when the token was first published to now.","locations":[{"path":"README.md","line":3,"column":10}]}
}
