package detect

import (
	"bytes"
	"sync"
	"testing"

	"github.com/cloudflare/ahocorasick"
)

const benchSize = 64 << 20

var (
	benchOnce             sync.Once
	benchClean, benchHits []byte
)

func benchData() ([]byte, []byte) {
	benchOnce.Do(func() {
		benchClean = genSource(benchSize, 0)
		benchHits = genSource(benchSize, 64<<10)
	})
	return benchClean, benchHits
}

// BenchmarkAhoCorasickCore measures the cloudflare automaton alone over the
// anchors on token-free text: Match with a pool of matchers vs MatchThreadSafe.
func BenchmarkAhoCorasickCore(b *testing.B) {
	clean, _ := benchData()
	p := defaultPrefilter()
	b.Run("MatchThreadSafe", func(b *testing.B) {
		b.SetBytes(int64(len(clean)))
		b.ReportAllocs()
		for b.Loop() {
			if len(p.shared.MatchThreadSafe(clean)) != 0 {
				b.Fatal("unexpected hit")
			}
		}
	})
	pool := sync.Pool{New: func() any { return ahocorasick.NewMatcher(p.dict) }}
	pool.Put(pool.Get()) // build one matcher outside the timed loop
	b.Run("PooledMatch", func(b *testing.B) {
		b.SetBytes(int64(len(clean)))
		b.ReportAllocs()
		for b.Loop() {
			m := pool.Get().(*ahocorasick.Matcher)
			if len(m.Match(clean)) != 0 {
				b.Fatal("unexpected hit")
			}
			pool.Put(m)
		}
	})
	b.Run("Contains", func(b *testing.B) {
		b.SetBytes(int64(len(clean)))
		for b.Loop() {
			p.shared.Contains(clean)
		}
	})
}

// BenchmarkDetect measures the whole detector on 64 MiB of generated
// source-like text: without any token (the no-hit path: one pass, no
// allocation) and with one token every 64 KiB.
func BenchmarkDetect(b *testing.B) {
	clean, hits := benchData()
	d := New(Config{Now: specNow})
	b.Run("NoTokens", func(b *testing.B) {
		b.SetBytes(int64(len(clean)))
		b.ReportAllocs()
		for b.Loop() {
			if r := d.Detect(clean); len(r.Matches) != 0 {
				b.Fatal("unexpected match")
			}
		}
	})
	b.Run("TokenEvery64KiB", func(b *testing.B) {
		b.SetBytes(int64(len(hits)))
		b.ReportAllocs()
		want := len(hits) / (64 << 10)
		for b.Loop() {
			if r := d.Detect(hits); len(r.Matches) < want-1 {
				b.Fatalf("got %d matches, want about %d", len(r.Matches), want)
			}
		}
	})
}

// BenchmarkPrefilter measures the pre-pass plus automaton alone.
func BenchmarkPrefilter(b *testing.B) {
	clean, _ := benchData()
	d := New(Config{})
	b.SetBytes(int64(len(clean)))
	b.ReportAllocs()
	for b.Loop() {
		if d.Prefilter(clean) {
			b.Fatal("unexpected hit")
		}
	}
}

// BenchmarkPhysicalLimit is the ceiling on this machine: one SIMD pass over
// the same bytes that does nothing but read them (bytes.Count of one byte,
// memory- and load-bound). Detect's no-token path is compared with it.
func BenchmarkPhysicalLimit(b *testing.B) {
	clean, _ := benchData()
	b.Run("bytes.Count", func(b *testing.B) {
		b.SetBytes(int64(len(clean)))
		b.ReportAllocs()
		for b.Loop() {
			if bytes.Count(clean, []byte{0}) != 0 {
				b.Fatal("NUL in generated text")
			}
		}
	})
	b.Run("bytes.IndexByte-equals", func(b *testing.B) {
		// The pre-pass's own primitive: find every '=' (frequent in source).
		b.SetBytes(int64(len(clean)))
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			for i := 0; ; {
				k := bytes.IndexByte(clean[i:], '=')
				if k < 0 {
					break
				}
				n++
				i += k + 1
			}
			if n == 0 {
				b.Fatal("no '=' in generated text")
			}
		}
	})
}
