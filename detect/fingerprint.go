package detect

import (
	"crypto/sha256"
	"encoding/hex"
)

// Fingerprint identifies a token without revealing it: the hex of the first 16
// bytes of SHA-256 over "sasquatch/v1\x00" + secret, where secret is the
// signature of a SAS (percent-decoded base64 text) or the key of an account
// key (design.md). The signature is an HMAC that already binds the account,
// so the same token seen bare in one file and as a URL in another has one
// fingerprint. It is the same in every run and on every machine, with no key.
func Fingerprint(secret string) string {
	h := sha256.New()
	h.Write([]byte("sasquatch/v1\x00"))
	h.Write([]byte(secret))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}
