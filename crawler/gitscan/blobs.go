package gitscan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/sasquatch-sec/sasquatch/crawler"
)

// Blobs yields every blob reachable from any ref exactly once and every
// commit and annotated tag message (Message set), interleaved, as described
// in the package documentation. Per-item problems are yielded as
// *crawler.Skip; cancellation of ctx is yielded as ctx.Err() and ends the
// sequence; breaking out of the loop stops and reaps every git process.
// Each ranging scans afresh and resets [Repo.Coverage]. Not safe for
// concurrent use.
func (r *Repo) Blobs(ctx context.Context) iter.Seq2[crawler.Blob, error] {
	return func(yield func(crawler.Blob, error) bool) {
		dctx, cancel := context.WithDeadline(ctx, r.deadline)
		defer cancel()
		r.mu.Lock()
		r.cov = Stats{Shallow: r.cov.Shallow, Backend: r.cov.Backend, Skips: map[crawler.SkipReason]int{}}
		r.mu.Unlock()
		s := &scan{r: r, yield: yield, parent: ctx}
		finished := s.run(dctx)
		r.mu.Lock()
		r.cov.Complete = finished && !s.stopped && len(r.cov.Skips) == 0
		r.mu.Unlock()
	}
}

// scan is the state of one Blobs run.
type scan struct {
	r       *Repo
	yield   func(crawler.Blob, error) bool
	parent  context.Context
	stopped bool  // the consumer stopped or the run ended early
	used    int64 // blob bytes admitted (budget)
	// done holds the ID of every object the git program's enumeration has
	// yielded something for (a blob, a message or a skip), 20 bytes each,
	// so that the object walk that takes over when the enumeration dies
	// yields nothing twice. Sorted once the walk starts.
	done     []oid20
	fellBack bool
}

// record notes that something was yielded for oid by the git enumeration.
func (s *scan) record(oid string) {
	if o, ok := toOID20(oid); ok {
		s.done = append(s.done, o)
	}
}

// yielded reports whether the git enumeration yielded something for oid
// (only after the fallback sorted done).
func (s *scan) yielded(oid string) bool {
	if !s.fellBack || len(s.done) == 0 {
		return false
	}
	o, ok := toOID20(oid)
	if !ok {
		return false
	}
	_, found := slices.BinarySearchFunc(s.done, o, func(a, b oid20) int { return bytes.Compare(a[:], b[:]) })
	return found
}

// run returns true when the whole graph was enumerated.
func (s *scan) run(ctx context.Context) bool {
	r := s.r
	if ctx.Err() != nil {
		return s.interrupted(ctx)
	}
	if r.cov.Shallow {
		if !s.skip(crawler.Origin{Repo: r.cfg.Repo}, crawler.SkipShallow, 0, errors.New("shallow clone: older history is missing")) {
			return false
		}
	}
	if r.empty {
		return true
	}
	for _, rf := range r.missingRefs() {
		if !s.skip(crawler.Origin{Repo: r.cfg.Repo, Commit: rf.oid}, crawler.SkipMissing, 0,
			fmt.Errorf("ref %s points at missing object %s", truncate(rf.name, 200), rf.oid)) {
			return false
		}
	}
	if r.git != "" {
		return s.runGit(ctx)
	}
	rd := r.reader(ctx)
	defer rd.close()
	return s.runWalk(ctx, rd)
}

func (s *scan) emit(b crawler.Blob, err error) bool {
	if s.stopped {
		return false
	}
	if !s.yield(b, err) {
		s.stopped = true
		return false
	}
	return true
}

func (s *scan) skip(o crawler.Origin, reason crawler.SkipReason, size int64, err error) bool {
	s.r.addSkip(reason, size, err)
	return s.emit(crawler.Blob{}, &crawler.Skip{Origin: o, Reason: reason, Size: size, Err: err})
}

// interrupted handles a done context: the caller's cancellation is yielded
// as ctx.Err(), the repository deadline as a "timeout" skip. It returns false.
func (s *scan) interrupted(ctx context.Context) bool {
	if err := s.parent.Err(); err != nil {
		s.r.addError(err)
		s.emit(crawler.Blob{}, err)
	} else {
		s.skip(crawler.Origin{Repo: s.r.cfg.Repo}, crawler.SkipTimeout, 0,
			fmt.Errorf("repository time limit %s reached", s.r.cfg.Timeout))
	}
	s.stopped = true
	return false
}

// admit decides, before reading, whether a blob of size bytes is read.
// It returns "" to read it, else the skip reason.
func (s *scan) admit(size int64) crawler.SkipReason {
	if size > s.r.cfg.MaxBlobSize {
		return crawler.SkipTooLarge
	}
	if s.used+size > s.r.cfg.MaxRepoBytes {
		return crawler.SkipRepoBytes
	}
	s.used += size
	return ""
}

func skipErr(reason crawler.SkipReason, size int64, max int64) error {
	switch reason {
	case crawler.SkipTooLarge:
		return fmt.Errorf("blob of %d bytes exceeds the %d-byte limit", size, max)
	case crawler.SkipRepoBytes:
		return fmt.Errorf("repository byte limit of %d reached", max)
	}
	return nil
}

func (s *scan) skipBlob(oid, p string, reason crawler.SkipReason, size int64) bool {
	max := s.r.cfg.MaxBlobSize
	if reason == crawler.SkipRepoBytes {
		max = s.r.cfg.MaxRepoBytes
	}
	return s.skip(crawler.Origin{Repo: s.r.cfg.Repo, Path: p}, reason, size, skipErr(reason, size, max))
}

var lfsPrefix = []byte("version https://git-lfs.github.com/spec/v1")

// blob yields a blob and, for an LFS pointer, also a skip. release, when
// not nil, is the blob's crawler.Blob.Release: data is not touched after
// the yield.
func (s *scan) blob(oid, p string, data []byte, release func()) bool {
	o := crawler.Origin{Repo: s.r.cfg.Repo, Path: p}
	s.r.mu.Lock()
	s.r.cov.Blobs++
	s.r.cov.Bytes += int64(len(data))
	s.r.mu.Unlock()
	lfs := int64(-1)
	if len(data) < 1024 && bytes.HasPrefix(data, lfsPrefix) {
		lfs = lfsSize(data)
	}
	if !s.emit(crawler.Blob{ID: oid, Data: data, Origin: o, Line: 1, Release: release}, nil) {
		return false
	}
	if lfs >= 0 {
		return s.skip(o, crawler.SkipLFS, lfs, errors.New("git LFS pointer: content not in the repository"))
	}
	if path.Base(p) == ".gitmodules" {
		return s.skip(o, crawler.SkipSubmodule, 0, errors.New("submodules are not fetched"))
	}
	return true
}

func lfsSize(data []byte) int64 {
	for _, line := range bytes.Split(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("size ")); ok {
			n, _ := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			return n
		}
	}
	return 0
}

// message yields a commit or tag message; release as for blob (called here
// when nothing is yielded).
func (s *scan) message(oid, typ string, data []byte, release func()) bool {
	handedOver := false
	if release != nil {
		defer func() {
			if !handedOver {
				release()
			}
		}()
	}
	o := crawler.Origin{Repo: s.r.cfg.Repo}
	var msg []byte
	switch typ {
	case "commit":
		c, err := parseCommit(data)
		if err != nil && c.message == nil {
			return s.skip(crawler.Origin{Repo: s.r.cfg.Repo, Commit: oid}, crawler.SkipUnreadable, int64(len(data)), fmt.Errorf("commit %s: %w", oid, err))
		}
		o.Commit, o.Author, o.Time, msg = oid, c.author, c.time, c.message
		s.r.mu.Lock()
		s.r.cov.Commits++
		s.r.mu.Unlock()
	case "tag":
		t, err := parseTag(data)
		if err != nil && t.message == nil {
			return s.skip(crawler.Origin{Repo: s.r.cfg.Repo}, crawler.SkipUnreadable, int64(len(data)), fmt.Errorf("tag %s: %w", oid, err))
		}
		o.Commit, o.Author, o.Time, msg = t.object, t.tagger, t.time, t.message
		s.r.mu.Lock()
		s.r.cov.Tags++
		s.r.mu.Unlock()
	default:
		return true
	}
	if len(msg) == 0 {
		return true
	}
	handedOver = true
	return s.emit(crawler.Blob{ID: oid, Data: msg, Origin: o, Line: 1, Message: true, Release: release}, nil)
}

// sinceArgs returns "^oid" lines for the SinceTips that exist.
func (s *scan) sinceTips(rd objReader) []string {
	var out []string
	for _, t := range s.r.cfg.SinceTips {
		t = strings.ToLower(strings.TrimSpace(t))
		if !validOID(t) {
			s.r.log.Warn("ignoring invalid since-tip", "repo", s.r.cfg.Repo)
			continue
		}
		if _, _, _, err := rd.read(t, 0); err != nil {
			s.r.log.Info("since-tip not in repository; scanning without it", "repo", s.r.cfg.Repo, "tip", t)
			continue
		}
		out = append(out, t)
	}
	return out
}

// item is one object decided by the enumerating goroutine of runGit.
type item struct {
	oid, typ, path string
	size           int64
	fetch          bool               // content was requested from cat-file --batch
	reason         crawler.SkipReason // skip reason when not fetched
	err            error              // enumeration failure
}

// runGit enumerates with `git rev-list --objects --missing=print | git
// cat-file --batch-check` from the refs listed at Open (never --all: one
// ref to a missing object would stop it) and reads the admitted objects
// through a pipelined `git cat-file --batch`; after a cat-file failure (a
// corrupt object) the rest is read one by one with a restarted process.
// Missing objects are reported, never fetched. When the enumeration itself
// fails (a missing commit, a tree too deep for git's recursion), the object
// walk takes over and yields what was not yielded yet.
func (s *scan) runGit(ctx context.Context) bool {
	r := s.r
	starts := r.starts()
	if len(starts) == 0 {
		return true
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rd := r.newCatFile(pctx)
	defer rd.close()
	var stdin strings.Builder
	for _, t := range starts {
		stdin.WriteString(t + "\n")
	}
	for _, t := range s.sinceTips(rd) {
		stdin.WriteString("^" + t + "\n")
	}

	// A commit-only walk: if it fails (a missing or corrupt commit), rev-list
	// --objects may stop early, so the object walk goes around the damage
	// and yields what the enumeration did not. It runs beside the
	// enumeration, not before it (it would add its whole time to the scan),
	// and its answer is awaited before the scan is called complete.
	graphErr := make(chan error, 1)
	go func() {
		_, err := r.runGit(pctx, []byte(stdin.String()), "rev-list", "--stdin", "--count")
		graphErr <- err
	}()
	graphChecked := false
	checkGraph := func() error {
		if graphChecked {
			return nil
		}
		graphChecked = true
		if err := <-graphErr; err != nil && ctx.Err() == nil {
			return fmt.Errorf("commit graph incomplete: %w", err)
		}
		return nil
	}
	// Whatever path the scan leaves by, the check has finished (it uses
	// pctx, cancelled by then) before runGit returns.
	defer func() {
		if !graphChecked {
			<-graphErr
		}
	}()

	pr, pw, err := os.Pipe()
	if err != nil {
		return s.fatal(fmt.Errorf("pipe: %w", err))
	}
	rlErr, ckErr, btErr := &tailBuffer{max: 2048}, &tailBuffer{max: 2048}, &tailBuffer{max: 2048}
	rl := r.command(pctx, "rev-list", "--objects", "--missing=print", "--stdin")
	rl.Stdin, rl.Stdout, rl.Stderr = strings.NewReader(stdin.String()), pw, rlErr
	ck := r.command(pctx, "cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize) %(rest)")
	ck.Stdin, ck.Stderr = pr, ckErr
	ckOut, err := ck.StdoutPipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return s.fatal(err)
	}
	bt := r.command(pctx, "cat-file", "--batch")
	bt.Stderr = btErr
	btIn, err := bt.StdinPipe()
	if err != nil {
		pr.Close()
		pw.Close()
		ckOut.Close()
		return s.fatal(err)
	}
	btOut, btW, err := blobPipe()
	if err != nil {
		pr.Close()
		pw.Close()
		ckOut.Close()
		btIn.Close()
		return s.fatal(err)
	}
	defer func() {
		// Idempotent: releases whatever a failed start left open.
		pr.Close()
		pw.Close()
		btW.Close()
		btOut.Close()
		btIn.Close()
		ckOut.Close()
	}()
	bt.Stdout = btW
	if err := rl.Start(); err != nil {
		pr.Close()
		pw.Close()
		return s.fatal(fmt.Errorf("git rev-list: %w", err))
	}
	pw.Close()
	if err := ck.Start(); err != nil {
		pr.Close()
		cancel()
		rl.Wait()
		return s.fatal(fmt.Errorf("git cat-file: %w", err))
	}
	pr.Close()
	err = bt.Start()
	btW.Close()
	if err != nil {
		cancel()
		rl.Wait()
		ck.Wait()
		return s.fatal(fmt.Errorf("git cat-file: %w", err))
	}

	items := make(chan item, 512)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(items)
		s.enumerate(pctx, bufio.NewReaderSize(ckOut, 256<<10), btIn, items)
		btIn.Close()
		errRL := rl.Wait()
		errCK := ck.Wait()
		if pctx.Err() != nil {
			return
		}
		if err := errors.Join(errRL, errCK); err != nil {
			msg := rlErr.String()
			if msg == "" {
				msg = ckErr.String()
			}
			select {
			case items <- item{err: fmt.Errorf("enumerate objects: %w: %s", err, msg)}:
			case <-pctx.Done():
			}
		}
	}()
	defer func() {
		cancel()
		for range items {
		}
		<-done
		bt.Wait()
	}()

	br := bufio.NewReaderSize(btOut, 256<<10)
	broken := false
	for it := range items {
		if ctx.Err() != nil {
			return s.interrupted(ctx)
		}
		if it.err != nil {
			// Stop git and wait for the enumerating goroutine before the
			// walk starts: done must not change under it.
			cancel()
			for range items {
			}
			<-done
			bt.Wait()
			if ctx.Err() != nil {
				return s.interrupted(ctx)
			}
			return s.fallback(ctx, it.err)
		}
		s.record(it.oid)
		if !it.fetch {
			var ok bool
			switch it.reason {
			case crawler.SkipMissing:
				ok = s.missing(it.oid, it.path)
			case crawler.SkipUnreadable:
				ok = s.skip(crawler.Origin{Repo: r.cfg.Repo, Path: it.path}, crawler.SkipUnreadable, 0,
					fmt.Errorf("object %s: ambiguous or unreadable", it.oid))
			default:
				ok = s.skipBlob(it.oid, it.path, it.reason, it.size)
			}
			if !ok {
				return false
			}
			continue
		}
		var data []byte
		var release func()
		var rerr error
		if !broken {
			_, size, err := readHeader(br, it.oid)
			if err == nil && size != it.size {
				err = fmt.Errorf("object %s changed size", it.oid)
			}
			if err == nil {
				// Straight from the pipe into a recycled buffer.
				buf := getBuffer(int(size))
				if err = readBodyInto(br, buf); err != nil {
					putBuffer(buf)
				} else {
					data, release = buf, func() { putBuffer(buf) }
				}
			}
			if err != nil && !errors.Is(err, errMissing) {
				broken = true
				if ctx.Err() != nil {
					return s.interrupted(ctx)
				}
				bt.Process.Kill()
				bt.Wait()
				if msg := btErr.String(); msg != "" {
					err = fmt.Errorf("%w: %s", err, msg)
				}
			}
			rerr = err
		} else {
			max := r.cfg.MaxBlobSize
			if it.typ != "blob" {
				max = maxMetaSize
			}
			_, _, data, rerr = rd.read(it.oid, max)
			if rerr == nil && data == nil {
				rerr = errors.New("object size changed")
			}
		}
		if rerr != nil {
			if ctx.Err() != nil {
				return s.interrupted(ctx)
			}
			o := crawler.Origin{Repo: r.cfg.Repo, Path: it.path}
			if it.typ != "blob" {
				o.Commit = it.oid
			}
			if !s.skip(o, crawler.SkipUnreadable, it.size, fmt.Errorf("read %s %s: %w", it.typ, it.oid, rerr)) {
				return false
			}
			continue
		}
		var ok bool
		if it.typ == "blob" {
			ok = s.blob(it.oid, it.path, data, release)
		} else {
			ok = s.message(it.oid, it.typ, data, release)
		}
		if !ok {
			return false
		}
	}
	if ctx.Err() != nil {
		return s.interrupted(ctx)
	}
	if err := checkGraph(); err != nil && !s.stopped {
		return s.fallback(ctx, err)
	}
	return !s.stopped
}

// fallback reads the repository with the object walk (go-git's reader)
// after the git program's enumeration failed with err, yielding only what
// the enumeration did not yield. The failure is not a loss of coverage by
// itself: what the walk cannot read it yields as skips.
func (s *scan) fallback(ctx context.Context, err error) bool {
	r := s.r
	r.log.Warn("git enumeration failed; walking objects one by one", "repo", r.cfg.Repo, "err", err)
	r.addError(err)
	r.mu.Lock()
	r.cov.Fallback = true
	r.mu.Unlock()
	slices.SortFunc(s.done, func(a, b oid20) int { return bytes.Compare(a[:], b[:]) })
	s.done = slices.Compact(s.done)
	s.fellBack = true
	rd := &goGitReader{st: openGoGit(r.gitDir)}
	defer rd.close()
	return s.runWalk(ctx, rd)
}

// missing yields the skip for an object the graph names but the
// repository lacks. In a partial clone made by this package the missing
// blobs are those the clone filter left on the server for their size.
func (s *scan) missing(oid, p string) bool {
	o := crawler.Origin{Repo: s.r.cfg.Repo, Path: p}
	if s.r.filtered > 0 {
		return s.skip(o, crawler.SkipTooLarge, 0,
			fmt.Errorf("object %s larger than %d bytes: left on the server by the clone", oid, s.r.filtered))
	}
	return s.skip(o, crawler.SkipMissing, 0, fmt.Errorf("object %s: %w", oid, errMissing))
}

func (s *scan) fatal(err error) bool {
	if s.parent.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return s.interrupted(s.parent)
	}
	s.r.addError(err)
	s.skip(crawler.Origin{Repo: s.r.cfg.Repo}, crawler.SkipEnumeration, 0, err)
	return false
}

// enumerate reads batch-check lines, decides what to read, requests it from
// cat-file --batch (w) and sends every decision, in order, on items.
func (s *scan) enumerate(ctx context.Context, ck *bufio.Reader, w interface{ Write([]byte) (int, error) }, items chan<- item) {
	bw := bufio.NewWriterSize(w, 64<<10)
	writeBroken := false
	flush := func() {
		if !writeBroken && bw.Buffered() > 0 {
			if bw.Flush() != nil {
				writeBroken = true
			}
		}
	}
	defer flush()
	for {
		if ck.Buffered() == 0 {
			flush()
		}
		line, err := ck.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// An absurdly long path: keep the object, drop the rest of the name.
			rest := line
			for err == bufio.ErrBufferFull {
				_, err = ck.ReadSlice('\n')
			}
			line = append(append([]byte(nil), rest...), '\n')
		}
		if err != nil && len(line) == 0 {
			return
		}
		it, ok := s.decide(bytes.TrimSuffix(line, []byte("\n")))
		if !ok {
			continue
		}
		if it.fetch && !writeBroken {
			bw.WriteString(it.oid)
			if err := bw.WriteByte('\n'); err != nil {
				writeBroken = true
			}
		}
		select {
		case items <- it:
			continue
		default:
		}
		flush()
		select {
		case items <- it:
		case <-ctx.Done():
			return
		}
	}
}

// decide turns one batch-check line into an item; ok is false for objects
// that are not scanned (trees).
func (s *scan) decide(line []byte) (item, bool) {
	oid, rest, _ := bytes.Cut(line, []byte(" "))
	// rev-list --missing=print names a missing object "?ID"; cat-file then
	// answers "?ID missing" without looking it up (no lazy fetch).
	oid = bytes.TrimPrefix(oid, []byte("?"))
	it := item{oid: string(oid)}
	typ, rest, _ := bytes.Cut(rest, []byte(" "))
	it.typ = objectType(typ)
	if it.typ == "missing" || it.typ == "ambiguous" {
		if !validOID(it.oid) {
			it.err = fmt.Errorf("unexpected batch-check line %q", truncate(string(line), 100))
			return it, true
		}
		it.reason = crawler.SkipUnreadable
		if it.typ == "missing" {
			it.reason = crawler.SkipMissing
		}
		return it, true
	}
	sz, p, _ := bytes.Cut(rest, []byte(" "))
	size, err := parseSize(sz)
	if err != nil || !validOID(it.oid) {
		it.err = fmt.Errorf("unexpected batch-check line %q", truncate(string(line), 100))
		return it, true
	}
	it.size = size
	it.path = string(p) // raw bytes, as git stores them
	switch it.typ {
	case "blob":
		if reason := s.admit(size); reason != "" {
			it.reason = reason
			return it, true
		}
	case "commit", "tag":
		if size > maxMetaSize {
			it.reason = crawler.SkipTooLarge
			return it, true
		}
	default:
		return it, false
	}
	it.fetch = true
	return it, true
}
