package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

var (
	_ SummarySink = (*JSONL)(nil)
	_ SummarySink = (*JSON)(nil)
	_ Sink        = (*Text)(nil)
)

// errClosed is returned by Write after Close.
var errClosed = errors.New("report: write after close")

// JSONL writes one finding per line as it arrives: the canonical format
// (design.md "Findings"), each record typed {"type":"finding", …}, and, when
// a summary was set, a last {"type":"summary", …} record at Close. HTML
// characters are not escaped, so a redacted token reads as it was found
// ("&", not "\u0026"). Not safe for concurrent use.
type JSONL struct {
	w       io.Writer
	enc     *json.Encoder // the summary record
	buf     []byte        // one finding record
	scratch []byte        // its remediation text
	closed  bool
	summary *RunSummary
}

// NewJSONL returns a JSONL sink writing to w.
func NewJSONL(w io.Writer) *JSONL {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &JSONL{w: w, enc: enc}
}

// Write writes f as one line.
func (s *JSONL) Write(ctx context.Context, f Finding) error {
	if s.closed {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.buf = appendFindingRecord(s.buf[:0], &s.scratch, f)
	if _, err := s.w.Write(s.buf); err != nil {
		return fmt.Errorf("write jsonl: %w", err)
	}
	return nil
}

// SetSummary sets the record Close writes last.
func (s *JSONL) SetSummary(sum RunSummary) { s.summary = &sum }

// Close writes the summary record, when one was set.
func (s *JSONL) Close() error {
	if s.closed {
		return errClosed
	}
	s.closed = true
	if s.summary != nil {
		if err := s.enc.Encode(typedSummary{Type: "summary", RunSummary: normalizedSummary(*s.summary)}); err != nil {
			return fmt.Errorf("write jsonl: %w", err)
		}
	}
	return nil
}

// normalizedSummary encodes empty maps as {} rather than null.
func normalizedSummary(s RunSummary) RunSummary {
	if s.BySeverity == nil {
		s.BySeverity = map[string]int{}
	}
	if s.Skips == nil {
		s.Skips = map[string]int64{}
	}
	return s
}

// JSON writes every finding as one indented JSON array on Close ("[]" when
// there were none); when a summary was set, the report is an object
// {"findings": [...], "summary": {...}} instead (design.md "Run summary").
// Not safe for concurrent use.
type JSON struct {
	w io.Writer
	buffer
	summary *RunSummary
}

// SetSummary makes Close write the object form with this summary.
func (s *JSON) SetSummary(sum RunSummary) { s.summary = &sum }

// NewJSON returns a JSON sink writing to w.
func NewJSON(w io.Writer) *JSON { return &JSON{w: w, buffer: buffer{findings: []Finding{}}} }

// Write buffers f until Close.
func (s *JSON) Write(ctx context.Context, f Finding) error { return s.add(ctx, f) }

// Close writes the array. Calling Close twice is an error.
func (s *JSON) Close() error {
	if err := s.close(); err != nil {
		return err
	}
	enc := json.NewEncoder(s.w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	var v any = s.findings
	if s.summary != nil {
		v = struct {
			Findings []Finding  `json:"findings"`
			Summary  RunSummary `json:"summary"`
		}{s.findings, normalizedSummary(*s.summary)}
	}
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// buffer holds the findings of a sink that renders them all at Close (JSON,
// Text). Not safe for concurrent use.
type buffer struct {
	findings []Finding
	closed   bool
}

func (b *buffer) add(ctx context.Context, f Finding) error {
	if b.closed {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.findings = append(b.findings, normalized(f))
	return nil
}

// close marks the buffer closed; a second call is an error.
func (b *buffer) close() error {
	if b.closed {
		return errClosed
	}
	b.closed = true
	return nil
}
