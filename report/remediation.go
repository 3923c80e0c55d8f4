package report

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// RemediationStep is one instruction of a finding's remediation. Format is
// prose written by sasquatch with one %s verb per value in Args; Args are
// values copied from the finding (the storage account, a stored access
// policy's name, a date) and may come from scanned, attacker-controlled text,
// so each renderer quotes them its own way: [RemediationStep.String] in
// double quotes, the Markdown sink in code spans. Neither ever holds a
// signature or a key.
type RemediationStep struct {
	Format string
	Args   []string
}

// String returns the step as plain text, each value in double quotes (Go
// syntax when it holds a control character or a quote). It is safe for
// concurrent use.
func (s RemediationStep) String() string { return string(s.appendTo(nil, plainQuote)) }

// plainQuote is String's quoting of a value.
func plainQuote(v string) string {
	if strings.ContainsFunc(v, func(r rune) bool { return r == '"' || r == '\\' || r < 0x20 || r == 0x7f }) {
		return strconv.Quote(v)
	}
	return `"` + v + `"`
}

// Render returns the step with each value passed through quote.
func (s RemediationStep) Render(quote func(string) string) string {
	return string(s.appendTo(nil, quote))
}

// appendTo appends the step to b: Format with each %s replaced by the next
// value passed through quote. Format is sasquatch's own prose with only
// %s verbs (TestRemediationFormats), so this is fmt.Sprintf without its
// reflection: every finding of every report renders five or six steps.
func (s RemediationStep) appendTo(b []byte, quote func(string) string) []byte {
	f := s.Format
	for _, a := range s.Args {
		before, after, ok := strings.Cut(f, "%s")
		if !ok {
			break
		}
		b = append(b, before...)
		b = append(b, quote(a)...)
		f = after
	}
	return append(b, f...)
}

// Remediation returns what to do about f as plain text, one numbered step a
// line ("1. …\n2. …"), without a trailing newline: the text of the JSON
// "remediation" field, the text sink and GitHub issues. It is a pure
// function of f (no clock, no I/O) and safe for concurrent use. See
// [RemediationSteps] for the structured form.
func Remediation(f Finding) string {
	// Rendered in a reused buffer and copied once at its exact length: a
	// report of thousands of findings holds one such text per finding.
	bp := remediationBufs.Get().(*[]byte)
	b := appendRemediation((*bp)[:0], f)
	out := string(b)
	*bp = b
	remediationBufs.Put(bp)
	return out
}

// appendRemediation appends the text of [Remediation] to b.
func appendRemediation(b []byte, f Finding) []byte {
	for i, s := range RemediationSteps(f) {
		if i > 0 {
			b = append(b, '\n')
		}
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, ". "...)
		b = s.appendTo(b, plainQuote)
	}
	return b
}

var remediationBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// RemediationSteps returns the steps to revoke and contain f, specific to its
// kind (sas-spec §2.3), most urgent first:
//
//   - account SAS, and service SAS without a stored access policy: regenerate
//     the account key that signed it (key1 or key2; the token does not say
//     which), then re-issue what legitimate clients need;
//   - service SAS naming a stored access policy (si): delete the policy or set
//     its expiry in the past, and never re-create it under the same name;
//   - user delegation SAS: revoke the account's user delegation keys;
//   - account key: regenerate that key;
//
// then, for every kind: set a SAS expiration policy, prefer user delegation
// SAS, and check the storage logs for use during the exposure window (from
// the earliest commit date among the locations, when known, to now). An
// expired SAS needs no revocation and an emulator credential none at all;
// their steps say so. It is a pure function of f and safe for concurrent use.
func RemediationSteps(f Finding) []RemediationStep {
	steps := make([]RemediationStep, 0, 8) // at most seven
	add := func(format string, args ...string) {
		steps = append(steps, RemediationStep{Format: format, Args: args})
	}
	// The account phrase: "storage account %s" with the name as a value, or
	// a description when the account is unknown.
	acct, acctArgs := "storage account %s", []string{f.Account}
	if f.Account == "" {
		acct, acctArgs = "the storage account it belongs to", nil
	}
	// withAcct adds a step whose format has one {account} marker, replaced
	// by the account phrase; extra values follow the account's.
	withAcct := func(format string, extra ...string) {
		add(accountFormat(format, acct), append(slices.Clone(acctArgs), extra...)...)
	}

	if hasReason(f, detect.TagEmulator) || hasReason(f, detect.TagEmulatorWellKnownKey) {
		add("Nothing to revoke: this credential belongs to the local storage emulator (Azurite) or is its published well-known key. Make sure no real storage account is configured with it, and keep real credentials out of the same files.")
		return steps
	}

	isSAS := f.Kind != detect.KindAccountKey
	if isSAS && f.Expired {
		exp := "This SAS has expired"
		if f.Expiry != nil {
			exp = "This SAS expired on " + f.Expiry.UTC().Format(time.RFC3339)
		}
		add(exp + " and the service refuses it: no key rotation or policy change is needed to stop this token. Remove it from the repository anyway, and still do the checks below.")
	} else {
		switch f.Kind {
		case detect.KindAccountKey:
			withAcct("Rotate this key now: regenerate it (key1 or key2, whichever it is) on {account}, after moving legitimate clients to the other key. Every SAS signed with it stops working too; re-issue the ones still needed. Consider disabling Shared Key authorization (AllowSharedKeyAccess=false) and using Microsoft Entra ID instead.")
		case detect.KindUserDelegation:
			withAcct("Revoke the user delegation keys of {account} (Revoke User Delegation Keys; Azure CLI: az storage account revoke-delegation-keys), or remove the role assignment of the principal that requested the key (skoid). Both are cached, so allow a few minutes; the key itself expires at most 7 days after it was issued.")
		case detect.KindService:
			if policy, ok := storedPolicy(f); ok {
				if policy != "" {
					add("Delete the stored access policy %s (the si parameter) on the container, share, queue or table the SAS is for, or set its expiry in the past; the change takes up to 30 seconds. Do not re-create a policy with the same name: that revives every SAS that names it.", policy)
				} else {
					add("Delete the stored access policy named in the token's si parameter on the container, share, queue or table the SAS is for, or set its expiry in the past; the change takes up to 30 seconds. Do not re-create a policy with the same name: that revives every SAS that names it.")
				}
				withAcct("If the policy cannot be changed, rotate the account key that signed the SAS (key1 or key2) on {account} instead.")
				break
			}
			fallthrough
		default: // account SAS, ad hoc service SAS, unknown kinds
			withAcct("Rotate the account key that signed it: regenerate key1 or key2 of {account} (the token does not say which key signed it: regenerate the one used to create SAS tokens, or both in turn, moving legitimate clients to the other key first). Regenerating the signing key is the only way to revoke an ad hoc SAS at once; every SAS signed with that key stops working.")
			add("Re-issue the SAS tokens legitimate clients still need: short-lived, least-privilege, preferably user delegation SAS, and delivered through a secret store rather than source files.")
		}
	}

	withAcct("Set a SAS expiration policy on {account} (sasPolicy with the Block action) so that long-lived SAS are refused.")
	if f.Kind == detect.KindUserDelegation {
		add("Keep to user delegation SAS (signed with Microsoft Entra credentials, at most 7 days) with the shortest lifetime that works.")
	} else {
		add("Prefer user delegation SAS (signed with Microsoft Entra credentials, capped at 7 days) over account keys and account or service SAS.")
	}
	used := "requests authorized by SAS"
	if f.Kind == detect.KindAccountKey {
		used = "requests authorized by Shared Key or by SAS"
	}
	if first := firstSeen(f); first != nil {
		// The date is sasquatch's own rendering, not a value from the scan.
		add("Check the storage logs (Azure Monitor resource logs such as StorageBlobLogs) of "+acct+" for "+used+" during the exposure window, from "+first.UTC().Format(time.RFC3339)+" (the earliest commit seen) to now.", acctArgs...)
	} else {
		withAcct("Check the storage logs (Azure Monitor resource logs such as StorageBlobLogs) of {account} for " + used + " during the exposure window, from when the token was first published to now.")
	}
	return steps
}

// accountFormats caches each constant step format with its {account}
// marker replaced by one of the two account phrases: the same few strings
// for every finding of a report, built once instead of once per finding.
var accountFormats sync.Map // [2]string{format, phrase} -> string

// accountFormat returns format with its {account} marker replaced by
// phrase. Only constant formats come here (the dated log step does not),
// so the cache stays as small as the code.
func accountFormat(format, phrase string) string {
	k := [2]string{format, phrase}
	if v, ok := accountFormats.Load(k); ok {
		return v.(string)
	}
	v := strings.Replace(format, "{account}", phrase, 1)
	accountFormats.Store(k, v)
	return v
}

func hasReason(f Finding, tag string) bool { return slices.Contains(f.Reasons, tag) }

// storedPolicy reports whether f's SAS names a stored access policy, and the
// policy's name when its redacted form carries the si parameter. The detector
// tags such tokens detect.TagStoredPolicy and keeps si in Redacted.
func storedPolicy(f Finding) (name string, ok bool) {
	name, found := queryParam(f.Redacted, "si")
	return name, found || hasReason(f, detect.TagStoredPolicy)
}

// queryParam returns the value of key in a redacted SAS query string (or a
// connection string holding one), percent-decoded when it decodes.
func queryParam(q, key string) (string, bool) {
	if _, after, ok := strings.Cut(q, "?"); ok {
		q = after
	}
	for _, kv := range strings.FieldsFunc(q, func(r rune) bool { return r == '&' || r == ';' }) {
		kv = strings.TrimPrefix(kv, "amp;") // "&amp;" in HTML-escaped text
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), key) {
			continue
		}
		if d, err := url.QueryUnescape(v); err == nil {
			v = d
		}
		return v, true
	}
	return "", false
}

// firstSeen returns the earliest commit date among f's locations, or nil.
func firstSeen(f Finding) *time.Time {
	var first *time.Time
	for _, l := range f.Locations {
		if l.Date != nil && (first == nil || l.Date.Before(*first)) {
			first = l.Date
		}
	}
	return first
}
