package verify

import (
	"context"
	"fmt"
	"testing"
)

// TestCheckAllInOrder: CheckAll returns one result per item in order, sends
// one probe per distinct signature, and marks what it could not check when
// ctx ends.
func TestCheckAllInOrder(t *testing.T) {
	t.Parallel()
	rec := &recorder{reply: answer(403, "AuthorizationPermissionMismatch")}
	v := newTest(t, rec, Config{})
	var items []Item
	for i := range 6 {
		acct := fmt.Sprintf("contosobatch%d", i%3)
		sig := sig01
		if i%2 == 1 {
			sig = sig02
		}
		items = append(items, Item{Token: mustParse(t, "https://"+acct+".blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2029-01-01T00:00:00Z&sig="+sig)})
	}
	items = append(items, Item{Token: items[0].Token, Expired: true})
	res := v.CheckAll(context.Background(), items, 3)
	if len(res) != len(items) {
		t.Fatalf("%d results for %d items", len(res), len(items))
	}
	for i, r := range res[:6] {
		if r.Liveness != Live {
			t.Errorf("item %d: %+v", i, r)
		}
	}
	if res[6].Liveness != Expired {
		t.Errorf("expired item: %+v", res[6])
	}
	if n := len(rec.requests()); n != 2 {
		t.Errorf("%d requests for two signatures, want 2", n)
	}
	assertReadOnly(t, rec.requests(), "")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i, r := range newTest(t, rec, Config{}).CheckAll(ctx, items[:3], 1) {
		if r.Liveness != NotChecked {
			t.Errorf("cancelled item %d: %+v", i, r)
		}
	}
}
