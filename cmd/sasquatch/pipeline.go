package main

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/report"
)

// stats counts what a run read, found and could not read. Safe for concurrent use.
type stats struct {
	blobs    atomic.Int64 // files, blobs or messages scanned (a chunked file counts once)
	bytes    atomic.Int64 // bytes scanned, overlaps not counted twice
	rejected atomic.Int64 // candidates rejected as placeholders or not Azure
	repos    atomic.Int64 // repositories scanned (git, github)

	mu       sync.Mutex
	skips    map[string]int64 // by reason
	skipped  int64            // bytes not scanned, when known
	problems []string         // clear, secret-free messages shown in the summary
}

func (s *stats) skip(reason string, size int64) { s.skipN(reason, 1, size) }

// skipN records n skips for reason, size bytes not scanned in all.
func (s *stats) skipN(reason string, n, size int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.skips == nil {
		s.skips = map[string]int64{}
	}
	s.skips[reason] += n
	s.skipped += size
}

func (s *stats) addSkippedBytes(n int64) {
	s.mu.Lock()
	s.skipped += n
	s.mu.Unlock()
}

func (s *stats) problem(msg string) {
	msg = report.SafeText(report.Scrub(msg))
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.problems) < 20 {
		s.problems = append(s.problems, msg)
	} else if len(s.problems) == 20 {
		s.problems = append(s.problems, "... more problems not shown (run with --verbose)")
	}
}

// incomplete reports whether anything could not be scanned.
func (s *stats) incomplete() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for reason, n := range s.skips {
		if n > 0 && !benignSkip[reason] {
			return true
		}
	}
	return false
}

// benignSkip lists skip reasons that lose no content: a symbolic link is a
// path to something else, which is scanned where it lives (or is outside
// what the user asked for).
var benignSkip = map[string]bool{"symlink": true}

// hit is one match together with the blob it came from (without its bytes).
type hit struct {
	blob  crawler.Blob
	match detect.Match
}

// engine runs the detector over a stream of blobs on a pool of goroutines.
type engine struct {
	det     *detect.Detector
	workers int
	st      *stats
	log     *slog.Logger
}

func newEngine(c *common, st *stats) *engine {
	n := c.workers
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return &engine{det: detect.New(detect.Config{Now: c.clock}), workers: n, st: st, log: c.logger}
}

// scan ranges blobs (the only consumer of the iterator), fans them out to the
// detector pool and calls onHit for every match from this goroutine only, so
// onHit needs no locking. Per-item errors are counted and logged; scan
// returns only ctx.Err() or an error from onHit.
func (e *engine) scan(ctx context.Context, blobs iter.Seq2[crawler.Blob, error], onHit func(hit) error) error {
	g, ctx := errgroup.WithContext(ctx)
	in := make(chan crawler.Blob, e.workers)
	out := make(chan hit, 64)

	g.Go(func() error {
		defer close(in)
		for b, err := range blobs {
			if err != nil {
				if cerr := ctx.Err(); cerr != nil {
					return cerr
				}
				e.itemError(err)
				continue
			}
			select {
			case in <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return ctx.Err()
	})

	var workers errgroup.Group
	for range e.workers {
		workers.Go(func() error {
			for b := range in {
				if b.Overlap == 0 {
					e.st.blobs.Add(1)
				}
				e.st.bytes.Add(int64(len(b.Data) - b.Overlap))
				res := e.det.Detect(b.Data)
				e.st.rejected.Add(int64(res.Rejected))
				if res.Truncated {
					// A detector bound was hit: the rest of this blob was not examined.
					e.st.skip("detector-limit", 0)
					e.st.problem("detector limit reached in " + b.Origin.Path + ": the rest of it was not examined")
				}
				keep := b
				// The hit keeps provenance, not content; chunk bookkeeping
				// is applied here, once, while Data is at hand.
				b.Data, b.Overlap, b.Tail = nil, 0, 0
				for _, m := range res.Matches {
					if !crawler.KeepMatch(keep, m.Start, m.End) {
						continue // another chunk of the same file reports it
					}
					// No select on ctx: the consumer drains out until it is
					// closed, and a hit from a blob already read must not be
					// dropped because the run is being interrupted.
					out <- hit{blob: b, match: m}
				}
			}
			return nil
		})
	}
	g.Go(func() error { defer close(out); return workers.Wait() })
	g.Go(func() error {
		var first error
		for h := range out {
			if first == nil {
				first = onHit(h)
			}
		}
		return first
	})
	return g.Wait()
}

// itemError counts and logs a per-item error from a source.
func (e *engine) itemError(err error) {
	var sk *crawler.Skip
	if errors.As(err, &sk) {
		e.st.skip(string(sk.Reason), sk.Size)
		if !benignSkip[string(sk.Reason)] {
			e.log.Info("skipped", "path", sk.Origin.Path, "repo", sk.Origin.Repo, "reason", sk.Reason, "err", sk.Err)
		}
		if sk.Reason == "not-found" || sk.Reason == "unreadable" {
			e.st.problem(sk.Error())
		}
		return
	}
	e.st.skip("error", 0)
	e.st.problem(err.Error())
	e.log.Warn("scan error", "err", err)
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
