package gitscan

import (
	"math/bits"
	"sync"
)

// blobBuffers recycles the buffers blob content is read into: a consumer
// that calls crawler.Blob.Release hands its buffer back for a later blob of
// the same size class (powers of two from 4 KiB), so a history scan does
// not allocate, and the garbage collector does not sweep, one slice per
// blob. A consumer that never calls Release keeps its buffers.
var blobBuffers [48]sync.Pool

const minBufferShift = 12 // 4 KiB

func bufferClass(size int) int {
	if size <= 1<<minBufferShift {
		return 0
	}
	return bits.Len(uint(size-1)) - minBufferShift
}

// getBuffer returns a buffer of length size from the pool of its class.
func getBuffer(size int) []byte {
	c := bufferClass(size)
	if c >= len(blobBuffers) {
		return make([]byte, size)
	}
	if v, ok := blobBuffers[c].Get().(*[]byte); ok {
		return (*v)[:size]
	}
	return make([]byte, size, 1<<(c+minBufferShift))
}

// putBuffer returns a buffer obtained from getBuffer.
func putBuffer(b []byte) {
	c := bufferClass(cap(b))
	if c >= len(blobBuffers) || cap(b) != 1<<(c+minBufferShift) {
		return
	}
	b = b[:0]
	blobBuffers[c].Put(&b)
}
