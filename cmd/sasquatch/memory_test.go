package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sasquatch-sec/sasquatch/fixtures"
	"github.com/sasquatch-sec/sasquatch/report"
)

// TestOccurrencesBoundedMemory is issue 10 item 3: occurrences of one token
// used to be kept one by one until the repository finished (about 3.5 KB
// each). Here one token sits in 5,000 commit messages and on 100 lines of
// each of 5,000 distinct blobs: over 500,000 occurrences, about 1.7 GB the
// old way. Now the retained occurrences are capped while scanning (the rest
// counted), so the scan's peak RSS, measured on a child process (git's
// included), stays far below that.
func TestOccurrencesBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("memory tests run in the full test run, not under -short")
	}
	t.Parallel()
	const commits, lines = 5000, 100
	repo := filepath.Join(t.TempDir(), "many.git")
	if out, err := exec.Command("git", "init", "--quiet", "--bare", repo).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	tok := sasURL("contosomemory01", "SYNTHETIC-CLI-MEMORY-SIG-0000001")
	var stream bytes.Buffer
	for i := 1; i <= commits; i++ {
		msg := fmt.Sprintf("rotate %d\n\nold url: %s\n", i, tok)
		content := fmt.Sprintf("# build %d\n", i) + strings.Repeat("url = "+tok+"\n", lines)
		fmt.Fprintf(&stream, "blob\nmark :%d\ndata %d\n%s\n", 2*i, len(content), content)
		fmt.Fprintf(&stream, "commit refs/heads/main\nmark :%d\ncommitter A <a@example.invalid> %d +0000\ndata %d\n%s", 2*i+1, 1700000000+i, len(msg), msg)
		if i > 1 {
			fmt.Fprintf(&stream, "from :%d\n", 2*i-1)
		}
		fmt.Fprintf(&stream, "M 100644 :%d conf/app.ini\n\n", 2*i)
	}
	imp := exec.Command("git", "-C", repo, "fast-import", "--quiet")
	imp.Stdin = &stream
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("git fast-import: %v\n%s", err, out)
	}
	cmd := exec.Command(os.Args[0], "git", "--format", "jsonl", "-o", os.DevNull, "--quiet", "--now", fixedNow, repo)
	cmd.Env = append(os.Environ(), "SASQUATCH_TEST_MAIN=1")
	kib, out, err := childPeakKiB(t, cmd)
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != exitFindings {
		t.Fatalf("scan: %v\n%s", err, out)
	}
	rssMiB := kib / 1024
	t.Logf("peak RSS %d MiB for one token in %d commit messages and %d lines of %d blobs", rssMiB, commits, commits*lines, commits)
	// 1.7 GB the old way; the bound leaves room for a loaded machine.
	if rssMiB > 200 {
		t.Errorf("peak RSS %d MiB, want under 200 MiB: occurrences are not bounded while scanning", rssMiB)
	}
}

// TestDistinctTokensBoundedMemory: a hostile input holding more distinct
// tokens than the collector keeps (report.DefaultMaxFindings) is scanned
// with bounded memory: the tokens past the cap are counted and named as a
// problem, the run is incomplete, and the child's peak RSS stays near what
// the cap allows (about 4.5 KB per kept finding), not what the input holds.
func TestDistinctTokensBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("memory tests run in the full test run, not under -short")
	}
	t.Parallel()
	// Spread over files: the detector keeps at most 4,096 matches per
	// chunk of a file, a bound of its own.
	n := report.DefaultMaxFindings + report.DefaultMaxFindings/10
	dir := t.TempDir()
	const perFile = 1000
	for f := 0; f*perFile < n; f++ {
		var b bytes.Buffer
		for i := f * perFile; i < min(n, (f+1)*perFile); i++ {
			fmt.Fprintf(&b, "k%d = \"%s\"\n", i, fixtures.Token(i))
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d.txt", f)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "scan", "--strict", "--fail-on", "never", "--format", "jsonl", "-o", os.DevNull, "--now", fixedNow, dir)
	cmd.Env = append(os.Environ(), "SASQUATCH_TEST_MAIN=1")
	kib, out, err := childPeakKiB(t, cmd)
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != exitIncomplete {
		t.Fatalf("scan: %v (want exit %d: incomplete)\n%.2000s", err, exitIncomplete, out)
	}
	if !strings.Contains(string(out), "past the cap of") {
		t.Errorf("the dropped tokens are not reported:\n%.2000s", out)
	}
	rssMiB := kib / 1024
	t.Logf("peak RSS %d MiB for %d distinct tokens, %d kept", rssMiB, n, report.DefaultMaxFindings)
	// About 450 MiB at the cap; 1,000,000 kept would be some 4.5 GB.
	if limit := int64(report.DefaultMaxFindings) * 8 / 1024; rssMiB > limit {
		t.Errorf("peak RSS %d MiB, want under %d MiB (8 KB per kept finding)", rssMiB, limit)
	}
}
