package verify

import (
	"context"
	"sync"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// Item is one token to check with [Verifier.CheckAll].
type Item struct {
	Token   detect.Token
	Expired bool // the detector already judged it expired: no request
}

// CheckAll checks items with up to parallel probes in flight (default 8)
// and returns their results in order. Each account keeps its own rate
// limit, so tokens of different accounts do not wait for each other. When
// ctx ends, the items not yet checked are NotChecked.
func (v *Verifier) CheckAll(ctx context.Context, items []Item, parallel int) []Result {
	if parallel <= 0 {
		parallel = 8
	}
	out := make([]Result, len(items))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, it := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			for j := i; j < len(items); j++ {
				out[j] = Result{Liveness: NotChecked, Detail: "canceled"}
			}
			wg.Wait()
			return out
		}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i] = v.Check(ctx, it.Token, it.Expired)
		})
	}
	wg.Wait()
	return out
}
