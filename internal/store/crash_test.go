package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/report"
)

// envCrashChild makes TestCrashChild the writer of TestCrashConsistency: it
// holds the DSN to write to.
const envCrashChild = "SASQUATCH_STORE_CRASH_CHILD"

// envCrashPoint names a failpoint at which the writer kills itself with
// SIGKILL in its third transaction: the windows random kills may miss.
const envCrashPoint = "SASQUATCH_STORE_CRASH_POINT"

// The failpoints, in the order a transaction reaches them.
var crashPoints = []string{"after-run", "after-findings", "after-tips", "before-commit"}

const (
	crashRepo     = 1
	crashLocs     = 12 // locations of each transaction's own token
	crashMaxLocs  = 100000
	crashPrefix   = "crash-"
	crashOrgToken = 999 // a token every transaction adds a location to
)

// crashStep is transaction i of the writer: a run, its own token with
// crashLocs locations, one more location of the shared token, the tips, and
// the run finished; all or nothing.
func crashStep(ctx context.Context, tx *Tx, i int, failpoint func(string)) error {
	if err := tx.UpsertRepo(ctx, testRepo(crashRepo)); err != nil {
		return err
	}
	run, err := tx.BeginRun(ctx, fmt.Sprintf("%s%d", crashPrefix, i))
	if err != nil {
		return err
	}
	failpoint("after-run")
	var occ []occurrence
	own := fakeMatch(i, detect.High, true)
	for l := range crashLocs {
		occ = append(occ, occurrence{own, histLoc("fake-org/repo1", fmt.Sprintf("step%d/file%d.txt", i, l), l+1, 'a', true)})
	}
	occ = append(occ, occurrence{fakeMatch(crashOrgToken, detect.Critical, true),
		histLoc("fake-org/repo1", fmt.Sprintf("shared/%d.txt", i), 1, 'b', true)})
	if _, err := tx.AddFindings(ctx, run, crashRepo, collect(false, occ...)); err != nil {
		return err
	}
	failpoint("after-findings")
	if err := tx.SetTips(ctx, crashRepo, crashTips(i)); err != nil {
		return err
	}
	failpoint("after-tips")
	if err := tx.FinishRun(ctx, run, true, map[string]int64{"step": int64(i)}); err != nil {
		return err
	}
	failpoint("before-commit")
	return nil
}

func crashTips(i int) map[string]string {
	return map[string]string{
		"refs/heads/main":               fmt.Sprintf("%040d", i),
		"refs/tags/v" + strconv.Itoa(i): fmt.Sprintf("%040d", i+1),
	}
}

// TestCrashChild is not a test of its own: TestCrashConsistency runs the test
// binary again with only this test and envCrashChild set, and kills it.
func TestCrashChild(t *testing.T) {
	dsn := os.Getenv(envCrashChild)
	if dsn == "" {
		t.Skip("the writer process of TestCrashConsistency")
	}
	ctx := context.Background()
	s, err := OpenConfig(ctx, Config{DSN: dsn, MaxLocations: crashMaxLocs})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	var next int
	if err := s.DB().QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&next); err != nil {
		fmt.Fprintln(os.Stderr, "child count:", err)
		os.Exit(3)
	}
	point := os.Getenv(envCrashPoint)
	for i := next; i < next+100000; i++ {
		failpoint := func(p string) {
			if p == point && i == next+2 {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // the signal is on its way
			}
		}
		if err := s.InTx(ctx, func(tx *Tx) error { return crashStep(ctx, tx, i, failpoint) }); err != nil {
			fmt.Fprintln(os.Stderr, "child step:", err)
			os.Exit(3)
		}
		fmt.Printf("committed %d\n", i) // unbuffered: written before the next transaction begins
	}
	os.Exit(0)
}

// TestCrashConsistency kills a writer with SIGKILL at random points and
// checks after each kill that every transaction it reported committed is
// there in full, and that nothing of a transaction is there in part.
func TestCrashConsistency(t *testing.T) {
	if os.Getenv(envCrashChild) != "" {
		t.Skip("in the writer process")
	}
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.newDSN(t)
		// Migrate once here, so that kills land in the writer's transactions.
		s0 := openTest(t, Config{DSN: dsn})
		s0.Close()
		seed := rand.Uint64()
		rng := rand.New(rand.NewPCG(seed, 1))
		t.Logf("seed %d", seed)
		rounds := 12
		if testing.Short() {
			rounds = 4
		}
		lastReported := -1
		// The failpoints first, then kills at random moments.
		points := append(slices.Clone(crashPoints), make([]string, rounds)...)
		for round, point := range points {
			reported := runAndKill(t, dsn, rng, point)
			if reported >= 0 {
				lastReported = reported
			}
			// At a failpoint the transaction in flight is the third: the
			// writer reported the two before it, and it must be absent.
			checkCrashState(t, dsn, lastReported, point != "", round)
		}
	})
}

// runAndKill starts the writer, lets it report a random number of commits,
// kills it at a random moment after that, and returns the last step it
// reported (-1 when none). With a failpoint, the writer kills itself there.
func runAndKill(t *testing.T, dsn string, rng *rand.Rand, point string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashChild+"="+dsn, envCrashPoint+"="+point)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	want := 1 + rng.IntN(8)
	if point != "" {
		want = math.MaxInt // until it kills itself
	}
	last := -1
	sc := bufio.NewScanner(out)
	for n := 0; n < want && sc.Scan(); n++ {
		v, ok := strings.CutPrefix(sc.Text(), "committed ")
		if !ok {
			continue
		}
		if last, err = strconv.Atoi(v); err != nil {
			t.Fatalf("child said %q", sc.Text())
		}
	}
	if point == "" {
		// A random moment inside the next transaction (or between two).
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill: %v (stderr: %s)", err, stderr.String())
		}
	}
	// Read what the child printed before it died (a commit may be reported
	// after the kill was sent).
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			last, _ = strconv.Atoi(v)
		}
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("writer did not die of SIGKILL: %v\nstderr:\n%s", err, stderr.String())
	}
	return last
}

// checkCrashState reopens the store and checks that the runs are exactly
// steps 0..M, with M the last reported step or the one after it (committed,
// not yet reported; exactly the last reported when exact), each complete
// with its token and all its locations, the shared token with one location
// per step, and the tips of step M.
func checkCrashState(t *testing.T, dsn string, lastReported int, exact bool, round int) {
	t.Helper()
	ctx := context.Background()
	s, err := OpenConfig(ctx, Config{DSN: dsn, MaxLocations: crashMaxLocs})
	if err != nil {
		t.Fatalf("round %d: reopen: %v", round, err)
	}
	defer s.Close()
	if s.Driver() == DriverSQLite {
		var res string
		if err := s.DB().QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
			t.Fatalf("round %d: integrity_check = %q, %v", round, res, err)
		}
	}
	rows, err := s.DB().Query(`SELECT id, target, complete FROM runs ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	runOf := map[int]int64{}
	for rows.Next() {
		var id int64
		var target string
		var complete bool
		if err := rows.Scan(&id, &target, &complete); err != nil {
			t.Fatal(err)
		}
		step, err := strconv.Atoi(strings.TrimPrefix(target, crashPrefix))
		if err != nil || !complete {
			t.Fatalf("round %d: run %d %q complete=%v: a partial transaction", round, id, target, complete)
		}
		if _, dup := runOf[step]; dup {
			t.Fatalf("round %d: step %d twice", round, step)
		}
		runOf[step] = id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	m := len(runOf) - 1
	if m < lastReported || m > lastReported+1 || exact && m != lastReported {
		t.Fatalf("round %d: steps 0..%d stored, the writer reported %d committed", round, m, lastReported)
	}
	for step := range m + 1 {
		if _, ok := runOf[step]; !ok {
			t.Fatalf("round %d: step %d missing among %d runs", round, step, len(runOf))
		}
	}
	fs, err := s.Findings(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if m < 0 {
		if len(fs) != 0 {
			t.Fatalf("round %d: %d findings and no run", round, len(fs))
		}
		return
	}
	byFP := map[string]report.Finding{}
	for _, f := range fs {
		byFP[f.Fingerprint] = f
	}
	if len(fs) != m+2 {
		t.Fatalf("round %d: %d findings, want %d", round, len(fs), m+2)
	}
	for step := range m + 1 {
		f, ok := byFP[fakeMatch(step, detect.High, true).Fingerprint]
		if !ok || len(f.Locations) != crashLocs {
			t.Fatalf("round %d: step %d: token stored %v with %d locations, want %d", round, step, ok, len(f.Locations), crashLocs)
		}
		first, _, err := s.FindingSeen(ctx, f.Fingerprint)
		if err != nil || first.Run != runOf[step] {
			t.Fatalf("round %d: step %d: first seen in run %d, want %d (%v)", round, step, first.Run, runOf[step], err)
		}
	}
	if shared := byFP[fakeMatch(crashOrgToken, detect.Critical, true).Fingerprint]; len(shared.Locations) != m+1 {
		t.Fatalf("round %d: the shared token has %d locations, want %d", round, len(shared.Locations), m+1)
	}
	tips, err := s.Tips(ctx, crashRepo)
	if err != nil {
		t.Fatal(err)
	}
	if want := crashTips(m); fmt.Sprint(tips) != fmt.Sprint(want) {
		t.Fatalf("round %d: tips %v, want those of step %d %v", round, tips, m, want)
	}
}
