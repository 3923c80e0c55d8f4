package report

import (
	stdcmp "cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/detect"
)

func TestCollectorMerge(t *testing.T) {
	t.Parallel()
	occs := corpus()
	fs := collect(occs, CollectorOptions{})
	// 6 distinct tokens in the corpus.
	if len(fs) != 6 {
		t.Fatalf("got %d findings, want 6", len(fs))
	}
	var first Finding
	for _, f := range fs {
		if f.Account == "contosoresearch01" {
			first = f
		}
	}
	if first.Account == "" {
		t.Fatalf("no finding for contosoresearch01 in %+v", fs)
	}
	// 5 occurrences of which one duplicate: 4 locations.
	if got := len(first.Locations); got != 4 {
		t.Errorf("merged finding has %d locations, want 4", got)
	}
	// The weaker, host-less occurrence does not lower severity or lose the host.
	if first.Severity != detect.Critical || first.Host == "" {
		t.Errorf("merged severity %v host %q; want critical with host", first.Severity, first.Host)
	}
	// Sorted by severity desc, then where first seen (repository, path,
	// line), then fingerprint.
	for i := 1; i < len(fs); i++ {
		a, b := fs[i-1], fs[i]
		if a.Severity < b.Severity {
			t.Errorf("findings %d and %d out of severity order: %v then %v", i-1, i, a.Severity, b.Severity)
		}
		if a.Severity == b.Severity && len(a.Locations) > 0 && len(b.Locations) > 0 && CompareLocations(a.Locations[0], b.Locations[0]) > 0 {
			t.Errorf("findings %d and %d out of location order: %+v then %+v", i-1, i, a.Locations[0], b.Locations[0])
		}
	}
}

// TestCollectorOrderIndependent: any order of Add calls gives the same findings.
func TestCollectorOrderIndependent(t *testing.T) {
	t.Parallel()
	occs := corpus()
	want := collect(occs, CollectorOptions{})
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		shuffled := append([]occurrence(nil), occs...)
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		if diff := cmp.Diff(want, collect(shuffled, CollectorOptions{})); diff != "" {
			t.Fatalf("shuffle %d differs (-want +got):\n%s", i, diff)
		}
	}
}

func TestCollectorDedupe(t *testing.T) {
	t.Parallel()
	m := corpus()[0].m
	for _, tc := range []struct {
		name string
		locs []Location
		want int
	}{
		{"same line twice", []Location{{Path: "a", Line: 1, Column: 1}, {Path: "a", Line: 1, Column: 9}}, 1},
		{"two lines", []Location{{Path: "a", Line: 1}, {Path: "a", Line: 2}}, 2},
		{"two paths", []Location{{Path: "a", Line: 1}, {Path: "b", Line: 1}}, 2},
		{"two commits", []Location{{Path: "a", Line: 1, Commit: "c1"}, {Path: "a", Line: 1, Commit: "c2"}}, 2},
		{"two repos", []Location{{Repo: "o/a", Path: "a", Line: 1}, {Repo: "o/b", Path: "a", Line: 1}}, 2},
		{"message vs file", []Location{{Path: "a", Line: 1, Commit: "c"}, {Path: "a", Line: 1, Commit: "c", Message: true}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := NewCollector(CollectorOptions{})
			for _, l := range tc.locs {
				c.Add(l, m)
			}
			fs := c.Findings()
			if len(fs) != 1 || len(fs[0].Locations) != tc.want {
				t.Errorf("got %d findings with %v locations, want 1 with %d", len(fs), fs[0].Locations, tc.want)
			}
		})
	}
}

func TestCollectorCap(t *testing.T) {
	t.Parallel()
	m := corpus()[0].m
	const n, max = 250, 10
	var locs []Location
	for i := range n {
		locs = append(locs, Location{Path: fmt.Sprintf("f%03d", i), Line: 1})
	}
	var prev []Location
	for round := range 3 {
		r := rand.New(rand.NewPCG(uint64(round), 7))
		r.Shuffle(len(locs), func(a, b int) { locs[a], locs[b] = locs[b], locs[a] })
		c := NewCollector(CollectorOptions{MaxLocations: max})
		for _, l := range locs {
			c.Add(l, m)
			c.Add(l, m) // duplicates are not counted as dropped
		}
		f := c.Findings()[0]
		if len(f.Locations) != max || f.LocationsTruncated != n-max {
			t.Fatalf("kept %d, truncated %d; want %d, %d", len(f.Locations), f.LocationsTruncated, max, n-max)
		}
		if f.Locations[0].Path != "f000" || f.Locations[max-1].Path != "f009" {
			t.Errorf("kept %s..%s, want the first %d in sorted order", f.Locations[0].Path, f.Locations[max-1].Path, max)
		}
		if prev != nil {
			if diff := cmp.Diff(prev, f.Locations); diff != "" {
				t.Errorf("cap not deterministic:\n%s", diff)
			}
		}
		prev = f.Locations
	}
	unlimited := NewCollector(CollectorOptions{MaxLocations: -1})
	for _, l := range locs {
		unlimited.Add(l, m)
	}
	if f := unlimited.Findings()[0]; len(f.Locations) != n || f.LocationsTruncated != 0 {
		t.Errorf("unlimited kept %d truncated %d", len(f.Locations), f.LocationsTruncated)
	}
}

func TestCollectorConcurrent(t *testing.T) {
	t.Parallel()
	occs := corpus()
	want := collect(occs, CollectorOptions{})
	c := NewCollector(CollectorOptions{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, o := range occs {
				c.Add(o.loc, o.m)
				_ = c.Len()
			}
		})
	}
	wg.Wait()
	if diff := cmp.Diff(want, c.Findings()); diff != "" {
		t.Errorf("concurrent adds differ (-want +got):\n%s", diff)
	}
}

func TestNewFinding(t *testing.T) {
	t.Parallel()
	occs := corpus()
	for _, tc := range []struct {
		name   string
		m      detect.Match
		reveal bool
	}{
		{"account", occs[0].m, false},
		{"account reveal", occs[0].m, true},
		{"bare reveal", occs[7].m, true},
		{"empty", detect.Match{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := NewFinding(tc.m, tc.reveal)
			if f.Services == nil || f.ResourceTypes == nil || f.Permissions == nil || f.Reasons == nil || f.Locations == nil {
				t.Errorf("nil slice in %+v", f)
			}
			if (f.Expiry == nil) != tc.m.Token.Expiry.IsZero() || (f.Start == nil) != tc.m.Token.Start.IsZero() {
				t.Errorf("start/expiry presence wrong: %v %v", f.Start, f.Expiry)
			}
			if f.Expiry != nil && f.Expiry.Location() != time.UTC {
				t.Errorf("expiry not UTC")
			}
			wantTok, wantURL := "", ""
			if tc.reveal {
				wantTok, wantURL = tc.m.Token.Query.Reveal(), tc.m.Token.URL.Reveal()
			}
			if f.Token != wantTok || f.URL != wantURL {
				t.Errorf("token/url = %q/%q, want %q/%q", f.Token, f.URL, wantTok, wantURL)
			}
			wantFP := detect.Fingerprint(tc.m.Token.Signature.Reveal())
			if f.Fingerprint != wantFP {
				t.Errorf("fingerprint %s, want %s", f.Fingerprint, wantFP)
			}
		})
	}
}

func TestLocationFor(t *testing.T) {
	t.Parallel()
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	hist := crawler.Origin{Repo: "o/r", Commit: "c0ffee", Path: "a/b.txt", Author: "A <a@example.invalid>", Time: when, AtTip: true}
	for _, tc := range []struct {
		name   string
		b      crawler.Blob
		m      detect.Match
		want   Location
		wantOK bool
	}{
		{"file", crawler.Blob{Origin: crawler.Origin{Path: "x.go"}}, detect.Match{Start: 5, Line: 3, Column: 2},
			Location{Path: "x.go", Line: 3, Column: 2}, true},
		{"chunk", crawler.Blob{Origin: crawler.Origin{Path: "big"}, Line: 100, Overlap: 10}, detect.Match{Start: 50, End: 60, Line: 2, Column: 7},
			Location{Path: "big", Line: 101, Column: 7}, true},
		{"in the tail: the next chunk reports it", crawler.Blob{Data: make([]byte, 100), Origin: crawler.Origin{Path: "big"}, Line: 100, Tail: 20}, detect.Match{Start: 85, End: 99, Line: 1, Column: 1},
			Location{}, false},
		{"chunk starting mid-line", crawler.Blob{Origin: crawler.Origin{Path: "min.js"}, Line: 1, Column: 4097, Overlap: 10}, detect.Match{Start: 50, End: 90, Line: 1, Column: 51},
			Location{Path: "min.js", Line: 1, Column: 4147}, true},
		{"chunk starting mid-line, match on a later line", crawler.Blob{Origin: crawler.Origin{Path: "min.js"}, Line: 1, Column: 4097, Overlap: 10}, detect.Match{Start: 50, End: 90, Line: 2, Column: 5},
			Location{Path: "min.js", Line: 2, Column: 5}, true},
		{"straddles overlap end", crawler.Blob{Origin: crawler.Origin{Path: "big"}, Line: 100, Overlap: 10}, detect.Match{Start: 9, End: 40, Line: 1, Column: 10},
			Location{Path: "big", Line: 100, Column: 10}, true},
		{"history", crawler.Blob{Origin: hist}, detect.Match{Line: 1, Column: 1},
			Location{Path: "a/b.txt", Line: 1, Column: 1, Repo: "o/r", Commit: "c0ffee", Author: "A <a@example.invalid>", Date: ptr(when.UTC()), AtTip: ptr(true)}, true},
		{"message", crawler.Blob{Origin: hist, Message: true}, detect.Match{Line: 2, Column: 1},
			Location{Path: "a/b.txt", Line: 2, Column: 1, Repo: "o/r", Commit: "c0ffee", Author: "A <a@example.invalid>", Date: ptr(when.UTC()), Message: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := LocationFor(tc.b, tc.m)
			if ok != tc.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestTruncatedRendering: the dropped-location count reaches every format.
func TestTruncatedRendering(t *testing.T) {
	t.Parallel()
	m := corpus()[0].m
	c := NewCollector(CollectorOptions{MaxLocations: 2})
	for i := range 4 {
		c.Add(Location{Path: "f", Line: i + 1, Column: 1}, m)
	}
	fs := c.Findings()
	for _, tc := range []struct{ format, want string }{
		{"jsonl", `"locations_truncated":2`},
		{"json", `"locations_truncated": 2`},
		{"text", "… and 2 more not kept"},
	} {
		if out := string(render(t, tc.format, Options{}, fs)); !strings.Contains(out, tc.want) {
			t.Errorf("%s output lacks %q:\n%s", tc.format, tc.want, out)
		}
	}
	// Without truncation the field is omitted.
	if out := string(render(t, "jsonl", Options{}, collect(corpus(), CollectorOptions{}))); strings.Contains(out, "locations_truncated") {
		t.Error("locations_truncated written when zero")
	}
}

func TestCollectorMaxFindings(t *testing.T) {
	t.Parallel()
	c := NewCollector(CollectorOptions{MaxFindings: 2})
	for i := range 5 {
		m := keyMatch("contosocap", i)
		c.Add(Location{Path: "a", Line: i + 1}, m)
		c.Add(Location{Path: "b", Line: i + 1}, m)
	}
	if c.Len() != 2 || c.Dropped() != 6 {
		t.Fatalf("Len %d Dropped %d, want 2 and 6 (3 tokens x 2 occurrences past the cap)", c.Len(), c.Dropped())
	}
	for _, f := range c.Findings() {
		if len(f.Locations) != 2 {
			t.Errorf("a kept token lost occurrences: %+v", f.Locations)
		}
	}
}

// TestCollectorScrubsPaths: a path named after a download URL carries the
// signature; without reveal it is masked, with reveal it is kept.
func TestCollectorScrubsPaths(t *testing.T) {
	t.Parallel()
	const sig = "U1lOVEhFVElDLVBBVEgtU0lHLTAwMDAwMDAwMDAwMDE"
	path := "downloads/model.ckpt?sv=2020-08-04&sr=b&sig=" + sig + "%3D"
	for _, reveal := range []bool{false, true} {
		c := NewCollector(CollectorOptions{Reveal: reveal})
		c.Add(Location{Path: path, Line: 1}, keyMatch("contosopath", 1))
		got := c.Findings()[0].Locations[0].Path
		if strings.Contains(got, sig) != reveal {
			t.Errorf("reveal=%v: path %q", reveal, got)
		}
	}
}

// TestSortFindingsPermutes: sorting in place by cycles gives the order a
// plain sort of the values gives, for every size and arrangement.
func TestSortFindingsPermutes(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	for n := range 60 {
		fs := make([]Finding, n)
		for i := range fs {
			fs[i] = Finding{Fingerprint: fmt.Sprintf("%04d", r.IntN(50)), Severity: detect.Severity(r.IntN(5)),
				Locations: []Location{{Path: fmt.Sprintf("p%d", r.IntN(7)), Line: r.IntN(9)}}}
		}
		want := slices.Clone(fs)
		slices.SortStableFunc(want, func(a, b Finding) int {
			if c := stdcmp.Compare(b.Severity, a.Severity); c != 0 {
				return c
			}
			if len(a.Locations) > 0 && len(b.Locations) > 0 {
				if c := CompareLocations(a.Locations[0], b.Locations[0]); c != 0 {
					return c
				}
			}
			return stdcmp.Compare(a.Fingerprint, b.Fingerprint)
		})
		got := slices.Clone(fs)
		SortFindings(got)
		key := func(f Finding) string {
			l := ""
			if len(f.Locations) > 0 {
				l = fmt.Sprint(f.Locations[0].Path, f.Locations[0].Line)
			}
			return fmt.Sprint(f.Severity, l, f.Fingerprint)
		}
		for i := range got {
			if key(got[i]) != key(want[i]) {
				t.Fatalf("n=%d: position %d is %s, want %s", n, i, key(got[i]), key(want[i]))
			}
		}
	}
}

// TestSeenBefore: an entry's occurrence keys are de-duplicated from the
// first on, the map made only at the second key; past the limit keys are
// no longer recorded (so no longer recognised).
func TestSeenBefore(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int
		keys  []uint64
		dups  []bool
	}{
		{"once", 0, []uint64{7}, []bool{false}},
		{"first repeated", 0, []uint64{7, 7, 7}, []bool{false, true, true}},
		{"second repeated", 0, []uint64{7, 8, 8, 7}, []bool{false, false, true, true}},
		{"limit", 2, []uint64{1, 2, 3, 3, 1}, []bool{false, false, false, false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e entry
			for i, k := range tc.keys {
				if got := e.seenBefore(k, tc.limit); got != tc.dups[i] {
					t.Errorf("key %d (#%d): seen before = %v, want %v", k, i, got, tc.dups[i])
				}
			}
			if len(tc.keys) == 1 && e.seen != nil {
				t.Errorf("a map for one key")
			}
		})
	}
}
