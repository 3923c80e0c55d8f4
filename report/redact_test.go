package report

import (
	"strings"
	"testing"
)

func TestScrub(t *testing.T) {
	t.Parallel()
	const sig = "U1lOVEhFVElDLVNDUlVCLVRFU1QtU0lHLTAwMDAwMDAwMDE"
	for _, in := range []string{
		"open https://a.blob.core.windows.net/c?sv=1&sig=" + sig + "%3D: no such file",
		"dl/model.ckpt?sv=2020-08-04&ss=b&sig=" + sig + "%3D",
		"SIG%3D" + sig,
		"x sig%253D" + sig + "%253D y",
		`"sig\u003d` + sig + `"`,
		"DefaultEndpointsProtocol=https;AccountName=a;AccountKey=" + sig + "==;EndpointSuffix=x",
	} {
		got := Scrub(in)
		if strings.Contains(got, sig) {
			t.Errorf("Scrub(%q) = %q: signature kept", in, got)
		}
		if !strings.Contains(got, "REDACTED") {
			t.Errorf("Scrub(%q) = %q: no REDACTED marker", in, got)
		}
	}
	const password = "ghp_SYNTHETICuserinfoPASSWORD0000000001"
	for _, in := range []string{
		"clone https://x-access-token:" + password + "@github.com/o/r.git: connection refused",
		"http://user:" + password + "@127.0.0.1:1/x.git",
	} {
		if got := Scrub(in); strings.Contains(got, password) || !strings.Contains(got, "REDACTED@") {
			t.Errorf("Scrub(%q) = %q: URL password kept", in, got)
		}
	}
	for _, keep := range []string{"design=nice&assign=1", "src/main.go", "a%20b", "https://github.com/o/r.git", "git@github.com:o/r.git"} {
		if got := Scrub(keep); got != keep {
			t.Errorf("Scrub(%q) = %q: changed text without a signature", keep, got)
		}
	}
}

func TestSafeText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"src/a.go":                  "src/a.go",
		"x\x1b[2J\nFAKE\r.txt":      `"x\x1b[2J\nFAKE\r.txt"`,
		"caf\u00e9/\u65e5\u672c.md": "caf\u00e9/\u65e5\u672c.md",
		"evil\u202etxt.exe":         `"evil\u202etxt.exe"`,
		"a\u2066b\u2069c":           `"a\u2066b\u2069c"`,
	} {
		if got := SafeText(in); got != want {
			t.Errorf("SafeText(%q) = %q, want %q", in, got, want)
		}
	}
}
