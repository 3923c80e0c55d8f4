package main

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// TestScrubAttr: log attributes built from user input (a path that is a SAS
// URL, a library error quoting one) are scrubbed by the CLI's logger.
// report.TestScrub covers the forms of signature it masks.
func TestScrubAttr(t *testing.T) {
	t.Parallel()
	const sig = "U1lOVEhFVElDLVNDUlVCLVRFU1QtU0lHLTAwMDAwMDAwMDE"
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: scrubAttr}))
	log.Warn("x", "path", "a?sig="+sig, "err", errors.New("b&sig="+sig))
	if strings.Contains(buf.String(), sig) {
		t.Errorf("log line leaks: %s", buf.String())
	}
	if strings.Count(buf.String(), "REDACTED") != 2 {
		t.Errorf("want both attributes masked: %s", buf.String())
	}
}
