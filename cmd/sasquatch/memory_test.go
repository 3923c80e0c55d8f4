package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
