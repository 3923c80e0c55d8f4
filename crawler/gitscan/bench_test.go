package gitscan

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sasquatch-sec/sasquatch/fixtures/history"
)

// BenchmarkBlobs scans a generated 500-commit, ~20 MiB history (or the
// repository in $GITSCAN_BENCH_REPO) with both readers. The full-size
// comparison against git cat-file is scripts/bench-git.sh.
func BenchmarkBlobs(b *testing.B) {
	repo := os.Getenv("GITSCAN_BENCH_REPO")
	if repo == "" {
		repo = filepath.Join(b.TempDir(), "bench.git")
		if err := history.Generate(context.Background(), repo, history.GenOptions{Commits: 500, Bytes: 20 << 20}); err != nil {
			b.Fatal(err)
		}
	}
	for _, name := range []string{"git", "go-git"} {
		b.Run(name, func(b *testing.B) {
			cfg := Config{NoGitProgram: name == "go-git"}
			var total int64
			for b.Loop() {
				r, err := Open(context.Background(), repo, cfg)
				if err != nil {
					b.Fatal(err)
				}
				var hits []string
				for blob, err := range r.Blobs(context.Background()) {
					if err != nil {
						b.Fatal(err)
					}
					total += int64(len(blob.Data))
					if !blob.Message && bytes.Contains(blob.Data, []byte("sig=")) {
						hits = append(hits, blob.ID)
					}
				}
				if _, err := r.Provenance(context.Background(), hits); err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
			b.SetBytes(total / int64(b.N))
		})
	}
}
