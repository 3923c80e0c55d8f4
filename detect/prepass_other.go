//go:build !amd64

package detect

// haveKernel: no vector kernel on this architecture; the pre-pass uses
// bytes.IndexByte passes.
const haveKernel = false

func indexCandidate(b []byte) int { return indexCandidateGeneric(b) }
