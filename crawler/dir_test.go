package crawler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// item is what a test compares of one yielded (Blob, error) pair.
type item struct {
	Path    string
	Reason  SkipReason // "" for a blob; the Skip reason; "error: ..." for another error
	Data    string
	Offset  int64
	Line    int
	Overlap int
	Size    int64
}

// mustDir returns NewDir(paths, cfg) or fails the test.
func mustDir(t *testing.T, paths []string, cfg DirConfig) *Dir {
	t.Helper()
	d, err := NewDir(paths, cfg)
	if err != nil {
		t.Fatalf("NewDir(%q): %v", paths, err)
	}
	return d
}

// collect ranges over d and records every pair. Blobs keep their data.
func collect(t *testing.T, ctx context.Context, d *Dir) []item {
	t.Helper()
	var out []item
	for b, err := range d.Blobs(ctx) {
		if err != nil {
			if s, ok := errors.AsType[*Skip](err); ok {
				out = append(out, item{Path: s.Origin.Path, Reason: s.Reason, Size: s.Size})
				continue
			}
			out = append(out, item{Reason: SkipReason("error: " + err.Error())})
			continue
		}
		out = append(out, item{Path: b.Origin.Path, Data: string(b.Data), Offset: b.Offset, Line: b.Line, Overlap: b.Overlap})
	}
	return out
}

// writeFile creates name (and its parents) under root with data.
func writeFile(t *testing.T, root, name, data string) string {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewDirConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		paths   []string
		cfg     DirConfig
		wantErr bool
		want    DirConfig // checked when no error; Stdin ignored
	}{
		{name: "defaults", paths: []string{"."},
			want: DirConfig{MaxFileSize: 256 << 20, ChunkSize: 8 << 20, ChunkOverlap: 64 << 10, Readers: DefaultReaders()}},
		{name: "small chunk halves the default overlap", paths: []string{"."}, cfg: DirConfig{ChunkSize: 100},
			want: DirConfig{MaxFileSize: 256 << 20, ChunkSize: 100, ChunkOverlap: 50, Readers: DefaultReaders()}},
		{name: "explicit", paths: []string{"."}, cfg: DirConfig{MaxFileSize: 10, ChunkSize: 8, ChunkOverlap: 4, Exclude: []string{"*.log"}},
			want: DirConfig{MaxFileSize: 10, ChunkSize: 8, ChunkOverlap: 4, Readers: DefaultReaders(), Exclude: []string{"*.log"}}},
		{name: "no paths", wantErr: true},
		{name: "negative max", paths: []string{"."}, cfg: DirConfig{MaxFileSize: -1}, wantErr: true},
		{name: "negative chunk", paths: []string{"."}, cfg: DirConfig{ChunkSize: -1}, wantErr: true},
		{name: "negative overlap", paths: []string{"."}, cfg: DirConfig{ChunkOverlap: -1}, wantErr: true},
		{name: "overlap above half", paths: []string{"."}, cfg: DirConfig{ChunkSize: 100, ChunkOverlap: 51}, wantErr: true},
		{name: "bad pattern", paths: []string{"."}, cfg: DirConfig{Exclude: []string{"a["}}, wantErr: true},
		{name: "bad include pattern", paths: []string{"."}, cfg: DirConfig{Include: []string{"src/a["}}, wantErr: true},
		{name: "empty pattern", paths: []string{"."}, cfg: DirConfig{Exclude: []string{""}}, wantErr: true},
		{name: "dot-dot pattern", paths: []string{"."}, cfg: DirConfig{Include: []string{"../x"}}, wantErr: true},
		{name: "negative readers", paths: []string{"."}, cfg: DirConfig{Readers: -1}, wantErr: true},
		{name: "too many readers", paths: []string{"."}, cfg: DirConfig{Readers: MaxReaders + 1}, wantErr: true},
		{name: "readers and patterns", paths: []string{"."}, cfg: DirConfig{Readers: 3, Include: []string{"**/*.go"}, Exclude: []string{"vendor/"}},
			want: DirConfig{MaxFileSize: 256 << 20, ChunkSize: 8 << 20, ChunkOverlap: 64 << 10, Readers: 3,
				Include: []string{"**/*.go"}, Exclude: []string{"vendor/"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := NewDir(tt.paths, tt.cfg)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("NewDir: got nil error, want one")
				}
				return
			}
			if err != nil {
				t.Fatalf("NewDir: %v", err)
			}
			got := d.Config()
			if got.Stdin == nil {
				t.Errorf("Stdin: got nil, want os.Stdin")
			}
			got.Stdin = nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Config() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDirMissingPath(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	a := writeFile(t, root, "a.txt", "alpha\n")
	missing := filepath.Join(root, "missing.txt")
	d := mustDir(t, []string{missing, a}, DirConfig{})
	var got []item
	for b, err := range d.Blobs(t.Context()) {
		if err != nil {
			s, ok := errors.AsType[*Skip](err)
			if !ok {
				t.Fatalf("got %T %v, want *Skip", err, err)
			}
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("errors.Is(%v, fs.ErrNotExist) = false", err)
			}
			pe, ok := errors.AsType[*fs.PathError](err)
			if !ok {
				t.Fatalf("no *fs.PathError in %v", err)
			}
			if want := "open " + missing + ": no such file or directory"; pe.Error() != want {
				t.Errorf("PathError: got %q, want %q", pe.Error(), want)
			}
			got = append(got, item{Path: s.Origin.Path, Reason: s.Reason})
			continue
		}
		got = append(got, item{Path: b.Origin.Path, Data: string(b.Data), Line: b.Line})
	}
	want := []item{
		{Path: root + "/missing.txt", Reason: SkipNotFound},
		{Path: root + "/a.txt", Data: "alpha\n", Line: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// chunkCheck verifies the chunk invariants of the blobs of one file against
// its content and returns the number of chunks.
func chunkCheck(t *testing.T, items []item, content []byte, cfg DirConfig) int {
	t.Helper()
	var covered int64 // end of the previous chunk
	var scanned int64
	for i, it := range items {
		if it.Reason != "" {
			t.Fatalf("item %d: unexpected skip %+v", i, it)
		}
		if len(it.Data) > cfg.ChunkSize {
			t.Errorf("chunk %d: len %d > ChunkSize %d", i, len(it.Data), cfg.ChunkSize)
		}
		if i == 0 && (it.Offset != 0 || it.Overlap != 0) {
			t.Errorf("chunk 0: offset %d overlap %d, want 0 0", it.Offset, it.Overlap)
		}
		if i > 0 {
			if want := covered - it.Offset; int64(it.Overlap) != want {
				t.Errorf("chunk %d: overlap %d, want %d (the bytes the previous chunk held)", i, it.Overlap, want)
			}
			if it.Overlap < cfg.ChunkOverlap || it.Overlap > cfg.ChunkSize/2 {
				t.Errorf("chunk %d: overlap %d outside [ChunkOverlap %d, ChunkSize/2 %d]", i, it.Overlap, cfg.ChunkOverlap, cfg.ChunkSize/2)
			}
			if len(it.Data) <= it.Overlap {
				t.Errorf("chunk %d: no new bytes (len %d, overlap %d)", i, len(it.Data), it.Overlap)
			}
			// The chunk starts at the latest line start the range allows,
			// or, when there is none, exactly ChunkOverlap bytes back.
			latest := covered - int64(cfg.ChunkOverlap)                  // latest allowed start
			window := content[covered-int64(cfg.ChunkSize/2)-1 : latest] // bytes that may precede it
			if j := bytes.LastIndexByte(window, '\n'); j >= 0 {
				if want := covered - int64(cfg.ChunkSize/2) + int64(j); it.Offset != want {
					t.Errorf("chunk %d: starts at %d, want %d (after the last newline in range)", i, it.Offset, want)
				}
			} else if it.Offset != latest {
				t.Errorf("chunk %d: starts at %d, want %d (no newline in range)", i, it.Offset, latest)
			}
		}
		end := it.Offset + int64(len(it.Data))
		if end > int64(len(content)) {
			t.Fatalf("chunk %d: ends at %d beyond the content (%d)", i, end, len(content))
		}
		if it.Data != string(content[it.Offset:end]) {
			t.Errorf("chunk %d: data differs from content[%d:%d]", i, it.Offset, end)
		}
		if want := 1 + bytes.Count(content[:it.Offset], []byte{'\n'}); it.Line != want {
			t.Errorf("chunk %d (offset %d): line %d, want %d", i, it.Offset, it.Line, want)
		}
		scanned += int64(len(it.Data) - it.Overlap)
		covered = end
	}
	if covered != int64(len(content)) || scanned != int64(len(content)) {
		t.Errorf("chunks cover %d bytes and scan %d new ones, want %d", covered, scanned, len(content))
	}
	return len(items)
}

// randomText returns n bytes of printable text with newlines at random places.
func randomText(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		if r.IntN(40) == 0 {
			b[i] = '\n'
		} else {
			b[i] = byte('a' + r.IntN(26))
		}
	}
	return b
}

func TestDirChunks(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	// Without newlines chunks advance by ChunkSize-ChunkOverlap exactly; with
	// them, by at least ChunkSize/2 (wantChunks is then a maximum).
	tests := []struct {
		name       string
		size       int
		lines      bool
		cfg        DirConfig
		wantChunks int
	}{
		{name: "empty file is one empty blob", size: 0, cfg: DirConfig{ChunkSize: 64, ChunkOverlap: 16}, wantChunks: 1},
		{name: "smaller than a chunk", size: 63, cfg: DirConfig{ChunkSize: 64, ChunkOverlap: 16}, wantChunks: 1},
		{name: "exactly one chunk", size: 64, cfg: DirConfig{ChunkSize: 64, ChunkOverlap: 16}, wantChunks: 1},
		{name: "one byte more", size: 65, cfg: DirConfig{ChunkSize: 64, ChunkOverlap: 16}, wantChunks: 2},
		// chunks advance by 48: 64, 112, 160, ...
		{name: "exact end of the second chunk", size: 112, cfg: DirConfig{ChunkSize: 64, ChunkOverlap: 16}, wantChunks: 2},
		{name: "many chunks", size: 10_000, cfg: DirConfig{ChunkSize: 64, ChunkOverlap: 16}, wantChunks: 208},
		{name: "half overlap", size: 1000, cfg: DirConfig{ChunkSize: 100, ChunkOverlap: 50}, wantChunks: 19},
		{name: "defaults, 20 MiB", size: 20 << 20, cfg: DirConfig{}, wantChunks: 3},
		{name: "lines, many chunks", size: 10_000, lines: true, cfg: DirConfig{ChunkSize: 64, ChunkOverlap: 16}, wantChunks: 1 + (10_000-64+31)/32},
		{name: "lines, half overlap", size: 1000, lines: true, cfg: DirConfig{ChunkSize: 100, ChunkOverlap: 50}, wantChunks: 19},
		{name: "lines, defaults, 20 MiB", size: 20 << 20, lines: true, cfg: DirConfig{}, wantChunks: 3},
	}
	for _, tt := range tests {
		content := bytes.Repeat([]byte{'q'}, tt.size)
		if tt.lines {
			content = randomText(r, tt.size) // r is not safe for concurrent use
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			p := writeFile(t, root, "f.txt", string(content))
			d := mustDir(t, []string{root, p}, tt.cfg)
			items := collect(t, t.Context(), d)
			if len(items)%2 != 0 {
				t.Fatalf("got %d items, want the same chunks twice", len(items))
			}
			half := len(items) / 2
			for i := range half {
				if items[i].Path != "f.txt" || items[half+i].Path != root+"/f.txt" {
					t.Fatalf("paths %q and %q, want f.txt and %s/f.txt", items[i].Path, items[half+i].Path, root)
				}
			}
			for _, part := range [][]item{items[:half], items[half:]} {
				n := chunkCheck(t, part, content, d.Config())
				if n != tt.wantChunks && (!tt.lines || n > tt.wantChunks) {
					t.Errorf("got %d chunks, want %d", n, tt.wantChunks)
				}
			}
		})
	}
}

// TestDirChunkBoundaryToken plants a token at every offset around the first
// chunk boundaries and checks that it is whole in some chunk and that
// KeepMatch keeps exactly one occurrence.
func TestDirChunkBoundaryToken(t *testing.T) {
	t.Parallel()
	const token = "sig=SYNTHETIC" // 13 bytes, shorter than the overlap
	cfg := DirConfig{ChunkSize: 64, ChunkOverlap: 16}
	filler := bytes.Repeat([]byte("xxxxxxxxxx\n"), 20) // 11-byte lines: ChunkSize-ChunkOverlap is mid-line
	for pos := 30; pos < 170; pos++ {
		t.Run(fmt.Sprint(pos), func(t *testing.T) {
			t.Parallel()
			content := bytes.Clone(filler)
			copy(content[pos:], token)
			wantLine := 1 + bytes.Count(content[:pos], []byte{'\n'})
			wantCol := pos - bytes.LastIndexByte(content[:pos], '\n') // 1-based, in bytes
			d := mustDir(t, []string{"-"}, DirConfig{ChunkSize: cfg.ChunkSize, ChunkOverlap: cfg.ChunkOverlap,
				Stdin: bytes.NewReader(content)})
			whole, kept := 0, 0
			for b, err := range d.Blobs(t.Context()) {
				if err != nil {
					t.Fatal(err)
				}
				i := bytes.Index(b.Data, []byte(token))
				if i < 0 {
					// A chunk that ends inside the token must not report the
					// cut-off prefix (it would classify as a different token).
					for k := len(token) - 1; k >= len(token)/2; k-- {
						if bytes.HasSuffix(b.Data, []byte(token[:k])) && KeepMatch(b, len(b.Data)-k, len(b.Data)) {
							t.Errorf("token at %d: a chunk ending inside it would report its %d-byte prefix", pos, k)
						}
					}
					continue
				}
				whole++
				if !KeepMatch(b, i, i+len(token)) {
					continue
				}
				kept++
				if got := b.Offset + int64(i); got != int64(pos) {
					t.Errorf("kept match at file offset %d, want %d", got, pos)
				}
				if got := b.Line + bytes.Count(b.Data[:i], []byte{'\n'}); got != wantLine {
					t.Errorf("kept match on line %d, want %d", got, wantLine)
				}
				// As the detector counts columns: from the last newline in Data.
				if got := i - bytes.LastIndexByte(b.Data[:i], '\n'); got != wantCol {
					t.Errorf("kept match in column %d, want %d", got, wantCol)
				}
			}
			if whole == 0 || kept != 1 {
				t.Errorf("token at %d: whole in %d chunks, kept %d times; want >= 1 and exactly 1", pos, whole, kept)
			}
		})
	}
}

func TestDirLongLine(t *testing.T) {
	t.Parallel()
	line := bytes.Repeat([]byte("A"), 5<<20)
	root := t.TempDir()
	writeFile(t, root, "long.min.js", string(line))
	tests := []struct {
		name       string
		cfg        DirConfig
		wantChunks int
	}{
		{name: "default chunk", cfg: DirConfig{}, wantChunks: 1},
		{name: "1 MiB chunks", cfg: DirConfig{ChunkSize: 1 << 20, ChunkOverlap: 64 << 10}, wantChunks: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := mustDir(t, []string{root}, tt.cfg)
			items := collect(t, t.Context(), d)
			if n := chunkCheck(t, items, line, d.Config()); n != tt.wantChunks {
				t.Errorf("got %d chunks, want %d", n, tt.wantChunks)
			}
		})
	}
}

// stuckReader returns 0, nil forever: a reader that makes no progress.
type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

func TestDirStdin(t *testing.T) {
	t.Parallel()
	errBroken := errors.New("broken pipe (synthetic)")
	tests := []struct {
		name  string
		paths []string
		in    io.Reader
		cfg   DirConfig
		want  []item
	}{
		{name: "small", paths: []string{"-"}, in: strings.NewReader("one\ntwo\n"),
			want: []item{{Path: StdinPath, Data: "one\ntwo\n", Line: 1}}},
		{name: "empty", paths: []string{"-"}, in: strings.NewReader(""),
			want: []item{{Path: StdinPath, Line: 1}}},
		{name: "chunked", paths: []string{"-"}, in: strings.NewReader("a\nb\nc\nd\ne\nf\n"), cfg: DirConfig{ChunkSize: 6, ChunkOverlap: 2},
			want: []item{
				{Path: StdinPath, Data: "a\nb\nc\n", Line: 1},
				{Path: StdinPath, Data: "c\nd\ne\n", Offset: 4, Line: 3, Overlap: 2},
				{Path: StdinPath, Data: "e\nf\n", Offset: 8, Line: 5, Overlap: 2},
			}},
		{name: "repeated dash read once", paths: []string{"-", "-"}, in: strings.NewReader("x"),
			want: []item{{Path: StdinPath, Data: "x", Line: 1}}},
		{name: "one byte at a time", paths: []string{"-"}, in: iotest.OneByteReader(strings.NewReader("abcdefghij")), cfg: DirConfig{ChunkSize: 8, ChunkOverlap: 4},
			want: []item{
				{Path: StdinPath, Data: "abcdefgh", Line: 1},
				{Path: StdinPath, Data: "efghij", Offset: 4, Line: 1, Overlap: 4},
			}},
		{name: "over the size limit", paths: []string{"-"}, in: strings.NewReader("0123456789"), cfg: DirConfig{MaxFileSize: 6, ChunkSize: 4, ChunkOverlap: 2},
			want: []item{
				{Path: StdinPath, Data: "0123", Line: 1},
				{Path: StdinPath, Data: "2345", Offset: 2, Line: 1, Overlap: 2},
				{Path: StdinPath, Reason: SkipTooLarge},
			}},
		{name: "exactly the size limit", paths: []string{"-"}, in: strings.NewReader("012345"), cfg: DirConfig{MaxFileSize: 6},
			want: []item{{Path: StdinPath, Data: "012345", Line: 1}}},
		{name: "read error after data", paths: []string{"-"}, in: io.MultiReader(strings.NewReader("partial\n"), iotest.ErrReader(errBroken)),
			want: []item{{Path: StdinPath, Data: "partial\n", Line: 1}, {Path: StdinPath, Reason: SkipUnreadable}}},
		{name: "reader that makes no progress", paths: []string{"-"}, in: stuckReader{},
			want: []item{{Path: StdinPath, Reason: SkipUnreadable}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			cfg.Stdin = tt.in
			got := collect(t, t.Context(), mustDir(t, tt.paths, cfg))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDirCancel(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for i := range 5 {
		writeFile(t, root, fmt.Sprintf("f%d.txt", i), "data\n")
	}
	t.Run("before", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		got := collect(t, ctx, mustDir(t, []string{root}, DirConfig{}))
		want := []item{{Reason: SkipReason("error: " + context.Canceled.Error())}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("between files", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var paths []string
		var last error
		for b, err := range mustDir(t, []string{root}, DirConfig{}).Blobs(ctx) {
			if err != nil {
				last = err
				continue
			}
			paths = append(paths, b.Origin.Path)
			cancel()
		}
		if !errors.Is(last, context.Canceled) || len(paths) != 1 {
			t.Errorf("got blobs %q then %v, want one blob then context.Canceled", paths, last)
		}
	})
	t.Run("between chunks", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		n := 0
		var last error
		in := strings.NewReader(strings.Repeat("z", 100))
		for _, err := range mustDir(t, []string{"-"}, DirConfig{ChunkSize: 10, ChunkOverlap: 2, Stdin: in}).Blobs(ctx) {
			if err != nil {
				last = err
				continue
			}
			n++
			cancel()
		}
		if !errors.Is(last, context.Canceled) || n != 1 {
			t.Errorf("got %d chunks then %v, want 1 then context.Canceled", n, last)
		}
	})
	t.Run("break", func(t *testing.T) {
		t.Parallel()
		n := 0
		// Ranging on after break would panic: the iterator must stop.
		for range mustDir(t, []string{root, root}, DirConfig{}).Blobs(t.Context()) {
			n++
			break
		}
		if n != 1 {
			t.Errorf("got %d iterations, want 1", n)
		}
	})
}

// TestDirTooLargeSparse: a 2 GiB sparse file is skipped under the default
// limit, without being read.
func TestDirTooLargeSparse(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	p := writeFile(t, root, "huge.bin", "")
	if err := os.Truncate(p, 2<<30); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "small.txt", "ok\n")
	got := collect(t, t.Context(), mustDir(t, []string{root}, DirConfig{}))
	want := []item{
		{Path: "huge.bin", Reason: SkipTooLarge, Size: 2 << 30},
		{Path: "small.txt", Data: "ok\n", Line: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// TestDirStreamLargeSparse streams a 2 GiB sparse file with a raised limit and
// checks that the heap stays bounded. It is not parallel so that other tests'
// allocations do not count.
func TestDirStreamLargeSparse(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 2 GiB; skipped with -short")
	}
	const size int64 = 2 << 30
	root := t.TempDir()
	p := writeFile(t, root, "huge.bin", "")
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	d := mustDir(t, []string{p}, DirConfig{MaxFileSize: 4 << 30})
	cfg := d.Config()
	runtime.GC()
	var ms runtime.MemStats
	var peak uint64
	var scanned, next int64
	chunks := 0
	for b, err := range d.Blobs(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if b.Offset != next-int64(b.Overlap) || b.Line != 1 || len(b.Data) > cfg.ChunkSize {
			t.Fatalf("chunk %d: offset %d overlap %d line %d len %d; want offset %d, line 1", chunks, b.Offset, b.Overlap, b.Line, len(b.Data), next-int64(b.Overlap))
		}
		if chunks%8 == 0 && bytes.IndexByte(b.Data, 0) != 0 {
			t.Fatalf("chunk %d: not the file's zero bytes", chunks)
		}
		next = b.Offset + int64(len(b.Data))
		scanned += int64(len(b.Data) - b.Overlap)
		chunks++
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		b.Release()
	}
	if scanned != size {
		t.Errorf("scanned %d bytes, want %d", scanned, size)
	}
	const limit = 64 << 20
	t.Logf("%d chunks, peak HeapInuse %.1f MiB", chunks, float64(peak)/(1<<20))
	if peak > limit {
		t.Errorf("peak HeapInuse %d MiB, want <= %d MiB", peak>>20, limit>>20)
	}
}

// BenchmarkDirWalk measures the walk and read cost on a tree of 2,000 small
// files (16 KiB each, 32 MiB in total), the shape of a source repository.
func BenchmarkDirWalk(b *testing.B) {
	root := b.TempDir()
	data := bytes.Repeat([]byte("const x = \"contoso.blob.core.windows.net\";\n"), 16<<10/44)
	var total int64
	for i := range 2000 {
		p := filepath.Join(root, fmt.Sprintf("d%02d", i%50), fmt.Sprintf("f%04d.go", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(len(data))
	}
	d, err := NewDir([]string{root}, DirConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for blob, err := range d.Blobs(b.Context()) {
			if err != nil {
				b.Fatal(err)
			}
			n++
			blob.Release()
		}
		if n != 2000 {
			b.Fatalf("got %d blobs, want 2000", n)
		}
	}
}

// TestDirChunkColumn: a chunk that starts in the middle of a long line
// carries the column of its first byte, so a match on that line gets its
// real column (minified files are where this matters).
func TestDirChunkColumn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	line := strings.Repeat("abcdefgh", 1<<12) // 32 KiB, no newline
	content := "first line\n" + line + "\nlast\n"
	if err := os.WriteFile(filepath.Join(dir, "min.js"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := NewDir([]string{dir}, DirConfig{ChunkSize: 4096, ChunkOverlap: 512})
	if err != nil {
		t.Fatal(err)
	}
	chunks := 0
	for b, err := range d.Blobs(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		chunks++
		// Where does Data[0] sit in the file? Recompute from Offset.
		before := content[:b.Offset]
		wantLine := strings.Count(before, "\n") + 1
		wantCol := int(b.Offset) - strings.LastIndexByte(before, '\n')
		if b.Line != wantLine || max(b.Column, 1) != wantCol {
			t.Errorf("chunk at offset %d: line %d column %d, want line %d column %d", b.Offset, b.Line, b.Column, wantLine, wantCol)
		}
	}
	if chunks < 8 {
		t.Fatalf("only %d chunks: the test does not exercise mid-line chunk starts", chunks)
	}
}
