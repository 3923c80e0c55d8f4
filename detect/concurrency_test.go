package detect

import (
	"reflect"
	"sync"
	"testing"
)

// TestConcurrentDetect: one Detector used from many goroutines gives the
// same results as sequential use (run with -race).
func TestConcurrentDetect(t *testing.T) {
	t.Parallel()
	d := New(Config{Now: specNow})
	inputs := [][]byte{genSource(256<<10, 16<<10), []byte(sasURL07), encodeUTF16(sasURL07, false, true)}
	want := make([]Result, len(inputs))
	for i, in := range inputs {
		want[i] = d.Detect(in)
		if len(want[i].Matches) == 0 {
			t.Fatalf("input %d: no match", i)
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for k := range 20 {
				i := (g + k) % len(inputs)
				if got := d.Detect(inputs[i]); !reflect.DeepEqual(got, want[i]) {
					t.Errorf("goroutine %d: input %d differs", g, i)
					return
				}
			}
		})
	}
	wg.Wait()
}
