package verify

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock is a clock that moves only when a fake sleep moves it.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	slept  []time.Duration
	cancel bool // sleep returns context.Canceled without advancing
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// sleep records the wait and advances the clock by it, as a real sleep would.
func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	if c.cancel {
		return context.Canceled
	}
	c.t = c.t.Add(d)
	return nil
}

var t0 = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

func TestLimiterReserve(t *testing.T) {
	t.Parallel()
	type step struct {
		at      time.Duration // clock offset from t0 when the probe asks
		account string
		want    time.Duration // how long it must wait
	}
	tests := []struct {
		name  string
		n     int
		steps []step
	}{
		{"under the limit", 3, []step{{0, "a", 0}, {0, "a", 0}, {0, "a", 0}}},
		{"excess waits for the rolling minute", 3, []step{
			{0, "a", 0}, {0, "a", 0}, {0, "a", 0},
			{0, "a", time.Minute}, {0, "a", time.Minute}, {0, "a", time.Minute},
			{0, "a", 2 * time.Minute}, // the 7th: a minute after the 4th
		}},
		{"accounts are independent", 1, []step{
			{0, "a", 0}, {0, "b", 0}, {0, "a", time.Minute}, {0, "b", time.Minute}, {0, "c", 0},
		}},
		{"time passing frees slots", 2, []step{
			{0, "a", 0}, {10 * time.Second, "a", 0}, {20 * time.Second, "a", 40 * time.Second},
			{61 * time.Second, "a", 9 * time.Second}, // the 2nd previous went at 10s: free at 70s
			{3 * time.Minute, "a", 0},
		}},
		{"one per minute", 1, []step{{0, "a", 0}, {30 * time.Second, "a", 30 * time.Second}, {30 * time.Second, "a", 90 * time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &fakeClock{t: t0}
			l := newLimiter(tt.n, clk.now, clk.sleep)
			var got, want []time.Duration
			for _, s := range tt.steps {
				clk.mu.Lock()
				clk.t = t0.Add(s.at)
				clk.mu.Unlock()
				got = append(got, l.reserve(s.account))
				want = append(want, s.want)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("waits (-want +got):\n%s", d)
			}
		})
	}
}

// TestLimiterWaitNoneDropped: 10 probes of one account at once, 3 per
// minute: every one is let through (none dropped), the excess after waiting
// its turn, and no minute ever sees more than 3.
func TestLimiterWaitNoneDropped(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: t0}
	l := newLimiter(3, clk.now, clk.sleep)
	var sent []time.Time
	for i := 0; i < 10; i++ {
		if err := l.wait(context.Background(), "contoso"); err != nil {
			t.Fatalf("probe %d: wait = %v (dropped)", i, err)
		}
		sent = append(sent, clk.now())
	}
	if len(sent) != 10 {
		t.Fatalf("sent %d probes, want 10", len(sent))
	}
	for i := 3; i < len(sent); i++ {
		if gap := sent[i].Sub(sent[i-3]); gap < time.Minute {
			t.Errorf("probes %d and %d are %v apart: more than 3 in a minute", i-3, i, gap)
		}
	}
	want := []time.Duration{time.Minute, time.Minute, time.Minute} // probes 4, 7 and 10 wait
	if d := cmp.Diff(want, clk.slept); d != "" {
		t.Errorf("sleeps (-want +got):\n%s", d)
	}
}

func TestLimiterWaitCancelled(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: t0, cancel: true}
	l := newLimiter(1, clk.now, clk.sleep)
	if err := l.wait(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if err := l.wait(context.Background(), "a"); err != context.Canceled {
		t.Errorf("wait = %v, want context.Canceled", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.wait(ctx, "b"); err != context.Canceled {
		t.Errorf("wait with a done ctx = %v, want context.Canceled", err)
	}
}

// TestLimiterConcurrent: concurrent probes of one account all get a slot,
// and the booked slots never put more than n in a minute.
func TestLimiterConcurrent(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: t0}
	l := newLimiter(3, clk.now, func(context.Context, time.Duration) error { return nil })
	var wg sync.WaitGroup
	var mu sync.Mutex
	var waits []time.Duration
	for range 30 {
		wg.Go(func() {
			d := l.reserve("contoso")
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
		})
	}
	wg.Wait()
	count := map[time.Duration]int{}
	for _, d := range waits {
		count[d]++
	}
	want := map[time.Duration]int{}
	for i := range 10 {
		want[time.Duration(i)*time.Minute] = 3
	}
	if d := cmp.Diff(want, count); d != "" {
		t.Errorf("slots per minute (-want +got):\n%s", d)
	}
}
