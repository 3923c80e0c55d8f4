package gitscan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// maxLogSpill bounds the bytes an early git log may write to its file. A
// longer log is abandoned, and Provenance runs git log again, streamed.
const maxLogSpill = 256 << 20

// errSpillFull says the early log could not be kept whole: it outgrew
// maxLogSpill, or its file refused a write.
var errSpillFull = errors.New("early git log not kept whole")

// earlyLog is a git log started by StartProvenance: its output goes to an
// unlinked temporary file, read by Provenance once git has finished.
type earlyLog struct {
	done   chan struct{} // closed when git has exited and err is set
	err    error
	f      *os.File
	path   string // to remove on Close when the file could not be unlinked at once
	cancel context.CancelFunc
}

// StartProvenance starts the git log that Provenance reads, so that it
// runs beside the rest of the scan instead of after it: a caller calls it
// when the first blob matches (a repository without findings never pays
// for the log). The log's output is spilled to an unlinked temporary file
// in Config.TempDir (at most maxLogSpill bytes; past that Provenance runs
// git log again, streamed). It lives until ctx ends, Provenance has read
// it or Close. It does nothing without the git program, for an empty
// repository, or when already started. It is safe to call while Blobs runs,
// and from any goroutine.
func (r *Repo) StartProvenance(ctx context.Context) {
	if r.git == "" || r.empty {
		return
	}
	r.earlyMu.Lock()
	defer r.earlyMu.Unlock()
	if r.early != nil || r.closed {
		return
	}
	f, err := os.CreateTemp(r.cfg.TempDir, "sasquatch-provenance-*")
	if err != nil {
		r.log.Debug("provenance: no spill file; git log will run after the scan", "repo", r.cfg.Repo, "err", err)
		return
	}
	limit := int64(maxLogSpill)
	if r.spillLimit > 0 {
		limit = r.spillLimit
	}
	e := &earlyLog{done: make(chan struct{}), f: f}
	if os.Remove(f.Name()) != nil {
		e.path = f.Name() // a system that cannot unlink an open file
	}
	// The same bound as Provenance: the repository's deadline, or at least
	// provenanceGrace from now.
	lctx, cancel := context.WithDeadline(ctx, later(r.deadline, time.Now().Add(provenanceGrace)))
	e.cancel = cancel
	r.early = e
	go func() {
		defer close(e.done)
		e.err = r.spillLog(lctx, f, limit)
	}()
}

// spillLog runs logCommand with its output copied into f, at most limit
// bytes.
func (r *Repo) spillLog(ctx context.Context, f *os.File, limit int64) error {
	return r.runLog(ctx, func(out io.Reader) error {
		n, err := io.Copy(f, io.LimitReader(out, limit+1))
		switch {
		case err != nil:
			// The file refused it (a full disk): run again when needed.
			return fmt.Errorf("%w: %v", errSpillFull, err)
		case n > limit:
			return fmt.Errorf("%w: over %d bytes", errSpillFull, limit)
		}
		return nil
	})
}

// earlyLogOutput waits for the early log, if one was started, and hands
// over its output from the start, with the function that frees it. The
// reader is nil when there is none to read: none was started, or it was
// cut short (interrupted, too long), and err is nil then, so that git log
// runs again now. A git log that failed on its own (a corrupt repository)
// returns its error: running it again would fail alike. The early log is
// used once: a later call finds none.
func (r *Repo) earlyLogOutput(ctx context.Context) (io.Reader, func(), error) {
	r.earlyMu.Lock()
	e := r.early
	r.early = nil
	r.earlyMu.Unlock()
	if e == nil {
		return nil, nil, nil
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		e.release()
		return nil, nil, ctx.Err()
	}
	if e.err != nil {
		e.release()
		if errors.Is(e.err, errSpillFull) || errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded) {
			r.log.Debug("provenance: early git log unusable; running it again", "repo", r.cfg.Repo, "err", e.err)
			return nil, nil, nil
		}
		return nil, nil, e.err
	}
	if _, err := e.f.Seek(0, io.SeekStart); err != nil {
		e.release()
		return nil, nil, nil
	}
	return e.f, e.release, nil
}

// release stops the early log if it still runs and frees its file.
func (e *earlyLog) release() {
	e.cancel()
	<-e.done
	e.f.Close()
	if e.path != "" {
		os.Remove(e.path)
	}
}

// closeEarlyLogs stops and frees an early log nobody read, and lets no
// new one start.
func (r *Repo) closeEarlyLogs() {
	r.earlyMu.Lock()
	e := r.early
	r.early, r.closed = nil, true
	r.earlyMu.Unlock()
	if e != nil {
		e.release()
	}
}
