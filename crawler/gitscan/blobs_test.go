package gitscan

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/fixtures/history"
)

// looseObject writes a loose object of type typ and returns its ID.
func looseObject(t testing.TB, gitDir, typ string, data []byte) string {
	t.Helper()
	raw := append([]byte(fmt.Sprintf("%s %d\x00", typ, len(data))), data...)
	sum := sha1.Sum(raw)
	id := hex.EncodeToString(sum[:])
	p := filepath.Join(gitDir, "objects", id[:2], id[2:])
	if _, err := os.Stat(p); err == nil {
		return id
	}
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
	zw.Write(raw)
	zw.Close()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, buf.Bytes(), 0o444); err != nil {
		t.Fatal(err)
	}
	return id
}

// treeEntryBytes is one raw tree entry.
func treeEntryBytes(mode, name, id string) []byte {
	raw, _ := hex.DecodeString(id)
	return append([]byte(mode+" "+name+"\x00"), raw...)
}

// fastImport runs `git fast-import` on the repository with a stream of
// commits to refs/heads/main, each a message and files (path -> content,
// paths as raw bytes; "" content deletes), and returns the commit IDs.
// One process writes every object into a pack: deep trees cost no process
// or file per tree.
func fastImport(t *testing.T, b *history.Builder, commits []fastCommit) []string {
	t.Helper()
	var sb strings.Builder
	for i, c := range commits {
		fmt.Fprintf(&sb, "commit refs/heads/main\nmark :%d\ncommitter Contoso Dev <dev@contoso.example> %d +0000\ndata %d\n%s\n",
			i+1, history.Epoch+int64(i)*3600, len(c.msg), c.msg)
		if i > 0 {
			fmt.Fprintf(&sb, "from :%d\n", i)
		}
		for _, f := range c.files {
			if f.content == "" {
				fmt.Fprintf(&sb, "D %s\n", f.path)
				continue
			}
			fmt.Fprintf(&sb, "M 100644 inline %s\ndata %d\n%s\n", f.path, len(f.content), f.content)
		}
	}
	b.GitStdin([]byte(sb.String()), "fast-import", "--quiet")
	ids := make([]string, len(commits))
	for i := range commits {
		ids[i] = b.Git("rev-parse", fmt.Sprintf("main~%d", len(commits)-1-i))
	}
	return ids
}

type fastFile struct{ path, content string }

type fastCommit struct {
	msg   string
	files []fastFile
}

// skipCounts counts yielded skips by reason.
func skipCounts(res result) map[crawler.SkipReason]int {
	m := map[crawler.SkipReason]int{}
	for _, s := range res.skips {
		m[s.Reason]++
	}
	return m
}

// exactSkips fails unless the yielded skips are exactly want, and Stats
// agrees with them (one count per yielded skip, nothing else).
func exactSkips(t *testing.T, r *Repo, res result, want map[crawler.SkipReason]int) {
	t.Helper()
	got := skipCounts(res)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("yielded skips %v, want %v (%v)", got, want, res.skips)
	}
	if st := r.Stats(); fmt.Sprint(st.Skips) != fmt.Sprint(want) {
		t.Errorf("Stats.Skips %v, want %v", st.Skips, want)
	}
	if len(res.errs) != 0 {
		t.Errorf("errors %v", res.errs)
	}
}

// recorder is a loopback HTTP server that counts the requests it gets.
func recorder(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, "no", http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestPartialCloneNoNetwork: a local repository that is a partial clone
// whose promisor remote is a server on loopback, with a blob missing. The
// scan reads everything else, reports the missing blob once, and no request
// reaches the server (neither from Blobs nor from Provenance).
func TestPartialCloneNoNetwork(t *testing.T) {
	t.Parallel()
	srv, hits := recorder(t)
	b := history.New(t, t.TempDir(), false)
	b.Write("a.txt", history.SAS(201)+"\n")
	b.Write("gone.txt", history.SAS(202)+"\n")
	b.Write("z.txt", history.SAS(203)+"\n")
	b.Commit("one")
	gone := b.Git("rev-parse", "HEAD:gone.txt")
	b.Git("config", "core.repositoryFormatVersion", "1")
	b.Git("config", "extensions.partialClone", "origin")
	b.Git("config", "remote.origin.url", srv.URL+"/contoso/repo.git")
	b.Git("config", "remote.origin.promisor", "true")
	b.Git("config", "remote.origin.partialclonefilter", "blob:none")
	// The repository's own config asks for http: it must not matter.
	b.Git("config", "protocol.http.allow", "always")
	if err := removeLoose(b.GitDir(), gone); err != nil {
		t.Fatal(err)
	}
	backends(t, func(t *testing.T, cfg Config) {
		r := open(t, b.Dir, cfg)
		res := collect(t, r)
		for _, n := range []int{201, 203} {
			if len(res.withData(history.SigParam(n))) != 1 {
				t.Errorf("token %d not scanned (skips %v)", n, res.skips)
			}
		}
		exactSkips(t, r, res, map[crawler.SkipReason]int{crawler.SkipMissing: 1})
		if c := r.Coverage(); c.Complete || len(c.Problems) != 0 {
			t.Errorf("coverage %+v: want incomplete, no problems beyond the skip", c)
		}
		found := res.withData(history.SigParam(201))
		if len(found) == 1 {
			prov, err := r.Provenance(context.Background(), []string{found[0].ID, gone})
			if err != nil || len(prov[found[0].ID]) != 1 || !prov[found[0].ID][0].AtTip {
				t.Errorf("provenance %+v, %v", prov, err)
			}
		}
		if n := hits.Load(); n != 0 {
			t.Errorf("the promisor remote received %d requests", n)
		}
	})
}

// TestMissingBlob: one missing blob among 50 loses only that blob.
func TestMissingBlob(t *testing.T) {
	t.Parallel()
	b := history.New(t, t.TempDir(), false)
	for i := range 50 {
		b.Write(fmt.Sprintf("f%02d.txt", i), history.SAS(300+i)+"\n")
	}
	b.Commit("fifty")
	gone := b.Git("rev-parse", "HEAD:f07.txt")
	if err := removeLoose(b.GitDir(), gone); err != nil {
		t.Fatal(err)
	}
	backends(t, func(t *testing.T, cfg Config) {
		r := open(t, b.Dir, cfg)
		res := collect(t, r)
		n := 0
		for i := range 50 {
			n += len(res.withData(history.SigParam(300 + i)))
		}
		if n != 49 {
			t.Errorf("%d of 49 readable tokens scanned", n)
		}
		exactSkips(t, r, res, map[crawler.SkipReason]int{crawler.SkipMissing: 1})
		uniqueIDs(t, res)
	})
}

// TestRefToMissingObject: a ref naming an object that does not exist, or
// an annotated tag naming one, neither stops Open nor the scan of every
// other ref; each is one missing-object skip.
func TestRefToMissingObject(t *testing.T) {
	t.Parallel()
	b := history.New(t, t.TempDir(), false)
	b.Write("a.txt", history.SAS(401)+"\n")
	b.Commit("one")
	b.Git("pack-refs", "--all")
	f, err := os.OpenFile(filepath.Join(b.GitDir(), "packed-refs"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "%s refs/heads/broken\n", strings.Repeat("1", 40))
	// An annotated tag whose target is missing: the tag is there, what it
	// names is not.
	tag := b.HashObject("tag", []byte("object "+strings.Repeat("2", 40)+"\ntype commit\ntag gone\ntagger T <t@example.com> 1700000000 +0000\n\ngone\n"))
	fmt.Fprintf(f, "%s refs/tags/gone\n", tag)
	f.Close()
	backends(t, func(t *testing.T, cfg Config) {
		r := open(t, b.Dir, cfg)
		res := collect(t, r)
		if len(res.withData(history.SigParam(401))) != 1 {
			t.Errorf("token not scanned (skips %v)", res.skips)
		}
		exactSkips(t, r, res, map[crawler.SkipReason]int{crawler.SkipMissing: 2})
		if r.Tips()["refs/heads/main"] == "" {
			t.Errorf("tips %v", r.Tips())
		}
	})
}

// TestOversizedBlobOnce: one blob over MaxBlobSize is exactly one yielded
// too-large skip, counted once in Stats, and nothing in Coverage.Problems.
func TestOversizedBlobOnce(t *testing.T) {
	t.Parallel()
	b := history.New(t, t.TempDir(), false)
	b.Write("big.txt", strings.Repeat("x", 270_177))
	b.Write("small.txt", history.SAS(501)+"\n")
	b.Commit("one")
	backends(t, func(t *testing.T, cfg Config) {
		cfg.MaxBlobSize = 1000
		r := open(t, b.Dir, cfg)
		res := collect(t, r)
		exactSkips(t, r, res, map[crawler.SkipReason]int{crawler.SkipTooLarge: 1})
		if sk := res.skipsFor(crawler.SkipTooLarge); len(sk) == 1 && (sk[0].Size != 270_177 || sk[0].Origin.Path != "big.txt") {
			t.Errorf("skip %+v", sk[0])
		}
		if c := r.Coverage(); c.Complete || len(c.Problems) != 0 {
			t.Errorf("coverage %+v", c)
		}
	})
}

// TestShallowAndTimeoutYielded: a shallow clone and a spent time budget are
// yielded as skips, never only recorded.
func TestShallowAndTimeoutYielded(t *testing.T) {
	t.Parallel()
	src := history.New(t, t.TempDir(), false)
	src.Write("a.txt", "one\n")
	src.Commit("one")
	src.Write("a.txt", "two\n")
	src.Commit("two")
	dst := filepath.Join(t.TempDir(), "shallow")
	src.Git("-c", "protocol.file.allow=always", "clone", "-q", "--bare", "--depth", "1", "file://"+src.Dir, dst)
	backends(t, func(t *testing.T, cfg Config) {
		r := open(t, dst, cfg)
		res := collect(t, r)
		exactSkips(t, r, res, map[crawler.SkipReason]int{crawler.SkipShallow: 1})
		if c := r.Coverage(); c.Complete || len(c.Problems) != 0 {
			t.Errorf("coverage %+v", c)
		}
		r2 := open(t, src.Dir, cfg)
		r2.deadline = r2.deadline.Add(-2 * DefaultTimeout)
		res2 := collect(t, r2)
		exactSkips(t, r2, res2, map[crawler.SkipReason]int{crawler.SkipTimeout: 1})
	})
}

// deepTreeEnv names the repository a TestDeepTreeChild run scans.
const deepTreeEnv = "GITSCAN_DEEP_TREE_CHILD"

// TestDeepTreeFallback: trees nested deeper than git's recursion survives
// make `git rev-list --objects` crash part way (here 1,500 levels with a
// 256 KiB stack, as 100,000 levels do with the default 8 MiB). The object
// walk takes over: the file in the root tree (listed after the deep
// directory) and the deep file are found, each object is yielded once
// (the commit message included), and nothing is skipped. The scan runs in
// a child process whose stack limit its git children inherit. (The root
// file sorts after the directory "d", so git lists it after the crash.)
func TestDeepTreeFallback(t *testing.T) {
	t.Parallel()
	if gitProgram() == "" {
		t.Skip("no git program")
	}
	b := history.New(t, t.TempDir(), true)
	fastImport(t, b, []fastCommit{{msg: "deep tree", files: []fastFile{
		{strings.Repeat("d/", 1500) + "f.txt", "deep " + history.SAS(601) + "\n"},
		{"root.txt", "root " + history.SAS(602) + "\n"},
	}}})

	cmd := exec.Command(os.Args[0], "-test.run=^TestDeepTreeChild$", "-test.v")
	cmd.Env = append(os.Environ(), deepTreeEnv+"="+b.Dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDeepTreeChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func TestDeepTreeChild(t *testing.T) {
	dir := os.Getenv(deepTreeEnv)
	if dir == "" {
		t.Skip("run by TestDeepTreeFallback")
	}
	lim := syscall.Rlimit{Cur: 256 << 10, Max: 256 << 10}
	if err := syscall.Setrlimit(syscall.RLIMIT_STACK, &lim); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	r := open(t, dir, Config{Repo: "contoso/deep"})
	res := collect(t, r)
	if !r.Stats().Fallback {
		t.Errorf("git rev-list did not fail: the test does not reproduce the crash")
	}
	root := res.withData(history.SigParam(602))
	if len(root) != 1 {
		t.Fatalf("root file not scanned: skips %v errs %v", res.skips, res.errs)
	}
	if n := len(res.messagesWith("deep tree")); n != 1 {
		t.Errorf("commit message yielded %d times", n)
	}
	if len(res.withData(history.SigParam(601))) != 1 {
		t.Errorf("deep file not scanned")
	}
	uniqueIDs(t, res)
	exactSkips(t, r, res, map[crawler.SkipReason]int{})
	prov, err := r.Provenance(context.Background(), []string{root[0].ID})
	if o := prov[root[0].ID]; len(o) != 1 || o[0].Path != "root.txt" || !o[0].AtTip {
		t.Errorf("provenance %+v, %v", o, err)
	}
}
