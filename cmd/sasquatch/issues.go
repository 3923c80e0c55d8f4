package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sasquatch-sec/sasquatch/crawler/github"
	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/filing"
	"github.com/sasquatch-sec/sasquatch/internal/store"
	"github.com/sasquatch-sec/sasquatch/report"
)

// filingClock and filingSleep pace issue writes; tests replace them with a
// fake clock (no real sleeps) before running a command.
var (
	filingClock = time.Now
	filingSleep func(ctx context.Context, d time.Duration) error
)

// issueFlags are the issue flags of design.md's CLI contract, shared by
// issues and sweep --file-issues.
type issueFlags struct {
	tracker  string
	severity string
	min      detect.Severity // resolved
}

func (f *issueFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.tracker, "tracker", "", "file the issues of public repositories (and of repositories without issues, or archived) in this private `OWNER/NAME`")
	fl.StringVar(&f.severity, "issue-severity", "medium", "file issues for findings at or above `LEVEL` (info, low, medium, high, critical)")
}

func (f *issueFlags) resolve() error {
	var err error
	if f.min, err = detect.ParseSeverity(f.severity); err != nil {
		return usagef("--issue-severity: %v", err)
	}
	if f.tracker != "" {
		if o, n, ok := strings.Cut(f.tracker, "/"); !ok || o == "" || n == "" || strings.Contains(n, "/") {
			return usagef("--tracker %q: want OWNER/NAME", f.tracker)
		}
	}
	return nil
}

// apiFlags are the GitHub connection flags of commands that only call the
// API (issues, report --upload-sarif).
type apiFlags struct{ gh githubFlags }

func (a *apiFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&a.gh.apiURL, "api-url", github.DefaultAPIURL, "the REST API root (GitHub Enterprise: https://HOST/api/v3/)")
	cmd.Flags().StringVar(&a.gh.tokenFile, "token-file", "", "read the GitHub token from `FILE` instead of GITHUB_TOKEN")
}

func (a *apiFlags) client(c *common) (*github.Client, error) {
	f := a.gh
	f.concurrency = 1
	return newGitHubClient(c, &gitFlags{}, &f)
}

func newIssuesCmd(streams func(*common), res *outcome) *cobra.Command {
	var (
		c     common
		sf    storeFlags
		inf   issueFlags
		api   apiFlags
		apply bool
	)
	cmd := &cobra.Command{
		Use:   "issues [flags]",
		Short: "File one GitHub issue per (repository, token) for the findings in the store (dry run unless --apply)",
		Long: strings.TrimSpace(`
File one GitHub issue per (repository, token) for the open findings in the
store (--db) at or above --issue-severity, labelled leaked-credential, with
what the token grants, where it is and how to revoke it, never the token.

Where: in the affected repository when it is private or internal. For a
public repository, in the --tracker repository (which must be private),
else as a private vulnerability report when the repository accepts them,
else nowhere: a public issue would advertise the token, so it is reported
as not filed. A repository with issues disabled, or archived, goes to the
tracker too. Later runs comment on the issue when the locations or the
liveness change, and never open a second one.

Without --apply, print what would be filed and write nothing. Filing is
crash-safe: an intent is recorded before each issue is created, and an issue
whose creation had an unknown outcome is looked for before trying again.`),
		Example: `  sasquatch issues --db ~/.local/state/sasquatch/sasquatch.db
  sasquatch issues --tracker contoso/security-findings --apply`,
		RunE: func(cmd *cobra.Command, args []string) error {
			streams(&c)
			if len(args) > 0 {
				return usagef("issues takes no arguments")
			}
			if err := inf.resolve(); err != nil {
				return err
			}
			c.started = time.Now()
			level := slog.LevelWarn
			if c.verbose {
				level = slog.LevelInfo
			}
			c.logger = slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: level, ReplaceAttr: scrubAttr}))
			client, err := api.client(&c)
			if err != nil {
				return err
			}
			st, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			return runFiling(cmd.Context(), &c, st, client, &inf, apply, res)
		},
	}
	sf.register(cmd)
	inf.register(cmd)
	api.register(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&apply, "apply", false, "file for real (without it: print what would be filed, write nothing)")
	fl.BoolVar(&c.strict, "strict", false, "exit 3 when some issue could not be filed")
	fl.BoolVarP(&c.verbose, "verbose", "v", false, "log progress")
	fl.BoolVarP(&c.quiet, "quiet", "q", false, "no summary on standard error")
	return cmd
}

// runFiling files (or plans) the issues, prints them and the summary, and
// marks the outcome incomplete when some could not be filed.
func runFiling(ctx context.Context, c *common, st *store.Store, client *github.Client, f *issueFlags, apply bool, res *outcome) error {
	r, err := filing.Run(ctx, filing.Config{
		Store: st, API: client, Tracker: f.tracker, MinSeverity: f.min, Apply: apply,
		Clock: filingClock, Sleep: filingSleep, Logger: c.logger,
	})
	if r != nil {
		printFiling(c.stdout, r, apply)
		if r.Incomplete() {
			res.incomplete = true
		}
		if !c.quiet || r.Incomplete() {
			filingSummary(c.stderr, r, apply)
		}
	}
	if err != nil {
		return fmt.Errorf("issues: %w", err)
	}
	return nil
}

// printFiling writes one block per (repository, token).
func printFiling(w io.Writer, r *filing.Result, apply bool) {
	var b bytes.Buffer
	for _, it := range r.Items {
		fmt.Fprintf(&b, "%s %s: %s\n", it.Outcome, report.SafeText(it.Repo), report.SafeText(it.Title))
		if it.Where != "" {
			fmt.Fprintf(&b, "    where: %s\n", report.SafeText(it.Where))
		}
		if it.Why != "" {
			fmt.Fprintf(&b, "    why: %s\n", report.SafeText(it.Why))
		}
		fmt.Fprintf(&b, "    fingerprint: %s (%s)\n", it.Fingerprint, it.Severity)
		if it.URL != "" {
			fmt.Fprintf(&b, "    issue: %s\n", report.SafeText(it.URL))
		}
		if it.Detail != "" {
			fmt.Fprintf(&b, "    note: %s\n", report.SafeText(it.Detail))
		}
	}
	if !apply && len(r.Items) > 0 {
		b.WriteString("dry run: nothing was written; run again with --apply to file\n")
	}
	_, _ = w.Write(b.Bytes())
}

// filingSummary is the issues part of the run summary (standard error).
func filingSummary(w io.Writer, r *filing.Result, apply bool) {
	var parts []string
	outcomes := []filing.Outcome{filing.Filed, filing.Adopted, filing.Commented, filing.Unchanged, filing.Pending, filing.Failed}
	if !apply {
		outcomes = []filing.Outcome{filing.WouldFile, filing.WouldComment, filing.WouldCheck, filing.Unchanged, filing.Failed}
	}
	for _, o := range outcomes {
		parts = append(parts, fmt.Sprintf("%d %s", r.Count(o), o))
	}
	fmt.Fprintf(w, "sasquatch: issues: %s\n", strings.Join(parts, ", "))
	for _, it := range r.Items {
		if it.Outcome == filing.Failed || it.Outcome == filing.Pending {
			fmt.Fprintf(w, "sasquatch:   %s %s (%s): %s\n", it.Outcome, report.SafeText(it.Repo), it.Fingerprint, report.SafeText(it.Detail))
		}
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "sasquatch:   %s\n", report.SafeText(p))
	}
	if r.Incomplete() {
		fmt.Fprintln(w, "sasquatch: coverage: INCOMPLETE — some findings could not be filed (exit 3 with --strict)")
	}
}

// sarifUpload is report's --upload-sarif.
type sarifUpload struct {
	repo, ref, commit string
	api               apiFlags
}

func (s *sarifUpload) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&s.repo, "upload-sarif", "", "also upload the findings in `OWNER/NAME` as SARIF to that repository's code scanning (needs the security_events scope)")
	fl.StringVar(&s.ref, "sarif-ref", "", "the `REF` of the SARIF upload (default: the repository's default branch)")
	fl.StringVar(&s.commit, "sarif-commit", "", "the commit `SHA` of the SARIF upload (default: the tip of --sarif-ref's branch)")
	s.api.register(cmd)
}

// run renders the findings located in s.repo as SARIF and uploads them.
func (s *sarifUpload) run(ctx context.Context, c *common, findings []report.Finding) error {
	if s.repo == "" {
		if s.ref != "" || s.commit != "" {
			return usagef("--sarif-ref and --sarif-commit go with --upload-sarif")
		}
		return nil
	}
	if o, n, ok := strings.Cut(s.repo, "/"); !ok || o == "" || n == "" || strings.Contains(n, "/") {
		return usagef("--upload-sarif %q: want OWNER/NAME", s.repo)
	}
	if c.reveal {
		return usagef("--upload-sarif does not go with --reveal: code scanning gets redacted findings only")
	}
	client, err := s.api.client(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	sink := report.NewSARIF(&buf, report.Options{Version: version})
	results := 0
	for _, f := range findings {
		if f.Severity < c.min {
			continue
		}
		var locs []report.Location
		for _, l := range f.Locations {
			if strings.EqualFold(l.Repo, s.repo) {
				locs = append(locs, l)
			}
		}
		if len(locs) == 0 {
			continue
		}
		f.Locations, f.Token, f.URL, f.LocationsTruncated = locs, "", "", 0
		results += len(locs)
		if err := sink.Write(ctx, f); err != nil {
			return err
		}
	}
	if err := sink.Close(); err != nil {
		return err
	}
	ref, commit := s.ref, s.commit
	if ref == "" || commit == "" {
		dref, dsha, err := client.Branch(ctx, s.repo)
		if err != nil {
			return fmt.Errorf("--upload-sarif: %w", err)
		}
		if ref == "" {
			ref = dref
		}
		if commit == "" {
			if ref != dref {
				return usagef("--sarif-ref %s without --sarif-commit: give the commit too", ref)
			}
			commit = dsha
		}
	}
	id, err := client.UploadSARIF(ctx, s.repo, github.SARIFUpload{SARIF: buf.Bytes(), Commit: commit, Ref: ref, ToolName: "sasquatch"})
	if err != nil {
		return fmt.Errorf("--upload-sarif: %w", err)
	}
	if !c.quiet {
		fmt.Fprintf(c.stderr, "sasquatch: uploaded SARIF (%d results) to the code scanning of %s at %s %s (upload %s)\n",
			results, s.repo, report.SafeText(ref), commit, report.SafeText(id))
	}
	return nil
}
