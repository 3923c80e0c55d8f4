package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/sasquatch-sec/sasquatch/crawler"
)

// progressOn reports whether a progress line is drawn on standard error:
// with --progress auto (the default) only when it is a terminal and the run
// is not --quiet; always and never force it.
func (c *common) progressOn() bool {
	switch c.progress {
	case "always":
		return true
	case "never":
		return false
	}
	if c.quiet {
		return false
	}
	f, ok := c.stderr.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// lockedWriter serializes writes: the progress line (drawn from the
// pipeline's feeding goroutine) and log lines (from detector goroutines)
// share standard error.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// blobProgress is the progress line of scan and git: files or blobs, bytes,
// rate and elapsed time. Its add method is called for each blob by a tap,
// from the one goroutine that ranges the source; it draws at most ten
// times a second and starts no goroutine.
type blobProgress struct {
	unit  string
	bar   *progressbar.ProgressBar
	blobs int64
	last  time.Time
}

// newBlobProgress returns nil when no progress line is to be drawn.
func newBlobProgress(c *common, unit string) *blobProgress {
	if !c.progressOn() {
		return nil
	}
	p := &blobProgress{unit: unit}
	p.bar = progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(c.errw),
		progressbar.OptionSetDescription(unit+" 0"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		// No ticker goroutine: the line is redrawn when blobs arrive.
		progressbar.OptionSetSpinnerChangeInterval(0),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionEnableColorCodes(false),
	)
	return p
}

func (p *blobProgress) add(b crawler.Blob) {
	if b.Overlap == 0 {
		p.blobs++
	}
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.bar.Describe(fmt.Sprintf("%s %d", p.unit, p.blobs))
	}
	_ = p.bar.Add64(int64(len(b.Data) - b.Overlap))
}

// finish clears the line before the summary is printed.
func (p *blobProgress) finish() {
	if p == nil {
		return
	}
	p.bar.Describe(fmt.Sprintf("%s %d", p.unit, p.blobs))
	_ = p.bar.Finish()
}
