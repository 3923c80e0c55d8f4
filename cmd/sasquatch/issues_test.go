package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sasquatch-sec/sasquatch/fixtures/fakegh"
	"github.com/sasquatch-sec/sasquatch/internal/store"
	"github.com/sasquatch-sec/sasquatch/report"
)

// fakePacing makes issue writes pace on a fake clock: no test really sleeps.
var fakePacing sync.Once

type cliClock struct {
	mu sync.Mutex
	t  time.Time
}

func useFakePacing() {
	fakePacing.Do(func() {
		c := &cliClock{t: time.Now()}
		filingClock = func() time.Time {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.t
		}
		filingSleep = func(ctx context.Context, d time.Duration) error {
			c.mu.Lock()
			c.t = c.t.Add(d)
			c.mu.Unlock()
			return ctx.Err()
		}
	})
}

// issuesOrg serves acme/priv (private) and acme/pub (public), each holding
// one token, and acme/tracker (private, API only).
func issuesOrg(t *testing.T) (*fakegh.Server, []string) {
	t.Helper()
	gh := fakegh.New(t)
	sigs := []string{"SYNTHETIC-CLI-ISSUE-SIG-0000PRIV", "SYNTHETIC-CLI-ISSUE-SIG-00000PUB"}
	gh.AddRepo(t, 2001, "acme", "priv", map[string]string{"deploy/sas.txt": sasURL("contosoissuepriv", sigs[0]) + "\n"})
	gh.AddRepo(t, 2002, "acme", "pub", map[string]string{"cfg/@team [x](http:/evil) `tick`.txt": sasURL("contosoissuepub", sigs[1]) + "\n"})
	gh.SetRepo("acme/pub", map[string]any{"visibility": "public", "private": false})
	gh.AddAPIRepo(2900, "acme/tracker", "private")
	var planted []string
	for _, s := range sigs {
		planted = append(planted, b64(s))
	}
	return gh, planted
}

// assertNoSignature fails when a request body holds a planted signature,
// raw, percent-encoded, or any 16-character piece of it.
func assertNoSignature(t *testing.T, gh *fakegh.Server, sigs []string) {
	t.Helper()
	for _, r := range gh.Requests() {
		for _, sig := range sigs {
			for _, form := range []string{sig, url.QueryEscape(sig)} {
				for i := 0; i+16 <= len(form); i++ {
					if bytes.Contains(r.Body, []byte(form[i:i+16])) {
						t.Fatalf("%s %s holds a piece of a signature", r.Method, r.Path)
					}
				}
			}
		}
	}
}

// TestIssuesCommand: the dry run prints what it would file and writes
// nothing (issue 12 "must be true" 4 at the CLI); --apply files in the
// private repository and reports the public one as not filed (exit 3 with
// --strict); with --tracker the public one goes to the tracker; a second
// run writes nothing; no request holds a signature.
func TestIssuesCommand(t *testing.T) {
	t.Parallel()
	useFakePacing()
	gh, sigs := issuesOrg(t)
	db := filepath.Join(t.TempDir(), "s.db")
	if _, stderr, code := runCLI(t, "", "sweep", "--db", db, "--api-url", gh.APIURL(), "--org", "acme", "--now", fixedNow, "--poll", "50ms", "--quiet"); code != exitFindings {
		t.Fatalf("sweep: exit %d\n%s", code, stderr)
	}
	base := []string{"issues", "--db", db, "--api-url", gh.APIURL()}

	out, stderr, code := runCLI(t, "", append(base, "--strict")...)
	if code != exitIncomplete {
		t.Errorf("dry run --strict: exit %d, want 3 (the public repository cannot be filed)\n%s", code, stderr)
	}
	for _, want := range []string{"would-file acme/priv: Leaked Azure Storage service SAS", "where: acme/priv", "why: private repository",
		"failed acme/pub", "dry run: nothing was written"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if w := gh.Writes(); len(w) != 0 {
		t.Fatalf("the dry run wrote: %v", w)
	}

	out, stderr, code = runCLI(t, "", append(base, "--apply")...)
	if code != exitClean || !strings.Contains(out, "filed acme/priv") || !strings.Contains(stderr, "INCOMPLETE") {
		t.Errorf("--apply: exit %d\n%s\n%s", code, out, stderr)
	}
	if n := len(gh.Issues("acme/priv")); n != 1 {
		t.Errorf("acme/priv has %d issues, want 1", n)
	}
	if n := len(gh.Issues("acme/pub")); n != 0 {
		t.Errorf("the public repository got %d issues", n)
	}

	_, stderr, code = runCLI(t, "", append(base, "--apply", "--strict", "--tracker", "acme/tracker")...)
	if code != exitClean {
		t.Errorf("--tracker: exit %d\n%s", code, stderr)
	}
	tr := gh.Issues("acme/tracker")
	if len(tr) != 1 || !strings.Contains(tr[0].Title, "acme/pub") {
		t.Fatalf("tracker issues %+v, want one naming acme/pub", tr)
	}
	if !strings.Contains(tr[0].Body, "- ``cfg/@team [x](http:/evil) `tick`.txt``, line 1") { // git keeps one slash
		t.Errorf("the hostile path is not in a double-backtick code span:\n%s", tr[0].Body)
	}

	before := len(gh.Writes())
	out, _, code = runCLI(t, "", append(base, "--apply", "--tracker", "acme/tracker")...)
	if n := len(gh.Writes()) - before; n != 0 || code != exitClean || strings.Count(out, "unchanged ") != 2 {
		t.Errorf("third run: %d writes, exit %d:\n%s", n, code, out)
	}
	assertNoSignature(t, gh, sigs)
}

// TestSweepFileIssues: sweep --file-issues files after the sweep (for real:
// an explicit opt-in), and a second sweep files nothing new.
func TestSweepFileIssues(t *testing.T) {
	t.Parallel()
	useFakePacing()
	gh, sigs := issuesOrg(t)
	db := filepath.Join(t.TempDir(), "s.db")
	args := []string{"sweep", "--db", db, "--api-url", gh.APIURL(), "--org", "acme", "--now", fixedNow, "--poll", "50ms",
		"--file-issues", "--tracker", "acme/tracker", "--strict", "--format", "jsonl"}
	_, stderr, code := runCLI(t, "", args...)
	if code != exitFindings {
		t.Fatalf("sweep --file-issues: exit %d\n%s", code, stderr)
	}
	if len(gh.Issues("acme/priv")) != 1 || len(gh.Issues("acme/tracker")) != 1 || !strings.Contains(stderr, "issues: 2 filed") {
		t.Errorf("issues priv %d tracker %d; stderr:\n%s", len(gh.Issues("acme/priv")), len(gh.Issues("acme/tracker")), stderr)
	}
	before := len(gh.Writes())
	runCLI(t, "", args...)
	if n := len(gh.Writes()) - before; n != 0 {
		t.Errorf("second sweep --file-issues wrote %d times", n)
	}
	_, stderr, code = runCLI(t, "", "sweep", "--db", db, "--api-url", gh.APIURL(), "--org", "acme", "--file-issues", "--enqueue-only")
	if code != exitError || !strings.Contains(stderr, "--file-issues") {
		t.Errorf("--file-issues --enqueue-only: exit %d\n%s", code, stderr)
	}
	assertNoSignature(t, gh, sigs)
}

// TestReportUploadSARIF: report --upload-sarif sends, gzipped and
// base64-encoded, exactly the SARIF of the repository's findings, with the
// given ref and commit, or the default branch and its tip.
func TestReportUploadSARIF(t *testing.T) {
	t.Parallel()
	gh, sigs := issuesOrg(t)
	db := filepath.Join(t.TempDir(), "s.db")
	if _, stderr, code := runCLI(t, "", "sweep", "--db", db, "--api-url", gh.APIURL(), "--org", "acme", "--now", fixedNow, "--poll", "50ms", "--quiet"); code != exitFindings {
		t.Fatalf("sweep: exit %d\n%s", code, stderr)
	}
	commit := strings.Repeat("c0ffee", 6) + "c0ff"
	_, stderr, code := runCLI(t, "", "report", "--db", db, "--api-url", gh.APIURL(), "--upload-sarif", "acme/priv",
		"--sarif-ref", "refs/heads/main", "--sarif-commit", commit, "--format", "jsonl")
	if code != exitFindings || !strings.Contains(stderr, "uploaded SARIF (1 results)") {
		t.Fatalf("report --upload-sarif: exit %d\n%s", code, stderr)
	}
	ups := gh.SARIFs("acme/priv")
	if len(ups) != 1 || ups[0]["commit_sha"] != commit || ups[0]["ref"] != "refs/heads/main" {
		t.Fatalf("uploads %v", ups)
	}
	got := decodeSARIF(t, ups[0]["sarif"].(string))

	// The expected SARIF: the store's findings located in acme/priv.
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fs, err := st.Findings(context.Background(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	sink := report.NewSARIF(&want, report.Options{Version: version})
	for _, f := range fs {
		if len(f.Locations) > 0 && f.Locations[0].Repo == "acme/priv" {
			sink.Write(context.Background(), f)
		}
	}
	sink.Close()
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("uploaded SARIF differs from the report's:\n%s\nwant\n%s", got, want.Bytes())
	}
	if strings.Contains(string(got), "acme/pub") || strings.Contains(string(got), "contosoissuepub") {
		t.Error("the upload to acme/priv holds another repository's finding")
	}

	// Default ref and commit: the default branch and its tip.
	if _, stderr, code := runCLI(t, "", "report", "--db", db, "--api-url", gh.APIURL(), "--upload-sarif", "acme/priv", "--quiet"); code != exitFindings {
		t.Fatalf("report --upload-sarif (defaults): exit %d\n%s", code, stderr)
	}
	ups = gh.SARIFs("acme/priv")
	if len(ups) != 2 || ups[1]["ref"] != "refs/heads/main" || len(ups[1]["commit_sha"].(string)) != 40 || ups[1]["commit_sha"] == strings.Repeat("0", 40) {
		t.Errorf("default upload %v", ups[len(ups)-1])
	}
	if _, _, code := runCLI(t, "", "report", "--db", db, "--api-url", gh.APIURL(), "--upload-sarif", "acme/priv", "--reveal"); code != exitError {
		t.Errorf("--upload-sarif --reveal: exit %d, want 2", code)
	}
	assertNoSignature(t, gh, sigs)
}

func decodeSARIF(t *testing.T, s string) []byte {
	t.Helper()
	gz, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("not base64: %v", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
