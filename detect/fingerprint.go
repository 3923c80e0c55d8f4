package detect

import (
	"crypto/sha256"
	"encoding/hex"
)

// Fingerprint identifies a token without revealing it: the hex of the first 16
// bytes of SHA-256 over "sasquatch/v1\x00" + account + "\x00" + signature
// (design.md). It is the same in every run and on every machine, with no key.
func Fingerprint(account, signature string) string {
	h := sha256.New()
	h.Write([]byte("sasquatch/v1\x00"))
	h.Write([]byte(account))
	h.Write([]byte{0})
	h.Write([]byte(signature))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}
