package verify

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestValidCodeMatchesPattern: validCode accepts exactly what the pattern
// it replaced accepted (^[A-Za-z][A-Za-z0-9]{0,63}$), on edge cases and on
// random strings over a small alphabet.
func TestValidCodeMatchesPattern(t *testing.T) {
	pattern := regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,63}$`)
	cases := []string{"", "A", "1", "AuthenticationFailed", "a1", "1a", strings.Repeat("a", 64), strings.Repeat("a", 65),
		"Auth Failed", "Auth\n", "Auth-Failed", "é"}
	rng := rand.New(rand.NewPCG(9, 9))
	const alphabet = "aZ09 -_\n\xff"
	for range 20000 {
		b := make([]byte, rng.IntN(68))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if got := validCode(s); got != pattern.MatchString(s) {
			t.Errorf("validCode(%q) = %v, the pattern says %v", s, got, pattern.MatchString(s))
		}
	}
}
