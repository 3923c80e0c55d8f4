//go:build !unix

package crawler

import (
	"io/fs"
	"os"
)

// rfile is a regular file open for reading.
type rfile struct{ *os.File }

// openRegular opens name for reading. Without O_NOFOLLOW the walk relies on
// the directory listing (which never follows links) and on the fstat check
// after opening.
func openRegular(name string, _ bool) (rfile, error) {
	f, err := os.Open(name)
	return rfile{f}, err
}

// stat returns the file's type and size.
func (f rfile) stat() (fs.FileMode, int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	return fi.Mode().Type(), fi.Size(), nil
}

func (f rfile) close() { _ = f.Close() }

// openStream opens a named pipe or character device given as a path.
func openStream(name string) (*os.File, error) { return os.Open(name) }

// openDirectory opens a directory for listing.
func openDirectory(name string) (*os.File, error) { return os.Open(name) }

// dirID is not available here: loops can only come from symbolic links or
// junctions, which the walk never follows.
func dirID(*os.File) (fileID, bool) { return fileID{}, false }
