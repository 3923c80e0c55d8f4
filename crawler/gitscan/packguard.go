package gitscan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// ErrObjectTooLarge is returned (wrapped) by [Open] when a clone or fetch
// without the git program receives an object bigger than go-git can index
// within the memory bound: go-git inflates every object of a pack in
// memory while indexing it. The git program has no such limit (its clone
// leaves big blobs on the server).
var ErrObjectTooLarge = errors.New("object too large to index in memory")

// goGitObjectCap is the least in-memory object size the go-git clone
// accepts (the cap is the larger of it and MaxBlobSize).
const goGitObjectCap = 64 << 20

// packGuard sits in front of go-git's pack writer and reads the pack as it
// streams past, in constant memory: before go-git indexes it, the pack is
// refused when one object would inflate beyond objCap or all of them beyond
// totalCap (the repository byte budget, counted on inflated bytes).
type packGuard struct {
	w      io.WriteCloser // go-git's pack writer
	pw     *io.PipeWriter // to the checking goroutine
	done   chan error
	failed error
}

func newPackGuard(w io.WriteCloser, objCap, totalCap int64) *packGuard {
	pr, pw := io.Pipe()
	g := &packGuard{w: w, pw: pw, done: make(chan error, 1)}
	go func() {
		err := checkPack(pr, objCap, totalCap)
		if err != nil {
			pr.CloseWithError(err)
		} else {
			io.Copy(io.Discard, pr) // the trailing checksum, and anything after
		}
		g.done <- err
	}()
	return g
}

func (g *packGuard) Write(p []byte) (int, error) {
	if g.failed != nil {
		return 0, g.failed
	}
	if _, err := g.pw.Write(p); err != nil {
		g.failed = <-g.done
		if g.failed == nil {
			g.failed = err
		}
		return 0, g.failed
	}
	return g.w.Write(p)
}

// Close ends the check and closes go-git's writer (which then indexes the
// pack, or removes it when the pack was cut short by a refusal).
func (g *packGuard) Close() error {
	if g.failed == nil {
		g.pw.Close()
		g.failed = <-g.done
		if g.failed == nil {
			return g.w.Close()
		}
	}
	g.w.Close() // a truncated pack: go-git fails and removes its files
	return g.failed
}

// checkPack reads a pack stream entry by entry, inflating each one into a
// small window only, and checks the declared sizes: an entry's size, or a
// delta's target size, above objCap, or their sum above totalCap, is an
// error.
func checkPack(r io.Reader, objCap, totalCap int64) error {
	sc := packfile.NewScanner(r)
	_, count, err := sc.Header()
	if err != nil {
		return nil // not a pack go-git could index either; let go-git report it
	}
	var total int64
	head := &headWriter{}
	for range count {
		oh, err := sc.NextObjectHeader()
		if err != nil {
			return nil
		}
		size := oh.Length
		if size > objCap {
			return fmt.Errorf("%w: a %s of %d bytes (in-memory limit %d without the git program)", ErrObjectTooLarge, oh.Type, size, objCap)
		}
		head.n = 0
		if _, _, err := sc.NextObject(head); err != nil {
			return nil
		}
		if oh.Type == plumbing.OFSDeltaObject || oh.Type == plumbing.REFDeltaObject {
			size = head.deltaTarget()
			if size > objCap {
				return fmt.Errorf("%w: an object of %d bytes (in-memory limit %d without the git program)", ErrObjectTooLarge, size, objCap)
			}
		}
		total += size
		if total > totalCap {
			return fmt.Errorf("%w: more than %d inflated bytes", ErrFetchLimit, totalCap)
		}
	}
	return nil
}

// headWriter keeps the first bytes written to it and discards the rest.
type headWriter struct {
	b [32]byte
	n int
}

func (h *headWriter) Write(p []byte) (int, error) {
	h.n += copy(h.b[h.n:], p)
	return len(p), nil
}

// deltaTarget returns the target size a delta declares after its source
// size (two varints), or 0 when the header is malformed.
func (h *headWriter) deltaTarget() int64 {
	b := h.b[:h.n]
	_, n := binary.Uvarint(b)
	if n <= 0 {
		return 0
	}
	t, m := binary.Uvarint(b[n:])
	if m <= 0 || t > 1<<62 {
		return 0
	}
	return int64(t)
}
