// Package filing files one GitHub issue per (repository, token) for the open
// findings of the store, where the repository's owners act, without leaking
// the token a second time (design.md "Reports and issues", "GitHub
// conventions"; reliability.md §3.2).
//
// # Input and output
//
// [Run] reads the open findings at or above Config.MinSeverity from the
// store (triaged-as-ignored findings are left out), groups each finding's
// locations by repository (resolved to GitHub's numeric ID through the API,
// so a renamed repository is one repository) and returns a [Result]: one
// [Item] per (repository, token) saying where it went, why, and what
// happened. Without Config.Apply it writes nothing at all (no POST, no
// store write): it says what it would file.
//
// # Routing
//
//   - a private or internal repository: an issue in that repository;
//   - a public repository: an issue in Config.Tracker (a private or internal
//     OWNER/NAME; its title also names the affected repository), else a
//     private vulnerability report when the repository accepts them, else
//     nothing: a recorded failure, since a public issue would advertise a
//     live token;
//   - issues disabled (has_issues false, or a 410) or an archived
//     repository: the tracker when set, else a recorded failure.
//
// Routing failures are not written to the store (a later run with a tracker
// files them); they are items with [Failed] in the Result, which the caller
// reports and counts as incomplete coverage.
//
// # Protocol (crash safety and idempotency)
//
// Each (token, repository) has a store.Intent, recorded before the first
// POST with a marker, "sasquatch:fingerprint=FP repo=ID", that the issue
// carries as a visible line. store.BeginAttempt is called just before each
// POST. On a 201 the intent is marked filed. When the outcome is unknown (a
// dropped connection, a timeout, a 5xx, a rate-limit answer, a crash
// between POST and commit) the intent stays intended; before any new POST
// the destination's issues carrying the label (and created by the
// token's user, since shortly before the intent) are listed (the list
// endpoint, never search) and the marker is matched: a match adopts the
// issue. A POST is sent again only when the listing does not show it and
// the last attempt is older than Config.Settle (list endpoints can lag); a
// private vulnerability report is never sent again (whether its sender can
// list it is not documented), it stays pending for a person to check. A
// definitive refusal (4xx) marks the intent failed. Writes (issues,
// comments, labels, reports) are paced: at least one second apart, fewer
// than 80 in any minute and 500 in any hour, on Config.Clock and
// Config.Sleep.
//
// A filed issue is kept current: the body and every comment sasquatch
// posts end with a "sasquatch:state=HASH" line, a hash of the repository's
// locations of the token and its liveness. A later run reads the issue and
// its comments and comments once when the hash changed; it never opens a
// second issue. A comment whose outcome is unknown is found the same way by
// the next run. Private vulnerability reports cannot be commented on
// through the API; they are filed once.
//
// # Content
//
// Titles and bodies are rendered only from redacted fields: the storage
// account and host, kind, scope, permissions in words, expiry and lifetime,
// severity and reasons, the redacted token, every location (path verbatim
// in a code span from report.CodeSpan, line, commit, permalink as an
// http(s) link) and the kind-specific remediation of report.RemediationSteps.
// Never the signature or a working URL: finding.Credential is read only by
// a last check that refuses to send any text holding the signature (raw,
// percent-encoded, or any 16-character piece of it). Bodies are cut below
// 60,000 characters, with a pointer to `sasquatch report`.
//
// # Concurrency
//
// Run files sequentially (writes are paced anyway). One Run at a time per
// store: two concurrent runs could both find no intent and post twice.
package filing
