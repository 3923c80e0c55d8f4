// Package report turns detector matches into findings and writes them out.
//
// Contract: [detect.Match] values (plus where they were seen) in, [Finding]
// records out. A [Finding] is one unique token, identified by its fingerprint,
// with every place it was seen ([Location], one per occurrence: per line, not
// per blob). The JSONL form of a Finding is the canonical output (design.md
// "Findings"); every other format is rendered from the same Findings.
//
// Stages:
//
//	NewFinding   maps one detect.Match to the JSONL schema (redacted unless reveal)
//	Collector    merges matches of the same token into one Finding; safe for concurrent use
//	Sink         writes Findings in one format: JSONL, JSON, Text (New picks one by name)
//
// Secrets: a Finding carries the signature only in Token and URL, which are
// filled only when the caller asks for reveal (--reveal). Every other field is
// redacted by construction: the detector's Redacted string masks the signature
// and detect.Secret never prints its value.
//
// Adding a format (SARIF, Markdown, GitHub issues): write a type that
// implements [Sink], add a `var _ Sink = (*T)(nil)` line, and register its
// constructor in the formats table in sink.go; [New] and [Formats] pick it up.
// Sinks that need every finding before writing (JSON arrays, SARIF runs, text
// grouped by severity) buffer in Write and render in Close.
//
// The package imports detect and crawler (for provenance) and nothing else of
// sasquatch. It does no network I/O.
package report
