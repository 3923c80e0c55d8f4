package gitscan

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// TestBlobPipe: what a writer puts into the blob pipe in pieces of every
// size, more than the pipe holds, comes out whole and in
// order, then EOF; the read end is the polling one.
func TestBlobPipe(t *testing.T) {
	t.Parallel()
	r, w, err := blobPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, ok := r.(*pollingReader); !ok {
		t.Logf("no 1 MiB pipe here (%T): an ordinary pipe is used", r)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	want := make([]byte, 5<<20)
	for i := range want {
		want[i] = byte(rng.Uint32())
	}
	go func() {
		defer w.Close()
		for rest := want; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(300<<10))
			if _, err := w.Write(rest[:n]); err != nil {
				return
			}
			rest = rest[n:]
		}
	}()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, not the %d written", len(got), len(want))
	}
}
