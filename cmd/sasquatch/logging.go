package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/sasquatch-sec/sasquatch/report"
)

// newLogger returns the logger of a run. There is one log style on
// standard error: "sasquatch: " lines. By default only warnings are logged,
// as "sasquatch: warning: …" lines; --verbose adds slog's structured text
// lines at Info (every skip, where candidates were rejected), and
// --log-format json writes slog's JSON lines instead, for machines. Every
// string is scrubbed of secrets.
func newLogger(w io.Writer, verbose bool, format string) (*slog.Logger, error) {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: scrubAttr}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "":
		if verbose {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(&lineHandler{w: w, mu: &sync.Mutex{}}), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

// lineHandler writes warnings and errors as "sasquatch: warning: MSG
// (key=value, …)" lines, the style of the summary. It is safe for
// concurrent use.
type lineHandler struct {
	w     io.Writer
	mu    *sync.Mutex
	attrs []slog.Attr
	group string
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("sasquatch: ")
	if r.Level >= slog.LevelError {
		b.WriteString("error: ")
	} else {
		b.WriteString("warning: ")
	}
	b.WriteString(report.SafeText(report.Scrub(r.Message)))
	var kv []string
	add := func(a slog.Attr) {
		a = scrubAttr(nil, a)
		if a.Equal(slog.Attr{}) {
			return
		}
		key := a.Key
		if h.group != "" {
			key = h.group + "." + key
		}
		kv = append(kv, key+"="+report.SafeText(a.Value.Resolve().String()))
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool { add(a); return true })
	if len(kv) > 0 {
		b.WriteString(" (" + strings.Join(kv, ", ") + ")")
	}
	b.WriteString("\n")
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := fmt.Fprint(h.w, b.String())
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &n
}

func (h *lineHandler) WithGroup(name string) slog.Handler {
	n := *h
	if n.group != "" {
		name = n.group + "." + name
	}
	n.group = name
	return &n
}
