package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sasquatch-sec/sasquatch/fixtures"
	"github.com/sasquatch-sec/sasquatch/report"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fixedNow is the clock every expectation in fixtures/ is evaluated at.
const fixedNow = fixtures.Now

// runCLI runs sasquatch in-process and returns its outputs and exit code.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func readJSONL(t *testing.T, s string) []report.Finding {
	t.Helper()
	var fs []report.Finding
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var rec struct {
			Type string `json:"type"`
		}
		var f report.Finding
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("invalid JSONL line %q: %v", sc.Text(), err)
		}
		switch rec.Type {
		case "summary":
			continue
		case "finding":
		default:
			t.Fatalf("JSONL record of type %q, want finding or summary: %q", rec.Type, sc.Text())
		}
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("invalid JSONL line %q: %v", sc.Text(), err)
		}
		fs = append(fs, f)
	}
	return fs
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got; run go test -update if intended):\n%s", name, diff)
	}
}

// TestCorpusGolden scans the whole fixtures corpus (every text form of
// sas-spec §5.3 and host form of §5.1) and compares the canonical JSONL with
// the golden file.
func TestCorpusGolden(t *testing.T) {
	t.Parallel()
	out, stderr, code := runCLI(t, "", "scan", "--format", "jsonl", "--now", fixedNow, "--quiet", fixtures.CorpusDir())
	if code != exitFindings {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitFindings, stderr)
	}
	golden(t, "corpus.jsonl.golden", out)
}

// TestCorpusRecall checks every row of fixtures/corpus/EXPECTED.tsv against
// what the CLI reports: each expected token is found in its file with its
// kind and severity, and negative files yield nothing.
func TestCorpusRecall(t *testing.T) {
	t.Parallel()
	checkManifest(t, fixtures.CorpusDir(), filepath.Join(fixtures.CorpusDir(), fixtures.ManifestName))
}

// TestDemo is the README's first command: the demo directory's findings.
func TestDemo(t *testing.T) {
	t.Parallel()
	checkManifest(t, fixtures.DemoDir(), fixtures.DemoManifest())
	out, stderr, code := runCLI(t, "", "scan", "--now", fixedNow, "--quiet", fixtures.DemoDir())
	if code != exitFindings {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	golden(t, "demo.txt.golden", out)
}

func checkManifest(t *testing.T, root, manifest string) {
	t.Helper()
	cases, err := fixtures.Manifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCLI(t, "", "scan", "--format", "jsonl", "--now", fixedNow, root)
	if code != exitFindings {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	type key struct{ file, account, kind string }
	got := map[key][]string{} // -> severities
	files := map[string]int{}
	for _, f := range readJSONL(t, out) {
		for _, l := range f.Locations {
			k := key{l.Path, f.Account, string(f.Kind)}
			got[k] = append(got[k], f.Severity.String())
			files[l.Path]++
		}
	}
	found := 0
	for _, c := range cases {
		if c.Negative() {
			if files[c.File] != 0 {
				t.Errorf("%s (%s): want no finding, got %d", c.File, c.Form, files[c.File])
			}
			continue
		}
		sevs := got[key{c.File, c.Account, c.Kind}]
		if len(sevs) == 0 {
			t.Errorf("MISSED %s (%s): want %s %s token of account %q", c.File, c.Form, c.Severity, c.Kind, c.Account)
			continue
		}
		if !contains(sevs, c.Severity) {
			t.Errorf("%s (%s): account %q kind %s: severity %v, want %s", c.File, c.Form, c.Account, c.Kind, sevs, c.Severity)
			continue
		}
		found++
	}
	t.Logf("recall: %d of %d expected tokens found with the expected kind and severity", found, countPositive(cases))
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func countPositive(cs []fixtures.Case) int {
	n := 0
	for _, c := range cs {
		if !c.Negative() {
			n++
		}
	}
	return n
}

var sigParam = regexp.MustCompile(`(?i)(?:sig|accountkey)=([A-Za-z0-9%+/=]{20,})`)

// plantedSecrets returns every signature and account key in the corpus, as
// --reveal reports them, in raw and percent-encoded forms.
func plantedSecrets(t *testing.T) []string {
	t.Helper()
	out, _, _ := runCLI(t, "", "scan", "--format", "jsonl", "--reveal", "--now", fixedNow, "--quiet", fixtures.CorpusDir())
	seen := map[string]bool{}
	for _, f := range readJSONL(t, out) {
		if f.Token == "" {
			t.Fatalf("--reveal finding %s has no token", f.Fingerprint)
		}
		for _, m := range sigParam.FindAllStringSubmatch(f.Token+" "+f.URL, -1) {
			v := strings.TrimRight(m[1], "=")
			v = strings.TrimSuffix(strings.TrimSuffix(v, "%3D"), "%3d")
			if len(v) >= 20 {
				seen[v] = true
			}
		}
	}
	if len(seen) < 10 {
		t.Fatalf("found only %d planted secrets with --reveal; the corpus has more", len(seen))
	}
	var s []string
	for v := range seen {
		s = append(s, v)
	}
	return s
}

// TestNoSecretWithoutReveal proves that no signature or account key appears in
// any output format, the summary, log lines (--verbose) or errors unless
// --reveal is given.
func TestNoSecretWithoutReveal(t *testing.T) {
	t.Parallel()
	secrets := plantedSecrets(t)
	for _, format := range []string{"text", "jsonl", "json"} {
		out, stderr, _ := runCLI(t, "", "scan", "--format", format, "--verbose", "--now", fixedNow, fixtures.CorpusDir())
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("--format %s: output contains a signature (%.6s...)", format, s)
			}
			if strings.Contains(stderr, s) {
				t.Errorf("--format %s: standard error contains a signature (%.6s...)", format, s)
			}
		}
	}
	// A path that is itself a SAS URL must not come back in an error.
	url := "https://contosoleak.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&sig=" + secrets[0] + "%3D"
	_, stderr, _ := runCLI(t, "", "scan", url)
	if strings.Contains(stderr, secrets[0]) {
		t.Errorf("error message for a missing path leaks its signature:\n%s", stderr)
	}
	// And with --reveal it is there: the test above can fail.
	out, _, _ := runCLI(t, "", "scan", "--format", "jsonl", "--reveal", "--now", fixedNow, fixtures.CorpusDir())
	hits := 0
	for _, s := range secrets {
		if strings.Contains(out, s) {
			hits++
		}
	}
	if hits != len(secrets) {
		t.Errorf("--reveal output holds %d of %d secrets", hits, len(secrets))
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	clean := t.TempDir()
	write(t, filepath.Join(clean, "a.go"), "package a\n// sig=not-a-token\n")
	low := t.TempDir()
	write(t, filepath.Join(low, "dl.txt"), "https://contosoexit01.blob.core.windows.net/c/f.bin?sv=2022-11-02&sr=b&sp=r&se=2029-01-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLUNMSS1URVNULVNJRy0wMDAwMDAwMDE%3D\n")
	missing := filepath.Join(clean, "does-not-exist")
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"clean", []string{"scan", clean}, exitClean},
		{"finding at default fail-on low", []string{"scan", "--now", fixedNow, low}, exitFindings},
		{"finding below fail-on", []string{"scan", "--now", fixedNow, "--fail-on", "high", low}, exitClean},
		{"min-severity does not change the exit code", []string{"scan", "--now", fixedNow, "--min-severity", "critical", low}, exitFindings},
		{"missing path without strict", []string{"scan", clean, missing}, exitClean},
		{"missing path with strict", []string{"scan", "--strict", clean, missing}, exitIncomplete},
		{"only a missing path", []string{"scan", missing}, exitError},
		{"only a missing path, quiet", []string{"scan", "-q", missing}, exitError},
		{"findings win over strict", []string{"scan", "--strict", "--now", fixedNow, low, missing}, exitFindings},
		{"no path", []string{"scan"}, exitError},
		{"unknown flag", []string{"scan", "--bogus", clean}, exitError},
		{"bad severity", []string{"scan", "--fail-on", "severe", clean}, exitError},
		{"bad now", []string{"scan", "--now", "yesterday", clean}, exitError},
		{"bad format", []string{"scan", "--format", "xml", clean}, exitError},
		{"unknown command", []string{"scna", clean}, exitError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, stderr, code := runCLI(t, "", tc.args...)
			if code != tc.want {
				t.Errorf("sasquatch %s: exit %d, want %d\nstderr:\n%s", strings.Join(tc.args, " "), code, tc.want, stderr)
			}
		})
	}
}

func TestStdin(t *testing.T) {
	t.Parallel()
	in := "x = 'https://contosostdin01.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rwdl&se=2031-01-01T00:00:00Z&sig=U1lOVEhFVElDLUNMSS1URVNULVNJRy0wMDAwMDAwMDI%3D'\n"
	out, stderr, code := runCLI(t, in, "scan", "--format", "jsonl", "--now", fixedNow, "-")
	if code != exitFindings {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	fs := readJSONL(t, out)
	if len(fs) != 1 || fs[0].Account != "contosostdin01" || fs[0].Severity.String() != "critical" {
		t.Fatalf("got %+v", fs)
	}
	if l := fs[0].Locations[0]; l.Line != 1 || l.Column != 6 {
		t.Errorf("location %+v, want line 1 column 6", l)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOutputFile: --output writes atomically to a regular file, and writes
// straight into a device (renaming over /dev/null would replace it).
func TestOutputFile(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "findings.jsonl")
	_, stderr, code := runCLI(t, "", "scan", "--format", "jsonl", "--now", fixedNow, "-o", out, fixtures.DemoDir())
	if code != exitFindings {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || len(readJSONL(t, string(b))) == 0 {
		t.Fatalf("output file %q: %v", b, err)
	}
	_, stderr, code = runCLI(t, "", "scan", "--format", "jsonl", "--now", fixedNow, "-o", os.DevNull, fixtures.DemoDir())
	if code != exitFindings {
		t.Fatalf("-o /dev/null: exit %d: %s", code, stderr)
	}
	fi, err := os.Stat(os.DevNull)
	if err != nil || fi.Mode().IsRegular() {
		t.Fatalf("/dev/null is no longer a device: %v %v", fi.Mode(), err)
	}
}

// TestBindProcs: --workers below the number of CPUs becomes GOMAXPROCS; 0
// and larger values leave it. Not parallel: it changes the process's
// setting and puts it back before any parallel test runs.
func TestBindProcs(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	if prev < 2 {
		t.Skip("one CPU: nothing to bound")
	}
	bindProcs(0)
	bindProcs(prev + 3)
	if got := runtime.GOMAXPROCS(0); got != prev {
		t.Fatalf("GOMAXPROCS %d after --workers 0 and %d, want %d", got, prev+3, prev)
	}
	bindProcs(1)
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS %d after --workers 1", got)
	}
}
