package detect

import (
	"bytes"
	"strings"
	"testing"
)

// TestAnchorsHaveTrigger checks the soundness of the pre-pass: every
// candidate anchor contains a trigger position, so no anchor can hide from
// the automaton.
func TestAnchorsHaveTrigger(t *testing.T) {
	t.Parallel()
	p := defaultPrefilter()
	n := 0
	for _, a := range p.anchors {
		n++
		ok := false
		for i := range a.pat {
			if bytes.IndexByte(triggerBytes[:], a.pat[i]) >= 0 && prevClass(a.pat, i) == prevTrigger {
				ok = true
			}
		}
		if !ok {
			t.Errorf("anchor %q has no trigger position", a.pat)
		}
		if len(a.pat) > anchorReach {
			t.Errorf("anchor %q longer than anchorReach", a.pat)
		}
	}
	if n < len(sigSuffixes) {
		t.Errorf("only %d candidate anchors; encodings of sig= are missing", n)
	}
}

// TestPrefilterFindsEveryForm: every anchor, in lower, upper and alternating
// case, alone in filler text at every alignment of the pre-pass chunking
// (and of the pieces the automaton's windows are folded in), is found.
func TestPrefilterFindsEveryForm(t *testing.T) {
	t.Parallel()
	d := New(Config{})
	p := defaultPrefilter()
	for _, a := range p.anchors {
		for _, pat := range [][]byte{a.pat, bytes.ToUpper(a.pat), alternateCase(a.pat)} {
			for _, at := range []int{0, 1, foldPiece - 3, prepassChunk - 3, prepassChunk - len(pat) + 1, prepassChunk} {
				data := bytes.Repeat([]byte("x = y; "), (prepassChunk+100)/7)
				if at+len(pat) > len(data) {
					continue
				}
				copy(data[at:], pat)
				if !d.Prefilter(data) {
					t.Errorf("anchor %q at %d not found", pat, at)
				}
			}
		}
	}
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// alternateCase returns p with every other letter in upper case ("SiG%3d").
func alternateCase(p []byte) []byte {
	out := bytes.Clone(p)
	for i := 0; i < len(out); i += 2 {
		out[i] = upper(out[i])
	}
	return out
}

// TestPrefilterDenseTriggers: more triggers in a chunk than the pre-pass
// keeps (the whole chunk goes to the automaton) still finds the anchor.
func TestPrefilterDenseTriggers(t *testing.T) {
	t.Parallel()
	data := []byte(strings.Repeat("msg=1&key=2&", 2000) + "SIG%3D" + strings.Repeat("arg=3&", 100))
	if !New(Config{}).Prefilter(data) {
		t.Fatal("anchor after dense triggers not found")
	}
	if New(Config{}).Prefilter([]byte(strings.Repeat("msg=1&key=2&", 2000))) {
		t.Fatal("false positive")
	}
}

// TestNoHitNoAlloc: a blob without a hit costs zero allocations.
func TestNoHitNoAlloc(t *testing.T) {
	data := genSource(1<<20, 0)
	d := New(Config{Now: specNow})
	d.Detect(data) // warm the pools
	if n := testing.AllocsPerRun(20, func() { d.Detect(data) }); n != 0 {
		t.Errorf("Detect allocates %v times on a blob without tokens", n)
	}
	if n := testing.AllocsPerRun(20, func() { d.Prefilter(data) }); n != 0 {
		t.Errorf("Prefilter allocates %v times on a blob without tokens", n)
	}
	// triggers without anchors: the automaton runs on windows but finds nothing
	near := []byte(strings.Repeat(`msg=hello&lang=en&key=value; sign=1 %3d \u003d arg%20x`+"\n", 20000))
	d.Detect(near)
	if raceEnabled {
		return
	}
	if n := testing.AllocsPerRun(20, func() { d.Detect(near) }); n != 0 {
		t.Errorf("Detect allocates %v times on near misses", n)
	}
}

// TestManyAnchors: a blob of a million anchors stays bounded (the test would
// time out if the work were quadratic) and returns no match.
func TestManyAnchors(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("large input")
	}
	d := New(Config{Now: specNow})
	for _, unit := range []string{"sig=", "sig=" + sig07 + "&", "&sig=x", "AccountKey=", "s\x00i\x00g\x00=\x00"} {
		data := []byte(strings.Repeat(unit, 1_000_000/len(unit)*4))
		res := d.Detect(data)
		if len(res.Matches) != 0 {
			t.Errorf("%q: %d matches", unit, len(res.Matches))
		}
	}
	// many real tokens: bounded number of matches
	tok := "https://contosomany.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=r&se=2030-01-01&sig=" + sig07 + "\n"
	res := d.Detect([]byte(strings.Repeat(tok, 20000)))
	if !res.Truncated {
		t.Error("Truncated not set")
	}
	if len(res.Matches) == 0 || len(res.Matches) > maxMatches {
		t.Errorf("got %d matches, want 1..%d", len(res.Matches), maxMatches)
	}
}
