package detect

import (
	"encoding/binary"
	"math/bits"
)

// Word-at-a-time (SWAR) search: eight bytes tested per step with integer
// operations, for the per-region passes that look for frequent bytes.

const (
	lanes1 = 0x0101010101010101 // a byte value repeated in every lane: c * lanes1
	lanes8 = 0x8080808080808080 // the high bit of every lane
)

// zeroLanes sets the high bit of every lane (byte) of x that is zero. A
// lane above a zero one may be flagged too (a borrow), never one below:
// the lowest flagged lane is always a zero.
func zeroLanes(x uint64) uint64 { return (x - lanes1) &^ x }

// indexQuote returns the index of the first quote of a string literal
// (" ' `) in b, or -1.
func indexQuote(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		if m := (zeroLanes(w^(lanes1*'"')) | zeroLanes(w^(lanes1*'\'')) | zeroLanes(w^(lanes1*'`'))) & lanes8; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if quotes[b[i]] {
			return i
		}
	}
	return -1
}
