package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
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
	verify      verifyFlags // --verify, --verify-endpoint (scan, git, github, sweep)
	liveness    string      // the summary's liveness line, when tokens were checked
	format      string
	output      string
	reveal      bool
	now         string
	minSeverity string
	failOn      string
	strict      bool
	workers     int
	verbose     bool // the root's --verbose (-v), set by streams
	logFormat   string
	quiet       bool
	baseline    string
	allLocs     bool
	progress    string

	// resolved by resolve()
	clock   time.Time
	min     detect.Severity
	fail    detect.Severity
	known   map[string]bool // fingerprints of --baseline
	logger  *slog.Logger
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	errw    io.Writer // stderr, writes serialized (log lines and progress)
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
	f.StringVar(&c.format, "format", "text", "output format: text, jsonl, json, sarif, markdown")
	f.StringVarP(&c.output, "output", "o", "", "write findings to `FILE` instead of standard output")
	f.BoolVar(&c.reveal, "reveal", false, "include the tokens themselves (token, url) in the output: handle the output as a secret")
	f.StringVar(&c.now, "now", "", "evaluate expiry against this `RFC3339` time instead of the current time")
	f.StringVar(&c.minSeverity, "min-severity", "info", "print only findings at or above `LEVEL` (info, low, medium, high, critical)")
	f.StringVar(&c.failOn, "fail-on", "low", "exit 1 when a finding reaches `LEVEL`; never (or none): report only, exit 0 whatever is found")
	f.BoolVar(&c.strict, "strict", false, "exit 3 when anything could not be scanned (coverage incomplete)")
	f.IntVar(&c.workers, "workers", 0, "CPUs a run uses to read files, detect and render the report (default: all; git's own processes not counted)")
	f.BoolVarP(&c.quiet, "quiet", "q", false, "no summary or progress on standard error (problems are still printed)")
	f.StringVar(&c.baseline, "baseline", "", "hide (and count) the findings listed in `FILE`: the JSONL or JSON output of an earlier run, or fingerprints one a line")
	f.BoolVar(&c.allLocs, "all-locations", false, "text format: list every location of a finding (default: the first 10)")
	f.StringVar(&c.progress, "progress", "auto", "progress line on standard error: auto (only on a terminal, not with --quiet), always or never")
}

func (c *common) resolve() error {
	c.started = time.Now()
	switch c.format {
	case "text", "jsonl", "json", "sarif", "markdown":
	default:
		return usagef("unknown --format %q (want text, jsonl, json, sarif or markdown)", c.format)
	}
	var err error
	if c.min, err = detect.ParseSeverity(c.minSeverity); err != nil {
		return usagef("--min-severity: %v", err)
	}
	switch strings.ToLower(c.failOn) {
	case "never", "none":
		c.fail = failNever
	default:
		if c.fail, err = detect.ParseSeverity(c.failOn); err != nil {
			return usagef("--fail-on: %v (or never)", err)
		}
	}
	switch c.progress {
	case "auto", "always", "never":
	default:
		return usagef("--progress %q: want auto, always or never", c.progress)
	}
	if c.baseline != "" {
		if c.known, err = readBaseline(c.baseline); err != nil {
			return usagef("--baseline: %v", err)
		}
	}
	if c.now != "" {
		if c.clock, err = time.Parse(time.RFC3339, c.now); err != nil {
			return usagef("--now: want an RFC3339 time such as 2026-09-01T00:00:00Z, got %q", c.now)
		}
	}
	if c.workers < 0 {
		return usagef("--workers must be positive")
	}
	limitProcs(c.workers)
	c.errw = &lockedWriter{w: c.stderr}
	if c.logger, err = newLogger(c.errw, c.verbose, c.logFormat); err != nil {
		return err
	}
	// Not a usage error: the command line was right, the file system said no.
	if c.out, c.outDone, c.outAbort, err = c.openOutput(); err != nil {
		return err
	}
	return nil
}

// limitProcs bounds the CPUs the Go runtime runs goroutines on to
// --workers. The real process sets it (mainCode); tests that call run share
// one process and leave it alone.
var limitProcs = func(workers int) {}

// bindProcs is limitProcs in the real process: --workers N below the number
// of CPUs makes it the runtime's GOMAXPROCS, so that a run uses N CPUs for
// everything (reading, detection, the report, the garbage collector), and
// the hand-offs between the goroutines that read and those that detect
// stay on those CPUs instead of waking threads elsewhere.
func bindProcs(workers int) {
	if workers > 0 && workers < runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(workers)
	}
}

// failNever is the --fail-on level no finding reaches (never, none).
const failNever = detect.Critical + 1

// pipeline returns the detector pool of this run; close it when done.
func (c *common) pipeline() *pipeline.Pipeline {
	return pipeline.New(pipeline.Config{Workers: c.workers, Now: c.clock, Logger: c.logger, IgnoreMarker: ignoreMarker})
}

// ignoreMarker on the line of an occurrence suppresses it (counted).
const ignoreMarker = "sasquatch:ignore"

// collector returns the in-memory findings store of a one-off run.
func (c *common) collector() *report.Collector {
	return report.NewCollector(report.CollectorOptions{Reveal: c.reveal, Workers: c.workers})
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
		fmt.Fprintf(stderr, "sasquatch: %s\nRun 'sasquatch --help' for usage.\n", message(err))
		return exitError
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		fmt.Fprintln(stderr, "sasquatch: interrupted; the findings made so far were written")
		return exitError
	case err != nil:
		fmt.Fprintf(stderr, "sasquatch: %s\n", message(err))
		return exitError
	}
	return res.code(root.strict)
}

// message is err as one safe line: secrets masked, control characters
// quoted, and a prefix repeated by nested wrapping ("github: github: ")
// said once.
func message(err error) string {
	return report.SafeText(dedupPrefixes(report.Scrub(err.Error())))
}

// dedupPrefixes removes a ": "-separated segment that repeats the one
// before it ("github: github: x" -> "github: x").
func dedupPrefixes(s string) string {
	parts := strings.Split(s, ": ")
	out := parts[:1]
	for _, p := range parts[1:] {
		if p == out[len(out)-1] {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ": ")
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
	strict    bool
	verbose   bool
	logFormat string
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
		Version:       versionString(),
	}}
	r.SetVersionTemplate("sasquatch {{.Version}}\n")
	r.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	pf := r.PersistentFlags()
	pf.BoolVarP(&r.verbose, "verbose", "v", false, "log progress, every skip and where candidates were rejected (structured slog lines)")
	pf.StringVar(&r.logFormat, "log-format", "text", "log lines as text or json (one JSON object a line, for machines; warnings only unless --verbose)")
	// streams gives a subcommand, at the start of its run (flags parsed),
	// the root's streams and flags, and takes back its --strict for the
	// exit code.
	streams := func(c *common) {
		c.stdin, c.stdout, c.stderr = stdin, stdout, stderr
		c.verbose, c.logFormat = r.verbose, r.logFormat
		r.strict = c.strict
	}
	r.AddCommand(newScanCmd(streams, res))
	r.AddCommand(newGitCmd(streams, res))
	r.AddCommand(newGitHubCmd(streams, res))
	r.AddCommand(newSweepCmd(streams, res))
	r.AddCommand(newWorkerCmd(streams, res))
	r.AddCommand(newReportCmd(streams, res))
	r.AddCommand(newTriageCmd(streams))
	r.AddCommand(newVerifyCmd(streams, res))
	r.AddCommand(newVersionCmd(stdout))
	r.AddCommand(newIssuesCmd(streams, res))
	return r
}

// openOutput returns where findings go: standard output, or a file written
// through a temporary name and renamed at close so that a reader never sees a
// half-written report. Errors name --output as given, never the temporary
// file. The file is created 0600 when it holds revealed tokens, else 0666
// less the umask.
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
			return nil, nil, nil, c.outputErr(err)
		}
		return f, f.Close, func() { f.Close() }, nil
	}
	perm := os.FileMode(0o666)
	if c.reveal {
		perm = 0o600 // a revealed report holds live credentials
	}
	f, err := createTemp(filepath.Dir(c.output), perm)
	if err != nil {
		return nil, nil, nil, c.outputErr(err)
	}
	done := func() error {
		if err := f.Sync(); err != nil {
			f.Close()
			os.Remove(f.Name())
			return c.outputErr(err)
		}
		if err := f.Close(); err != nil {
			os.Remove(f.Name())
			return c.outputErr(err)
		}
		defer temps.remove(f.Name())
		if err := os.Rename(f.Name(), c.output); err != nil {
			os.Remove(f.Name())
			return c.outputErr(err)
		}
		return nil
	}
	abort := func() {
		f.Close()
		os.Remove(f.Name())
		temps.remove(f.Name())
	}
	return f, done, abort, nil
}

// outputErr says what went wrong with --output without the name of the
// temporary file (an *os.PathError or *os.LinkError names it).
func (c *common) outputErr(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("--output %s: %w", c.output, err)
}

// createTemp creates a new file ".sasquatch-PID-*.tmp" in dir with perm,
// which the umask reduces (os.CreateTemp would always make it 0600). The
// file is registered, so that a second signal removes it before the
// process ends (a revealed report holds live tokens), and the PID lets a
// later run remove what a killed one left behind.
func createTemp(dir string, perm os.FileMode) (*os.File, error) {
	removeStaleTemps(dir)
	prefix := ".sasquatch-" + strconv.Itoa(os.Getpid()) + "-"
	for range 100 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err == nil {
			temps.add(name)
		}
		return f, err
	}
	return nil, errors.New("could not create a temporary file")
}
