package gitscan

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sasquatch-sec/sasquatch/fixtures/history"
)

// TestReleaseRecyclesBuffers: a consumer that calls Release after each
// blob gets recycled buffers and still sees every blob's own content; a
// consumer that does not keeps its data intact.
func TestReleaseRecyclesBuffers(t *testing.T) {
	t.Parallel()
	b := history.New(t, t.TempDir(), true)
	var commits []fastCommit
	for i := range 40 {
		commits = append(commits, fastCommit{msg: fmt.Sprintf("c%d", i), files: []fastFile{
			{"f.txt", strings.Repeat(fmt.Sprintf("line %d\n", i), 100*(i%7+1))},
			{"g.txt", fmt.Sprintf("%d %s\n", i, history.SAS(1100+i))},
		}})
	}
	fastImport(t, b, commits)
	backends(t, func(t *testing.T, cfg Config) {
		kept := map[string]string{}
		r := open(t, b.Dir, cfg)
		var held [][]byte
		for blob, err := range r.Blobs(context.Background()) {
			if err != nil {
				t.Fatal(err)
			}
			kept[blob.ID] = string(blob.Data)
			held = append(held, blob.Data) // never released: must not change
		}
		released := 0
		for blob, err := range r.Blobs(context.Background()) {
			if err != nil {
				t.Fatal(err)
			}
			if want, ok := kept[blob.ID]; !ok || string(blob.Data) != want {
				t.Errorf("blob %s: content differs after recycling", blob.ID)
			}
			if blob.Release != nil {
				blob.Release()
				released++
			}
		}
		if !cfg.NoGitProgram && released < 80 {
			t.Errorf("%d blobs had a Release, want every one read by git", released)
		}
		i := 0
		for blob := range r.Blobs(context.Background()) {
			if i < len(held) && string(held[i]) != kept[blob.ID] {
				t.Errorf("unreleased data of blob %d changed", i)
			}
			if blob.Release != nil {
				blob.Release()
			}
			i++
		}
	})
}
