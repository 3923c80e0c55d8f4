package crawler

import (
	"fmt"
	"path"
	"strings"
)

// pattern is a compiled [DirConfig.Exclude] or [DirConfig.Include] pattern.
type pattern struct {
	segs    []string // path.Match patterns, or "**"
	dirOnly bool     // written with a trailing '/'
}

// compilePatterns checks and splits patterns (see [DirConfig.Exclude]).
func compilePatterns(pats []string) ([]pattern, error) {
	var out []pattern
	for _, p := range pats {
		s := p
		dirOnly := strings.HasSuffix(s, "/")
		s = strings.TrimSuffix(s, "/")
		anchored := strings.Contains(s, "/")
		s = strings.TrimPrefix(s, "/")
		if s == "" {
			return nil, fmt.Errorf("pattern %q: empty", p)
		}
		segs := strings.Split(s, "/")
		for _, seg := range segs {
			if seg == "" || seg == "." || seg == ".." {
				return nil, fmt.Errorf("pattern %q: empty, . or .. element", p)
			}
			if _, err := path.Match(seg, ""); err != nil {
				return nil, fmt.Errorf("pattern %q: %w", p, err)
			}
		}
		if !anchored && segs[0] != "**" {
			segs = append([]string{"**"}, segs...)
		}
		// "**/**" is "**": fold runs so that matching stays linear-ish.
		folded := segs[:1]
		for _, seg := range segs[1:] {
			if seg != "**" || folded[len(folded)-1] != "**" {
				folded = append(folded, seg)
			}
		}
		out = append(out, pattern{segs: folded, dirOnly: dirOnly})
	}
	return out, nil
}

// matchAny reports whether the entry whose path elements (from the path
// argument down) are segs matches one of pats.
func matchAny(pats []pattern, segs []string, isDir bool) bool {
	for _, p := range pats {
		if (isDir || !p.dirOnly) && matchSegs(p.segs, segs) {
			return true
		}
	}
	return false
}

// matchSegs matches path elements against pattern elements.
func matchSegs(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			pat = pat[1:]
			if len(pat) == 0 {
				return true
			}
			for i := range len(name) + 1 {
				if matchSegs(pat, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// mayMatchBelow reports whether one of pats could match an entry below the
// directory whose path elements are dir, so that the directory must be
// walked for Include.
func mayMatchBelow(pats []pattern, dir []string) bool {
	for _, p := range pats {
		if prefixMatch(p.segs, dir) {
			return true
		}
	}
	return false
}

// prefixMatch reports whether pat could match a path that starts with the
// elements dir and has at least one more.
func prefixMatch(pat, dir []string) bool {
	for ; len(dir) > 0; dir = dir[1:] {
		if len(pat) == 0 {
			return false
		}
		if pat[0] == "**" {
			return true
		}
		if ok, _ := path.Match(pat[0], dir[0]); !ok {
			return false
		}
		pat = pat[1:]
	}
	return len(pat) > 0
}

// PathFilter decides whether a path is scanned, with the pattern syntax of
// [DirConfig.Exclude] and [DirConfig.Include]. [Dir] applies it while it
// walks; history scans, whose paths come from provenance, ask Keep.
// The zero value keeps everything. It is safe for concurrent use.
type PathFilter struct {
	include, exclude []pattern
}

// NewPathFilter compiles include and exclude patterns.
func NewPathFilter(include, exclude []string) (*PathFilter, error) {
	inc, err := compilePatterns(include)
	if err != nil {
		return nil, fmt.Errorf("include %w", err)
	}
	exc, err := compilePatterns(exclude)
	if err != nil {
		return nil, fmt.Errorf("exclude %w", err)
	}
	return &PathFilter{include: inc, exclude: exc}, nil
}

// Active reports whether any pattern was given.
func (f *PathFilter) Active() bool { return f != nil && len(f.include)+len(f.exclude) > 0 }

// Keep reports whether the file at rel (slash-separated, relative to the
// scanned root or repository) is scanned: a pattern that matches one of its
// directories matches the file, and exclude wins over include.
func (f *PathFilter) Keep(rel string) bool {
	if !f.Active() {
		return true
	}
	segs := strings.Split(strings.Trim(rel, "/"), "/")
	matches := func(pats []pattern) bool {
		for k := 1; k <= len(segs); k++ {
			if matchAny(pats, segs[:k], k < len(segs)) {
				return true
			}
		}
		return false
	}
	if len(f.include) > 0 && !matches(f.include) {
		return false
	}
	return !matches(f.exclude)
}
