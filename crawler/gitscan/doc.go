// Package gitscan reads the full history of a git repository as unique blobs
// for scanning, and computes provenance for the few blobs that matched.
//
// Contract:
//
//   - [Open] takes a local repository (bare or with a work tree) or a clone
//     URL. A URL is cloned bare with go-git (all refs, +refs/*:refs/*, no work
//     tree, no submodules) into a temporary directory, or into
//     [Config.CacheDir] where later runs fetch instead of cloning. Only https
//     (and http when [Config.AllowInsecureHTTP]) URLs are accepted; credentials
//     come from [Config.Auth] only, never from the URL.
//   - [Repo.Blobs] yields every blob reachable from any ref (branches, tags,
//     remote refs, refs/pull/*, HEAD) exactly once and, interleaved with
//     them, each commit message and annotated tag message once, as a
//     [crawler.Blob] with Message set (ID the commit or tag object, Origin
//     with Commit, Author and Time). Blob.ID is the object ID (the dedup
//     key), Data is the whole blob (Offset 0, Line 1), and Origin.Path is the
//     first path git's walk saw the blob at (a hint; [Repo.Provenance] gives
//     the real locations). Everything not scanned is yielded as a
//     [*crawler.Skip] and counted in [Coverage], never taken as clean.
//   - [Repo.Provenance] is called afterwards with the IDs of blobs that
//     matched and returns, per blob, one [crawler.Origin] per path the blob
//     ever appeared at: the oldest commit (in topological order) that
//     introduced it there, its author and time, and whether the blob is still
//     at that path on the default branch's tip.
//
// Reading: when a git program (2.36 or later) is installed, objects are
// enumerated with `git rev-list --objects --all` piped into `git cat-file
// --batch-check` (type and size before any content), and admitted objects
// are streamed through a pipelined `git cat-file --batch`; provenance comes
// from one `git log --all --topo-order --reverse --raw -c`. Every git
// process runs hardened: no system, global or user configuration (HOME is an
// empty directory), hooks and fsmonitor off, replace objects off, only
// http/https protocols, a minimal environment, nothing secret on its command
// line. Without git, or with [Config.NoGitProgram], go-git reads the objects
// and the package walks the graph itself (about 2.5x slower). Neither path
// ever checks out files or executes repository content. SHA-256 repositories
// are refused.
//
// Bounds: [Config.MaxBlobSize] (a bigger blob is skipped as "too-large"
// from its header, before any of its content is read), [Config.MaxRepoBytes]
// (further blobs are skipped as "repo-bytes-limit"), and [Config.Timeout]
// for clone plus scan plus provenance. With the git program, this process
// holds one blob at a time plus fixed buffers: its memory does not grow
// with history length (measured: ~16 MiB peak RSS for 1,000 to 20,000
// commits). The go-git fallback and the tree-walk provenance keep sets of
// object IDs (tens of bytes per object).
//
// Corrupt or missing objects are skipped as "unreadable" and the rest is
// still read; a broken commit graph stops `git rev-list` (an "enumeration"
// skip: coverage incomplete) while the go-git walk goes around it.
//
// A [Repo] is not safe for concurrent use except [Repo.Coverage] and
// [Repo.Tips], which may be called at any time.
package gitscan
