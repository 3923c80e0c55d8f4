package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sasquatch-sec/sasquatch/fixtures/history"
)

func sasURL(account, sigASCII32 string) string {
	if len(sigASCII32) != 32 {
		panic("sasURL: signature text must be 32 bytes")
	}
	// sigASCII32 is 32 ASCII bytes; its base64 is a well-formed fake signature.
	return "https://" + account + ".blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rwl&se=2030-01-01T00:00:00Z&spr=https&sig=" +
		b64(sigASCII32) + "%3D"
}

// TestGitCommand runs `sasquatch git` on a repository built here: a token
// added then removed (history only), one still at the tip, and one only in a
// commit message. It checks provenance fields and the tips round trip.
func TestGitCommand(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "repo")
	b := history.New(t, dir, false)
	b.Write("README.md", "# demo\n")
	b.Commit("init")
	b.Write("config/app.yaml", "storage:\n  url: "+sasURL("contosogitcli01", "SYNTHETIC-CLI-GIT-SIG-0000000001")+"\n")
	added := b.Commit("add storage config")
	b.Remove("config/app.yaml")
	b.Commit("remove the token")
	b.Write("docs/dl.md", "wget \""+sasURL("contosogitcli02", "SYNTHETIC-CLI-GIT-SIG-0000000002")+"\"\n")
	tipCommit := b.Commit("docs")
	b.Write("x.txt", "x\n")
	msgCommit := b.Commit("rotate\n\nold url was " + sasURL("contosogitcli03", "SYNTHETIC-CLI-GIT-SIG-0000000003"))

	tips := filepath.Join(t.TempDir(), "tips.txt")
	out, stderr, code := runCLI(t, "", "git", "--format", "jsonl", "--now", fixedNow, "--save-tips", tips, dir)
	if code != exitFindings {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	byAccount := map[string][]string{}
	for _, f := range readJSONL(t, out) {
		if len(f.Locations) != 1 {
			t.Errorf("%s: %d locations, want 1: %+v", f.Account, len(f.Locations), f.Locations)
			continue
		}
		l := f.Locations[0]
		switch f.Account {
		case "contosogitcli01":
			if l.Commit != added || l.Path != "config/app.yaml" || l.Line != 2 || l.AtTip == nil || *l.AtTip || l.Author == "" || l.Date == nil {
				t.Errorf("removed token location %+v, want commit %s config/app.yaml:2 at_tip=false", l, added)
			}
		case "contosogitcli02":
			if l.Commit != tipCommit || l.Path != "docs/dl.md" || l.AtTip == nil || !*l.AtTip {
				t.Errorf("tip token location %+v, want commit %s docs/dl.md at_tip=true", l, tipCommit)
			}
		case "contosogitcli03":
			if !l.Message || l.Commit != msgCommit {
				t.Errorf("message token location %+v, want message of %s", l, msgCommit)
			}
		}
		byAccount[f.Account] = append(byAccount[f.Account], l.Commit)
	}
	for _, a := range []string{"contosogitcli01", "contosogitcli02", "contosogitcli03"} {
		if len(byAccount[a]) == 0 {
			t.Errorf("no finding for %s; got %v", a, byAccount)
		}
	}
	saved, err := os.ReadFile(tips)
	if err != nil || !strings.Contains(string(saved), msgCommit) {
		t.Fatalf("--save-tips wrote %q (%v), want the tip %s", saved, err, msgCommit)
	}

	// Incremental: nothing new since the saved tips -> no findings.
	_, stderr, code = runCLI(t, "", "git", "--format", "jsonl", "--now", fixedNow, "--since-tips", tips, dir)
	if code != exitClean {
		t.Fatalf("incremental run with no new commits: exit %d; stderr:\n%s", code, stderr)
	}
	// A new commit with a new token is found; the old ones are not rescanned.
	b.Write("new.txt", sasURL("contosogitcli04", "SYNTHETIC-CLI-GIT-SIG-0000000004")+"\n")
	b.Commit("new")
	out, stderr, code = runCLI(t, "", "git", "--format", "jsonl", "--now", fixedNow, "--since-tips", tips, dir)
	fs := readJSONL(t, out)
	if code != exitFindings || len(fs) != 1 || fs[0].Account != "contosogitcli04" {
		t.Fatalf("incremental run: exit %d, findings %+v; stderr:\n%s", code, fs, stderr)
	}
}

func TestGitCommandBadInput(t *testing.T) {
	t.Parallel()
	notRepo := t.TempDir()
	_, stderr, code := runCLI(t, "", "git", notRepo)
	if code != exitError {
		t.Errorf("only a directory that is not a repository: exit %d, want %d; stderr:\n%s", code, exitError, stderr)
	}
	if !strings.Contains(stderr, notRepo) {
		t.Errorf("stderr does not name the bad repository:\n%s", stderr)
	}
	// A clone URL with credentials that cannot be cloned: the error names
	// the repository without its password.
	const password = "ghp_SYNTHETICcliCLONEpassword00000000001"
	_, stderr, code = runCLI(t, "", "git", "--verbose", "http://x-access-token:"+password+"@127.0.0.1:1/acme/tools.git")
	if code != exitError || strings.Contains(stderr, password) || !strings.Contains(stderr, "127.0.0.1:1") {
		t.Errorf("unreachable clone URL with a password: exit %d, want %d, and no password in:\n%s", code, exitError, stderr)
	}
	_, stderr, code = runCLI(t, "", "git", "--since-tips", filepath.Join(notRepo, "nope"), notRepo)
	if code != exitError {
		t.Errorf("missing --since-tips file: exit %d, want 2; stderr:\n%s", code, stderr)
	}
}

func b64(s string) string {
	return strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(s)), "=")
}

// TestGitHostileDates: commits whose dates git stores but no report can
// hold (a year past 9999, a zone offset of four days) do not fail the
// report: every finding is written, with its commit, and the impossible
// date left out or given in UTC. Before, the JSONL write failed and the run
// lost every finding (exit 2).
func TestGitHostileDates(t *testing.T) {
	t.Parallel()
	b := history.New(t, filepath.Join(t.TempDir(), "repo.git"), true)
	commit := func(tree, ident, parent string) string {
		body := "tree " + tree + "\n"
		if parent != "" {
			body += "parent " + parent + "\n"
		}
		body += "author A <a@example.invalid> " + ident + "\ncommitter A <a@example.invalid> " + ident + "\n\nhostile date\n"
		return b.HashObject("commit", []byte(body))
	}
	tree := func(name, content string) string {
		return b.MkTree([]history.Entry{{Mode: "100644", Name: name, ID: b.HashObject("blob", []byte(content))}})
	}
	far := commit(tree("a.txt", sasURL("contosodates01", "SYNTHETIC-CLI-DATE-SIG-000000001")+"\n"), "999999999999 +0000", "")
	odd := commit(tree("b.txt", sasURL("contosodates02", "SYNTHETIC-CLI-DATE-SIG-000000002")+"\n"), "1700000000 +9959", far)
	b.SetRef("refs/heads/main", odd)
	out, stderr, code := runCLI(t, "", "git", "--format", "jsonl", "--now", fixedNow, b.Dir)
	if code != exitFindings {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitFindings, stderr)
	}
	got := map[string]string{}
	for _, f := range readJSONL(t, out) {
		for _, l := range f.Locations {
			date := "none"
			if l.Date != nil {
				date = l.Date.Format(time.RFC3339)
			}
			got[f.Account] = l.Commit + " " + date
		}
	}
	want := map[string]string{"contosodates01": far + " none", "contosodates02": odd + " 2023-11-14T22:13:20Z"}
	for acct, w := range want {
		if got[acct] != w {
			t.Errorf("%s: location %q, want %q", acct, got[acct], w)
		}
	}
}
