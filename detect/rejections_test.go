package detect

import (
	"fmt"
	"strings"
	"testing"
)

// TestRejectionsListed is issue 9 item 11's detector side: rejected
// candidates are listed with a stable reason and masked, at most
// MaxRejections of them, while Rejected counts all.
func TestRejectionsListed(t *testing.T) {
	t.Parallel()
	d := New(Config{})
	tests := []struct {
		in, reason string
	}{
		{"https://contosorej.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=r&se=2030-01-01T00:00:00Z&sig=<signature>", rejPlaceholder},
		{"https://contosorej.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=r&se=2030-01-01T00:00:00Z&sig=U1lOVEhFVElDLTE2LUJZVA%3D%3D", rejLength},
		{"DefaultEndpointsProtocol=https;AccountName=contosorej;AccountKey=XXXXXXXX;EndpointSuffix=core.windows.net", rejPlaceholder},
	}
	for _, tc := range tests {
		res := d.Detect([]byte("x = \"" + tc.in + "\"\n"))
		if res.Rejected != 1 || len(res.Rejections) != 1 || res.Rejections[0].Reason != tc.reason {
			t.Errorf("%s: rejected %d %+v, want one %s", tc.in, res.Rejected, res.Rejections, tc.reason)
			continue
		}
		if r := res.Rejections[0].Redacted; !strings.Contains(r, Redacted) || strings.Contains(r, "U1lOVEhFVElDLTE2") || strings.Contains(r, "XXXXXXXX") {
			t.Errorf("%s: redacted %q", tc.in, r)
		}
	}
	var many strings.Builder
	for i := range MaxRejections + 5 {
		fmt.Fprintf(&many, "u%d = \"https://contosorej.blob.core.windows.net/c%d?sv=2022-11-02&sr=c&sp=r&se=2030-01-01T00:00:00Z&sig=<sig>\"\n", i, i)
	}
	res := d.Detect([]byte(many.String()))
	if res.Rejected != MaxRejections+5 || len(res.Rejections) != MaxRejections {
		t.Errorf("rejected %d, listed %d; want %d and %d", res.Rejected, len(res.Rejections), MaxRejections+5, MaxRejections)
	}
}

// TestMaskSecretBytes: masking works on bytes, whatever the text holds
// (a fuzz crasher: lower-casing invalid UTF-8 changed its length).
func TestMaskSecretBytes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a=1&sig=abc&b=2":               "a=1&sig=REDACTED&b=2",
		"SIG=abc;Sig=def":               "SIG=REDACTED;Sig=REDACTED",
		"<http:// ?0000000\x8d&sig%3D>": "<http:// ?0000000\x8d&sig%3D>",
		"\x8d\xff sig=x\x8d y":          "\x8d\xff sig=REDACTED y",
		"sig=":                          "sig=REDACTED",
	} {
		if got := maskSecret(in, "sig="); got != want {
			t.Errorf("maskSecret(%q) = %q, want %q", in, got, want)
		}
	}
}
