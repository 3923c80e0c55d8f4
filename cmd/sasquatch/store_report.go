package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sasquatch-sec/sasquatch/internal/store"
	"github.com/sasquatch-sec/sasquatch/pipeline"
	"github.com/sasquatch-sec/sasquatch/verify"
)

func newReportCmd(streams func(*common), res *outcome) *cobra.Command {
	var (
		c   common
		sf  storeFlags
		all bool
		up  sarifUpload // --upload-sarif (issues.go)
	)
	cmd := &cobra.Command{
		Use:   "report [flags]",
		Short: "Render the open findings kept in the store (--db) in any format",
		Long: strings.TrimSpace(`
Render the findings kept in the store by sweeps: every open finding, of every
severity by default, with the same fields and locations as a direct scan. A
token removed from the tip stays open: it is still in history. Findings
triaged as ignored ('sasquatch triage ignore') are left out and counted;
--all includes them.`),
		Example: `  sasquatch report --format markdown -o findings.md
  sasquatch report --db postgres://sasquatch@db/sasquatch --format sarif -o findings.sarif`,
		RunE: func(cmd *cobra.Command, args []string) error {
			streams(&c)
			if len(args) > 0 {
				return usagef("report takes no arguments")
			}
			if err := c.resolve(); err != nil {
				return err
			}
			defer c.outAbort()
			return runReport(cmd.Context(), &c, &sf, all, &up, res)
		},
	}
	c.register(cmd)
	sf.register(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "include findings triaged as ignored")
	up.register(cmd)
	return cmd
}

func runReport(ctx context.Context, c *common, sf *storeFlags, all bool, up *sarifUpload, res *outcome) error {
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	filter := store.Filter{IncludeTriaged: all, Reveal: c.reveal}
	findings, err := st.Findings(ctx, filter)
	if err != nil {
		return err
	}
	for i := range findings {
		// A liveness check recorded by verify or sweep --verify adjusts the
		// severity the scan gave (sas-spec §7.5).
		if l := findings[i].Liveness; l != "" {
			applyLiveness(&findings[i], verify.Result{Liveness: verify.Liveness(l)})
		}
	}
	if err := up.run(ctx, c, findings); err != nil { // --upload-sarif (issues.go)
		return err
	}
	var total pipeline.Result
	if !all {
		if n, err := st.Triaged(ctx, filter); err == nil && n > 0 {
			total.AddProblem(fmt.Sprintf("%d findings triaged as ignored not shown (--all shows them)", n))
		}
	}
	return c.finish(ctx, storedFindings(findings, c.reveal), &total, res, "blobs")
}

func newTriageCmd(streams func(*common)) *cobra.Command {
	var (
		c      common
		sf     storeFlags
		reason string
	)
	cmd := &cobra.Command{
		Use:   "triage (ignore|open) FINGERPRINT... --reason TEXT",
		Short: "Accept a finding (ignore: kept out of reports, counted) or reopen it",
		Example: `  sasquatch triage ignore 3f9c0c7d2b1e4a6f8e0d1c2b3a4f5e6d --reason "emulator key in a test fixture"
  sasquatch triage open 3f9c0c7d2b1e4a6f8e0d1c2b3a4f5e6d`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			streams(&c)
			var state store.TriageState
			switch args[0] {
			case "ignore":
				state = store.TriageIgnored
				if strings.TrimSpace(reason) == "" {
					return usagef("triage ignore needs --reason (say why the finding is accepted)")
				}
			case "open":
				state = store.TriageOpen
			default:
				return usagef("triage %q: want ignore or open", args[0])
			}
			ctx := cmd.Context()
			st, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			for _, fp := range args[1:] {
				if len(fp) != 32 || strings.Trim(fp, "0123456789abcdef") != "" {
					return usagef("%q is not a fingerprint (32 hex digits, from the report)", fp)
				}
				if err := st.SetTriage(ctx, fp, state, reason, "cli"); err != nil {
					return err
				}
				fmt.Fprintf(c.stderr, "sasquatch: triage: %s is now %s\n", fp, state)
			}
			return nil
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept with the finding)")
	return cmd
}
