package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const hostileToken = "https://contosohostile01.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2031-01-01T00:00:00Z&sig=U1lOVEhFVElDLUNMSS1URVNULVNJRy0wMDAwMDAwMDM%3D"

// TestHostileInput is issue 2's "bad input" list: each bad thing gets a clear
// message or a recorded skip, never a crash or hang, and the findings from
// everything else are still reported.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "good.txt"), "url: "+hostileToken+"\n")
	write(t, filepath.Join(dir, "nul.bin"), string(make([]byte, 1<<20)))
	write(t, filepath.Join(dir, "invalid-utf8.txt"), "\xff\xfe\xfd sig= \xc3\x28 "+strings.Repeat("\x80", 1000)+"\n")
	// A 5 MiB minified line with the token at its very end.
	line := bytes.Repeat([]byte("var a=1;"), 5<<20/8)
	write(t, filepath.Join(dir, "min.js"), string(line)+"x='"+strings.Replace(hostileToken, "contosohostile01", "contosohostile02", 1)+"'")
	// A 2 GiB file (sparse: no disk), bigger than the default file limit.
	big, err := os.Create(filepath.Join(dir, "huge.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(2 << 30); err != nil {
		t.Fatal(err)
	}
	big.Close()
	// A directory loop through symbolic links.
	if err := os.Mkdir(filepath.Join(dir, "loop"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(dir, "loop", "up")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("b", filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.txt")

	out, stderr, code := runCLI(t, "", "scan", "--format", "jsonl", "--now", fixedNow, dir, missing)
	if code != exitFindings {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitFindings, stderr)
	}
	accounts := map[string]bool{}
	for _, f := range readJSONL(t, out) {
		accounts[f.Account] = true
	}
	for _, want := range []string{"contosohostile01", "contosohostile02"} {
		if !accounts[want] {
			t.Errorf("finding for %s missing; got %v", want, accounts)
		}
	}
	for _, want := range []string{"missing.txt", "no such file", "too-large", "symlink", "INCOMPLETE"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary does not mention %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine") {
		t.Errorf("crash output on stderr:\n%s", stderr)
	}
}

// TestUnreadableFile: as root (CI) permissions do not stop reading, so the
// case is covered where it can be.
func TestUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: a mode-000 file is still readable; crawler tests cover unreadable entries")
	}
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "good.txt"), hostileToken+"\n")
	p := filepath.Join(dir, "secret.txt")
	write(t, p, "x")
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "", "scan", "--strict", "--now", fixedNow, dir)
	if code != exitFindings || !strings.Contains(stderr, "unreadable") {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
}
