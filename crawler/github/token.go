package github

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
)

// redacted is what a [Token] prints in place of its value.
const redacted = "REDACTED"

// Token is a GitHub token. It never prints its value: String, GoString,
// Format, LogValue and MarshalJSON all return "REDACTED" (or "" for the zero
// Token), so %v, %#v, structured logging and JSON encoding cannot leak it.
// Only this package reads the value, to build an Authorization header or
// go-git basic auth. A Token is immutable and safe for concurrent use.
type Token struct{ v string }

// NewToken wraps s (surrounding white space removed). It is safe for
// concurrent use.
func NewToken(s string) Token { return Token{v: strings.TrimSpace(s)} }

// IsZero reports whether the token is empty (unauthenticated use).
func (t Token) IsZero() bool { return t.v == "" }

// String returns "REDACTED", or "" for the zero Token.
func (t Token) String() string {
	if t.v == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer without revealing the value.
func (t Token) GoString() string { return "github.Token(" + t.String() + ")" }

// Format implements fmt.Formatter for every verb without revealing the value.
func (t Token) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, t.GoString())
		return
	}
	_, _ = io.WriteString(f, t.String())
}

// LogValue implements slog.LogValuer without revealing the value.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// MarshalJSON encodes the token as "REDACTED" (or "").
func (t Token) MarshalJSON() ([]byte, error) { return []byte(`"` + t.String() + `"`), nil }

// MarshalText encodes the token as "REDACTED" (or ""), for encoders that
// prefer encoding.TextMarshaler.
func (t Token) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// maxTokenFile bounds what LoadToken reads from a token file.
const maxTokenFile = 16 << 10

// LoadToken returns the token from tokenFile when it is not empty, else from
// the GITHUB_TOKEN environment variable (read with getenv; nil means
// os.Getenv). The zero Token (and no error) means no token was given:
// unauthenticated use, limited to public repositories and a low rate limit.
// Errors never contain the token. LoadToken is safe for concurrent use.
func LoadToken(tokenFile string, getenv func(string) string) (Token, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var s string
	if tokenFile != "" {
		f, err := os.Open(tokenFile)
		if err != nil {
			return Token{}, fmt.Errorf("token file: %w", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
		if err != nil {
			return Token{}, fmt.Errorf("read token file %s: %w", tokenFile, err)
		}
		if len(b) > maxTokenFile {
			return Token{}, fmt.Errorf("token file %s: larger than %d bytes", tokenFile, maxTokenFile)
		}
		s = string(b)
		if strings.TrimSpace(s) == "" {
			return Token{}, fmt.Errorf("token file %s: empty", tokenFile)
		}
	} else {
		s = getenv("GITHUB_TOKEN")
	}
	t := NewToken(s)
	if err := t.validate(); err != nil {
		if tokenFile != "" {
			return Token{}, fmt.Errorf("token file %s: %w", tokenFile, err)
		}
		return Token{}, fmt.Errorf("GITHUB_TOKEN: %w", err)
	}
	return t, nil
}

var errTokenChars = errors.New("token contains white space or control characters")

// validate rejects values that would corrupt an HTTP header.
func (t Token) validate() error {
	for _, r := range t.v {
		if r <= ' ' || r == 0x7f || r > 0x7e {
			return errTokenChars
		}
	}
	return nil
}

// redactString replaces in s every form of the token a library or a server
// may echo: the token itself in any letter case, URL-encoded, and inside the
// base64 of the Basic authorization header that clones send
// ("x-access-token:TOKEN", padded or not, standard or URL alphabet).
func (t Token) redactString(s string) string {
	if t.v == "" {
		return s
	}
	for _, form := range t.forms() {
		s = replaceFold(s, form, redacted)
	}
	return s
}

// forms returns the shapes of the token to redact.
func (t Token) forms() []string {
	basic := []byte("x-access-token:" + t.v)
	return []string{
		t.v,
		url.QueryEscape(t.v),
		base64.StdEncoding.EncodeToString(basic),
		base64.RawStdEncoding.EncodeToString(basic),
		base64.URLEncoding.EncodeToString(basic),
		base64.RawURLEncoding.EncodeToString(basic),
	}
}

// replaceFold replaces every ASCII-case-insensitive occurrence of old in s.
func replaceFold(s, old, repl string) string {
	if old == "" || len(s) < len(old) {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i+len(old) <= len(s); {
		if strings.EqualFold(s[i:i+len(old)], old) {
			b.WriteString(s[last:i])
			b.WriteString(repl)
			i += len(old)
			last = i
			continue
		}
		i++
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// redactedError is an error whose message had the token removed. It does not
// unwrap: the original would print the token.
type redactedError struct{ msg string }

func (e *redactedError) Error() string { return e.msg }

// redactErr returns err, or a copy without the token when its message
// contains it.
func (t Token) redactErr(err error) error {
	if err == nil || t.v == "" {
		return err
	}
	msg := err.Error()
	clean := t.redactString(msg)
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean}
}
