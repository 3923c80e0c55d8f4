package main

import (
	"context"
	"iter"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/crawler/gitscan"
	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/pipeline"
	"github.com/sasquatch-sec/sasquatch/report"
)

// pathFilter is --include and --exclude of scan and git: globs on
// slash-separated paths relative to the scanned directory or repository.
//
// A pattern is a list of '/'-separated segments, each a path.Match pattern
// for one path element, except "**", which matches any number of elements
// (none included). A pattern without '/' matches a name at any depth
// ("*.min.js", "node_modules"); a pattern with '/' matches from the top
// ("vendor/*", "docs/**/*.md"; a leading '/' only anchors). A pattern that
// matches a directory matches everything under it; a trailing '/' matches
// directories only ("testdata/"). With --include, only matching paths are
// scanned; --exclude wins over --include. The zero value keeps everything.
type pathFilter struct {
	*crawler.PathFilter
	include, exclude []string     // as given, for crawler.DirConfig
	n                atomic.Int64 // paths (scan) or occurrences (git) left out
}

func newPathFilter(include, exclude []string) (*pathFilter, error) {
	pf, err := crawler.NewPathFilter(include, exclude)
	if err != nil {
		return nil, usagef("--%v", err)
	}
	return &pathFilter{PathFilter: pf, include: include, exclude: exclude}, nil
}

// active reports whether any pattern was given.
func (f *pathFilter) active() bool { return f.PathFilter.Active() }

// keep reports whether rel (slash-separated, relative to the scanned root)
// is to be scanned.
func (f *pathFilter) keep(rel string) bool { return f.PathFilter.Keep(rel) }

// tap sees every blob a source yields, in the pipeline's feeding goroutine
// (one at a time): it drives the progress line and, for directory scans,
// leaves out the paths --include and --exclude say.
type tap struct {
	filter *pathFilter                 // nil: keep everything
	rel    func(string) (string, bool) // path relative to its root; false: a path argument, always kept
	prog   *blobProgress               // nil: no progress line
}

func (t *tap) wrap(seq iter.Seq2[crawler.Blob, error]) iter.Seq2[crawler.Blob, error] {
	return func(yield func(crawler.Blob, error) bool) {
		for b, err := range seq {
			var origin crawler.Origin
			var sk *crawler.Skip
			switch {
			case err == nil:
				origin = b.Origin
			case asSkip(err, &sk):
				origin = sk.Origin
			}
			if t.filter != nil && t.filter.active() && origin.Path != "" && !b.Message {
				if rel, ok := t.rel(origin.Path); ok && !t.filter.keep(rel) {
					if err == nil && b.Overlap == 0 {
						t.filter.n.Add(1)
					}
					if b.Release != nil {
						b.Release()
					}
					continue
				}
			}
			if err == nil && t.prog != nil {
				t.prog.add(b)
			}
			if !yield(b, err) {
				return
			}
		}
	}
}

func asSkip(err error, sk **crawler.Skip) bool {
	s, ok := err.(*crawler.Skip)
	if ok {
		*sk = s
	}
	return ok
}

// dirSource is a directory scan seen through a tap.
type dirSource struct {
	*crawler.Dir
	tap *tap
}

func (d dirSource) Blobs(ctx context.Context) iter.Seq2[crawler.Blob, error] {
	return d.tap.wrap(d.Dir.Blobs(ctx))
}

// repoSource is a history scan seen through a tap; Provenance, Coverage,
// Tips and Close are the repository's.
type repoSource struct {
	*gitscan.Repo
	tap *tap
}

func (r repoSource) Blobs(ctx context.Context) iter.Seq2[crawler.Blob, error] {
	return r.tap.wrap(r.Repo.Blobs(ctx))
}

// relTo returns the function that makes a directory scan's Origin.Path
// relative to the path argument it was found under: with several
// arguments (PrefixRoot) the path starts with the argument. A path that is
// an argument itself is always kept, as the crawler keeps it.
func relTo(args []string, prefixed bool) func(string) (string, bool) {
	roots := make([]string, 0, len(args))
	for _, a := range args {
		roots = append(roots, filepath.ToSlash(filepath.Clean(a)))
	}
	return func(p string) (string, bool) {
		for _, r := range roots {
			if p == r {
				return "", false
			}
		}
		if !prefixed {
			return p, true
		}
		best := ""
		for _, r := range roots {
			if strings.HasPrefix(p, r+"/") && len(r) > len(best) {
				best = r
			}
		}
		if best == "" {
			return p, true
		}
		return strings.TrimPrefix(p, best+"/"), true
	}
}

// filterStore leaves out the occurrences at paths --include and --exclude
// say (history scans: a blob can sit at many paths, known only after
// provenance), counting them.
type filterStore struct {
	pipeline.Store
	f *pathFilter
}

func (s filterStore) Add(loc report.Location, m detect.Match) {
	if !loc.Message && loc.Path != "" && !s.f.keep(loc.Path) {
		s.f.n.Add(1)
		return
	}
	s.Store.Add(loc, m)
}
