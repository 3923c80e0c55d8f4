package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sasquatch-sec/sasquatch/fixtures/fakegh"
	"github.com/sasquatch-sec/sasquatch/internal/store"
)

// TestMain lets a test re-run this binary as the sasquatch command in a
// child process (SASQUATCH_TEST_MAIN=1), so crash tests can SIGKILL a real
// sweep. SASQUATCH_TEST_CRASH_AFTER=N kills the child right after its Nth
// committed job (a job boundary).
func TestMain(m *testing.M) {
	if os.Getenv("SASQUATCH_TEST_MAIN") == "1" {
		if n, _ := strconv.Atoi(os.Getenv("SASQUATCH_TEST_CRASH_AFTER")); n > 0 {
			var jobs atomic.Int64 // the hook runs on several worker goroutines
			testHookAfterJob = func(string) {
				if jobs.Add(1) == int64(n) {
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
					select {} // never returns: the signal ends the process
				}
			}
		}
		code := mainCode()
		if f := os.Getenv("SASQUATCH_TEST_HWM_FILE"); f != "" {
			// The child's own peak RSS since exec. getrusage's ru_maxrss is
			// no good here: Linux carries the parent's high-water mark
			// across the vfork and exec of a child of this (large) test
			// process.
			if b, err := os.ReadFile("/proc/self/status"); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
						os.WriteFile(f, []byte(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))), 0o644)
					}
				}
			}
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// childPeakKiB runs cmd (a child re-running this binary as sasquatch) and
// returns its peak RSS in KiB, as the child itself measured it.
func childPeakKiB(t testing.TB, cmd *exec.Cmd) (int64, []byte, error) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "hwm")
	cmd.Env = append(cmd.Env, "SASQUATCH_TEST_HWM_FILE="+f)
	out, err := cmd.CombinedOutput()
	b, rerr := os.ReadFile(f)
	if rerr != nil {
		t.Fatalf("the child did not report its peak RSS: %v\n%s", rerr, out)
	}
	kib, perr := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if perr != nil {
		t.Fatalf("peak RSS %q: %v", b, perr)
	}
	return kib, out, err
}

// sweepOrg builds a fake organisation of n repositories, every third one
// holding a token in history (added then removed) and one at the tip.
func sweepOrg(t *testing.T, n int) *fakegh.Server {
	t.Helper()
	gh := fakegh.New(t)
	for i := range n {
		files := map[string]string{"README.md": fmt.Sprintf("# repo %d\n", i)}
		if i%3 == 0 {
			files["deploy/sas.txt"] = sasURL(fmt.Sprintf("contososweep%02d", i), fmt.Sprintf("SYNTHETIC-CLI-SWEEP-SIG-%08d", i)) + "\n"
		}
		gh.AddRepo(t, int64(1000+i), "acme", fmt.Sprintf("repo%02d", i), files)
	}
	return gh
}

// storeFindings returns "fingerprint path:line@commit" for every location in
// the store, sorted: what must be equal after a crash and a resume.
func storeFindings(t *testing.T, db string) []string {
	t.Helper()
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fs, err := st.Findings(context.Background(), store.Filter{IncludeTriaged: true})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fs {
		for _, l := range f.Locations {
			out = append(out, fmt.Sprintf("%s %s %s:%d@%s", f.Fingerprint, l.Repo, l.Path, l.Line, l.Commit))
		}
	}
	slices.Sort(out)
	return out
}

// TestSweepIncremental is issue 11 "must be true" 3: a second sweep with
// nothing new downloads no pack and scans no blob; after one new commit with
// a token in one repository, the next sweep fetches only that repository,
// scans only the new objects and reports exactly that token as new.
func TestSweepIncremental(t *testing.T) {
	t.Parallel()
	gh := sweepOrg(t, 4)
	db := filepath.Join(t.TempDir(), "s.db")
	args := []string{"sweep", "--db", db, "--api-url", gh.APIURL(), "--org", "acme", "--format", "jsonl", "--now", fixedNow, "--poll", "50ms"}

	out, stderr, code := runCLI(t, "", args...)
	if code != exitFindings || len(readJSONL(t, out)) != 2 {
		t.Fatalf("first sweep: exit %d, %d findings\n%s", code, len(readJSONL(t, out)), stderr)
	}
	if fi, err := os.Stat(db); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("store file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if got := gh.Packs(); len(got) != 4 {
		t.Errorf("first sweep fetched %v, want all 4 repositories", got)
	}

	out, stderr, code = runCLI(t, "", args...)
	if code != exitClean || len(readJSONL(t, out)) != 0 {
		t.Fatalf("second sweep: exit %d, out %q\n%s", code, out, stderr)
	}
	if got := gh.Packs(); len(got) != 0 {
		t.Errorf("second sweep downloaded packs %v, want none", got)
	}
	if n := scannedCount(t, stderr, "blobs"); n != 0 {
		t.Errorf("second sweep scanned %d blobs, want 0:\n%s", n, stderr)
	}

	gh.Commit(t, "acme/repo01", "conf/new.txt", sasURL("contososweepnew", "SYNTHETIC-CLI-SWEEP-SIG-NEW00001")+"\n")
	out, stderr, code = runCLI(t, "", args...)
	fs := readJSONL(t, out)
	if code != exitFindings || len(fs) != 1 || fs[0].Account != "contososweepnew" {
		t.Fatalf("third sweep: exit %d, findings %+v\n%s", code, fs, stderr)
	}
	if got := gh.Packs(); len(got) != 1 || got["/acme/repo01.git"] != 1 {
		t.Errorf("third sweep downloaded packs %v, want acme/repo01 only", got)
	}
	if n := scannedCount(t, stderr, "blobs"); n != 2 {
		t.Errorf("third sweep scanned %d blobs, want 2 (the new file and the commit message):\n%s", n, stderr)
	}

	// report renders everything kept; triage hides and counts.
	out, _, code = runCLI(t, "", "report", "--db", db, "--format", "jsonl", "--now", fixedNow)
	all := readJSONL(t, out)
	if code != exitFindings || len(all) != 3 {
		t.Fatalf("report: exit %d, %d findings, want 3", code, len(all))
	}
	_, stderr, code = runCLI(t, "", "triage", "ignore", all[0].Fingerprint, "--db", db, "--reason", "test fixture")
	if code != exitClean {
		t.Fatalf("triage: exit %d\n%s", code, stderr)
	}
	out, stderr, _ = runCLI(t, "", "report", "--db", db, "--format", "jsonl", "--now", fixedNow)
	if n := len(readJSONL(t, out)); n != 2 || !strings.Contains(stderr, "1 findings triaged as ignored not shown") {
		t.Errorf("report after triage: %d findings, want 2 and a count of the hidden one:\n%s", n, stderr)
	}
	out, _, _ = runCLI(t, "", "report", "--db", db, "--format", "jsonl", "--all", "--now", fixedNow)
	if n := len(readJSONL(t, out)); n != 3 {
		t.Errorf("report --all: %d findings, want 3", n)
	}
}

// TestSweepTypo: an organisation that does not exist fails at once (the
// preflight), with exit 2 and the name.
func TestSweepTypo(t *testing.T) {
	t.Parallel()
	gh := sweepOrg(t, 1)
	db := filepath.Join(t.TempDir(), "s.db")
	_, stderr, code := runCLI(t, "", "sweep", "--db", db, "--api-url", gh.APIURL(), "--org", "acmee", "--poll", "50ms")
	if code != exitError || !strings.Contains(stderr, "not found") {
		t.Errorf("exit %d, want 2 and 'not found':\n%s", code, stderr)
	}
}

// runChild runs the sasquatch command in a child process; it returns the
// process state (killed or exited).
func runChild(t *testing.T, crashAfter int, killAfter time.Duration, args ...string) *os.ProcessState {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SASQUATCH_TEST_MAIN=1", "SASQUATCH_TEST_CRASH_AFTER="+strconv.Itoa(crashAfter))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if killAfter > 0 {
		timer := time.AfterFunc(killAfter, func() { cmd.Process.Signal(syscall.SIGKILL) })
		defer timer.Stop()
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute): // a hang guard, not a timing check
		cmd.Process.Kill()
		<-done
		t.Fatalf("child hung; stderr:\n%s", stderr.String())
	}
	return cmd.ProcessState
}

// TestSweepKillResume is issue 11 "must be true" 2: a sweep killed with
// SIGKILL at each job boundary, and at random points, then run again,
// ends with exactly the findings of an uninterrupted sweep, no duplicates.
func TestSweepKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("crash tests run in the full test run, not under -short")
	}
	t.Parallel()
	gh := sweepOrg(t, 4)
	base := []string{"sweep", "--api-url", gh.APIURL(), "--org", "acme", "--format", "jsonl", "--now", fixedNow, "--poll", "50ms", "--quiet"}
	ref := filepath.Join(t.TempDir(), "ref.db")
	if st := runChild(t, 0, 0, append(base, "--db", ref)...); st.ExitCode() != exitFindings {
		t.Fatalf("reference sweep exit %d", st.ExitCode())
	}
	want := storeFindings(t, ref)
	if len(want) != 2 {
		t.Fatalf("reference sweep: %d locations, want 2: %v", len(want), want)
	}

	// Jobs of one sweep: 1 listing, 4 scans, 2 relists. Each crash point
	// and each round of random kills is its own store, run in parallel.
	resume := func(t *testing.T, db, what string) {
		if st := runChild(t, 0, 0, append(base, "--db", db)...); st.ExitCode() != exitClean && st.ExitCode() != exitFindings {
			t.Fatalf("%s: resumed run exit %d", what, st.ExitCode())
		}
		if got := storeFindings(t, db); !slices.Equal(got, want) {
			t.Errorf("%s, then resumed: findings\n%v\nwant\n%v", what, got, want)
		}
	}
	for crash := 1; crash <= 7; crash++ {
		t.Run(fmt.Sprintf("after-job-%d", crash), func(t *testing.T) {
			t.Parallel()
			db := filepath.Join(t.TempDir(), "s.db")
			st := runChild(t, crash, 0, append(base, "--db", db)...)
			if st.Success() || st.ExitCode() == exitFindings {
				t.Errorf("the child was not killed after job %d (exit %d)", crash, st.ExitCode())
			}
			resume(t, db, fmt.Sprintf("killed after job %d", crash))
		})
	}
	for round := range 2 {
		t.Run(fmt.Sprintf("random-%d", round), func(t *testing.T) {
			t.Parallel()
			db := filepath.Join(t.TempDir(), "s.db")
			for range 2 {
				runChild(t, 0, time.Duration(100+rand.IntN(1500))*time.Millisecond, append(base, "--db", db)...)
			}
			resume(t, db, "killed at random points")
		})
	}
}
