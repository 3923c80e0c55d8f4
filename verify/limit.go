package verify

import (
	"context"
	"sync"
	"time"
)

// limiter allows at most n probes per account in any rolling minute. A probe
// over the limit is given the earliest free slot and waits for it: none is
// dropped, and probes of one account go out in the order they asked.
// Safe for concurrent use.
type limiter struct {
	n     int
	now   func() time.Time                                 // monotonic clock; tests pass a fake
	sleep func(ctx context.Context, d time.Duration) error // tests pass a fake

	mu    sync.Mutex
	slots map[string][]time.Time // per account, the times of its last n probes, oldest first
}

func newLimiter(n int, now func() time.Time, sleep func(context.Context, time.Duration) error) *limiter {
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	return &limiter{n: n, now: now, sleep: sleep, slots: make(map[string][]time.Time)}
}

// reserve books the next slot of account and returns how long to wait for it.
func (l *limiter) reserve(account string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	at := now
	s := l.slots[account]
	if len(s) >= l.n {
		// the n-th previous probe must be a minute old
		if t := s[len(s)-l.n].Add(time.Minute); t.After(at) {
			at = t
		}
		s = append(s[:0], s[len(s)-l.n+1:]...)
	}
	l.slots[account] = append(s, at)
	return at.Sub(now)
}

// wait blocks until account may send its next probe, or ctx is done. A slot
// booked by a cancelled wait stays booked (the limiter errs on the slow side).
func (l *limiter) wait(ctx context.Context, account string) error {
	if d := l.reserve(account); d > 0 {
		return l.sleep(ctx, d)
	}
	return ctx.Err()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
