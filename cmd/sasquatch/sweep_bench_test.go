package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sasquatch-sec/sasquatch/fixtures/fakegh"
)

var benchRepos = flag.Int("repos", 300, "repositories in the fake organisation of BenchmarkSweep")

// BenchmarkSweep is issue 11 "must be true" 5: a sweep of a fake
// organisation of small repositories served on loopback, run as a child
// process. Sub-benchmark "first" is a sweep into an empty store (ns/op, and
// repositories per minute from the benchmark's own timer); "second" is a
// sweep with nothing new (ns/op). Both report the child's peak RSS. Run it
// with
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
	sweep := func(b *testing.B, db string) int64 {
		args := []string{"sweep", "--db", db, "--api-url", gh.APIURL(), "--org", "acme", "--format", "jsonl",
			"--now", fixedNow, "--poll", "100ms", "--quiet", "-o", os.DevNull, "--concurrency", "4"}
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "SASQUATCH_TEST_MAIN=1")
		kib, out, err := childPeakKiB(b, cmd)
		if code := cmd.ProcessState.ExitCode(); err != nil && code != exitFindings {
			b.Fatalf("sweep: %v\n%s", err, out)
		}
		return kib
	}
	b.Run("first", func(b *testing.B) {
		var peak int64
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			db := filepath.Join(b.TempDir(), "bench.db")
			b.StartTimer()
			peak = max(peak, sweep(b, db))
		}
		b.ReportMetric(float64(*benchRepos*b.N)/b.Elapsed().Minutes(), "repos/min")
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
	})
	b.Run("second", func(b *testing.B) {
		b.StopTimer()
		db := filepath.Join(b.TempDir(), "bench.db")
		peak := sweep(b, db) // the first sweep, not timed
		b.StartTimer()
		for i := 0; i < b.N; i++ {
			peak = max(peak, sweep(b, db))
		}
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
	})
}
