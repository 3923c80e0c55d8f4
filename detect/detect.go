package detect

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"time"
)

// Resource bounds of one Detect call (reliability: bound every resource).
const (
	maxAnchors   = 1 << 16 // anchor occurrences examined per Detect
	maxParses    = 1 << 14 // candidates extracted and classified per Detect
	maxMatches   = 1 << 12 // matches returned per Detect
	windowBefore = 4096    // bytes of context before an anchor (URL start, endpoint to pair with, split strings)
	windowAfter  = 2048    // bytes after an anchor (the rest of the token)
	maxRegion    = 1 << 20 // merged windows are cut at this size
	maxEndpoints = 256     // storage endpoints remembered per region for pairing
)

// Detector finds and classifies SAS tokens and account keys. It holds no
// per-call state and is safe for concurrent use.
type Detector struct {
	now time.Time
	pf  *prefilter
}

// New returns a Detector. The automaton is built once per process and shared.
// New is safe for concurrent use.
func New(cfg Config) *Detector {
	return &Detector{now: cfg.Now, pf: defaultPrefilter()}
}

func (d *Detector) clock() time.Time {
	if d.now.IsZero() {
		return time.Now().UTC()
	}
	return d.now
}

// Prefilter reports whether data contains a candidate anchor: a sig= (in
// any case, percent-encoded up to three times, \u003d, &#61;, UTF-16), an
// AccountKey= (any case) or a value with the shape of an account key.
// Detect looks further only when Prefilter is true, so a Detect result with
// a match implies Prefilter(data). It is safe for concurrent use.
func (d *Detector) Prefilter(data []byte) bool {
	cands, _ := d.prefilter().scan(data, 1)
	return len(cands) > 0
}

func (d *Detector) prefilter() *prefilter {
	if d.pf == nil {
		return defaultPrefilter()
	}
	return d.pf
}

// Detect returns every credential in data, classified at Config.Now. It never
// fails and never panics (bad input is a non-match), does not modify or
// retain data, and costs one pass with no allocation when no anchor occurs.
// Detect is safe for concurrent use.
func (d *Detector) Detect(data []byte) (res Result) {
	defer func() {
		if recover() != nil { // defence in depth: a bug must not take the scan down
			res = Result{Truncated: true} // not examined: a coverage gap
		}
	}()
	return d.detect(data)
}

// detect is Detect without the recover, so that fuzzing sees panics.
func (d *Detector) detect(data []byte) (res Result) {
	cands, full := d.prefilter().scan(data, maxAnchors)
	if len(cands) == 0 {
		return Result{}
	}
	now := d.clock()
	// sized for the candidates: most become matches, and a Match is large
	// enough that regrowing the slice would copy each several times
	hint := min(len(cands), 64)
	st := &state{data: data, now: now, budget: maxParses, seen: make(map[seenKey]bool, hint),
		matches: make([]Match, 0, hint), truncated: full}
	var u8, u16 []int
	for _, c := range cands {
		if c.cls == clsSig16 || c.cls == clsKey16 {
			u16 = append(u16, c.pos)
		} else {
			u8 = append(u8, c.pos)
		}
	}
	sc := scratchPool.Get().(*scratch)
	defer sc.release()
	forRegions(u8, len(data), 1, func(rs, re int) {
		st.text(normalize(newText(data, rs, re, &sc.a), &sc.b))
	})
	if len(u16) > 0 {
		be := len(data) >= 2 && data[0] == 0xFE && data[1] == 0xFF
		bom := len(data) >= 2 && (be || data[0] == 0xFF && data[1] == 0xFE)
		// without a BOM: "\0s\0i\0g\0=" (NUL before the letter) is big-endian
		if !bom {
			p := u16[0]
			be = p > 0 && data[p-1] == 0
		}
		align := 0 // parity of the offsets where code units start
		if !bom {
			if p := u16[0]; be {
				align = (p - 1) & 1
			} else {
				align = p & 1
			}
		}
		st.wide, st.be, st.bom = map[int]bool{}, be, bom
		forRegions(u16, len(data), 2, func(rs, re int) {
			if (rs-align)&1 != 0 {
				if rs > 0 {
					rs--
				} else {
					rs++
				}
			}
			if bom && rs < 2 {
				rs = 2
			}
			if rs >= re {
				return
			}
			st.inWide = true
			st.text(normalize(decodeUTF16(data, rs, re, be, &sc.a), &sc.b))
			st.inWide = false
		})
	}
	if len(st.matches) == 0 {
		st.matches = nil // as before the slice was sized: no match, no slice
	}
	res = Result{Matches: st.matches, Rejected: st.rejected, Rejections: st.rejections, Truncated: st.truncated}
	slices.SortStableFunc(res.Matches, func(a, b Match) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return a.End - b.End
	})
	st.positions(res.Matches)
	return res
}

// scratch holds the two normalisation buffers of one Detect call; pooled so
// that regions and calls reuse their memory.
type scratch struct{ a, b text }

// maxPooledScratch: larger buffers (from a 1 MiB region) are not kept.
const maxPooledScratch = 256 << 10

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func (sc *scratch) release() {
	if cap(sc.a.b) <= maxPooledScratch && cap(sc.b.b) <= maxPooledScratch {
		scratchPool.Put(sc)
	}
}

// forRegions merges the windows around sorted positions into regions of at
// most maxRegion*scale bytes and calls f for each.
func forRegions(pos []int, n, scale int, f func(rs, re int)) {
	rs, re := -1, -1
	for _, p := range pos {
		s, e := max(0, p-windowBefore*scale), min(n, p+windowAfter*scale)
		if rs >= 0 && s <= re && e-rs <= maxRegion*scale {
			re = max(re, e)
			continue
		}
		if rs >= 0 {
			f(rs, re)
		}
		rs, re = s, e
	}
	if rs >= 0 {
		f(rs, re)
	}
}

// positions fills Line and Column (1-based) of sorted matches. A column
// counts bytes, and characters in UTF-16 text (a surrogate pair is one).
func (st *state) positions(ms []Match) {
	data := st.data
	line, lineStart, off := 1, 0, 0
	for i := range ms {
		start := min(max(ms[i].Start, off), len(data))
		seg := data[off:start]
		if n := bytes.Count(seg, []byte{'\n'}); n > 0 {
			line += n
			lineStart = off + bytes.LastIndexByte(seg, '\n') + 1
		}
		off = start
		ms[i].Line = line
		ms[i].Column = ms[i].Start - lineStart + 1
		if st.wide[ms[i].Start] {
			ms[i].Column = st.wideColumn(lineStart, ms[i].Start)
		}
	}
}

// wideColumn is the 1-based column, in characters, of the UTF-16 code unit
// at start on the line whose '\n' byte ends just before lineStart.
func (st *state) wideColumn(lineStart, start int) int {
	ls := lineStart
	switch {
	case lineStart == 0 && st.bom:
		ls = 2
	case lineStart > 0 && !st.be:
		ls++ // the NUL of "\n\x00"
	}
	if ls > start {
		return 1
	}
	col := 1
	for i := ls; i < start && i+1 < len(st.data); i += 2 {
		u := uint16(st.data[i+1])<<8 | uint16(st.data[i])
		if st.be {
			u = uint16(st.data[i])<<8 | uint16(st.data[i+1])
		}
		if u < 0xDC00 || u > 0xDFFF { // a low surrogate ends a character counted at its high one
			col++
		}
	}
	return col
}

// seenKey identifies a match found twice (from overlapping regions). The
// fingerprint is part of it: two credentials can span the same bytes (an
// AccountKey= and a SharedAccessSignature= in one connection string).
type seenKey struct {
	start, end int
	fp         string
}

// state is the per-call state of Detect.
type state struct {
	data       []byte
	now        time.Time
	budget     int
	matches    []Match
	rejected   int
	rejections []Rejection
	seen       map[seenKey]bool
	truncated  bool
	inWide     bool         // the region being read was decoded from UTF-16
	wide       map[int]bool // starts of matches found in UTF-16 text
	be, bom    bool         // that text is big-endian; it starts with a BOM
}

// notebookMarkers are the keys of a Jupyter notebook's JSON around a cell.
var notebookMarkers = [][]byte{[]byte(`"source":`), []byte(`"cell_type"`), []byte(`"output_type"`)}

// inNotebook reports whether the token at i sits in a notebook cell: a
// notebook key within the few KiB before it. Only that close, so that other
// tokens in the same region (a test file quoting a notebook) are not tagged.
func inNotebook(b []byte, i int) bool {
	w := b[max(0, i-4096):i]
	// Every marker starts with a quote: one pass over the window's quotes
	// instead of one bytes.Contains per marker (each of which would stop
	// at every quote of the window too).
	for k := 0; ; k++ {
		j := bytes.IndexByte(w[k:], '"')
		if j < 0 {
			return false
		}
		k += j
		for _, m := range notebookMarkers {
			if bytes.HasPrefix(w[k:], m) {
				return true
			}
		}
	}
}

// text finds the credentials in one normalised region. Every credential is
// tied to an '=': the one that ends sig= or AccountKey= (any case; the text
// is normalised, so the '=' is literal), or the first of a key's "=="
// padding. The loop therefore jumps from '=' to '=' with bytes.IndexByte
// instead of looking at every byte, and examines the candidates in the
// order of their '='; last (the end of the credential found before) is
// compared with where each candidate starts: sig and AccountKey before
// their '=', a key shape's value after its "==".
func (st *state) text(t *text) {
	b := t.b
	kc := &keyCtx{b: b} // endpoints and account names, found when first needed
	last := 0           // the end of the last credential: candidates inside it are skipped
	for k := 0; k < len(b); k++ {
		j := bytes.IndexByte(b[k:], '=')
		if j < 0 {
			return
		}
		k += j
		switch s, a := k-len("sig"), k-len("accountkey"); {
		case s >= last && sigAt(b, s):
			if !st.spend() {
				return
			}
			r, ok := extractSAS(b, s)
			if !ok {
				break
			}
			last = r.qe
			if !r.hasHost {
				kc.load()
				r.inferParams(b)
				r.pairContext(b, kc.eps, kc.names)
			}
			if why := rejectSAS(&r); why != "" {
				st.reject(why, maskSecret(string(b[r.qs:r.qe]), "sig="))
				break
			}
			st.addSAS(t, &r, inNotebook(b, r.qs))
		case a >= last && hasPrefixFold(b, a, "accountkey"): // also StorageAccountKey=, storageAccountKey=...
			if !st.spend() {
				return
			}
			if end, ok := st.addKey(t, kc, a); ok {
				last = end
			}
		}
		if k >= last && k+1 < len(b) && b[k+1] == '=' {
			// the padding of a value shaped like an account key
			if st.exhausted() {
				return
			}
			if end, ok := st.addContextKey(t, kc, k+2); ok {
				last = end
			}
		}
	}
}

// exhausted reports (and records as truncation) that this call may examine
// no more candidates: its parse budget or its match limit is used up.
func (st *state) exhausted() bool {
	if st.budget <= 0 || len(st.matches) >= maxMatches {
		st.truncated = true
		return true
	}
	return false
}

// spend takes one parse from the budget; false when none is left.
func (st *state) spend() bool {
	if st.exhausted() {
		return false
	}
	st.budget--
	return true
}

func (st *state) add(m Match) {
	if m.Start < 0 || m.End > len(st.data) || m.Start >= m.End {
		return
	}
	k := seenKey{m.Start, m.End, m.Fingerprint}
	if st.seen[k] {
		return
	}
	st.seen[k] = true
	st.matches = append(st.matches, m)
	if st.inWide {
		st.wide[m.Start] = true
	}
}

func (st *state) addSAS(t *text, r *rawSAS, ipynb bool) {
	cl := classifySAS(r, st.now)
	tok := cl.tok
	sigp := r.param("sig")
	sig := sigp.val
	q := string(t.b[r.qs:r.qe])
	tok.Signature = NewSecret(sig)
	// what a fragment took from neighbouring pieces follows what was found
	// in it, so that Canonical rebuilds the token that was judged
	inferred := q
	for _, k := range r.inferred {
		v, _ := r.get(k)
		inferred += "&" + k + "=" + v
	}
	tok.Query = NewSecret(inferred)
	red := string(t.b[r.qs:sigp.vs]) + Redacted + string(t.b[sigp.ve:r.qe])
	if r.url != "" {
		tok.URL = NewSecret(r.url + "?" + q)
		red = r.url + "?" + red
	}
	tok.Redacted = maskValues(red)
	reasons := cl.reasons
	f := t.flags(r.start, r.end)
	var extra []string
	if f&flHTML != 0 {
		extra = append(extra, TagHTMLEscaped)
	}
	if f&flJSON != 0 {
		extra = append(extra, TagJSONEscaped)
	}
	if f&flPct2 != 0 {
		extra = append(extra, TagDoubleURLEncoded)
	}
	if f&flSplit != 0 {
		extra = append(extra, TagSplitString)
	}
	if f&flUTF16 != 0 {
		extra = append(extra, TagUTF16)
	}
	if ipynb {
		extra = append(extra, TagIpynb)
	}
	for i := sigp.vs; i < sigp.ve; i++ {
		if t.b[i] == '+' && t.flagAt(i)&(flPct1|flPct2) == 0 {
			extra = append(extra, TagSigUnencodedPlus)
			break
		}
	}
	// encoding tags go after the gates and before the decision reasons
	n := 0
	for n < len(reasons) && !strings.Contains(reasons[n], ": ") {
		n++
	}
	if len(extra) > 0 {
		out := make([]string, 0, len(reasons)+len(extra))
		out = append(append(append(out, reasons[:n]...), extra...), reasons[n:]...)
		reasons = out
	}
	st.add(Match{
		Start:       t.origStart(r.start),
		End:         t.origEnd(r.end - 1),
		Token:       tok,
		Severity:    cl.sev,
		Expired:     cl.expired,
		Reasons:     reasons,
		Fingerprint: Fingerprint(sig),
	})
}

// detectRegion runs normalisation and parsing on data[rs:re] without the
// prefilter (used by Parse).
func (d *Detector) detectRegion(data []byte, rs, re int, now time.Time) Result {
	st := &state{data: data, now: now, budget: maxParses, seen: map[seenKey]bool{}}
	re = min(re, rs+maxRegion)
	if hasNULPattern(data) {
		be := len(data) >= 2 && (data[0] == 0xFE && data[1] == 0xFF || data[0] == 0)
		s := 0
		if len(data) >= 2 && (data[0] == 0xFE && data[1] == 0xFF || data[0] == 0xFF && data[1] == 0xFE) {
			s = 2
		}
		st.wide, st.be, st.bom, st.inWide = map[int]bool{}, be, s == 2, true
		st.text(normalize(decodeUTF16(data, s, min(len(data), 2*maxRegion), be, new(text)), new(text)))
	} else {
		st.text(normalize(newText(data, rs, re, new(text)), new(text)))
	}
	slices.SortStableFunc(st.matches, func(a, b Match) int { return a.Start - b.Start })
	st.positions(st.matches)
	return Result{Matches: st.matches, Rejected: st.rejected, Rejections: st.rejections, Truncated: st.truncated}
}

// hasNULPattern reports UTF-16 text: NULs at every other byte of the start.
func hasNULPattern(b []byte) bool {
	if len(b) >= 2 && (b[0] == 0xFF && b[1] == 0xFE || b[0] == 0xFE && b[1] == 0xFF) {
		return true
	}
	n := min(len(b), 64) &^ 1
	if n < 8 {
		return false
	}
	even, odd := 0, 0
	for i := 0; i < n; i += 2 {
		if b[i] == 0 {
			even++
		}
		if b[i+1] == 0 {
			odd++
		}
	}
	return even >= n/2-1 && odd == 0 || odd >= n/2-1 && even == 0
}

// reject counts a rejected candidate and keeps the first few, masked.
// Only rejections allocate: the no-hit path stays allocation-free.
func (st *state) reject(reason, redacted string) {
	st.rejected++
	if len(st.rejections) < MaxRejections {
		if len(redacted) > 200 {
			redacted = redacted[:200]
		}
		st.rejections = append(st.rejections, Rejection{Reason: reason, Redacted: redacted})
	}
}

// maskSecret masks the value after each (ASCII case-insensitive) key in s,
// such as "sig=" or "accountkey=", up to the next '&', ';', quote or space.
// It works on bytes: s may hold anything (invalid UTF-8 included).
func maskSecret(s, key string) string {
	var b strings.Builder
	last := 0
	for i := 0; i+len(key) <= len(s); {
		if !strings.EqualFold(s[i:i+len(key)], key) {
			i++
			continue
		}
		vs := i + len(key)
		ve := vs
		for ve < len(s) && !strings.ContainsRune("&; \t\r\n\"'<>", rune(s[ve])) {
			ve++
		}
		b.WriteString(s[last:vs])
		b.WriteString(Redacted)
		last, i = ve, max(ve, vs)
	}
	b.WriteString(s[last:])
	return b.String()
}
