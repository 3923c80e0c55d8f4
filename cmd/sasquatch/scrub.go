package main

import (
	"log/slog"

	"github.com/sasquatch-sec/sasquatch/report"
)

// scrub masks signatures and keys in a message built from user input (a
// path, a URL, a library's error): see [report.Scrub].
func scrub(s string) string { return report.Scrub(s) }

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
