package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mattn/go-isatty"

	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/report"
)

// finish writes the findings at or above --min-severity to the chosen sink,
// prints the summary and records the outcome for the exit code.
func (c *common) finish(ctx context.Context, coll *report.Collector, st *stats, res *outcome, unit string) error {
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
		st.skip("findings-cap", 0)
		st.problem(fmt.Sprintf("%d occurrences of tokens past the cap of %d unique tokens were not kept", n, report.DefaultMaxFindings))
	}
	res.incomplete = res.incomplete || st.incomplete()
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

func (c *common) summary(st *stats, by map[detect.Severity]int, unique, locations int, unit string) {
	elapsed := since(c.started)
	bytes := st.bytes.Load()
	var b strings.Builder
	b.WriteString("scanned ")
	if n := st.repos.Load(); n > 0 {
		fmt.Fprintf(&b, "%d %s, ", n, plural(n, "repository", "repositories"))
	}
	fmt.Fprintf(&b, "%d %s, %s in %s", st.blobs.Load(), unit, humanBytes(bytes), elapsed)
	if s := elapsed.Seconds(); s > 0 {
		fmt.Fprintf(&b, " (%s/s)", humanBytes(int64(float64(bytes)/s)))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "findings: %d critical, %d high, %d medium, %d low, %d info (%d unique tokens, %d locations)\n",
		by[detect.Critical], by[detect.High], by[detect.Medium], by[detect.Low], by[detect.Info], unique, locations)
	fmt.Fprintf(&b, "rejected: %d placeholders or non-Azure signatures\n", st.rejected.Load())
	st.mu.Lock()
	reasons := sortedKeys(st.skips)
	parts := make([]string, 0, len(reasons))
	total := int64(0)
	for _, r := range reasons {
		parts = append(parts, fmt.Sprintf("%s %d", r, st.skips[r]))
		total += st.skips[r]
	}
	skippedBytes := st.skipped
	problems := append([]string(nil), st.problems...)
	st.mu.Unlock()
	if total == 0 {
		b.WriteString("skipped: none\n")
	} else {
		fmt.Fprintf(&b, "skipped: %d (%s)", total, strings.Join(parts, ", "))
		if skippedBytes > 0 {
			fmt.Fprintf(&b, ", %s not scanned", humanBytes(skippedBytes))
		}
		b.WriteString("\n")
		if st.incomplete() {
			b.WriteString("coverage: INCOMPLETE — something could not be scanned (exit 3 with --strict)\n")
		}
	}
	// Problems are shown even when nothing was skipped (a provenance
	// failure, an SSO-limited listing).
	for _, p := range problems {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	for _, line := range strings.SplitAfter(strings.TrimRight(b.String(), "\n"), "\n") {
		fmt.Fprintf(c.stderr, "sasquatch: %s", line)
	}
	fmt.Fprintln(c.stderr)
}

// problems prints only what went wrong (for --quiet): a quiet run must
// still say that a path was missing or a repository could not be read.
func (c *common) problems(st *stats) {
	st.mu.Lock()
	problems := append([]string(nil), st.problems...)
	st.mu.Unlock()
	for _, p := range problems {
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

// sortedKeys is a helper for deterministic summaries.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
