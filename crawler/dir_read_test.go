package crawler

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestDirReaders: whatever the number of readers and however tight the
// memory budget, blobs come in walk order with the files' bytes, chunks of a
// file consecutive; with or without Release.
func TestDirReaders(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	contents := map[string][]byte{}
	for i := range 120 {
		// Mostly small files, some of several chunks, some empty.
		size := r.IntN(300)
		switch i % 10 {
		case 3:
			size = 2000 + r.IntN(3000)
		case 7:
			size = 0
		}
		name := fmt.Sprintf("d%d/f%03d.txt", i%7, i)
		contents[name] = randomText(r, size)
		writeFile(t, root, name, string(contents[name]))
	}
	cfg := DirConfig{ChunkSize: 512, ChunkOverlap: 64}
	want := collect(t, t.Context(), mustDir(t, []string{root}, DirConfig{ChunkSize: 512, ChunkOverlap: 64, Readers: 1}))
	// The reference is the walk itself: check it against the files.
	byPath := map[string][]item{}
	var order []string
	for _, it := range want {
		if len(byPath[it.Path]) == 0 {
			order = append(order, it.Path)
		}
		byPath[it.Path] = append(byPath[it.Path], it)
	}
	if len(order) != len(contents) {
		t.Fatalf("walk yielded %d files, want %d", len(order), len(contents))
	}
	if !slices.IsSorted(order) {
		t.Errorf("walk order is not lexical: %q", order)
	}
	for p, items := range byPath {
		chunkCheck(t, items, contents[p], mustDir(t, []string{root}, cfg).Config())
	}
	for _, readers := range []int{1, 2, 3, 8, MaxReaders} {
		for _, release := range []bool{false, true} {
			t.Run(fmt.Sprintf("readers=%d/release=%v", readers, release), func(t *testing.T) {
				t.Parallel()
				c := cfg
				c.Readers = readers
				var got []item
				for b, err := range mustDir(t, []string{root}, c).Blobs(t.Context()) {
					if err != nil {
						t.Fatal(err)
					}
					if b.Release == nil {
						t.Fatalf("%s: Release is nil", b.Origin.Path)
					}
					got = append(got, item{Path: b.Origin.Path, Data: string(b.Data), Offset: b.Offset, Line: b.Line, Overlap: b.Overlap})
					if release {
						b.Release()
						b.Release() // a second call does nothing
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("mismatch with one reader (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestDirReleaseKeepsData: a blob whose Release was not called keeps its
// bytes while the iteration goes on reusing released buffers.
func TestDirReleaseKeepsData(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for i := range 200 {
		writeFile(t, root, fmt.Sprintf("f%03d", i), strings.Repeat(fmt.Sprintf("%03d\n", i), 100+i))
	}
	type kept struct {
		b    Blob
		copy string
	}
	var keep []kept
	i := 0
	for b, err := range mustDir(t, []string{root}, DirConfig{Readers: 4}).Blobs(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			keep = append(keep, kept{b, string(b.Data)})
		} else {
			b.Release()
		}
		i++
	}
	for _, k := range keep {
		if string(k.b.Data) != k.copy {
			t.Fatalf("%s: data changed after the yield without Release", k.b.Origin.Path)
		}
	}
}

// TestDirStreamEndsAtChunkEnd: a stream that ends exactly where a chunk
// ends: that chunk is the last, has Tail 0, and a token in its last bytes
// is kept.
func TestDirStreamEndsAtChunkEnd(t *testing.T) {
	t.Parallel()
	const token = "sig=END"
	cfg := DirConfig{ChunkSize: 64, ChunkOverlap: 16}
	// Chunks advance by 48 without newlines: the second ends at 112.
	content := strings.Repeat("x", 112-len(token)) + token
	cfg.Stdin = strings.NewReader(content)
	var blobs []Blob
	for b, err := range mustDir(t, []string{"-"}, cfg).Blobs(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, b)
	}
	if len(blobs) != 2 {
		t.Fatalf("got %d chunks, want 2", len(blobs))
	}
	last := blobs[1]
	if last.Tail != 0 || last.Offset+int64(len(last.Data)) != int64(len(content)) {
		t.Fatalf("last chunk: offset %d len %d tail %d; want it to end the input with tail 0", last.Offset, len(last.Data), last.Tail)
	}
	kept := 0
	for _, b := range blobs {
		if i := bytes.Index(b.Data, []byte(token)); i >= 0 && KeepMatch(b, i, i+len(token)) {
			kept++
		}
	}
	if kept != 1 {
		t.Errorf("token kept %d times, want 1", kept)
	}
}

// TestDirBreakStopsGoroutines: breaking out of the loop stops the walker
// and the readers before the iterator returns. Not parallel: it counts
// goroutines.
func TestDirBreakStopsGoroutines(t *testing.T) {
	root := t.TempDir()
	for i := range 300 {
		writeFile(t, root, filepath.Join(fmt.Sprint("d", i%5), fmt.Sprint("f", i)), strings.Repeat("z", 1000+i))
	}
	// A big file at the head keeps readers busy and the budget spent.
	writeFile(t, root, "a-big", strings.Repeat("y\n", 1<<20))
	before := runtime.NumGoroutine()
	for _, stopAfter := range []int{1, 2, 50} {
		n := 0
		for _, err := range mustDir(t, []string{root}, DirConfig{Readers: 8, ChunkSize: 64 << 10, ChunkOverlap: 1 << 10}).Blobs(t.Context()) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == stopAfter {
				break
			}
		}
	}
	// WaitGroup.Wait returns when the goroutines called Done, an instant
	// before they are gone.
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines after the iterations, %d before", after, before)
	}
}

// TestBufPoolKeepsBounded: the pool reuses what it keeps and never keeps
// more than two chunks' worth of free buffers, whatever is put back.
func TestBufPoolKeepsBounded(t *testing.T) {
	t.Parallel()
	const chunk = 1 << 20
	p := newBufPool(chunk)
	var out []*buffer
	for range 40 {
		out = append(out, p.get(chunk), p.get(5000), p.get(minBuffer))
	}
	for _, b := range out {
		b.put()
	}
	if p.kept > 2*chunk {
		t.Fatalf("keeps %d bytes, bound %d", p.kept, 2*chunk)
	}
	for i, f := range p.free {
		if len(f) > keepPerClass {
			t.Fatalf("class %d keeps %d buffers", i, len(f))
		}
	}
	b := p.get(5000)
	if len(b.data) < 5000 || p.kept > 2*chunk {
		t.Fatalf("get after put: %d bytes", len(b.data))
	}
	reused := false
	for _, o := range out {
		if o == b {
			reused = true
		}
	}
	if !reused {
		t.Error("a kept buffer was not reused")
	}
}
