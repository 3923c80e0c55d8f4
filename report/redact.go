package report

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// secretParam matches the value of a SAS signature or an account key in free
// text, in raw, percent-encoded and escaped forms.
var secretParam = regexp.MustCompile(`(?i)((?:^|[^a-z0-9])(?:sig|accountkey|x-amz-signature|x-goog-signature)(?:=|%3d|%253d|\\u003d))[^&;\s"'<>]+`)

// userinfoPassword matches the password of a URL's userinfo
// ("https://user:password@host"), as in a clone URL given on the command line.
var userinfoPassword = regexp.MustCompile(`(://[^/@\s:]*:)[^/@\s]+@`)

// Scrub masks anything that looks like a signature, key or URL password in
// text that came from the scanned content or the user (a file name such as
// wget's "file.bin?sv=...&sig=...", a clone URL with credentials, a library's
// error), so that paths, errors and log lines never carry a secret. It is
// safe for concurrent use.
func Scrub(s string) string {
	if strings.Contains(s, "://") {
		s = userinfoPassword.ReplaceAllString(s, "${1}REDACTED@")
	}
	if !strings.ContainsAny(s, "=%\\") {
		return s
	}
	return secretParam.ReplaceAllString(s, "${1}REDACTED")
}

// SafeText makes repository-controlled text safe to print on a terminal: a
// string with control characters (an ANSI escape, a carriage return or a
// newline in a file name) or bidirectional formatting characters (U+202E
// RIGHT-TO-LEFT OVERRIDE makes "evil\u202etxt.exe" read as "evilexe.txt") is
// shown Go-quoted instead of raw, those characters escaped. It is safe for
// concurrent use.
func SafeText(s string) string {
	if strings.ContainsFunc(s, unsafeRune) {
		return strconv.Quote(s)
	}
	return s
}

// unsafeRune reports control characters and the bidirectional formatting
// characters (embeddings, overrides, isolates and marks) that reorder how a
// terminal shows text.
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}
