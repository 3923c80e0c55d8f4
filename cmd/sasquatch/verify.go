package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sasquatch-sec/sasquatch/internal/store"
	"github.com/sasquatch-sec/sasquatch/pipeline"
	"github.com/sasquatch-sec/sasquatch/report"
	"github.com/sasquatch-sec/sasquatch/verify"
)

// verifyFlags are --verify and --verify-endpoint.
type verifyFlags struct {
	on       bool
	endpoint string
}

func (v *verifyFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&v.on, "verify", false, "ask Azure whether each token still works: one read-only metadata request per token, to its own storage account only (see README, Liveness checks)")
	cmd.Flags().StringVar(&v.endpoint, "verify-endpoint", "", "send every liveness probe to this base `URL` instead, which names the account (the emulator: http://127.0.0.1:10000/devstoreaccount1; a private endpoint)")
}

// enabled reports whether liveness checks were asked for.
func (v *verifyFlags) enabled() bool { return v.on || v.endpoint != "" }

// check verifies every finding once (by fingerprint), sets its liveness and
// adjusts its severity (sas-spec §7.5). It returns the count per liveness.
func (v *verifyFlags) check(ctx context.Context, c *common, fs []report.Finding) (map[verify.Liveness]int, error) {
	ver, err := verify.New(verify.Config{Endpoint: v.endpoint, Now: c.nowFunc(), Logger: c.logger})
	if err != nil {
		return nil, usagef("--verify-endpoint: %v", err)
	}
	items := make([]verify.Item, len(fs))
	for i, f := range fs {
		items[i] = verify.Item{Token: f.Credential, Expired: f.Expired}
	}
	counts := map[verify.Liveness]int{}
	for i, r := range ver.CheckAll(ctx, items, 8) {
		applyLiveness(&fs[i], r)
		counts[r.Liveness]++
	}
	return counts, nil
}

// applyLiveness records a liveness result on a finding and adjusts its
// severity and reasons.
func applyLiveness(f *report.Finding, r verify.Result) {
	f.Liveness, f.LivenessCode = string(r.Liveness), r.ErrorCode
	f.Severity, f.Reasons = verify.Adjust(f.Severity, f.Reasons, r)
}

// livenessLine is the summary's one line about liveness checks.
func livenessLine(counts map[verify.Liveness]int) string {
	keys := slices.Sorted(maps.Keys(counts))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	return "liveness: " + strings.Join(parts, ", ")
}

func newVerifyCmd(streams func(*common), res *outcome) *cobra.Command {
	var (
		c  common
		sf storeFlags
	)
	cmd := &cobra.Command{
		Use:   "verify [flags]",
		Short: "Check whether the open findings in the store (--db) still work, record it, and report them",
		Long: strings.TrimSpace(`
Ask Azure, for each open finding kept in the store, whether its token still
works: one fixed, read-only, metadata-level request per token, only to the
storage account the token names (see README, Liveness checks). The result is
kept with the finding ('report' shows it) and the findings are printed with
their severity adjusted: a live token is an emergency, an expired one history.`),
		RunE: func(cmd *cobra.Command, args []string) error {
			streams(&c)
			if len(args) > 0 {
				return usagef("verify takes no arguments")
			}
			if err := c.resolve(); err != nil {
				return err
			}
			defer c.outAbort()
			c.verify.on = true
			return runVerify(cmd.Context(), &c, &sf, res)
		},
	}
	c.register(cmd)
	sf.register(cmd)
	cmd.Flags().StringVar(&c.verify.endpoint, "verify-endpoint", "", "send every probe to this base `URL` instead, which names the account")
	return cmd
}

func runVerify(ctx context.Context, c *common, sf *storeFlags, res *outcome) error {
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	fs, err := st.Findings(ctx, store.Filter{Reveal: c.reveal})
	if err != nil {
		return err
	}
	counts, err := c.verify.check(ctx, c, fs)
	if err != nil {
		return err
	}
	at := c.nowFunc()()
	for _, f := range fs {
		if f.Liveness == string(verify.NotChecked) && ctx.Err() != nil {
			continue // not learnt: keep what the store had
		}
		if err := st.SetLiveness(ctx, f.Fingerprint, store.Liveness{Value: f.Liveness, CheckedAt: at}); err != nil {
			return err
		}
	}
	var total pipeline.Result
	c.liveness = livenessLine(counts)
	coll := storedFindings(fs, c.reveal)
	c.verify = verifyFlags{} // checked above: finish must not check again
	return c.finish(context.WithoutCancel(ctx), coll, &total, res, "findings")
}

// nowFunc is the run's clock: --now when given, else the current time.
func (c *common) nowFunc() func() time.Time {
	if !c.clock.IsZero() {
		return func() time.Time { return c.clock }
	}
	return time.Now
}
