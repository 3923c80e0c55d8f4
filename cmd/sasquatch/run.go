package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/pipeline"
	"github.com/sasquatch-sec/sasquatch/report"
)

// Exit codes (design.md, "CLI contract").
const (
	exitClean      = 0
	exitFindings   = 1
	exitError      = 2
	exitIncomplete = 3
)

// usageError marks an error caused by how sasquatch was called: exit code 2
// and a hint to read --help.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// outcome is what a finished command reports to run, which alone turns it
// into an exit code.
type outcome struct {
	failOnReached bool // a finding reached --fail-on
	incomplete    bool // something could not be scanned
}

// common holds the flags every scanning command shares (design.md "common flags").
type common struct {
	format      string
	output      string
	reveal      bool
	now         string
	minSeverity string
	failOn      string
	strict      bool
	workers     int
	verbose     bool
	quiet       bool

	// resolved by resolve()
	clock   time.Time
	min     detect.Severity
	fail    detect.Severity
	logger  *slog.Logger
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	started time.Time

	// out is where findings go, opened by resolve before any scanning so
	// that a bad --output fails at once instead of after a long sweep;
	// outDone commits it (rename into place), outAbort removes a temporary file.
	out      io.Writer
	outDone  func() error
	outAbort func()
}

func (c *common) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.format, "format", "text", "output format: text, jsonl, json")
	f.StringVarP(&c.output, "output", "o", "", "write findings to `FILE` instead of standard output")
	f.BoolVar(&c.reveal, "reveal", false, "include the tokens themselves (token, url) in the output: handle the output as a secret")
	f.StringVar(&c.now, "now", "", "evaluate expiry against this `RFC3339` time instead of the current time")
	f.StringVar(&c.minSeverity, "min-severity", "info", "print only findings at or above `LEVEL` (info, low, medium, high, critical)")
	f.StringVar(&c.failOn, "fail-on", "low", "exit 1 when a finding reaches `LEVEL`")
	f.BoolVar(&c.strict, "strict", false, "exit 3 when anything could not be scanned (coverage incomplete)")
	f.IntVar(&c.workers, "workers", 0, "detector goroutines (default: the number of CPUs)")
	f.BoolVarP(&c.verbose, "verbose", "v", false, "log progress and every skip")
	f.BoolVarP(&c.quiet, "quiet", "q", false, "no summary on standard error")
}

func (c *common) resolve() error {
	c.started = time.Now()
	switch c.format {
	case "text", "jsonl", "json":
	case "sarif", "markdown":
		return usagef("--format %s is not available yet (text, jsonl, json)", c.format)
	default:
		return usagef("unknown --format %q (want text, jsonl or json)", c.format)
	}
	var err error
	if c.min, err = detect.ParseSeverity(c.minSeverity); err != nil {
		return usagef("--min-severity: %v", err)
	}
	if c.fail, err = detect.ParseSeverity(c.failOn); err != nil {
		return usagef("--fail-on: %v", err)
	}
	if c.now != "" {
		if c.clock, err = time.Parse(time.RFC3339, c.now); err != nil {
			return usagef("--now: want an RFC3339 time such as 2026-09-01T00:00:00Z, got %q", c.now)
		}
	}
	if c.workers < 0 {
		return usagef("--workers must be positive")
	}
	if c.out, c.outDone, c.outAbort, err = c.openOutput(); err != nil {
		return usagef("%v", err)
	}
	level := slog.LevelWarn
	if c.verbose {
		level = slog.LevelInfo
	}
	c.logger = slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: level, ReplaceAttr: scrubAttr}))
	return nil
}

// pipeline returns the detector pool of this run; close it when done.
func (c *common) pipeline() *pipeline.Pipeline {
	return pipeline.New(pipeline.Config{Workers: c.workers, Now: c.clock, Logger: c.logger})
}

// collector returns the in-memory findings store of a one-off run.
func (c *common) collector() *report.Collector {
	return report.NewCollector(report.CollectorOptions{Reveal: c.reveal})
}

// run parses args, runs one command and returns the exit code. It is the whole
// program but for signal handling and os.Exit, so tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var res outcome
	root := newRoot(ctx, stdin, stdout, stderr, &res)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "sasquatch: %s\nRun 'sasquatch --help' for usage.\n", report.Scrub(err.Error()))
		return exitError
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		fmt.Fprintln(stderr, "sasquatch: interrupted; the findings made so far were written")
		return exitError
	case err != nil:
		fmt.Fprintf(stderr, "sasquatch: %s\n", report.Scrub(err.Error()))
		return exitError
	}
	return res.code(root.strict)
}

func (o outcome) code(strict bool) int {
	switch {
	case o.failOnReached:
		return exitFindings
	case strict && o.incomplete:
		return exitIncomplete
	}
	return exitClean
}

// rootCmd carries what run needs back from the executed subcommand.
type rootCmd struct {
	*cobra.Command
	strict bool
}

func newRoot(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, res *outcome) *rootCmd {
	r := &rootCmd{Command: &cobra.Command{
		Use:   "sasquatch",
		Short: "Find leaked Azure Storage SAS tokens and account keys, and say how dangerous each one is",
		Long: strings.TrimSpace(`
sasquatch finds Azure Storage shared access signatures (account, service and
user-delegation SAS) and account keys in files, in the full history of git
repositories and across GitHub organisations, classifies each one (critical,
high, medium, low, info) and reports it without printing the secret.`),
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}}
	r.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	streams := func(c *common) {
		c.stdin, c.stdout, c.stderr = stdin, stdout, stderr
	}
	r.AddCommand(newScanCmd(streams, res, &r.strict))
	r.AddCommand(newGitCmd(streams, res, &r.strict))
	r.AddCommand(newGitHubCmd(streams, res, &r.strict))
	r.AddCommand(newSweepCmd(streams, res, &r.strict))
	r.AddCommand(newWorkerCmd(streams, res, &r.strict))
	r.AddCommand(newReportCmd(streams, res, &r.strict))
	r.AddCommand(newTriageCmd(streams))
	r.AddCommand(newIssuesCmd(streams, res, &r.strict))
	return r
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// openOutput returns where findings go: standard output, or a file written
// through a temporary name and renamed at close so that a reader never sees a
// half-written report.
func (c *common) openOutput() (io.Writer, func() error, func(), error) {
	nop := func() {}
	if c.output == "" || c.output == "-" {
		return c.stdout, func() error { return nil }, nop, nil
	}
	if fi, err := os.Stat(c.output); err == nil && !fi.Mode().IsRegular() {
		// A device, pipe or terminal (/dev/null, /dev/stdout, a FIFO): write
		// to it directly. Renaming over it would replace the device.
		f, err := os.OpenFile(c.output, os.O_WRONLY, 0)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--output: %w", err)
		}
		return f, f.Close, func() { f.Close() }, nil
	}
	f, err := os.CreateTemp(filepath.Dir(c.output), ".sasquatch-*.tmp")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--output %s: %w", c.output, err)
	}
	if c.reveal {
		// A revealed report holds live credentials.
		_ = f.Chmod(0o600)
	} else {
		_ = f.Chmod(0o644)
	}
	done := func() error {
		if err := f.Sync(); err != nil {
			f.Close()
			os.Remove(f.Name())
			return err
		}
		if err := f.Close(); err != nil {
			os.Remove(f.Name())
			return err
		}
		return os.Rename(f.Name(), c.output)
	}
	abort := func() {
		f.Close()
		os.Remove(f.Name())
	}
	return f, done, abort, nil
}
