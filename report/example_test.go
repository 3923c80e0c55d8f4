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
	// {"fingerprint":"cc69d6606feab7993686f836a85c7a33","severity":"low","kind":"service","account":"contosocdn07","host":"contosocdn07.blob.core.windows.net","cloud":"public","services":["blob"],"resource_types":[],"resource":"/public/setup.zip","permissions":["read"],"sp":"r","start":null,"expiry":"2029-09-01T00:00:00Z","expired":false,"reasons":["single-object"],"redacted":"sv=2022-11-02&sr=b&sp=r&se=2029-09-01T00:00:00Z&spr=https&sig=REDACTED","locations":[{"path":"README.md","line":3,"column":10}]}
}
