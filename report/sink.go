package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Options configures the sinks made by [New]. The zero value is valid.
type Options struct {
	// Color enables ANSI colours in the text format. The caller sets it only
	// when the writer is a terminal (go-isatty); other formats ignore it.
	Color bool
	// Now is the clock for relative times in the Markdown format (remaining
	// lifetime, "expired 3 days ago"); zero means time.Now() at Close.
	Now time.Time
	// Version is the tool version written in the SARIF format's tool driver
	// (cmd sets it from its build version); empty means "dev".
	Version string
	// AllLocations makes the text format list every location kept; by
	// default it lists 10 per finding and says how many more there are.
	AllLocations bool
}

// formats maps a --format name to its constructor. A new format (SARIF,
// Markdown) is one more entry here plus a type implementing Sink.
var formats = map[string]func(w io.Writer, opts Options) Sink{
	"text":     func(w io.Writer, opts Options) Sink { return NewText(w, opts) },
	"jsonl":    func(w io.Writer, _ Options) Sink { return NewJSONL(w) },
	"json":     func(w io.Writer, _ Options) Sink { return NewJSON(w) },
	"sarif":    func(w io.Writer, opts Options) Sink { return NewSARIF(w, opts) },
	"markdown": func(w io.Writer, opts Options) Sink { return NewMarkdown(w, opts) },
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

// New returns the sink for format ("text", "jsonl", "json", "sarif" or
// "markdown"; see [Formats]) writing to w. An unknown format is an error that lists the known ones. The
// returned sink is not safe for concurrent use (see [Sink]); the caller owns w
// and closes it after the sink's Close.
func New(format string, w io.Writer, opts Options) (Sink, error) {
	mk, ok := formats[strings.ToLower(format)]
	if !ok {
		return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats(), ", "))
	}
	return mk(w, opts), nil
}
