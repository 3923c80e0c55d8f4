package report

import (
	"context"
	"time"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// Location is one occurrence of a token: one per line, not per blob
// (design.md "Locations"). Fields that do not apply are omitted from JSON.
type Location struct {
	Path string `json:"path"`
	// PathBytes is the path's raw bytes (base64 in JSON), set only when the
	// path is not valid UTF-8: JSON would show such a path with U+FFFD in
	// place of the bytes it cannot hold, which is ambiguous.
	PathBytes []byte     `json:"path_bytes,omitempty"`
	Line      int        `json:"line"`
	Column    int        `json:"column"`
	Commit    string     `json:"commit,omitempty"`
	Author    string     `json:"author,omitempty"`
	Date      *time.Time `json:"date,omitempty"`
	Repo      string     `json:"repo,omitempty"`
	Permalink string     `json:"permalink,omitempty"`
	// AtTip is set for history locations: whether the token is still at this
	// path on the tip of the default branch (false: history only).
	AtTip *bool `json:"at_tip,omitempty"`
	// Message is set when the occurrence is in a commit or tag message, not a file.
	Message bool `json:"message,omitempty"`
	// Blob is the git object ID of the blob, set only when its provenance
	// (commit and path) could not be computed.
	Blob string `json:"blob,omitempty"`
}

// Finding is one unique token (by fingerprint) with every place it was seen.
// It is the canonical JSONL record; its field names are a stable contract.
type Finding struct {
	Fingerprint   string          `json:"fingerprint"`
	Severity      detect.Severity `json:"severity"`
	Kind          detect.Kind     `json:"kind"`
	Account       string          `json:"account"`
	Host          string          `json:"host"`
	Cloud         string          `json:"cloud"`
	Services      []string        `json:"services"`
	ResourceTypes []string        `json:"resource_types"`
	Resource      string          `json:"resource"`
	Permissions   []string        `json:"permissions"`
	SP            string          `json:"sp"`
	Start         *time.Time      `json:"start"`
	Expiry        *time.Time      `json:"expiry"`
	Expired       bool            `json:"expired"`
	Reasons       []string        `json:"reasons"`
	Redacted      string          `json:"redacted"`
	Liveness      string          `json:"liveness,omitempty"`
	// LivenessCode is Azure's error code behind Liveness (x-ms-error-code),
	// when the answer had one.
	LivenessCode string `json:"liveness_code,omitempty"`
	// Remediation says how to revoke and contain this credential, specific
	// to its kind: numbered steps, one a line ([Remediation]). Every sink
	// fills it when it is empty.
	Remediation string     `json:"remediation,omitempty"`
	Locations   []Location `json:"locations"`
	// LocationsTruncated counts occurrences beyond the per-finding cap that are
	// not listed in Locations (report.Collector); omitted when zero.
	LocationsTruncated int `json:"locations_truncated,omitempty"`
	// Token and URL are filled only when the user asked for --reveal.
	Token string `json:"token,omitempty"`
	URL   string `json:"url,omitempty"`

	// Credential is the token itself, kept for the callers that need it
	// (liveness checks, a store, --reveal from a store). Its secrets are
	// [detect.Secret] values: every print, log and encoding redacts them,
	// and no sink reads them unless the user asked for --reveal.
	Credential detect.Token `json:"-"`
}

// Sink writes findings in one format. Write is called once per finding, from a
// single goroutine; Close flushes (formats that need every finding, such as
// text grouped by severity, render there) and must be called once.
type Sink interface {
	Write(ctx context.Context, f Finding) error
	Close() error
}
