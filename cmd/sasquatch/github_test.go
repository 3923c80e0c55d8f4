package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sasquatch-sec/sasquatch/fixtures/history"
)

// TestGitHubCommand is an end-to-end run of `sasquatch github --repo` against
// a fake GitHub Enterprise on loopback: REST under /api/v3/ and a real
// `git http-backend` for the clone. crawler/github tests the faults; this
// checks the wiring: provenance, repo and permalink in the JSONL, exit code,
// and that the GitHub token appears in no output.
func TestGitHubCommand(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is required for this test (the CI installs it)")
	}
	root := t.TempDir()
	work := filepath.Join(t.TempDir(), "work")
	b := history.New(t, work, false)
	b.Write("deploy/job.sh", "azcopy copy \""+sasURL("contosoghcli01", "SYNTHETIC-CLI-GH-SIG-00000000001")+"\" .\n")
	commit := b.Commit("add deploy job")
	bare := filepath.Join(root, "acme", "tools.git")
	if out, err := exec.Command("git", "clone", "--quiet", "--bare", work, bare).CombinedOutput(); err != nil {
		t.Fatalf("git clone --bare: %v\n%s", err, out)
	}

	const token = "ghp_SYNTHETICcliTESTtoken000000000000001"
	var srv *httptest.Server
	var authSeen atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v3/repos/acme/tools", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			authSeen.Store(true)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": 42, "name": "tools", "full_name": "acme/tools", "owner": map[string]any{"login": "acme"},
			"html_url": srv.URL + "/acme/tools", "clone_url": srv.URL + "/git/acme/tools.git",
			"default_branch": "main", "private": true, "visibility": "private", "size": 1,
		})
	})
	mux.Handle("/git/", http.StripPrefix("/git", &cgi.Handler{
		Path: mustGit(t), Args: []string{"http-backend"},
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + t.TempDir()},
	}))
	srv = httptest.NewServer(mux)
	defer srv.Close()

	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCLI(t, "", "github", "--api-url", srv.URL+"/api/v3/", "--token-file", tokenFile,
		"--repo", "acme/tools", "--format", "jsonl", "--now", fixedNow, "--verbose")
	if code != exitFindings {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if !authSeen.Load() {
		t.Error("the API never received the token: the redaction checks below would prove nothing")
	}
	for _, s := range []string{out, stderr} {
		if strings.Contains(s, token) || strings.Contains(s, "SYNTHETICcliTEST") {
			t.Errorf("output leaks the GitHub token:\n%s", s)
		}
	}
	fs := readJSONL(t, out)
	if len(fs) != 1 || len(fs[0].Locations) != 1 {
		t.Fatalf("findings %+v", fs)
	}
	l := fs[0].Locations[0]
	wantLink := fmt.Sprintf("%s/acme/tools/blob/%s/deploy/job.sh#L1", srv.URL, commit)
	if l.Repo != "acme/tools" || l.Commit != commit || l.Path != "deploy/job.sh" || l.Permalink != wantLink {
		t.Errorf("location %+v\nwant repo acme/tools, commit %s, permalink %s", l, commit, wantLink)
	}
	if !strings.Contains(stderr, "1 scanned") {
		t.Errorf("summary does not report the repository:\n%s", stderr)
	}
}

func mustGit(t *testing.T) string {
	p, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	return p
}
