package report

import (
	"cmp"
	"hash/maphash"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/detect"
)

// DefaultMaxLocations is the number of locations a [Collector] keeps per
// finding when [CollectorOptions.MaxLocations] is zero.
const DefaultMaxLocations = 1000

// maxSeen bounds the per-finding set of occurrence keys used for
// de-duplication. Past it, occurrences are no longer de-duplicated and
// Finding.LocationsTruncated becomes an upper bound.
const maxSeen = 1 << 16

// CollectorOptions configures a [Collector]. The zero value is valid.
type CollectorOptions struct {
	// Reveal fills Finding.Token and Finding.URL (--reveal).
	Reveal bool
	// MaxLocations caps the locations kept per finding; the rest are counted
	// in Finding.LocationsTruncated. 0 means DefaultMaxLocations; negative
	// means no cap.
	MaxLocations int
	// MaxFindings caps the unique tokens kept, bounding memory whatever the
	// input (a hostile repository can hold millions of distinct tokens).
	// Occurrences of tokens past the cap are counted by [Collector.Dropped].
	// 0 means DefaultMaxFindings; negative means no cap.
	MaxFindings int
	// Workers is how many goroutines Findings builds findings on (0:
	// GOMAXPROCS): a run's --workers.
	Workers int
}

// DefaultMaxFindings is the default cap on unique tokens per run (per
// repository in a sweep). A kept token costs about 1.7 KB here, and a run
// peaks at about 4.5 KB per finding once the report is written (findings,
// their text, the garbage collector's headroom): some 450 MB at the cap.
// Real leaks number in the thousands; a repository holding more distinct
// tokens than this is hostile or generated, and the run says what it
// dropped instead of running out of memory.
const DefaultMaxFindings = 100_000

// Collector merges matches of the same token (same fingerprint) into one
// [Finding] listing every occurrence. Occurrences are de-duplicated by
// (repo, commit, path, line, blob, message). The severity of a merged finding is the
// highest seen, and its other fields come from the most informative match
// (one naming an account, then one with a host, then one with a URL, then the
// most severe, then the smallest redacted form), so the result does not
// depend on the order of Add calls. It is the in-memory findings store of a
// one-off run (pipeline.Store).
//
// A Collector is safe for concurrent use; its zero value is not usable, call
// [NewCollector].
type Collector struct {
	mu          sync.Mutex
	reveal      bool
	max         int
	maxFindings int
	workers     int
	dropped     int
	seed        maphash.Seed
	entries     map[string]*entry
}

type entry struct {
	rep     detect.Match
	maxSev  detect.Severity // the highest severity of any occurrence
	live    string          // liveness, when a stored finding carried one
	locs    []Location
	dropped int
	// Occurrence keys seen: the first in first, the map only from the
	// second on (most tokens occur once, and a map costs about 140 bytes).
	first    uint64
	hasFirst bool
	seen     map[uint64]struct{}
}

// seenBefore reports whether key was seen already, and records it while
// fewer than limit keys are recorded (limit 0: no limit).
func (e *entry) seenBefore(key uint64, limit int) bool {
	if e.seen == nil {
		switch {
		case !e.hasFirst:
			e.first, e.hasFirst = key, true
			return false
		case key == e.first:
			return true
		}
		e.seen = map[uint64]struct{}{e.first: {}}
	}
	if _, dup := e.seen[key]; dup {
		return true
	}
	if limit <= 0 || len(e.seen) < limit {
		e.seen[key] = struct{}{}
	}
	return false
}

// NewCollector returns an empty Collector.
func NewCollector(opts CollectorOptions) *Collector {
	max := opts.MaxLocations
	if max == 0 {
		max = DefaultMaxLocations
	}
	maxFindings := opts.MaxFindings
	if maxFindings == 0 {
		maxFindings = DefaultMaxFindings
	}
	return &Collector{
		reveal:      opts.Reveal,
		max:         max,
		maxFindings: maxFindings,
		workers:     workersOr(opts.Workers),
		seed:        maphash.MakeSeed(),
		entries:     make(map[string]*entry),
	}
}

// Add records one occurrence of m at loc. It is safe for concurrent use.
func (c *Collector) Add(loc Location, m detect.Match) {
	fp := m.Fingerprint
	if fp == "" {
		fp = detect.Fingerprint(m.Token.Signature.Reveal())
		m.Fingerprint = fp
	}
	if !c.reveal {
		// A file may be named after the URL it was downloaded from
		// ("model.ckpt?sv=...&sig=..."): paths are secrets too.
		loc.Path, loc.Repo, loc.Permalink = Scrub(loc.Path), Scrub(loc.Repo), Scrub(loc.Permalink)
	}
	loc = withRawPath(loc)
	key := c.occurrenceKey(loc)

	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(m)
	if e == nil {
		return
	}
	if e.seenBefore(key, maxSeen) {
		return
	}
	e.locs = append(e.locs, loc)
	if c.max > 0 && len(e.locs) >= 2*c.max {
		e.trim(c.max)
	}
}

// entry returns the entry of m's token, created or improved by m; nil when
// the cap on unique tokens is reached (counted). c.mu is held.
func (c *Collector) entry(m detect.Match) *entry {
	e := c.entries[m.Fingerprint]
	if e == nil {
		if c.maxFindings > 0 && len(c.entries) >= c.maxFindings {
			c.dropped++
			return nil
		}
		e = &entry{rep: m, maxSev: m.Severity}
		c.entries[m.Fingerprint] = e
		return e
	}
	if better(m, e.rep) {
		e.rep = m
	}
	e.maxSev = max(e.maxSev, m.Severity)
	return e
}

// Truncated counts n occurrences of m's token that were not kept because
// of a retention cap upstream (the pipeline keeps a bounded number of blobs
// per token for provenance): they show in Finding.LocationsTruncated.
// It is safe for concurrent use.
func (c *Collector) Truncated(m detect.Match, n int) {
	if m.Fingerprint == "" {
		m.Fingerprint = detect.Fingerprint(m.Token.Signature.Reveal())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entry(m); e != nil {
		e.dropped += n
	}
}

// Dropped returns how many occurrences were not kept because the cap on
// unique tokens (CollectorOptions.MaxFindings) was reached: lost coverage.
// It is safe for concurrent use.
func (c *Collector) Dropped() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// Len returns the number of unique tokens collected so far. It is safe for
// concurrent use.
func (c *Collector) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Findings returns one Finding per unique token, sorted by severity (highest
// first) then fingerprint, each with its locations sorted (repo, path, line,
// column, commit, message) and capped. The result is a fresh copy; Findings
// may be called more than once and concurrently with Add.
func (c *Collector) Findings() []Finding {
	c.mu.Lock()
	defer c.mu.Unlock()
	entries := make([]*entry, 0, len(c.entries))
	for _, e := range c.entries {
		entries = append(entries, e)
	}
	// Each finding is built on its own (on every CPU: a run can end with
	// thousands of findings, and nothing else runs then).
	out := make([]Finding, len(entries))
	forEachParallel(len(entries), c.workers, func(i int) {
		e := entries[i]
		slices.SortFunc(e.locs, CompareLocations)
		if c.max > 0 {
			e.trim(c.max)
		}
		f := NewFinding(e.rep, c.reveal)
		f.Severity = e.maxSev
		f.Liveness = e.live
		f.Locations = slices.Clone(e.locs)
		if f.Locations == nil {
			f.Locations = []Location{}
		}
		f.LocationsTruncated = e.dropped
		out[i] = f
	})
	SortFindings(out)
	return out
}

// SortFindings sorts findings by severity, highest first, then by their
// first location (repository, path, line), then fingerprint: the order of
// every output. It is not safe for concurrent use
// on the same slice.
func SortFindings(fs []Finding) {
	// Indexes are sorted, then the order is applied in place one cycle at
	// a time: a Finding is a few hundred bytes, and sorting the values
	// would copy each of them at every swap.
	order := make([]int, len(fs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		a, b := &fs[i], &fs[j]
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		// Within a severity, where it was first seen: repository, path,
		// line (locations are sorted); the fingerprint breaks ties.
		if len(a.Locations) > 0 && len(b.Locations) > 0 {
			if c := compareLocations(&a.Locations[0], &b.Locations[0]); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.Fingerprint, b.Fingerprint)
	})
	// fs[i] is to take the finding now at order[i]
	for start := range fs {
		if order[start] < 0 || order[start] == start {
			continue
		}
		held := fs[start]
		i := start
		for order[i] != start {
			next := order[i]
			fs[i] = fs[next]
			order[i] = -1
			i = next
		}
		fs[i] = held
		order[i] = -1
	}
}

// trim keeps the first max locations in sorted order and counts the rest.
func (e *entry) trim(max int) {
	if len(e.locs) <= max {
		return
	}
	slices.SortFunc(e.locs, CompareLocations)
	e.dropped += len(e.locs) - max
	clear(e.locs[max:])
	e.locs = e.locs[:max:max]
	// Re-slicing with a capacity makes the next append reallocate, so the
	// dropped tail is not kept alive.
}

func (c *Collector) occurrenceKey(l Location) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(l.Repo)
	h.WriteByte(0)
	h.WriteString(l.Commit)
	h.WriteByte(0)
	h.WriteString(l.Path)
	h.WriteByte(0)
	h.WriteString(strconv.Itoa(l.Line))
	h.WriteByte(0)
	h.WriteString(l.Blob) // occurrences in distinct blobs of unknown provenance are distinct
	if l.Message {
		h.WriteByte(1)
	}
	return h.Sum64()
}

// better reports whether a should represent a finding rather than b: the
// richer occurrence names the finding (the same signature seen bare in .env
// and as a URL in README.md takes the URL's account and host), then the
// more severe one.
func better(a, b detect.Match) bool {
	if aa, ba := a.Token.Account != "", b.Token.Account != ""; aa != ba {
		return aa
	}
	if ah, bh := a.Token.Host != "", b.Token.Host != ""; ah != bh {
		return ah
	}
	if au, bu := !a.Token.URL.IsZero(), !b.Token.URL.IsZero(); au != bu {
		return au
	}
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	return a.Token.Redacted < b.Token.Redacted
}

// CompareLocations is the order of locations in every output: repository,
// path, line, column, commit, file before message, date. Stores use it too.
func CompareLocations(a, b Location) int { return compareLocations(&a, &b) }

// compareLocations is CompareLocations without copying the locations
// (sorting thousands of findings compares tens of thousands of them).
func compareLocations(a, b *Location) int {
	if c := cmp.Compare(a.Repo, b.Repo); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Line, b.Line); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Column, b.Column); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Commit, b.Commit); c != 0 {
		return c
	}
	if a.Message != b.Message {
		if !a.Message {
			return -1
		}
		return 1
	}
	switch {
	case a.Date == nil && b.Date == nil:
		return 0
	case a.Date == nil:
		return -1
	case b.Date == nil:
		return 1
	}
	return a.Date.Compare(*b.Date)
}

// LocationFor returns where m, found in b.Data, is in the original file or
// repository. ok is false when another chunk of the same file reports the
// match ([crawler.KeepMatch]: each chunk owns the matches that start before
// its tail).
//
// Lines and columns are made absolute with b.Line and b.Column (a chunk can
// start in the middle of a long line). Commit, author, date and at_tip are
// set only for history blobs (a non-empty Commit). The permalink is left
// empty: GitHub sweeps add it. LocationFor can be called concurrently.
func LocationFor(b crawler.Blob, m detect.Match) (loc Location, ok bool) {
	if !crawler.KeepMatch(b, m.Start, m.End) {
		return Location{}, false
	}
	line, col := m.Line, m.Column
	if b.Line > 1 {
		line += b.Line - 1
	}
	if m.Line == 1 && b.Column > 1 {
		// The chunk starts in the middle of this line.
		col += b.Column - 1
	}
	loc = Location{
		Path:    b.Origin.Path,
		Line:    line,
		Column:  col,
		Repo:    b.Origin.Repo,
		Message: b.Message,
	}
	if b.Origin.Commit != "" {
		loc.Commit = b.Origin.Commit
		loc.Author = b.Origin.Author
		loc.Date = timePtr(b.Origin.Time)
		if !b.Message {
			atTip := b.Origin.AtTip
			loc.AtTip = &atTip
		}
	}
	return loc, true
}

// AddFindings adds findings built elsewhere (read from a store) with their
// locations, so they go through the same sinks and summary as a scan's.
// It is safe for concurrent use.
func (c *Collector) AddFindings(fs []Finding) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range fs {
		m := detect.Match{Token: f.Credential, Severity: f.Severity, Expired: f.Expired, Reasons: f.Reasons, Fingerprint: f.Fingerprint}
		// A stored finding is already merged: keep its fields as stored.
		m.Token.Account, m.Token.Host, m.Token.Cloud, m.Token.Kind = f.Account, f.Host, f.Cloud, f.Kind
		m.Token.Services, m.Token.ResourceTypes, m.Token.Resource = f.Services, f.ResourceTypes, f.Resource
		m.Token.Permissions, m.Token.SP, m.Token.Redacted = f.Permissions, f.SP, f.Redacted
		if f.Start != nil {
			m.Token.Start = *f.Start
		}
		if f.Expiry != nil {
			m.Token.Expiry = *f.Expiry
		}
		e := c.entry(m)
		if e == nil {
			continue
		}
		e.live = f.Liveness
		for _, l := range f.Locations {
			l = withRawPath(l)
			key := c.occurrenceKey(l)
			if e.seenBefore(key, 0) {
				continue
			}
			e.locs = append(e.locs, l)
		}
		e.dropped += f.LocationsTruncated
	}
}

// withRawPath keeps the raw bytes of a path that is not valid UTF-8.
func withRawPath(l Location) Location {
	if !utf8.ValidString(l.Path) {
		l.PathBytes = []byte(l.Path)
	}
	return l
}
