package gitscan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/fixtures/history"
)

// memChildEnv carries the clone URL to TestCloneMemoryChild.
const memChildEnv = "GITSCAN_MEM_CHILD"

// zeroBlobMiB sizes the highly compressible blob of TestCloneMemoryBound:
// 200 MiB of zeros is about 200 KiB packed.
var zeroBlobMiB = envInt("GITSCAN_MEM_MIB", 200)

// memBoundMiB is the peak RSS allowed to the process that clones and
// scans one repository at default limits (issue: under 300 MiB; the
// whole blob inflated in memory would exceed it).
const memBoundMiB = 150

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestCloneMemoryBound clones and scans, in a child process at default
// limits, a repository whose few hundred kilobytes of pack inflate to a
// 200 MiB blob, and asserts the child's peak RSS (git children included:
// the rusage of a waited-for process covers its waited-for children) below
// memBoundMiB. With the git program the blob stays on the server (the clone
// filter) and is one too-large skip; go-git, which would inflate it while
// indexing the pack, refuses the pack before indexing it.
func TestCloneMemoryBound(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	b := history.New(t, filepath.Join(root, "repo"), false)
	zeros := filepath.Join(t.TempDir(), "zeros")
	f, err := os.Create(zeros)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(int64(zeroBlobMiB) << 20) // sparse: no disk used
	f.Close()
	big := b.Git("hash-object", "-w", zeros)
	small := b.HashObject("blob", []byte(history.SAS(701)+"\n"))
	tree := b.MkTree([]history.Entry{{Mode: "100644", Name: "zeros.bin", ID: big}, {Mode: "100644", Name: "a.txt", ID: small}})
	b.SetRef("refs/heads/main", b.CommitTree(tree, "zeros"))
	srv := gitHTTPServer(t, root)
	url := srv.URL + "/git/repo/.git"
	for _, backend := range []string{"git", "go-git"} {
		t.Run(backend, func(t *testing.T) {
			if backend == "git" && gitProgram() == "" {
				t.Skip("no git program")
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestCloneMemoryChild$", "-test.v")
			cmd.Env = append(os.Environ(), memChildEnv+"="+url, "GITSCAN_MEM_BACKEND="+backend, "TMPDIR="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "--- PASS: TestCloneMemoryChild") {
				t.Fatalf("child: %v\n%s", err, out)
			}
			m := regexp.MustCompile(`peak-kib: (\d+)`).FindStringSubmatch(string(out))
			if m == nil {
				t.Skip("the child could not measure its peak RSS on this platform")
			}
			kib, _ := strconv.ParseInt(m[1], 10, 64)
			peak := kib >> 10
			t.Logf("%s: %d MiB blob, peak RSS %d MiB", backend, zeroBlobMiB, peak)
			if peak >= memBoundMiB {
				t.Errorf("peak RSS %d MiB, want < %d MiB", peak, memBoundMiB)
			}
		})
	}
}

func TestCloneMemoryChild(t *testing.T) {
	url := os.Getenv(memChildEnv)
	if url == "" {
		t.Skip("run by TestCloneMemoryBound")
	}
	defer logPeakKiB(t)
	cfg := Config{AllowInsecureHTTP: true, NoGitProgram: os.Getenv("GITSCAN_MEM_BACKEND") == "go-git"}
	if cfg.NoGitProgram && int64(zeroBlobMiB)<<20 > goGitObjectCap {
		// go-git would inflate the blob while indexing the pack: refused.
		_, err := Open(context.Background(), url, cfg)
		if !errors.Is(err, ErrObjectTooLarge) {
			t.Errorf("go-git clone of a %d MiB blob: %v, want ErrObjectTooLarge", zeroBlobMiB, err)
		}
		return
	}
	r := open(t, url, cfg)
	res := collect(t, r)
	if len(res.withData(history.SigParam(701))) != 1 {
		t.Errorf("token not found: skips %v errs %v", res.skips, res.errs)
	}
	exactSkips(t, r, res, map[crawler.SkipReason]int{crawler.SkipTooLarge: 1})
	if err := r.Close(); err != nil {
		t.Error(err)
	}
}

// logPeakKiB logs the peak RSS of this (child) process and of the git
// processes it waited for, whichever is larger. The parent cannot take it
// from its own rusage of the child: Linux carries the parent's high-water
// mark (a large test process) across the vfork and exec of the child. The
// git grandchildren inherit only this small child's.
func logPeakKiB(t *testing.T) {
	var peak int64
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				peak, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			}
		}
	}
	if peak == 0 {
		return
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) == nil {
		peak = max(peak, int64(ru.Maxrss)) // KiB on Linux
	}
	t.Logf("peak-kib: %d", peak)
}

// TestCloneFilteredOversized: a clone by the git program leaves a blob
// over MaxBlobSize on the server; the scan reports it as exactly one
// too-large skip and fetches nothing later.
func TestCloneFilteredOversized(t *testing.T) {
	t.Parallel()
	if gitProgram() == "" {
		t.Skip("no git program")
	}
	root := t.TempDir()
	b := history.New(t, filepath.Join(root, "repo"), false)
	b.Write("big.txt", strings.Repeat("x", 270_177))
	b.Write("small.txt", history.SAS(702)+"\n")
	b.Commit("one")
	var mu sync.Mutex
	var posts int
	srv := gitHTTPServerWrap(t, root, func(inner http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				mu.Lock()
				posts++
				mu.Unlock()
			}
			inner.ServeHTTP(w, r)
		})
	})
	r := open(t, srv.URL+"/git/repo/.git", Config{AllowInsecureHTTP: true, TempDir: t.TempDir(), MaxBlobSize: 1000})
	mu.Lock()
	after := posts
	mu.Unlock()
	res := collect(t, r)
	if len(res.withData(history.SigParam(702))) != 1 {
		t.Errorf("token not found")
	}
	exactSkips(t, r, res, map[crawler.SkipReason]int{crawler.SkipTooLarge: 1})
	if _, err := r.Provenance(context.Background(), []string{res.withData(history.SigParam(702))[0].ID}); err != nil {
		t.Errorf("provenance: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if posts != after {
		t.Errorf("%d requests after the clone (a lazy fetch)", posts-after)
	}
}

// TestRelativeDirs: relative TempDir and CacheDir work (git runs in the
// repository's directory, so they are made absolute at Open).
func TestRelativeDirs(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	b := history.New(t, filepath.Join(root, "repo"), false)
	b.Write("a.txt", history.SAS(801)+"\n")
	b.Commit("one")
	srv := gitHTTPServer(t, root)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel := func(dir string) string {
		p, err := filepath.Rel(wd, dir)
		if err != nil || filepath.IsAbs(p) {
			t.Skipf("no relative path to %s", dir)
		}
		return p
	}
	backends(t, func(t *testing.T, cfg Config) {
		cfg.AllowInsecureHTTP = true
		tmp := t.TempDir()
		cfg.TempDir = rel(tmp)
		r := open(t, srv.URL+"/git/repo/.git", cfg)
		if len(collect(t, r).withData(history.SigParam(801))) != 1 {
			t.Errorf("token not found with a relative TempDir")
		}
		r.Close()
		if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
			t.Errorf("left in TempDir: %v", ents)
		}
		cfg.TempDir = ""
		cfg.CacheDir = rel(t.TempDir())
		for range 2 { // clone, then fetch
			r := open(t, srv.URL+"/git/repo/.git", cfg)
			if len(collect(t, r).withData(history.SigParam(801))) != 1 {
				t.Errorf("token not found with a relative CacheDir")
			}
			if !filepath.IsAbs(r.Dir()) {
				t.Errorf("Dir() = %s, not absolute", r.Dir())
			}
			r.Close()
		}
	})
}

// packedPullRefs writes n refs/pull/*/head refs at commit into packed-refs.
func packedPullRefs(t *testing.T, gitDir, commit string, n int) {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("# pack-refs with: peeled fully-peeled sorted \n")
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("refs/pull/%06d/head", i)
	}
	lines := map[string]string{}
	old, _ := os.ReadFile(filepath.Join(gitDir, "packed-refs"))
	for _, line := range strings.Split(string(old), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "^") {
			names = append(names, line[41:])
			lines[line[41:]] = line[:40]
		}
	}
	slices.Sort(names)
	for _, name := range names {
		id := commit
		if v, ok := lines[name]; ok {
			id = v
		}
		sb.WriteString(id + " " + name + "\n")
	}
	if err := os.WriteFile(filepath.Join(gitDir, "packed-refs"), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCancelStopsClone: with 20,000 refs/pull/* refs, cancelling the
// context while the clone runs makes Open return the context's error and
// remove the temporary clone, whether the pack is still being served or
// the refs are being written; cancelling during Blobs ends the iteration.
// The 10 s bound is only a hang guard.
func TestCancelStopsClone(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	b := history.New(t, filepath.Join(root, "repo"), false)
	b.Write("a.txt", history.SAS(901)+"\n")
	commit := b.Commit("one")
	b.Git("pack-refs", "--all")
	packedPullRefs(t, b.GitDir(), commit, 20_000)
	stall := make(chan struct{})
	release := make(chan struct{})
	var stallOnce sync.Once
	srv := gitHTTPServerWrap(t, root, func(inner http.Handler) http.Handler {
		return stallHandler(inner, stall, release, &stallOnce)
	})
	t.Cleanup(func() { close(release) }) // runs before the server closes

	backends(t, func(t *testing.T, cfg Config) {
		cfg.AllowInsecureHTTP = true
		// While the pack is being fetched.
		cfg.TempDir = t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			r, err := Open(ctx, srv.URL+"/git/stall/repo/.git", cfg)
			if r != nil {
				r.Close()
			}
			done <- err
		}()
		select {
		case <-stall:
		case err := <-done:
			t.Fatalf("Open returned before the pack was requested: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("hang guard: no pack request")
		}
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Open after cancel = %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("hang guard: Open did not return after cancel")
		}
		if ents, _ := os.ReadDir(cfg.TempDir); len(ents) != 0 {
			t.Errorf("left in TempDir after cancel: %v", ents)
		}

		// While go-git writes the 20,000 refs (one file each; the git
		// program writes one packed-refs file): cancel once the first
		// refs/pull ref exists; the writing must stop there, not go on to
		// the end (a count of refs seen, not a duration).
		if cfg.NoGitProgram {
			cfg.TempDir = t.TempDir()
			ctx, cancel = context.WithCancel(context.Background())
			defer cancel()
			go func() {
				r, err := Open(ctx, srv.URL+"/git/repo/.git", cfg)
				if r != nil {
					r.Close()
				}
				done <- err
			}()
			maxSeen := 0
			cancelled := false
		poll:
			for {
				select {
				case <-done:
					break poll
				case <-time.After(time.Millisecond):
				}
				m, _ := filepath.Glob(filepath.Join(cfg.TempDir, "sasquatch-repo-*", "repo.git", "refs", "pull"))
				if len(m) == 0 {
					continue
				}
				ents, _ := os.ReadDir(m[0])
				maxSeen = max(maxSeen, len(ents))
				if !cancelled {
					cancel()
					cancelled = true
				}
			}
			if !cancelled {
				t.Fatalf("clone finished without writing refs/pull")
			}
			if maxSeen >= 10_000 {
				t.Errorf("%d refs written after cancel: the clone did not stop", maxSeen)
			}
			if ents, _ := os.ReadDir(cfg.TempDir); len(ents) != 0 {
				t.Errorf("left in TempDir after cancel: %v", ents)
			}
		}

		// During Blobs (of the served repository itself: the clone of
		// 20,000 refs is not what is measured here).
		r := open(t, b.Dir, Config{NoGitProgram: cfg.NoGitProgram})
		if n := len(r.Tips()); n != 20_001 {
			t.Errorf("%d tips, want 20001", n)
		}
		ctx, cancel = context.WithCancel(context.Background())
		ended := make(chan error, 1)
		go func() {
			var last error
			for _, err := range r.Blobs(ctx) {
				cancel()
				if err != nil {
					last = err
				}
			}
			ended <- last
		}()
		select {
		case err := <-ended:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Blobs ended with %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("hang guard: Blobs did not end after cancel")
		}
	})
}

// stallHandler serves inner, except that a pack request under /stall/
// closes stall and never gets an answer (until the client goes away or
// release is closed).
func stallHandler(inner http.Handler, stall, release chan struct{}, once *sync.Once) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "git-upload-pack") &&
			strings.Contains(r.URL.Path, "/stall/") {
			io.Copy(io.Discard, r.Body)
			once.Do(func() { close(stall) })
			select { // never answers
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		r.URL.Path = strings.Replace(r.URL.Path, "/stall/", "/", 1)
		inner.ServeHTTP(w, r)
	})
}
