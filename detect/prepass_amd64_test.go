package detect

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFallbackPassesAgree runs Detect over the fixture corpus and generated
// source with planted tokens twice: with the vector kernel and with the
// bytes.IndexByte passes that machines without AVX2 use. The results must
// be the same. Not parallel: it switches the package's choice of pre-pass
// while no other test runs.
func TestFallbackPassesAgree(t *testing.T) {
	if !haveKernel {
		t.Skip("no AVX2: the passes are all this machine runs")
	}
	var inputs [][]byte
	files, _ := filepath.Glob(filepath.Join("..", "fixtures", "corpus", "*", "*"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			inputs = append(inputs, b)
		}
	}
	inputs = append(inputs, genSource(4<<20, 64<<10), genSource(1<<20, 3<<10), []byte(allSeeds()[0]))
	d := New(Config{Now: specNow})
	withKernel := make([]Result, len(inputs))
	for i, in := range inputs {
		withKernel[i] = d.Detect(in)
	}
	haveKernel = false
	defer func() { haveKernel = true }()
	for i, in := range inputs {
		if diff := cmp.Diff(withKernel[i], d.Detect(in)); diff != "" {
			t.Fatalf("input %d: kernel and passes differ (-kernel +passes):\n%s", i, diff)
		}
	}
	t.Logf("%d inputs agree", len(inputs))
}
