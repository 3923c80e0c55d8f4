package crawler

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// benchTree writes about total bytes of source-like text in n files (sizes
// from a quarter to seven quarters of the mean, 20 files a directory) under
// root and returns the file paths and the exact number of bytes.
func benchTree(tb testing.TB, root string, n int, total int64) ([]string, int64) {
	tb.Helper()
	line := []byte("\tconst endpoint = \"https://contoso.blob.core.windows.net/container/file.txt\" // synthetic\n")
	mean := total / int64(n)
	var paths []string
	var sum int64
	for i := range n {
		size := mean/4 + mean*int64(i%7)/4 // 1/4 .. 7/4 of the mean, averaging the mean
		data := make([]byte, 0, size)
		for int64(len(data)) < size {
			data = append(data, line[:min(len(line), int(size)-len(data))]...)
		}
		p := filepath.Join(root, fmt.Sprintf("d%02d", i/20), fmt.Sprintf("f%04d.go", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
		paths = append(paths, p)
		sum += int64(len(data))
	}
	return paths, sum
}

// BenchmarkDirRead ranges a Dir over a 64 MiB tree of 500 files in the page
// cache, releasing every blob (no detection: this is the source's own cost),
// with the default number of readers and with 1, 2 and 4. In the same run it
// measures cat(1) of the same files to /dev/null and a plain serial Go loop
// (open, read into one reused buffer, close): the physical limit of one
// reader.
//
//	go test ./crawler/ -run '^$' -bench BenchmarkDirRead -benchtime 10x -count 8
func BenchmarkDirRead(b *testing.B) {
	root := b.TempDir()
	paths, total := benchTree(b, root, 500, 64<<20)
	run := func(b *testing.B, cfg DirConfig) {
		d, err := NewDir([]string{root}, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(total)
		b.ReportAllocs()
		for b.Loop() {
			var n int64
			for blob, err := range d.Blobs(b.Context()) {
				if err != nil {
					b.Fatal(err)
				}
				n += int64(len(blob.Data) - blob.Overlap)
				if blob.Release != nil {
					blob.Release()
				}
			}
			if n != total {
				b.Fatalf("read %d bytes, want %d", n, total)
			}
		}
	}
	b.Run("dir", func(b *testing.B) { run(b, DirConfig{}) })
	for _, r := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("dir/readers=%d", r), func(b *testing.B) { run(b, DirConfig{Readers: r}) })
	}
	b.Run("cat", func(b *testing.B) {
		if _, err := exec.LookPath("cat"); err != nil {
			b.Skip("no cat")
		}
		b.SetBytes(total)
		for b.Loop() {
			cmd := exec.Command("cat", paths...) // stdout is /dev/null
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("serial-loop", func(b *testing.B) {
		buf := make([]byte, 256<<10)
		b.SetBytes(total)
		b.ReportAllocs()
		for b.Loop() {
			var n int64
			for _, p := range paths {
				f, err := os.Open(p)
				if err != nil {
					b.Fatal(err)
				}
				for {
					m, err := f.Read(buf)
					n += int64(m)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				f.Close()
			}
			if n != total {
				b.Fatalf("read %d bytes, want %d", n, total)
			}
		}
	})
}
