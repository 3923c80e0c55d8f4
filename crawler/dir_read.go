package crawler

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// minBuffer is the smallest pooled buffer.
const minBuffer = 4 << 10

// deadlinePast is a read deadline that has passed: set on a stream it makes
// a blocked Read return.
var deadlinePast = time.Unix(1, 0)

// bufPool hands out byte buffers in size classes (powers of two from
// minBuffer, and the chunk size last), so that a file gets a buffer of at
// most twice its size and buffers are reused across files. It keeps up to
// keepPerClass free buffers of each class for the life of the pool, not a
// sync.Pool's: a sync.Pool drops its buffers at every garbage collection,
// and the fresh memory that replaces them costs a page fault per 4 KiB.
// Buffers beyond that are left to the garbage collector. It is safe for
// concurrent use.
type bufPool struct {
	sizes    []int
	mu       sync.Mutex
	free     [][]*buffer // per class
	kept     int         // bytes in free
	maxBytes int         // bound on kept
}

// keepPerClass bounds the free buffers kept per size class: more than the
// readers and detectors hold at once in a scan. All classes together keep
// at most two chunks' worth of bytes.
const keepPerClass = 16

func newBufPool(chunk int) *bufPool {
	var sizes []int
	for s := minBuffer; s < chunk; s *= 2 {
		sizes = append(sizes, s)
	}
	sizes = append(sizes, chunk)
	return &bufPool{sizes: sizes, free: make([][]*buffer, len(sizes)), maxBytes: 2 * chunk}
}

// size returns the capacity of the buffer get(n) returns.
func (p *bufPool) size(n int) int {
	i, _ := slices.BinarySearch(p.sizes, n)
	return p.sizes[min(i, len(p.sizes)-1)]
}

// get returns a buffer of len(data) >= n (n at most the chunk size).
func (p *bufPool) get(n int) *buffer {
	i, _ := slices.BinarySearch(p.sizes, n)
	i = min(i, len(p.sizes)-1)
	p.mu.Lock()
	if k := len(p.free[i]); k > 0 {
		b := p.free[i][k-1]
		p.free[i][k-1] = nil
		p.free[i] = p.free[i][:k-1]
		p.kept -= len(b.data)
		p.mu.Unlock()
		return b
	}
	p.mu.Unlock()
	b := &buffer{data: make([]byte, p.sizes[i]), class: i, pool: p}
	b.release = b.releaseOnce // allocated once per buffer, not per blob
	return b
}

// put keeps b for reuse, unless its class or the pool already keeps enough.
func (p *bufPool) put(b *buffer) {
	p.mu.Lock()
	if len(p.free[b.class]) < keepPerClass && p.kept+len(b.data) <= p.maxBytes {
		p.free[b.class] = append(p.free[b.class], b)
		p.kept += len(b.data)
	}
	p.mu.Unlock()
}

// buffer is a pooled byte slice. While it is out (handed to the consumer as
// Blob.Data), its release func is the Blob's Release.
type buffer struct {
	data    []byte
	class   int
	pool    *bufPool
	out     atomic.Bool
	release func()
}

// put returns b to its pool.
func (b *buffer) put() { b.pool.put(b) }

// handOut marks b as held by the consumer and returns its Release func.
func (b *buffer) handOut() func() {
	b.out.Store(true)
	return b.release
}

// releaseOnce is Blob.Release: a second call before the buffer is handed out
// again does nothing.
func (b *buffer) releaseOnce() {
	if b.out.CompareAndSwap(true, false) {
		b.put()
	}
}

// budget bounds the bytes that readers hold and the consumer has not yet
// received. The reader of the head job (the one the consumer waits for) is
// never kept waiting, so the ordered pipeline cannot deadlock.
type budget struct {
	mu      sync.Mutex
	cond    sync.Cond
	used    int64
	max     int64
	head    uint64
	stopped bool
}

func (b *budget) init(max int64) {
	b.max = max
	b.cond.L = &b.mu
}

// acquire takes n bytes for job seq, waiting while the budget is spent;
// false when the iteration stopped.
func (b *budget) acquire(n int64, seq uint64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.used+n > b.max && seq != b.head && !b.stopped {
		b.cond.Wait()
	}
	b.used += n
	return !b.stopped
}

// release gives back the bytes of buf.
func (b *budget) release(buf *buffer) {
	b.mu.Lock()
	b.used -= int64(len(buf.data))
	b.mu.Unlock()
	b.cond.Broadcast()
}

// setHead records that the consumer waits for job seq.
func (b *budget) setHead(seq uint64) {
	b.mu.Lock()
	b.head = seq
	b.mu.Unlock()
	b.cond.Broadcast()
}

func (b *budget) stop() {
	b.mu.Lock()
	b.stopped = true
	b.mu.Unlock()
	b.cond.Broadcast()
}

// chunker reads one file or stream into overlapping chunks.
type chunker struct {
	cfg *DirConfig
	// get returns a buffer of at least n bytes, or nil when the iteration
	// stopped; put takes back one that was not emitted.
	get func(n int) *buffer
	put func(*buffer)
	// emit passes on a chunk (b and buf) or a skip (err); final says that
	// nothing follows for this input. It returns false to stop.
	emit func(b Blob, buf *buffer, err error, final bool) bool
}

// run reads r in chunks. size is the number of bytes to read, or -1 when it
// is unknown: then r is read to its end or MaxFileSize, and a too-large skip
// reports that more was left. It returns false when emit or get did.
//
// The last chunk has Tail 0, so that KeepMatch keeps the matches in its
// last bytes. When the size is unknown, a full chunk is therefore emitted
// only once the next read has said whether anything follows it. When it is
// known, a chunk is emitted at once, and a file that shrinks to the exact
// end of a chunk while it is read ends with a chunk holding only the
// repeated tail (Overlap == len(Data)), so that no match is lost.
//
// While a known-size chunk waits to be taken, run holds it and the tail for
// the next one in a small buffer, not a second chunk.
func (c *chunker) run(r io.Reader, o Origin, size int64) bool {
	cs, ov := c.cfg.ChunkSize, c.cfg.ChunkOverlap
	known := size >= 0
	var lr *io.LimitedReader
	if !known {
		lr = &io.LimitedReader{R: r, N: c.cfg.MaxFileSize}
		r = lr
	}
	var (
		consumed int64 // bytes read from r
		offset   int64 // of the chunk being filled
		line     = 1
		col      = 1
		overlap  int // leading bytes of cur repeated from the previous chunk
		pending  Blob
		pendBuf  *buffer // unknown size: a full chunk not yet emitted
	)
	// want returns how many bytes the chunk being filled should hold.
	want := func() int {
		if known {
			return int(min(int64(cs), int64(overlap)+size-consumed))
		}
		return cs
	}
	first := minBuffer
	if known {
		first = want()
	}
	cur := c.get(first)
	if cur == nil {
		return false
	}
	for {
		n, err := c.fill(r, &cur, overlap, want())
		if cur == nil {
			c.drop(pendBuf)
			return false
		}
		fresh := n - overlap
		consumed += int64(fresh)
		if err == nil && known && consumed >= size {
			err = io.EOF
		}
		if pendBuf != nil {
			if fresh == 0 {
				pending.Tail = 0 // nothing follows: it is the last chunk
			}
			b := pendBuf
			pendBuf = nil
			if !c.emit(pending, b, nil, false) {
				c.put(cur)
				return false
			}
		}
		data := cur.data[:n]
		chunk := Blob{Data: data, Origin: o, Offset: offset, Line: line, Column: col, Overlap: overlap}
		if err != nil && err != io.EOF {
			if fresh > 0 || known && offset > 0 {
				if !c.emit(chunk, cur, nil, false) {
					return false
				}
			} else {
				c.put(cur)
			}
			var lost int64
			if known {
				lost = max(size-consumed, 0)
			}
			return c.emit(Blob{}, nil, &Skip{Origin: o, Reason: SkipUnreadable, Size: lost, Err: err}, true)
		}
		if err == io.EOF {
			if fresh == 0 && offset > 0 && !known {
				c.put(cur) // the pending chunk was the last
				break
			}
			// A known-size file that shrank to the end of the previous
			// chunk gets here with fresh == 0: its tail is scanned here.
			if !c.emit(chunk, cur, nil, known || lr.N > 0) {
				return false
			}
			break
		}
		// cur is full and more may follow. The next chunk repeats at least
		// ov bytes and at most cs/2, and starts at the latest line start in
		// that range, if any.
		adv := len(data) - ov
		lo := len(data) - cs/2
		if i := bytes.LastIndexByte(data[lo-1:adv], '\n'); i >= 0 {
			adv = lo + i
		}
		tail := len(data) - adv
		chunk.Tail = tail
		line += bytes.Count(data[:adv], []byte{'\n'})
		if i := bytes.LastIndexByte(data[:adv], '\n'); i >= 0 {
			col = adv - i
		} else {
			col += adv
		}
		offset += int64(adv)
		overlap = tail
		if !known {
			next := c.get(cs)
			if next == nil {
				c.put(cur)
				return false
			}
			copy(next.data, data[adv:])
			pending, pendBuf, cur = chunk, cur, next
			continue
		}
		keep := c.get(tail)
		if keep == nil {
			c.put(cur)
			return false
		}
		copy(keep.data, data[adv:])
		if !c.emit(chunk, cur, nil, false) {
			c.put(keep)
			return false
		}
		if cur = c.get(want()); cur == nil {
			c.put(keep)
			return false
		}
		copy(cur.data, keep.data[:tail])
		c.put(keep)
	}
	if lr != nil && lr.N == 0 {
		// The limit was reached: is there more?
		var one [1]byte
		if n, _ := io.ReadFull(lr.R, one[:]); n > 0 {
			return c.emit(Blob{}, nil, &Skip{Origin: o, Reason: SkipTooLarge,
				Err: fmt.Errorf("input exceeds the limit of %d bytes; the rest was not scanned", c.cfg.MaxFileSize)}, true)
		}
	}
	return true
}

func (c *chunker) drop(b *buffer) {
	if b != nil {
		c.put(b)
	}
}

// fill reads from r into (*buf).data[n:] until it holds want bytes,
// replacing *buf with a larger buffer when it is full before that. It
// returns the number of bytes held and nil (want reached), io.EOF, or the
// read error; io.ErrNoProgress after 100 empty reads in a row, as bufio
// does. *buf is nil when get did not give a larger buffer.
func (c *chunker) fill(r io.Reader, buf **buffer, n, want int) (int, error) {
	empty := 0
	for n < want {
		b := *buf
		if n == len(b.data) {
			nb := c.get(min(want, 2*len(b.data)))
			if nb == nil {
				c.put(b)
				*buf = nil
				return n, nil
			}
			copy(nb.data, b.data[:n])
			c.put(b)
			*buf, b = nb, nb
		}
		m, err := r.Read(b.data[n:min(want, len(b.data))])
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			if empty++; empty >= 100 {
				return n, io.ErrNoProgress
			}
		} else {
			empty = 0
		}
	}
	return n, nil
}
