// Package gitscan reads the full history of a git repository as unique blobs
// for scanning, and computes provenance for the few blobs that matched.
//
// Contract:
//
//   - [Open] takes a local repository (bare or with a work tree) or a clone
//     URL. A URL is cloned bare (every ref, +refs/*:refs/*, no work tree, no
//     submodules) into a temporary directory, or into [Config.CacheDir]
//     where later runs fetch instead of cloning. Only https (and http when
//     [Config.AllowInsecureHTTP]) URLs are accepted; credentials come from
//     [Config.Auth] only, never from the URL. Relative TempDir and CacheDir
//     are made absolute.
//   - [Repo.Blobs] yields every blob reachable from any ref (branches, tags,
//     remote refs, refs/pull/*, HEAD) exactly once and, interleaved with
//     them, each commit message and annotated tag message once, as a
//     [crawler.Blob] with Message set (ID the commit or tag object, Origin
//     with Commit, Author and Time). Blob.ID is the object ID (the dedup
//     key), Data is the whole blob (Offset 0, Line 1), and Origin.Path is the
//     first path git's walk saw the blob at, as raw bytes (a hint;
//     [Repo.Provenance] gives the real locations). Everything not scanned
//     (too large, over the byte budget, missing, unreadable, an LFS pointer,
//     a submodule, a shallow boundary, a timeout, a failed enumeration) is
//     yielded exactly once as a [*crawler.Skip]: a caller counts skips from
//     Blobs only; [Repo.Stats] repeats them for tests and logs, and
//     [Repo.Coverage] adds no problem of its own.
//   - [Repo.Provenance] is called afterwards with the IDs of blobs that
//     matched and returns, per blob, one [crawler.Origin] per path the blob
//     ever appeared at (raw bytes, any depth): the oldest commit (in
//     topological order) that introduced it there, its author and time, and
//     whether the blob is still at that path on the default branch's tip.
//     [Repo.StartProvenance], called at the first match while Blobs runs,
//     starts the git log that Provenance reads (spilled to an unlinked
//     temporary file of at most 256 MiB, else run again), so that it
//     overlaps the scan; the result is the same either way.
//
// Reading: when a git program (2.36 or later) is installed, objects are
// enumerated with `git rev-list --objects --missing=print` from the refs
// read at Open, piped into `git cat-file --batch-check` (type and size
// before any content), and admitted objects are streamed through a
// pipelined `git cat-file --batch`; provenance comes from one `git log
// --topo-order --reverse --raw -c`. Every git process runs hardened: no
// system, global or user configuration (HOME is an empty directory), hooks
// and fsmonitor off, replace objects off, a minimal environment, nothing
// secret on its command line, and cancellation kills its whole process
// group. Without git, or with [Config.NoGitProgram], go-git reads the
// objects and the package walks the graph itself. Neither path ever checks
// out files or executes repository content. SHA-256 repositories are
// refused.
//
// Network: reading a repository never touches a network. Local reads allow
// no transport at all (GIT_ALLOW_PROTOCOL names none, protocol.allow=never,
// GIT_NO_LAZY_FETCH): a partial clone's promisor remote is never contacted
// and its missing objects are "missing-object" skips. A clone or fetch
// talks only to the clone URL's scheme and host: with the git program,
// `git clone --mirror --filter=blob:limit=<MaxBlobSize+1>` with redirects
// off and the credential in an http.<scheme>://<host>/.extraHeader passed
// through the environment (GIT_CONFIG_COUNT), never on a command line; blobs
// the filter leaves on the server are "too-large" skips. With go-git, the
// process-wide transport allows same-host redirects only and counts bytes.
//
// Bounds: [Config.MaxBlobSize] (a bigger blob is skipped as "too-large"
// from its header, before any of its content is read), [Config.MaxRepoBytes]
// (further blobs are skipped as "repo-bytes-limit"), [Config.MaxFetchBytes]
// (bytes a clone may write, [ErrFetchLimit]), and [Config.Timeout] for
// clone plus scan plus provenance. Memory per repository is bounded: with
// the git program this process holds one blob at a time plus fixed buffers
// and git's clone streams blobs over 8 MiB (measured: a pack that inflates
// to a 200 MiB blob clones and scans at 31 MiB peak RSS, git children
// included). go-git inflates every object of a pack while indexing it, so
// its clone refuses, before indexing, a pack declaring an object over
// max(MaxBlobSize, 64 MiB) ([ErrObjectTooLarge]) or more than MaxRepoBytes
// inflated in all ([ErrFetchLimit]). What is kept per repository is per
// object, never per occurrence: the object walk's seen set, the 20-byte IDs
// of yielded objects (so a fallback yields nothing twice), and, in
// Provenance, the matched blobs' locations (at most 1,000 per blob).
//
// Damage is contained per object and per ref: a missing or corrupt object
// or a ref to a missing object is one skip and the rest is read. When the
// git program's enumeration fails part way (a missing commit, trees nested
// deeper than its recursion survives), the go-git object walk reads the
// repository again and yields only what was not yielded yet; trees nested
// more than 4,096 deep are then one "tree-too-deep" skip.
//
// A [Repo] is not safe for concurrent use except [Repo.StartProvenance],
// [Repo.Coverage], [Repo.Stats], [Repo.Tips] and [Repo.Dir], which may be
// called at any time.
package gitscan
