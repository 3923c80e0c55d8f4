package detect_test

import (
	"fmt"

	"github.com/sasquatch-sec/sasquatch/detect"
)

func ExampleParse() {
	tok, err := detect.Parse("https://contosodocs.blob.core.windows.net/models/m.bin?sv=2022-11-02&sr=b&sp=r&se=2030-01-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDc%3D")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.Kind, tok.Account, tok.Cloud, tok.Resource, tok.Permissions, tok.Expiry.Format("2006-01-02"))
	fmt.Println(tok) // a Token prints redacted
	// Output:
	// service contosodocs public /models/m.bin [read] 2030-01-01
	// https://contosodocs.blob.core.windows.net/models/m.bin?sv=2022-11-02&sr=b&sp=r&se=2030-01-01T00:00:00Z&spr=https&sig=REDACTED
}

func ExampleParse_connectionString() {
	tok, err := detect.Parse("DefaultEndpointsProtocol=https;AccountName=contosokey;AccountKey=U1lOVEhFVElDLUZBS0UtQUNDT1VOVC1LRVktTk9ULUEtUkVBTC1TRUNSRVQtMDAwMDAwMDAwMDAwMDAwMDAwMA==;EndpointSuffix=core.chinacloudapi.cn")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.Kind, tok.Account, tok.Cloud, tok.Host)
	fmt.Printf("%v\n", tok.Signature)
	// Output:
	// account-key contosokey china contosokey.blob.core.chinacloudapi.cn
	// REDACTED
}

func ExampleParse_placeholder() {
	_, err := detect.Parse("https://contosodocs.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01&sig=<signature>")
	fmt.Println(err)
	// Output:
	// detect: parse "https://contosodocs.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01&sig=REDACTED": not a secret (placeholder, wrong signature length or another vendor's signature)
}

func ExampleDetector_Detect() {
	d := detect.New(detect.Config{}) // Now: zero means the wall clock
	res := d.Detect([]byte(`AZURE_STORAGE_SAS_TOKEN="sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacup&se=2099-01-01T00:00:00Z&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDc%3D"`))
	for _, m := range res.Matches {
		fmt.Println(m.Line, m.Column, m.Severity, m.Token.Kind, m.Reasons[:4])
	}
	// Output:
	// 1 26 critical account [far-future-expiry http-allowed full-control no-start-time]
}
