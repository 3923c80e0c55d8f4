// Command gitbench times gitscan on one repository: Open, then every blob
// and message from Blobs through a scan callback that searches the SAS
// anchors with bytes.Index (the detector's no-hit cost is one pass), then
// Provenance for the blobs that hit. Used by scripts/bench-git.sh:
//
//	go run ./crawler/gitscan/internal/gitbench [-gogit] DIR
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/sasquatch-sec/sasquatch/crawler/gitscan"
)

var anchors = [][]byte{[]byte("sig="), []byte("sig%3D"), []byte(".core.windows.net"), []byte("SharedAccessSignature"), []byte("AccountKey=")}

func main() {
	gogit := flag.Bool("gogit", false, "force the go-git reader")
	prov := flag.Bool("provenance", true, "compute provenance for blobs with hits")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile")
	memprofile := flag.String("memprofile", "", "write an allocation profile after provenance")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: gitbench [-gogit] DIR")
		os.Exit(2)
	}
	ctx := context.Background()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	start := time.Now()
	r, err := gitscan.Open(ctx, flag.Arg(0), gitscan.Config{NoGitProgram: *gogit})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gitbench:", err)
		os.Exit(1)
	}
	defer r.Close()
	var hits []string
	var n, skips int
	for b, err := range r.Blobs(ctx) {
		if err != nil {
			skips++
			continue
		}
		n++
		hit := false
		for _, a := range anchors {
			if bytes.Contains(b.Data, a) {
				hit = true
			}
		}
		if hit && !b.Message {
			hits = append(hits, b.ID)
		}
		if b.Release != nil {
			b.Release()
		}
	}
	scanned := time.Since(start)
	origins := 0
	provStart := time.Now()
	if *prov && len(hits) > 0 {
		p, err := r.Provenance(ctx, hits)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gitbench: provenance:", err)
		}
		for _, o := range p {
			origins += len(o)
		}
	}
	provTime := time.Since(provStart)
	if *memprofile != "" {
		if f, err := os.Create(*memprofile); err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	cov := r.Stats()
	fmt.Printf("backend=%s items=%d blobs=%d bytes=%d commits=%d skips=%d complete=%v hits=%d origins=%d scan=%.2fs provenance=%.2fs total=%.2fs go_heap_sys=%dMiB self_peak_rss=%s\n",
		cov.Backend, n, cov.Blobs, cov.Bytes, cov.Commits, skips, cov.Complete, len(hits), origins,
		scanned.Seconds(), provTime.Seconds(), time.Since(start).Seconds(), ms.HeapSys>>20, peakRSS())
}

// peakRSS returns this process's peak resident set (VmHWM), without the
// git children, or "?" where /proc is unavailable.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.ReplaceAll(strings.TrimSpace(v), " ", "")
		}
	}
	return "?"
}
