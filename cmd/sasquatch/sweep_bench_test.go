package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sasquatch-sec/sasquatch/fixtures/fakegh"
)

var benchRepos = flag.Int("repos", 300, "repositories in the fake organisation of BenchmarkSweep")

// BenchmarkSweep is issue 11 "must be true" 5: a sweep of a fake
// organisation of small repositories served on loopback, run as a child
// process. It reports repositories per minute, the child's peak RSS, and the
// wall time of a second sweep with nothing new. Run it with
//
//	go test -run '^$' -bench BenchmarkSweep -benchtime 1x ./cmd/sasquatch/ -args -repos 300
func BenchmarkSweep(b *testing.B) {
	gh := fakegh.New(b)
	for i := range *benchRepos {
		files := map[string]string{"README.md": fmt.Sprintf("# repo %d\n", i), "src/main.go": "package main\n"}
		if i%10 == 0 {
			files["deploy/sas.txt"] = sasURL(fmt.Sprintf("contosobench%03d", i), fmt.Sprintf("SYNTHETIC-BENCH-SWEEP-SIG%07d", i)) + "\n"
		}
		gh.AddRepo(b, int64(10000+i), "acme", fmt.Sprintf("repo%03d", i), files)
	}
	for b.Loop() {
		db := filepath.Join(b.TempDir(), "bench.db")
		args := []string{"sweep", "--db", db, "--api-url", gh.APIURL(), "--org", "acme", "--format", "jsonl",
			"--now", fixedNow, "--poll", "100ms", "--quiet", "-o", os.DevNull, "--concurrency", "4"}
		first, rss1 := timeChild(b, args)
		second, rss2 := timeChild(b, args)
		b.ReportMetric(float64(*benchRepos)/first.Minutes(), "repos/min")
		b.ReportMetric(float64(max(rss1, rss2))/1024, "peak-RSS-MiB")
		b.ReportMetric(second.Seconds(), "second-sweep-s")
		b.ReportMetric(first.Seconds(), "first-sweep-s")
	}
}

// timeChild runs the command in a child process and returns its wall time
// and peak RSS (KiB, as the child measured its own).
func timeChild(b *testing.B, args []string) (time.Duration, int64) {
	b.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SASQUATCH_TEST_MAIN=1")
	start := time.Now()
	kib, out, err := childPeakKiB(b, cmd)
	elapsed := time.Since(start)
	if code := cmd.ProcessState.ExitCode(); err != nil && code != exitFindings {
		b.Fatalf("sweep: %v\n%s", err, out)
	}
	return elapsed, kib
}
