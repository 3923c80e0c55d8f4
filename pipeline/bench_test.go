package pipeline

import (
	"fmt"
	"testing"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/fixtures"
	"github.com/sasquatch-sec/sasquatch/report"
)

// BenchmarkScanDir runs Pipeline.Scan over a crawler.Dir end to end (walk,
// parallel reads, detection, locations, the store) on a 64 MiB synthetic
// tree of 256 files in the page cache, with 1 and 2 workers (and as many
// readers, as `sasquatch scan --workers N` configures them): one tree with
// no token (the prefilter's speed and the source's overhead) and one with a
// planted SAS every 64 KiB (scripts/bench-ratios.sh's density). Every
// planted token must be found.
//
//	go test ./pipeline/ -run '^$' -bench BenchmarkScanDir -benchmem -count 5
func BenchmarkScanDir(b *testing.B) {
	const size = 64 << 20
	for _, c := range []struct {
		files int
		every int64
	}{{256, 0}, {256, 64 << 10}, {16384, 0}} {
		files, every := c.files, c.every
		root := b.TempDir()
		if err := fixtures.WriteTree(root, files, size, every, 1); err != nil {
			b.Fatal(err)
		}
		want := int(fixtures.TokenCount(size, every))
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("files=%d/tokens=%d/workers=%d", files, want, w), func(b *testing.B) {
				d, err := crawler.NewDir([]string{root}, crawler.DirConfig{Readers: w})
				if err != nil {
					b.Fatal(err)
				}
				p := New(Config{Workers: w})
				defer p.Close()
				b.SetBytes(size)
				b.ReportAllocs()
				cpu0 := cpuTime(b)
				defer func() {
					// CPU per op (user + system, every goroutine): unlike
					// ns/op, it hardly moves when other processes share the
					// machine.
					b.ReportMetric(float64(cpuTime(b)-cpu0)/1e6/float64(b.N), "cpu-ms/op")
				}()
				for b.Loop() {
					coll := report.NewCollector(report.CollectorOptions{})
					res, err := p.Scan(b.Context(), Source{Source: d}, coll)
					if err != nil {
						b.Fatal(err)
					}
					if res.Bytes != size || coll.Len() != want {
						b.Fatalf("scanned %d bytes, %d findings; want %d, %d", res.Bytes, coll.Len(), size, want)
					}
				}
			})
		}
	}
}
