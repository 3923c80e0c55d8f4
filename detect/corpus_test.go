package detect

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFixtureCorpus checks Detect against fixtures/corpus/EXPECTED.tsv when
// that corpus exists (it is built by the fixtures package, which detect must
// not import): per file, the unique tokens' account, kind and severity at the
// spec clock. Rows are "file account kind severity form"; kind "none" marks a
// file without a token.
func TestFixtureCorpus(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "fixtures", "corpus")
	b, err := os.ReadFile(filepath.Join(root, "EXPECTED.tsv"))
	if err != nil {
		t.Skip("no fixtures/corpus/EXPECTED.tsv")
	}
	type row struct{ Account, Kind, Severity string }
	want := map[string][]row{}
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) < 4 {
			t.Skipf("unknown EXPECTED.tsv format: %q", l)
		}
		if f[2] == "none" {
			want[f[0]] = append(want[f[0]], row{})[:0:0]
			continue
		}
		want[f[0]] = append(want[f[0]], row{f[1], f[2], f[3]})
	}
	d := New(Config{Now: specNow})
	for file, rows := range want {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			seen := map[string]bool{}
			for _, m := range d.Detect(data).Matches {
				if !seen[m.Fingerprint] {
					seen[m.Fingerprint] = true
					got = append(got, row{m.Token.Account, string(m.Token.Kind), m.Severity.String()})
				}
			}
			cmpRow := func(a, b row) int { return strings.Compare(a.Account+a.Kind+a.Severity, b.Account+b.Kind+b.Severity) }
			slices.SortFunc(got, cmpRow)
			slices.SortFunc(rows, cmpRow)
			if d := cmp.Diff(rows, got, cmp.Comparer(func(a, b []row) bool { return slices.Equal(a, b) })); d != "" {
				t.Errorf("mismatch (-want +got):\n%s", d)
			}
		})
	}
}
