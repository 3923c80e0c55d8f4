package crawler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
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
)

// StdinPath is the Origin.Path of blobs read from standard input (the path
// argument "-").
const StdinPath = "<stdin>"

// DirConfig configures a [Dir]. The zero value is ready to use: every zero
// field takes its default.
type DirConfig struct {
	// MaxFileSize is the largest file read, in bytes (default
	// [DefaultMaxFileSize]). A bigger file is not read at all and is
	// reported as a *Skip with Reason [SkipTooLarge] and Size set. For
	// standard input, whose size is unknown, the first MaxFileSize bytes are
	// scanned and a too-large skip reports the rest.
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
	// Exclude lists path.Match patterns of files and directories not to scan
	// (silently: an exclusion is the user's choice, not lost coverage). A
	// pattern without '/' matches an entry's name at any depth ("*.min.js",
	// "node_modules"); a pattern with '/' matches the slash-separated path
	// relative to the root argument ("vendor/*"). Path arguments themselves
	// are never excluded.
	Exclude []string
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
//   - never follows a symbolic link, to a file or a directory, whether found
//     in a directory or given as an argument: each one is a *Skip with
//     Reason [SkipSymlink]. A loop through symbolic links therefore cannot
//     loop. Loops through bind mounts are caught by remembering the (device,
//     inode) of the directories on the current path ([SkipLoop]). (As
//     everywhere in Unix, an argument with a trailing slash, "link/", names
//     the directory the link points to, and that directory is walked.)
//   - reads regular files only, binary ones included. Devices, named pipes
//     and sockets are skipped ([SkipSpecial]) and never opened; files are
//     opened with O_NOFOLLOW|O_NONBLOCK and checked with fstat, so an entry
//     replaced by a link or a pipe after listing is skipped, not followed or
//     waited on.
//   - reports what it cannot read as a *Skip ([SkipUnreadable],
//     [SkipNotFound], [SkipTooLarge]) and goes on. A missing path
//     argument is a *Skip with Reason [SkipNotFound] whose Err is an
//     *fs.PathError ("open missing.txt: no such file or directory"), so
//     errors.Is(err, fs.ErrNotExist) holds.
//   - checks ctx before every file and every chunk; on cancellation it
//     yields ctx.Err() once and stops.
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
// chunk). A token no longer than ChunkOverlap that crosses a chunk boundary
// is whole in the next chunk. Use [KeepMatch] to report each match once. A
// match's line is Line plus the '\n' bytes in Data before it; its column
// (counted from the last '\n' before it in Data) is exact unless its line
// began before Data[0], which needs a line longer than about ChunkSize/2. Every file yields at least one Blob (an empty file yields an empty
// Data), so the number of files scanned is the number of Blobs with
// Offset == 0, and the number of bytes scanned is the sum of
// len(Data)-Overlap. Skips are yielded as errors; Dir keeps no counters.
//
// Data is freshly allocated for every Blob and never touched by Dir after it
// is yielded. A Dir is immutable after [NewDir] and safe for concurrent use;
// each iterator returned by [Dir.Blobs] has one consumer.
type Dir struct {
	paths []string
	cfg   DirConfig

	// Hooks, replaced by tests.
	openFile func(name string) (*os.File, error)
	openDir  func(name string) (*os.File, error)
	dirID    func(f *os.File) (fileID, bool)
}

// fileID identifies a directory for loop detection.
type fileID struct{ dev, ino uint64 }

var _ Source = (*Dir)(nil)

// NewDir returns a [Dir] over paths (files, directories, or "-" for
// standard input) with cfg's zero fields set to their defaults. It returns an
// error, and no Dir, when paths is empty or cfg is invalid (negative sizes,
// an overlap above half the chunk size, a malformed Exclude pattern). Paths
// are not checked here: a missing one is reported by the iterator.
func NewDir(paths []string, cfg DirConfig) (*Dir, error) {
	if len(paths) == 0 {
		return nil, errors.New("directory source: no paths to scan")
	}
	if cfg.MaxFileSize < 0 || cfg.ChunkSize < 0 || cfg.ChunkOverlap < 0 {
		return nil, fmt.Errorf("directory source: negative size in config (max file %d, chunk %d, overlap %d)",
			cfg.MaxFileSize, cfg.ChunkSize, cfg.ChunkOverlap)
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
	for _, p := range cfg.Exclude {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("directory source: exclude pattern %q: %w", p, err)
		}
	}
	cfg.Exclude = slices.Clone(cfg.Exclude)
	if cfg.Stdin == nil {
		cfg.Stdin = os.Stdin
	}
	return &Dir{
		paths:    slices.Clone(paths),
		cfg:      cfg,
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
	return c
}

// Blobs walks the paths and yields their contents as described on [Dir].
// Per-item errors are *Skip values; the only other error is ctx.Err(), after
// which the iterator returns. The iterator can be ranged more than once: it
// walks again (standard input then yields what is left of it). A repeated
// "-" argument is ignored.
func (d *Dir) Blobs(ctx context.Context) iter.Seq2[Blob, error] {
	return func(yield func(Blob, error) bool) {
		w := &walker{d: d, ctx: ctx, yield: yield}
		for _, p := range d.paths {
			if !w.root(p) {
				return
			}
		}
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

// walker is the state of one iteration.
type walker struct {
	d     *Dir
	ctx   context.Context
	yield func(Blob, error) bool

	root0  string // the current root argument, cleaned and slash-separated
	prefix string // prefix of Origin.Path for entries under root0
	stdin  bool   // standard input was read
}

// cancelled yields ctx.Err() if ctx is done and reports whether it was.
func (w *walker) cancelled() bool {
	if err := w.ctx.Err(); err != nil {
		w.yield(Blob{}, err)
		return true
	}
	return false
}

func (w *walker) skip(s *Skip) bool { return w.yield(Blob{}, s) }

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
	if w.cancelled() {
		return false
	}
	if p == "-" {
		if w.stdin {
			return true
		}
		w.stdin = true
		return w.stream(w.d.cfg.Stdin, Origin{Path: StdinPath}, -1)
	}
	w.root0 = filepath.ToSlash(filepath.Clean(p))
	w.prefix = ""
	if w.d.cfg.PrefixRoot {
		w.prefix = w.root0
	}
	o := Origin{Path: w.root0}
	fi, err := os.Lstat(p)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			// The user typed a path to open; say so as the shell would.
			err = &fs.PathError{Op: "open", Path: p, Err: pe.Err}
		}
		return w.skip(errSkip(o, err))
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		// A link the user named is followed once, as grep -r and find -H do
		// (/dev/stdin, a Kubernetes secret mount, a link to a checkout); links
		// found inside the walk are never followed.
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			return w.skip(errSkip(o, err))
		}
		if fi, err = os.Lstat(target); err != nil {
			return w.skip(errSkip(o, err))
		}
		p = target
	}
	switch m := fi.Mode(); {
	case m&fs.ModeSymlink != 0:
		return w.skip(&Skip{Origin: o, Reason: SkipSymlink})
	case m.IsDir():
		return w.dir(p, "", nil)
	case m.IsRegular():
		return w.file(p, o)
	default:
		return w.skip(specialSkip(o, m))
	}
}

// dir lists the directory fsPath (rel relative to the root, "" for the root
// itself) and scans its entries in lexical order. ancestors holds the IDs of
// the directories above it.
func (w *walker) dir(fsPath, rel string, ancestors []fileID) bool {
	if w.cancelled() {
		return false
	}
	o := Origin{Path: w.origin(rel)}
	f, err := w.d.openDir(fsPath)
	if err != nil {
		return w.skip(errSkip(o, err))
	}
	if id, ok := w.d.dirID(f); ok {
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
	for _, e := range entries {
		name := e.Name()
		crel := path.Join(rel, name)
		if w.excluded(crel, name) {
			continue
		}
		cpath := filepath.Join(fsPath, name)
		co := Origin{Path: w.origin(crel)}
		var ok bool
		switch t := e.Type(); {
		case t&fs.ModeSymlink != 0:
			ok = w.skip(&Skip{Origin: co, Reason: SkipSymlink})
		case t.IsDir():
			if name == ".git" {
				continue
			}
			ok = w.dir(cpath, crel, ancestors)
		case t.IsRegular():
			if w.cancelled() {
				return false
			}
			ok = w.file(cpath, co)
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

// excluded reports whether an entry matches an Exclude pattern.
func (w *walker) excluded(rel, name string) bool {
	for _, p := range w.d.cfg.Exclude {
		subject := name
		if strings.Contains(p, "/") {
			subject = rel
		}
		if ok, _ := path.Match(p, subject); ok {
			return true
		}
	}
	return false
}

// file scans the regular file at fsPath.
func (w *walker) file(fsPath string, o Origin) bool {
	f, err := w.d.openFile(fsPath)
	if err != nil {
		return w.skip(errSkip(o, err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return w.skip(&Skip{Origin: o, Reason: SkipUnreadable, Err: err})
	}
	if !fi.Mode().IsRegular() {
		// Replaced after listing (a pipe, a device): never read it.
		return w.skip(specialSkip(o, fi.Mode()))
	}
	if fi.Size() > w.d.cfg.MaxFileSize {
		return w.skip(&Skip{Origin: o, Reason: SkipTooLarge, Size: fi.Size(),
			Err: fmt.Errorf("size %d exceeds the limit of %d bytes", fi.Size(), w.d.cfg.MaxFileSize)})
	}
	return w.stream(f, o, fi.Size())
}

// stream yields r's bytes, at most MaxFileSize of them, in overlapping chunks.
// size is the expected size (-1 if unknown); it only sizes buffers.
func (w *walker) stream(r io.Reader, o Origin, size int64) bool {
	cs, ov, limit := w.d.cfg.ChunkSize, w.d.cfg.ChunkOverlap, w.d.cfg.MaxFileSize
	lr := &io.LimitedReader{R: r, N: limit}
	var tail []byte // the bytes the next chunk repeats
	offset, line, col := int64(0), 1, 1
	for first := true; ; first = false {
		if w.cancelled() {
			return false
		}
		read := offset + int64(len(tail)) // bytes consumed so far
		var capacity int
		if size >= 0 {
			// +1 so that the read returning EOF needs no larger buffer.
			capacity = int(min(int64(cs), int64(len(tail))+max(size-read, 0)+1))
		} else {
			capacity = min(cs, len(tail)+64<<10)
		}
		buf := make([]byte, len(tail), capacity)
		copy(buf, tail)
		buf, err := fill(lr, buf, cs)
		fresh := len(buf) - len(tail)
		if err != nil && err != io.EOF {
			if fresh > 0 {
				if !w.yield(Blob{Data: buf, Origin: o, Offset: offset, Line: line, Column: col, Overlap: len(tail)}, nil) {
					return false
				}
			}
			var lost int64
			if size >= 0 {
				lost = max(size-read-int64(fresh), 0)
			}
			return w.skip(&Skip{Origin: o, Reason: SkipUnreadable, Size: lost, Err: err})
		}
		eof := err == io.EOF
		if fresh == 0 && !first {
			break // the previous chunk ended exactly at the end
		}
		b := Blob{Data: buf, Origin: o, Offset: offset, Line: line, Column: col, Overlap: len(tail)}
		if !eof {
			// Prepare the next chunk before yielding: the receiver owns buf.
			// It repeats at least ov bytes and at most cs/2, and starts at
			// the latest line start in that range, if any.
			adv := len(buf) - ov
			lo := len(buf) - cs/2
			if i := bytes.LastIndexByte(buf[lo-1:adv], '\n'); i >= 0 {
				adv = lo + i
			}
			line += bytes.Count(buf[:adv], []byte{'\n'})
			if i := bytes.LastIndexByte(buf[:adv], '\n'); i >= 0 {
				col = adv - i
			} else {
				col += adv
			}
			offset += int64(adv)
			tail = bytes.Clone(buf[adv:])
			b.Tail = len(tail)
		}
		if !w.yield(b, nil) {
			return false
		}
		if eof {
			break
		}
	}
	if lr.N == 0 {
		// The limit was reached: is there more?
		var one [1]byte
		if n, _ := io.ReadFull(r, one[:]); n > 0 {
			var lost int64
			if size >= 0 {
				lost = max(size-limit, 0)
			}
			return w.skip(&Skip{Origin: o, Reason: SkipTooLarge, Size: lost,
				Err: fmt.Errorf("input exceeds the limit of %d bytes; the rest was not scanned", limit)})
		}
	}
	return true
}

// fill reads from r into buf until len(buf) == n, growing buf as needed (to
// at most n bytes). It returns io.EOF when r ended, any other read error, or
// nil when buf is full.
func fill(r io.Reader, buf []byte, n int) ([]byte, error) {
	empty := 0
	for len(buf) < n {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(n, max(2*cap(buf), 512)))
			copy(nb, buf)
			buf = nb
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, err
		}
		if m == 0 {
			if empty++; empty >= 100 {
				return buf, io.ErrNoProgress
			}
		} else {
			empty = 0
		}
	}
	return buf, nil
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
