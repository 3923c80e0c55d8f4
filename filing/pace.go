package filing

import (
	"context"
	"time"
)

// Write pacing (reliability.md §3.2; GitHub's content-creation limits are
// 80 a minute and 500 an hour).
const (
	writeGap       = time.Second
	writesPerMin   = 79
	writesPerHour  = 499
	paceWindowMin  = time.Minute
	paceWindowHour = time.Hour
)

// pacer spaces writes: at least writeGap apart, at most writesPerMin in any
// minute and writesPerHour in any hour, on an injectable clock. Not safe for
// concurrent use (Run is sequential).
type pacer struct {
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	writes []time.Time // within the last hour, oldest first
}

func newPacer(now func() time.Time, sleep func(context.Context, time.Duration) error) *pacer {
	return &pacer{now: now, sleep: sleep}
}

// wait blocks until a write may be sent and counts it as sent.
func (p *pacer) wait(ctx context.Context) error {
	for {
		now := p.now()
		i := 0
		for i < len(p.writes) && now.Sub(p.writes[i]) >= paceWindowHour {
			i++
		}
		p.writes = p.writes[i:]
		var d time.Duration
		if n := len(p.writes); n > 0 {
			d = max(d, p.writes[n-1].Add(writeGap).Sub(now))
		}
		inMin := 0
		for _, t := range p.writes {
			if now.Sub(t) < paceWindowMin {
				inMin++
			}
		}
		if inMin >= writesPerMin {
			oldest := p.writes[len(p.writes)-inMin]
			d = max(d, oldest.Add(paceWindowMin).Sub(now))
		}
		if len(p.writes) >= writesPerHour {
			d = max(d, p.writes[0].Add(paceWindowHour).Sub(now))
		}
		if d <= 0 {
			p.writes = append(p.writes, now)
			return ctx.Err()
		}
		if err := p.sleep(ctx, d); err != nil {
			return err
		}
	}
}
