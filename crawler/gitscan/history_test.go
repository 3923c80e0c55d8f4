package gitscan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/fixtures/history"
)

// scenario is the shared history of TestHistory: each token n sits in a
// different place in the graph.
type scenario struct {
	dir                  string
	added, removed       string // token 1: added then removed on main
	feature              string // token 2: only on an unmerged branch
	tagged               string // token 3: only reachable from a tag
	merge                string // token 4: only in a merge's conflict resolution
	renameFrom, renameTo string // token 5: renamed file
	msgCommit            string // token 6: only in a commit message
	looseCommit          string // token 7: after repacking (loose objects)
	pullCommit           string // token 8: only in refs/pull/1/head
}

func buildScenario(t *testing.T) scenario {
	b := history.New(t, t.TempDir(), false)
	var s scenario
	s.dir = b.Dir
	b.Write("README.md", "# contoso\n")
	b.Write("m.txt", "base\n")
	b.Commit("initial")

	b.Write("config.txt", "storage:\n  url: "+history.SAS(1)+"\n")
	s.added = b.Commit("add config")
	b.Remove("config.txt")
	s.removed = b.Commit("remove config")

	b.Git("checkout", "-q", "-b", "feature")
	b.Write("feature.txt", "x = \""+history.SAS(2)+"\"\n")
	s.feature = b.Commit("feature work")
	b.Git("checkout", "-q", "main")

	b.Git("checkout", "-q", "-b", "tmp")
	b.Write("tagged.txt", history.SAS(3)+"\n")
	s.tagged = b.Commit("tagged work")
	b.Git("tag", "-a", "-m", "release v0.0.1", "v0.0.1")
	b.Git("checkout", "-q", "main")
	b.Git("branch", "-q", "-D", "tmp")

	b.Git("checkout", "-q", "-b", "side")
	b.Write("m.txt", "side change\n")
	b.Commit("side edits m")
	b.Git("checkout", "-q", "main")
	b.Write("m.txt", "main change\n")
	b.Commit("main edits m")
	if out := tryGit(b, "merge", "-q", "--no-ff", "side", "-m", "merge side"); out == nil {
		t.Fatal("merge unexpectedly succeeded without conflict")
	}
	b.Write("m.txt", "resolved\nendpoint = \""+history.SAS(4)+"\"\n")
	b.Git("add", "m.txt")
	b.Git("commit", "-q", "--no-edit")
	s.merge = b.Git("rev-parse", "HEAD")
	b.Tick()

	b.Write("orig/name.txt", "token: "+history.SAS(5)+"\n")
	s.renameFrom = b.Commit("add name")
	b.Write("renamed/name.txt", "token: "+history.SAS(5)+"\n")
	b.Remove("orig/name.txt")
	s.renameTo = b.Commit("rename name")

	b.Write("notes.txt", "nothing here\n")
	s.msgCommit = b.Commit("rotate creds, old one was " + history.SAS(6))

	b.Git("repack", "-a", "-d", "-q")
	b.Write("later.txt", "later "+history.SAS(7)+"\n")
	s.looseCommit = b.Commit("later")

	// A pull-request ref, as on GitHub clones.
	b.Git("checkout", "-q", "-b", "pr")
	b.Write("pr.txt", history.SAS(8)+"\n")
	s.pullCommit = b.Commit("pr work")
	b.Git("checkout", "-q", "main")
	b.Git("update-ref", "refs/pull/1/head", s.pullCommit)
	b.Git("branch", "-q", "-D", "pr")
	return s
}

// tryGit runs git and returns nil when it fails.
func tryGit(b *history.Builder, args ...string) []byte {
	cmd := execGit(b, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out
	}
	return nil
}

func TestHistory(t *testing.T) {
	t.Parallel()
	s := buildScenario(t)
	// The history has both packed and loose objects.
	if packs, _ := filepath.Glob(filepath.Join(s.dir, ".git/objects/pack/*.pack")); len(packs) == 0 {
		t.Fatal("fixture has no pack")
	}
	if loose, _ := filepath.Glob(filepath.Join(s.dir, ".git/objects/??/*")); len(loose) == 0 {
		t.Fatal("fixture has no loose objects")
	}
	backends(t, func(t *testing.T, cfg Config) {
		r := open(t, s.dir, cfg)
		res := collect(t, r)
		if len(res.errs) > 0 || len(res.skips) > 0 {
			t.Fatalf("errors %v skips %v", res.errs, res.skips)
		}
		uniqueIDs(t, res)
		cov := r.Stats()
		if !cov.Complete || cov.Shallow || cov.Blobs != int64(len(res.blobs)-len(res.messagesWith(""))) {
			t.Errorf("coverage = %+v, %d blobs yielded", cov, len(res.blobs))
		}
		if cov.Commits < 12 || cov.Tags != 1 {
			t.Errorf("coverage commits %d tags %d", cov.Commits, cov.Tags)
		}
		type want struct {
			n       int
			origins []crawler.Origin // Commit, Path, AtTip compared
		}
		wants := []want{
			{1, []crawler.Origin{{Commit: s.added, Path: "config.txt"}}},
			{2, []crawler.Origin{{Commit: s.feature, Path: "feature.txt"}}},
			{3, []crawler.Origin{{Commit: s.tagged, Path: "tagged.txt"}}},
			{4, []crawler.Origin{{Commit: s.merge, Path: "m.txt", AtTip: true}}},
			{5, []crawler.Origin{{Commit: s.renameFrom, Path: "orig/name.txt"}, {Commit: s.renameTo, Path: "renamed/name.txt", AtTip: true}}},
			{7, []crawler.Origin{{Commit: s.looseCommit, Path: "later.txt", AtTip: true}}},
			{8, []crawler.Origin{{Commit: s.pullCommit, Path: "pr.txt"}}},
		}
		var ids []string
		idOf := map[int]string{}
		for _, w := range wants {
			found := res.withData(history.SigParam(w.n))
			if len(found) != 1 {
				t.Fatalf("token %d: in %d blobs, want 1", w.n, len(found))
			}
			if found[0].Origin.Repo != "contoso/history" || found[0].Line != 1 || found[0].Offset != 0 {
				t.Errorf("token %d: blob origin %+v line %d", w.n, found[0].Origin, found[0].Line)
			}
			idOf[w.n] = found[0].ID
			ids = append(ids, found[0].ID)
		}
		if got := res.withData(history.SigParam(6)); len(got) != 0 {
			t.Errorf("token 6 found in a file blob; it is only in a message")
		}
		msgs := res.messagesWith(history.SigParam(6))
		if len(msgs) != 1 || msgs[0].Origin.Commit != s.msgCommit || msgs[0].ID != s.msgCommit || msgs[0].Origin.Author != "Contoso Dev <dev@contoso.example>" {
			t.Errorf("token 6 message blobs = %+v", msgs)
		}
		if tagMsgs := res.messagesWith("release v0.0.1"); len(tagMsgs) != 1 || tagMsgs[0].Origin.Commit != s.tagged {
			t.Errorf("tag message blobs = %+v", tagMsgs)
		}

		how := provLog // no silent fallback to the tree walk
		if cfg.NoGitProgram {
			how = provAuto
		}
		prov, err := r.provenance(context.Background(), ids, how)
		if err != nil {
			t.Fatalf("Provenance: %v", err)
		}
		for _, w := range wants {
			got := prov[idOf[w.n]]
			var trimmed []crawler.Origin
			for _, o := range got {
				if o.Repo != "contoso/history" || o.Author != "Contoso Dev <dev@contoso.example>" || o.Time.IsZero() {
					t.Errorf("token %d: origin %+v lacks repo/author/time", w.n, o)
				}
				trimmed = append(trimmed, crawler.Origin{Commit: o.Commit, Path: o.Path, AtTip: o.AtTip})
			}
			if diff := cmp.Diff(w.origins, trimmed); diff != "" {
				t.Errorf("token %d provenance (-want +got):\n%s", w.n, diff)
			}
		}
		// The commit time is the builder's deterministic clock.
		if o := prov[idOf[1]]; len(o) == 1 {
			want := time.Unix(history.Epoch+3600, 0)
			if !o[0].Time.Equal(want) {
				t.Errorf("token 1 time %v, want %v", o[0].Time, want)
			}
		}
		tips := r.Tips()
		for _, ref := range []string{"refs/heads/main", "refs/heads/feature", "refs/tags/v0.0.1", "refs/pull/1/head"} {
			if !validOID(tips[ref]) {
				t.Errorf("Tips()[%s] = %q", ref, tips[ref])
			}
		}
		if tips["refs/tags/v0.0.1"] != s.tagged {
			t.Errorf("tag tip not peeled: %s", tips["refs/tags/v0.0.1"])
		}
	})
}

func TestEmptyRepository(t *testing.T) {
	t.Parallel()
	for _, bare := range []bool{false, true} {
		b := history.New(t, t.TempDir(), bare)
		backends(t, func(t *testing.T, cfg Config) {
			r := open(t, b.Dir, cfg)
			res := collect(t, r)
			if len(res.blobs)+len(res.skips)+len(res.errs) != 0 {
				t.Errorf("empty repo yielded %+v", res)
			}
			if !r.Stats().Complete {
				t.Errorf("coverage %+v", r.Stats())
			}
			prov, err := r.Provenance(context.Background(), []string{strings.Repeat("a", 40)})
			if err != nil || len(prov) != 0 {
				t.Errorf("Provenance = %v, %v", prov, err)
			}
		})
	}
}

func TestShallowClone(t *testing.T) {
	t.Parallel()
	src := history.New(t, t.TempDir(), false)
	src.Write("a.txt", history.SAS(11)+"\n")
	src.Commit("one")
	src.Write("a.txt", "clean\n")
	src.Commit("two")
	dst := filepath.Join(t.TempDir(), "shallow")
	src.Git("-c", "protocol.file.allow=always", "clone", "-q", "--bare", "--depth", "1", "file://"+src.Dir, dst)
	backends(t, func(t *testing.T, cfg Config) {
		r := open(t, dst, cfg)
		res := collect(t, r)
		cov := r.Stats()
		if !cov.Shallow || cov.Complete || len(res.skipsFor(crawler.SkipShallow)) != 1 {
			t.Errorf("coverage %+v skips %v", cov, res.skips)
		}
		if len(res.withData("clean")) != 1 {
			t.Errorf("tip content not scanned")
		}
		if len(res.errs) != 0 || len(res.skips) != 1 {
			t.Errorf("errs %v skips %v", res.errs, res.skips)
		}
	})
}

func TestIncremental(t *testing.T) {
	t.Parallel()
	b := history.New(t, t.TempDir(), false)
	b.Write("old.txt", history.SAS(21)+"\n")
	b.Write("same.txt", "unchanged\n")
	b.Commit("old")
	r0 := open(t, b.Dir, Config{})
	var since []string
	for _, v := range r0.Tips() {
		since = append(since, v)
	}
	b.Write("new.txt", history.SAS(22)+"\n")
	newCommit := b.Commit("new")
	backends(t, func(t *testing.T, cfg Config) {
		cfg.SinceTips = append(since, strings.Repeat("0", 40)) // an unknown tip is ignored
		r := open(t, b.Dir, cfg)
		res := collect(t, r)
		if len(res.withData(history.SigParam(22))) != 1 {
			t.Errorf("new token not scanned")
		}
		if len(res.withData(history.SigParam(21))) != 0 || len(res.withData("unchanged")) != 0 {
			t.Errorf("old objects rescanned")
		}
		if len(res.messagesWith("old")) != 0 || len(res.messagesWith("new")) != 1 || res.messagesWith("new")[0].Origin.Commit != newCommit {
			t.Errorf("messages: %+v", res.blobs)
		}
		if len(res.errs)+len(res.skips) != 0 {
			t.Errorf("errs %v skips %v", res.errs, res.skips)
		}
	})
}

func TestBounds(t *testing.T) {
	t.Parallel()
	b := history.New(t, t.TempDir(), false)
	b.Write("big.txt", strings.Repeat("x", 5000)+history.SAS(31)+"\n")
	b.Write("small1.txt", "a "+history.SAS(32)+"\n")
	b.Write("lfs.bin", "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n")
	b.Write(".gitmodules", "[submodule \"x\"]\n\tpath = x\n\turl = https://example.invalid/x.git\n")
	b.Commit("bounds")
	backends(t, func(t *testing.T, cfg Config) {
		cfg.MaxBlobSize = 4096
		r := open(t, b.Dir, cfg)
		res := collect(t, r)
		big := res.skipsFor(crawler.SkipTooLarge)
		if len(big) != 1 || big[0].Size < 5000 || big[0].Origin.Path != "big.txt" {
			t.Errorf("too-large skips %+v", big)
		}
		if len(res.withData(history.SigParam(31))) != 0 || len(res.withData(history.SigParam(32))) != 1 {
			t.Errorf("wrong blobs scanned")
		}
		if l := res.skipsFor(crawler.SkipLFS); len(l) != 1 || l[0].Size != 12345 {
			t.Errorf("lfs skips %+v", l)
		}
		if l := res.skipsFor(crawler.SkipSubmodule); len(l) != 1 {
			t.Errorf("submodule skips %+v", l)
		}
		cov := r.Stats()
		if cov.Complete || cov.Skips[crawler.SkipTooLarge] != 1 || cov.Skips[crawler.SkipLFS] != 1 {
			t.Errorf("coverage %+v", cov)
		}

		cfg.MaxBlobSize = 0
		cfg.MaxRepoBytes = 10
		r2 := open(t, b.Dir, cfg)
		res2 := collect(t, r2)
		if n := len(res2.skipsFor(crawler.SkipRepoBytes)); n < 3 {
			t.Errorf("repo-bytes-limit skips = %d, want >= 3", n)
		}
		if r2.Stats().Bytes > 10 {
			t.Errorf("scanned %d bytes over a 10-byte budget", r2.Stats().Bytes)
		}
	})
}

func TestStopEarly(t *testing.T) {
	t.Parallel()
	b := history.New(t, t.TempDir(), true)
	commits := make([]fastCommit, 50)
	for i := range commits {
		commits[i] = fastCommit{msg: "c", files: []fastFile{{"f.txt", strings.Repeat("line\n", i+1)}}}
	}
	fastImport(t, b, commits)
	backends(t, func(t *testing.T, cfg Config) {
		r := open(t, b.Dir, cfg)
		n := 0
		for range r.Blobs(context.Background()) {
			n++
			if n == 3 {
				break
			}
		}
		if n != 3 || r.Stats().Complete {
			t.Errorf("n=%d coverage %+v", n, r.Stats())
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r2 := open(t, b.Dir, cfg)
		var gotErr error
		for _, err := range r2.Blobs(ctx) {
			if err != nil {
				gotErr = err
			}
		}
		if gotErr != context.Canceled {
			t.Errorf("canceled scan ended with %v", gotErr)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, target string }{
		{"not a repo", t.TempDir()},
		{"missing", filepath.Join(t.TempDir(), "nope")},
		{"file scheme", "file:///etc"},
		{"ext scheme", "ext::sh -c touch% /tmp/x"},
		{"ssh scheme", "ssh://git@example.invalid/x.git"},
		{"plain http", "http://127.0.0.1:1/x.git"},
		{"token in URL", "https://x-access-token:SECRETVALUE@127.0.0.1:1/x.git"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Open(context.Background(), tt.target, Config{})
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), "SECRETVALUE") {
				t.Errorf("error leaks the credential: %v", err)
			}
		})
	}
	if _, err := os.Stat("/tmp/x"); err == nil {
		t.Log("note: /tmp/x exists (not created by this test)")
	}
}
