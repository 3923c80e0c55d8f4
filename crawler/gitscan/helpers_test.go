package gitscan

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sasquatch-sec/sasquatch/crawler"
)

// backends runs f once with the git program and once forcing go-git.
func backends(t *testing.T, f func(t *testing.T, cfg Config)) {
	t.Helper()
	for _, name := range []string{"git", "go-git"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Repo: "contoso/history", NoGitProgram: name == "go-git"}
			if name == "git" && gitProgram() == "" {
				t.Skip("no git program")
			}
			f(t, cfg)
		})
	}
}

type result struct {
	blobs []crawler.Blob
	skips []*crawler.Skip
	errs  []error
}

// withData returns the non-message blobs whose data contains s.
func (res result) withData(s string) []crawler.Blob {
	var out []crawler.Blob
	for _, b := range res.blobs {
		if !b.Message && strings.Contains(string(b.Data), s) {
			out = append(out, b)
		}
	}
	return out
}

func (res result) messagesWith(s string) []crawler.Blob {
	var out []crawler.Blob
	for _, b := range res.blobs {
		if b.Message && strings.Contains(string(b.Data), s) {
			out = append(out, b)
		}
	}
	return out
}

func (res result) skipsFor(reason crawler.SkipReason) []*crawler.Skip {
	var out []*crawler.Skip
	for _, s := range res.skips {
		if s.Reason == reason {
			out = append(out, s)
		}
	}
	return out
}

func collect(t *testing.T, r *Repo) result {
	t.Helper()
	var res result
	for b, err := range r.Blobs(context.Background()) {
		if err != nil {
			var sk *crawler.Skip
			if errors.As(err, &sk) {
				res.skips = append(res.skips, sk)
			} else {
				res.errs = append(res.errs, err)
			}
			continue
		}
		res.blobs = append(res.blobs, b)
	}
	return res
}

func open(t *testing.T, path string, cfg Config) *Repo {
	t.Helper()
	r, err := Open(context.Background(), path, cfg)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// uniqueIDs fails the test if a blob ID is yielded twice.
func uniqueIDs(t *testing.T, res result) {
	t.Helper()
	seen := map[string]bool{}
	for _, b := range res.blobs {
		if seen[b.ID] {
			t.Errorf("blob %s yielded twice", b.ID)
		}
		seen[b.ID] = true
	}
}
