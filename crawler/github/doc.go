// Package github sweeps GitHub (github.com or GitHub Enterprise Server):
// it lists the repositories of organisations, users and named repositories
// through the REST API and hands each repository's content to a scan
// callback, either as a full-history clone (crawler/gitscan) or, with
// History "none", as a stream of the default branch's tarball.
//
// It is the only package that imports github.com/google/go-github/v56, so a
// later major version touches one place.
//
// # Contract
//
// Input: a [Config] (validated by [New]) and [Targets]. Output: calls to a
// [ScanFunc] with a [Repo] and a [RepoSource] (crawler.Blob values with
// Origin.Repo exactly "OWNER/NAME"), progress callbacks, and a [Summary].
// Permalinks for findings are built with [Permalink] from [Repo.HTMLURL] or
// [Client.WebURL].
//
// Listing follows Link headers (go-github's NextPage), deduplicates by
// repository ID, halves per_page after a 502, and marks the sweep incomplete
// when a response carries X-GitHub-SSO. Primary rate limits are waited out
// until X-RateLimit-Reset; secondary limits honour Retry-After or back off
// from 60 s (detection by github.com/gofri/go-github-ratelimit/v2, waiting
// through Config.Sleep so tests are instant). GET and HEAD are retried on
// 5xx and transport errors with bounded exponential backoff; nothing else
// is retried.
//
// Each repository is cloned from the API's clone_url (https, or http only
// when the API URL is http; only the API's clone host), or fetched into
// Config.CacheDir, with a per-repository timeout and byte cap. Transient
// clone failures are retried; permanent ones (404, 451, 403, disabled) are
// recorded as a [RepoSkip] and the sweep goes on; an empty repository is
// counted as scanned-empty. Up to Config.Concurrency repositories are
// cloned and scanned at once.
//
// # Token safety
//
// The [Token] type redacts itself in every printing path. The token is sent
// only to the API host and its clone host (api.github.com and github.com for
// the public service, api.X and X for an api.X API host, else the API host
// itself, as for GHE Server's /api/v3/) over the API's scheme: a
// RoundTripper attaches the Authorization header per request by host, the
// API client refuses redirects to another host, and tarball redirects to
// the codeload host carry no Authorization. Clones use go-git basic auth
// (x-access-token), never a token in a URL, argument or log line. Errors,
// log lines and the Summary never contain the token.
//
// # Concurrency
//
// A [Client] is safe for concurrent use; [Client.Sweep] calls the ScanFunc
// and Config.Progress from several goroutines at once. A RepoSource has one
// consumer.
package github
