package report

// RunSummary is the last record of a JSONL stream ({"type":"summary", …})
// and the "summary" member of a JSON report (design.md "Run summary"): a
// consumer can tell a finished run from an interrupted one, and what was
// not covered.
type RunSummary struct {
	// Complete is false when anything could not be scanned or the run was
	// interrupted: the findings are then a lower bound.
	Complete     bool             `json:"complete"`
	Interrupted  bool             `json:"interrupted"`
	Findings     int              `json:"findings"` // unique tokens written
	BySeverity   map[string]int   `json:"by_severity"`
	Locations    int              `json:"locations"`
	Repositories int64            `json:"repositories,omitempty"`
	Scanned      int64            `json:"scanned"` // files, blobs and messages
	Bytes        int64            `json:"bytes"`
	Rejected     int64            `json:"rejected"`
	Skips        map[string]int64 `json:"skips"`
	SkippedBytes int64            `json:"skipped_bytes,omitempty"`
	Problems     []string         `json:"problems,omitempty"`
}

// SummarySink is a sink that carries the run summary (JSONL, JSON). The
// caller sets it once, before Close.
type SummarySink interface {
	Sink
	SetSummary(RunSummary)
}

// typed is how JSONL writes a record: its type first, then its fields.
type typedFinding struct {
	Type string `json:"type"`
	Finding
}

type typedSummary struct {
	Type string `json:"type"`
	RunSummary
}
