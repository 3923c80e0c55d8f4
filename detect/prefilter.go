package detect

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
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
	clsConn                        // SharedAccessSignature (context only)
	clsHost                        // storage endpoint suffixes (context only)
	clsEmulator                    // devstoreaccount1, emulator ports (context only)
)

// primary reports whether the class starts a candidate; the other classes only
// give context (an endpoint to pair a bare token with) and never a finding by
// themselves, because every SAS has a sig and every key an AccountKey= or
// the shape of a key.
func (c anchorClass) primary() bool { return c <= clsKeyShape }

type anchor struct {
	pat []byte
	cls anchorClass
}

// sigSuffixes are the encodings of the '=' after "sig": plain, percent-encoded
// once, twice and three times, JSON \u003d and HTML entities.
var sigSuffixes = []string{"=", "%3d", "%3D", "%253d", "%253D", "%25253d", "%25253D",
	`\u003d`, `\u003D`, "&#61;", "&#x3d;", "&#x3D;", "&#X3D;"}

// buildAnchors returns every anchor with its case variants. "sig" gets all 8
// case variants; longer words get lower, upper, Title and their usual spelling.
func buildAnchors() []anchor {
	var out []anchor
	seen := map[string]bool{}
	add := func(p string, c anchorClass) {
		if p == "" || seen[p] {
			return
		}
		seen[p] = true
		out = append(out, anchor{pat: []byte(p), cls: c})
	}
	for _, s := range caseVariants("sig") {
		for _, suf := range sigSuffixes {
			add(s+suf, clsSig)
		}
		add(utf16le(s+"="), clsSig16)
		add(utf16le(s+"%3d"), clsSig16)
		add(utf16le(s+"%3D"), clsSig16)
	}
	for _, w := range wordVariants("AccountKey") {
		add(w+"=", clsKey)
		add(w+"%3D", clsKey)
		add(w+"%3d", clsKey)
		add(utf16le(w+"="), clsKey16)
	}
	for _, w := range wordVariants("SharedAccessSignature") {
		add(w, clsConn)
	}
	for _, h := range []string{".core.windows.net", ".core.chinacloudapi.cn", ".core.usgovcloudapi.net",
		".core.cloudapi.de", ".storage.azure.net", ".blob.localhost"} {
		for _, w := range dottedVariants(h) {
			add(w, clsHost)
		}
	}
	for _, w := range wordVariants("AzureStack") {
		add(w, clsHost)
	}
	for _, w := range wordVariants("DevStoreAccount1") {
		add(w, clsEmulator)
	}
	for _, base := range []int{10000, 10100, 11000, 11100} {
		for i := range 5 {
			add(":"+strconv.Itoa(base+i)+"/", clsEmulator)
		}
	}
	return out
}

// caseVariants returns all 2^n case combinations of a short ASCII word.
func caseVariants(w string) []string {
	n := len(w)
	out := make([]string, 0, 1<<n)
	for mask := range 1 << n {
		b := []byte(w)
		for i := range n {
			if mask&(1<<i) != 0 {
				b[i] = upper(b[i])
			} else {
				b[i] = lower(b[i])
			}
		}
		out = append(out, string(b))
	}
	return out
}

// wordVariants returns w as written, lower, upper, and with only the first letter upper.
func wordVariants(w string) []string {
	l := strings.ToLower(w)
	return []string{w, l, strings.ToUpper(w), strings.ToUpper(l[:1]) + l[1:]}
}

// dottedVariants returns lower, upper and Title-per-label forms of a host suffix.
func dottedVariants(h string) []string {
	labels := strings.Split(h, ".")
	for i, l := range labels {
		if l != "" {
			labels[i] = strings.ToUpper(l[:1]) + l[1:]
		}
	}
	return []string{h, strings.ToUpper(h), strings.Join(labels, ".")}
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

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
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
// only on small windows around trigger positions found with bytes.IndexByte
// (SIMD). Every candidate anchor (the sig and AccountKey families, in every
// case, encoding and UTF-16) contains a trigger: one of the bytes of
// triggerBytes directly after 'g' or 'y' (any case), possibly with one NUL
// between them (UTF-16). TestAnchorsHaveTrigger checks this for every anchor.
var triggerBytes = [...]byte{'=', '%', '\\', '&'}

// trigger reports whether the trigger byte at data[i] follows a g or y.
func trigger(data []byte, i int) bool { return prevClass(data, i) == prevTrigger }

// What the byte before a trigger byte says (prevClass).
const (
	prevNone    = 0 // anything else: no candidate
	prevTrigger = 1 // g or y, any case: a trigger
	prevEquals  = 2 // '=': the second '=' of "==" (an account key's padding)
	prevNUL     = 3 // NUL: look one byte further back (UTF-16)
)

var prevClasses = [256]uint8{'g': prevTrigger, 'G': prevTrigger, 'y': prevTrigger, 'Y': prevTrigger, '=': prevEquals, 0: prevNUL}

// prevClass classifies the byte before data[i] with one table load: the
// pre-pass calls it for every '=' of the input, so the common answer
// (prevNone) costs a load and a compare. A NUL is skipped once (UTF-16
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

// scan returns the candidate anchor occurrences in data, in order, at most
// limit of them, and whether the limit cut the scan short (the input was not
// examined to its end; counted before duplicates from overlapping windows are
// removed, so a cut scan is always reported). With no candidate it does not
// allocate.
func (p *prefilter) scan(data []byte, limit int) ([]cand, bool) {
	var out []cand
	var trig [maxTriggers]int
	var shapes [maxShapes]int
	for cs := 0; cs < len(data) && len(out) < limit; cs += prepassChunk {
		ce := min(cs+prepassChunk, len(data))
		n, ns := 0, 0
		overflow := false
	passes:
		for _, tb := range triggerBytes {
			for off := cs; off < ce; {
				i := bytes.IndexByte(data[off:ce], tb)
				if i < 0 {
					break
				}
				q := off + i
				off = q + 1
				pc := prevClass(data, q)
				if pc == prevNone {
					continue // nearly every '=': one load, one compare
				}
				if pc != prevTrigger {
					// The second '=' of an account key's padding: no anchor
					// names it, so its shape is the candidate. Only after
					// "==" that follows a base64 character, which is rare
					// in text ("x == y" ends at its blank). Positions are
					// kept, not checked, here: this loop runs for every
					// '=' of the input and stays small.
					if pc == prevEquals && tb == '=' && q >= keyLen-1 && isB64Char(data[q-2]) {
						if ns == len(shapes) {
							overflow = true
							break passes
						}
						shapes[ns] = q
						ns++
					}
					continue
				}
				if n == len(trig) {
					overflow = true
					break passes
				}
				trig[n] = q
				n++
			}
		}
		if overflow {
			out = p.window(out, data, max(0, cs-anchorReach), min(len(data), ce+anchorReach), limit)
			out = unanchored(out, data, cs, ce, limit)
			continue
		}
		for _, q := range shapes[:ns] {
			if ks, ok := keyShapeEnd(data, q+1); ok && len(out) < limit {
				out = append(out, cand{pos: ks, cls: clsKeyShape})
			}
		}
		if n == 0 {
			continue
		}
		slices.Sort(trig[:n])
		for _, q := range trig[:n] {
			// AccountKey= in any case, not only the spellings the
			// automaton has patterns for (accountKey=, ACCOUNTkey=...)
			if ak := q - len("accountkey"); ak >= 0 && data[q-1]|0x20 == 'y' && (data[q] == '=' || hasPrefixFold(data, q, "%3d")) &&
				hasPrefixFold(data, ak, "accountkey") && len(out) < limit {
				out = append(out, cand{pos: ak, cls: clsKey})
			}
		}
		ws, we := -1, -1
		for _, q := range trig[:n] {
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

// window runs the automaton over data[ws:we] and appends the positions of the
// primary anchors it reports (found with bytes.Index).
func (p *prefilter) window(out []cand, data []byte, ws, we, limit int) []cand {
	hits := p.match(data[ws:we])
	for _, h := range hits {
		a := p.anchors[h]
		if !a.cls.primary() {
			continue
		}
		for off := ws; off < we && len(out) < limit; {
			i := bytes.Index(data[off:we], a.pat)
			if i < 0 {
				break
			}
			out = append(out, cand{pos: off + i, cls: a.cls})
			off += i + 1
		}
	}
	return out
}

// unanchored appends the candidates the automaton has no pattern for, in
// data[cs:ce]: AccountKey= in any case and the shape of an account key. The
// pre-pass finds them at its trigger positions; this is its fallback for a
// chunk with too many triggers to keep.
func unanchored(out []cand, data []byte, cs, ce, limit int) []cand {
	for off := cs; off < ce && len(out) < limit; {
		i := bytes.IndexByte(data[off:ce], '=')
		if i < 0 {
			break
		}
		q := off + i
		off = q + 1
		if q == 0 {
			continue
		}
		if data[q-1] == '=' {
			if ks, ok := keyShapeEnd(data, q+1); ok {
				out = append(out, cand{pos: ks, cls: clsKeyShape})
			}
		} else if p := q - len("accountkey"); p >= 0 && hasPrefixFold(data, p, "accountkey") {
			out = append(out, cand{pos: p, cls: clsKey})
		}
	}
	for off := cs; off+2 < ce && len(out) < limit; {
		i := bytes.IndexByte(data[off:ce], '%')
		if i < 0 {
			break
		}
		q := off + i
		off = q + 1
		if p := q - len("accountkey"); p >= 0 && hasPrefixFold(data, q, "%3d") && hasPrefixFold(data, p, "accountkey") {
			out = append(out, cand{pos: p, cls: clsKey})
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
