package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sasquatch-sec/sasquatch/fixtures/fakegh"
	"github.com/sasquatch-sec/sasquatch/fixtures/history"
)

// skippedLine returns the summary's "skipped:" line.
func skippedLine(t *testing.T, stderr string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^sasquatch: (skipped: .*)$`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no skipped line in:\n%s", stderr)
	}
	return m[1]
}

// scannedCount returns the number of blobs or files in the summary's
// "scanned" line.
func scannedCount(t *testing.T, stderr, unit string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^sasquatch: scanned (?:\d+ repositor(?:y|ies), )?(\d+) ` + unit).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no scanned line in:\n%s", stderr)
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// TestSkipCountedOnce is issue 7's defect: one oversized file or blob is
// exactly one too-large skip in scan, git and github (it was counted twice,
// once as yielded and once from the source's coverage).
func TestSkipCountedOnce(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("0123456789abcdef", 270177/16+1)[:270177]

	t.Run("scan", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		write(t, filepath.Join(dir, "big.bin"), big)
		write(t, filepath.Join(dir, "small.txt"), "hello\n")
		_, stderr, code := runCLI(t, "", "scan", "--max-file-size", "1000", dir)
		if code != exitClean {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		if got, want := skippedLine(t, stderr), "skipped: 1 (too-large 1), 263.8 KiB not scanned"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("git", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "repo")
		b := history.New(t, dir, false)
		b.Write("big.bin", big)
		b.Write("small.txt", "hello\n")
		b.Commit("init")
		_, stderr, code := runCLI(t, "", "git", "--max-blob-size", "1000", dir)
		if code != exitClean {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		if got, want := skippedLine(t, stderr), "skipped: 1 (too-large 1), 263.8 KiB not scanned"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("github", func(t *testing.T) {
		t.Parallel()
		gh := fakegh.New(t)
		gh.AddRepo(t, 7, "acme", "big", map[string]string{"big.bin": big, "small.txt": "hello\n"})
		_, stderr, code := runCLI(t, "", "github", "--api-url", gh.APIURL(), "--org", "acme", "--max-blob-size", "1000")
		if code != exitClean {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		if got, want := skippedLine(t, stderr), "skipped: 1 (too-large 1), 263.8 KiB not scanned"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

// TestCmdStartsNoGoroutine is issue 7's "cmd/sasquatch starts no goroutine":
// the command is wiring only; the pipeline package owns concurrency.
func TestCmdStartsNoGoroutine(t *testing.T) {
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files++
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: go statement", fset.Position(n.Pos()))
			case *ast.ChanType:
				t.Errorf("%s: channel type", fset.Position(n.Pos()))
			}
			return true
		})
	}
	if files < 5 {
		t.Fatalf("parsed %d files: the test would prove nothing", files)
	}
}

// TestBareAndURLAreOneFinding is issue 7 "must be true" 4: the same
// signature bare in .env and as a URL in README.md is one finding with both
// locations, named by the URL's account.
func TestBareAndURLAreOneFinding(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	url := sasURL("contosoonefp01", "SYNTHETIC-CLI-ONEFP-SIG-00000001")
	_, query, _ := strings.Cut(url, "?")
	write(t, filepath.Join(dir, ".env"), "AZURE_SAS="+query+"\n")
	write(t, filepath.Join(dir, "README.md"), "# data\n\nDownload: "+url+"\n")
	out, stderr, code := runCLI(t, "", "scan", "--format", "jsonl", "--now", fixedNow, dir)
	if code != exitFindings {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	fs := readJSONL(t, out)
	if len(fs) != 1 {
		t.Fatalf("%d findings, want 1: %+v", len(fs), fs)
	}
	f := fs[0]
	var paths []string
	for _, l := range f.Locations {
		paths = append(paths, fmt.Sprintf("%s:%d", l.Path, l.Line))
	}
	if f.Account != "contosoonefp01" || f.Host != "contosoonefp01.blob.core.windows.net" || strings.Join(paths, " ") != ".env:1 README.md:3" {
		t.Errorf("finding account %q host %q locations %v; want the URL's account and both locations", f.Account, f.Host, paths)
	}
}

// TestGitHubIncremental is issue 7 "must be true" 5: with --cache-dir and
// tips saved, a second run with nothing new downloads no pack and scans no
// blob; after one new commit in one repository, only that repository is
// fetched and only its new objects are scanned.
func TestGitHubIncremental(t *testing.T) {
	t.Parallel()
	gh := fakegh.New(t)
	gh.AddRepo(t, 11, "acme", "web", map[string]string{"deploy.sh": "azcopy copy \"" + sasURL("contosoinc01", "SYNTHETIC-CLI-INCR-SIG-000000001") + "\" .\n", "README.md": "# web\n"})
	gh.AddRepo(t, 12, "acme", "api", map[string]string{"main.go": "package main\n"})
	gh.AddRepo(t, 13, "acme", "docs", map[string]string{"index.md": "# docs\n"})
	cache, tips := t.TempDir(), filepath.Join(t.TempDir(), "tips.txt")
	args := []string{"github", "--api-url", gh.APIURL(), "--org", "acme", "--format", "jsonl", "--now", fixedNow, "--cache-dir", cache}

	out, stderr, code := runCLI(t, "", append(args, "--save-tips", tips)...)
	if code != exitFindings || len(readJSONL(t, out)) != 1 {
		t.Fatalf("first run: exit %d, out %s\n%s", code, out, stderr)
	}
	if got := gh.Packs(); len(got) != 3 {
		t.Fatalf("first run fetched %v, want the 3 repositories", got)
	}
	saved, _ := os.ReadFile(tips)
	for _, key := range []string{"github:11", "github:12", "github:13"} {
		if !strings.Contains(string(saved), key) {
			t.Errorf("tips file lacks %s:\n%s", key, saved)
		}
	}

	// Nothing new: no pack, no blob.
	out, stderr, code = runCLI(t, "", append(args, "--since-tips", tips, "--save-tips", tips)...)
	if code != exitClean || len(readJSONL(t, out)) != 0 {
		t.Fatalf("second run: exit %d, out %q\n%s", code, out, stderr)
	}
	if got := gh.Packs(); len(got) != 0 {
		t.Errorf("second run downloaded packs %v, want none", got)
	}
	if n := scannedCount(t, stderr, "blobs"); n != 0 {
		t.Errorf("second run scanned %d blobs, want 0:\n%s", n, stderr)
	}

	// One new commit in one repository: only it is fetched, only its new
	// objects (a blob, its tree, the commit message) are scanned.
	gh.Commit(t, "acme/api", "conf/storage.txt", sasURL("contosoinc02", "SYNTHETIC-CLI-INCR-SIG-000000002")+"\n")
	out, stderr, code = runCLI(t, "", append(args, "--since-tips", tips, "--save-tips", tips)...)
	fs := readJSONL(t, out)
	if code != exitFindings || len(fs) != 1 || fs[0].Account != "contosoinc02" {
		t.Fatalf("third run: exit %d, findings %+v\n%s", code, fs, stderr)
	}
	if got := gh.Packs(); len(got) != 1 || got["/acme/api.git"] != 1 {
		t.Errorf("third run downloaded packs %v, want one for acme/api only", got)
	}
	if n := scannedCount(t, stderr, "blobs"); n != 2 {
		t.Errorf("third run scanned %d blobs and messages, want 2 (the new file and the commit message):\n%s", n, stderr)
	}
}
