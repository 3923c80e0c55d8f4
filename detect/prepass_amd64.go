package detect

import "golang.org/x/sys/cpu"

// haveKernel reports that the pre-pass can use indexCandidateAVX2.
var haveKernel = cpu.X86.HasAVX2

// indexCandidate is indexCandidateGeneric, 32 positions at a time with
// AVX2 (one pass that compares every byte with the four trigger bytes and
// the byte before it with g, y, '=' and NUL, where bytes.IndexByte would
// need one pass per trigger byte and a call per '=').
func indexCandidate(b []byte) int {
	if len(b) < 33 {
		return indexCandidateGeneric(b)
	}
	if i := indexCandidateAVX2(b); i >= 0 {
		return i
	}
	// the kernel examined positions 1 .. 32*((len(b)-1)/32); the rest here
	done := 32 * ((len(b) - 1) / 32)
	if i := indexCandidateGeneric(b[done:]); i >= 0 {
		return done + i
	}
	return -1
}

// indexCandidateAVX2 returns the least i in 1 .. 32*((len(b)-1)/32) with
// the property of indexCandidateGeneric, or -1. It needs AVX2.
//
//go:noescape
func indexCandidateAVX2(b []byte) int
