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
// any case, percent-encoded up to three times, \u003d, &#61;, UTF-16) or an
// AccountKey=. Detect looks further only when Prefilter is true, so a
// Detect result with a match implies Prefilter(data). Prefilter does not
// allocate when it returns false. It is safe for concurrent use.
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
	st := &state{data: data, now: now, budget: maxParses, seen: map[seenKey]bool{}, truncated: full}
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
			st.text(normalize(decodeUTF16(data, rs, re, be, &sc.a), &sc.b))
		})
	}
	res = Result{Matches: st.matches, Rejected: st.rejected, Truncated: st.truncated}
	slices.SortStableFunc(res.Matches, func(a, b Match) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return a.End - b.End
	})
	positions(data, res.Matches)
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

// positions fills Line and Column (1-based, column in bytes) of sorted matches.
func positions(data []byte, ms []Match) {
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
	}
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
	data      []byte
	now       time.Time
	budget    int
	matches   []Match
	rejected  int
	seen      map[seenKey]bool
	truncated bool
}

// notebookMarkers are the keys of a Jupyter notebook's JSON around a cell.
var notebookMarkers = [][]byte{[]byte(`"source":`), []byte(`"cell_type"`), []byte(`"output_type"`)}

// inNotebook reports whether the token at i sits in a notebook cell: a
// notebook key within the few KiB before it. Only that close, so that other
// tokens in the same region (a test file quoting a notebook) are not tagged.
func inNotebook(b []byte, i int) bool {
	w := b[max(0, i-4096):i]
	for _, m := range notebookMarkers {
		if bytes.Contains(w, m) {
			return true
		}
	}
	return false
}

// text finds the credentials in one normalised region.
func (st *state) text(t *text) {
	b := t.b
	var eps []endpoint
	epsDone := false
	last := 0
	for i := 0; i < len(b); i++ {
		c := b[i] | 0x20
		if c != 's' && c != 'a' || i < last {
			continue
		}
		if st.budget <= 0 || len(st.matches) >= maxMatches {
			st.truncated = true
			return
		}
		if c == 's' && sigAt(b, i) {
			st.budget--
			r, ok := extractSAS(b, i)
			if !ok {
				continue
			}
			last = r.qe
			if !r.hasHost {
				if !epsDone {
					eps, epsDone = findEndpoints(b, maxEndpoints), true
				}
				r.pair(eps)
			}
			if rejectSAS(&r) != "" {
				st.rejected++
				continue
			}
			st.addSAS(t, &r, inNotebook(b, r.qs))
		} else if c == 'a' && hasPrefixFold(b, i, "accountkey=") { // also StorageAccountKey=, storageAccountKey=...
			st.budget--
			end, ok := st.addKey(t, i)
			if ok {
				last = end
			}
		}
	}
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
}

func spanFlags(t *text, s, e int) uint8 {
	var f uint8
	for i := s; i < e && i < len(t.fl); i++ {
		f |= t.fl[i]
	}
	return f
}

func (st *state) addSAS(t *text, r *rawSAS, ipynb bool) {
	cl := classifySAS(r, st.now)
	tok := cl.tok
	sigp := r.param("sig")
	sig := sigp.val
	q := string(t.b[r.qs:r.qe])
	tok.Signature = NewSecret(sig)
	tok.Query = NewSecret(q)
	red := string(t.b[r.qs:sigp.vs]) + Redacted + string(t.b[sigp.ve:r.qe])
	if r.url != "" {
		tok.URL = NewSecret(r.url + "?" + q)
		red = r.url + "?" + red
	}
	tok.Redacted = maskValues(red)
	reasons := cl.reasons
	f := spanFlags(t, r.start, r.end)
	extra := []string{}
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
		if t.b[i] == '+' && t.fl[i]&(flPct1|flPct2) == 0 {
			extra = append(extra, TagSigUnencodedPlus)
			break
		}
	}
	// encoding tags go after the gates and before the decision reasons
	n := 0
	for n < len(reasons) && !strings.Contains(reasons[n], ": ") {
		n++
	}
	reasons = append(reasons[:n:n], append(extra, reasons[n:]...)...)
	st.add(Match{
		Start:       int(t.lo[r.start]),
		End:         int(t.hi[r.end-1]),
		Token:       tok,
		Severity:    cl.sev,
		Expired:     cl.expired,
		Reasons:     reasons,
		Fingerprint: Fingerprint(sig),
	})
}

func isB64Byte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '='
}

func isConnByte(c byte) bool {
	return !isSpace(c) && c != '"' && c != '\'' && c != '`' && c != '<' && c != '>' && c != 0
}

// addKey handles the AccountKey= at i; it returns the end of the connection string.
func (st *state) addKey(t *text, i int) (int, bool) {
	b := t.b
	vs := i + len("accountkey=")
	ve := vs
	for ve < len(b) && isB64Byte(b[ve]) && ve-vs < 256 {
		ve++
	}
	key := string(b[vs:ve])
	if rejectKey(key) != "" {
		st.rejected++
		return ve, true
	}
	cs := i
	for cs > 0 && isConnByte(b[cs-1]) && i-cs < maxConnLen {
		cs--
	}
	ce := ve
	for ce < len(b) && isConnByte(b[ce]) && ce-ve < maxConnLen {
		ce++
	}
	var account, suffix, endpoint string
	for _, kv := range strings.Split(string(b[cs:ce]), ";") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		// the first pair may carry a prefix such as AZURE_STORAGE_CONNECTION_STRING=
		if j := strings.LastIndexAny(k, "=:,&"); j >= 0 {
			k = k[j+1:]
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "accountname":
			if a := strings.ToLower(strings.TrimSpace(v)); account == "" && validAccount(a) {
				account = a
			}
		case "endpointsuffix":
			if suffix == "" {
				suffix = strings.ToLower(v)
			}
		case "blobendpoint":
			if endpoint == "" {
				endpoint = v
			}
		}
	}
	// trim the connection string to its key=value pairs
	tok := Token{Kind: KindAccountKey, Account: account, Cloud: CloudNone}
	if endpoint != "" {
		u := endpoint
		if k := strings.Index(u, "://"); k >= 0 {
			u = u[k+3:]
		}
		h, p, _ := strings.Cut(u, "/")
		h = strings.ToLower(h)
		if validHost(h) {
			hi := parseHost(h, "/"+p)
			tok.Host, tok.Cloud = hi.host, hi.cloud
			if tok.Account == "" {
				tok.Account = hi.account
			}
		}
	}
	if tok.Host == "" && account != "" && validAccount(account) {
		if suffix == "" {
			suffix = "core.windows.net"
		}
		h := account + ".blob." + strings.TrimPrefix(suffix, ".")
		if !validHost(h) { // an unusable EndpointSuffix counts as absent
			h = account + ".blob.core.windows.net"
		}
		if validHost(h) {
			hi := parseHost(h, "")
			tok.Host, tok.Cloud = hi.host, hi.cloud
		}
	}
	tok.Signature = NewSecret(key)
	conn := string(b[cs:vs]) + Redacted + string(b[ve:ce])
	tok.Redacted = maskValues(conn)
	tok.Query = NewSecret(string(b[cs:ce]))
	var reasons []string
	sev := Critical
	switch {
	case key == EmulatorKey:
		sev = Info
		reasons = append(reasons, TagEmulatorWellKnownKey)
	case tok.Account == "devstoreaccount1" || tok.Cloud == CloudEmulator:
		sev = Info
		reasons = append(reasons, TagEmulator)
	case tok.Cloud == CloudGermanyRetired:
		sev = Info
		reasons = append(reasons, TagRetiredCloud)
	}
	reasons = append(reasons, TagConnectionString)
	if f := spanFlags(t, cs, ce); f&flHTML != 0 {
		reasons = append(reasons, TagHTMLEscaped)
	} else if f&flJSON != 0 {
		reasons = append(reasons, TagJSONEscaped)
	}
	if tok.Cloud != CloudPublic && tok.Cloud != CloudNone {
		reasons = append(reasons, "cloud="+tok.Cloud)
	}
	reasons = append(reasons, "kind: account-key", "scope: account-wide (the key can mint any SAS; only rotation revokes it)")
	st.add(Match{
		Start:       int(t.lo[cs]),
		End:         int(t.hi[ce-1]),
		Token:       tok,
		Severity:    sev,
		Reasons:     reasons,
		Fingerprint: Fingerprint(key),
	})
	// the end of the key, not of the connection string: a SharedAccessSignature=
	// after the key in the same connection string is a credential of its own
	return ve, true
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
		st.text(normalize(decodeUTF16(data, s, min(len(data), 2*maxRegion), be, new(text)), new(text)))
	} else {
		st.text(normalize(newText(data, rs, re, new(text)), new(text)))
	}
	slices.SortStableFunc(st.matches, func(a, b Match) int { return a.Start - b.Start })
	positions(data, st.matches)
	return Result{Matches: st.matches, Rejected: st.rejected, Truncated: st.truncated}
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
