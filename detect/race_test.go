//go:build race

package detect

// raceEnabled: under -race sync.Pool drops items at random, so allocation
// counts that rely on a pool (MatchThreadSafe keeps its scratch map in one)
// are not meaningful.
const raceEnabled = true
