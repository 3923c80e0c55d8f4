package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sasquatch-sec/sasquatch/internal/store"
	"github.com/sasquatch-sec/sasquatch/report"
)

// A scan job's transaction: the repository, the run, the findings and the
// new tips are written together (River's client.InsertTx(ctx, tx.SQL(), ...)
// would enqueue follow-up jobs in the same transaction).
func ExampleStore_InTx() {
	dir, _ := os.MkdirTemp("", "store-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(dir, "sasquatch.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	findings := []report.Finding{{
		Fingerprint: "00112233445566778899aabbccddeeff", Kind: "account", Account: "example",
		Locations: []report.Location{{Path: "README.md", Line: 3, Column: 9, Repo: "example-org/app"}},
	}}
	var fresh []string
	err = s.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpsertRepo(ctx, store.Repo{ID: 1296269, FullName: "example-org/app", Visibility: "private"}); err != nil {
			return err
		}
		run, err := tx.BeginRun(ctx, "org:example-org")
		if err != nil {
			return err
		}
		if fresh, err = tx.AddFindings(ctx, run, 1296269, findings); err != nil {
			return err
		}
		if err := tx.SetTips(ctx, 1296269, map[string]string{"refs/heads/main": "0123456789abcdef0123456789abcdef01234567"}); err != nil {
			return err
		}
		return tx.FinishRun(ctx, run, true, map[string]int64{"repos": 1})
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	open, _ := s.Findings(ctx, store.Filter{})
	fmt.Println("new:", fresh)
	fmt.Println("open findings:", len(open), "locations:", len(open[0].Locations))
	// Output:
	// new: [00112233445566778899aabbccddeeff]
	// open findings: 1 locations: 1
}
