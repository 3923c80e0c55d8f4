package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// Defaults for the zero fields of [DirConfig].
const (
	// DefaultMaxFileSize is the largest file [Dir] reads; bigger files are
	// skipped with Reason [SkipTooLarge].
	DefaultMaxFileSize int64 = 256 << 20
	// DefaultChunkSize is the largest len(Blob.Data) [Dir] yields.
	DefaultChunkSize = 8 << 20
	// DefaultChunkOverlap is how many bytes consecutive chunks of one file
	// share. It must exceed the longest match the detector can report: a SAS
	// URL with every parameter, percent-encoded up to three times or split
	// into string literals, stays well under 8 KiB, so 64 KiB is safe.
	DefaultChunkOverlap = 64 << 10
	// MaxReaders bounds [DirConfig.Readers].
	MaxReaders = 64
)

// DefaultReaders returns the number of reader goroutines a [Dir] uses when
// [DirConfig.Readers] is zero: GOMAXPROCS, at least 2 and at most 4. Reading
// from the page cache costs a few times less than detection, so a few
// readers keep any number of detector goroutines fed; more would only hold
// more memory.
func DefaultReaders() int { return min(max(runtime.GOMAXPROCS(0), 2), 4) }

// StdinPath is the Origin.Path of blobs read from standard input (the path
// argument "-").
const StdinPath = "<stdin>"

// DirConfig configures a [Dir]. The zero value is ready to use: every zero
// field takes its default.
type DirConfig struct {
	// MaxFileSize is the largest file read, in bytes (default
	// [DefaultMaxFileSize]). A bigger file is not read at all and is
	// reported as a *Skip with Reason [SkipTooLarge] and Size set. For a
	// stream (standard input, a pipe or character device given as a path),
	// whose size is unknown, the first MaxFileSize bytes are scanned and a
	// too-large skip reports the rest.
	MaxFileSize int64
	// ChunkSize is the largest len(Blob.Data), in bytes (default
	// [DefaultChunkSize]). A file up to ChunkSize bytes is one Blob; a larger
	// one is yielded as overlapping chunks. It bounds the memory the source
	// holds per file, whatever the file's size.
	ChunkSize int
	// ChunkOverlap is the least number of bytes each chunk after the first
	// repeats from the end of the previous one (default
	// [DefaultChunkOverlap]). It must be longer than any match the detector
	// can report, and at most ChunkSize/2.
	ChunkOverlap int
	// Readers is the number of goroutines that open and read files ahead of
	// the consumer, in parallel (default [DefaultReaders], at most
	// [MaxReaders]). Blobs are yielded in walk order whatever it is. The
	// bytes read ahead and not yet yielded stay under (Readers+1) ×
	// ChunkSize, plus at most two chunks of the file the consumer waits for
	// (which is never kept waiting for memory).
	Readers int
	// Gate, when set, is held by a reader while it reads a regular file
	// (each read call, never while it waits for memory or the consumer),
	// so that the readers and whatever else enters the same gate (the
	// pipeline's detectors) never run more at once than it allows. Streams
	// are read without it: their reads wait on another process.
	Gate *Gate
	// Exclude lists patterns of files and directories not to scan. An
	// excluded directory is not descended. Exclusion is the user's choice,
	// not lost coverage: no *Skip is yielded, but [Dir.Excluded] counts it.
	// Path arguments themselves are never excluded.
	//
	// Pattern syntax: a pattern is matched against the slash-separated path
	// of an entry relative to the path argument it was found under
	// (whatever [DirConfig.PrefixRoot] says). It is a list of segments
	// separated by '/', each one a [path.Match] pattern for one path
	// element ('*', '?', '[a-z]', '\\' escapes), except "**", which matches
	// any number of elements, none included. A pattern with no '/' matches
	// an entry's name at any depth ("*.min.js", "node_modules", as if it
	// were "**/node_modules"); a pattern with a '/' matches from the path
	// argument down ("vendor/*", "docs/**/*.md"), and a leading '/' only
	// anchors ("/build" is "build" at the top only). A trailing '/' makes a
	// pattern match directories only ("testdata/").
	Exclude []string
	// Include, when not empty, limits the scan to files that match one of
	// these patterns (the syntax of Exclude) or lie under a directory that
	// matches one. Directories that cannot hold a match are not descended.
	// What Include leaves out is counted by [Dir.Excluded], as Exclude's is;
	// Exclude wins over Include. Path arguments are always scanned.
	Include []string
	// PrefixRoot makes Origin.Path of the files found in a directory argument
	// start with that argument (cleaned, slash-separated), as grep prints
	// them. By default the path is relative to the directory argument, which
	// is ambiguous when several directories are scanned at once.
	PrefixRoot bool
	// Stdin is read for the path argument "-" (default os.Stdin).
	Stdin io.Reader
}

// Dir is a [Source] over files and directory trees given as paths, and
// standard input given as "-".
//
// The walk, in argument order and then in lexical order of names within each
// directory (so output is deterministic):
//   - includes dotfiles and other version-control directories, but skips
//     directories named ".git" silently: their objects are compressed and are
//     scanned, with provenance, by `sasquatch git`. A path argument is
//     always scanned, even one named .git.
//   - never follows a symbolic link found in a directory, to a file or a
//     directory: each one is a *Skip with Reason [SkipSymlink]. A loop
//     through symbolic links therefore cannot loop. Loops through bind
//     mounts are caught by remembering the (device, inode) of the
//     directories on the current path ([SkipLoop]).
//   - follows a symbolic link given as a path argument once, as grep -r and
//     find -H do (/dev/stdin, a Kubernetes secret mount, a link to a
//     checkout). (As everywhere in Unix, an argument with a trailing slash,
//     "link/", names the directory the link points to.)
//   - reads regular files only, binary ones included. Devices, named pipes
//     and sockets found in a directory are skipped ([SkipSpecial]) and never
//     opened; files are opened with O_NOFOLLOW|O_NONBLOCK and checked with
//     fstat, so an entry replaced by a link or a pipe after listing is
//     skipped, not followed or waited on. A regular file is read up to the
//     size fstat reported when it was opened (bytes appended while it is
//     read are not); one that reports size 0 (as /proc files do) is read to
//     its end, up to MaxFileSize.
//   - reads a named pipe or a character device given as a path argument
//     (/dev/stdin, /dev/fd/0, /proc/self/fd/N, a FIFO) like "-": streamed
//     to its end, up to MaxFileSize, then a [SkipTooLarge] for the rest. A
//     FIFO that no writer has open reads as empty.
//   - reports what it cannot read as a *Skip ([SkipUnreadable],
//     [SkipNotFound], [SkipTooLarge]) and goes on. A missing path
//     argument is a *Skip with Reason [SkipNotFound] whose Err is an
//     *fs.PathError ("open missing.txt: no such file or directory"), so
//     errors.Is(err, fs.ErrNotExist) holds.
//   - leaves out what [DirConfig.Exclude] and [DirConfig.Include] say,
//     counted by [Dir.Excluded].
//   - checks ctx before every file and every chunk it yields; on
//     cancellation it yields ctx.Err() once and stops.
//
// Origin.Path is slash-separated: for a file argument, the argument cleaned;
// for a file found in a directory argument, its path relative to that
// directory (see [DirConfig.PrefixRoot]); [StdinPath] for "-".
//
// Chunks: a file larger than ChunkSize is yielded as several Blobs of at most
// ChunkSize bytes. Each chunk after the first repeats the end of the previous
// one: Overlap bytes, at least ChunkOverlap and at most ChunkSize/2, chosen
// so that the chunk starts at the beginning of a line whenever a line starts
// in that range. Offset is the byte offset of Data[0] in the file, Line the
// 1-based line number of Data[0] (counted from '\n' bytes) and Overlap the
// number of leading bytes the previous chunk also held (0 for the first
// chunk); Tail is the number of trailing bytes the next chunk repeats (0 for
// the last chunk). A token no longer than ChunkOverlap that crosses a chunk
// boundary is whole in the next chunk. Use [KeepMatch] to report each match
// once. A match's line is Line plus the '\n' bytes in Data before it; its
// column (counted from the last '\n' before it in Data) is exact unless its
// line began before Data[0], which needs a line longer than about
// ChunkSize/2. Every file yields at least one Blob (an empty file yields an
// empty Data), so the number of files scanned is the number of Blobs with
// Offset == 0, and the number of bytes scanned is the sum of
// len(Data)-Overlap. Skips are yielded as errors; Dir counts only
// exclusions ([Dir.Excluded]).
//
// Concurrency and memory: [DirConfig.Readers] goroutines open and read
// files ahead of the consumer while the walk lists directories in another;
// the iterator yields in walk order, in the consumer's goroutine, and stops
// and waits for all of them before it returns (on break too). Data comes
// from a pool of buffers: a yielded Blob's Release hands Data back for
// reuse. The consumer calls Release once after its last use of Data (Data
// must not be used after); a consumer that never calls it keeps Data, and
// the pool allocates anew. Dir never touches Data between the yield and
// Release.
//
// A Dir is immutable after [NewDir] (but for its [Dir.Excluded] counter) and
// safe for concurrent use; each iterator returned by [Dir.Blobs] has one
// consumer.
type Dir struct {
	paths   []string
	cfg     DirConfig
	exclude []pattern
	include []pattern
	pool    *bufPool

	excluded atomic.Int64

	// Hooks, replaced by tests. They are called from several goroutines.
	openFile func(name string, follow bool) (rfile, error)
	openDir  func(name string) (*os.File, error)
	dirID    func(f *os.File) (fileID, bool)
}

// fileID identifies a directory for loop detection.
type fileID struct{ dev, ino uint64 }

var _ Source = (*Dir)(nil)

// NewDir returns a [Dir] over paths (files, directories, or "-" for
// standard input) with cfg's zero fields set to their defaults. It returns an
// error, and no Dir, when paths is empty or cfg is invalid (negative sizes,
// an overlap above half the chunk size, a malformed Exclude or Include
// pattern). Paths are not checked here: a missing one is reported by the
// iterator.
func NewDir(paths []string, cfg DirConfig) (*Dir, error) {
	if len(paths) == 0 {
		return nil, errors.New("directory source: no paths to scan")
	}
	if cfg.MaxFileSize < 0 || cfg.ChunkSize < 0 || cfg.ChunkOverlap < 0 {
		return nil, fmt.Errorf("directory source: negative size in config (max file %d, chunk %d, overlap %d)",
			cfg.MaxFileSize, cfg.ChunkSize, cfg.ChunkOverlap)
	}
	if cfg.Readers < 0 || cfg.Readers > MaxReaders {
		return nil, fmt.Errorf("directory source: %d readers, want 0 (the default) to %d", cfg.Readers, MaxReaders)
	}
	if cfg.MaxFileSize == 0 {
		cfg.MaxFileSize = DefaultMaxFileSize
	}
	if cfg.ChunkSize == 0 {
		cfg.ChunkSize = DefaultChunkSize
	}
	if cfg.ChunkOverlap == 0 {
		cfg.ChunkOverlap = min(DefaultChunkOverlap, cfg.ChunkSize/2)
	}
	if cfg.ChunkOverlap < 1 {
		return nil, fmt.Errorf("directory source: chunk size %d is too small", cfg.ChunkSize)
	}
	if cfg.ChunkOverlap > cfg.ChunkSize/2 {
		return nil, fmt.Errorf("directory source: chunk overlap %d is more than half the chunk size %d",
			cfg.ChunkOverlap, cfg.ChunkSize)
	}
	if cfg.Readers == 0 {
		cfg.Readers = DefaultReaders()
	}
	exclude, err := compilePatterns(cfg.Exclude)
	if err != nil {
		return nil, fmt.Errorf("directory source: exclude %w", err)
	}
	include, err := compilePatterns(cfg.Include)
	if err != nil {
		return nil, fmt.Errorf("directory source: include %w", err)
	}
	cfg.Exclude = slices.Clone(cfg.Exclude)
	cfg.Include = slices.Clone(cfg.Include)
	if cfg.Stdin == nil {
		cfg.Stdin = os.Stdin
	}
	return &Dir{
		paths:    slices.Clone(paths),
		cfg:      cfg,
		exclude:  exclude,
		include:  include,
		pool:     newBufPool(cfg.ChunkSize),
		openFile: openRegular,
		openDir:  openDirectory,
		dirID:    dirID,
	}, nil
}

// Config returns the configuration in use, defaults filled in. It is safe for
// concurrent use.
func (d *Dir) Config() DirConfig {
	c := d.cfg
	c.Exclude = slices.Clone(c.Exclude)
	c.Include = slices.Clone(c.Include)
	return c
}

// Excluded returns the number of entries (files, links, special files and
// directories, a directory counting once for all it holds) that
// [DirConfig.Exclude] or [DirConfig.Include] left out, summed over every
// iteration of [Dir.Blobs] so far; read it after ranging. Directories named
// .git are skipped by design and not counted. It is safe for concurrent
// use.
func (d *Dir) Excluded() int64 { return d.excluded.Load() }

// Blobs walks the paths and yields their contents as described on [Dir].
// Per-item errors are *Skip values; the only other error is ctx.Err(), after
// which the iterator returns. The iterator can be ranged more than once: it
// walks again (standard input then yields what is left of it). A repeated
// "-" argument is ignored.
func (d *Dir) Blobs(ctx context.Context) iter.Seq2[Blob, error] {
	return func(yield func(Blob, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(Blob{}, err)
			return
		}
		it := d.start(ctx)
		defer it.stop()
		it.consume(ctx, yield)
	}
}

// KeepMatch reports whether a match at Data[start:end] of chunk b should be
// reported, so that a file read in overlapping chunks reports each match
// exactly once. Each chunk owns the matches that start before its last
// b.Tail bytes; those bytes are repeated at the start of the next chunk,
// which owns matches starting there. Because Tail is at least
// [DirConfig.ChunkOverlap], longer than any token, a match a chunk owns lies
// whole inside it, and a token cut by the chunk's end starts in the tail and
// is reported only by the next chunk, whole (never as a truncated prefix).
// For a Blob that is not a chunk (Tail 0) it always returns true. It is safe
// for concurrent use.
func KeepMatch(b Blob, start, end int) bool {
	return b.Tail == 0 || start < len(b.Data)-b.Tail
}

// The pipeline of one iteration:
//
//	walker goroutine ── jobs in walk order ──> order ──> consumer (yields)
//	                 └─ file jobs ──> work ──> readers ──> job.out ──┘
//
// A job is a skip found by the walk, a file for the readers, or a stream
// the consumer reads itself (so that a blocking read of standard input never
// outlives the iterator). At most window jobs exist (the free list), so the
// walk runs at most that far ahead. Readers take file jobs in walk order,
// so the job the consumer waits for (the head) has a reader, and the memory
// budget never makes that reader wait: the pipeline cannot deadlock.

type jobKind uint8

const (
	jobSkip   jobKind = iota // skip holds the Skip
	jobFile                  // read by a reader into out
	jobStream                // read by the consumer: r, or the path opened as a stream
)

type job struct {
	seq    uint64
	kind   jobKind
	skip   *Skip
	fsPath string
	origin Origin
	follow bool      // open following a final symbolic link (a path argument)
	r      io.Reader // jobStream: the reader ("-"), or nil to open fsPath
	out    chan result
}

// result is one item a reader produced for a job: a chunk (blob and buf) or
// a skip (err). The last one has done set.
type result struct {
	blob Blob
	buf  *buffer
	err  error
	done bool
}

type iteration struct {
	d      *Dir
	ctx    context.Context // cancelled when the iterator returns
	cancel context.CancelFunc
	wg     sync.WaitGroup

	free  chan *job
	order chan *job
	work  chan *job

	budget budget

	// Set by the walker before it closes order: the walk reached its end
	// (it was not stopped by cancellation).
	complete bool
}

func (d *Dir) start(parent context.Context) *iteration {
	window := max(16, 8*d.cfg.Readers)
	ctx, cancel := context.WithCancel(parent)
	it := &iteration{
		d:      d,
		ctx:    ctx,
		cancel: cancel,
		free:   make(chan *job, window),
		order:  make(chan *job, window),
		work:   make(chan *job, window),
	}
	it.budget.init(int64(d.cfg.Readers+1) * int64(d.cfg.ChunkSize))
	for range window {
		it.free <- &job{out: make(chan result, 1)}
	}
	it.wg.Go(func() {
		w := &walker{it: it}
		defer close(it.work)
		defer close(it.order)
		for _, p := range d.paths {
			if !w.root(p) {
				return
			}
		}
		it.complete = true
	})
	for range d.cfg.Readers {
		it.wg.Go(it.reader)
	}
	return it
}

// stop ends the iteration's goroutines and waits for them.
func (it *iteration) stop() {
	it.cancel()
	it.budget.stop()
	it.wg.Wait()
}

// consume yields the jobs in order. It runs in the consumer's goroutine.
func (it *iteration) consume(ctx context.Context, yield func(Blob, error) bool) {
	for j := range it.order {
		if err := ctx.Err(); err != nil {
			yield(Blob{}, err)
			return
		}
		switch j.kind {
		case jobSkip:
			if !yield(Blob{}, j.skip) {
				return
			}
		case jobStream:
			if !it.consumeStream(ctx, j, yield) {
				return
			}
		case jobFile:
			it.budget.setHead(j.seq)
			for done := false; !done; {
				var r result
				select {
				case r = <-j.out:
				case <-ctx.Done():
					yield(Blob{}, ctx.Err())
					return
				}
				done = r.done
				if r.buf != nil {
					it.budget.release(r.buf)
					if err := ctx.Err(); err != nil {
						r.buf.put()
						yield(Blob{}, err)
						return
					}
					r.blob.Release = r.buf.handOut()
				}
				switch {
				case r.err != nil:
					if !yield(Blob{}, r.err) {
						return
					}
				case r.buf != nil:
					if !yield(r.blob, nil) {
						return
					}
				}
			}
		}
		*j = job{out: j.out} // out is empty: the last result had done set
		it.free <- j
	}
	if !it.complete {
		if err := ctx.Err(); err != nil {
			yield(Blob{}, err)
		}
	}
}

// consumeStream reads a stream job in the consumer's goroutine.
func (it *iteration) consumeStream(ctx context.Context, j *job, yield func(Blob, error) bool) bool {
	r := j.r
	if r == nil {
		f, err := openStream(j.fsPath)
		if err != nil {
			return yield(Blob{}, errSkip(j.origin, err))
		}
		defer f.Close()
		// A pipe with no data yet blocks in Read: cancellation unblocks it.
		defer context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(deadlinePast) })()
		r = f
	}
	c := chunker{
		cfg: &it.d.cfg,
		get: it.d.pool.get,
		put: (*buffer).put,
		emit: func(b Blob, buf *buffer, err error, _ bool) bool {
			if cerr := ctx.Err(); cerr != nil {
				if buf != nil {
					buf.put()
				}
				yield(Blob{}, cerr)
				return false
			}
			if err != nil {
				return yield(Blob{}, err)
			}
			b.Release = buf.handOut()
			return yield(b, nil)
		},
	}
	return c.run(r, j.origin, -1)
}

// reader reads file jobs until the walk ends or the iteration stops.
func (it *iteration) reader() {
	for j := range it.work {
		if it.ctx.Err() != nil {
			continue // drain: the walker closes work when it sees the stop
		}
		it.readFile(j)
	}
}

// send passes r to the consumer; false when the iteration stopped.
func (it *iteration) send(j *job, r result) bool {
	select {
	case j.out <- r:
		return true
	case <-it.ctx.Done():
		if r.buf != nil {
			it.budget.release(r.buf)
			r.buf.put()
		}
		return false
	}
}

// readFile reads the regular file of job j and sends its chunks or skip.
func (it *iteration) readFile(j *job) {
	o := j.origin
	f, err := it.d.openFile(j.fsPath, j.follow)
	if err != nil {
		it.send(j, result{err: errSkip(o, err), done: true})
		return
	}
	defer f.close()
	mode, size, err := f.stat()
	switch {
	case err != nil:
		it.send(j, result{err: &Skip{Origin: o, Reason: SkipUnreadable, Err: err}, done: true})
		return
	case !mode.IsRegular():
		// Replaced after listing (a pipe, a device): never read it.
		it.send(j, result{err: specialSkip(o, mode), done: true})
		return
	case size > it.d.cfg.MaxFileSize:
		it.send(j, result{err: &Skip{Origin: o, Reason: SkipTooLarge, Size: size,
			Err: fmt.Errorf("size %d exceeds the limit of %d bytes", size, it.d.cfg.MaxFileSize)}, done: true})
		return
	case size == 0:
		size = -1 // /proc and /sys files report 0 and have content: read to the end
	}
	done := false
	c := chunker{
		cfg: &it.d.cfg,
		get: func(n int) *buffer {
			n = it.d.pool.size(n)
			if !it.budget.acquire(int64(n), j.seq) {
				return nil
			}
			return it.d.pool.get(n)
		},
		put: func(b *buffer) {
			it.budget.release(b)
			b.put()
		},
		emit: func(b Blob, buf *buffer, err error, final bool) bool {
			done = final
			return it.send(j, result{blob: b, buf: buf, err: err, done: final})
		},
	}
	var r io.Reader = f
	if it.d.cfg.Gate != nil && size >= 0 {
		r = gatedReader{r: f, g: it.d.cfg.Gate}
	}
	if c.run(r, o, size) && !done {
		it.send(j, result{done: true})
	}
}

// walker is the walk of one iteration; it runs in its own goroutine and
// emits jobs in walk order.
type walker struct {
	it  *iteration
	seq uint64

	root0  string   // the current root argument, cleaned and slash-separated
	prefix string   // prefix of Origin.Path for entries under root0
	segs   []string // path elements from root0 down to the current directory
	stdin  bool     // standard input was read
}

// emit queues a job; it returns false when the iteration stopped.
func (w *walker) emit(j job) bool {
	var slot *job
	select {
	case slot = <-w.it.free:
	case <-w.it.ctx.Done():
		return false
	}
	j.out = slot.out
	w.seq++
	j.seq = w.seq
	*slot = j
	w.it.order <- slot // never blocks: no more jobs than room
	if j.kind == jobFile {
		w.it.work <- slot
	}
	return true
}

func (w *walker) skip(s *Skip) bool { return w.emit(job{kind: jobSkip, skip: s}) }

// origin returns the Origin.Path of the entry at rel under the current root.
func (w *walker) origin(rel string) string {
	switch {
	case rel == "":
		return w.root0
	case w.prefix == "":
		return rel
	default:
		return path.Join(w.prefix, rel)
	}
}

// root scans one path argument. It returns false when iteration must stop.
func (w *walker) root(p string) bool {
	if w.it.ctx.Err() != nil {
		return false
	}
	if p == "-" {
		if w.stdin {
			return true
		}
		w.stdin = true
		return w.emit(job{kind: jobStream, origin: Origin{Path: StdinPath}, r: w.it.d.cfg.Stdin})
	}
	w.root0 = filepath.ToSlash(filepath.Clean(p))
	w.prefix = ""
	if w.it.d.cfg.PrefixRoot {
		w.prefix = w.root0
	}
	w.segs = w.segs[:0]
	o := Origin{Path: w.root0}
	fi, err := os.Lstat(p)
	if err != nil {
		if pe, ok := errors.AsType[*fs.PathError](err); ok {
			// The user typed a path to open; say so as the shell would.
			err = &fs.PathError{Op: "open", Path: p, Err: pe.Err}
		}
		return w.skip(errSkip(o, err))
	}
	follow := fi.Mode()&fs.ModeSymlink != 0
	if follow {
		// A link the user named is followed once (the kernel resolves it,
		// so /proc/self/fd/N links to pipes work too); links found inside
		// the walk are never followed.
		if fi, err = os.Stat(p); err != nil {
			return w.skip(errSkip(o, err))
		}
	}
	switch m := fi.Mode(); {
	case m.IsDir():
		if follow {
			if p, err = filepath.EvalSymlinks(p); err != nil {
				return w.skip(errSkip(o, err))
			}
		}
		return w.dir(p, "", nil, len(w.it.d.include) == 0)
	case m.IsRegular():
		return w.emit(job{kind: jobFile, fsPath: p, origin: o, follow: follow})
	case m&fs.ModeNamedPipe != 0 || m&fs.ModeCharDevice != 0:
		return w.emit(job{kind: jobStream, fsPath: p, origin: o})
	default:
		return w.skip(specialSkip(o, m))
	}
}

// dir lists the directory fsPath (rel relative to the root, "" for the root
// itself) and scans its entries in lexical order. ancestors holds the IDs of
// the directories above it; included says that Include is empty or that
// fsPath or a directory above it matched it.
func (w *walker) dir(fsPath, rel string, ancestors []fileID, included bool) bool {
	if w.it.ctx.Err() != nil {
		return false
	}
	d := w.it.d
	o := Origin{Path: w.origin(rel)}
	f, err := d.openDir(fsPath)
	if err != nil {
		return w.skip(errSkip(o, err))
	}
	if id, ok := d.dirID(f); ok {
		if slices.Contains(ancestors, id) {
			_ = f.Close()
			return w.skip(&Skip{Origin: o, Reason: SkipLoop,
				Err: errors.New("directory is its own ancestor (bind mount?)")})
		}
		ancestors = append(ancestors, id)
	}
	entries, lerr := f.ReadDir(-1)
	_ = f.Close()
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	filter := len(d.exclude) > 0 || len(d.include) > 0
	for _, e := range entries {
		name := e.Name()
		t := e.Type()
		isDir := t.IsDir()
		if isDir && name == ".git" {
			continue
		}
		inc := included
		if filter {
			segs := append(w.segs, name)
			if matchAny(d.exclude, segs, isDir) {
				d.excluded.Add(1)
				continue
			}
			inc = inc || matchAny(d.include, segs, isDir)
			if !inc && (!isDir || !mayMatchBelow(d.include, segs)) {
				d.excluded.Add(1)
				continue
			}
		}
		crel := path.Join(rel, name)
		cpath := filepath.Join(fsPath, name)
		co := Origin{Path: w.origin(crel)}
		var ok bool
		switch {
		case t&fs.ModeSymlink != 0:
			ok = w.skip(&Skip{Origin: co, Reason: SkipSymlink})
		case isDir:
			w.segs = append(w.segs, name)
			ok = w.dir(cpath, crel, ancestors, inc)
			w.segs = w.segs[:len(w.segs)-1]
		case t.IsRegular():
			ok = w.it.ctx.Err() == nil && w.emit(job{kind: jobFile, fsPath: cpath, origin: co})
		default:
			ok = w.skip(specialSkip(co, t))
		}
		if !ok {
			return false
		}
	}
	if lerr != nil {
		return w.skip(&Skip{Origin: o, Reason: SkipUnreadable, Err: lerr})
	}
	return true
}

// errSkip turns an open or list error into a Skip.
func errSkip(o Origin, err error) *Skip {
	reason := SkipUnreadable
	switch {
	case errors.Is(err, fs.ErrNotExist):
		reason = SkipNotFound
	case errors.Is(err, syscall.ELOOP):
		reason = SkipSymlink // replaced by a link after it was listed
	}
	return &Skip{Origin: o, Reason: reason, Err: err}
}

// specialSkip records a non-regular file.
func specialSkip(o Origin, m fs.FileMode) *Skip {
	kind := "irregular file"
	switch {
	case m&fs.ModeNamedPipe != 0:
		kind = "named pipe"
	case m&fs.ModeSocket != 0:
		kind = "socket"
	case m&fs.ModeCharDevice != 0:
		kind = "character device"
	case m&fs.ModeDevice != 0:
		kind = "device"
	case m.IsDir():
		kind = "directory"
	}
	return &Skip{Origin: o, Reason: SkipSpecial, Err: errors.New("not a regular file: " + kind)}
}
