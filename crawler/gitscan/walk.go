package gitscan

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sasquatch-sec/sasquatch/crawler"
)

// walker enumerates objects itself (the go-git fallback), reading each once.
// Its seen set costs tens of bytes per object.
type walker struct {
	s       *scan
	rd      objReader
	seen    map[string]struct{}
	shallow map[string]bool
	mark    bool // marking phase for SinceTips: nothing is yielded or read
}

// shallowCommits reads the shallow file: commits whose parents are absent.
func shallowCommits(gitDir string) map[string]bool {
	m := map[string]bool{}
	f, err := os.Open(filepath.Join(gitDir, "shallow"))
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); validOID(t) {
			m[t] = true
		}
	}
	return m
}

// runWalk walks the graph from the refs listed at Open, reading each
// object once through rd.
func (s *scan) runWalk(ctx context.Context, rd objReader) bool {
	w := &walker{s: s, rd: rd, seen: map[string]struct{}{}, shallow: shallowCommits(s.r.gitDir)}
	if tips := s.sinceTips(rd); len(tips) > 0 {
		w.mark = true
		for _, t := range tips {
			if !w.visit(ctx, t, "") {
				return false
			}
		}
		w.mark = false
	}
	for _, oid := range s.r.starts() {
		if !w.visit(ctx, oid, "") {
			return false
		}
	}
	return true
}

func (w *walker) once(oid string) bool {
	if _, ok := w.seen[oid]; ok {
		return false
	}
	w.seen[oid] = struct{}{}
	return true
}

// visit walks everything reachable from oid (any type). Commits are walked
// with an explicit stack, trees recursively up to maxTreeDepth.
func (w *walker) visit(ctx context.Context, oid, p string) bool {
	stack := []string{oid}
	for len(stack) > 0 {
		if ctx.Err() != nil {
			return w.s.interrupted(ctx)
		}
		oid := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !w.once(oid) {
			continue
		}
		typ, size, data, err := w.rd.read(oid, maxMetaSize)
		if err == nil && data == nil && typ != "blob" {
			err = fmt.Errorf("%s of %d bytes is too large to walk", typ, size)
		}
		if err != nil {
			if w.mark || w.s.yielded(oid) {
				continue
			}
			if !w.s.skip(crawler.Origin{Repo: w.s.r.cfg.Repo, Commit: oid}, readFailure(err), 0, fmt.Errorf("read %s: %w", oid, err)) {
				return false
			}
			continue
		}
		switch typ {
		case "commit":
			c, err := parseCommit(data)
			if err != nil {
				if !w.mark && !w.s.skip(crawler.Origin{Repo: w.s.r.cfg.Repo, Commit: oid}, crawler.SkipUnreadable, size, fmt.Errorf("commit %s: %w", oid, err)) {
					return false
				}
				continue
			}
			if !w.mark && !w.s.yielded(oid) && !w.s.message(oid, typ, data, nil) {
				return false
			}
			if !w.tree(ctx, c.tree, "", 0) {
				return false
			}
			if !w.shallow[oid] {
				for i := len(c.parents) - 1; i >= 0; i-- {
					stack = append(stack, c.parents[i])
				}
			}
		case "tag":
			t, err := parseTag(data)
			if err != nil {
				if !w.mark && !w.s.skip(crawler.Origin{Repo: w.s.r.cfg.Repo}, crawler.SkipUnreadable, size, fmt.Errorf("tag %s: %w", oid, err)) {
					return false
				}
				continue
			}
			if !w.mark && !w.s.yielded(oid) && !w.s.message(oid, typ, data, nil) {
				return false
			}
			stack = append(stack, t.object)
		case "tree":
			delete(w.seen, oid)
			if !w.tree(ctx, oid, "", 0) {
				return false
			}
		case "blob":
			delete(w.seen, oid)
			if !w.blob(oid, p) {
				return false
			}
		}
	}
	return true
}

func (w *walker) tree(ctx context.Context, oid, prefix string, depth int) bool {
	if !w.once(oid) {
		return true
	}
	if ctx.Err() != nil {
		return w.s.interrupted(ctx)
	}
	if depth > maxTreeDepth {
		if w.mark {
			return true
		}
		return w.s.skip(crawler.Origin{Repo: w.s.r.cfg.Repo, Path: prefix}, crawler.SkipTreeDepth, 0, errors.New("trees nested too deeply"))
	}
	typ, _, data, err := w.rd.read(oid, maxMetaSize)
	if err == nil && (typ != "tree" || data == nil) {
		err = fmt.Errorf("not a readable tree (%s)", typ)
	}
	var entries []treeEntry
	if err == nil {
		entries, err = parseTree(data)
	}
	if err != nil && !w.mark {
		if !w.s.skip(crawler.Origin{Repo: w.s.r.cfg.Repo, Path: prefix}, readFailure(err), 0, fmt.Errorf("tree %s: %w", oid, err)) {
			return false
		}
	}
	for _, e := range entries {
		p := e.name
		if prefix != "" {
			p = prefix + "/" + e.name
		}
		switch {
		case e.isTree():
			if !w.tree(ctx, e.oid, p, depth+1) {
				return false
			}
		case e.isGitlink():
			// A submodule commit: not in this repository, never fetched.
		default:
			if !w.blob(e.oid, p) {
				return false
			}
		}
	}
	return true
}

func (w *walker) blob(oid, p string) bool {
	if !w.once(oid) || w.mark || w.s.yielded(oid) {
		return true
	}
	max := w.s.r.cfg.MaxBlobSize
	if left := w.s.r.cfg.MaxRepoBytes - w.s.used; left < max {
		max = left
	}
	typ, size, data, err := w.rd.read(oid, max)
	if errors.Is(err, errMissing) {
		return w.s.missing(oid, p)
	}
	if err != nil {
		return w.s.skip(crawler.Origin{Repo: w.s.r.cfg.Repo, Path: p}, crawler.SkipUnreadable, 0, fmt.Errorf("read blob %s: %w", oid, err))
	}
	if typ != "blob" {
		return true
	}
	if data == nil {
		reason := w.s.admit(size)
		if reason == "" { // cannot happen: read would have returned data
			reason = crawler.SkipRepoBytes
		}
		return w.s.skipBlob(oid, p, reason, size)
	}
	w.s.used += size
	return w.s.blob(oid, p, data, nil)
}

// readFailure is the skip reason for an object that could not be read.
func readFailure(err error) crawler.SkipReason {
	if errors.Is(err, errMissing) {
		return crawler.SkipMissing
	}
	return crawler.SkipUnreadable
}
