package detect

import (
	"net/netip"
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

// classifySAS implements sas-spec §7 for one extracted SAS at clock now.
func classifySAS(r *rawSAS, now time.Time) classified {
	var c classified
	t := &c.tok
	get := func(k string) string { v, _ := r.get(k); return v }
	hasP := func(k string) bool { _, ok := r.get(k); return ok }
	var tags []string
	tag := func(s string) {
		for _, x := range tags {
			if x == s {
				return
			}
		}
		tags = append(tags, s)
	}

	// kind (§2.1)
	isAcct := hasP("ss") || hasP("srt")
	isUD := false
	for _, k := range []string{"skoid", "sktid", "skt", "ske", "sks", "skv"} {
		if hasP(k) {
			isUD = true
		}
	}
	switch {
	case isAcct:
		t.Kind = KindAccount
		if isUD {
			tag(TagMixedKinds)
		}
	case isUD:
		t.Kind = KindUserDelegation
	default:
		t.Kind = KindService
	}

	// endpoint
	t.Cloud = CloudNone
	if r.hasHost {
		t.Host = r.host.host
		t.Account = r.host.account
		t.Cloud = r.host.cloud
	}
	sp := get("sp")
	t.SP = sp
	svc := ""
	if t.Kind == KindAccount {
		for _, ch := range []byte(get("ss")) {
			if w := map[byte]string{'b': "blob", 'f': "file", 'q': "queue", 't': "table"}[ch]; w != "" {
				t.Services = append(t.Services, w)
			}
		}
		for _, ch := range []byte(get("srt")) {
			if w := map[byte]string{'s': "service", 'c': "container", 'o': "object"}[ch]; w != "" {
				t.ResourceTypes = append(t.ResourceTypes, w)
			}
		}
	} else {
		svc = serviceOf(r)
		if svc != "" {
			t.Services = []string{svc}
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
	perms := accountPerms
	if t.Kind != KindAccount {
		switch svc {
		case "blob":
			perms = blobPerms
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
	write := false
	if lower := strings.ToLower(sp); lower != sp {
		// Whether the service accepts upper-case letters is not documented:
		// judge the token as if it does (the worse case) and say so.
		sp = lower
		tag(TagUppercasePermissions)
	}
	for i := 0; i < len(sp); i++ {
		if w, ok := perms[sp[i]]; ok {
			t.Permissions = append(t.Permissions, w)
			if !readLetters[sp[i]] {
				write = true
			}
		} else {
			t.Permissions = append(t.Permissions, "unknown:"+string(sp[i]))
		}
	}

	// times
	st, hasSt := parseTime(get("st"))
	se, hasSe := parseTime(get("se"))
	// an se that is not a time makes the service answer 400: as malformed as no se
	badSe := hasP("se") && !hasSe
	t.Start = st
	eff := se
	if t.Kind == KindUserDelegation {
		if ske, ok := parseTime(get("ske")); ok {
			if hasSe && se.After(ske) {
				tag(TagSeExceedsKeyExpiry)
			}
			if !hasSe || ske.Before(se) {
				eff, hasSe = ske, true
			}
		}
	}
	if hasSe {
		t.Expiry = eff
	}

	// gates (§7.2)
	si := hasP("si")
	var gates []string
	// An account SAS needs both ss and srt (the service and Azurite reject it
	// otherwise), as well as sp and se.
	accountIncomplete := t.Kind == KindAccount && (!hasP("se") || !hasP("sp") || !hasP("ss") || !hasP("srt"))
	if accountIncomplete || t.Kind != KindAccount && (!hasP("se") || !hasP("sp")) && !si || badSe {
		gates = append(gates, TagMalformed)
	}
	if t.Cloud == CloudEmulator || t.Account == "devstoreaccount1" {
		gates = append(gates, TagEmulator)
	}
	if t.Cloud == CloudGermanyRetired {
		gates = append(gates, TagRetiredCloud)
	}
	if hasSe && !eff.After(now) {
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
		case svc == "table":
			spk, epk := get("spk"), get("epk")
			if spk != "" && spk == epk {
				scope, scopeReason = scopeS1, "scope: single table partition (spk=epk)"
			} else {
				scopeReason = "scope: table"
			}
		case svc == "queue":
			scopeReason = "scope: queue"
		default:
			scopeReason = "scope: service resource from URL"
		}
	}

	// permission class
	permReason := "permissions: read-only"
	switch {
	case sp == "" && si:
		permReason = "permissions: unknown (stored policy)"
		tag(TagNeedsLiveCheck)
	case write:
		permReason = "permissions: write"
	}
	if len(t.Permissions) > 0 {
		permReason += " (" + strings.Join(t.Permissions, ",") + ")"
	}

	// lifetime tier
	life := lifeT2
	lifeReason := "lifetime: unknown (stored policy)"
	if hasSe {
		rem := eff.Sub(now)
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
	} else if si {
		tag(TagNeedsLiveCheck)
	} else if badSe {
		lifeReason = "lifetime: unknown (se is not a time)"
	} else {
		lifeReason = "lifetime: unknown (no expiry)"
	}

	// lifetime tags
	if hasSt && hasSe {
		l := se.Sub(st)
		if l > 365*24*time.Hour {
			tag(TagIssuedLifetime1y)
		}
		if l >= 10*365*24*time.Hour {
			tag(TagFarFutureExpiry)
		}
	}
	if hasSe && !se.Before(time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC)) {
		tag(TagFarFutureExpiry)
	}

	// base matrix (§7.3)
	sev := matrix(scope, write, life)
	if scope == scopeS3 && !write && life == lifeT3 {
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
	if si {
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
	if !hasSt {
		tag(TagNoStartTime)
	} else if st.After(now) {
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
	if !r.hasHost {
		tag(TagNoEndpoint)
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

	if steps != 0 && len(gates) == 0 {
		sev = max(Low, Severity(int(sev)+steps))
	}
	if len(gates) > 0 {
		sev = Info
	}
	c.sev = sev
	c.reasons = append(c.reasons, gates...)
	c.reasons = append(c.reasons, tags...)
	kindReason := "kind: " + string(t.Kind) + " SAS"
	c.reasons = append(c.reasons, kindReason, scopeReason, permReason, lifeReason)
	if steps != 0 {
		c.reasons = append(c.reasons, "modifier: "+itoaSigned(steps)+" step(s)")
	}
	return c
}

func itoaSigned(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	return "+" + itoa(n)
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
