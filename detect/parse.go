package detect

import (
	"bytes"
	"errors"
	"strings"
	"time"
)

const (
	maxTokenLen = 4096 // longest query string considered
	maxURLLen   = 2048 // longest URL prefix considered
	maxConnLen  = 2048 // longest connection string considered
)

// sasKeys maps each query parameter of sas-spec §1 (lower case) to
// itself: one string per key, shared by every token (paramKey).
var sasKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range strings.Fields(`sv ss srt sp st se sip spr ses sig api-version sr sdd tn spk
		srk epk erk si rscc rscd rsce rscl rsct skoid sktid skt ske sks skv saoid suoid scid skdutid
		sduoid srh srq`) {
		m[k] = k
	}
	return m
}()

// IsSASParam reports whether key (lower case) is a SAS query parameter of
// sas-spec §1: the parameters a SAS signs or a service reads from it.
func IsSASParam(key string) bool {
	_, ok := sasKeys[key]
	return ok
}

// paramKey returns k in lower case: strings.ToLower(string(k)), without an
// allocation when k is one of sasKeys in any ASCII case.
func paramKey(k []byte) string {
	var buf [16]byte
	if len(k) <= len(buf) {
		for i, c := range k {
			buf[i] = lowerTable[c]
		}
		if s, ok := sasKeys[string(buf[:len(k)])]; ok {
			return s
		}
	}
	return strings.ToLower(string(k))
}

// qparam is one key=value of a query string, the value decoded.
type qparam struct {
	key, val string
	vs, ve   int // value span in the normalised text
}

// rawSAS is a SAS candidate extracted from normalised text, before classification.
type rawSAS struct {
	start, end int // whole occurrence (URL, connection string or bare query) in normalised text
	qs, qe     int // the query string
	params     []qparam
	prefix     string // key before the query (sharedaccesssignature, an env var name...)
	connString bool
	url        string // scheme://host/path without the query; "" when bare
	host       hostInfo
	hasHost    bool
	paired     bool       // host taken from an endpoint nearby
	ownURL     bool       // the query belongs to a URL whose host is not a usable name ({account}.blob...): no pairing
	lead       string     // up to 32 bytes before the query, for vendor checks
	urlStart   int        // > 0: the URL starts here (a Markdown autolink, whose path may hold spaces)
	hole       string     // the variable that names the account in a templated host (https://${account}.blob...)
	holeHost   string     // the host after the hole: ".blob.core.windows.net"
	holePath   string     // the path of the templated URL
	holeScheme string     // "https://"
	holeStart  int        // start of the templated URL
	account    string     // the account of a bare token: its connection string's AccountName, or named nearby
	pairedAcct bool       // account taken from an account name nearby (paired-account)
	inferred   []string   // keys taken from neighbouring text (inferred=...)
	connEPs    []connPair // the connection string's pairs, for a SharedAccessSignature= in one
}

// connPair is one key=value of a connection string, the key lower case.
type connPair struct{ key, val string }

func (r *rawSAS) get(k string) (string, bool) {
	for _, p := range r.params {
		if p.key == k {
			return p.val, true
		}
	}
	return "", false
}

func (r *rawSAS) param(k string) *qparam {
	for i := range r.params {
		if r.params[i].key == k {
			return &r.params[i]
		}
	}
	return nil
}

func isQTerm(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return true
	}
	switch c {
	case '"', '\'', '`', '<', '>', '\\', '|', '^', '(', ')', '[', ']', '{', '}', ';', '#', '?':
		return true
	}
	return false
}

func isURLTerm(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return true
	}
	switch c {
	case '"', '\'', '`', '<', '>', '\\', '|', '^', '(', ')', ';', ',', '=', '?', '*':
		return true
	}
	return false
}

func isKeyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// sigAt reports whether b[i:] starts a sig= parameter (case-insensitive) at a parameter boundary.
func sigAt(b []byte, i int) bool {
	if !hasPrefixFold(b, i, "sig=") {
		return false
	}
	return i == 0 || !isKeyByte(b[i-1]) && b[i-1] != '.'
}

// extractSAS extracts the query string around the sig= at s, with its URL.
func extractSAS(b []byte, s int) (rawSAS, bool) {
	qs := s
	for qs > 0 && !isQTerm(b[qs-1]) && s-qs < maxTokenLen {
		qs--
	}
	qe := s
	for qe < len(b) && !isQTerm(b[qe]) && qe-s < maxTokenLen {
		qe++
	}
	urlStart := 0
	if lt, q, gt, ok := autolink(b, s); ok {
		// <https://host/my file.pdf?sv=...&sig=...>: the URL runs to the '>'
		urlStart, qs, qe = lt+1, q+1, gt
		if h := bytes.IndexByte(b[s:qe], '#'); h >= 0 {
			qe = s + h
		}
	}
	r := rawSAS{start: qs, qs: qs, qe: qe, urlStart: urlStart}
	// a key before the query: SharedAccessSignature=sv=..., AZURE_STORAGE_SAS_TOKEN=sv=..., token:sv=...
	r.prefix, qs, _ = keyPrefix(b, qs, s, qe)
	r.qs = qs
	if r.prefix == "sharedaccesssignature" {
		r.connString = true
	}
	// parameters: split on '&', keys case-insensitive, first value wins.
	// The values are slices of one copy of the query, and the usual keys
	// are the constants of sasKeys: a token's ten parameters cost one
	// allocation, not twenty.
	query := string(b[qs:qe])
	for i := qs; i < qe; {
		j := i
		for j < qe && b[j] != '&' {
			j++
		}
		if eq := bytes.IndexByte(b[i:j], '='); eq > 0 {
			k := paramKey(b[i : i+eq])
			ve := j
			if k == "sig" {
				// an escape left encoded by normalisation (%22, %20...) ends
				// a signature: "...%3D%22" in a quoted URL nested in a URL
				ve = i + eq + 1 + keptEscape(b[i+eq+1:j])
			}
			if r.param(k) == nil && len(r.params) < 64 {
				r.params = append(r.params, qparam{key: k, val: query[i+eq+1-qs : ve-qs], vs: i + eq + 1, ve: ve})
			}
		}
		i = j + 1
	}
	if r.param("sig") == nil {
		return r, false
	}
	r.lead = string(b[max(0, r.start-32):r.start])
	switch {
	case r.connString:
		cs := r.start
		for cs > 0 && !isSpace(b[cs-1]) && b[cs-1] != '"' && b[cs-1] != '\'' && b[cs-1] != '`' && r.start-cs < maxConnLen {
			cs--
		}
		r.start = cs
		ce := qe
		for ce < len(b) && isConnByte(b[ce]) && ce-qe < maxConnLen {
			ce++
		}
		r.connEPs = append(connPairs(b[cs:r.qs], nil), connPairs(b[qe:ce], nil)...)
		r.connHost()
	case qs > 0 && b[qs-1] == '?':
		r.parseURL(b, qs-1)
	}
	r.end = qe
	return r, true
}

// autolink reports whether the sig= at s is inside a Markdown autolink
// <http(s)://...> on one line whose URL holds a space (a URL without one is
// read the usual way): the positions of '<', of the '?' and of '>'.
func autolink(b []byte, s int) (lt, q, gt int, ok bool) {
	from := max(0, s-maxURLLen-maxTokenLen)
	if nl := bytes.LastIndexByte(b[from:s], '\n'); nl >= 0 {
		from += nl + 1
	}
	lt = bytes.LastIndexByte(b[from:s], '<')
	if lt < 0 {
		return 0, 0, 0, false
	}
	lt += from
	if !hasPrefixFold(b, lt+1, "http://") && !hasPrefixFold(b, lt+1, "https://") {
		return 0, 0, 0, false
	}
	to := min(len(b), s+maxTokenLen)
	if nl := bytes.IndexByte(b[s:to], '\n'); nl >= 0 {
		to = s + nl
	}
	gt = bytes.IndexByte(b[s:to], '>')
	if gt < 0 {
		return 0, 0, 0, false
	}
	gt += s
	inner := b[lt+1 : gt]
	q = bytes.IndexByte(inner, '?')
	if q < 0 || lt+1+q > s || bytes.IndexByte(inner, ' ') < 0 || bytes.ContainsAny(inner, "<\"") {
		return 0, 0, 0, false
	}
	return lt, lt + 1 + q, gt, true
}

// connPairs appends the key=value pairs of a connection string (';'
// separated, keys lower case; a prefix such as AZURE_STORAGE_CONNECTION_STRING=
// before the first pair is dropped).
func connPairs(b []byte, out []connPair) []connPair {
	for _, kv := range strings.Split(string(b), ";") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if j := strings.LastIndexAny(k, "=:,&"); j >= 0 {
			k = k[j+1:]
		}
		out = append(out, connPair{strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)})
	}
	return out
}

// connValue returns the first value of key k in a connection string.
func connValue(ps []connPair, k string) string {
	for _, p := range ps {
		if p.key == k && p.val != "" {
			return p.val
		}
	}
	return ""
}

// connHost gives a SharedAccessSignature= the endpoint of its own connection
// string for the service it is used for: the BlobEndpoint when there is one
// and the token allows blob, otherwise the endpoint of a service the token
// names (ss, sr, tn), otherwise the first endpoint. The host is the one
// written there (an Azurite BlobEndpoint stays an Azurite host).
func (r *rawSAS) connHost() {
	want := map[string]bool{}
	if ss, ok := r.get("ss"); ok {
		for _, c := range []byte(ss) {
			want[map[byte]string{'b': "blob", 'f': "file", 'q': "queue", 't': "table"}[c]] = true
		}
	} else if sr, ok := r.get("sr"); ok {
		want[map[string]string{"b": "blob", "bv": "blob", "bs": "blob", "c": "blob", "d": "blob", "f": "file", "s": "file"}[sr]] = true
	} else if _, ok := r.get("tn"); ok {
		want["table"] = true
	}
	ep := ""
	for _, svc := range []string{"blob", "queue", "table", "file"} {
		if v := connValue(r.connEPs, svc+"endpoint"); v != "" && (len(want) == 0 || want[svc]) {
			ep = v
			break
		}
	}
	if ep == "" {
		for _, svc := range []string{"blob", "queue", "table", "file"} {
			if ep = connValue(r.connEPs, svc+"endpoint"); ep != "" {
				break
			}
		}
	}
	if ep != "" {
		rest := ep
		if i := strings.Index(rest, "://"); i >= 0 {
			rest = rest[i+3:]
		}
		h, p, _ := strings.Cut(rest, "/")
		if h = strings.ToLower(h); validHost(h) {
			r.host, r.hasHost = parseHost(h, "/"+p), true
			return
		}
	}
	if a := strings.ToLower(connValue(r.connEPs, "accountname")); ValidAccount(a) {
		r.account = a
	}
}

// keyPrefix reads the key written before a query that starts at qs and
// holds the sig= at s (SharedAccessSignature=sv=..., TOKEN=sv=...): the key,
// lower case, and where the query really starts. steps counts the bytes it
// examined, so that a test can check the work is linear: amp, the first
// '&' at or after qs, is found once per segment, not once per key=, so that
// "a=a=a=...sig=" costs linear time, not quadratic.
func keyPrefix(b []byte, qs, s, qe int) (prefix string, start, steps int) {
	amp := -1
	for qs < s {
		if amp < qs {
			amp = qs
			for amp < qe && b[amp] != '&' {
				amp++
				steps++
			}
		}
		seg := b[qs:amp]
		eq := bytes.IndexByte(seg, '=')
		if eq < 0 {
			break
		}
		steps += eq + 1
		// ASCII lower case, byte for byte: strings.ToLower turns an invalid
		// UTF-8 byte into three, and key's indexes must be seg's (qs moves
		// by them).
		kb := make([]byte, eq)
		for i, c := range seg[:eq] {
			kb[i] = lower(c)
		}
		key := string(kb)
		if IsSASParam(key) {
			break
		}
		cut := -1
		for i := len(key) - 1; i >= 0; i-- {
			steps++
			if !isKeyByte(key[i]) {
				cut = i
				break
			}
		}
		if cut >= 0 && IsSASParam(key[cut+1:]) {
			prefix = key[:cut]
			qs += cut + 1
			break
		}
		next := bytes.IndexByte(seg[eq+1:], '=')
		if next < 0 {
			break
		}
		steps += next + 1
		prefix = key
		qs += eq + 1
	}
	return prefix, qs, steps
}

// keptEscape returns the index of the first %XX in v that normalisation
// kept encoded (keepEncoded), or len(v).
func keptEscape(v []byte) int {
	for i := 0; i+2 < len(v); i++ {
		if v[i] == '%' && isHex(v[i+1]) && isHex(v[i+2]) && keepEncoded(unhex(v[i+1])<<4|unhex(v[i+2])) {
			return i
		}
	}
	return len(v)
}

// parseURL reads the URL that ends at the '?' at q.
func (r *rawSAS) parseURL(b []byte, q int) {
	us := q
	for us > 0 && !isURLTerm(b[us-1]) && q-us < maxURLLen {
		us--
	}
	if r.urlStart > 0 {
		us = r.urlStart
	}
	u := string(b[us:q])
	rest := u
	if i := strings.Index(u, "://"); i >= 0 {
		sch := i
		for sch > 0 && isSchemeByte(u[sch-1]) {
			sch--
		}
		for sch < i && !('a' <= u[sch]|0x20 && u[sch]|0x20 <= 'z') { // a scheme starts with a letter
			sch++
		}
		// Storage is reached over http or https only: in "xyzhttps://" (no
		// separator before the URL) the scheme is "https", not the whole word.
		if ls := strings.ToLower(u[sch:i]); strings.HasSuffix(ls, "https") {
			sch = i - len("https")
		} else if strings.HasSuffix(ls, "http") {
			sch = i - len("http")
		}
		us += sch
		u = u[sch:]
		rest = u[i-sch+3:]
	} else if strings.HasPrefix(u, "//") {
		rest = u[2:]
	}
	hostPart, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		hostPart, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(hostPart, '@'); i >= 0 {
		hostPart = hostPart[i+1:]
	}
	scheme := strings.Contains(u, "://") || strings.HasPrefix(u, "//")
	if name, rest, ok := templateHost(hostPart); ok && scheme {
		// https://${account}.blob.core.windows.net/c?sv=...: the token's own
		// URL names its account with a variable; the variable's value
		// nearby names it (resolved by the caller), an endpoint elsewhere
		// in the text does not
		r.ownURL = true
		r.hole, r.holeHost, r.holePath, r.holeStart = name, strings.ToLower(rest), path, us
		r.holeScheme = "https://"
		if i := strings.Index(u, "://"); i >= 0 {
			r.holeScheme = u[:i+3]
		}
		return
	}
	orig := hostPart
	hostPart = strings.ToLower(hostPart)
	if !validHost(hostPart) {
		r.ownURL = strings.HasPrefix(hostPart, ".") || scheme && strings.ContainsAny(orig, "{}$%")
		return
	}
	hi := parseHost(hostPart, path)
	if !scheme && hi.cloud == CloudCustom {
		// A host comes from scheme://host or a storage host name:
		// "model_eps3.ckpt?sv=..." names a file, and the token pairs with
		// the nearest endpoint like any bare token.
		return
	}
	r.url = u
	r.start = us
	r.host = hi
	r.hasHost = true
}

// templateHost splits a host whose first label is a template hole, ${name},
// {name}, $name, %s or {0}, followed by a storage suffix: the variable name
// ("" when the hole names none) and the rest of the host from the '.'.
func templateHost(h string) (name, rest string, ok bool) {
	dot := strings.IndexByte(h, '.')
	if dot <= 0 {
		return "", "", false
	}
	hole, rest := h[:dot], h[dot:]
	switch {
	case strings.HasPrefix(hole, "${") && strings.HasSuffix(hole, "}"):
		name = hole[2 : len(hole)-1]
	case strings.HasPrefix(hole, "{") && strings.HasSuffix(hole, "}"):
		name = hole[1 : len(hole)-1]
	case strings.HasPrefix(hole, "$"):
		name = strings.Trim(hole[1:], "()")
	case hole == "%s":
	default:
		return "", "", false
	}
	hi := parseHost("hole"+strings.ToLower(rest), "")
	if hi.cloud == CloudCustom || hi.service == "" {
		return "", "", false
	}
	if strings.Trim(name, "0123456789") == "" || !isIdent(name) {
		name = "" // {0}, {}: positional
	}
	return name, rest, true
}

func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isKeyByte(s[i]) && s[i] != '.' {
			return false
		}
	}
	return s != ""
}

func isSchemeByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

// parseTime accepts every time format of sas-spec §1.1 (and RFC 3339 offsets).
func parseTime(s string) (time.Time, bool) {
	// Every layout starts with a date: anything else (an absent st, a
	// value that is not a time) fails without an error allocated per layout.
	if len(s) < len("2006-01-02") || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	// The layout the value's shape calls for first: every failed
	// time.Parse allocates its error, and a token has two times. Any
	// layout that parses a value reads the same instant from it, so trying
	// one out of order changes nothing.
	if t, err := time.Parse(likelyLayout(s), s); err == nil {
		return t.UTC(), true
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// timeLayouts are the forms of st and se that Azure accepts, in order.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.0000000Z", "2006-01-02T15:04:05Z",
	"2006-01-02T15:04Z", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// likelyLayout returns the layout of timeLayouts that a time of s's length
// and zone would be written in.
func likelyLayout(s string) string {
	switch {
	case len(s) == len("2006-01-02"):
		return "2006-01-02"
	case len(s) == len("2006-01-02T15:04Z") && strings.HasSuffix(s, "Z"):
		return "2006-01-02T15:04Z"
	case len(s) == len("2006-01-02T15:04"):
		return "2006-01-02T15:04"
	case len(s) == len("2006-01-02T15:04:05"):
		return "2006-01-02T15:04:05"
	}
	return time.RFC3339Nano
}

// ParseError reports why Parse found no credential. Input is redacted: it
// never contains a signature or a key. Match the cause with errors.Is against
// [ErrNoCredential] or [ErrNotSecret].
type ParseError struct {
	Input string // the input with every signature and key masked, truncated
	Err   error  // ErrNoCredential or ErrNotSecret
}

// Error returns the cause with the redacted, truncated input.
func (e *ParseError) Error() string {
	return "detect: parse " + quoteShort(e.Input) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// Causes of a ParseError.
var (
	ErrNoCredential = errors.New("no credential found")
	ErrNotSecret    = errors.New("not a secret (placeholder, wrong signature length or another vendor's signature)")
)

func quoteShort(s string) string {
	const max = 120
	if len(s) > max {
		s = s[:max] + "..."
	}
	return "\"" + strings.ReplaceAll(s, "\"", "\\\"") + "\""
}

// Parse parses one SAS URL, bare SAS token (with or without '?') or
// connection string into a Token. It runs the same normalisation and
// rejection as Detect and returns the first credential in s. The Token is not
// classified (severity needs a clock; use a Detector for that). Parse is safe
// for concurrent use. A *ParseError holds only a redacted copy of s. Only the
// first MiB of s is examined.
func Parse(s string) (Token, error) {
	d := &Detector{now: time.Unix(0, 0)}
	res := d.detectRegion([]byte(s), 0, len(s), time.Unix(0, 0))
	if len(res.Matches) == 0 {
		cause := ErrNoCredential
		if res.Rejected > 0 {
			cause = ErrNotSecret
		}
		return Token{}, &ParseError{Input: redactText(s), Err: cause}
	}
	return res.Matches[0].Token, nil
}

// String returns the token with its signature masked (Token.Redacted). It is
// what %v and %s print; use Canonical for the working form. Token methods are
// safe for concurrent use.
func (t Token) String() string { return t.Redacted }

// GoString implements fmt.GoStringer so that %#v never prints a signature.
func (t Token) GoString() string {
	return "detect.Token{Kind:" + string(t.Kind) + ", Account:" + t.Account + ", Host:" + t.Host + ", Redacted:" + t.Redacted + "}"
}

// Canonical returns the token in a canonical form that Parse accepts and that
// contains the signature: the URL (or https://Host/) with the query string
// re-encoded, the bare query string when there is no host, or a connection
// string for an account key. Parse(t.Canonical().Reveal()) yields the same
// kind, account, fields and fingerprint.
func (t Token) Canonical() Secret {
	if t.Kind == KindAccountKey {
		if t.Host == "" && t.Account != "" {
			// an account named near the key, no endpoint: the az CLI form
			// (a connection string would imply the account's default endpoint)
			return NewSecret("--account-name " + t.Account + " --account-key " + t.Signature.Reveal())
		}
		s := "AccountName=" + t.Account + ";AccountKey=" + t.Signature.Reveal()
		if t.Host != "" {
			s = "BlobEndpoint=https://" + t.Host + ";" + s
		}
		return NewSecret(s)
	}
	var q strings.Builder
	for i, kv := range strings.Split(t.Query.Reveal(), "&") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if i > 0 {
			q.WriteByte('&')
		}
		q.WriteString(escapeValue(k))
		q.WriteByte('=')
		q.WriteString(escapeValue(v))
	}
	u := t.URL.Reveal()
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	switch {
	case u != "":
		return NewSecret(escapePath(u) + "?" + q.String())
	case t.Host != "" && t.Cloud == CloudEmulator && !strings.Contains(t.Host, ".localhost"):
		// path-style emulator endpoint: the account is the first path segment
		return NewSecret("http://" + t.Host + "/" + t.Account + "/?" + q.String())
	case t.Host != "":
		return NewSecret("https://" + t.Host + "/?" + q.String())
	case t.Account != "":
		// an account named near a bare token: the connection-string form
		// names it without inventing a host
		return NewSecret("AccountName=" + t.Account + ";SharedAccessSignature=" + q.String())
	}
	return NewSecret(q.String())
}

func escapeValue(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == ',' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

func escapePath(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > ' ' && c < 0x7f && !isURLTerm(c) && c != '%' && c != '&' && c != '#' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

// redactText masks everything that follows a sig / AccountKey anchor in s up
// to the next delimiter, and truncates. Over-redaction is fine: it is only
// used in error messages.
func redactText(s string) string {
	b := []byte(s)
	if len(b) > 512 {
		b = b[:512]
	}
	var out []byte
	for i := 0; i < len(b); {
		n := 0
		if hasPrefixFold(b, i, "sig") {
			n = 3
		} else if hasPrefixFold(b, i, "accountkey") {
			n = 10
		}
		if n == 0 {
			out = append(out, b[i])
			i++
			continue
		}
		out = append(out, b[i:i+n]...)
		e := i + n
		// the '=' may be an HTML entity, whose '&' would end the value below
		for _, eq := range []string{"&#61;", "&#061;", "&#x3d;", "&#x03d;"} {
			if hasPrefixFold(b, e, eq) {
				e += len(eq)
				break
			}
		}
		for e < len(b) && !isSpace(b[e]) && b[e] != '&' && b[e] != ';' && b[e] != '"' && b[e] != '\'' && b[e] != ')' {
			e++
		}
		if e > i+n {
			out = append(out, "="+Redacted...)
		}
		i = e
	}
	return string(out)
}

// maskValues masks the value of every sig= and AccountKey= parameter in s
// (any case; '=' plain or percent-encoded up to three times), and the
// password of a URL's user information. A redacted form is built from text
// around one credential; it may hold another one (a second sig= parameter,
// the SharedAccessSignature of a connection string that also has an
// AccountKey=), which must not be printed either.
func maskValues(s string) string {
	b := []byte(s)
	var out []byte
	last := 0
	for i := 0; i < len(b); i++ {
		c := b[i] | 0x20
		if c != 's' && c != 'a' || i > 0 && isKeyByte(b[i-1]) {
			continue
		}
		n := 0
		switch {
		case hasPrefixFold(b, i, "sig"):
			n = 3
		case hasPrefixFold(b, i, "accountkey"):
			n = 10
		default:
			continue
		}
		vs := -1
		for _, eq := range []string{"=", "%3d", "%253d", "%25253d"} {
			if hasPrefixFold(b, i+n, eq) {
				vs = i + n + len(eq)
				break
			}
		}
		if vs < 0 {
			continue
		}
		ve := vs
		for ve < len(b) && isB64Byte(b[ve]) || ve < len(b) && b[ve] == '%' && !hasPrefixFold(b, ve, "%26") {
			ve++
		}
		if v := string(b[vs:ve]); ve == vs || v == Redacted {
			continue
		}
		out = append(out, b[last:vs]...)
		out = append(out, Redacted...)
		last = ve
		i = ve - 1
	}
	if out == nil {
		return maskUserinfo(s)
	}
	return maskUserinfo(string(append(out, b[last:]...)))
}

// maskUserinfo masks the password of scheme://user:password@host.
func maskUserinfo(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	auth := s[i+3:]
	if j := strings.IndexAny(auth, "/?#"); j >= 0 {
		auth = auth[:j]
	}
	at := strings.LastIndexByte(auth, '@')
	if at < 0 {
		return s
	}
	user, _, ok := strings.Cut(auth[:at], ":")
	if !ok {
		return s
	}
	return s[:i+3] + user + ":" + Redacted + s[i+3+at:]
}
