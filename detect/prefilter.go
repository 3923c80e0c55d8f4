package detect

import (
	"bytes"
	"slices"
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
	clsConn                        // SharedAccessSignature (context only)
	clsHost                        // storage endpoint suffixes (context only)
	clsEmulator                    // devstoreaccount1, emulator ports (context only)
)

// primary reports whether the class starts a candidate; the other classes only
// give context (an endpoint to pair a bare token with) and never a finding by
// themselves, because every SAS has a sig and every key an AccountKey=.
func (c anchorClass) primary() bool { return c <= clsKey16 }

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
			add(":"+itoa(base+i)+"/", clsEmulator)
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

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
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
func trigger(data []byte, i int) bool {
	if i == 0 {
		return false
	}
	p := data[i-1]
	if p == 0 && i >= 2 {
		p = data[i-2]
	}
	p |= 0x20
	return p == 'g' || p == 'y'
}

const (
	prepassChunk = 64 << 10 // bytes scanned per round of IndexByte passes (stays in L2)
	maxTriggers  = 256      // triggers per chunk before the whole chunk goes to the automaton
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
	for cs := 0; cs < len(data) && len(out) < limit; cs += prepassChunk {
		ce := min(cs+prepassChunk, len(data))
		n := 0
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
				if !trigger(data, q) {
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
		if n == 0 {
			continue
		}
		if overflow {
			out = p.window(out, data, max(0, cs-anchorReach), min(len(data), ce+anchorReach), limit)
			continue
		}
		insertionSort(trig[:n])
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

func insertionSort(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
