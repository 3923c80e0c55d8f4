//go:build unix

package crawler

import (
	"os"
	"syscall"
)

// openRegular opens name for reading without following a final symbolic
// link (ELOOP instead) and without blocking on a FIFO that replaced the file
// after it was listed: O_NONBLOCK makes open return at once, and the caller
// checks with fstat that it got a regular file. O_NONBLOCK has no effect on
// reads of regular files.
func openRegular(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
}

// openDirectory opens a directory without following a final symbolic link;
// O_DIRECTORY makes it fail (ENOTDIR) if something else replaced it.
func openDirectory(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
}

// dirID returns the (device, inode) pair identifying an open directory.
func dirID(f *os.File) (fileID, bool) {
	fi, err := f.Stat()
	if err != nil {
		return fileID{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true //nolint:unconvert // field types differ by OS
}
