package main

import (
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

// finish writes the findings at or above --min-severity to the chosen sink,
// prints the summary and records the outcome for the exit code.
func (c *common) finish(ctx context.Context, coll *report.Collector, st *pipeline.Result, res *outcome, unit string) error {
	all := coll.Findings()
	bySeverity := map[detect.Severity]int{}
	locations := 0
	for _, f := range all {
		bySeverity[f.Severity]++
		locations += len(f.Locations)
		if f.Severity >= c.fail {
			res.failOnReached = true
		}
	}
	if n := coll.Dropped(); n > 0 {
		st.AddSkip(crawler.SkipFindingsCap, 1, 0)
		st.AddProblem(fmt.Sprintf("%d occurrences of tokens past the cap of %d unique tokens were not kept", n, report.DefaultMaxFindings))
	}
	res.incomplete = res.incomplete || st.LostContent()
	// The summary is printed whatever happens to the output below.
	defer func() {
		if !c.quiet {
			c.summary(st, bySeverity, len(all), locations, unit)
		} else {
			c.problems(st)
		}
	}()

	w, done := c.out, c.outDone
	sink, err := report.New(c.format, w, report.Options{Color: c.colour(w)})
	if err != nil {
		c.outAbort()
		return err
	}
	for _, f := range all {
		if f.Severity < c.min {
			continue
		}
		if err := sink.Write(ctx, f); err != nil {
			c.outAbort()
			return fmt.Errorf("write findings: %w", err)
		}
	}
	if err := sink.Close(); err != nil {
		c.outAbort()
		return fmt.Errorf("write findings: %w", err)
	}
	if err := done(); err != nil {
		return fmt.Errorf("write %s: %w", c.output, err)
	}
	return nil
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

func (c *common) summary(st *pipeline.Result, by map[detect.Severity]int, unique, locations int, unit string) {
	elapsed := since(c.started)
	var b strings.Builder
	b.WriteString("scanned ")
	if n := st.Repos; n > 0 {
		fmt.Fprintf(&b, "%d %s, ", n, plural(n, "repository", "repositories"))
	}
	fmt.Fprintf(&b, "%d %s, %s in %s", st.Blobs, unit, humanBytes(st.Bytes), elapsed)
	if s := elapsed.Seconds(); s > 0 {
		fmt.Fprintf(&b, " (%s/s)", humanBytes(int64(float64(st.Bytes)/s)))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "findings: %d critical, %d high, %d medium, %d low, %d info (%d unique tokens, %d locations)\n",
		by[detect.Critical], by[detect.High], by[detect.Medium], by[detect.Low], by[detect.Info], unique, locations)
	fmt.Fprintf(&b, "rejected: %d placeholders or non-Azure signatures\n", st.Rejected)
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
		fmt.Fprintf(&b, "  %s\n", p)
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
		fmt.Fprintf(c.stderr, "sasquatch: %s\n", p)
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
