package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Options configures the sinks made by [New]. The zero value is valid.
type Options struct {
	// Color enables ANSI colours in the text format. The caller sets it only
	// when the writer is a terminal (go-isatty); other formats ignore it.
	Color bool
}

// formats maps a --format name to its constructor. A new format (SARIF,
// Markdown) is one more entry here plus a type implementing Sink.
var formats = map[string]func(w io.Writer, opts Options) Sink{
	"text":  func(w io.Writer, opts Options) Sink { return NewText(w, opts) },
	"jsonl": func(w io.Writer, _ Options) Sink { return NewJSONL(w) },
	"json":  func(w io.Writer, _ Options) Sink { return NewJSON(w) },
}

// Formats returns the names [New] accepts, sorted. It is safe for concurrent use.
func Formats() []string {
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New returns the sink for format ("text", "jsonl" or "json"; see [Formats])
// writing to w. An unknown format is an error that lists the known ones. The
// returned sink is not safe for concurrent use (see [Sink]); the caller owns w
// and closes it after the sink's Close.
func New(format string, w io.Writer, opts Options) (Sink, error) {
	mk, ok := formats[strings.ToLower(format)]
	if !ok {
		return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats(), ", "))
	}
	return mk(w, opts), nil
}
