package gitscan

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sasquatch-sec/sasquatch/crawler"

	"github.com/google/go-cmp/cmp"
	"github.com/sasquatch-sec/sasquatch/fixtures/history"
)

// TestProvenanceStrategies: git log and the object walk (with the git reader and with go-git) agree on the scenario history,
// for every blob in it.
func TestProvenanceStrategies(t *testing.T) {
	t.Parallel()
	if gitProgram() == "" {
		t.Skip("no git program")
	}
	s := buildScenario(t)
	r := open(t, s.dir, Config{Repo: "contoso/history"})
	var ids []string
	for b := range r.Blobs(context.Background()) {
		if b.ID != "" && !b.Message {
			ids = append(ids, b.ID)
		}
	}
	if len(ids) < 10 {
		t.Fatalf("only %d blobs", len(ids))
	}
	want, err := r.provenance(context.Background(), ids, provLog)
	if err != nil {
		t.Fatalf("log: %v", err)
	}
	if len(want) != len(ids) {
		t.Errorf("log strategy found %d of %d blobs", len(want), len(ids))
	}
	gg := open(t, s.dir, Config{Repo: "contoso/history", NoGitProgram: true})
	// The early log, started while Blobs runs, read whole or (over its
	// spill limit) abandoned for a log run afterwards.
	early := func(limit int64) func() (any, error) {
		return func() (any, error) {
			e := open(t, s.dir, Config{Repo: "contoso/history"})
			e.spillLimit = limit
			for range e.Blobs(context.Background()) {
				e.StartProvenance(context.Background())
			}
			return e.provenance(context.Background(), ids, provAuto)
		}
	}
	for name, got := range map[string]func() (any, error){
		"walk":       func() (any, error) { return r.provenance(context.Background(), ids, provWalk) },
		"go-git":     func() (any, error) { return gg.provenance(context.Background(), ids, provAuto) },
		"early":      early(0),
		"early-full": early(100),
	} {
		g, err := got()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		// Origins of one blob may be ordered differently between strategies
		// only when introductions are unrelated; this history has none.
		if diff := cmp.Diff(any(want), g); diff != "" {
			t.Errorf("%s differs from log (-log +%s):\n%s", name, name, diff)
		}
	}
	_ = history.Epoch
}

// TestMissingParent: a missing commit object stops git rev-list and git
// log; Blobs records an incomplete scan and Provenance falls back to the
// tolerant walk, still attributing the token in the newest commit.
func TestMissingParent(t *testing.T) {
	t.Parallel()
	b := history.New(t, t.TempDir(), false)
	b.Write("a.txt", "first\n")
	b.Commit("one")
	b.Write("b.txt", "second\n")
	middle := b.Commit("two")
	b.Write("c.txt", history.SAS(95)+"\n")
	last := b.Commit("three")
	blobID := b.Git("rev-parse", "HEAD:c.txt")
	if err := removeLoose(b.GitDir(), middle); err != nil {
		t.Fatal(err)
	}
	backends(t, func(t *testing.T, cfg Config) {
		r := open(t, b.Dir, cfg)
		res := collect(t, r)
		if r.Stats().Complete {
			t.Errorf("coverage complete despite a missing commit")
		}
		if len(res.skipsFor(crawler.SkipMissing)) != 1 || len(res.skips) != 1 {
			t.Errorf("want one missing-object skip (the missing commit), got %v", res.skips)
		}
		// Objects on both sides of the missing commit are still scanned.
		for _, want := range []string{"first\n", "second\n", history.SAS(95) + "\n"} {
			if len(res.withData(want)) != 1 {
				t.Errorf("blob %q not scanned", want)
			}
		}
		uniqueIDs(t, res)
		// An early git log fails like a late one: the walk takes over.
		r.StartProvenance(context.Background())
		prov, _ := r.Provenance(context.Background(), []string{blobID})
		if o := prov[blobID]; len(o) != 1 || o[0].Commit != last || o[0].Path != "c.txt" || !o[0].AtTip {
			t.Errorf("provenance %+v", o)
		}
	})
}

func removeLoose(gitDir, id string) error {
	return os.Remove(filepath.Join(gitDir, "objects", id[:2], id[2:]))
}

// TestGraftsAndReplaceIgnored: info/grafts and refs/replace cannot hide
// history from the scan.
func TestGraftsAndReplaceIgnored(t *testing.T) {
	t.Parallel()
	b := history.New(t, t.TempDir(), false)
	b.Write("old.txt", history.SAS(97)+"\n")
	first := b.Commit("one")
	b.Remove("old.txt")
	b.Write("new.txt", "clean\n")
	second := b.Commit("two")
	b.Write("newer.txt", "clean too\n")
	third := b.Commit("three")
	// A graft making "two" a root commit, and a replace ref swapping "three"
	// for a commit without parents.
	os.WriteFile(filepath.Join(b.GitDir(), "info", "grafts"), []byte(second+"\n"), 0o644)
	tree := b.Git("rev-parse", third+"^{tree}")
	orphan := b.CommitTree(tree, "replacement")
	b.Git("update-ref", "refs/replace/"+third, orphan)
	backends(t, func(t *testing.T, cfg Config) {
		r := open(t, b.Dir, cfg)
		res := collect(t, r)
		found := res.withData(history.SigParam(97))
		if len(found) != 1 {
			t.Fatalf("token hidden by grafts/replace (skips %v)", res.skips)
		}
		prov, err := r.Provenance(context.Background(), []string{found[0].ID})
		if err != nil || len(prov[found[0].ID]) != 1 || prov[found[0].ID][0].Commit != first {
			t.Errorf("provenance %+v, %v", prov, err)
		}
	})
}
