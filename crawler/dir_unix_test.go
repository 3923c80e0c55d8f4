//go:build unix

package crawler

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// buildTree creates a tree with every kind of entry the walk must handle.
func buildTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	writeFile(t, root, ".env", "AccountName=contoso\n")
	writeFile(t, root, ".git/config", "[core]\n")
	writeFile(t, root, ".git/objects/ab/cdef", "x\x01")
	writeFile(t, root, ".gitignore", "*.log\n")
	writeFile(t, root, ".hg/store/data", "hg data\n")
	writeFile(t, root, "a.txt", "alpha\n")
	writeFile(t, root, "b/nul.bin", string(make([]byte, 4096)))
	writeFile(t, root, "b/utf8.txt", "\xff\xfe\xfd bad \xc3\x28\n")
	writeFile(t, root, "dotdir/.hidden", "hidden\n")
	writeFile(t, root, "empty", "")
	writeFile(t, root, "nested/.git/HEAD", "ref: refs/heads/main\n")
	writeFile(t, root, "nested/file.txt", "nested\n")
	for _, l := range []struct{ target, name string }{
		{"..", "b/up"},        // directory link to the parent: a loop if followed
		{"b", "dirlink"},      // directory link
		{"a.txt", "link.txt"}, // file link
		{"y", "x"},            // x -> y -> x
		{"x", "y"},
	} {
		if err := os.Symlink(l.target, filepath.Join(root, l.name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestDirTree(t *testing.T) {
	t.Parallel()
	root := buildTree(t)
	all := []item{
		{Path: ".env", Data: "AccountName=contoso\n", Line: 1},
		{Path: ".gitignore", Data: "*.log\n", Line: 1},
		{Path: ".hg/store/data", Data: "hg data\n", Line: 1},
		{Path: "a.txt", Data: "alpha\n", Line: 1},
		{Path: "b/nul.bin", Data: string(make([]byte, 4096)), Line: 1},
		{Path: "b/up", Reason: SkipSymlink},
		{Path: "b/utf8.txt", Data: "\xff\xfe\xfd bad \xc3\x28\n", Line: 1},
		{Path: "dirlink", Reason: SkipSymlink},
		{Path: "dotdir/.hidden", Data: "hidden\n", Line: 1},
		{Path: "empty", Line: 1},
		{Path: "fifo", Reason: SkipSpecial},
		{Path: "link.txt", Reason: SkipSymlink},
		{Path: "nested/file.txt", Data: "nested\n", Line: 1},
		{Path: "x", Reason: SkipSymlink},
		{Path: "y", Reason: SkipSymlink},
	}
	without := func(paths ...string) []item {
		return slices.DeleteFunc(slices.Clone(all), func(it item) bool { return slices.Contains(paths, it.Path) })
	}
	prefixed := func(prefix string) []item {
		out := make([]item, len(all))
		for i, it := range all {
			it.Path = prefix + it.Path
			out[i] = it
		}
		return out
	}
	tests := []struct {
		name  string
		paths []string
		cfg   DirConfig
		want  []item
	}{
		{name: "walk", paths: []string{root}, want: all},
		{name: "prefix root", paths: []string{root + "/"}, cfg: DirConfig{PrefixRoot: true}, want: prefixed(root + "/")},
		{name: "exclude", paths: []string{root}, cfg: DirConfig{Exclude: []string{"*.bin", "dotdir", "b/utf8.txt", "[xy]", ".hg"}},
			want: without("b/nul.bin", "dotdir/.hidden", "b/utf8.txt", "x", "y", ".hg/store/data")},
		{name: "file arguments", paths: []string{root + "/./b//utf8.txt", root + "/link.txt", root + "/fifo", root + "/a.txt"},
			want: []item{
				{Path: root + "/b/utf8.txt", Data: "\xff\xfe\xfd bad \xc3\x28\n", Line: 1},
				{Path: root + "/link.txt", Data: "alpha\n", Line: 1}, // a link argument is followed once
				{Path: root + "/fifo", Line: 1},                      // a FIFO argument is read like "-": no writer, empty
				{Path: root + "/a.txt", Data: "alpha\n", Line: 1},
			}},
		{name: "a directory link argument is followed once (find -H)", paths: []string{root + "/dirlink"},
			want: []item{
				{Path: "nul.bin", Data: string(make([]byte, 4096)), Line: 1},
				{Path: "up", Reason: SkipSymlink},
				{Path: "utf8.txt", Data: "\xff\xfe\xfd bad \xc3\x28\n", Line: 1},
			}},
		{name: "a trailing slash resolves a directory link argument", paths: []string{root + "/dirlink/"},
			want: []item{
				{Path: "nul.bin", Data: string(make([]byte, 4096)), Line: 1},
				{Path: "up", Reason: SkipSymlink},
				{Path: "utf8.txt", Data: "\xff\xfe\xfd bad \xc3\x28\n", Line: 1},
			}},
		{name: "explicit .git argument is scanned", paths: []string{root + "/.git"},
			want: []item{{Path: "config", Data: "[core]\n", Line: 1}, {Path: "objects/ab/cdef", Data: "x\x01", Line: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := collect(t, t.Context(), mustDir(t, tt.paths, tt.cfg))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDirUnreadable uses hooks that fail like a permission-denied open, which
// works as root too (CI runs as root, where chmod 000 does not stop reading).
func TestDirUnreadable(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeFile(t, root, "a.txt", "a\n")
	writeFile(t, root, "locked/inside.txt", "never\n")
	writeFile(t, root, "secret.txt", "never\n")
	writeFile(t, root, "z.txt", "z\n")
	denied := func(name string) error { return &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES} }
	d := mustDir(t, []string{root}, DirConfig{})
	d.openFile = func(name string, follow bool) (rfile, error) {
		if filepath.Base(name) == "secret.txt" {
			return rfile{}, denied(name)
		}
		return openRegular(name, follow)
	}
	d.openDir = func(name string) (*os.File, error) {
		if filepath.Base(name) == "locked" {
			return nil, denied(name)
		}
		return openDirectory(name)
	}
	var got []item
	for b, err := range d.Blobs(t.Context()) {
		if err != nil {
			s, ok := errors.AsType[*Skip](err)
			if !ok || !errors.Is(err, fs.ErrPermission) {
				t.Errorf("got %v, want a *Skip wrapping a permission error", err)
				continue
			}
			got = append(got, item{Path: s.Origin.Path, Reason: s.Reason})
			continue
		}
		got = append(got, item{Path: b.Origin.Path, Data: string(b.Data), Line: b.Line})
	}
	want := []item{
		{Path: "a.txt", Data: "a\n", Line: 1},
		{Path: "locked", Reason: SkipUnreadable},
		{Path: "secret.txt", Reason: SkipUnreadable},
		{Path: "z.txt", Data: "z\n", Line: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// TestDirUnreadableChmod is the same with real permissions; it needs a user
// that permissions apply to.
func TestDirUnreadableChmod(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("running as root: chmod 000 does not stop reading; TestDirUnreadable covers this with a hook")
	}
	root := t.TempDir()
	writeFile(t, root, "a.txt", "a\n")
	secret := writeFile(t, root, "secret.txt", "never\n")
	locked := filepath.Join(root, "locked")
	writeFile(t, root, "locked/inside.txt", "never\n")
	for _, p := range []string{secret, locked} {
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = os.Chmod(locked, 0o755) }) // so TempDir can be removed
	got := collect(t, t.Context(), mustDir(t, []string{root}, DirConfig{}))
	want := []item{
		{Path: "a.txt", Data: "a\n", Line: 1},
		{Path: "locked", Reason: SkipUnreadable},
		{Path: "secret.txt", Reason: SkipUnreadable},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// TestDirReplacedAfterListing: an entry listed as a regular file that is a
// named pipe or a symbolic link by the time it is opened is skipped, not
// waited on or followed. The hook opens the substitute with the real opener.
func TestDirReplacedAfterListing(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	other := t.TempDir()
	fifo := filepath.Join(other, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(other, "link")
	if err := os.Symlink(writeFile(t, other, "target.txt", "target\n"), link); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "to-fifo", "")
	writeFile(t, root, "to-link", "")
	writeFile(t, root, "ok.txt", "ok\n")
	d := mustDir(t, []string{root}, DirConfig{})
	d.openFile = func(name string, follow bool) (rfile, error) {
		switch filepath.Base(name) {
		case "to-fifo":
			return openRegular(fifo, follow)
		case "to-link":
			return openRegular(link, follow)
		}
		return openRegular(name, follow)
	}
	got := collect(t, t.Context(), d)
	want := []item{
		{Path: "ok.txt", Data: "ok\n", Line: 1},
		{Path: "to-fifo", Reason: SkipSpecial},
		{Path: "to-link", Reason: SkipSymlink},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// TestDirLoop: a directory whose (device, inode) is that of an ancestor, as
// a bind mount of a parent would be, is skipped. Bind mounts need privileges,
// so a hook gives every directory the same ID.
func TestDirLoop(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeFile(t, root, "a/deeper/f.txt", "never\n")
	writeFile(t, root, "g.txt", "g\n")
	d := mustDir(t, []string{root}, DirConfig{})
	d.dirID = func(*os.File) (fileID, bool) { return fileID{dev: 1, ino: 1}, true }
	got := collect(t, t.Context(), d)
	want := []item{{Path: "a", Reason: SkipLoop}, {Path: "g.txt", Data: "g\n", Line: 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestDirID(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	id := func(p string) fileID {
		f, err := openDirectory(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		v, ok := dirID(f)
		if !ok {
			t.Fatalf("dirID(%s): not available", p)
		}
		return v
	}
	if id(root) != id(root+"/sub/..") {
		t.Errorf("the same directory has two IDs")
	}
	if id(root) == id(root+"/sub") {
		t.Errorf("two directories share an ID")
	}
	if _, err := openDirectory(filepath.Join(root, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("openDirectory(missing): %v, want not-exist", err)
	}
	if err := os.Symlink("sub", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if f, err := openDirectory(filepath.Join(root, "link")); err == nil {
		f.Close()
		t.Errorf("openDirectory followed a symbolic link")
	} else if !strings.Contains(err.Error(), "link") {
		t.Errorf("error %q does not name the path", err)
	}
}

// TestDirPipeArgument: a pipe given by path (/dev/fd/N, /proc/self/fd/N,
// as a shell's /dev/stdin is) is streamed like "-", up to MaxFileSize.
func TestDirPipeArgument(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prefix string // "/dev/fd/" or "/proc/self/fd/"
		data   string
		cfg    DirConfig
		want   func(p string) []item
	}{
		{name: "dev fd", prefix: "/dev/fd/", data: "one\nsig=x\n",
			want: func(p string) []item { return []item{{Path: p, Data: "one\nsig=x\n", Line: 1}} }},
		{name: "proc self fd", prefix: "/proc/self/fd/", data: "alpha\n",
			want: func(p string) []item { return []item{{Path: p, Data: "alpha\n", Line: 1}} }},
		{name: "empty", prefix: "/dev/fd/", data: "",
			want: func(p string) []item { return []item{{Path: p, Line: 1}} }},
		{name: "over the size limit", prefix: "/dev/fd/", data: "0123456789", cfg: DirConfig{MaxFileSize: 6, ChunkSize: 4, ChunkOverlap: 2},
			want: func(p string) []item {
				return []item{
					{Path: p, Data: "0123", Line: 1},
					{Path: p, Data: "2345", Offset: 2, Line: 1, Overlap: 2},
					{Path: p, Reason: SkipTooLarge},
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(tt.prefix); err != nil {
				t.Skipf("%s: %v", tt.prefix, err)
			}
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			go func() {
				_, _ = w.WriteString(tt.data)
				w.Close()
			}()
			p := fmt.Sprint(tt.prefix, r.Fd())
			got := collect(t, t.Context(), mustDir(t, []string{p}, tt.cfg))
			if diff := cmp.Diff(tt.want(p), got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDirPipeArgumentCancel: cancelling while the iterator waits on a pipe
// whose writer sends nothing ends the iteration with ctx.Err().
func TestDirPipeArgumentCancel(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close() // open and silent until the end
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	got := collect(t, ctx, mustDir(t, []string{fmt.Sprint("/dev/fd/", r.Fd())}, DirConfig{}))
	want := []item{{Reason: SkipReason("error: " + context.Canceled.Error())}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}
