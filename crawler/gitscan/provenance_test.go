package gitscan

import (
	"context"
	"strings"
	"testing"

	"github.com/sasquatch-sec/sasquatch/crawler"
	"github.com/sasquatch-sec/sasquatch/fixtures/history"
)

// TestAtTipRawAndDeepPaths: a blob still at the tip is AtTip whether its
// path is not valid UTF-8 (kept as raw bytes in Origin.Path) or more than
// 4,096 directories deep (the git program enumerates it; the go-git walk
// stops at 4,096 and says so with one tree-too-deep skip).
func TestAtTipRawAndDeepPaths(t *testing.T) {
	t.Parallel()
	const depth = 4200
	b := history.New(t, t.TempDir(), true)
	deepPath := strings.Repeat("d/", depth+1) + "f.txt"
	ids := fastImport(t, b, []fastCommit{
		{msg: "first", files: []fastFile{{"old.txt", history.SAS(1003) + "\n"}}},
		{msg: "second", files: []fastFile{
			{"old.txt", ""},
			{"caf\xe9.txt", history.SAS(1001) + "\n"},
			{deepPath, history.SAS(1002) + "\n"},
			{"\xff\xfe-latin.txt", history.SAS(1003) + "\n"},
		}},
	})
	first, second := ids[0], ids[1]

	backends(t, func(t *testing.T, cfg Config) {
		r := open(t, b.Dir, cfg)
		res := collect(t, r)
		ids := map[int]string{}
		for _, n := range []int{1001, 1002, 1003} {
			if f := res.withData(history.SigParam(n)); len(f) == 1 {
				ids[n] = f[0].ID
			}
		}
		if cfg.NoGitProgram {
			exactSkips(t, r, res, map[crawler.SkipReason]int{crawler.SkipTreeDepth: 1})
			delete(ids, 1002)
		} else {
			exactSkips(t, r, res, map[crawler.SkipReason]int{})
			if ids[1002] == "" {
				t.Fatalf("deep blob not scanned")
			}
		}
		if ids[1001] == "" || ids[1003] == "" {
			t.Fatalf("blobs not scanned: %v", ids)
		}
		var list []string
		for _, id := range ids {
			list = append(list, id)
		}
		prov, err := r.Provenance(context.Background(), list)
		if err != nil {
			t.Fatalf("Provenance: %v", err)
		}
		want := map[string][]crawler.Origin{
			ids[1001]: {{Commit: second, Path: "caf\xe9.txt", AtTip: true}},
			ids[1003]: {{Commit: first, Path: "old.txt"}, {Commit: second, Path: "\xff\xfe-latin.txt", AtTip: true}},
		}
		if !cfg.NoGitProgram {
			want[ids[1002]] = []crawler.Origin{{Commit: second, Path: deepPath, AtTip: true}}
		}
		for id, w := range want {
			got := prov[id]
			if len(got) != len(w) {
				t.Errorf("blob %s: %d origins, want %d: %+v", id, len(got), len(w), got)
				continue
			}
			for i := range w {
				g := crawler.Origin{Commit: got[i].Commit, Path: got[i].Path, AtTip: got[i].AtTip}
				if g != w[i] {
					t.Errorf("blob %s origin %d = %q %s %v, want %q %s %v", id, i,
						truncate(g.Path, 40), g.Commit, g.AtTip, truncate(w[i].Path, 40), w[i].Commit, w[i].AtTip)
				}
			}
		}
	})
}
