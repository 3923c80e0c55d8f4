package pipeline

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/report"
)

// maxProblems bounds Result.Problems: a hostile repository can fail in a
// million ways, and the summary needs only the first few.
const maxProblems = 20

// Result is what one scan (or, merged, a whole run) covered. It is a plain
// value; the zero value is an empty, complete result.
type Result struct {
	Blobs    int64 // files, blobs or messages scanned (a chunked file counts once)
	Bytes    int64 // bytes scanned, chunk overlaps counted once
	Rejected int64 // candidates rejected as placeholders or not Azure
	Repos    int64 // repositories scanned (history sources and GitHub jobs)
	Ignored  int64 // occurrences suppressed by Config.IgnoreMarker on their line

	// Skips counts what could not be scanned, by reason, each exactly once.
	Skips        map[crawler.SkipReason]int64
	SkippedBytes int64 // bytes not scanned, where known

	// Problems are clear, secret-free sentences for the summary (at most
	// maxProblems, then one line saying more were not shown).
	Problems []string
	// Incomplete is set when a source reported incomplete coverage that no
	// counted skip explains (gitscan's enumeration stopped, say).
	Incomplete bool
	// Interrupted is set when the context ended before the source did.
	Interrupted bool
	// Tips are the source's ref tips (a [crawler.Tipper]), set only when
	// the scan was complete: an incremental run from tips of a partial scan
	// would never look at what it missed.
	Tips map[string]string
}

// AddSkip counts n skips of reason, size bytes not scanned in all.
func (r *Result) AddSkip(reason crawler.SkipReason, n, size int64) {
	if r.Skips == nil {
		r.Skips = map[crawler.SkipReason]int64{}
	}
	r.Skips[reason] += n
	r.SkippedBytes += size
}

// AddDropped records what a findings store dropped past its cap on unique
// tokens ([report.Collector.Dropped]): n occurrences found and not kept.
// The run is then incomplete, and its tips are not for an incremental run
// (the next one must look at those tokens again).
func (r *Result) AddDropped(n, limit int) {
	r.AddSkip(crawler.SkipFindingsCap, 1, 0)
	r.AddProblem(fmt.Sprintf("%d occurrences of tokens past the cap of %d unique tokens were not kept", n, limit))
	r.Tips = nil
}

// AddProblem records a message for the summary. It is scrubbed of anything
// that looks like a secret and of control characters.
func (r *Result) AddProblem(msg string) {
	msg = report.SafeText(report.Scrub(msg))
	switch {
	case len(r.Problems) < maxProblems:
		r.Problems = append(r.Problems, msg)
	case len(r.Problems) == maxProblems:
		r.Problems = append(r.Problems, "... more problems not shown (run with --verbose)")
	}
}

// LostContent reports whether anything that should have been scanned was
// not: a skip that loses content, incomplete coverage, or an interruption.
func (r Result) LostContent() bool {
	if r.Incomplete || r.Interrupted {
		return true
	}
	for reason, n := range r.Skips {
		if n > 0 && reason.LosesContent() {
			return true
		}
	}
	return false
}

// SkipTotal returns the number of skips of every reason.
func (r Result) SkipTotal() int64 {
	var n int64
	for _, v := range r.Skips {
		n += v
	}
	return n
}

// SkipReasons returns the reasons counted, sorted.
func (r Result) SkipReasons() []crawler.SkipReason {
	return slices.Sorted(maps.Keys(r.Skips))
}

// Merge adds o's counts, skips and problems to r (a run's totals). Tips are
// per source and are not merged.
func (r *Result) Merge(o Result) {
	r.Blobs += o.Blobs
	r.Bytes += o.Bytes
	r.Rejected += o.Rejected
	r.Repos += o.Repos
	r.Ignored += o.Ignored
	for reason, n := range o.Skips {
		r.AddSkip(reason, n, 0)
	}
	r.SkippedBytes += o.SkippedBytes
	for _, p := range o.Problems {
		if len(r.Problems) > maxProblems {
			break
		}
		r.AddProblem(p)
	}
	r.Incomplete = r.Incomplete || o.Incomplete
	r.Interrupted = r.Interrupted || o.Interrupted
}
