package main

import (
	"log/slog"

	"github.com/sasquatch-sec/sasquatch/report"
)

// scrubAttr is a slog ReplaceAttr that masks secrets ([report.Scrub]) in
// every string and error value.
func scrubAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		return slog.String(a.Key, report.Scrub(a.Value.String()))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok && err != nil {
			return slog.String(a.Key, report.Scrub(err.Error()))
		}
	}
	return a
}
