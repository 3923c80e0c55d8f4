package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/pipeline"
)

func newScanCmd(streams func(*common), res *outcome, strict *bool) *cobra.Command {
	var c common
	maxFile := sizeFlag(256 << 20)
	cmd := &cobra.Command{
		Use:   "scan [flags] PATH...",
		Short: "Scan files and directories ('-' reads standard input)",
		Example: `  sasquatch scan .
  sasquatch scan --format jsonl --min-severity high ./src ./docs
  git show HEAD:config.json | sasquatch scan -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			streams(&c)
			*strict = c.strict
			if len(args) == 0 {
				return usagef("scan needs at least one PATH (or '-' for standard input)")
			}
			if err := c.resolve(); err != nil {
				return err
			}
			defer c.outAbort() // removes an uncommitted temporary --output file
			return runScan(cmd.Context(), &c, args, int64(maxFile), res)
		},
	}
	c.register(cmd)
	cmd.Flags().Var(&maxFile, "max-file-size", "skip (and report) files larger than `SIZE` (e.g. 256MiB, 2GiB)")
	return cmd
}

func runScan(ctx context.Context, c *common, paths []string, maxFile int64, res *outcome) error {
	coll := c.collector()
	src, err := crawler.NewDir(paths, crawler.DirConfig{MaxFileSize: maxFile, Stdin: c.stdin, PrefixRoot: len(paths) > 1})
	if err != nil {
		return usagef("scan: %v", err)
	}
	p := c.pipeline()
	st, err := p.Scan(ctx, pipeline.Source{Source: src}, coll)
	p.Close()
	if st.Interrupted {
		st.AddSkip(crawler.SkipInterrupted, 1, 0)
	}
	// Whatever happened, report what was found: an interrupted or failing
	// run must not lose findings.
	if ferr := c.finish(context.WithoutCancel(ctx), coll, &st, res, "files"); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	if st.Blobs == 0 && st.LostContent() {
		// Every path was missing or unreadable: a typo in a CI job must not pass.
		return errors.New("nothing could be scanned")
	}
	return nil
}
