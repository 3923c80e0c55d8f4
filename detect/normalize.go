package detect

import (
	"bytes"
	"unicode/utf8"
)

// Normalisation turns a window of the input into plain text in which a SAS is
// written with literal '&', '=', '?', '/' and decoded values. Every output byte
// remembers the span of original bytes it came from (lo, hi) and which
// decodings produced it (flags), so that matches map back to the input and
// carry tags such as html-escaped.

// Flags recording how an output byte was produced.
const (
	flHTML  uint8 = 1 << iota // &amp; &#38; &#x26; ...
	flJSON                    // \u0026 \u003d \/ ...
	flPct1                    // percent-decoded in the first round
	flPct2                    // percent-decoded in a second or third round
	flSplit                   // a split string literal was joined just before this byte
	flUTF16                   // decoded from UTF-16
)

// maxPctRounds bounds percent-decoding of URLs nested in URLs.
const maxPctRounds = 3

// text is normalised bytes with their provenance, kept as pieces: runs of
// output bytes that map to the input by one rule each. A pass that copies
// most of a region unchanged adds a piece or two instead of a few integers
// per byte: each of a region's passes would otherwise write about thirteen
// bytes of provenance per byte of text, for every token found.
type text struct {
	b      []byte
	pieces []piece // in output order, covering b without gaps
}

// piece maps out bytes b[at : at+n]: byte at+j came from the original
// bytes [lo + j*stride, lo + j*stride + width) and was produced by the
// decodings in fl. A copied run has stride 1 and width 1; a byte decoded
// from an escape has n 1 and the escape's width; UTF-16 text has stride 2
// and width 2 (ASCII) or stride 0 and the width of its code units.
type piece struct {
	at, n  int32
	lo     int32
	stride int32
	width  int32
	fl     uint8
}

// newText copies data[start:end] into dst (reusing its memory); offsets are absolute.
func newText(data []byte, start, end int, dst *text) *text {
	dst.reset(end - start)
	dst.b = append(dst.b, data[start:end]...)
	if end > start {
		dst.pieces = append(dst.pieces, piece{at: 0, n: int32(end - start), lo: int32(start), stride: 1, width: 1})
	}
	return dst
}

// reset empties t keeping its memory, with room for n bytes.
func (t *text) reset(n int) {
	if cap(t.b) < n {
		t.b = make([]byte, 0, n)
	}
	t.b, t.pieces = t.b[:0], t.pieces[:0]
}

// find returns the index of the piece holding byte i (0 <= i < len(t.b)).
func (t *text) find(i int) int {
	ps := t.pieces
	lo, hi := 0, len(ps)
	for hi-lo > 1 { // the last piece with at <= i
		m := int(uint(lo+hi) >> 1)
		if int(ps[m].at) <= i {
			lo = m
		} else {
			hi = m
		}
	}
	return lo
}

// origStart is the first original byte of byte i.
func (t *text) origStart(i int) int {
	p := t.pieces[t.find(i)]
	return int(p.lo + (int32(i)-p.at)*p.stride)
}

// origEnd is the end of the original bytes of byte i.
func (t *text) origEnd(i int) int {
	p := t.pieces[t.find(i)]
	return int(p.lo + (int32(i)-p.at)*p.stride + p.width)
}

// flags returns the decodings that produced any byte of b[s:e].
func (t *text) flags(s, e int) uint8 {
	e = min(e, len(t.b))
	if s >= e {
		return 0
	}
	var f uint8
	for k := t.find(s); k < len(t.pieces) && int(t.pieces[k].at) < e; k++ {
		f |= t.pieces[k].fl
	}
	return f
}

// flagAt returns the decodings that produced byte i.
func (t *text) flagAt(i int) uint8 { return t.pieces[t.find(i)].fl }

// add appends a piece, merging it into the last one when it continues it
// (the common case of a run copied in several parts).
func (t *text) add(p piece) {
	if p.n <= 0 {
		return
	}
	if k := len(t.pieces) - 1; k >= 0 {
		q := &t.pieces[k]
		if q.fl == p.fl && q.stride == p.stride && q.width == p.width && q.at+q.n == p.at &&
			q.stride != 0 && q.lo+q.n*q.stride == p.lo {
			q.n += p.n
			return
		}
	}
	t.pieces = append(t.pieces, p)
}

// builder writes the output of one pass over in into out.
type builder struct {
	in   *text
	out  *text
	pend uint8 // flags to put on the next emitted byte (after a deletion)
}

func newBuilder(in, dst *text) *builder {
	dst.reset(len(in.b) + 16)
	return &builder{in: in, out: dst}
}

// emit writes c as the decoding of in[from:to].
func (w *builder) emit(c byte, from, to int, f uint8) {
	in := w.in
	fl := f | w.pend | in.flags(from, to)
	w.pend = 0
	lo, hi := in.origStart(from), in.origEnd(to-1)
	w.out.add(piece{at: int32(len(w.out.b)), n: 1, lo: int32(lo), width: int32(hi - lo), fl: fl})
	w.out.b = append(w.out.b, c)
}

// copyRange copies in[from:to] unchanged (bulk, with its provenance).
func (w *builder) copyRange(from, to int) {
	if from >= to {
		return
	}
	in := w.in
	base := int32(len(w.out.b)) - int32(from) // output position of input byte 0
	w.out.b = append(w.out.b, in.b[from:to]...)
	for k := in.find(from); k < len(in.pieces) && int(in.pieces[k].at) < to; k++ {
		p := in.pieces[k]
		s, e := max(int32(from), p.at), min(int32(to), p.at+p.n)
		q := piece{at: s + base, n: e - s, lo: p.lo + (s-p.at)*p.stride, stride: p.stride, width: p.width, fl: p.fl}
		if w.pend != 0 {
			// the first copied byte carries the flags of what was deleted before it
			first := q
			first.n, first.fl = 1, q.fl|w.pend
			w.pend = 0
			w.out.add(first)
			q.at, q.n, q.lo = q.at+1, q.n-1, q.lo+q.stride
		}
		w.out.add(q)
	}
}

// decodeUTF16 decodes data[start:end] as UTF-16 (bigEndian or not), aligned
// at start. Lone surrogates become U+FFFD.
func decodeUTF16(data []byte, start, end int, bigEndian bool, dst *text) *text {
	if (end-start)%2 != 0 {
		end--
	}
	dst.reset((end - start) / 2)
	unit := func(i int) uint16 {
		if bigEndian {
			return uint16(data[i])<<8 | uint16(data[i+1])
		}
		return uint16(data[i+1])<<8 | uint16(data[i])
	}
	put := func(r rune, from, to int) {
		at := int32(len(dst.b))
		dst.b = utf8.AppendRune(dst.b, r) // a lone surrogate becomes U+FFFD
		if k := int32(len(dst.b)) - at; k == 1 && to-from == 2 {
			dst.add(piece{at: at, n: 1, lo: int32(from), stride: 2, width: 2, fl: flUTF16})
		} else {
			dst.add(piece{at: at, n: k, lo: int32(from), stride: 0, width: int32(to - from), fl: flUTF16})
		}
	}
	for i := start; i+1 < end; i += 2 {
		u := unit(i)
		switch {
		case u >= 0xD800 && u < 0xDC00 && i+3 < end:
			u2 := unit(i + 2)
			if u2 >= 0xDC00 && u2 < 0xE000 {
				put(0x10000+(rune(u)-0xD800)<<10+(rune(u2)-0xDC00), i, i+4)
				i += 2
				continue
			}
			put(0xFFFD, i, i+2)
		default:
			put(rune(u), i, i+2)
		}
	}
	return dst
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// hasPrefixFold reports whether b[i:] starts with the lower-case ASCII word p, case-insensitively.
func hasPrefixFold(b []byte, i int, p string) bool {
	if i < 0 || len(b)-i < len(p) {
		return false
	}
	for j := 0; j < len(p); j++ {
		if lower(b[i+j]) != p[j] {
			return false
		}
	}
	return true
}

// indexFold returns the first index >= from of the lower-case word p in b, case-insensitively.
func indexFold(b []byte, from int, p string) int {
	for i := max(from, 0); i+len(p) <= len(b); i++ {
		if lower(b[i]) == p[0] && hasPrefixFold(b, i, p) {
			return i
		}
	}
	return -1
}

// joinIpynb removes the `\n", "` between items of a JSON string array (an
// .ipynb "source" list), joining a URL split across notebook lines.
func joinIpynb(t, dst *text) *text {
	b := t.b
	var w *builder
	last := 0
	for i := 1; i+2 < len(b); i++ {
		if b[i] != '\\' {
			k := bytes.IndexByte(b[i:], '\\')
			if k < 0 {
				break
			}
			i += k - 1
			continue
		}
		if b[i+1] != 'n' || b[i+2] != '"' || isSpace(b[i-1]) {
			continue
		}
		j := i + 3
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j >= len(b) || b[j] != ',' {
			continue
		}
		j++
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j+1 < len(b) && b[j] == '"' && (!isSpace(b[j+1]) || continuesLiteral(b, i, j+1)) && b[j+1] != '"' &&
			!completeSigBefore(b, i) && !hasPrefixFold(b, j+1, "http") {
			if w == nil {
				w = newBuilder(t, dst)
			}
			w.copyRange(last, i)
			w.pend |= flSplit
			last = j + 1
			i = j
		}
	}
	if w == nil {
		return t
	}
	w.copyRange(last, len(b))
	return w.out
}

// continuesLiteral reports whether a notebook line ending at i closes an
// escaped string literal (`\"`) and the next line, starting at k, opens one
// after its indentation: Python implicit concatenation inside a notebook
// cell, `("https://...\"\n", "        \"?sv=...`. The indentation stays in
// the joined text; joinLiterals removes it after JSON unescaping.
func continuesLiteral(b []byte, i, k int) bool {
	if i < 2 || b[i-1] != '"' || b[i-2] != '\\' {
		return false
	}
	for k < len(b) && k-i < 256 && (b[k] == ' ' || b[k] == '\t') {
		k++
	}
	return k+1 < len(b) && b[k] == '\\' && b[k+1] == '"'
}

// completeSigBefore reports whether the text just before i ends a complete
// sig= value (at least 43 characters and the '=' padding, plain or encoded):
// a literal that ends there is a whole token, not the first half of one.
func completeSigBefore(b []byte, i int) bool {
	j := i
	for j > 0 && i-j < 160 && !isSpace(b[j-1]) && b[j-1] != '&' && b[j-1] != '"' && b[j-1] != '\'' {
		j--
		if j+4 <= i && hasPrefixFold(b, j, "sig=") {
			v := b[j+4 : i]
			if len(v) >= 43 && (v[len(v)-1] == '=' || len(v) >= 3 && hasPrefixFold(v, len(v)-3, "%3d")) {
				return true
			}
			return false
		}
	}
	return false
}

// joinLiterals joins adjacent string literals: "a" "b", "a" + "b", "a" \
// "b", across lines with LF or CRLF (Python implicit concatenation, Java, JS,
// Go and C# +), with the quotes of every language: backquotes (JS/TS
// template literals, Go raw strings), prefixed literals (C# @"" $"", Python
// f"" r"" b""), PowerShell's backtick line continuation after the +, and
// shell words made of adjacent quoted pieces ("a"'b'"c", no space between).
func joinLiterals(t, dst *text) *text {
	b := t.b
	w := (*builder)(nil)
	last := 0
	for i := 1; i+1 < len(b); i++ {
		if !isQuote(b[i]) {
			k := indexQuote(b[i : len(b)-1])
			if k < 0 {
				break
			}
			i += k
		}
		q := b[i]
		if isSpace(b[i-1]) || b[i-1] == q || b[i-1] == '(' || b[i-1] == ',' {
			continue
		}
		j := i + 1
		ops := 0
		for j < len(b) && j-i < 256 {
			c := b[j]
			if isSpace(c) {
				j++
				continue
			}
			if (c == '+' || c == '\\') && ops == 0 {
				ops++
				j++
				continue
			}
			// PowerShell: a backtick at the end of a line continues it
			if c == '`' && ops > 0 && j+1 < len(b) && (b[j+1] == '\n' || b[j+1] == '\r') {
				j++
				continue
			}
			break
		}
		// the next literal, after at most two prefix letters (@"", $@"", f"", rb"")
		k := j
		for k < len(b) && k-j < 2 && isLiteralPrefix(b[k]) {
			k++
		}
		if k+1 >= len(b) || !isQuote(b[k]) {
			continue
		}
		q2 := b[k]
		switch {
		case j == i+1:
			// adjacent: a shell word of quoted pieces; "a""b" is an escaped
			// quote in C#, CSV and SQL, not two literals
			if k != j || q2 == q {
				continue
			}
		case ops == 0 && q2 != q && bytes.IndexByte(b[i:j], '\n') < 0:
			// only spaces between literals of different quotes on one
			// line: prose or YAML ('a' "b"), not a concatenation (Python
			// mixes quotes in implicit concatenation across lines)
			continue
		}
		if isSpace(b[k+1]) || b[k+1] == q2 || b[k+1] == ')' || b[k+1] == ',' ||
			completeSigBefore(b, i) || hasPrefixFold(b, k+1, "http") {
			continue
		}
		if w == nil {
			w = newBuilder(t, dst)
		}
		w.copyRange(last, i)
		w.pend |= flSplit
		last = k + 1
		i = k
	}
	if w == nil {
		return t
	}
	w.copyRange(last, len(b))
	return w.out
}

// isQuote reports a quote of a string literal: " ' `. A table: joinLiterals
// asks it for every byte of a region.
func isQuote(c byte) bool { return quotes[c] }

var quotes = [256]bool{'"': true, '\'': true, '`': true}

// isLiteralPrefix reports the letters that prefix a string literal: C# @ and
// $, Python f r b u (any case).
func isLiteralPrefix(c byte) bool {
	switch c {
	case '@', '$', 'f', 'F', 'r', 'R', 'b', 'B', 'u', 'U':
		return true
	}
	return false
}

var htmlEntities = []struct {
	s string
	c byte
}{
	{"&amp;", '&'}, {"&#38;", '&'}, {"&#x26;", '&'}, {"&#038;", '&'},
	{"&#61;", '='}, {"&#x3d;", '='}, {"&#063;", '?'}, {"&#63;", '?'}, {"&#x3f;", '?'},
	{"&quot;", '"'}, {"&#34;", '"'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&#47;", '/'}, {"&#x2f;", '/'},
}

// unescapeHTML decodes the entities a SAS is written with in HTML/XML.
func unescapeHTML(t, dst *text) *text {
	b := t.b
	var w *builder
	last := 0
	for i := 0; i < len(b); i++ {
		if b[i] != '&' {
			k := bytes.IndexByte(b[i:], '&')
			if k < 0 {
				break
			}
			i += k - 1
			continue
		}
		// text escaped more than once: "&amp;amp;" is '&', "&amp;#38;" is '&',
		// "&amp;quot;" is '"' (an HTML page quoting an XML config, ...)
		j, depth := i+1, 0
		for depth < 8 && hasPrefixFold(b, j, "amp;") {
			j += len("amp;")
			depth++
		}
		if depth > 0 {
			c, end := byte('&'), j
			for _, e := range htmlEntities[1:] { // not &amp;: every amp; was consumed above
				if hasPrefixFold(b, j, e.s[1:]) {
					c, end = e.c, j+len(e.s)-1
					break
				}
			}
			if w == nil {
				w = newBuilder(t, dst)
			}
			w.copyRange(last, i)
			w.emit(c, i, end, flHTML)
			last = end
			i = last - 1
			continue
		}
		for _, e := range htmlEntities {
			if hasPrefixFold(b, i, e.s) {
				if w == nil {
					w = newBuilder(t, dst)
				}
				w.copyRange(last, i)
				w.emit(e.c, i, i+len(e.s), flHTML)
				last = i + len(e.s)
				i = last - 1
				break
			}
		}
	}
	if w == nil {
		return t
	}
	w.copyRange(last, len(b))
	return w.out
}

// unescapeJSON decodes JSON/JS string escapes: \uXXXX (ASCII only), \/ \" \n \t \r.
func unescapeJSON(t, dst *text) *text {
	b := t.b
	var w *builder
	last := 0
	for i := 0; i+1 < len(b); i++ {
		if b[i] != '\\' {
			k := bytes.IndexByte(b[i:], '\\')
			if k < 0 {
				break
			}
			i += k - 1
			continue
		}
		var c byte
		n := 0
		switch b[i+1] {
		case 'u', 'U':
			if i+5 < len(b) && isHex(b[i+2]) && isHex(b[i+3]) && isHex(b[i+4]) && isHex(b[i+5]) {
				v := uint16(unhex(b[i+2]))<<12 | uint16(unhex(b[i+3]))<<8 | uint16(unhex(b[i+4]))<<4 | uint16(unhex(b[i+5]))
				if v > 0 && v < 0x80 {
					c, n = byte(v), 6
				}
			}
		case '/':
			c, n = '/', 2
		case '"':
			c, n = '"', 2
		case 'n', 'r', 't':
			c, n = '\n', 2
		case '\\':
			c, n = '\\', 2
		}
		if n == 0 {
			continue
		}
		if w == nil {
			w = newBuilder(t, dst)
		}
		w.copyRange(last, i)
		w.emit(c, i, i+n, flJSON)
		last = i + n
		i = last - 1
	}
	if w == nil {
		return t
	}
	w.copyRange(last, len(b))
	return w.out
}

// isRunBreak reports bytes that end a URL-ish run for percent-decoding decisions.
func isRunBreak(c byte) bool {
	return isSpace(c) || c == '"' || c == '\'' || c == '`' || c == '<' || c == '>' || c == 0
}

// hasDelimEscape reports whether b contains %3F, %26 or %3D (any case).
func hasDelimEscape(b []byte) bool {
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' && b[i+1] == '3' && (b[i+2]|0x20 == 'f' || b[i+2]|0x20 == 'd') ||
			b[i] == '%' && b[i+1] == '2' && b[i+2] == '6' {
			return true
		}
	}
	return false
}

// keepEncoded reports the bytes that percent-decoding leaves encoded: those
// that end a query or a URL (space, quotes, ';', '#', brackets, controls,
// non-ASCII). Decoded, they would cut a SAS whose values hold them, such as
// rscd=attachment%3B%20filename%3D%22a.pdf%22 before its sig, or a path
// such as /c/my%20file.txt off its host. A signature never holds them.
func keepEncoded(c byte) bool {
	return c != '?' && isQTerm(c)
}

// percentRound decodes %XX escapes in every run that qualifies: in round 0
// any run with an escape, later only runs that still contain an encoded
// delimiter (%3F, %26, %3D), i.e. a URL that was nested in a URL. '+' is never
// turned into a space. It reports whether anything was decoded.
func percentRound(t, dst *text, round int) (*text, bool) {
	b := t.b
	if bytes.IndexByte(b, '%') < 0 {
		return t, false
	}
	var w *builder
	last := 0
	flag := flPct1
	if round > 0 {
		flag = flPct2
	}
	for pos := 0; pos < len(b); {
		k := bytes.IndexByte(b[pos:], '%')
		if k < 0 {
			break
		}
		rs, re := pos+k, pos+k
		for rs > pos && !isRunBreak(b[rs-1]) {
			rs--
		}
		for re < len(b) && !isRunBreak(b[re]) {
			re++
		}
		pos = re + 1
		run := b[rs:re]
		ok := false
		if round == 0 {
			for i := 0; i+2 < len(run); i++ {
				if run[i] == '%' && isHex(run[i+1]) && isHex(run[i+2]) {
					ok = true
					break
				}
			}
		} else {
			ok = hasDelimEscape(run)
		}
		if !ok {
			continue
		}
		for i := rs; i+2 < re; i++ {
			if b[i] == '%' && isHex(b[i+1]) && isHex(b[i+2]) && !keepEncoded(unhex(b[i+1])<<4|unhex(b[i+2])) {
				if w == nil {
					w = newBuilder(t, dst)
				}
				w.copyRange(last, i)
				w.emit(unhex(b[i+1])<<4|unhex(b[i+2]), i, i+3, flag)
				last = i + 3
				i += 2
			}
		}
	}
	if w == nil {
		return t, false
	}
	w.copyRange(last, len(b))
	return w.out, true
}

// joinContinuations removes backslash-newline line continuations (shell, C,
// Python), CRLF included: a URL split over lines inside one literal.
func joinContinuations(t, dst *text) *text {
	b := t.b
	var w *builder
	last := 0
	for i := 0; i+1 < len(b); i++ {
		if b[i] != '\\' {
			k := bytes.IndexByte(b[i:], '\\')
			if k < 0 {
				break
			}
			i += k - 1
			continue
		}
		n := 0
		switch {
		case b[i+1] == '\n':
			n = 2
		case b[i+1] == '\r' && i+2 < len(b) && b[i+2] == '\n':
			n = 3
		}
		if n == 0 {
			continue
		}
		if w == nil {
			w = newBuilder(t, dst)
		}
		w.copyRange(last, i)
		w.pend |= flSplit
		last = i + n
		// A YAML double-quoted scalar drops the indentation of the line
		// after an escaped line break ("...&srt=sco\", newline, "    &sp=...").
		// Only in the middle of a word: after a space the break separates
		// words (a shell command continued on the next line), and after a
		// quote the next line starts a literal of its own.
		if i > 0 && !isSpace(b[i-1]) && !isQuote(b[i-1]) {
			for last < len(b) && last-i < 256 && (b[last] == ' ' || b[last] == '\t') {
				last++
			}
		}
		i = last - 1
	}
	if w == nil {
		return t
	}
	w.copyRange(last, len(b))
	return w.out
}

// normalize runs every pass over t in order, writing into spare and t
// alternately (both are reused), and returns the result (t or spare).
func normalize(t, spare *text) *text {
	step := func(f func(t, dst *text) *text) {
		if out := f(t, spare); out != t {
			t, spare = out, t
		}
	}
	step(joinContinuations)
	step(joinIpynb)
	step(unescapeHTML)
	// JSON in a JSON string ("{\\"url\\": \\"...\\u0026sig=..."): a second round
	// when the first one decoded something
	if out := unescapeJSON(t, spare); out != t {
		t, spare = out, t
		step(unescapeJSON)
	}
	step(joinLiterals)
	for r := range maxPctRounds {
		out, changed := percentRound(t, spare, r)
		if !changed {
			break
		}
		t, spare = out, t
	}
	return t
}
