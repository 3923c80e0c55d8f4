package main

import (
	"encoding/json"
	"fmt"
	"github.com/sasquatch-sec/sasquatch/fixtures/fakegh"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/sasquatch-sec/sasquatch/fixtures/history"
)

// Tests of issue 9: a CLI people trust on the first try. Each test names the
// item it covers.

// stable replaces what changes from run to run in a summary (the elapsed
// time and rate) and the given temporary directories.
func stable(s string, dirs map[string]string) string {
	s = regexp.MustCompile(` in [0-9.]+(?:[µnm]?s|[0-9hm.]+s)(?: \([0-9.]+ [KMGT]?i?B/s\))?`).ReplaceAllString(s, " in ELAPSED")
	for dir, name := range dirs {
		s = strings.ReplaceAll(s, dir, name)
	}
	return s
}

// noDoubledPrefix fails when a line repeats a prefix ("github: github: ").
func noDoubledPrefix(t *testing.T, s string) {
	t.Helper()
	for _, line := range strings.Split(s, "\n") {
		if dedupPrefixes(line) != line {
			t.Errorf("doubled prefix in %q", line)
		}
	}
}

// Item 1: nothing could be listed (no network, a wrong --api-url, a typo):
// exit 2 and one clear line naming the target.
func TestGitHubNothingListed(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v3/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Not Found"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tc := range []struct {
		name, api string
		target    []string
		want      string
	}{
		{"no network, --repo", "http://127.0.0.1:1/api/v3/", []string{"--repo", "contoso/website"}, "repo contoso/website"},
		{"no network, --user", "http://127.0.0.1:1/api/v3/", []string{"--user", "alice"}, "user alice"},
		{"not found, --repo", srv.URL + "/api/v3/", []string{"--repo", "contoso/website"}, "repo contoso/website"},
		{"not found, --org", srv.URL + "/api/v3/", []string{"--org", "contoso"}, "org contoso"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, stderr, code := runCLI(t, "", append([]string{"github", "--api-url", tc.api}, tc.target...)...)
			if code != exitError || out != "" {
				t.Fatalf("exit %d, want %d; stdout %q; stderr:\n%s", code, exitError, out, stderr)
			}
			var errLines []string
			for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if !strings.Contains(l, "warning: no GitHub token") {
					errLines = append(errLines, l)
				}
			}
			if len(errLines) != 1 || !strings.HasPrefix(errLines[0], "sasquatch: github: could not list "+tc.want) {
				t.Errorf("want one line naming %q, got:\n%s", tc.want, stderr)
			}
			if strings.Contains(stderr, "--help") || strings.Contains(stderr, "findings:") {
				t.Errorf("a listing failure prints a usage hint or a summary:\n%s", stderr)
			}
			noDoubledPrefix(t, stderr)
		})
	}
}

// Item 2: a missing path says only that nothing could be scanned (and
// why), with no coverage line; git says "not found".
func TestMissingPathMessages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "does-not-exist")
	dirs := map[string]string{dir: "$TMP"}
	_, scanErr, code := runCLI(t, "", "scan", missing)
	if code != exitError {
		t.Errorf("scan: exit %d, want 2", code)
	}
	_, gitErr, code := runCLI(t, "", "git", missing)
	if code != exitError {
		t.Errorf("git: exit %d, want 2", code)
	}
	got := "$ sasquatch scan $TMP/does-not-exist\n" + stable(scanErr, dirs) + "$ sasquatch git $TMP/does-not-exist\n" + stable(gitErr, dirs)
	golden(t, "missing.stderr.golden", got)
	if strings.Contains(got, "coverage:") || strings.Contains(got, "not a git repository") {
		t.Errorf("want no coverage line and no 'not a git repository':\n%s", got)
	}
}

// Item 3: an empty directory is not a silent clean run: a warning, exit 0,
// exit 3 with --strict.
func TestEmptyDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, stderr, code := runCLI(t, "", "scan", dir)
	if code != exitClean {
		t.Errorf("exit %d, want 0", code)
	}
	golden(t, "empty.stderr.golden", stable(stderr, nil))
	if _, _, code := runCLI(t, "", "scan", "--strict", dir); code != exitIncomplete {
		t.Errorf("--strict: exit %d, want 3", code)
	}
	_, stderr, _ = runCLI(t, "", "scan", "-q", dir)
	if !strings.Contains(stderr, "warning: nothing was scanned") {
		t.Errorf("--quiet hides the warning:\n%s", stderr)
	}
	// An empty repository too.
	repo := filepath.Join(t.TempDir(), "repo")
	history.New(t, repo, true)
	_, stderr, code = runCLI(t, "", "git", "--strict", repo)
	if code != exitIncomplete && code != exitError || !strings.Contains(stderr, "nothing") {
		t.Errorf("empty repository: exit %d; stderr:\n%s", code, stderr)
	}
}

// Item 4: errors that are not usage errors carry no usage hint and never
// the temporary file's name.
func TestNonUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.txt"), "hello\n")
	out := filepath.Join(dir, "nope", "x.json")
	_, stderr, code := runCLI(t, "", "scan", "-o", out, dir)
	if code != exitError {
		t.Errorf("exit %d, want 2", code)
	}
	if want := "sasquatch: --output " + out + ": no such file or directory\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	// A usage error still points at --help.
	_, stderr, _ = runCLI(t, "", "scan", "--format", "xml", dir)
	if !strings.Contains(stderr, "Run 'sasquatch --help' for usage.") {
		t.Errorf("a usage error lost its hint:\n%s", stderr)
	}
}

// Item 5: one log style. Without --verbose, warnings are "sasquatch:
// warning:" lines and nothing looks like slog; --verbose adds slog's text
// lines; --log-format json writes JSON lines. No doubled prefixes.
func TestLogStyle(t *testing.T) {
	t.Parallel()
	repo := filepath.Join(t.TempDir(), "repo")
	b := history.New(t, repo, false)
	b.Write("big.bin", strings.Repeat("x", 5000))
	b.Commit("big")
	tips := filepath.Join(t.TempDir(), "tips")
	args := []string{"git", "--max-blob-size", "1000", "--save-tips", tips, repo}

	_, stderr, _ := runCLI(t, "", args...)
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !strings.HasPrefix(l, "sasquatch: ") || strings.Contains(l, "level=") {
			t.Errorf("default: a line not in the sasquatch: style: %q", l)
		}
	}
	if !strings.Contains(stderr, "sasquatch: warning: coverage incomplete: tips not saved") {
		t.Errorf("default: the warning is missing:\n%s", stderr)
	}
	noDoubledPrefix(t, stderr)

	_, stderr, _ = runCLI(t, "", append([]string{"-v"}, args...)...)
	if !strings.Contains(stderr, "level=INFO") || !strings.Contains(stderr, "level=WARN") {
		t.Errorf("-v: no slog lines:\n%s", stderr)
	}

	_, stderr, _ = runCLI(t, "", append([]string{"--log-format", "json"}, args...)...)
	n := 0
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "{") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(l), &rec); err != nil || rec["level"] == nil {
				t.Errorf("--log-format json: bad line %q: %v", l, err)
			}
			n++
		}
	}
	if n == 0 {
		t.Errorf("--log-format json: no JSON line:\n%s", stderr)
	}
	if _, stderr, code := runCLI(t, "", "--log-format", "xml", "scan", repo); code != exitError || !strings.Contains(stderr, "--log-format") {
		t.Errorf("--log-format xml: exit %d:\n%s", code, stderr)
	}
}

// lowFinding is a directory with one low-severity finding.
func lowFinding(t *testing.T) string {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "dl.txt"), "https://contosoexit01.blob.core.windows.net/c/f.bin?sv=2022-11-02&sr=b&sp=r&se=2029-01-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLUNMSS1URVNULVNJRy0wMDAwMDAwMDE%3D\n")
	return dir
}

// Item 6: --fail-on never (or none) is a report-only run; a finding hidden
// by --min-severity is counted.
func TestFailOnNeverAndHiddenCount(t *testing.T) {
	t.Parallel()
	dir := lowFinding(t)
	for _, never := range []string{"never", "none", "NEVER"} {
		out, stderr, code := runCLI(t, "", "scan", "--now", fixedNow, "--fail-on", never, dir)
		if code != exitClean || !strings.Contains(out, "[low]") {
			t.Errorf("--fail-on %s: exit %d, want 0 with the finding printed; stderr:\n%s", never, code, stderr)
		}
	}
	out, stderr, code := runCLI(t, "", "scan", "--now", fixedNow, "--min-severity", "critical", dir)
	if code != exitFindings || out != "" {
		t.Errorf("--min-severity critical: exit %d, stdout %q", code, out)
	}
	if !strings.Contains(stderr, "sasquatch: 1 finding below critical not shown (--min-severity)\n") {
		t.Errorf("no hidden-findings line:\n%s", stderr)
	}
}

// Item 7: text caps locations at 10 per finding, merges consecutive lines
// into ranges and says how many more there are.
func TestTextLocationsCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	url := sasURL("contosolocs01", "SYNTHETIC-CLI-LOCS-SIG-000000001")
	write(t, filepath.Join(dir, "a-ranges.txt"), "x\n"+strings.Repeat(url+"\n", 3)+"y\n"+url+"\n")
	for i := range 12 {
		write(t, filepath.Join(dir, fmt.Sprintf("f%02d.txt", i)), url+"\n")
	}
	out, stderr, code := runCLI(t, "", "scan", "--now", fixedNow, dir)
	if code != exitFindings {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	golden(t, "locations.txt.golden", out)
	for _, want := range []string{"locations:   a-ranges.txt:2-4\n", "a-ranges.txt:6:1\n", "… and 4 more (use --format jsonl or --all-locations)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	all, _, _ := runCLI(t, "", "scan", "--now", fixedNow, "--all-locations", dir)
	if strings.Count(all, ".txt:") != 14 || strings.Contains(all, "more (use") {
		t.Errorf("--all-locations does not list all 14 lines:\n%s", all)
	}
}

// Item 8: history in text: author and date, "commit message of", the
// repository once; JSON carries the message's commit.
func TestHistoryText(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "repo")
	b := history.New(t, dir, false)
	b.Write("README.md", "# demo\n")
	b.Commit("init")
	b.Tick()
	b.Write("config/app.yaml", "storage:\n  url: "+sasURL("contosohist01", "SYNTHETIC-CLI-HIST-SIG-000000001")+"\n")
	b.Commit("add storage config")
	b.Tick()
	b.Remove("config/app.yaml")
	b.Commit("remove the token")
	b.Tick()
	b.Write("x.txt", "x\n")
	msg := b.Commit("rotate\n\nold url was " + sasURL("contosohist02", "SYNTHETIC-CLI-HIST-SIG-000000002"))
	out, stderr, code := runCLI(t, "", "git", "--now", fixedNow, dir)
	if code != exitFindings {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	golden(t, "history.txt.golden", strings.ReplaceAll(out, dir, "$REPO"))
	for _, want := range []string{"commit message of " + msg[:12], "by Contoso Dev <dev@contoso.example>, 2024-01-01", "(history only)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, dir); n != 2 {
		t.Errorf("the repository is printed %d times for 2 findings, want once each", n)
	}
	js, _, _ := runCLI(t, "", "git", "--format", "jsonl", "--now", fixedNow, dir)
	for _, f := range readJSONL(t, js) {
		if f.Account != "contosohist02" {
			continue
		}
		l := f.Locations[0]
		if !l.Message || l.Commit != msg || l.AtTip != nil || l.Author == "" || l.Date == nil {
			t.Errorf("message location %+v: want message, commit %s, author, date, no at_tip", l, msg)
		}
	}
}

// Item 9: with --reveal the token line is the token itself.
func TestRevealText(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	url := sasURL("contosoreveal01", "SYNTHETIC-CLI-REVEAL-SIG-0000001")
	write(t, filepath.Join(dir, "a.txt"), url+"\n")
	out, _, _ := runCLI(t, "", "scan", "--reveal", "--now", fixedNow, dir)
	url = strings.ReplaceAll(url, "%3D", "=") // the token as decoded
	if !strings.Contains(out, "    token:       "+url+"\n") {
		t.Errorf("token line does not hold the token:\n%s", out)
	}
	if strings.Contains(out, "REDACTED") || strings.Count(out, url) != 1 {
		t.Errorf("revealed text shows REDACTED or the token twice:\n%s", out)
	}
}

// Item 10: size flags display as written.
func TestSizeFlagsAsWritten(t *testing.T) {
	t.Parallel()
	for cmd, wants := range map[string][]string{
		"scan":   {"(default 256MiB)"},
		"git":    {"(default 64MiB)", "(default 8GiB)"},
		"github": {"(default 64MiB)", "(default 8GiB)"},
	} {
		out, _, code := runCLI(t, "", cmd, "--help")
		if code != exitClean {
			t.Errorf("%s --help: exit %d", cmd, code)
		}
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("%s --help lacks %q", cmd, w)
			}
		}
		if strings.Contains(out, "268435456") || strings.Contains(out, "67108864") {
			t.Errorf("%s --help shows a size in bytes", cmd)
		}
	}
	var s sizeFlag
	for in, want := range map[string]string{"1.5GiB": "1.5GiB", " 512KB": "512KB", "100": "100"} {
		if err := s.Set(in); err != nil || s.String() != want {
			t.Errorf("Set(%q): String() = %q (%v), want %q", in, s.String(), err, want)
		}
	}
	if got := formatSize(3 << 20); got != "3MiB" {
		t.Errorf("formatSize(3MiB) = %q", got)
	}
}

// Item 11: under --verbose, where candidates were rejected is logged
// (redacted); without it, the summary says how to see it.
func TestRejectedVerbose(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "docs", "howto.md"), "Use https://contosorej01.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&sig=<signature>\n")
	_, stderr, _ := runCLI(t, "", "scan", dir)
	if !strings.Contains(stderr, "rejected: 1 placeholders or non-Azure signatures (--verbose says where)") {
		t.Errorf("no pointer to --verbose:\n%s", stderr)
	}
	_, stderr, _ = runCLI(t, "", "scan", "-v", dir)
	if !regexp.MustCompile(`level=INFO msg="rejected candidates.*path=docs/howto.md.*count=1`).MatchString(stderr) {
		t.Errorf("-v does not say where the candidate was rejected:\n%s", stderr)
	}
	// Each rejected candidate is listed with its reason, masked.
	if !regexp.MustCompile(`level=INFO msg=rejected path=docs/howto.md reason=placeholder candidate="sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&sig=REDACTED"`).MatchString(stderr) {
		t.Errorf("-v does not list the rejected candidate and why:\n%s", stderr)
	}
}

// Item 12: every finding says how to revoke it, in text and JSON.
func TestRemediationCLI(t *testing.T) {
	t.Parallel()
	out, _, _ := runCLI(t, "", "scan", "--format", "jsonl", "--now", fixedNow, "--quiet", "../../fixtures/demo")
	fs := readJSONL(t, out)
	if len(fs) == 0 {
		t.Fatal("no findings in the demo")
	}
	for _, f := range fs {
		if !strings.HasPrefix(f.Remediation, "1. ") {
			t.Errorf("%s %s: remediation %q", f.Kind, f.Account, f.Remediation)
		}
	}
	text, _, _ := runCLI(t, "", "scan", "--now", fixedNow, "--quiet", "../../fixtures/demo")
	if strings.Count(text, "remediation: 1. ") != len(fs) {
		t.Errorf("text has %d remediation blocks for %d findings", strings.Count(text, "remediation: 1. "), len(fs))
	}
}

// Item 13: a progress line for scan and git, only when asked for or on a
// terminal; never under --quiet (auto) or when stderr is not a terminal.
func TestProgressLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.txt"), "hello\n")
	_, stderr, _ := runCLI(t, "", "scan", "--progress", "always", dir)
	if !strings.Contains(stderr, "files 1") || !strings.Contains(stderr, "\r") {
		t.Errorf("--progress always draws no progress line:\n%q", stderr)
	}
	_, stderr, _ = runCLI(t, "", "scan", dir)
	if strings.Contains(stderr, "\r") {
		t.Errorf("progress drawn when standard error is not a terminal:\n%q", stderr)
	}
	repo := filepath.Join(t.TempDir(), "repo")
	b := history.New(t, repo, false)
	b.Write("a.txt", "hello\n")
	b.Commit("init")
	_, stderr, _ = runCLI(t, "", "git", "--progress", "always", repo)
	if !strings.Contains(stderr, "blobs ") || !strings.Contains(stderr, "\r") {
		t.Errorf("git --progress always draws no progress line:\n%q", stderr)
	}
	_, stderr, _ = runCLI(t, "", "git", "-q", repo)
	if strings.Contains(stderr, "\r") {
		t.Errorf("progress drawn under --quiet:\n%q", stderr)
	}
	if _, _, code := runCLI(t, "", "scan", "--progress", "sometimes", dir); code != exitError {
		t.Errorf("--progress sometimes: exit %d, want 2", code)
	}
}

// Item 14: -v is --verbose before or after the command; version and
// --version print the build's version.
func TestVersionAndVerbose(t *testing.T) {
	t.Parallel()
	v1, _, code := runCLI(t, "", "version")
	v2, _, code2 := runCLI(t, "", "--version")
	if code != 0 || code2 != 0 || v1 != v2 || !strings.HasPrefix(v1, "sasquatch ") {
		t.Errorf("version %q (exit %d) and --version %q (exit %d) differ", v1, code, v2, code2)
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.txt"), "https://contosov01.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&sig=<signature>\n")
	for _, args := range [][]string{{"-v", "scan", dir}, {"scan", "-v", dir}, {"scan", "--verbose", dir}} {
		_, stderr, _ := runCLI(t, "", args...)
		if !strings.Contains(stderr, "level=INFO") {
			t.Errorf("%v: not verbose:\n%s", args, stderr)
		}
	}
	info := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.0.0-20260901000000-0123456789ab+dirty"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.modified", Value: "true"}, {Key: "vcs.time", Value: "2026-09-01T00:00:00Z"},
	}}
	if got, want := formatVersion("dev", info), "v0.0.0-20260901000000-0123456789ab+dirty (commit 0123456789ab, modified, 2026-09-01T00:00:00Z) go1.26.0"; got != want {
		t.Errorf("formatVersion = %q, want %q", got, want)
	}
	if got := formatVersion("v1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}); got != "v1.2.3" {
		t.Errorf("ldflags version: %q", got)
	}
}

// Item 15: --baseline hides known findings (JSONL or fingerprints) and
// counts them; sasquatch:ignore on the line suppresses an occurrence, counted.
func TestBaselineAndIgnore(t *testing.T) {
	t.Parallel()
	dir := lowFinding(t)
	first, _, _ := runCLI(t, "", "scan", "--format", "jsonl", "--now", fixedNow, dir)
	fs := readJSONL(t, first)
	if len(fs) != 1 {
		t.Fatalf("want 1 finding, got %d", len(fs))
	}
	base := filepath.Join(t.TempDir(), "baseline.jsonl")
	write(t, base, first)
	fps := filepath.Join(t.TempDir(), "fingerprints.txt")
	write(t, fps, "# known\n"+fs[0].Fingerprint+"  accepted risk\n")
	for _, b := range []string{base, fps} {
		out, stderr, code := runCLI(t, "", "scan", "--now", fixedNow, "--baseline", b, dir)
		if code != exitClean || out != "" || !strings.Contains(stderr, "sasquatch: baseline: 1 known finding not shown (--baseline)\n") {
			t.Errorf("--baseline %s: exit %d, stdout %q, stderr:\n%s", filepath.Base(b), code, out, stderr)
		}
	}
	// A new token is still reported.
	write(t, filepath.Join(dir, "new.txt"), sasURL("contosobase02", "SYNTHETIC-CLI-BASE-SIG-000000002")+"\n")
	out, _, code := runCLI(t, "", "scan", "--format", "jsonl", "--now", fixedNow, "--baseline", base, dir)
	if fs := readJSONL(t, out); code != exitFindings || len(fs) != 1 || fs[0].Account != "contosobase02" {
		t.Errorf("new finding with a baseline: exit %d, %+v", code, fs)
	}
	bad := filepath.Join(t.TempDir(), "bad.txt")
	write(t, bad, "not a fingerprint\n")
	if _, stderr, code := runCLI(t, "", "scan", "--baseline", bad, dir); code != exitError || !strings.Contains(stderr, "bad.txt:1") {
		t.Errorf("bad baseline: exit %d:\n%s", code, stderr)
	}

	ign := t.TempDir()
	url := sasURL("contosoignore01", "SYNTHETIC-CLI-IGNORE-SIG-0000001")
	write(t, filepath.Join(ign, "test.py"), "URL = \""+url+"\"  # sasquatch:ignore test fixture\n")
	out, stderr, code := runCLI(t, "", "scan", "--now", fixedNow, ign)
	if code != exitClean || out != "" || !strings.Contains(stderr, "sasquatch: ignored: 1 occurrence marked sasquatch:ignore\n") {
		t.Errorf("inline ignore: exit %d, stdout %q, stderr:\n%s", code, out, stderr)
	}
	// In history too.
	repo := filepath.Join(t.TempDir(), "repo")
	b := history.New(t, repo, false)
	b.Write("test.py", "URL = \""+url+"\"  # sasquatch:ignore\n")
	b.Commit("fixture")
	if _, stderr, code := runCLI(t, "", "git", "--now", fixedNow, repo); code != exitClean || !strings.Contains(stderr, "ignored: 1 occurrence") {
		t.Errorf("inline ignore in history: exit %d:\n%s", code, stderr)
	}
}

// Item 16: --include and --exclude for scan and git.
func TestIncludeExclude(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"src/app.py":            sasURL("contosoincl01", "SYNTHETIC-CLI-INCL-SIG-000000001"),
		"vendor/lib/x.js":       sasURL("contosoincl02", "SYNTHETIC-CLI-INCL-SIG-000000002"),
		"docs/guide/setup.md":   sasURL("contosoincl03", "SYNTHETIC-CLI-INCL-SIG-000000003"),
		"node_modules/m/i.js":   sasURL("contosoincl04", "SYNTHETIC-CLI-INCL-SIG-000000004"),
		"src/node_modules/y.js": sasURL("contosoincl05", "SYNTHETIC-CLI-INCL-SIG-000000005"),
	}
	dir := t.TempDir()
	repo := filepath.Join(t.TempDir(), "repo")
	b := history.New(t, repo, false)
	for p, c := range files {
		write(t, filepath.Join(dir, p), c+"\n")
		b.Write(p, c+"\n")
	}
	b.Commit("files")
	for _, tc := range []struct {
		args     []string
		accounts string
		excluded string // git: occurrences left out
		paths    string // scan: paths left out, an excluded directory counting once
	}{
		{nil, "01 02 03 04 05", "", ""},
		{[]string{"--exclude", "vendor", "--exclude", "node_modules"}, "01 03", "3", "3"},
		// src/, vendor/ and node_modules/ cannot hold a match: not walked.
		{[]string{"--include", "docs/**/*.md"}, "03", "4", "3"},
		{[]string{"--include", "src/", "--exclude", "node_modules/"}, "01", "4", "4"},
		{[]string{"--include", "*.js", "--exclude", "/vendor"}, "04 05", "3", "3"},
	} {
		for _, cmd := range []string{"scan", "git"} {
			args := append([]string{cmd, "--format", "jsonl", "--now", fixedNow}, tc.args...)
			target := dir
			if cmd == "git" {
				target = repo
			}
			out, stderr, _ := runCLI(t, "", append(args, target)...)
			var got []string
			for _, f := range readJSONL(t, out) {
				got = append(got, strings.TrimPrefix(f.Account, "contosoincl"))
			}
			if g := strings.Join(sortedCopy(got), " "); g != tc.accounts {
				t.Errorf("%s %v: accounts %q, want %q", cmd, tc.args, g, tc.accounts)
			}
			unit, want := "occurrences", tc.excluded
			if cmd == "scan" {
				unit, want = "paths", tc.paths
			}
			if want != "" && !strings.Contains(stderr, "sasquatch: excluded: "+want+" "+unit+" (--include/--exclude)\n") {
				t.Errorf("%s %v: no excluded count of %s %s:\n%s", cmd, tc.args, want, unit, stderr)
			}
		}
	}
	if _, stderr, code := runCLI(t, "", "scan", "--exclude", "[", dir); code != exitError || !strings.Contains(stderr, "--exclude") {
		t.Errorf("bad glob: exit %d:\n%s", code, stderr)
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}

// Item 17: a token is never sent over plain http to a non-loopback host
// unless --allow-insecure-http; "N API calls" counts the requests made.
func TestInsecureHTTPAndAPICalls(t *testing.T) {
	t.Parallel()
	tokenFile := filepath.Join(t.TempDir(), "token")
	write(t, tokenFile, "ghp_SYNTHETICcliINSECUREtoken0000000001\n")
	_, stderr, code := runCLI(t, "", "github", "--api-url", "http://ghe.example.invalid/api/v3/", "--token-file", tokenFile, "--repo", "acme/tools")
	if code != exitError || !strings.Contains(stderr, "plain http to ghe.example.invalid") || !strings.Contains(stderr, "--allow-insecure-http") {
		t.Errorf("plain http with a token: exit %d:\n%s", code, stderr)
	}
	for _, h := range []string{"http://127.0.0.1:8080/api/v3/", "http://localhost/api/v3/", "http://[::1]:80/"} {
		if _, bad := plainHTTPHost(h); bad {
			t.Errorf("%s: loopback refused", h)
		}
	}
	if _, bad := plainHTTPHost("https://ghe.example.com/api/v3/"); bad {
		t.Error("https refused")
	}

	gh := fakegh.New(t)
	gh.AddRepo(t, 7, "acme", "tools", map[string]string{"a.txt": "hello\n"})
	_, stderr, code = runCLI(t, "", "github", "--api-url", gh.APIURL(), "--token-file", tokenFile, "--org", "acme")
	if code != exitClean {
		t.Fatalf("loopback http with a token: exit %d:\n%s", code, stderr)
	}
	calls := gh.APICalls()
	if want := fmt.Sprintf("sasquatch: github: %d API calls,", calls); calls == 0 || !strings.Contains(stderr, want) {
		t.Errorf("want %q in:\n%s", want, stderr)
	}
}

// Item 18: the documentation is self-contained: every relative link of
// docs/ resolves inside the repository, and there is a LICENSE.
func TestDocsSelfContained(t *testing.T) {
	t.Parallel()
	root := "../.."
	lic, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	if err != nil || !strings.Contains(string(lic), "Apache License") || !strings.Contains(string(lic), "Version 2.0, January 2004") {
		t.Errorf("LICENSE is not the Apache-2.0 text: %v", err)
	}
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if len(docs) < 3 {
		t.Fatalf("docs/ has %d pages, want the SAS model, the severity table and the JSON fields", len(docs))
	}
	docs = append(docs, filepath.Join(root, "README.md"), filepath.Join(root, "deploy", "README.md"))
	link := regexp.MustCompile(`\]\(([^)#\s]+)(?:#[^)]*)?\)`)
	for _, d := range docs {
		b, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "shared/docs") || strings.Contains(string(b), "design.md") {
			t.Errorf("%s points outside the repository", d)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(d), target)); err != nil {
				t.Errorf("%s: broken link %s", d, target)
			}
		}
	}
}

// Item 20: the git --help example does not depend on exit 0 (findings
// exit 1, which would stop "a && b").
func TestGitHelpExample(t *testing.T) {
	t.Parallel()
	out, _, _ := runCLI(t, "", "git", "--help")
	if strings.Contains(out, "&&") || !strings.Contains(out, "--since-tips tips.txt --save-tips tips.txt") {
		t.Errorf("git --help example:\n%s", out)
	}
}

// Issue 10 item 13: -o respects the umask, and a revealed report is 0600.
func TestOutputMode(t *testing.T) {
	t.Parallel()
	dir := lowFinding(t)
	outDir := t.TempDir()
	plain, revealed := filepath.Join(outDir, "plain.jsonl"), filepath.Join(outDir, "revealed.jsonl")
	runCLI(t, "", "scan", "--format", "jsonl", "--now", fixedNow, "-o", plain, dir)
	runCLI(t, "", "scan", "--format", "jsonl", "--now", fixedNow, "--reveal", "-o", revealed, dir)
	fi, err := os.Stat(revealed)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("revealed report mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	fi, err = os.Stat(plain)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o666&^umask() {
		t.Errorf("plain report mode %v, want 0666 less the umask %03o", fi.Mode().Perm(), umask())
	}
	left, _ := filepath.Glob(filepath.Join(outDir, ".sasquatch-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// Issue 10 item 7: a bidirectional override in a path is quoted in text.
func TestBidiPathQuoted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "evil\u202etxt.sh"), sasURL("contosobidi01", "SYNTHETIC-CLI-BIDI-SIG-000000001")+"\n")
	out, _, _ := runCLI(t, "", "scan", "--now", fixedNow, dir)
	if strings.Contains(out, "\u202e") || !strings.Contains(out, `"evil\u202etxt.sh"`) {
		t.Errorf("bidi override printed raw:\n%s", out)
	}
}

// Every format of report.Formats is available from the command line, with
// --now as the Markdown clock.
func TestAllFormatsCLI(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"sarif", "markdown"} {
		out, stderr, code := runCLI(t, "", "scan", "--format", format, "--now", fixedNow, "--quiet", "../../fixtures/demo")
		if code != exitFindings || !strings.Contains(out, "contosodemo01") {
			t.Errorf("--format %s: exit %d, output %.200q; stderr:\n%s", format, code, out, stderr)
		}
	}
}
