package detect

import (
	"bytes"
	"slices"
	"sync"

	"github.com/cloudflare/ahocorasick"
)

// anchorClass says what an anchor is evidence of.
type anchorClass uint8

const (
	clsSig      anchorClass = iota // sig= in any encoding: the start of a SAS candidate
	clsSig16                       // s\0i\0g\0= : UTF-16 text with a sig= in it
	clsKey                         // AccountKey=
	clsKey16                       // AccountKey= in UTF-16
	clsKeyShape                    // 86 base64 characters and "==": an account key outside a connection string
)

// Every candidate starts at an anchor: every SAS has a sig and every key an
// AccountKey= or the shape of a key. Context (an endpoint to pair a bare
// token with) is looked for around a candidate, never anchored.

type anchor struct {
	pat []byte // lower case: the automaton runs over text folded to lower case
	cls anchorClass
}

// sigSuffixes are the encodings of the '=' after "sig", in lower case: plain,
// percent-encoded once, twice and three times, JSON \u003d and HTML entities.
var sigSuffixes = []string{"=", "%3d", "%253d", "%25253d", `\u003d`, "&#61;", "&#x3d;"}

// buildAnchors returns every anchor in lower case. The automaton matches
// ASCII-case-insensitively (window folds the text), so "SiG%3D" and
// "ACCOUNTKEY=" need no patterns of their own: a dozen patterns instead of
// two hundred keep the automaton small (each trie node holds two 256-entry
// tables) and its construction, at every start, short.
func buildAnchors() []anchor {
	var out []anchor
	add := func(p string, c anchorClass) { out = append(out, anchor{pat: []byte(p), cls: c}) }
	for _, suf := range sigSuffixes {
		add("sig"+suf, clsSig)
	}
	add(utf16le("sig="), clsSig16)
	add(utf16le("sig%3d"), clsSig16)
	add("accountkey=", clsKey)
	add("accountkey%3d", clsKey)
	add(utf16le("accountkey="), clsKey16)
	return out
}

func utf16le(s string) string {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	// drop the trailing NUL so that the same pattern also matches big-endian text
	return string(b[:len(b)-1])
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// prefilter is the Aho-Corasick automaton over all anchors. It is immutable
// and safe for concurrent use: it matches with MatchThreadSafe, which
// BenchmarkAhoCorasickCore measured as fast as a sync.Pool of per-goroutine
// matchers (Match is not safe for concurrent use) without the pool's
// allocations and rebuilds of the trie after every GC.
type prefilter struct {
	anchors []anchor
	shared  *ahocorasick.Matcher
	dict    [][]byte
}

var (
	prefilterOnce sync.Once
	prefilterVal  *prefilter
)

// defaultPrefilter builds the automaton once per process; it is immutable afterwards.
func defaultPrefilter() *prefilter {
	prefilterOnce.Do(func() {
		p := &prefilter{anchors: buildAnchors()}
		p.dict = make([][]byte, len(p.anchors))
		for i, a := range p.anchors {
			p.dict[i] = a.pat
		}
		p.shared = ahocorasick.NewMatcher(p.dict)
		prefilterVal = p
	})
	return prefilterVal
}

// match returns the indices of the anchors that occur in data (each once), nil
// when none does. With no hit it does not allocate.
func (p *prefilter) match(data []byte) []int {
	return p.shared.MatchThreadSafe(data)
}

func sortCands(c []cand) {
	slices.SortFunc(c, func(a, b cand) int { return a.pos - b.pos })
}

// The pre-pass. Running the automaton over every byte costs about as much as
// the whole detector may (see BenchmarkAhoCorasickCore), so the automaton runs
// only on small windows around trigger positions, found by a vector kernel
// (prepass.run). Every candidate anchor (the sig and AccountKey families, in every
// case, encoding and UTF-16) contains a trigger: one of the bytes of
// triggerBytes directly after 'g' or 'y' (any case), possibly with one NUL
// between them (UTF-16). TestAnchorsHaveTrigger checks this for every anchor.
var triggerBytes = [...]byte{'=', '%', '\\', '&'}

// What the byte before a trigger byte says (prevClass).
const (
	prevNone    = 0 // anything else: no candidate
	prevTrigger = 1 // g or y, any case: a trigger
	prevEquals  = 2 // '=': the second '=' of "==" (an account key's padding)
	prevNUL     = 3 // NUL: look one byte further back (UTF-16)
)

var prevClasses = [256]uint8{'g': prevTrigger, 'G': prevTrigger, 'y': prevTrigger, 'Y': prevTrigger, '=': prevEquals, 0: prevNUL}

// prevClass classifies the byte before data[i] with one table load: the
// pre-pass without AVX2 calls it for every '=' of the input, so the common
// answer (prevNone) costs a load and a compare. A NUL is skipped once (UTF-16
// text), and "=\x00=" is not "==".
func prevClass(data []byte, i int) uint8 {
	if i == 0 {
		return prevNone
	}
	c := prevClasses[data[i-1]]
	if c == prevNUL {
		if i < 2 {
			return prevNone
		}
		c = prevClasses[data[i-2]] & prevTrigger
	}
	return c
}

const (
	prepassChunk = 64 << 10 // bytes scanned per round of IndexByte passes (stays in L2)
	maxTriggers  = 256      // triggers per chunk before the whole chunk goes to the automaton
	maxShapes    = 64       // "==" after a base64 character per chunk, idem
	anchorReach  = 32       // >= the longest anchor: the automaton window on each side of a trigger
)

// cand is a candidate anchor occurrence in the input.
type cand struct {
	pos int
	cls anchorClass
}

// prepass is what the pre-pass keeps of one chunk: the trigger positions
// and the positions of "==" after a base64 character (an account key's
// padding), each in increasing order. It lives on the stack of scan.
type prepass struct {
	trig     [maxTriggers]int
	shapes   [maxShapes]int
	n, ns    int
	overflow bool // more positions than kept: the whole chunk goes to the automaton
}

// run fills pp with the positions in data[cs:ce], with the vector kernel
// when the CPU has one (prepass_amd64.go), else with one bytes.IndexByte
// pass per trigger byte. Both find the same positions (TestPrepassKernels).
func (pp *prepass) run(data []byte, cs, ce int) {
	pp.n, pp.ns, pp.overflow = 0, 0, false
	if haveKernel {
		pp.runKernel(data, cs, ce)
		return
	}
	pp.runPasses(data, cs, ce)
}

// runKernel asks the kernel for each position in data[cs:ce] where a
// trigger byte follows a g, y, '=' or NUL (rare in prose; base64 "=="
// padding is the common one) and classifies it.
func (pp *prepass) runKernel(data []byte, cs, ce int) {
	base := max(cs-1, 0) // the kernel reads the byte before each position
	b := data[base:ce]
	for i := 1; i < len(b); {
		k := indexCandidate(b[i-1:])
		if k < 0 {
			return
		}
		if !pp.add(data, base+i-1+k) {
			return
		}
		i += k
	}
}

// runPasses finds the trigger bytes with bytes.IndexByte (SIMD), one pass
// per trigger byte over the chunk (which stays in L2), and classifies each
// by the byte before it: for nearly every '=' one load and one compare.
func (pp *prepass) runPasses(data []byte, cs, ce int) {
	for _, tb := range triggerBytes {
		for off := cs; off < ce; {
			i := bytes.IndexByte(data[off:ce], tb)
			if i < 0 {
				break
			}
			q := off + i
			off = q + 1
			if prevClass(data, q) != prevNone && !pp.add(data, q) {
				return
			}
		}
	}
	slices.Sort(pp.trig[:pp.n])
	slices.Sort(pp.shapes[:pp.ns])
}

// add classifies the trigger byte at q by the byte before it; false when pp
// is full (overflow).
func (pp *prepass) add(data []byte, q int) bool {
	switch prevClass(data, q) {
	case prevTrigger:
		if !endsAnchorWord(data, q) {
			return true // "config=", "msg%20", "key=": no anchor ends here
		}
		if pp.n == len(pp.trig) {
			pp.overflow = true
			return false
		}
		pp.trig[pp.n] = q
		pp.n++
	case prevEquals:
		// The second '=' of an account key's padding: no anchor names it,
		// so its shape is the candidate. Only after "==" that follows a
		// base64 character, which is rare in text ("x == y" ends at its
		// blank). Positions are kept, not checked, here.
		if data[q] == '=' && q >= keyLen-1 && isB64Char(data[q-2]) {
			if pp.ns == len(pp.shapes) {
				pp.overflow = true
				return false
			}
			pp.shapes[pp.ns] = q
			pp.ns++
		}
	}
	return true
}

// endsAnchorWord reports whether the trigger byte at q follows "sig" or
// "accountkey" (any case; in UTF-16, with a NUL after each letter), the
// words every anchor has right before its trigger byte. Most triggers in
// code ("config=", "msg=", "key%3d") end other words, and this test spares
// them the automaton's window; the automaton still decides.
func endsAnchorWord(data []byte, q int) bool {
	p, step := q-1, 1
	if p >= 0 && data[p] == 0 {
		p, step = p-1, 2 // UTF-16: "s\0i\0g\0=" (little-endian) or "\0s\0i\0g\0=" (big-endian)
	}
	word := "sig"
	if p >= 0 && data[p]|0x20 == 'y' {
		word = "accountkey"
	}
	for k := len(word) - 1; k >= 0; k-- {
		if p < 0 || lowerTable[data[p]] != word[k] {
			return false
		}
		p -= step
	}
	return true
}

// indexCandidateGeneric is the kernel's definition: the least i >= 1 such
// that b[i] is a trigger byte and b[i-1] is a g or a y (any case), an '='
// or a NUL; -1 if there is none.
func indexCandidateGeneric(b []byte) int {
	for i := 1; i < len(b); i++ {
		if isTriggerByte[b[i]] && prevClasses[b[i-1]] != prevNone {
			return i
		}
	}
	return -1
}

// isTriggerByte is triggerBytes as a table.
var isTriggerByte = func() (t [256]bool) {
	for _, c := range triggerBytes {
		t[c] = true
	}
	return t
}()

// scan returns the candidate anchor occurrences in data, in order, at most
// limit of them, and whether the limit cut the scan short (the input was not
// examined to its end; counted before duplicates from overlapping windows are
// removed, so a cut scan is always reported). With no candidate it does not
// allocate.
func (p *prefilter) scan(data []byte, limit int) ([]cand, bool) {
	var out []cand
	var pp prepass
	for cs := 0; cs < len(data) && len(out) < limit; cs += prepassChunk {
		ce := min(cs+prepassChunk, len(data))
		pp.run(data, cs, ce)
		if pp.overflow {
			out = p.window(out, data, max(0, cs-anchorReach), min(len(data), ce+anchorReach), limit)
			out = unanchored(out, data, cs, ce, limit)
			continue
		}
		for _, q := range pp.shapes[:pp.ns] {
			if ks, ok := keyShapeEnd(data, q+1); ok && len(out) < limit {
				out = append(out, cand{pos: ks, cls: clsKeyShape})
			}
		}
		if pp.n == 0 {
			continue
		}
		ws, we := -1, -1
		for _, q := range pp.trig[:pp.n] {
			s, e := max(0, q-anchorReach), min(len(data), q+anchorReach)
			if ws >= 0 && s <= we {
				we = e
				continue
			}
			if ws >= 0 {
				out = p.window(out, data, ws, we, limit)
			}
			ws, we = s, e
		}
		out = p.window(out, data, ws, we, limit)
	}
	full := len(out) >= limit
	if len(out) > 1 {
		sortCands(out)
		out = slices.CompactFunc(out, func(a, b cand) bool { return a.pos == b.pos })
	}
	return out, full
}

// foldPiece is how much of a window window folds to lower case at a time,
// in a buffer on its stack (windows are small; a chunk with too many
// triggers is one window of 64 KiB).
const foldPiece = 4096

// window runs the automaton over data[ws:we] folded to ASCII lower case, in
// pieces that overlap by anchorReach (no anchor falls between two), and
// appends the positions of the anchors it reports (found with bytes.Index
// in the folded piece). The automaton's per-call match set comes from a
// sync.Pool, which a garbage collection empties: a call may allocate even
// when it finds nothing.
func (p *prefilter) window(out []cand, data []byte, ws, we, limit int) []cand {
	var buf [foldPiece]byte
	for s := ws; s < we; s += foldPiece - anchorReach {
		e := min(s+foldPiece, we)
		low := buf[:e-s]
		for i, c := range data[s:e] {
			low[i] = lowerTable[c]
		}
		for _, h := range p.match(low) {
			a := p.anchors[h]
			for off := 0; off < len(low) && len(out) < limit; {
				i := bytes.Index(low[off:], a.pat)
				if i < 0 {
					break
				}
				out = append(out, cand{pos: s + off + i, cls: a.cls})
				off += i + 1
			}
		}
		if e == we {
			break
		}
	}
	return out
}

// lowerTable folds ASCII letters to lower case and leaves every other byte.
var lowerTable = func() (t [256]byte) {
	for i := range t {
		t[i] = lower(byte(i))
	}
	return t
}()

// unanchored appends the candidates the automaton has no pattern for, in
// data[cs:ce]: the shape of an account key. The pre-pass finds them at its
// trigger positions; this is its fallback for a chunk with too many
// triggers to keep.
func unanchored(out []cand, data []byte, cs, ce, limit int) []cand {
	for off := max(cs-1, 0); off < ce && len(out) < limit; {
		i := bytes.Index(data[off:ce], []byte("=="))
		if i < 0 {
			break
		}
		q := off + i + 1 // the second '='
		off = q
		if ks, ok := keyShapeEnd(data, q+1); ok {
			out = append(out, cand{pos: ks, cls: clsKeyShape})
		}
	}
	return out
}

// keyLen is the length of an account key in base64: 64 bytes, 86 characters and "==".
const keyLen = 88

// keyShapeEnd reports whether data[e-keyLen:e] has the shape of an account
// key: exactly 86 base64 characters (not part of a longer run) and "==". It
// returns the start of the key.
func keyShapeEnd(data []byte, e int) (int, bool) {
	s := e - keyLen
	if s < 0 || e > len(data) || data[e-1] != '=' || data[e-2] != '=' {
		return 0, false
	}
	if s > 0 && isB64Char(data[s-1]) || e < len(data) && (isB64Char(data[e]) || data[e] == '=') {
		return 0, false
	}
	for i := e - 3; i >= s; i-- { // backward: "a==b" in code fails at once
		if !isB64Char(data[i]) {
			return 0, false
		}
	}
	return s, true
}

// isB64Char reports a base64 character other than the padding '='.
func isB64Char(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}
