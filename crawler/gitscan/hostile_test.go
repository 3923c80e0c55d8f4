package gitscan

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/sasquatch-sec/sasquatch/crawler"
	"io"
	"log"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/sasquatch-sec/sasquatch/fixtures/history"
)

// writeLoose writes a loose object file with the given raw (uncompressed)
// content, named id, corrupting the zlib stream in the middle when corrupt.
func writeLoose(t *testing.T, gitDir, id string, raw []byte, corrupt bool) {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	data := buf.Bytes()
	if corrupt {
		data[len(data)/2] ^= 0xff
		data[len(data)/2+1] ^= 0xff
	}
	p := filepath.Join(gitDir, "objects", id[:2], id[2:])
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.Remove(p)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptObject(t *testing.T) {
	t.Parallel()
	b := history.New(t, t.TempDir(), false)
	var big strings.Builder
	for i := 0; big.Len() < 200_000; i++ {
		fmt.Fprintf(&big, "line %d of a large file\n", i)
	}
	b.Write("a.txt", history.SAS(41)+"\n")
	b.Write("corrupt.txt", big.String())
	b.Write("z.txt", history.SAS(42)+"\n")
	b.Commit("one")
	b.Write("y.txt", history.SAS(43)+"\n")
	b.Commit("two")
	id := b.Git("rev-parse", "HEAD:corrupt.txt")
	writeLoose(t, b.GitDir(), id, append([]byte(fmt.Sprintf("blob %d\x00", big.Len())), big.String()...), true)

	backends(t, func(t *testing.T, cfg Config) {
		r := open(t, b.Dir, cfg)
		res := collect(t, r)
		for _, n := range []int{41, 42, 43} {
			if len(res.withData(history.SigParam(n))) != 1 {
				t.Errorf("token %d not scanned after the corrupt object", n)
			}
		}
		un := res.skipsFor(crawler.SkipUnreadable)
		if len(un) != 1 || !strings.Contains(un[0].Error(), id) {
			t.Fatalf("unreadable skips = %v", un)
		}
		if len(res.withData("line 1 of a large file")) != 0 {
			t.Errorf("corrupt blob yielded")
		}
		if r.Stats().Complete || r.Stats().Skips[crawler.SkipUnreadable] != 1 {
			t.Errorf("coverage %+v", r.Stats())
		}
	})
}

// TestHugeBlobHeader: a loose object whose header claims 2 GiB is skipped
// from its size alone; its content is never read (the file holds only a
// few bytes, so any read of the content would fail as corrupt instead).
func TestHugeBlobHeader(t *testing.T) {
	t.Parallel()
	b := history.New(t, t.TempDir(), true)
	raw := []byte("blob 2147483648\x00only a few bytes")
	sum := sha1.Sum([]byte("synthetic 2 GiB blob"))
	huge := hex.EncodeToString(sum[:])
	writeLoose(t, b.GitDir(), huge, raw, false)
	small := b.HashObject("blob", []byte(history.SAS(51)+"\n"))
	tree := b.MkTree([]history.Entry{{Mode: "100644", Name: "huge.bin", ID: huge}, {Mode: "100644", Name: "small.txt", ID: small}})
	b.SetRef("refs/heads/main", b.CommitTree(tree, "huge"))
	backends(t, func(t *testing.T, cfg Config) {
		r := open(t, b.Dir, cfg)
		res := collect(t, r)
		sk := res.skipsFor(crawler.SkipTooLarge)
		if len(sk) != 1 || sk[0].Size != 2<<30 {
			t.Fatalf("too-large skips %+v (all skips %v, errs %v)", sk, res.skips, res.errs)
		}
		if len(res.withData(history.SigParam(51))) != 1 {
			t.Errorf("small blob not scanned")
		}
		if len(res.skips) != 1 {
			t.Errorf("skips %v", res.skips)
		}
	})
}

func TestHostileTrees(t *testing.T) {
	t.Parallel()
	b := history.New(t, t.TempDir(), true)
	blob := func(n int) string { return b.HashObject("blob", []byte(fmt.Sprintf("k%d = %s\n", n, history.SAS(n)))) }
	names := []string{"..", "../../x", ".git", ".GIT", "a\\..\\b", "caf\xe9-latin1.txt", ".git ", "x\x1b[31m"}
	var entries []history.Entry
	for i, n := range names {
		entries = append(entries, history.Entry{Mode: "100644", Name: n, ID: blob(60 + i)})
	}
	// A deep tree: 600 nested directories named "d".
	deepBlob := blob(70)
	deep := looseObject(t, b.Dir, "tree", treeEntryBytes("100644", "deep.txt", deepBlob))
	for range 600 {
		deep = looseObject(t, b.Dir, "tree", treeEntryBytes("40000", "d", deep))
	}
	entries = append(entries, history.Entry{Mode: "40000", Name: "deep", ID: deep})
	// A submodule pointing at ext:: and a local path; never fetched.
	gm := b.HashObject("blob", []byte("[submodule \"a\"]\n\tpath = a\n\turl = ext::sh -c touch% "+filepath.Join(b.Dir, "PWNED-ext")+"\n[submodule \"b\"]\n\tpath = b\n\turl = "+b.Dir+"\n"))
	entries = append(entries, history.Entry{Mode: "100644", Name: ".gitmodules", ID: gm},
		history.Entry{Mode: "160000", Name: "a", ID: strings.Repeat("1", 40)},
		history.Entry{Mode: "160000", Name: "b", ID: strings.Repeat("2", 40)})
	tree := b.MkTree(entries)
	commit := b.CommitTree(tree, "hostile")
	b.SetRef("refs/heads/main", commit)
	// Repository config and hooks that would leave markers if run.
	marker := filepath.Join(t.TempDir(), "markers")
	os.MkdirAll(marker, 0o755)
	cfgFile := filepath.Join(b.GitDir(), "config")
	f, _ := os.OpenFile(cfgFile, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, "[core]\n\tfsmonitor = touch %s/fsmonitor\n\thooksPath = %s/hooks\n\tpager = touch %s/pager\n[uploadpack]\n\tpackObjectsHook = touch %s/pack\n", marker, b.GitDir(), marker, marker)
	f.Close()
	for _, h := range []string{"post-checkout", "pre-commit", "post-merge", "reference-transaction", "fsmonitor-watchman"} {
		os.MkdirAll(filepath.Join(b.GitDir(), "hooks"), 0o755)
		os.WriteFile(filepath.Join(b.GitDir(), "hooks", h), []byte("#!/bin/sh\ntouch "+marker+"/"+h+"\n"), 0o755)
	}

	backends(t, func(t *testing.T, cfg Config) {
		r := open(t, b.Dir, cfg)
		res := collect(t, r)
		if len(res.errs) != 0 {
			t.Errorf("errors: %v", res.errs)
		}
		var ids []string
		for i := range names {
			got := res.withData(history.SigParam(60 + i))
			if len(got) != 1 {
				t.Errorf("blob under name %q not scanned", names[i])
				continue
			}
			ids = append(ids, got[0].ID)
		}
		deepFound := res.withData(history.SigParam(70))
		if len(deepFound) != 1 {
			t.Fatalf("deep blob not scanned")
		}
		ids = append(ids, deepFound[0].ID)
		if len(res.skipsFor(crawler.SkipSubmodule)) != 1 {
			t.Errorf("submodule skip missing: %v", res.skips)
		}
		how := provLog // no silent fallback to the tree walk
		if cfg.NoGitProgram {
			how = provAuto
		}
		prov, err := r.provenance(context.Background(), ids, how)
		if err != nil {
			t.Fatalf("Provenance: %v", err)
		}
		if o := prov[deepFound[0].ID]; len(o) != 1 || !strings.HasSuffix(o[0].Path, "/d/deep.txt") || strings.Count(o[0].Path, "/") != 601 || o[0].Commit != commit || !o[0].AtTip {
			t.Errorf("deep provenance %+v", o)
		}
		dotdot := prov[ids[1]]
		if len(dotdot) != 1 || dotdot[0].Path != "../../x" {
			t.Errorf("../../x provenance %+v", dotdot)
		}
		latin := prov[ids[5]]
		if len(latin) != 1 || latin[0].Path != "caf\xe9-latin1.txt" || !latin[0].AtTip {
			t.Errorf("latin-1 provenance %+v", latin)
		}
		if esc := prov[ids[7]]; len(esc) != 1 || esc[0].Path != "x\x1b[31m" {
			t.Errorf("escape-sequence name provenance %+v", esc)
		}
	})
	// The same repository cloned over smart HTTP (go-git, bare, no
	// submodules): everything is still found and nothing runs.
	srv := gitHTTPServer(t, filepath.Dir(b.Dir))
	tmp := t.TempDir()
	rc := open(t, srv.URL+"/git/"+filepath.Base(b.Dir), Config{AllowInsecureHTTP: true, TempDir: tmp})
	cres := collect(t, rc)
	if len(cres.withData(history.SigParam(70))) != 1 || len(cres.withData(history.SigParam(61))) != 1 || len(cres.errs) != 0 {
		t.Errorf("clone of hostile repo: %d blobs, errs %v, skips %v", len(cres.blobs), cres.errs, cres.skips)
	}
	rc.Close()
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("files left in the clone parent: %v", ents)
	}
	if ents, _ := os.ReadDir(marker); len(ents) != 0 {
		t.Errorf("repository content executed: markers %v", ents)
	}
	for _, p := range []string{filepath.Join(b.Dir, "PWNED-ext"), filepath.Join(filepath.Dir(b.Dir), "x")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s created", p)
		}
	}
}

// gitHTTPServer serves the repositories under root over smart HTTP with
// `git http-backend`, on loopback.
func gitHTTPServer(t *testing.T, root string, auth ...string) *httptest.Server {
	t.Helper()
	return gitHTTPServerWrap(t, root, nil, auth...)
}

// gitHTTPServerWrap is gitHTTPServer with the handler wrapped by wrap
// (when not nil), set before the server starts.
func gitHTTPServerWrap(t *testing.T, root string, wrap func(http.Handler) http.Handler, auth ...string) *httptest.Server {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skip("git not available")
	}
	backend := filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Skip("git-http-backend not available")
	}
	h := &cgi.Handler{
		Path:   backend,
		Dir:    root,
		Logger: log.New(io.Discard, "", 0),
		Env: []string{
			"GIT_PROJECT_ROOT=" + root,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=/dev/null",
			"HOME=" + t.TempDir(),
			// As GitHub: clients may ask for a blob filter.
			"GIT_CONFIG_COUNT=1",
			"GIT_CONFIG_KEY_0=uploadpack.allowFilter",
			"GIT_CONFIG_VALUE_0=true",
		},
	}
	// CGI needs a Content-Length; git sends large POST bodies (many refs)
	// chunked.
	var handler http.Handler = http.StripPrefix("/git", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength < 0 && r.Body != nil {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, "bad body", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			r.Header.Set("Content-Length", strconv.Itoa(len(body)))
			r.Header.Del("Transfer-Encoding")
			r.TransferEncoding = nil
		}
		h.ServeHTTP(w, r)
	}))
	if len(auth) > 0 {
		inner := handler
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "x-access-token" || p != auth[0] {
				w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
			inner.ServeHTTP(w, r)
		})
	}
	if wrap != nil {
		handler = wrap(handler)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv
}

func TestCloneHTTP(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	b := history.New(t, filepath.Join(root, "repo"), false)
	b.Write("secret.txt", history.SAS(81)+"\n")
	first := b.Commit("add")
	b.Write("secret.txt", "gone\n")
	b.Write("kept.txt", history.SAS(82)+"\n")
	b.Commit("remove")
	b.Git("update-ref", "refs/pull/7/head", first)
	b.Git("config", "core.fsmonitor", "touch "+filepath.Join(root, "MARKER"))
	srv := gitHTTPServer(t, root)
	url := srv.URL + "/git/repo/.git"

	backends(t, func(t *testing.T, cfg Config) {
		cfg.AllowInsecureHTTP = true
		cfg.TempDir = t.TempDir()
		r := open(t, url, cfg)
		if r.Stats().Shallow {
			t.Errorf("clone is shallow")
		}
		if _, err := os.Stat(filepath.Join(r.Dir(), "HEAD")); err != nil {
			t.Fatalf("no bare clone at %s", r.Dir())
		}
		for _, wt := range []string{"secret.txt", ".git"} {
			if _, err := os.Stat(filepath.Join(filepath.Dir(r.Dir()), wt)); err == nil {
				t.Errorf("work tree file %s checked out", wt)
			}
		}
		res := collect(t, r)
		found := res.withData(history.SigParam(81))
		if len(found) != 1 {
			t.Fatalf("token not found in clone (errs %v skips %v)", res.errs, res.skips)
		}
		if r.Tips()["refs/pull/7/head"] != first {
			t.Errorf("refs/pull/7/head not cloned: %v", r.Tips())
		}
		kept := res.withData(history.SigParam(82))
		if len(kept) != 1 {
			t.Fatalf("kept token not found")
		}
		prov, err := r.Provenance(context.Background(), []string{found[0].ID, kept[0].ID})
		if err != nil || len(prov[found[0].ID]) != 1 || prov[found[0].ID][0].Commit != first || prov[found[0].ID][0].AtTip {
			t.Errorf("provenance %+v, %v", prov, err)
		}
		if k := prov[kept[0].ID]; len(k) != 1 || !k[0].AtTip || k[0].Path != "kept.txt" {
			t.Errorf("kept provenance %+v (HEAD of the clone not resolved?)", k)
		}
		dir := r.Dir()
		r.Close()
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("temporary clone %s not removed", dir)
		}
		if ents, _ := os.ReadDir(cfg.TempDir); len(ents) != 0 {
			t.Errorf("temp dir not empty after Close: %v", ents)
		}

		// A cache directory: clone once, then fetch new commits.
		cfg.CacheDir = t.TempDir()
		r1 := open(t, url, cfg)
		collect(t, r1)
		r1.Close()
		if _, err := os.Stat(r1.Dir()); err != nil {
			t.Fatalf("cached clone removed: %v", err)
		}
	})
	if _, err := os.Stat(filepath.Join(root, "MARKER")); err == nil {
		t.Errorf("fsmonitor executed")
	}
}

func TestCloneEmptyHTTP(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	history.New(t, filepath.Join(root, "empty.git"), true)
	srv := gitHTTPServer(t, root)
	r := open(t, srv.URL+"/git/empty.git", Config{AllowInsecureHTTP: true, TempDir: t.TempDir()})
	res := collect(t, r)
	if len(res.blobs)+len(res.skips)+len(res.errs) != 0 || !r.Stats().Complete {
		t.Errorf("empty clone: %+v %+v", res, r.Stats())
	}
}

func TestCacheDirFetch(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"git", "go-git"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			b := history.New(t, filepath.Join(root, "repo"), false)
			b.Write("a.txt", history.SAS(91)+"\n")
			b.Commit("one")
			srv := gitHTTPServer(t, root)
			cfg := Config{AllowInsecureHTTP: true, CacheDir: t.TempDir(), NoGitProgram: name == "go-git"}
			url := srv.URL + "/git/repo/.git"
			r1 := open(t, url, cfg)
			if len(collect(t, r1).withData(history.SigParam(91))) != 1 {
				t.Fatal("first clone: token missing")
			}
			r1.Close()
			b.Write("b.txt", history.SAS(92)+"\n")
			second := b.Commit("two")
			r2 := open(t, url, cfg)
			if r2.Dir() != r1.Dir() {
				t.Errorf("cache dir changed: %s vs %s", r1.Dir(), r2.Dir())
			}
			if r2.Tips()["refs/heads/main"] != second {
				t.Errorf("fetch did not update main: %v", r2.Tips())
			}
			res := collect(t, r2)
			if len(res.withData(history.SigParam(92))) != 1 || len(res.withData(history.SigParam(91))) != 1 {
				t.Errorf("after fetch: %d blobs, errs %v skips %v", len(res.blobs), res.errs, res.skips)
			}
			r2.Close()
			if _, err := os.Stat(r2.Dir()); err != nil {
				t.Errorf("cache removed on Close: %v", err)
			}
		})
	}
}

func TestCloneFetchLimit(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	b := history.New(t, filepath.Join(root, "repo"), false)
	var sb strings.Builder
	for i := 0; sb.Len() < 200_000; i++ {
		fmt.Fprintf(&sb, "%d %x\n", i, sha1.Sum([]byte(fmt.Sprint(i)))) // incompressible-ish
	}
	b.Write("big.txt", sb.String())
	b.Commit("big")
	srv := gitHTTPServer(t, root)
	tmp := t.TempDir()
	_, err := Open(context.Background(), srv.URL+"/git/repo/.git", Config{AllowInsecureHTTP: true, TempDir: tmp, MaxFetchBytes: 20_000})
	if !errors.Is(err, ErrFetchLimit) {
		t.Fatalf("Open = %v, want ErrFetchLimit", err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("partial clone left behind: %v", ents)
	}
	r := open(t, srv.URL+"/git/repo/.git", Config{AllowInsecureHTTP: true, TempDir: tmp, MaxFetchBytes: 10 << 20})
	if len(collect(t, r).withData("199 ")) == 0 {
		t.Errorf("clone under the limit incomplete")
	}
}

func TestCloneAuth(t *testing.T) {
	t.Parallel()
	const token = "SYNTHETIC-CLONE-TOKEN-000001"
	root := t.TempDir()
	b := history.New(t, filepath.Join(root, "repo"), false)
	b.Write("a.txt", history.SAS(96)+"\n")
	b.Commit("one")
	srv := gitHTTPServer(t, root, token)
	url := srv.URL + "/git/repo/.git"
	_, err := Open(context.Background(), url, Config{AllowInsecureHTTP: true, TempDir: t.TempDir()})
	if err == nil {
		t.Fatal("clone without credentials succeeded")
	}
	_, err = Open(context.Background(), url, Config{AllowInsecureHTTP: true, TempDir: t.TempDir(),
		Auth: &githttp.BasicAuth{Username: "x-access-token", Password: "WRONG-" + token}})
	if err == nil || strings.Contains(err.Error(), token) {
		t.Fatalf("clone with a wrong token: %v", err)
	}
	r := open(t, url, Config{AllowInsecureHTTP: true, TempDir: t.TempDir(),
		Auth: &githttp.BasicAuth{Username: "x-access-token", Password: token}})
	if len(collect(t, r).withData(history.SigParam(96))) != 1 {
		t.Error("token blob not found in authenticated clone")
	}
	cfg, _ := os.ReadFile(filepath.Join(r.Dir(), "config"))
	if strings.Contains(string(cfg), token) {
		t.Error("token written into the clone's config")
	}
}
