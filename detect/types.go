package detect

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Severity orders findings from harmless (Info) to account takeover (Critical).
// The zero value is Info. Severity values are comparable with < and >.
type Severity int

// The severities of sas-spec §7, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// String returns the lower-case name used in every output ("critical", ...).
func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// MarshalText implements encoding.TextMarshaler (JSON writes the lower-case name).
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity parses a severity name, case-insensitively.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(name, n) {
			return Severity(i), nil
		}
	}
	return Info, fmt.Errorf("unknown severity %q (want info, low, medium, high or critical)", name)
}

// Kind is the kind of credential a match is (design.md, JSONL field "kind").
type Kind string

// The kinds of credential the detector reports.
const (
	KindAccount        Kind = "account"         // account SAS: ss + srt
	KindService        Kind = "service"         // service SAS: sr, tn, or a queue URL
	KindUserDelegation Kind = "user-delegation" // user delegation SAS: skoid, sktid, ...
	KindAccountKey     Kind = "account-key"     // AccountKey= in a connection string, or a key-shaped value under a key name
)

// Secret holds a credential. Every way of printing or encoding it yields a
// redacted form; Reveal is the only way to get the value back. Secret is a
// value type and safe for concurrent use.
type Secret struct{ v string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: s} }

// Redacted is what every printing of a Secret produces.
const Redacted = "REDACTED"

// Reveal returns the secret value. Call it only where the user asked for it (--reveal).
func (s Secret) Reveal() string { return s.v }

// Equal reports whether two secrets hold the same value (go-cmp uses it, so
// comparing structs that hold a Secret needs no unexported-field option).
func (s Secret) Equal(o Secret) bool { return s.v == o.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

// String implements fmt.Stringer; it never returns the value.
func (s Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer (%#v); it never returns the value.
func (s Secret) GoString() string { return `detect.Secret{"` + Redacted + `"}` }

// Format implements fmt.Formatter so that every verb, %s %v %q %x %+v included, redacts.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, Redacted)
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(Redacted) }

// MarshalText implements encoding.TextMarshaler (used by map keys, XML, ...).
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// Token is one parsed credential: a SAS or an account key, with everything
// the classifier derived from it. Zero times mean "absent".
type Token struct {
	Kind          Kind
	Account       string    // storage account name; "" when unknown
	Host          string    // storage host the token was attached to or paired with; "" when none
	Cloud         string    // public, china, usgov, germany-retired, azurestack, emulator, custom, none
	Services      []string  // decoded ss (blob, file, queue, table) or the service of the host
	ResourceTypes []string  // decoded srt (service, container, object)
	Resource      string    // the resource the SAS is scoped to: "/container/blob", "table orders", "" for account-wide
	Permissions   []string  // decoded sp letters as words (read, write, delete, list, ...)
	SP            string    // sp exactly as found (decoded)
	Start, Expiry time.Time // st and effective expiry (min(se, ske) for user delegation)
	Signature     Secret    // sig (percent-decoded; a raw '+' stays '+'); the account key for KindAccountKey
	Query         Secret    // the SAS query string as found, decoded; contains sig; parameters inferred from neighbouring text (tag inferred=...) follow it
	URL           Secret    // the whole URL when the token was part of one
	Redacted      string    // the query string (or connection string) with the signature masked
}

// Match is one occurrence of a credential in the scanned bytes. A Match never
// holds the signature outside a Secret.
type Match struct {
	Start, End   int // byte offsets of the occurrence in the input; 0 <= Start < End <= len(input)
	Line, Column int // 1-based position of Start (column in bytes; in characters in UTF-16 text)
	Token        Token
	Severity     Severity
	Expired      bool
	Reasons      []string // every classification tag and gate, human-readable, stable
	Fingerprint  string   // Fingerprint(signature), or of the key for an account key
}

// Result is what one Detect call found.
type Result struct {
	Matches []Match
	// Rejected counts candidates that looked like a SAS or a key but were not a
	// storage secret: placeholders, signatures that do not decode to 32 bytes,
	// other vendors' sig=, Cosmos DB account keys.
	Rejected int
	// Rejections describe the first few rejected candidates (at most
	// MaxRejections; Rejected counts them all), so that a user can tell a
	// correct rejection from a miss (--verbose). Nil when none.
	Rejections []Rejection
	// Truncated is set when a resource bound of Detect was reached (too many
	// anchors, candidates or matches in one input): part of the input was not
	// examined, which is a coverage gap, not a clean result.
	Truncated bool
}

// Config configures a Detector. The zero value is valid.
type Config struct {
	// Now is the clock for lifetime tiers and the expired gate; zero means time.Now() at each Detect.
	Now time.Time
}

// MaxRejections bounds Result.Rejections.
const MaxRejections = 16

// Rejection is a candidate that looked like a credential but is not a
// secret. It never holds a signature or key: Redacted masks them.
type Rejection struct {
	Reason   string // stable: placeholder, signature-not-32-bytes, hex-signature, other-vendor, service-bus, not-a-sas, key-not-64-bytes, cosmos-db
	Redacted string // the candidate, signature or key masked, at most 200 bytes
}
