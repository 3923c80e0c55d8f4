package detect

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// randomTriggerText returns n bytes drawn mostly from the bytes the pre-pass
// looks at (trigger bytes, g, y in both cases, '=', NUL), so that
// candidates fall at every offset of the kernel's 32-byte blocks.
func randomTriggerText(r *rand.Rand, n int) []byte {
	alphabet := []byte("=%\\&gGyYaz \x00\n+/=")
	b := make([]byte, n)
	for i := range b {
		if r.IntN(4) == 0 {
			b[i] = byte(r.IntN(256))
		} else {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
	}
	return b
}

// TestIndexCandidate: the vector kernel (where the CPU has one) answers as
// its definition does, at every length and for every first match position.
func TestIndexCandidate(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		for range 20 {
			b := randomTriggerText(r, n)
			if got, want := indexCandidate(b), indexCandidateGeneric(b); got != want {
				t.Fatalf("len %d: indexCandidate = %d, definition = %d (%q)", n, got, want, b)
			}
		}
		// a single candidate at every position, in plain text
		for at := 1; at < n; at++ {
			b := make([]byte, n)
			for i := range b {
				b[i] = 'x'
			}
			b[at-1], b[at] = 'G', '%'
			if got := indexCandidate(b); got != at {
				t.Fatalf("len %d: candidate at %d found at %d", n, at, got)
			}
		}
	}
	if haveKernel {
		t.Log("vector kernel in use")
	}
}

// TestPrepassKernels: the kernel path and the IndexByte passes keep the same
// trigger and shape positions and overflow alike, chunk by chunk.
func TestPrepassKernels(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		n := r.IntN(3 * 4096)
		var b []byte
		if round%2 == 0 {
			b = randomTriggerText(r, n) // dense: often overflows
		} else {
			b = genSource(n+100, 0) // source-like text with sparse triggers
			for k := r.IntN(40); k > 0; k-- {
				copy(b[r.IntN(len(b)-16):], []string{"sig=", "SIG%3D", "accountKey=", "s\x00i\x00g\x00=", "ab==", "sig\\u003d", "Sig&#61;"}[r.IntN(7)])
			}
		}
		cs := 0
		if len(b) > 2 {
			cs = r.IntN(len(b) / 2)
		}
		ce := len(b)
		var k, p prepass
		k.runKernel(b, cs, ce)
		p.runPasses(b, cs, ce)
		if k.overflow != p.overflow {
			t.Fatalf("round %d: overflow %v (kernel) vs %v (passes)", round, k.overflow, p.overflow)
		}
		if k.overflow {
			continue
		}
		if k.n != p.n || k.ns != p.ns || k.trig != p.trig || k.shapes != p.shapes {
			t.Fatalf("round %d: kernel kept %d triggers and %d shapes, passes %d and %d", round, k.n, k.ns, p.n, p.ns)
		}
	}
}

// TestIndexQuote: the word-at-a-time search finds the first quote, like a
// byte loop, at every offset and next to bytes that fool a naive zero test.
func TestIndexQuote(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte("\"'`!&#\x01\x00 aZ\x7f\xff")
	for n := range 80 {
		for range 200 {
			b := make([]byte, n)
			for i := range b {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
			want := -1
			for i, c := range b {
				if c == '"' || c == '\'' || c == '`' {
					want = i
					break
				}
			}
			if got := indexQuote(b); got != want {
				t.Fatalf("indexQuote(%q) = %d, want %d", b, got, want)
			}
		}
	}
}

// TestInNotebook: the one-pass marker search says what bytes.Contains of
// each marker in the 4 KiB before the token says.
func TestInNotebook(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(13, 14))
	parts := []string{`"source":`, `"cell_type"`, `"output_type"`, `"source"`, `"cell_`, `"`, `:`, "x", " ", "\n", `"outputs": [`}
	for range 5000 {
		var b []byte
		for j := r.IntN(30); j >= 0; j-- {
			b = append(b, parts[r.IntN(len(parts))]...)
			if r.IntN(8) == 0 {
				b = append(b, make([]byte, r.IntN(3000))...)
			}
		}
		i := r.IntN(len(b) + 1)
		w := b[max(0, i-4096):i]
		want := false
		for _, m := range notebookMarkers {
			want = want || bytes.Contains(w, m)
		}
		if got := inNotebook(b, i); got != want {
			t.Fatalf("inNotebook(%q, %d) = %v, want %v", b, i, got, want)
		}
	}
}
