package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

var (
	_ Sink = (*JSONL)(nil)
	_ Sink = (*JSON)(nil)
	_ Sink = (*Text)(nil)
)

// errClosed is returned by Write after Close.
var errClosed = errors.New("report: write after close")

// JSONL writes one finding per line as it arrives: the canonical format
// (design.md "Findings"). HTML characters are not escaped, so a redacted
// token reads as it was found ("&", not "\u0026"). Not safe for concurrent
// use.
type JSONL struct {
	enc    *json.Encoder
	closed bool
}

// NewJSONL returns a JSONL sink writing to w.
func NewJSONL(w io.Writer) *JSONL {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &JSONL{enc: enc}
}

// Write writes f as one line.
func (s *JSONL) Write(ctx context.Context, f Finding) error {
	if s.closed {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.enc.Encode(normalized(f)); err != nil {
		return fmt.Errorf("write jsonl: %w", err)
	}
	return nil
}

// Close marks the sink closed; JSONL has nothing to flush.
func (s *JSONL) Close() error {
	s.closed = true
	return nil
}

// JSON writes every finding as one indented JSON array on Close ("[]" when
// there were none). Not safe for concurrent use.
type JSON struct {
	w io.Writer
	buffer
}

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
	if err := enc.Encode(s.findings); err != nil {
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
