package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/pipeline"
	"github.com/sasquatch-sec/sasquatch/report"
)

// summaryOf says how to word a run's summary.
type summaryOf struct {
	unit      string // "files" or "blobs"
	excluded  int64  // left out by --include/--exclude
	exclUnit  string // what excluded counts ("files", "occurrences"); default unit
	nothing   bool   // nothing could be scanned: say only what went wrong
	warnEmpty bool   // warn when nothing was there to scan (exit 3 with --strict)
}

// finish writes the findings at or above --min-severity to the chosen sink,
// prints the summary and records the outcome for the exit code.
func (c *common) finish(ctx context.Context, coll *report.Collector, st *pipeline.Result, res *outcome, unit string) error {
	return c.finishWith(ctx, coll, st, res, summaryOf{unit: unit})
}

// counts is what the summary says about findings.
type counts struct {
	bySeverity map[detect.Severity]int
	unique     int
	locations  int
	belowMin   int // findings below --min-severity, not written
	known      int // findings listed in --baseline, not written
	empty      bool
}

func (c *common) finishWith(ctx context.Context, coll *report.Collector, st *pipeline.Result, res *outcome, sum summaryOf) error {
	all := coll.Findings()
	if c.verify.enabled() && !st.Interrupted {
		// Liveness first: it can change a finding's severity, and so what
		// is shown and the exit code.
		lc, err := c.verify.check(ctx, c, all)
		if err != nil {
			c.outAbort()
			return err
		}
		c.liveness = livenessLine(lc)
	}
	n := counts{bySeverity: map[detect.Severity]int{}}
	shown := all[:0] // filtered in place: all is not used after this
	for _, f := range all {
		if c.known[f.Fingerprint] {
			n.known++ // already known: hidden, and no reason to fail
			continue
		}
		n.unique++
		n.bySeverity[f.Severity]++
		n.locations += len(f.Locations)
		if f.Severity >= c.fail {
			res.failOnReached = true
		}
		if f.Severity < c.min {
			n.belowMin++
			continue
		}
		shown = append(shown, f)
	}
	if d := coll.Dropped(); d > 0 {
		st.AddDropped(d, report.DefaultMaxFindings)
	}
	res.incomplete = res.incomplete || st.LostContent()
	if sum.warnEmpty && st.Blobs == 0 && !st.LostContent() && !sum.nothing {
		// Nothing there to scan (an empty directory, everything excluded):
		// not an error, but never a silent clean run.
		n.empty = true
		res.incomplete = true
	}
	// The summary is printed whatever happens to the output below.
	defer func() {
		switch {
		case sum.nothing || c.quiet:
			c.problems(st)
		default:
			c.summary(st, n, sum)
		}
		if n.empty {
			fmt.Fprintf(c.stderr, "sasquatch: warning: nothing was scanned: no %s found (exit 3 with --strict)\n", sum.unit)
		}
	}()

	// Buffered: a sink writes a finding at a time, and thousands of small
	// writes would each be a system call.
	w := bufio.NewWriterSize(c.out, 64<<10)
	sink, err := report.New(c.format, w, report.Options{Color: c.colour(c.out), Now: c.clock, Version: versionString(), AllLocations: c.allLocs})
	if err != nil {
		c.outAbort()
		return err
	}
	if ss, ok := sink.(report.SummarySink); ok {
		ss.SetSummary(runSummary(st, n, len(shown), res.incomplete))
	}
	if err := report.WriteAll(ctx, sink, shown, c.workers); err != nil {
		c.outAbort()
		return fmt.Errorf("write findings: %w", err)
	}
	if err := sink.Close(); err != nil {
		c.outAbort()
		return fmt.Errorf("write findings: %w", err)
	}
	if err := w.Flush(); err != nil {
		c.outAbort()
		return fmt.Errorf("write findings: %w", err)
	}
	return c.outDone()
}

// colour is true only when findings go to a terminal and NO_COLOR is unset.
func (c *common) colour(w io.Writer) bool {
	if c.format != "text" || noColor() {
		return false
	}
	type fd interface{ Fd() uintptr }
	f, ok := w.(fd)
	return ok && isatty.IsTerminal(f.Fd())
}

func (c *common) summary(st *pipeline.Result, n counts, sum summaryOf) {
	elapsed := since(c.started)
	var b strings.Builder
	b.WriteString("scanned ")
	if r := st.Repos; r > 0 {
		fmt.Fprintf(&b, "%d %s, ", r, plural(r, "repository", "repositories"))
	}
	fmt.Fprintf(&b, "%d %s, %s in %s", st.Blobs, sum.unit, humanBytes(st.Bytes), elapsed)
	if s := elapsed.Seconds(); s > 0 {
		fmt.Fprintf(&b, " (%s/s)", humanBytes(int64(float64(st.Bytes)/s)))
	}
	b.WriteString("\n")
	by := n.bySeverity
	fmt.Fprintf(&b, "findings: %d critical, %d high, %d medium, %d low, %d info (%d unique tokens, %d locations)\n",
		by[detect.Critical], by[detect.High], by[detect.Medium], by[detect.Low], by[detect.Info], n.unique, n.locations)
	if c.liveness != "" {
		b.WriteString(c.liveness + "\n")
	}
	if n.belowMin > 0 {
		fmt.Fprintf(&b, "%d %s below %s not shown (--min-severity)\n", n.belowMin, plural(int64(n.belowMin), "finding", "findings"), c.min)
	}
	if n.known > 0 {
		fmt.Fprintf(&b, "baseline: %d known %s not shown (--baseline)\n", n.known, plural(int64(n.known), "finding", "findings"))
	}
	if st.Ignored > 0 {
		fmt.Fprintf(&b, "ignored: %d %s marked %s\n", st.Ignored, plural(st.Ignored, "occurrence", "occurrences"), ignoreMarker)
	}
	if sum.excluded > 0 {
		unit := sum.exclUnit
		if unit == "" {
			unit = sum.unit
		}
		fmt.Fprintf(&b, "excluded: %d %s (--include/--exclude)\n", sum.excluded, unit)
	}
	fmt.Fprintf(&b, "rejected: %d placeholders or non-Azure signatures", st.Rejected)
	if st.Rejected > 0 && !c.verbose {
		b.WriteString(" (--verbose says where)")
	}
	b.WriteString("\n")
	reasons := st.SkipReasons()
	parts := make([]string, 0, len(reasons))
	for _, r := range reasons {
		parts = append(parts, fmt.Sprintf("%s %d", r, st.Skips[r]))
	}
	if total := st.SkipTotal(); total == 0 {
		b.WriteString("skipped: none\n")
	} else {
		fmt.Fprintf(&b, "skipped: %d (%s)", total, strings.Join(parts, ", "))
		if st.SkippedBytes > 0 {
			fmt.Fprintf(&b, ", %s not scanned", humanBytes(st.SkippedBytes))
		}
		b.WriteString("\n")
	}
	if st.LostContent() {
		b.WriteString("coverage: INCOMPLETE — something could not be scanned (exit 3 with --strict)\n")
	}
	// Problems are shown even when nothing was skipped (a provenance
	// failure, an SSO-limited listing).
	for _, p := range st.Problems {
		fmt.Fprintf(&b, "  %s\n", dedupPrefixes(p))
	}
	for _, line := range strings.SplitAfter(strings.TrimRight(b.String(), "\n"), "\n") {
		fmt.Fprintf(c.stderr, "sasquatch: %s", line)
	}
	fmt.Fprintln(c.stderr)
}

// problems prints only what went wrong (for --quiet): a quiet run must
// still say that a path was missing or a repository could not be read.
func (c *common) problems(st *pipeline.Result) {
	for _, p := range st.Problems {
		fmt.Fprintf(c.stderr, "sasquatch: %s\n", dedupPrefixes(p))
	}
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

// runSummary is the machine-readable summary of JSONL and JSON output.
func runSummary(st *pipeline.Result, n counts, written int, incomplete bool) report.RunSummary {
	sum := report.RunSummary{
		Complete:     !incomplete && !st.Interrupted,
		Interrupted:  st.Interrupted || st.Skips[crawler.SkipInterrupted] > 0,
		Findings:     written,
		BySeverity:   map[string]int{},
		Locations:    n.locations,
		Repositories: st.Repos,
		Scanned:      st.Blobs,
		Bytes:        st.Bytes,
		Rejected:     st.Rejected,
		Skips:        map[string]int64{},
		SkippedBytes: st.SkippedBytes,
		Problems:     st.Problems,
	}
	for sev, k := range n.bySeverity {
		sum.BySeverity[sev.String()] = k
	}
	for r, k := range st.Skips {
		sum.Skips[string(r)] = k
	}
	return sum
}
