package pipeline

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/report"
)

var now = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

// token returns a synthetic blob SAS URL whose signature is unique to n.
func token(account string, n int) string {
	sig := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("SYNTHETIC-PIPELINE-SIG-%09d", n)))
	return "https://" + account + ".blob.core.windows.net/c/b.bin?sv=2022-11-02&sr=b&sp=r&se=2030-01-01T00:00:00Z&sig=" + url.QueryEscape(sig)
}

// fakeSource yields the given items; it can report coverage, provenance and tips.
type fakeSource struct {
	items    []any // crawler.Blob or error
	cov      *crawler.Coverage
	origins  map[string][]crawler.Origin
	tips     map[string]string
	onBlob   func() // called before each blob is yielded
	released atomic.Int64
}

func (f *fakeSource) Blobs(ctx context.Context) iter.Seq2[crawler.Blob, error] {
	return func(yield func(crawler.Blob, error) bool) {
		for _, it := range f.items {
			if ctx.Err() != nil {
				yield(crawler.Blob{}, ctx.Err())
				return
			}
			switch v := it.(type) {
			case crawler.Blob:
				if f.onBlob != nil {
					f.onBlob()
				}
				v.Release = func() { f.released.Add(1) }
				if !yield(v, nil) {
					return
				}
			case error:
				if !yield(crawler.Blob{}, v) {
					return
				}
			}
		}
	}
}

// historySource adds the optional capabilities to fakeSource.
type historySource struct{ *fakeSource }

func (h historySource) Coverage() crawler.Coverage { return *h.cov }
func (h historySource) Tips() map[string]string    { return h.tips }
func (h historySource) Provenance(_ context.Context, ids []string) (map[string][]crawler.Origin, error) {
	out := map[string][]crawler.Origin{}
	for _, id := range ids {
		if o, ok := h.origins[id]; ok {
			out[id] = o
		}
	}
	return out, nil
}

func blob(path, content string) crawler.Blob {
	return crawler.Blob{Data: []byte(content), Origin: crawler.Origin{Path: path}, Line: 1}
}

func newCollector() *report.Collector { return report.NewCollector(report.CollectorOptions{}) }

// TestScanCountsEachSkipOnce: a skip is counted from what the source yields,
// exactly once, even when the source's coverage also says it was incomplete.
func TestScanCountsEachSkipOnce(t *testing.T) {
	src := historySource{&fakeSource{
		items: []any{
			blob("a.txt", "x = '"+token("contosopipe01", 1)+"'\n"),
			&crawler.Skip{Origin: crawler.Origin{Path: "big.bin"}, Reason: crawler.SkipTooLarge, Size: 270177},
			blob("b.txt", "nothing here\n"),
			&crawler.Skip{Origin: crawler.Origin{Path: "link"}, Reason: crawler.SkipSymlink},
			errors.New("read c.txt: input/output error"),
		},
		cov:  &crawler.Coverage{Complete: false},
		tips: map[string]string{"refs/heads/main": strings.Repeat("a", 40)},
	}}
	p := New(Config{Workers: 2, Now: now})
	defer p.Close()
	coll := newCollector()
	res, err := p.Scan(context.Background(), Source{Source: src, Name: "contoso/web"}, coll)
	if err != nil {
		t.Fatal(err)
	}
	want := map[crawler.SkipReason]int64{crawler.SkipTooLarge: 1, crawler.SkipSymlink: 1, crawler.SkipError: 1}
	if d := cmp.Diff(want, res.Skips); d != "" {
		t.Errorf("skips (-want +got):\n%s", d)
	}
	if res.SkippedBytes != 270177 || res.Blobs != 2 || res.SkipTotal() != 3 {
		t.Errorf("skipped bytes %d, blobs %d, skips %d; want 270177, 2, 3", res.SkippedBytes, res.Blobs, res.SkipTotal())
	}
	if !res.LostContent() || res.Tips != nil {
		t.Errorf("an incomplete scan must lose content and save no tips: %+v", res)
	}
	if got := src.released.Load(); got != 2 {
		t.Errorf("released %d blobs, want 2", got)
	}
	if n := coll.Len(); n != 1 {
		t.Errorf("%d findings, want 1", n)
	}
}

// TestScanTipsOnlyWhenComplete: tips come back only from a complete scan.
func TestScanTipsOnlyWhenComplete(t *testing.T) {
	tips := map[string]string{"refs/heads/main": strings.Repeat("b", 40)}
	src := historySource{&fakeSource{items: []any{blob("a.txt", "clean\n")}, cov: &crawler.Coverage{Complete: true}, tips: tips}}
	p := New(Config{Workers: 1})
	defer p.Close()
	res, err := p.Scan(context.Background(), Source{Source: src}, newCollector())
	if err != nil || res.LostContent() {
		t.Fatalf("res %+v err %v", res, err)
	}
	if d := cmp.Diff(tips, res.Tips); d != "" {
		t.Errorf("tips (-want +got):\n%s", d)
	}
}

// TestProvenance: a history hit is stored once per origin of its blob; a
// blob whose provenance is unknown keeps its object ID; a message hit is
// stored as found.
func TestProvenance(t *testing.T) {
	c1, c2 := strings.Repeat("1", 40), strings.Repeat("2", 40)
	when := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	src := historySource{&fakeSource{
		items: []any{
			crawler.Blob{ID: "blobA", Data: []byte("\n  " + token("contosoprov01", 2) + "\n"), Line: 1, Origin: crawler.Origin{Repo: "contoso/web"}},
			crawler.Blob{ID: "blobB", Data: []byte(token("contosoprov02", 3)), Line: 1, Origin: crawler.Origin{Repo: "contoso/web"}},
			crawler.Blob{ID: c2, Data: []byte("fix: " + token("contosoprov03", 4)), Line: 1, Message: true,
				Origin: crawler.Origin{Repo: "contoso/web", Commit: c2, Author: "A <a@example.com>", Time: when}},
		},
		cov: &crawler.Coverage{Complete: true},
		origins: map[string][]crawler.Origin{"blobA": {
			{Repo: "contoso/web", Path: "deploy/a.sh", Commit: c1, Author: "A <a@example.com>", Time: when, AtTip: true},
			{Repo: "contoso/web", Path: "old/a.sh", Commit: c2, Author: "A <a@example.com>", Time: when},
		}},
	}}
	p := New(Config{Workers: 2, Now: now})
	defer p.Close()
	coll := newCollector()
	if _, err := p.Scan(context.Background(), Source{Source: src, Name: "contoso/web"}, coll); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, f := range coll.Findings() {
		for _, l := range f.Locations {
			tip := "-"
			if l.AtTip != nil {
				tip = fmt.Sprint(*l.AtTip)
			}
			got[f.Account] = append(got[f.Account], fmt.Sprintf("%s:%d:%d %s %s tip=%s msg=%v blob=%s", l.Path, l.Line, l.Column, l.Repo, short(l.Commit), tip, l.Message, l.Blob))
		}
	}
	want := map[string][]string{
		"contosoprov01": {"deploy/a.sh:2:3 contoso/web 1111111 tip=true msg=false blob=", "old/a.sh:2:3 contoso/web 2222222 tip=false msg=false blob="},
		"contosoprov02": {":1:1 contoso/web  tip=- msg=false blob=blobB"},
		"contosoprov03": {":1:6 contoso/web 2222222 tip=- msg=true blob="},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("locations (-want +got):\n%s", d)
	}
}

// startingSource is a history source that can start its provenance early.
type startingSource struct {
	historySource
	started atomic.Int64
	ctxOK   atomic.Bool
}

func (s *startingSource) StartProvenance(ctx context.Context) {
	s.started.Add(1)
	s.ctxOK.Store(ctx.Err() == nil)
}

// TestStartProvenance: a source that can start provenance early is told
// exactly once, at its first blob hit, from the scan's context; never when
// nothing in a blob matched (a message hit needs no provenance).
func TestStartProvenance(t *testing.T) {
	c1 := strings.Repeat("1", 40)
	hits := func(n int) []any {
		var items []any
		for i := range n {
			items = append(items, crawler.Blob{ID: fmt.Sprintf("blob%d", i), Data: []byte(token("contosostart01", i)), Line: 1})
		}
		return items
	}
	for name, tc := range map[string]struct {
		items []any
		want  int64
	}{
		"many hits": {hits(20), 1},
		"no hit":    {[]any{blob("a.txt", "clean\n"), crawler.Blob{ID: "blobC", Data: []byte("clean"), Line: 1}}, 0},
		"message hit only": {[]any{crawler.Blob{ID: c1, Data: []byte(token("contosostart02", 1)), Line: 1, Message: true,
			Origin: crawler.Origin{Commit: c1}}}, 0},
	} {
		t.Run(name, func(t *testing.T) {
			src := &startingSource{historySource: historySource{&fakeSource{items: tc.items, cov: &crawler.Coverage{Complete: true}}}}
			p := New(Config{Workers: 4, Now: now})
			defer p.Close()
			if _, err := p.Scan(context.Background(), Source{Source: src, Name: "contoso/web"}, newCollector()); err != nil {
				t.Fatal(err)
			}
			if got := src.started.Load(); got != tc.want {
				t.Errorf("StartProvenance called %d times, want %d", got, tc.want)
			}
			if tc.want > 0 && !src.ctxOK.Load() {
				t.Errorf("StartProvenance got a finished context")
			}
		})
	}
}

func short(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}

// TestMaxBlobsPerToken: one token in many history blobs keeps a bounded
// number for provenance and counts the rest.
func TestMaxBlobsPerToken(t *testing.T) {
	var items []any
	for i := range 7 {
		items = append(items, crawler.Blob{ID: fmt.Sprintf("blob%d", i), Data: []byte(token("contosocap01", 5)), Line: 1})
	}
	src := historySource{&fakeSource{items: items, cov: &crawler.Coverage{Complete: true}}}
	p := New(Config{Workers: 2, Now: now, MaxBlobsPerToken: 3})
	defer p.Close()
	coll := newCollector()
	if _, err := p.Scan(context.Background(), Source{Source: src, Name: "r"}, coll); err != nil {
		t.Fatal(err)
	}
	fs := coll.Findings()
	if len(fs) != 1 || len(fs[0].Locations) != 3 || fs[0].LocationsTruncated != 4 {
		t.Fatalf("findings %d, locations %d, truncated %d; want 1, 3, 4", len(fs), len(fs[0].Locations), fs[0].LocationsTruncated)
	}
}

// TestInterruptedKeepsFindings: cancelling mid-source still stores what the
// blobs already read contained, and says the scan was interrupted.
func TestInterruptedKeepsFindings(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	src := &fakeSource{onBlob: func() {
		n++
		if n == 3 {
			cancel()
		}
	}}
	for i := range 5 {
		src.items = append(src.items, blob(fmt.Sprintf("f%d", i), token("contosoint01", 10+i)))
	}
	p := New(Config{Workers: 2, Now: now})
	defer p.Close()
	coll := newCollector()
	res, err := p.Scan(ctx, Source{Source: src}, coll)
	if !errors.Is(err, context.Canceled) || !res.Interrupted || !res.LostContent() {
		t.Fatalf("err %v, interrupted %v", err, res.Interrupted)
	}
	if got := coll.Len(); got < 2 || got > 3 {
		t.Errorf("%d findings, want the 2 or 3 blobs read before the cancel", got)
	}
}

// TestRunAllSharesOnePool is issue 7's "never more than --workers detector
// goroutines": 20 repositories, 8 in flight, 2 workers. The goroutines that
// run detections are counted from the live stacks while every source is
// being read, and the pool's own peak of concurrent detections is checked.
func TestRunAllSharesOnePool(t *testing.T) {
	const workers, repos, inFlight = 2, 20, 8
	p := New(Config{Workers: workers, Now: now})
	defer p.Close()
	var (
		mu       sync.Mutex
		maxSeen  int
		results  []JobResult
		inside   atomic.Int64
		maxInFly int64
	)
	sample := func() {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		got := bytes.Count(buf[:n], []byte("pipeline.(*Pipeline).worker("))
		mu.Lock()
		maxSeen = max(maxSeen, got)
		mu.Unlock()
	}
	jobs := func(yield func(Job) bool) {
		for r := range repos {
			src := &fakeSource{onBlob: sample}
			for i := range 30 {
				src.items = append(src.items, blob(fmt.Sprintf("f%d", i), strings.Repeat("filler ", 2000)+token("contosopool01", r*100+i)))
			}
			j := Job{
				Name: fmt.Sprintf("contoso/r%02d", r),
				Open: func(context.Context) (Source, error) {
					n := inside.Add(1)
					mu.Lock()
					maxInFly = max(maxInFly, n)
					mu.Unlock()
					return Source{Source: closer{src, &inside}}, nil
				},
				Done: func(jr JobResult) { results = append(results, jr) },
			}
			if !yield(j) {
				return
			}
		}
	}
	coll := newCollector()
	if err := p.RunAll(context.Background(), jobs, inFlight, coll); err != nil {
		t.Fatal(err)
	}
	if maxSeen != workers {
		t.Errorf("saw %d detector goroutines at most, want exactly %d", maxSeen, workers)
	}
	if peak := p.PeakDetections(); peak < 1 || peak > workers {
		t.Errorf("peak concurrent detections %d, want 1..%d", peak, workers)
	}
	if maxInFly < 2 || maxInFly > inFlight {
		t.Errorf("repositories in flight at once: %d, want 2..%d", maxInFly, inFlight)
	}
	if len(results) != repos || coll.Len() != repos*30 {
		t.Errorf("%d results and %d findings, want %d and %d", len(results), coll.Len(), repos, repos*30)
	}
}

// TestGateSharedWithReaders: a source that reads inside the pipeline's gate
// (as the directory source does) and the detectors together never run more
// than Workers at once, and a scan with one worker still finds everything.
func TestGateSharedWithReaders(t *testing.T) {
	for _, workers := range []int{1, 2} {
		p := New(Config{Workers: workers, Now: now})
		var over atomic.Int64
		src := &fakeSource{onBlob: func() {
			// a "read": inside the gate, no detection may exceed the rest
			p.Gate().Enter()
			if p.inFlight.Load()+1 > int64(workers) {
				over.Add(1)
			}
			p.Gate().Leave()
		}}
		for i := range 200 {
			src.items = append(src.items, blob(fmt.Sprintf("f%d", i), strings.Repeat("filler ", 500)+token("contosogate01", i)))
		}
		coll := newCollector()
		if _, err := p.Scan(t.Context(), Source{Source: src}, coll); err != nil {
			t.Fatal(err)
		}
		p.Close()
		if n := over.Load(); n > 0 {
			t.Errorf("%d workers: %d reads ran beside %d detections", workers, n, workers)
		}
		if coll.Len() != 200 {
			t.Errorf("%d workers: %d findings, want 200", workers, coll.Len())
		}
	}
}

// closer makes a source an io.Closer that tracks how many are open.
type closer struct {
	*fakeSource
	open *atomic.Int64
}

func (c closer) Close() error { c.open.Add(-1); return nil }

// TestRunAllTimeout: a job that runs out of time is a timeout skip, not an
// interruption of the run.
func TestRunAllTimeout(t *testing.T) {
	p := New(Config{Workers: 1, Now: now})
	defer p.Close()
	block := &blockingSource{}
	var got JobResult
	jobs := func(yield func(Job) bool) {
		yield(Job{Name: "slow", Timeout: 50 * time.Millisecond,
			Open: func(context.Context) (Source, error) { return Source{Source: block}, nil },
			Done: func(jr JobResult) { got = jr }})
	}
	if err := p.RunAll(context.Background(), jobs, 1, newCollector()); err != nil {
		t.Fatal(err)
	}
	if !got.TimedOut || got.Result.Interrupted || got.Result.Skips[crawler.SkipTimeout] != 1 || !got.Result.LostContent() {
		t.Errorf("result %+v", got)
	}
}

// blockingSource yields nothing until its context ends.
type blockingSource struct{}

func (blockingSource) Blobs(ctx context.Context) iter.Seq2[crawler.Blob, error] {
	return func(yield func(crawler.Blob, error) bool) {
		<-ctx.Done()
		yield(crawler.Blob{}, ctx.Err())
	}
}

// TestResultMerge: totals add up and problems stay bounded.
func TestResultMerge(t *testing.T) {
	var total Result
	for i := range 30 {
		var r Result
		r.Blobs, r.Bytes = 1, 10
		r.AddSkip(crawler.SkipTooLarge, 1, 5)
		r.AddProblem(fmt.Sprintf("problem %d sig=SECRETSECRET", i))
		total.Merge(r)
	}
	if total.Blobs != 30 || total.Bytes != 300 || total.Skips[crawler.SkipTooLarge] != 30 || total.SkippedBytes != 150 {
		t.Errorf("totals %+v", total)
	}
	if len(total.Problems) != maxProblems+1 {
		t.Errorf("%d problems kept, want %d", len(total.Problems), maxProblems+1)
	}
	for _, p := range total.Problems {
		if strings.Contains(p, "SECRETSECRET") {
			t.Errorf("problem not scrubbed: %q", p)
		}
	}
}

var _ Store = (*report.Collector)(nil)
var _ = detect.Info

// TestIgnoreMarker: an occurrence whose line holds Config.IgnoreMarker is
// not stored but counted; the same token on another line still is.
func TestIgnoreMarker(t *testing.T) {
	t.Parallel()
	tok := token("contosoignore01", 1)
	data := "a = \"" + tok + "\" # sasquatch:ignore\nb = \"" + tok + "\"\n// sasquatch:ignore\nc = \"" + tok + "\"\n"
	src := &fakeSource{items: []any{crawler.Blob{Data: []byte(data), Origin: crawler.Origin{Path: "f.py"}, Line: 1}}}
	p := New(Config{Workers: 2, Now: now, IgnoreMarker: "sasquatch:ignore"})
	defer p.Close()
	coll := report.NewCollector(report.CollectorOptions{})
	res, err := p.Scan(context.Background(), Source{Source: src}, coll)
	if err != nil {
		t.Fatal(err)
	}
	fs := coll.Findings()
	if res.Ignored != 1 || len(fs) != 1 || len(fs[0].Locations) != 2 {
		t.Fatalf("ignored %d, findings %+v; want 1 ignored and lines 2 and 4 kept", res.Ignored, fs)
	}
	if l := fs[0].Locations; l[0].Line != 2 || l[1].Line != 4 {
		t.Errorf("kept lines %d and %d, want 2 and 4", l[0].Line, l[1].Line)
	}
	var total Result
	total.Merge(res)
	if total.Ignored != 1 {
		t.Errorf("Merge lost Ignored: %d", total.Ignored)
	}
}

func TestLineAround(t *testing.T) {
	t.Parallel()
	data := []byte("one\ntwo three\nfour")
	for _, tc := range []struct {
		start, end int
		want       string
	}{
		{0, 3, "one"}, {4, 7, "two three"}, {8, 15, "two three\nfour"}, {15, 18, "four"}, {0, 0, "one"},
	} {
		if got := string(lineAround(data, tc.start, tc.end)); got != tc.want {
			t.Errorf("lineAround(%d, %d) = %q, want %q", tc.start, tc.end, got, tc.want)
		}
	}
}
