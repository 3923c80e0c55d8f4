package report

import (
	"context"
	"fmt"
	"runtime"
	"sync"
)

// WriteAll writes fs to s in order, exactly as calling s.Write for each
// would, but does the per-finding work on up to workers goroutines (0:
// GOMAXPROCS): the remediation text of each finding (which every sink
// shows) and, for JSONL, the encoding of each record. A report is written
// after the scan, when nothing else runs, so a scan with thousands of
// findings would otherwise end on one core. For JSONL the remediation is
// made a batch at a time and dropped once encoded: a run with a hundred
// thousand findings never holds as many remediation texts (about 1.5 KB
// each).
// For the other formats WriteAll fills in the Remediation of the findings
// in fs first.
func WriteAll(ctx context.Context, s Sink, fs []Finding, workers int) error {
	workers = workersOr(workers)
	if j, ok := s.(*JSONL); ok {
		return j.writeAll(ctx, fs, workers)
	}
	forEachParallel(len(fs), workers, func(i int) {
		if fs[i].Remediation == "" {
			fs[i].Remediation = Remediation(fs[i])
		}
	})
	for _, f := range fs {
		if err := s.Write(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// workersOr returns n, or GOMAXPROCS when n is not positive.
func workersOr(n int) int {
	if n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// forEachParallel calls f(i) for every i in [0, n), on up to workers
// goroutines that each take a contiguous range, and returns when all are done.
func forEachParallel(n, workers int, f func(i int)) {
	workers = min(workers, n/64+1) // a few findings: not worth a goroutine
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				f(i)
			}
		})
	}
	wg.Wait()
}

// jsonlBatch is how many records writeAll encodes before writing them: it
// bounds the memory of the encoded text, whatever the number of findings.
// Small batches measured faster than large ones: the workers' buffers stay
// in memory already touched (a first touch costs a page fault).
const jsonlBatch = 128

// writeAll appends the records of fs in parallel, a batch at a time, each
// goroutine into its own buffer, and writes the buffers in order.
func (s *JSONL) writeAll(ctx context.Context, fs []Finding, workers int) error {
	if s.closed {
		return errClosed
	}
	bufs := make([][]byte, workers)
	scratch := make([][]byte, workers)
	for start := 0; start < len(fs); start += jsonlBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := fs[start:min(start+jsonlBatch, len(fs))]
		var wg sync.WaitGroup
		for w := range workers {
			lo, hi := len(batch)*w/workers, len(batch)*(w+1)/workers
			wg.Go(func() {
				b := bufs[w][:0]
				for _, f := range batch[lo:hi] {
					b = appendFindingRecord(b, &scratch[w], f)
				}
				bufs[w] = b
			})
		}
		wg.Wait()
		for w := range workers {
			if _, err := s.w.Write(bufs[w]); err != nil {
				return fmt.Errorf("write jsonl: %w", err)
			}
		}
	}
	return nil
}
