package pipeline

import (
	"bytes"
	"context"
	"errors"
	"io"
	"iter"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/report"
)

// Store receives findings. The in-memory [report.Collector] is one; the
// durable store of sweeps takes a Collector's findings per repository in
// one transaction. Implementations must be safe for concurrent use.
type Store interface {
	// Add records one occurrence of m at loc.
	Add(loc report.Location, m detect.Match)
	// Truncated counts n occurrences of m's token that were not kept
	// because of a retention cap: reported, never silently lost.
	Truncated(m detect.Match, n int)
}

// Config configures a [Pipeline]. The zero value is valid.
type Config struct {
	// Workers is the number of detector goroutines shared by every scan
	// (default runtime.GOMAXPROCS(0)).
	Workers int
	// Now is the detector's clock for lifetimes and expiry; zero means the
	// current time at each detection.
	Now time.Time
	// Logger receives skips and errors at Info and Warn (default: discard).
	Logger *slog.Logger
	// MaxBlobsPerToken bounds, per scan, how many occurrences of the same
	// token in history blobs are kept for provenance; the rest are counted
	// with Store.Truncated. It bounds memory on a repository where one token
	// sits on 500,000 lines. Default report.DefaultMaxLocations.
	MaxBlobsPerToken int
	// ProvenanceGrace is how long provenance may still run after the
	// context ended, so that findings keep their commits (default 30 s).
	ProvenanceGrace time.Duration
	// IgnoreMarker, when set, suppresses every occurrence whose line (from
	// the line where the match starts to the line where it ends) contains
	// it, such as "sasquatch:ignore" in a comment. Suppressed occurrences
	// are not stored; Result.Ignored counts them. In history the marker is
	// read from the blob, so it suppresses the occurrence at every path and
	// commit that holds that content.
	IgnoreMarker string
}

// Pipeline is a pool of detector goroutines. It is safe for concurrent use:
// any number of Scan calls share the pool. Close it when done.
type Pipeline struct {
	det      *detect.Detector
	workers  int
	maxBlobs int
	grace    time.Duration
	ignore   []byte
	log      *slog.Logger
	tasks    chan task
	gate     *crawler.Gate
	wg       sync.WaitGroup
	closing  sync.Once

	// inFlight and peak count concurrent detections (tests assert the pool
	// bound with them).
	inFlight, peak atomic.Int64
}

// task is one blob on its way to a detector, with the scan it belongs to.
type task struct {
	blob crawler.Blob
	scan *scanState
}

// New starts the pool.
func New(cfg Config) *Pipeline {
	p := &Pipeline{
		det:      detect.New(detect.Config{Now: cfg.Now}),
		workers:  cfg.Workers,
		maxBlobs: cfg.MaxBlobsPerToken,
		grace:    cfg.ProvenanceGrace,
		log:      cfg.Logger,
	}
	if cfg.IgnoreMarker != "" {
		p.ignore = []byte(cfg.IgnoreMarker)
	}
	if p.workers <= 0 {
		p.workers = runtime.GOMAXPROCS(0)
	}
	if p.maxBlobs <= 0 {
		p.maxBlobs = report.DefaultMaxLocations
	}
	if p.grace <= 0 {
		p.grace = 30 * time.Second
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	// A short queue: enough to keep every detector busy while a source
	// reads the next blob, not so long that memory grows with it.
	p.gate = crawler.NewGate(p.workers)
	p.tasks = make(chan task, p.workers)
	for range p.workers {
		p.wg.Go(p.worker)
	}
	return p
}

// Workers returns the number of detector goroutines.
func (p *Pipeline) Workers() int { return p.workers }

// Gate returns the gate every detection enters. A source that reads with
// it ([crawler.DirConfig.Gate]) shares the Workers places with the
// detectors: reading and detecting together never use more than Workers
// goroutines at once, so Workers is the number of CPUs a scan uses.
func (p *Pipeline) Gate() *crawler.Gate { return p.gate }

// PeakDetections returns the largest number of detections that ran at once
// since New (never more than Workers).
func (p *Pipeline) PeakDetections() int64 { return p.peak.Load() }

// Close stops the pool after the scans in progress have handed over their
// blobs. It is idempotent; no Scan may start after it.
func (p *Pipeline) Close() {
	p.closing.Do(func() {
		close(p.tasks)
		p.wg.Wait()
	})
}

func (p *Pipeline) worker() {
	for t := range p.tasks {
		p.detect(t)
	}
}

// Source is one thing to scan: a crawler source plus how to name and
// complete its locations.
type Source struct {
	crawler.Source
	// Name names the source in problems and in locations whose provenance
	// is unknown (a repository's OWNER/NAME or path; "" for files).
	Name string
	// Decorate, when set, completes each location before it is stored
	// (GitHub permalinks). It must be safe for concurrent use.
	Decorate func(*report.Location)
}

// scanState is one Scan's share of the pool: its counters and the hits that
// wait for provenance. Workers update it concurrently.
type scanState struct {
	src   Source
	store Store
	prov  crawler.Provenancer // nil unless the source has history
	wg    sync.WaitGroup      // blobs handed to the pool and not yet done

	// The scan's context and the source's early start of provenance, made
	// once, at the first hit that waits for provenance.
	ctx         context.Context
	startProv   crawler.ProvenanceStarter
	provStarted sync.Once

	blobs, bytes, rejected, ignored atomic.Int64

	mu       sync.Mutex
	res      Result                   // skips and problems found by workers
	byBlob   map[string][]hit         // blob ID -> hits waiting for provenance
	perToken map[string]int           // fingerprint -> occurrences kept in byBlob
	variants map[string]*detect.Match // one copy of each distinct reading of a token
	dropped  map[string]*drops        // fingerprint -> occurrences not kept
}

// hit is one occurrence waiting for provenance: where in the blob, and a
// pointer to the token's reading, shared by every occurrence that reads the
// same (a token in 100,000 places holds one Match, not 100,000).
type hit struct {
	loc report.Location
	m   *detect.Match
}

type drops struct {
	m detect.Match
	n int
}

// Scan runs src through the pool into store and returns what it covered.
// The error is non-nil only when ctx ended before the source did
// (Result.Interrupted is then set, and what was found is still stored).
func (p *Pipeline) Scan(ctx context.Context, src Source, store Store) (Result, error) {
	s := &scanState{src: src, store: store, byBlob: map[string][]hit{}, perToken: map[string]int{},
		variants: map[string]*detect.Match{}, dropped: map[string]*drops{}, ctx: ctx}
	s.prov, _ = src.Source.(crawler.Provenancer)
	s.startProv, _ = src.Source.(crawler.ProvenanceStarter)

	p.feed(ctx, s)
	s.wg.Wait() // every blob read has been examined: no hit is lost

	res := s.res
	res.Blobs, res.Bytes, res.Rejected, res.Ignored = s.blobs.Load(), s.bytes.Load(), s.rejected.Load(), s.ignored.Load()
	p.resolveProvenance(ctx, s, &res)
	for _, d := range s.dropped {
		store.Truncated(d.m, d.n)
	}
	if cr, ok := src.Source.(crawler.CoverageReporter); ok {
		cov := cr.Coverage()
		for _, msg := range cov.Problems {
			res.AddProblem(prefix(src.Name, msg))
		}
		if !cov.Complete && !res.LostContent() {
			// Incomplete, yet no skip says why: never report it as clean.
			res.Incomplete = true
			if len(cov.Problems) == 0 {
				res.AddProblem(prefix(src.Name, "coverage incomplete"))
			}
		}
	}
	if err := ctx.Err(); err != nil {
		res.Interrupted = true
		return res, err
	}
	if t, ok := src.Source.(crawler.Tipper); ok && !res.LostContent() {
		res.Tips = t.Tips()
	}
	return res, nil
}

// feed ranges the source (its only consumer) and hands each blob to the
// pool. It returns when the source ends or ctx does.
func (p *Pipeline) feed(ctx context.Context, s *scanState) {
	for b, err := range s.src.Blobs(ctx) {
		if err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return
			}
			p.itemError(s, err)
			continue
		}
		s.wg.Add(1)
		select {
		case p.tasks <- task{blob: b, scan: s}:
		case <-ctx.Done():
			s.wg.Done()
			if b.Release != nil {
				b.Release()
			}
			return
		}
	}
}

// itemError counts a per-item error from a source: a *crawler.Skip by its
// reason, anything else as an error.
func (p *Pipeline) itemError(s *scanState, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sk, ok := errors.AsType[*crawler.Skip](err); ok {
		s.res.AddSkip(sk.Reason, 1, sk.Size)
		if sk.Reason.LosesContent() {
			p.log.Info("skipped", "path", report.Scrub(sk.Origin.Path), "repo", s.src.Name, "reason", string(sk.Reason), "err", sk.Err)
		}
		if sk.Reason == crawler.SkipNotFound || sk.Reason == crawler.SkipUnreadable || sk.Reason == crawler.SkipEnumeration {
			s.res.AddProblem(prefix(s.src.Name, sk.Error()))
		}
		return
	}
	s.res.AddSkip(crawler.SkipError, 1, 0)
	s.res.AddProblem(prefix(s.src.Name, err.Error()))
	p.log.Warn("scan error", "repo", s.src.Name, "err", err)
}

// detect runs on a pool goroutine.
func (p *Pipeline) detect(t task) {
	s, b := t.scan, t.blob
	defer s.wg.Done()
	p.gate.Enter()
	n := p.inFlight.Add(1)
	for {
		old := p.peak.Load()
		if n <= old || p.peak.CompareAndSwap(old, n) {
			break
		}
	}
	res := p.det.Detect(b.Data)
	p.inFlight.Add(-1)
	p.gate.Leave()

	if b.Overlap == 0 {
		s.blobs.Add(1)
	}
	s.bytes.Add(int64(len(b.Data) - b.Overlap))
	s.rejected.Add(int64(res.Rejected))
	if res.Rejected > 0 {
		// Under --verbose, say where candidates were rejected, so that a
		// user can tell a real miss from a correct rejection.
		p.log.Info("rejected candidates (placeholders or not Azure)", "repo", s.src.Name, "path", report.Scrub(b.Origin.Path), "blob", b.ID, "count", res.Rejected)
		for _, r := range res.Rejections {
			// Masked by the detector; scrubbed again, as everything logged is.
			p.log.Info("rejected", "path", report.Scrub(b.Origin.Path), "reason", r.Reason, "candidate", report.Scrub(r.Redacted))
		}
	}
	if res.Truncated {
		s.mu.Lock()
		s.res.AddSkip(crawler.SkipDetectorLimit, 1, 0)
		s.res.AddProblem(prefix(s.src.Name, "detector limit reached in "+b.Origin.Path+": the rest of it was not examined"))
		s.mu.Unlock()
	}
	for _, m := range res.Matches {
		loc, ok := report.LocationFor(b, m)
		if !ok {
			continue // another chunk of the same file reports it
		}
		if p.ignore != nil && bytes.Contains(lineAround(b.Data, m.Start, m.End), p.ignore) {
			s.ignored.Add(1)
			continue
		}
		if s.prov != nil && b.ID != "" && b.Origin.Commit == "" && !b.Message {
			s.wait(b.ID, loc, m, p.maxBlobs)
			s.startProvenance()
			continue
		}
		s.add(loc, m)
	}
	if b.Release != nil {
		// Matches and locations hold copies, never slices of Data: the
		// buffer can go back to the source.
		b.Release()
	}
}

// lineAround returns the lines of data that hold data[start:end].
func lineAround(data []byte, start, end int) []byte {
	start = min(max(start, 0), len(data))
	end = min(max(end, start), len(data))
	from := bytes.LastIndexByte(data[:start], '\n') + 1
	to := len(data)
	if i := bytes.IndexByte(data[end:], '\n'); i >= 0 {
		to = end + i
	}
	return data[from:to]
}

// add stores one occurrence.
func (s *scanState) add(loc report.Location, m detect.Match) {
	if s.src.Decorate != nil {
		s.src.Decorate(&loc)
	}
	s.store.Add(loc, m)
}

// wait keeps an occurrence until provenance names its commits and paths,
// at most max occurrences per token; the rest are counted as truncated.
func (s *scanState) wait(blobID string, loc report.Location, m detect.Match, max int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fp := m.Fingerprint
	if s.perToken[fp] >= max {
		d := s.dropped[fp]
		if d == nil {
			d = &drops{m: m}
			s.dropped[fp] = d
		}
		d.n++
		return
	}
	s.perToken[fp]++
	key := fp + "\x00" + m.Token.Account + "\x00" + m.Token.Host + "\x00" + m.Token.Redacted + "\x00" + m.Severity.String()
	shared := s.variants[key]
	if shared == nil {
		shared = &m
		s.variants[key] = shared
	}
	s.byBlob[blobID] = append(s.byBlob[blobID], hit{loc: loc, m: shared})
}

// startProvenance lets a source that can start its provenance early do so,
// once: a scan with no finding never starts it.
func (s *scanState) startProvenance() {
	if s.startProv == nil {
		return
	}
	s.provStarted.Do(func() { s.startProv.StartProvenance(s.ctx) })
}

// resolveProvenance asks the source for the origins of the matched blobs
// and stores one location per occurrence and origin. Findings whose
// provenance cannot be had are still stored, with their blob ID.
func (p *Pipeline) resolveProvenance(ctx context.Context, s *scanState, res *Result) {
	if len(s.byBlob) == 0 {
		return
	}
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range s.byBlob {
			if !yield(id) {
				return
			}
		}
	})
	pctx := ctx
	if ctx.Err() != nil {
		// Interrupted or timed out: findings made so far keep their commits
		// if provenance can be had quickly.
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), p.grace)
		defer cancel()
	}
	prov, err := s.prov.Provenance(pctx, ids)
	if err != nil {
		res.AddProblem(prefix(s.src.Name, "provenance: "+err.Error()))
		p.log.Warn("provenance incomplete", "repo", s.src.Name, "err", err)
	}
	for _, id := range ids {
		origins := prov[id]
		for _, h := range s.byBlob[id] {
			if len(origins) == 0 {
				loc := h.loc
				loc.Blob = id // no commit or path: say which object it is
				if loc.Repo == "" {
					loc.Repo = s.src.Name
				}
				s.add(loc, *h.m)
				continue
			}
			for _, o := range origins {
				s.add(withOrigin(h.loc, o), *h.m)
			}
		}
	}
}

// withOrigin moves a location found in a blob to one place the blob was
// introduced at (provenance): its path, repository and commit.
func withOrigin(loc report.Location, o crawler.Origin) report.Location {
	loc.Path, loc.Repo = o.Path, o.Repo
	if o.Commit != "" {
		loc.Commit, loc.Author = o.Commit, o.Author
		if !o.Time.IsZero() {
			t := o.Time.UTC()
			loc.Date = &t
		}
		atTip := o.AtTip
		loc.AtTip = &atTip
	}
	return loc
}

func prefix(name, msg string) string {
	if name == "" {
		return msg
	}
	return name + ": " + msg
}

// Job is one unit of a run with many sources (a GitHub sweep): how to open
// it, how long it may take, and what to do with its result.
type Job struct {
	// Name names the job in problems (OWNER/NAME).
	Name string
	// Timeout bounds Open plus Scan (0: none). A job that runs out of time
	// is counted as a timeout skip, and the run goes on.
	Timeout time.Duration
	// Open returns the source. An error is recorded in JobResult.Err and
	// the run goes on. A source that is an io.Closer is closed after the
	// scan.
	Open func(ctx context.Context) (Source, error)
	// Done receives the job's result. Calls are serialized (never two at
	// once) so Done needs no locking of its own; it must return quickly.
	Done func(JobResult)
}

// JobResult is what one job produced.
type JobResult struct {
	Name     string
	Result   Result
	OpenErr  error // Open failed; Result is empty
	TimedOut bool  // the job's Timeout ended it (a timeout skip is counted)
}

// RunAll runs jobs with up to concurrency of them in flight, all sharing the
// one detector pool, into store. It returns when every started job is done;
// the error is ctx.Err() when ctx ended first (the jobs not started are not
// reported).
func (p *Pipeline) RunAll(ctx context.Context, jobs iter.Seq[Job], concurrency int, store Store) error {
	if concurrency <= 0 {
		concurrency = 1
	}
	var (
		wg   sync.WaitGroup
		done sync.Mutex
		slot = make(chan struct{}, concurrency)
	)
	for j := range jobs {
		select {
		case slot <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-slot }()
			r := p.runJob(ctx, j, store)
			if j.Done != nil {
				done.Lock()
				defer done.Unlock()
				j.Done(r)
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

func (p *Pipeline) runJob(ctx context.Context, j Job, store Store) JobResult {
	jctx, cancel := ctx, context.CancelFunc(func() {})
	if j.Timeout > 0 {
		jctx, cancel = context.WithTimeout(ctx, j.Timeout)
	}
	defer cancel()
	timedOut := func() bool { return ctx.Err() == nil && jctx.Err() != nil }

	r := JobResult{Name: j.Name}
	src, err := j.Open(jctx)
	if err != nil {
		if timedOut() {
			r.TimedOut = true
			r.Result.AddSkip(crawler.SkipTimeout, 1, 0)
		}
		r.OpenErr = err
		return r
	}
	if c, ok := src.Source.(io.Closer); ok {
		defer c.Close()
	}
	r.Result, _ = p.Scan(jctx, src, store)
	r.Result.Repos = 1
	if timedOut() {
		r.TimedOut = true
		r.Result.Interrupted = false
		r.Result.Incomplete = true
		r.Result.AddSkip(crawler.SkipTimeout, 1, 0)
		r.Result.AddProblem(prefix(j.Name, "per-repository timeout reached: the rest was not scanned"))
	}
	return r
}
