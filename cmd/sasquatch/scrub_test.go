package main

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestScrub(t *testing.T) {
	t.Parallel()
	const sig = "U1lOVEhFVElDLVNDUlVCLVRFU1QtU0lHLTAwMDAwMDAwMDE"
	for _, in := range []string{
		"open https://a.blob.core.windows.net/c?sv=1&sig=" + sig + "%3D: no such file",
		"SIG%3D" + sig,
		"x sig%253D" + sig + "%253D y",
		`"sig\u003d` + sig + `"`,
		"DefaultEndpointsProtocol=https;AccountName=a;AccountKey=" + sig + "==;EndpointSuffix=x",
	} {
		got := scrub(in)
		if strings.Contains(got, sig) {
			t.Errorf("scrub(%q) = %q: signature kept", in, got)
		}
		if !strings.Contains(got, "REDACTED") {
			t.Errorf("scrub(%q) = %q: no REDACTED marker", in, got)
		}
	}
	if got := scrub("design=nice&assign=1"); got != "design=nice&assign=1" {
		t.Errorf("scrub changed text without a signature: %q", got)
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: scrubAttr}))
	log.Warn("x", "path", "a?sig="+sig, "err", errors.New("b&sig="+sig))
	if strings.Contains(buf.String(), sig) {
		t.Errorf("log line leaks: %s", buf.String())
	}
}
