package github

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestValidNameMatchesPattern: validName accepts exactly what the pattern
// it replaced accepted (^[A-Za-z0-9_.-]{1,100}$, not all dots), on edge
// cases and on random strings over a small alphabet.
func TestValidNameMatchesPattern(t *testing.T) {
	pattern := regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)
	want := func(s string) bool { return pattern.MatchString(s) && strings.Trim(s, ".") != "" }
	cases := []string{"", ".", "..", "...", "a", "a.b", "-x_", strings.Repeat("a", 100), strings.Repeat("a", 101),
		"a/b", "a\\b", "a b", "a\n", "é", "a%2e", "A-Z_0.9"}
	rng := rand.New(rand.NewPCG(7, 7))
	const alphabet = "aZ09_.-/ %\n\xff"
	for range 20000 {
		b := make([]byte, rng.IntN(104))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if got := validName(s); got != want(s) {
			t.Errorf("validName(%q) = %v, the pattern says %v", s, got, want(s))
		}
	}
}
