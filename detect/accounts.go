package detect

import (
	"bytes"
	"slices"
	"strings"
)

// Context around a bare credential: the account named nearby, the value of
// the variable a templated host is built from, and the SAS parameters of a
// neighbouring string piece when only the piece with sig= could be parsed.

// accountName is an account named in text: --account-name x, AccountName=x,
// AZURE_STORAGE_ACCOUNT=x, account_name = "x", "accountName": "x", ...
type accountName struct {
	start, end int // the value
	name       string
}

// accountKeys are the names (lower case, without '_' '-' '.') that name a
// storage account: az/azcopy flags, connection strings, environment
// variables, Terraform, Bicep, JSON and YAML settings, PowerShell parameters.
var accountKeys = map[string]bool{
	"accountname": true, "storageaccountname": true, "storageaccount": true,
	"azurestorageaccount": true, "azurestorageaccountname": true,
}

// maxAccountNames bounds the account names remembered per region.
const maxAccountNames = 256

// findAccountNames returns the account names in b (at most limit), in order.
// The emulator's account counts wherever it is written (a path, a connection
// string, UseDevelopmentStorage=true).
func findAccountNames(b []byte, limit int) []accountName {
	var out []accountName
	for i := 0; len(out) < limit; {
		j := indexFold(b, i, "account")
		if j < 0 {
			break
		}
		i = j + len("account")
		ks, ke := j, i
		for ks > 0 && isKeyByte(b[ks-1]) && j-ks < 64 {
			ks--
		}
		for ke < len(b) && isKeyByte(b[ke]) && ke-i < 64 {
			ke++
		}
		if !accountKeys[normKey(b[ks:ke])] {
			continue
		}
		flag := b[ks] == '-' // --account-name x, -StorageAccountName x
		if vs, ve, ok := valueAfterKey(b, ke, flag); ok {
			if a := strings.ToLower(string(b[vs:ve])); ValidAccount(a) {
				out = append(out, accountName{start: vs, end: ve, name: a})
			}
		}
		i = max(i, ke)
	}
	for _, w := range []string{devStoreAccount, "usedevelopmentstorage=true"} {
		for i := 0; len(out) < limit; {
			j := indexFold(b, i, w)
			if j < 0 {
				break
			}
			out = append(out, accountName{start: j, end: j + len(w), name: devStoreAccount})
			i = j + len(w)
		}
	}
	return out
}

// normKey lower-cases an identifier and drops '_', '-' and '.': the
// spellings account_name, accountName, --account-name and AccountName meet.
func normKey(k []byte) string {
	var buf [64]byte
	n := 0
	for _, c := range k {
		if c == '_' || c == '-' || c == '.' {
			continue
		}
		if n == len(buf) {
			return ""
		}
		buf[n] = lower(c)
		n++
	}
	return string(buf[:n])
}

// valueAfterKey reads the value assigned to the key that ends at i: after
// an optional closing quote, blanks, '=', ':', '=>' (or only blanks for a
// command-line flag; Bicep's "string =" type), blanks and an optional
// opening quote, a run of letters and digits that ends at a delimiter.
func valueAfterKey(b []byte, i int, flag bool) (vs, ve int, ok bool) {
	if i < len(b) && isQuote(b[i]) {
		i++
	}
	skip := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
	}
	skip()
	switch {
	case hasPrefixFold(b, i, "string") && !flag: // Bicep: param storageAccountName string = 'x'
		i += len("string")
		skip()
		if i >= len(b) || b[i] != '=' {
			return 0, 0, false
		}
		i++
	case i < len(b) && b[i] == '=' && i+1 < len(b) && b[i+1] == '>':
		i += 2
	case i < len(b) && (b[i] == '=' || b[i] == ':'):
		if i+1 < len(b) && b[i+1] == '=' {
			return 0, 0, false // a comparison
		}
		i++
	case flag && i < len(b) && i > 0 && b[i-1] == ' ':
	default:
		return 0, 0, false
	}
	skip()
	if i < len(b) && isQuote(b[i]) {
		i++
	}
	vs = i
	for i < len(b) && i-vs <= 24 && ('a' <= b[i]|0x20 && b[i]|0x20 <= 'z' || '0' <= b[i] && b[i] <= '9') {
		i++
	}
	if i == vs || i < len(b) && (isKeyByte(b[i]) || b[i] == '.' || b[i] == '$' || b[i] == '{' || b[i] == '%') {
		return 0, 0, false
	}
	return vs, i, true
}

// assignedValue returns the account name assigned to the variable name in
// b, nearest to pos: name = "x", name: 'x', "name": "x", $name = "x", let
// name = `x`. The variable of a templated host (${account}.blob...).
func assignedValue(b []byte, name string, pos int) string {
	if name == "" {
		return ""
	}
	best, bestDist := "", -1
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(name))
		if j < 0 {
			break
		}
		j += i
		i = j + len(name)
		if j > 0 && isKeyByte(b[j-1]) || i < len(b) && isKeyByte(b[i]) {
			continue
		}
		vs, ve, ok := valueAfterKey(b, i, false)
		if !ok {
			continue
		}
		a := strings.ToLower(string(b[vs:ve]))
		if !ValidAccount(a) {
			continue
		}
		d := pos - ve
		if d < 0 {
			d = vs - pos
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = a, d
		}
	}
	return best
}

// nearestAccount returns the account name nearest to [qs, qe) (a tie goes
// to the one before), and its distance; -1 when there is none.
func nearestAccount(names []accountName, qs, qe int) (string, int) {
	best, bestDist := "", -1
	for _, n := range names {
		var d int
		switch {
		case n.end <= qs:
			d = qs - n.end
		case n.start >= qe:
			d = n.start - qe + 1
		default:
			continue
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = n.name, d
		}
	}
	return best, bestDist
}

// nearestEndpoint returns the index of the endpoint nearest to [qs, qe) (a
// tie goes to the one before) and its distance; -1 when there is none.
func nearestEndpoint(eps []endpoint, qs, qe int) (int, int) {
	best, bestDist := -1, -1
	for i, e := range eps {
		var d int
		switch {
		case e.end <= qs:
			d = qs - e.end
		case e.start >= qe:
			d = e.start - qe + 1
		default:
			continue // overlaps the token itself
		}
		if best < 0 || d < bestDist {
			best, bestDist = i, d
		}
	}
	return best, bestDist
}

// pairContext gives a token without a usable host of its own the account
// and endpoint named nearest to it. An endpoint gives host and account
// (paired-endpoint); an account name nearer than any endpoint gives the
// account (paired-account), and the host of an endpoint of that account
// when the text has one. A templated host (${account}.blob...) takes the
// value of its variable first.
func (r *rawSAS) pairContext(b []byte, eps []endpoint, names []accountName) {
	if r.hasHost {
		return
	}
	if r.holeHost != "" {
		a := assignedValue(b, r.hole, r.qs)
		if a == "" {
			a, _ = nearestAccount(names, r.holeStart, r.qe)
		}
		if a == "" {
			return
		}
		h := a + r.holeHost
		if !validHost(h) {
			return
		}
		r.host, r.hasHost, r.pairedAcct = parseHost(h, r.holePath), true, true
		r.url = r.holeScheme + h + r.holePath
		r.start = r.holeStart
		return
	}
	if r.ownURL || r.account != "" {
		return
	}
	ei, ed := nearestEndpoint(eps, r.qs, r.qe)
	a, ad := nearestAccount(names, r.qs, r.qe)
	if a != "" && (ei < 0 || ad < ed) && (ei < 0 || eps[ei].info.account != a) {
		r.account, r.pairedAcct = a, true
		// an endpoint of the same account elsewhere in the text gives its host
		for i := range eps {
			if eps[i].info.account == a {
				ei = i
				break
			}
		}
		if ei < 0 || eps[ei].info.account != a {
			return
		}
	}
	if ei < 0 {
		return
	}
	r.host = eps[ei].info
	r.hasHost = true
	r.paired = true
}

// inferable are the parameters a fragment may take from a neighbouring
// piece, each with a check of its value: a stray "sp=3" in code is not a
// permission.
var inferable = map[string]func(string) bool{
	"sv":  isDateVersion,
	"ss":  func(v string) bool { return v != "" && strings.Trim(v, "bfqt") == "" },
	"srt": func(v string) bool { return v != "" && strings.Trim(v, "sco") == "" },
	"sp":  func(v string) bool { return v != "" && strings.Trim(strings.ToLower(v), "rwdxylacuptfimeo") == "" },
	"se":  func(v string) bool { _, ok := parseTime(v); return ok },
	"st":  func(v string) bool { _, ok := parseTime(v); return ok },
	"spr": func(v string) bool { return v == "https" || v == "https,http" || v == "http,https" },
	"sr": func(v string) bool {
		return v == "b" || v == "c" || v == "d" || v == "f" || v == "s" || v == "bv" || v == "bs"
	},
}

// fragmentReach bounds how far the neighbouring pieces of a fragment are
// looked for, before and after it.
const (
	fragmentBefore = 1024
	fragmentAfter  = 512
)

// incomplete reports a bare token that lacks what its kind needs: no kind
// marker (ss, srt, sr, tn, skoid...), or no sv, sp or se without si.
func (r *rawSAS) incomplete() bool {
	has := func(k string) bool { _, ok := r.get(k); return ok }
	if has("si") {
		return false
	}
	marker := false
	for _, k := range []string{"ss", "srt", "sr", "tn", "skoid", "sktid", "skt", "ske", "sks", "skv"} {
		marker = marker || has(k)
	}
	return !marker || !has("sv") || !has("sp") || !has("se")
}

// inferParams completes a fragment, the piece with sig= of a token whose
// other pieces could not be joined to it (SAS_HEAD + "&" + SAS_TAIL), with
// the parameters of the pieces around it, nearest first, so that it is not
// judged weaker than it is. The search stops at another token's sig=. What
// was taken is recorded (inferred=ss,srt,sp) and appended to the query.
func (r *rawSAS) inferParams(b []byte) {
	if r.url != "" || r.connString || !r.incomplete() {
		return
	}
	lo := max(0, r.qs-fragmentBefore)
	if k := lastIndexFold(b[lo:r.qs], "sig="); k >= 0 {
		lo += k + len("sig=")
	}
	hi := min(len(b), r.qe+fragmentAfter)
	if k := indexFold(b[r.qe:hi], 0, "sig="); k >= 0 {
		hi = r.qe + k
	}
	take := func(from, to int, backward bool) {
		// parameters key=value at a boundary in b[from:to]
		var found []qparam
		for i := from; i < to; i++ {
			if b[i] != '=' || i == from {
				continue
			}
			ks := i
			for ks > from && isKeyByte(b[ks-1]) {
				ks--
			}
			if ks > from && !isQTerm(b[ks-1]) && b[ks-1] != '&' && b[ks-1] != '=' {
				continue
			}
			k := strings.ToLower(string(b[ks:i]))
			ok := inferable[k]
			if ok == nil {
				continue
			}
			ve := i + 1
			for ve < to && !isQTerm(b[ve]) && b[ve] != '&' {
				ve++
			}
			if v := string(b[i+1 : ve]); ok(v) {
				found = append(found, qparam{key: k, val: v, vs: -1, ve: -1})
			}
		}
		if backward {
			slices.Reverse(found) // nearest first
		}
		for _, p := range found {
			if r.param(p.key) == nil && len(r.params) < 64 {
				r.params = append(r.params, p)
				r.inferred = append(r.inferred, p.key)
			}
		}
	}
	take(lo, r.start, true)
	take(r.qe, hi, false)
	slices.SortFunc(r.inferred, func(a, b string) int { return inferOrder[a] - inferOrder[b] })
}

// inferOrder is the order inferred keys are listed in (the Go SDK's).
var inferOrder = map[string]int{"sv": 0, "ss": 1, "srt": 2, "sp": 3, "se": 4, "st": 5, "spr": 6, "sr": 7}

// lastIndexFold returns the last index of the lower-case word p in b, case-insensitively.
func lastIndexFold(b []byte, p string) int {
	for i := len(b) - len(p); i >= 0; i-- {
		if lower(b[i]) == p[0] && hasPrefixFold(b, i, p) {
			return i
		}
	}
	return -1
}
