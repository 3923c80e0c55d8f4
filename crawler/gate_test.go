package crawler

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestGateBounds: never more goroutines inside than the gate allows.
func TestGateBounds(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 3} {
		g := NewGate(n)
		var inside, peak atomic.Int64
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for range 200 {
					g.Enter()
					k := inside.Add(1)
					for {
						old := peak.Load()
						if k <= old || peak.CompareAndSwap(old, k) {
							break
						}
					}
					inside.Add(-1)
					g.Leave()
				}
			})
		}
		wg.Wait()
		if p := peak.Load(); p > int64(n) || p < 1 {
			t.Errorf("gate of %d: peak %d inside", n, p)
		}
	}
	var nilGate *Gate
	nilGate.Enter() // a nil gate lets everyone through
	nilGate.Leave()
}

// holdsGate is a reader that checks, at every Read, that its caller holds
// the gate's only place.
type holdsGate struct {
	g     *Gate
	src   *strings.Reader
	reads int
	t     *testing.T
}

func (h *holdsGate) Read(p []byte) (int, error) {
	h.reads++
	if len(h.g.slots) != cap(h.g.slots) {
		h.t.Error("Read called without the gate")
	}
	return h.src.Read(p)
}

// TestGatedReaderHoldsGate: each read is made inside the gate, and the gate
// is free again between reads (a reader waiting for the consumer must not
// keep a detector's place).
func TestGatedReaderHoldsGate(t *testing.T) {
	t.Parallel()
	g := NewGate(1)
	h := &holdsGate{g: g, src: strings.NewReader(strings.Repeat("x", 10)), t: t}
	r := gatedReader{r: h, g: g}
	buf := make([]byte, 3)
	for {
		if _, err := r.Read(buf); err != nil {
			break
		}
		if len(g.slots) != 0 {
			t.Fatal("the gate is still held between reads")
		}
	}
	if h.reads < 4 {
		t.Fatalf("%d reads, want at least 4", h.reads)
	}
}

// TestDirReadsThroughGate: a Dir with a Gate reads every file inside it, and
// scans everything as it would without one, whatever the number of readers.
func TestDirReadsThroughGate(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	want := map[string]string{}
	for i := range 40 {
		name := filepath.Join(root, "d"+string(rune('a'+i%5)), "f"+strings.Repeat("x", i%7)+string(rune('a'+i)))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		content := strings.Repeat("line of file "+name+"\n", 1+i*50)
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, name)
		want[filepath.ToSlash(rel)] = content
	}
	for _, readers := range []int{1, 4} {
		g := NewGate(1)
		d, err := NewDir([]string{root}, DirConfig{Readers: readers, Gate: g, ChunkSize: 4096, ChunkOverlap: 512})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for b, err := range d.Blobs(t.Context()) {
			if err != nil {
				t.Fatal(err)
			}
			got[b.Origin.Path] += string(b.Data[b.Overlap:])
			if b.Release != nil {
				b.Release()
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d readers: %d files, want %d", readers, len(got), len(want))
		}
		for p, c := range want {
			if got[p] != c {
				t.Errorf("%d readers: %s read wrongly (%d bytes, want %d)", readers, p, len(got[p]), len(c))
			}
		}
		if len(g.slots) != 0 {
			t.Errorf("%d readers: the gate is held after the scan", readers)
		}
		if n := g.passes.Load(); n < int64(len(want)) {
			t.Errorf("%d readers: %d reads through the gate for %d files", readers, n, len(want))
		}
	}
}
