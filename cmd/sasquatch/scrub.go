package main

import (
	"log/slog"
	"regexp"
)

// secretParam matches the value of a SAS signature or an account key in free
// text, in raw, percent-encoded and escaped forms.
var secretParam = regexp.MustCompile(`(?i)((?:^|[^a-z0-9])(?:sig|accountkey|x-amz-signature|x-goog-signature)(?:=|%3d|%253d|\\u003d))[^&;\s"'<>]+`)

// scrub masks anything that looks like a signature or key in a message built
// from user input (a path, a URL, an error from a library), so that errors
// and log lines never carry a secret even when the input was one.
func scrub(s string) string {
	return secretParam.ReplaceAllString(s, "${1}REDACTED")
}

// scrubAttr is a slog ReplaceAttr that scrubs every string and error value.
func scrubAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		return slog.String(a.Key, scrub(a.Value.String()))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok && err != nil {
			return slog.String(a.Key, scrub(err.Error()))
		}
	}
	return a
}
