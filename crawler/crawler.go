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

// Blob is a unit of bytes to scan. Data is owned by the receiver: a source
// never reuses or modifies it after yielding.
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
}

// Skip records something that could not be scanned. A skip is coverage lost,
// never a clean result: every skip is counted and shown in the summary.
type Skip struct {
	Origin Origin
	Reason string // short, stable: "too-large", "symlink", "unreadable", "lfs-pointer", "shallow", ...
	Size   int64  // bytes not scanned, when known
	Err    error  // underlying error, when there is one (never contains a secret)
}

// Error implements error so a Skip can be yielded as a per-item error.
func (s *Skip) Error() string {
	msg := fmt.Sprintf("skipped %s: %s", s.Origin.Path, s.Reason)
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
type Source interface {
	Blobs(ctx context.Context) iter.Seq2[Blob, error]
}
