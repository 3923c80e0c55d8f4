package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const hostileToken = "https://contosohostile01.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2031-01-01T00:00:00Z&sig=U1lOVEhFVElDLUNMSS1URVNULVNJRy0wMDAwMDAwMDM%3D"

// hostileToken02 is another token (its own signature, so its own finding).
const hostileToken02 = "https://contosohostile02.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2031-01-01T00:00:00Z&sig=U1lOVEhFVElDLUNMSS1URVNULVNJRy0wMDAwMDAwMDQ%3D"

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
	write(t, filepath.Join(dir, "min.js"), string(line)+"x='"+hostileToken02+"'")
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

// TestChunkBoundary: files larger than one 8 MiB chunk, with a token cut by
// the chunk boundary, near it, and on a minified line crossing it: each is
// reported once, whole (not as a truncated prefix), at its real line and
// column.
func TestChunkBoundary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const chunk = 8 << 20
	lines := strings.Repeat(strings.Repeat("x", 99)+"\n", chunk/100) // 100-byte lines
	cases := map[string]struct {
		pos      int // byte offset of the token
		line     int
		column   int
		minified bool
	}{
		"straddle.txt": {pos: chunk - 60},
		"before.txt":   {pos: chunk - 70000},
		"min.js":       {pos: chunk - 30, minified: true},
	}
	for name, c := range cases {
		var content string
		account := "contosochunk" + strings.TrimSuffix(strings.ReplaceAll(name, ".", ""), "txt")[:4]
		tok := strings.Replace(hostileToken, "contosohostile01", account, 1)
		// Its own signature too: one token is one finding whatever the account.
		tok = strings.Replace(tok, "MDM%3D", base64.StdEncoding.EncodeToString([]byte(account[len(account)-2:]))[:2]+"M%3D", 1)
		if c.minified {
			content = strings.Repeat("a", c.pos-2) + "=\"" + tok + "\";" + strings.Repeat("b", 1<<20) + "\n"
			c.line, c.column = 1, c.pos+1
		} else {
			content = lines[:c.pos-1] + " " + tok + "\n" + lines
			c.line = strings.Count(lines[:c.pos], "\n") + 1
			c.column = c.pos - strings.LastIndexByte(lines[:c.pos], '\n')
		}
		cases[name] = c
		write(t, filepath.Join(dir, name), content)
	}
	out, stderr, code := runCLI(t, "", "scan", "--format", "jsonl", "--now", fixedNow, dir)
	if code != exitFindings {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	fs := readJSONL(t, out)
	if len(fs) != len(cases) {
		t.Errorf("%d findings, want %d (one per file, no truncated duplicates): %+v", len(fs), len(cases), fs)
	}
	for _, f := range fs {
		if len(f.Locations) != 1 || f.Severity.String() != "critical" {
			t.Errorf("%s: severity %s, %d locations %+v; want one critical", f.Account, f.Severity, len(f.Locations), f.Locations)
			continue
		}
		l := f.Locations[0]
		c := cases[l.Path]
		if l.Line != c.line || l.Column != c.column {
			t.Errorf("%s: at %d:%d, want %d:%d", l.Path, l.Line, l.Column, c.line, c.column)
		}
	}
}
