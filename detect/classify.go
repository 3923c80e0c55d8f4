package detect

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Tags (sas-spec §7, verbatim) that become Match.Reasons entries.
const (
	TagFullControl          = "full-control"
	TagFarFutureExpiry      = "far-future-expiry"
	TagIssuedLifetime1y     = "issued-lifetime>1y"
	TagHTTPAllowed          = "http-allowed"
	TagNoStartTime          = "no-start-time"
	TagNotYetValid          = "not-yet-valid"
	TagStoredPolicy         = "stored-policy"
	TagNeedsLiveCheck       = "needs-live-check"
	TagUserDelegation       = "user-delegation"
	TagUserBound            = "user-bound"
	TagIPRestricted         = "ip-restricted"
	TagIPIneffective        = "ip-restriction-ineffective"
	TagSeExceedsKeyExpiry   = "se-exceeds-key-expiry"
	TagExpired              = "expired"
	TagEmulator             = "emulator"
	TagRetiredCloud         = "retired-cloud"
	TagMalformed            = "malformed"
	TagNoEndpoint           = "no-endpoint"
	TagPrivateLink          = "private-link"
	TagSecondaryEndpoint    = "secondary-endpoint"
	TagConnectionString     = "connection-string"
	TagHTMLEscaped          = "html-escaped"
	TagJSONEscaped          = "json-escaped"
	TagDoubleURLEncoded     = "double-url-encoded"
	TagSplitString          = "split-string"
	TagSigUnencodedPlus     = "sig-unencoded-plus"
	TagEncryptionScope      = "encryption-scope"
	TagEmulatorWellKnownKey = "emulator-well-known-key"
	TagMixedKinds           = "mixed-kinds"
	TagIpynb                = "ipynb"
	TagUTF16                = "utf-16"
	TagPairedEndpoint       = "paired-endpoint"
	TagResponseOverride     = "response-header-override"
	TagCorrelationID        = "correlation-id"
	TagPreauthorizedAgent   = "preauthorized-agent"
	TagAgentObject          = "agent-object"
	TagDNSZone              = "dns-zone"
	TagStaticWebsite        = "static-website"
	TagUppercasePermissions = "uppercase-permissions"
	TagPairedAccount        = "paired-account" // account taken from an account name near a bare token or key
	TagInferredPrefix       = "inferred="      // + the keys a fragment took from neighbouring pieces: "inferred=ss,srt,sp"
)

// EmulatorKey is the published Azurite / storage emulator account key (sas-spec §5.1).
const EmulatorKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// permission letter -> word, per kind of resource (sas-spec §3).
var (
	accountPerms = map[byte]string{'r': "read", 'w': "write", 'd': "delete", 'x': "delete-version", 'y': "permanent-delete",
		'l': "list", 'a': "add", 'c': "create", 'u': "update", 'p': "process", 't': "tag", 'f': "filter", 'i': "immutability"}
	blobPerms = map[byte]string{'r': "read", 'a': "add", 'c': "create", 'w': "write", 'd': "delete", 'x': "delete-version",
		'y': "permanent-delete", 'l': "list", 't': "tag", 'f': "filter", 'm': "move", 'e': "execute", 'o': "ownership",
		'p': "permissions", 'i': "immutability"}
	filePerms  = map[byte]string{'r': "read", 'c': "create", 'w': "write", 'd': "delete", 'l': "list"}
	queuePerms = map[byte]string{'r': "read", 'a': "add", 'u': "update", 'p': "process"}
	tablePerms = map[byte]string{'r': "read", 'a': "add", 'u': "update", 'd': "delete"}
	// read-class letters (PR); every other known letter is write/delete (PW)
	readLetters = map[byte]bool{'r': true, 'l': true, 'f': true, 'e': true}
)

// Scope tiers and lifetime tiers of sas-spec §7.1.
const (
	scopeS1 = 1
	scopeS2 = 2
	scopeS3 = 3
)

const (
	lifeExpired = iota
	lifeT0
	lifeT1
	lifeT2
	lifeT3
)

// classified is the result of classifying one SAS.
type classified struct {
	tok     Token
	sev     Severity
	expired bool
	reasons []string
}

func has(s string, c byte) bool { return strings.IndexByte(s, c) >= 0 }

// serviceOf decides which permission table applies to a service or UD SAS.
func serviceOf(r *rawSAS) string {
	sr, _ := r.get("sr")
	if _, ok := r.get("tn"); ok {
		return "table"
	}
	switch sr {
	case "b", "bv", "bs", "c", "d":
		return "blob"
	case "f", "s":
		return "file"
	}
	if r.hasHost {
		switch r.host.service {
		case "dfs", "web":
			return "blob"
		case "":
		default:
			return r.host.service
		}
	}
	return ""
}

// sasFacts is what extraction learned from a SAS besides the Token fields:
// the inputs of the judgement of sas-spec §7.
type sasFacts struct {
	write       bool      // a write/delete permission letter
	st, se, eff time.Time // start, se, effective expiry (min(se, ske) for user delegation)
	hasSt       bool
	hasSe       bool // eff is set
	badSe       bool // se present but not a time
	si          bool // stored policy
	svc         string
	tags        []string // tags learned while extracting (uppercase-permissions, ...)
}

// classifySAS implements sas-spec §7 for one extracted SAS at clock now:
// the token's fields from its parameters and context (tokenOf), then the
// gates, matrix and modifiers (judgeSAS).
func classifySAS(r *rawSAS, now time.Time) classified {
	tok, f := tokenOf(r)
	return judgeSAS(r, tok, f, now)
}

var (
	ssWords  = map[byte]string{'b': "blob", 'f': "file", 'q': "queue", 't': "table"}
	srtWords = map[byte]string{'s': "service", 'c': "container", 'o': "object"}
)

// tokenOf fills a Token from a SAS's parameters and context: kind (§2.1),
// endpoint, services, resource, permission words and times.
func tokenOf(r *rawSAS) (Token, sasFacts) {
	var t Token
	var f sasFacts
	get := func(k string) string { v, _ := r.get(k); return v }
	hasP := func(k string) bool { _, ok := r.get(k); return ok }

	// kind (§2.1)
	isAcct := hasP("ss") || hasP("srt")
	isUD := false
	for _, k := range []string{"skoid", "sktid", "skt", "ske", "sks", "skv"} {
		isUD = isUD || hasP(k)
	}
	switch {
	case isAcct:
		t.Kind = KindAccount
		if isUD {
			f.tags = append(f.tags, TagMixedKinds)
		}
	case isUD:
		t.Kind = KindUserDelegation
	default:
		t.Kind = KindService
	}

	// endpoint
	t.Cloud = CloudNone
	if r.hasHost {
		t.Host, t.Account, t.Cloud = r.host.host, r.host.account, r.host.cloud
	}
	if t.Account == "" && r.account != "" {
		t.Account = r.account
	}
	if t.Account == devStoreAccount {
		t.Cloud = CloudEmulator // the emulator's account wherever it is named
	}
	sp := get("sp")
	t.SP = sp
	if t.Kind == KindAccount {
		// slices sized once: a token's words are appended without regrowing
		ss, srt := get("ss"), get("srt")
		if ss != "" {
			t.Services = make([]string, 0, len(ss))
		}
		if srt != "" {
			t.ResourceTypes = make([]string, 0, len(srt))
		}
		for _, ch := range []byte(ss) {
			if w := ssWords[ch]; w != "" {
				t.Services = append(t.Services, w)
			}
		}
		for _, ch := range []byte(srt) {
			if w := srtWords[ch]; w != "" {
				t.ResourceTypes = append(t.ResourceTypes, w)
			}
		}
		if len(t.Services) == 0 {
			t.Services = nil // no known letter: as before sizing, nil
		}
		if len(t.ResourceTypes) == 0 {
			t.ResourceTypes = nil
		}
	} else {
		f.svc = serviceOf(r)
		if f.svc != "" {
			t.Services = []string{f.svc}
		}
		if r.hasHost && r.host.service == "dfs" {
			t.Services = []string{"dfs"}
		}
		if tn := get("tn"); tn != "" {
			t.Resource = "table " + tn
		} else if r.url != "" {
			p := r.host.path
			if !r.host.pathAcc {
				if i := strings.Index(r.url, "://"); i >= 0 {
					p = r.url[i+3:]
				}
				if i := strings.IndexByte(p, '/'); i >= 0 {
					p = p[i:]
				} else {
					p = ""
				}
			}
			if p != "/" {
				t.Resource = p
			}
		}
	}

	// permissions: each service's own letters (queue "raup", table "raud")
	perms := accountPerms
	if t.Kind != KindAccount {
		switch f.svc {
		case "file":
			perms = filePerms
		case "queue":
			perms = queuePerms
		case "table":
			perms = tablePerms
		default:
			perms = blobPerms
		}
	}
	if lower := strings.ToLower(sp); lower != sp {
		// Whether the service accepts upper-case letters is not documented:
		// judge the token as if it does (the worse case) and say so.
		sp = lower
		f.tags = append(f.tags, TagUppercasePermissions)
	}
	if sp != "" {
		t.Permissions = make([]string, 0, len(sp))
	}
	for i := 0; i < len(sp); i++ {
		if w, ok := perms[sp[i]]; ok {
			t.Permissions = append(t.Permissions, w)
			if !readLetters[sp[i]] {
				f.write = true
			}
		} else {
			t.Permissions = append(t.Permissions, "unknown:"+string(sp[i]))
		}
	}

	// times
	f.st, f.hasSt = parseTime(get("st"))
	f.se, f.hasSe = parseTime(get("se"))
	// an se that is not a time makes the service answer 400: as malformed as no se
	f.badSe = hasP("se") && !f.hasSe
	f.si = hasP("si")
	t.Start = f.st
	f.eff = f.se
	if t.Kind == KindUserDelegation {
		if ske, ok := parseTime(get("ske")); ok {
			if f.hasSe && f.se.After(ske) {
				f.tags = append(f.tags, TagSeExceedsKeyExpiry)
			}
			if !f.hasSe || ske.Before(f.eff) {
				f.eff, f.hasSe = ske, true
			}
		}
	}
	if f.hasSe {
		t.Expiry = f.eff
	}
	return t, f
}

// judgeSAS applies sas-spec §7 to an extracted token: gates (§7.2), scope,
// permission class and lifetime tiers (§7.1), the matrix (§7.3) and the
// modifiers (§7.4). Every tag becomes a reason.
func judgeSAS(r *rawSAS, t Token, f sasFacts, now time.Time) classified {
	c := classified{tok: t}
	get := func(k string) string { v, _ := r.get(k); return v }
	hasP := func(k string) bool { _, ok := r.get(k); return ok }
	tags := make([]string, 0, 8) // a token has a few
	tag := func(s string) {
		if !slices.Contains(tags, s) {
			tags = append(tags, s)
		}
	}
	for _, x := range f.tags {
		tag(x)
	}
	sp := strings.ToLower(t.SP)

	// gates (§7.2)
	var gates []string
	// An account SAS needs both ss and srt (the service and Azurite reject it
	// otherwise), as well as sp and se.
	accountIncomplete := t.Kind == KindAccount && (!hasP("se") || !hasP("sp") || !hasP("ss") || !hasP("srt"))
	if accountIncomplete || t.Kind != KindAccount && (!hasP("se") || !hasP("sp")) && !f.si || f.badSe {
		gates = append(gates, TagMalformed)
	}
	if t.Cloud == CloudEmulator || t.Account == devStoreAccount {
		gates = append(gates, TagEmulator)
	}
	if t.Cloud == CloudGermanyRetired {
		gates = append(gates, TagRetiredCloud)
	}
	if f.hasSe && !f.eff.After(now) {
		gates = append(gates, TagExpired)
		c.expired = true
	}

	// scope (§7.1)
	scope := scopeS2
	scopeReason := ""
	switch t.Kind {
	case KindAccount:
		srt := get("srt")
		if has(srt, 'c') || has(srt, 'o') {
			scope, scopeReason = scopeS3, "scope: account-wide (srt="+srt+")"
		} else {
			scope, scopeReason = scopeS2, "scope: service-level (srt="+srt+")"
		}
	default:
		sr := get("sr")
		switch {
		case sr == "b" || sr == "bv" || sr == "bs":
			scope, scopeReason = scopeS1, "scope: single blob (sr="+sr+")"
		case sr == "f":
			scope, scopeReason = scopeS1, "scope: single file (sr=f)"
		case sr == "c":
			scopeReason = "scope: container (sr=c)"
		case sr == "d":
			scopeReason = "scope: directory (sr=d)"
		case sr == "s":
			scopeReason = "scope: share (sr=s)"
		case f.svc == "table":
			spk, epk := get("spk"), get("epk")
			if spk != "" && spk == epk {
				scope, scopeReason = scopeS1, "scope: single table partition (spk=epk)"
			} else {
				scopeReason = "scope: table"
			}
		case f.svc == "queue":
			scopeReason = "scope: queue"
		default:
			scopeReason = "scope: service resource from URL"
		}
	}

	// permission class: with no sp, nothing is known about the permissions
	// (a stored policy may hold them; without one the token is malformed)
	var permReason string
	switch {
	case !hasP("sp") && f.si:
		permReason = "permissions: unknown (stored policy)"
		tag(TagNeedsLiveCheck)
	case !hasP("sp"):
		permReason = "permissions: unknown (no sp)"
	case f.write:
		permReason = "permissions: write"
	default:
		permReason = "permissions: read-only"
	}
	if len(t.Permissions) > 0 {
		permReason += " (" + strings.Join(t.Permissions, ",") + ")"
	}

	// lifetime tier
	life := lifeT2
	lifeReason := "lifetime: unknown (stored policy)"
	if f.hasSe {
		rem := f.eff.Sub(now)
		switch {
		case rem <= 0:
			life, lifeReason = lifeExpired, "lifetime: expired"
		case rem <= 24*time.Hour:
			life, lifeReason = lifeT0, "lifetime: <=24 hours"
		case rem <= 30*24*time.Hour:
			life, lifeReason = lifeT1, "lifetime: <=30 days"
		case rem <= 365*24*time.Hour:
			life, lifeReason = lifeT2, "lifetime: <=365 days"
		default:
			life, lifeReason = lifeT3, "lifetime: >365 days"
		}
	} else if f.si {
		tag(TagNeedsLiveCheck)
	} else if f.badSe {
		lifeReason = "lifetime: unknown (se is not a time)"
	} else {
		lifeReason = "lifetime: unknown (no expiry)"
	}

	// lifetime tags
	if f.hasSt && f.hasSe {
		l := f.se.Sub(f.st)
		if l > 365*24*time.Hour {
			tag(TagIssuedLifetime1y)
		}
		if l >= 10*365*24*time.Hour {
			tag(TagFarFutureExpiry)
		}
	}
	if f.hasSe && !f.se.Before(time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC)) {
		tag(TagFarFutureExpiry)
	}

	// base matrix (§7.3)
	sev := matrix(scope, f.write, life)
	if scope == scopeS3 && !f.write && life == lifeT3 {
		srt := get("srt")
		if has(sp, 'r') && has(sp, 'l') && has(srt, 'c') && has(srt, 'o') {
			sev = Critical
		}
	}

	// modifiers (§7.4)
	steps := 0
	if hasP("sduoid") {
		steps -= 2
		tag(TagUserBound)
	}
	if sip, ok := r.get("sip"); ok {
		if ipRangeSize(sip) <= 1<<24 {
			steps--
			tag(TagIPRestricted)
		} else {
			tag(TagIPIneffective)
		}
	}
	if spr, ok := r.get("spr"); !ok || hasHTTP(spr) {
		tag(TagHTTPAllowed)
	}
	if f.si {
		tag(TagStoredPolicy)
		if !hasP("sp") || !hasP("se") {
			tag(TagNeedsLiveCheck)
		}
	}
	if t.Kind == KindUserDelegation {
		tag(TagUserDelegation)
	}
	if has(sp, 'r') && has(sp, 'w') && has(sp, 'd') && has(sp, 'l') {
		tag(TagFullControl)
	}
	if !f.hasSt {
		tag(TagNoStartTime)
	} else if f.st.After(now) {
		tag(TagNotYetValid)
	}
	if hasP("ses") {
		tag(TagEncryptionScope)
	}
	for _, k := range []string{"rscc", "rscd", "rsce", "rscl", "rsct"} {
		if hasP(k) {
			tag(TagResponseOverride)
		}
	}
	if hasP("scid") {
		tag(TagCorrelationID)
	}
	if hasP("saoid") {
		tag(TagPreauthorizedAgent)
	}
	if hasP("suoid") {
		tag(TagAgentObject)
	}
	if r.pairedAcct {
		tag(TagPairedAccount)
	}
	if !r.hasHost {
		tag(TagNoEndpoint)
		if t.Cloud == CloudEmulator {
			tag("cloud=" + t.Cloud)
		}
	} else {
		for _, h := range r.host.tags {
			tag(h)
		}
		if r.paired {
			tag(TagPairedEndpoint)
		}
		if t.Cloud != CloudPublic {
			tag("cloud=" + t.Cloud)
		}
	}
	if r.connString {
		tag(TagConnectionString)
	}
	if len(r.inferred) > 0 {
		tag(TagInferredPrefix + strings.Join(r.inferred, ","))
	}

	if steps != 0 && len(gates) == 0 {
		sev = max(Low, Severity(int(sev)+steps))
	}
	if len(gates) > 0 {
		sev = Info
	}
	c.sev = sev
	c.reasons = make([]string, 0, len(gates)+len(tags)+5)
	c.reasons = append(c.reasons, gates...)
	c.reasons = append(c.reasons, tags...)
	c.reasons = append(c.reasons, "kind: "+string(t.Kind)+" SAS", scopeReason, permReason, lifeReason)
	if steps != 0 {
		c.reasons = append(c.reasons, fmt.Sprintf("modifier: %+d step(s)", steps))
	}
	return c
}

// classifyKey judges an account key (gate G5 of sas-spec §7.2): CRITICAL,
// the key can mint any SAS; INFO for the emulator's published key or
// account, and for the retired German cloud. conn says it was found in a
// connection string; f are the decodings that produced it; pairing are the
// tags of an account or endpoint taken from the text around it.
func classifyKey(tok *Token, key string, conn bool, f uint8, pairing []string) (Severity, []string) {
	if tok.Account == devStoreAccount {
		tok.Cloud = CloudEmulator
	}
	var reasons []string
	sev := Critical
	switch {
	case key == EmulatorKey:
		sev = Info
		reasons = append(reasons, TagEmulatorWellKnownKey)
	case tok.Account == devStoreAccount || tok.Cloud == CloudEmulator:
		sev = Info
		reasons = append(reasons, TagEmulator)
	case tok.Cloud == CloudGermanyRetired:
		sev = Info
		reasons = append(reasons, TagRetiredCloud)
	}
	if conn {
		reasons = append(reasons, TagConnectionString)
	}
	if f&flHTML != 0 {
		reasons = append(reasons, TagHTMLEscaped)
	} else if f&flJSON != 0 {
		reasons = append(reasons, TagJSONEscaped)
	}
	reasons = append(reasons, pairing...)
	if tok.Cloud != CloudPublic && tok.Cloud != CloudNone {
		reasons = append(reasons, "cloud="+tok.Cloud)
	}
	reasons = append(reasons, "kind: account-key", "scope: account-wide (the key can mint any SAS; only rotation revokes it)")
	return sev, reasons
}

func hasHTTP(spr string) bool {
	for _, p := range strings.Split(strings.ToLower(spr), ",") {
		if strings.TrimSpace(p) == "http" {
			return true
		}
	}
	return false
}

// ipRangeSize returns the number of addresses sip allows (one address or an
// inclusive range); unparseable values count as unrestricted.
func ipRangeSize(sip string) uint64 {
	a, b, isRange := strings.Cut(sip, "-")
	lo, err := netip.ParseAddr(strings.TrimSpace(a))
	if err != nil || !lo.Is4() {
		return 1 << 32
	}
	if !isRange {
		return 1
	}
	hi, err := netip.ParseAddr(strings.TrimSpace(b))
	if err != nil || !hi.Is4() {
		return 1 << 32
	}
	l4, h4 := lo.As4(), hi.As4()
	lv := uint64(l4[0])<<24 | uint64(l4[1])<<16 | uint64(l4[2])<<8 | uint64(l4[3])
	hv := uint64(h4[0])<<24 | uint64(h4[1])<<16 | uint64(h4[2])<<8 | uint64(h4[3])
	if hv < lv {
		return 1 << 32
	}
	return hv - lv + 1
}

// matrix is the base matrix of sas-spec §7.3 (S3·PR·T3 refined by the caller).
func matrix(scope int, write bool, life int) Severity {
	if life == lifeExpired {
		return Info
	}
	long := life == lifeT3 || life == lifeT2
	switch {
	case scope == scopeS3 && write:
		if long {
			return Critical
		}
		return High
	case scope == scopeS3:
		if long {
			return High
		}
		return Medium
	case scope == scopeS2 && write:
		if long {
			return High
		}
		return Medium
	case scope == scopeS2:
		if long {
			return Medium
		}
		return Low
	case write:
		if long {
			return Medium
		}
		return Low
	}
	return Low
}
