package github

import (
	"context"
	"errors"
	"time"

	"github.com/sasquatch-sec/sasquatch/crawler"
)

// Summary is what testSweep saw: the old all-in-one sweep's summary, kept
// so the fault tests read the same. The production sweep composes Repos and
// Open in the pipeline package.
type Summary struct {
	Listed         int
	Filtered       map[string]int
	Scanned, Empty int
	Skipped        []RepoSkip
	Incomplete     bool
	TargetProblems []string
	APICalls       int64
	RateLimitWait  time.Duration
	Bytes, Blobs   int64
}

// SkipCounts returns the number of skipped repositories per reason.
func (s *Summary) SkipCounts() map[string]int {
	m := map[string]int{}
	for _, k := range s.Skipped {
		m[k.Reason]++
	}
	return m
}

// ScanFunc scans one opened repository in testSweep.
type ScanFunc func(ctx context.Context, r Repo, src Source) error

// testSweep lists targets with Repos and opens each repository in turn with
// Open, as a caller of the library does, calling scan on each source.
func (c *Client) testSweep(ctx context.Context, t Targets, scan ScanFunc) (Summary, error) {
	lst, err := c.Repos(ctx, t)
	sum := Summary{Listed: lst.Listed, Filtered: lst.Filtered, Skipped: lst.Skipped, TargetProblems: lst.Problems, Incomplete: lst.Incomplete()}
	finish := func(err error) (Summary, error) {
		sum.APICalls, sum.RateLimitWait = c.APICalls(), c.RateLimitWait()
		SortSkips(sum.Skipped)
		return sum, err
	}
	if err != nil {
		return finish(err)
	}
	for _, r := range lst.Repos {
		if ctx.Err() != nil {
			return finish(ctx.Err())
		}
		src, err := c.Open(ctx, r, OpenOptions{})
		var sk *SkipError
		switch {
		case errors.Is(err, ErrEmpty):
			sum.Scanned++
			sum.Empty++
			continue
		case errors.As(err, &sk):
			sum.Skipped = append(sum.Skipped, sk.RepoSkip)
			sum.Incomplete = true
			continue
		case err != nil:
			return finish(err)
		}
		err = scan(ctx, r, countBlobs{src, &sum})
		if cr, ok := src.(crawler.CoverageReporter); ok && !cr.Coverage().Complete {
			sum.Incomplete = true
		}
		src.Close()
		if err != nil {
			return finish(err)
		}
		sum.Scanned++
	}
	return finish(ctx.Err())
}

// countBlobs counts what a source yields into a Summary.
type countBlobs struct {
	Source
	sum *Summary
}

func (s countBlobs) Provenance(ctx context.Context, ids []string) (map[string][]crawler.Origin, error) {
	if p, ok := s.Source.(crawler.Provenancer); ok {
		return p.Provenance(ctx, ids)
	}
	return nil, nil
}
