package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/pipeline"
)

func newScanCmd(streams func(*common), res *outcome) *cobra.Command {
	var c common
	var include, exclude []string
	maxFile := sizeFlag{n: 256 << 20, text: "256MiB"}
	cmd := &cobra.Command{
		Use:   "scan [flags] PATH...",
		Short: "Scan files and directories ('-' reads standard input)",
		Example: `  sasquatch scan .
  sasquatch scan --format jsonl --min-severity high ./src ./docs
  sasquatch scan --exclude node_modules --exclude 'docs/**/*.md' .
  git show HEAD:config.json | sasquatch scan -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			streams(&c)
			if len(args) == 0 {
				return usagef("scan needs at least one PATH (or '-' for standard input)")
			}
			filter, err := newPathFilter(include, exclude)
			if err != nil {
				return err
			}
			if err := c.resolve(); err != nil {
				return err
			}
			defer c.outAbort() // removes an uncommitted temporary --output file
			return runScan(cmd.Context(), &c, args, maxFile.n, filter, res)
		},
	}
	c.register(cmd)
	c.verify.register(cmd)
	cmd.Flags().Var(&maxFile, "max-file-size", "skip (and report) files larger than `SIZE` (e.g. 256MiB, 2GiB)")
	registerPathFlags(cmd, &include, &exclude)
	return cmd
}

// registerPathFlags adds --include and --exclude (scan and git).
func registerPathFlags(cmd *cobra.Command, include, exclude *[]string) {
	f := cmd.Flags()
	f.StringArrayVar(include, "include", nil, "scan only paths matching `GLOB` (repeatable; '**' spans directories; a name without '/' matches at any depth)")
	f.StringArrayVar(exclude, "exclude", nil, "leave out paths matching `GLOB` (repeatable; wins over --include; counted in the summary)")
}

func runScan(ctx context.Context, c *common, paths []string, maxFile int64, filter *pathFilter, res *outcome) error {
	coll := c.collector()
	prefixed := len(paths) > 1
	// The directory source applies --include/--exclude while it walks, so
	// an excluded directory is never read.
	// The readers share the detectors' gate: --workers bounds both together.
	p := c.pipeline()
	dir, err := crawler.NewDir(paths, crawler.DirConfig{MaxFileSize: maxFile, Stdin: c.stdin, PrefixRoot: prefixed,
		Include: filter.include, Exclude: filter.exclude, Readers: c.workers, Gate: p.Gate()})
	if err != nil {
		p.Close()
		return usagef("scan: %v", err)
	}
	prog := newBlobProgress(c, "files")
	src := dirSource{Dir: dir, tap: &tap{rel: relTo(paths, prefixed), prog: prog}}
	st, err := p.Scan(ctx, pipeline.Source{Source: src}, coll)
	p.Close()
	prog.finish()
	if st.Interrupted {
		st.AddSkip(crawler.SkipInterrupted, 1, 0)
	}
	nothing := st.Blobs == 0 && st.LostContent()
	// Whatever happened, report what was found: an interrupted or failing
	// run must not lose findings.
	ferr := c.finishWith(context.WithoutCancel(ctx), coll, &st, res, summaryOf{unit: "files", excluded: dir.Excluded(), exclUnit: "paths", nothing: nothing, warnEmpty: true})
	if ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	if nothing {
		// Every path was missing or unreadable: a typo in a CI job must not pass.
		return errors.New("nothing could be scanned")
	}
	return nil
}
