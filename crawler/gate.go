package crawler

import "sync/atomic"

// Gate lets at most a fixed number of goroutines through at once. A scan
// shares one between the goroutines that read files and those that detect,
// so that --workers N bounds the CPU the whole scan uses, not only
// detection: with one worker a file is read, then examined, then the next
// one is read. A nil *Gate lets everyone through. It is safe for concurrent
// use.
type Gate struct {
	slots  chan struct{}
	passes atomic.Int64 // Enter calls so far (tests check what went through)
}

// NewGate returns a Gate for n goroutines at once (at least one).
func NewGate(n int) *Gate { return &Gate{slots: make(chan struct{}, max(n, 1))} }

// Enter waits for a free place.
func (g *Gate) Enter() {
	if g != nil {
		g.slots <- struct{}{}
		g.passes.Add(1)
	}
}

// Leave gives the place back; every Enter is followed by exactly one Leave.
func (g *Gate) Leave() {
	if g != nil {
		<-g.slots
	}
}

// gatedReader holds the gate during each Read, and only then: a reader
// that waits for memory or for the consumer must not keep a place a
// detector needs (the consumer waits for the detectors).
type gatedReader struct {
	r interface{ Read([]byte) (int, error) }
	g *Gate
}

func (r gatedReader) Read(p []byte) (int, error) {
	r.g.Enter()
	defer r.g.Leave()
	return r.r.Read(p)
}
