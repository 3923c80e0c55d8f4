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
//     remote refs, refs/pull/*, HEAD) exactly once, then nothing else twice:
//     each commit message and annotated tag message is yielded as a
//     [crawler.Blob] with Message set. Blob.ID is the object ID (the dedup
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
// enumerated with `git rev-list --objects` and read with `git cat-file`,
// run hardened (no system, global or user config, hooks and fsmonitor off,
// replace objects off, only http/https protocols, a minimal environment);
// otherwise, or with [Config.NoGitProgram], go-git reads them (about 2.5x
// slower). Neither path ever checks out files or executes repository content.
//
// Bounds: [Config.MaxBlobSize] (a bigger blob is skipped as "too-large"
// before any of its content is read), [Config.MaxRepoBytes] (further blobs are
// skipped as "repo-bytes-limit"), and [Config.Timeout] for clone plus scan.
// Memory is bounded by the largest blob read plus fixed buffers when the git
// program is used; the go-git fallback and Provenance also keep sets of object
// IDs (tens of bytes per object).
//
// A [Repo] is not safe for concurrent use except [Repo.Coverage] and
// [Repo.Tips], which may be called at any time.
package gitscan
