package gitscan

import (
	"context"
	"os"
	"runtime"
	"testing"

	"github.com/sasquatch-sec/sasquatch/fixtures/history"
)

// TestEarlyLogLeavesNothing: an early log leaves no file behind, whether
// Provenance reads it, Close stops it unread, or ctx ends it; after Close
// none starts.
func TestEarlyLogLeavesNothing(t *testing.T) {
	t.Parallel()
	if gitProgram() == "" {
		t.Skip("no git program")
	}
	b := history.New(t, t.TempDir(), false)
	b.Write("a.txt", history.SAS(11)+"\n")
	b.Commit("one")
	blobID := b.Git("rev-parse", "HEAD:a.txt")
	for _, how := range []string{"read", "unread", "cancelled"} {
		t.Run(how, func(t *testing.T) {
			tmp := t.TempDir()
			r, err := Open(context.Background(), b.Dir, Config{Repo: "contoso/early", TempDir: tmp})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r.StartProvenance(ctx)
			r.StartProvenance(ctx) // once only
			if runtime.GOOS == "linux" {
				// Unlinked at once: nothing to leave even if the process dies.
				if left := spillFiles(t, tmp); len(left) != 0 {
					t.Errorf("spill file visible while the log runs: %v", left)
				}
			}
			switch how {
			case "read":
				prov, err := r.Provenance(context.Background(), []string{blobID})
				if err != nil || len(prov[blobID]) != 1 || prov[blobID][0].Path != "a.txt" {
					t.Errorf("Provenance = %+v, %v", prov, err)
				}
			case "cancelled":
				cancel()
				// The log is cut short: Provenance runs it again.
				prov, err := r.Provenance(context.Background(), []string{blobID})
				if err != nil || len(prov[blobID]) != 1 {
					t.Errorf("Provenance after a cancelled early log = %+v, %v", prov, err)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			r.StartProvenance(context.Background()) // after Close: nothing
			if r.early != nil {
				t.Errorf("an early log started after Close")
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("left in TempDir after Close: %v", left)
			}
		})
	}
}

func spillFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if len(e.Name()) > 20 && e.Name()[:21] == "sasquatch-provenance-" {
			out = append(out, e.Name())
		}
	}
	return out
}
