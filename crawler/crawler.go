package crawler

import (
	"context"
	"fmt"
	"iter"
	"time"
)

// Origin says where bytes came from. Fields that do not apply are empty.
type Origin struct {
	Repo   string    // "OWNER/NAME" for GitHub, else the repository path or URL as given; "" for files
	Commit string    // full 40-hex SHA of the commit that introduced the blob at Path
	Path   string    // slash-separated, relative to the scanned root or repository
	Author string    // commit author "Name <email>"
	Time   time.Time // commit author time
	// AtTip reports whether the blob is still at Path on the default branch's tip (history only).
	AtTip bool
}

// Blob is a unit of bytes to scan. Data is owned by the receiver until it
// calls Release (when set): a source never reuses or modifies it before.
//
// A large file is yielded as several Blobs (chunks) that overlap: Offset is the
// byte offset of Data[0] in the file, Line the 1-based line number of Data[0],
// Overlap the number of leading bytes that the previous chunk also held, and
// Tail the number of trailing bytes the next chunk will hold again
// (Tail of one chunk == Overlap of the next). A chunk reports only the
// matches that start before its tail: use [KeepMatch].
type Blob struct {
	ID     string // git object ID for history blobs ("" for files); the dedup key
	Data   []byte
	Origin Origin
	Offset int64
	Line   int
	// Column is the 1-based byte column of Data[0] within its line (0 and 1
	// both mean Data starts a line). Only a chunk that starts in the middle
	// of a long line has Column > 1.
	Column  int
	Overlap int
	Tail    int
	// Message reports that Data is a commit or tag message, not file content.
	Message bool
	// Release, when non-nil, hands Data back to the source, which may then
	// reuse its memory (a buffer pool). The consumer calls it exactly once,
	// after its last use of Data; a Blob without Release owns its Data.
	Release func()
}

// SkipReason says why something was not scanned. The values are short,
// stable words shown in summaries and JSON; every source uses this one set.
type SkipReason string

// The reasons a source reports in a [*Skip]. A new reason is added here, not
// spelled out in the package that yields it.
const (
	// Files and directories.
	SkipTooLarge    SkipReason = "too-large"         // bigger than the size bound; Size is its size
	SkipSymlink     SkipReason = "symlink"           // a symbolic link, never followed (loses no content)
	SkipUnreadable  SkipReason = "unreadable"        // open, list or read failed; a missing or corrupt object
	SkipNotFound    SkipReason = "not-found"         // a path argument does not exist
	SkipSpecial     SkipReason = "special-file"      // a device, named pipe, socket
	SkipLoop        SkipReason = "loop"              // a directory that is its own ancestor (bind mount)
	SkipUnsafePath  SkipReason = "unsafe-path"       // an archive entry named ../x or /abs
	SkipUnsupported SkipReason = "unsupported-entry" // an archive entry that is not a file or directory

	// Git history.
	SkipRepoBytes   SkipReason = "repo-bytes-limit" // the per-repository byte budget was spent
	SkipLFS         SkipReason = "lfs-pointer"      // a Git LFS pointer: the content is elsewhere
	SkipShallow     SkipReason = "shallow"          // shallow clone: history before the graft is missing
	SkipSubmodule   SkipReason = "submodule"        // submodules are never fetched
	SkipTimeout     SkipReason = "timeout"          // the per-repository time bound was reached
	SkipEnumeration SkipReason = "enumeration"      // walking the object graph failed part way
	SkipTreeDepth   SkipReason = "tree-too-deep"    // trees nested deeper than the walk allows
	SkipMissing     SkipReason = "missing-object"   // an object the graph names is absent (never fetched)

	// Whole repositories and runs (counted by the pipeline and the GitHub crawler).
	SkipRepository    SkipReason = "repository"     // a repository could not be opened or scanned
	SkipDetectorLimit SkipReason = "detector-limit" // a detector bound was reached inside one blob
	SkipFindingsCap   SkipReason = "findings-cap"   // more unique tokens than the store keeps
	SkipInterrupted   SkipReason = "interrupted"    // the run was stopped before the end
	SkipError         SkipReason = "error"          // any other per-item error
)

// LosesContent reports whether a skip of this reason leaves content
// unscanned. Only a symbolic link does not: its target is scanned where it
// lives (or is outside what the user asked for).
func (r SkipReason) LosesContent() bool { return r != SkipSymlink }

// Skip records something that could not be scanned. A skip is coverage lost,
// never a clean result: every skip is counted and shown in the summary.
// A source yields each skip exactly once, through its Blobs iterator.
type Skip struct {
	Origin Origin
	Reason SkipReason
	Size   int64 // bytes not scanned, when known
	Err    error // underlying error, when there is one (never contains a secret)
}

// Error implements error so a Skip can be yielded as a per-item error.
func (s *Skip) Error() string {
	msg := fmt.Sprintf("skipped %s: %s", s.Origin.Path, string(s.Reason))
	if s.Err != nil {
		msg += ": " + s.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (s *Skip) Unwrap() error { return s.Err }

// Source yields blobs. A non-nil error is per-item (a *Skip, or another error
// to count) unless it is ctx.Err(); after a fatal error the iterator returns.
// An iterator has one consumer and is not safe for concurrent ranging.
//
// What else a source can do it says through the small interfaces below
// ([CoverageReporter], [Provenancer], [ProvenanceStarter], [Tipper]); callers test for them with
// a type assertion on these public interfaces only.
type Source interface {
	Blobs(ctx context.Context) iter.Seq2[Blob, error]
}

// Coverage is what a source knows, after its Blobs iterator has finished,
// about what it could not scan beyond the skips it yielded (which are not
// repeated here).
type Coverage struct {
	// Complete is true when everything the source covers was read and
	// nothing was skipped: only then may its tips seed an incremental run.
	Complete bool
	// Problems are clear, secret-free sentences for the summary (a shallow
	// clone, an enumeration error).
	Problems []string
}

// CoverageReporter is a source that can say, after Blobs, how complete it was.
type CoverageReporter interface {
	Coverage() Coverage
}

// Provenancer is a source whose blobs carry only an ID (history): it
// returns the origins (introducing commit, path, author, at-tip) of the
// given blob IDs, asked only for the blobs that matched.
type Provenancer interface {
	Provenance(ctx context.Context, blobIDs []string) (map[string][]Origin, error)
}

// ProvenanceStarter is a [Provenancer] that can begin its work before it
// is asked: a caller calls StartProvenance when a blob first matches, so
// that provenance runs beside the rest of the scan instead of after it.
// Provenance must return the same with or without it. It must be safe to
// call while Blobs runs, from any goroutine, and more than once.
type ProvenanceStarter interface {
	StartProvenance(ctx context.Context)
}

// Tipper is a source with ref tips (git): ref name -> commit ID as read
// when it was opened, for the next incremental run.
type Tipper interface {
	Tips() map[string]string
}
