//go:build !unix

package pipeline

import "testing"

// cpuTime is not measured here: cpu-ms/op reads 0.
func cpuTime(*testing.B) int64 { return 0 }
