package verify

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/netip"
	"net/url"
	"strings"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// probe is one fixed, read-only request of sas-spec §6.2, built by the tool
// from the parsed token: never the found URL or its operation replayed.
type probe struct {
	method  string // http.MethodHead or http.MethodGet, nothing else
	url     *url.URL
	header  map[string]string
	account string // the rate-limit key
	op      string // the operation, for logs and tests: "get-account-information", ...
}

// The operations of sas-spec §6.2.
const (
	opAccountInfo   = "get-account-information"   // HEAD ?restype=account&comp=properties
	opServiceProps  = "get-service-properties"    // GET ?restype=service&comp=properties
	opFileProps     = "get-file-properties"       // HEAD file
	opShareProps    = "get-share-properties"      // HEAD ?restype=share
	opQueueMetadata = "get-queue-metadata"        // HEAD ?comp=metadata
	opTableQuery    = "query-entities-match-none" // GET table()?$filter=PartitionKey eq '<random>'&$top=1
)

// Reasons a token is not probed (Result.Detail of a not-checked result).
var (
	errNoEndpoint      = errors.New("no-endpoint")      // no storage host in the occurrence
	errHostNotAllowed  = errors.New("host-not-allowed") // host is not an allow-listed Azure Storage host
	errAccountKey      = errors.New("account-key")      // keys are never used to sign probes
	errNoSignature     = errors.New("no-signature")     // nothing to check
	errNoResource      = errors.New("no-resource")      // a service SAS whose container/queue/table is unknown
	errBadResource     = errors.New("bad-resource")     // a resource path a probe will not send (dot segments, ...)
	errNoService       = errors.New("no-service")       // the service of the token is unknown or has no probe
	errOtherAccount    = errors.New("account-mismatch") // token account differs from the host's or the endpoint's
	errUnsupportedKind = errors.New("unsupported-kind") // a kind with no probe
	errSnapshotNeeded  = errors.New("snapshot-unknown") // sr=bs/bv without the snapshot/version the signature covers
)

// endpoint is a parsed Config.Endpoint.
type endpoint struct {
	base    *url.URL // scheme, host and account path, no trailing slash
	account string   // the account the base names: only its tokens go there
}

func parseEndpoint(raw string) (*endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("verify: endpoint is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("verify: endpoint scheme must be http or https")
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, errors.New("verify: endpoint must be scheme://host[:port]/ACCOUNT with no credentials, query or fragment")
	}
	ep := &endpoint{base: &url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimSuffix(u.Path, "/")}}
	if first, _, _ := strings.Cut(strings.TrimPrefix(ep.base.Path, "/"), "/"); first != "" {
		ep.account = strings.ToLower(first) // path-style (emulator): /ACCOUNT
	} else if sh, ok := parseStorageHost(u.Host); ok {
		ep.account = sh.account
	} else if label, rest, _ := strings.Cut(strings.ToLower(u.Hostname()), "."); !isIP(u.Hostname()) && storageLabel(rest) {
		ep.account = label // {account}.privatelink.blob.core.windows.net, {account}.blob.localhost
	}
	if !detect.ValidAccount(ep.account) {
		// bind, don't pair: without the account, tokens of every account would go there
		return nil, errors.New("verify: endpoint must name the storage account: http://HOST:PORT/ACCOUNT or https://ACCOUNT.HOST")
	}
	return ep, nil
}

// storageLabel reports whether the host after an account label starts
// with a storage service or private-link label.
func storageLabel(rest string) bool {
	first, _, _ := strings.Cut(rest, ".")
	return probeServices[first] || first == "privatelink"
}

func isIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

// sasQuery rebuilds the SAS query parameters from the parsed token: known SAS
// keys only, lower-cased, first value wins, in the order found, re-encoded.
func sasQuery(tok detect.Token) ([]string, map[string]string) {
	var keys []string
	vals := make(map[string]string)
	for _, kv := range strings.Split(tok.Query.Reveal(), "&") {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		// Only SAS parameters are copied into a probe; everything else in
		// the found URL (comp, restype, snapshot of other operations,
		// timeout, ...) is dropped.
		if !ok || !detect.IsSASParam(k) {
			continue
		}
		if _, dup := vals[k]; dup {
			continue
		}
		keys = append(keys, k)
		vals[k] = v
	}
	if _, ok := vals["sig"]; !ok && !tok.Signature.IsZero() {
		keys = append(keys, "sig")
		vals["sig"] = tok.Signature.Reveal()
	}
	return keys, vals
}

// encodeQuery writes the operation's parameters, then the SAS parameters.
func encodeQuery(op [][2]string, keys []string, vals map[string]string) string {
	var b strings.Builder
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
	}
	for _, kv := range op {
		add(kv[0], kv[1])
	}
	for _, k := range keys {
		add(k, vals[k])
	}
	return b.String()
}

// resourceSegments splits tok.Resource ("/container/blob/path", escaped or
// not) into unescaped path segments. Dot segments and empty names are refused.
func resourceSegments(res string) ([]string, error) {
	res = strings.TrimPrefix(res, "/")
	if res == "" {
		return nil, nil
	}
	var out []string
	for _, s := range strings.Split(res, "/") {
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
		if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "\x00\r\n?#") {
			return nil, errBadResource
		}
		out = append(out, s)
	}
	return out, nil
}

// tokenService is the storage service whose probe a token gets: the service
// of its host; for a host that does not say (a bare token in endpoint mode),
// the token's only service, or blob for an account SAS that covers blob.
func tokenService(tok detect.Token) string {
	if sh, ok := parseStorageHost(tok.Host); ok {
		return sh.service
	}
	host := strings.ToLower(tok.Host)
	if name, _, ok := strings.Cut(host, ".localhost"); ok { // {acct}.{svc}.localhost[:port]
		if _, svc, ok := strings.Cut(name, "."); ok && probeServices[svc] {
			return svc
		}
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		if svc := emulatorService(host[i+1:]); svc != "" {
			return svc
		}
	}
	if len(tok.Services) == 1 && probeServices[tok.Services[0]] {
		return tok.Services[0]
	}
	for _, s := range tok.Services {
		if s == "blob" {
			return "blob"
		}
	}
	return ""
}

// buildProbe builds the one probe of sas-spec §6.2 for tok: to tok's own
// allow-listed host, or to ep when it is set.
func buildProbe(tok detect.Token, ep *endpoint) (*probe, error) {
	if tok.Kind == detect.KindAccountKey {
		return nil, errAccountKey
	}
	if tok.Signature.IsZero() {
		return nil, errNoSignature
	}
	account := strings.ToLower(tok.Account)
	var target url.URL
	svc := tokenService(tok)
	if ep == nil {
		if tok.Host == "" {
			return nil, errNoEndpoint
		}
		sh, ok := parseStorageHost(tok.Host)
		if !ok {
			return nil, errHostNotAllowed
		}
		if account != "" && account != sh.account {
			return nil, errOtherAccount
		}
		account = sh.account
		if sh.service == "dfs" { // sas-spec §6.2: same account and SAS on the blob endpoint
			sh = sh.withService("blob")
		}
		svc = sh.service
		target = url.URL{Scheme: "https", Host: sh.host}
	} else {
		if tok.Host == "" && account == "" {
			return nil, errNoEndpoint // bind, don't pair: an unattached token goes nowhere
		}
		if account != ep.account {
			return nil, errOtherAccount
		}
		if svc == "dfs" {
			svc = "blob"
		}
		target = *ep.base
	}
	if !probeServices[svc] {
		return nil, errNoService
	}
	keys, vals := sasQuery(tok)
	segs, err := resourceSegments(tok.Resource)
	if err != nil {
		return nil, err
	}
	p := &probe{method: "HEAD", account: account}
	var op [][2]string
	var path []string
	suffix := ""
	switch tok.Kind {
	case detect.KindAccount:
		switch {
		case svc == "blob" && vals["sv"] >= "2018-03-28":
			p.op, op = opAccountInfo, [][2]string{{"restype", "account"}, {"comp", "properties"}}
		default: // queue, table, file; blob before Get Account Information existed (sas-spec §9.4)
			p.method, p.op = "GET", opServiceProps
			op = [][2]string{{"restype", "service"}, {"comp", "properties"}}
		}
	case detect.KindService, detect.KindUserDelegation:
		switch svc {
		case "blob":
			if len(segs) == 0 {
				return nil, errNoResource
			}
			switch sr := vals["sr"]; {
			case sr == "c":
				path = segs[:1]
			case sr == "bs" && !hasQueryKey(tok, "snapshot"), sr == "bv" && !hasQueryKey(tok, "versionid"):
				return nil, errSnapshotNeeded
			default: // b, bs, bv, d: the signed resource; no sr: the path as found
				path = segs
			}
			p.op, op = opAccountInfo, [][2]string{{"restype", "account"}, {"comp", "properties"}}
			if sr := vals["sr"]; sr == "bs" {
				op = append(op, [2]string{"snapshot", queryValue(tok, "snapshot")})
			} else if sr == "bv" {
				op = append(op, [2]string{"versionid", queryValue(tok, "versionid")})
			}
		case "file":
			if len(segs) == 0 {
				return nil, errNoResource
			}
			if vals["sr"] == "s" || len(segs) == 1 {
				path, p.op = segs[:1], opShareProps
				op = [][2]string{{"restype", "share"}}
			} else {
				path, p.op = segs, opFileProps
			}
		case "queue":
			if len(segs) == 0 {
				return nil, errNoResource
			}
			path, p.op = segs[:1], opQueueMetadata
			op = [][2]string{{"comp", "metadata"}}
		case "table":
			name := vals["tn"]
			if name == "" {
				if t, ok := strings.CutPrefix(tok.Resource, "table "); ok {
					name = t
				} else if len(segs) > 0 {
					name = strings.TrimSuffix(segs[0], "()")
				}
			}
			if name == "" || !validTable(name) {
				return nil, errNoResource
			}
			path, suffix = []string{name}, "()"
			p.method, p.op = "GET", opTableQuery
			op = [][2]string{{"$filter", "PartitionKey eq '" + randomKey() + "'"}, {"$top", "1"}}
			p.header = map[string]string{"Accept": "application/json;odata=nometadata"}
		}
	default:
		return nil, errUnsupportedKind
	}
	esc := make([]string, len(path))
	for i, s := range path {
		esc[i] = url.PathEscape(s)
	}
	baseRaw := strings.TrimSuffix(target.EscapedPath(), "/")
	target.Path = strings.TrimSuffix(target.Path, "/") + "/" + strings.Join(path, "/") + suffix
	target.RawPath = baseRaw + "/" + strings.Join(esc, "/") + suffix
	target.RawQuery = encodeQuery(op, keys, vals)
	p.url = &target
	return p, nil
}

// validTable reports whether s is a table name: 3-63 alphanumerics starting with a letter.
func validTable(s string) bool {
	if len(s) < 3 || len(s) > 63 || !('a' <= s[0]|0x20 && s[0]|0x20 <= 'z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !('a' <= c && c <= 'z' || '0' <= s[i] && s[i] <= '9') {
			return false
		}
	}
	return true
}

// hasQueryKey and queryValue read a non-SAS parameter (snapshot, versionid)
// from the found URL: the signature of a snapshot or version SAS covers it.
func hasQueryKey(tok detect.Token, key string) bool { return queryValue(tok, key) != "" }

func queryValue(tok detect.Token, key string) string {
	u := tok.URL.Reveal()
	_, q, ok := strings.Cut(u, "?")
	if !ok {
		q = tok.Query.Reveal()
	}
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if strings.EqualFold(k, key) {
			if d, err := url.QueryUnescape(v); err == nil {
				v = d
			}
			return v
		}
	}
	return ""
}

// randomKey is a partition key no table holds, so the table probe matches nothing.
func randomKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "sasquatch-" + hex.EncodeToString(b[:])
}

// redactedURL is u with the value of every sig parameter masked: the only
// form of a probe URL that is logged, returned or put in an error.
func redactedURL(u *url.URL) string {
	c := *u
	c.User = nil
	var b strings.Builder
	for i, kv := range strings.Split(c.RawQuery, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		k, _, ok := strings.Cut(kv, "=")
		if ok && strings.EqualFold(k, "sig") {
			b.WriteString(k + "=" + detect.Redacted)
			continue
		}
		b.WriteString(kv)
	}
	c.RawQuery = b.String()
	return c.String()
}
