//go:build unix

package crawler

import (
	"io"
	"io/fs"
	"os"
	"syscall"
)

// rfile is a regular file open for reading: a bare descriptor, so that a
// file costs open, fstat, read and close and nothing else (an *os.File also
// tries the poller and allocates).
type rfile struct {
	fd   int
	name string
}

// openRegular opens name for reading without following a final symbolic
// link (ELOOP instead) unless follow is set, and without blocking on a FIFO
// that replaced the file after it was listed: O_NONBLOCK makes open return
// at once, and the caller checks with fstat that it got a regular file.
// O_NONBLOCK has no effect on reads of regular files.
func openRegular(name string, follow bool) (rfile, error) {
	flags := syscall.O_RDONLY | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	if !follow {
		flags |= syscall.O_NOFOLLOW
	}
	for {
		fd, err := syscall.Open(name, flags, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return rfile{fd: -1}, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return rfile{fd: fd, name: name}, nil
	}
}

// stat returns the file's type and size.
func (f rfile) stat() (fs.FileMode, int64, error) {
	var st syscall.Stat_t
	for {
		err := syscall.Fstat(f.fd, &st)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, 0, &fs.PathError{Op: "fstat", Path: f.name, Err: err}
		}
		return fileMode(uint32(st.Mode)), st.Size, nil //nolint:unconvert // uint16 on some systems
	}
}

// fileMode returns the type bits of a stat mode as an fs.FileMode.
func fileMode(m uint32) fs.FileMode {
	switch m & syscall.S_IFMT {
	case syscall.S_IFREG:
		return 0
	case syscall.S_IFDIR:
		return fs.ModeDir
	case syscall.S_IFLNK:
		return fs.ModeSymlink
	case syscall.S_IFIFO:
		return fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		return fs.ModeSocket
	case syscall.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		return fs.ModeDevice
	}
	return fs.ModeIrregular
}

// Read implements io.Reader.
func (f rfile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := syscall.Read(f.fd, p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: f.name, Err: err}
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f rfile) close() { _ = syscall.Close(f.fd) }

// openStream opens a named pipe or character device given as a path
// argument, following links. O_NONBLOCK keeps open from waiting for a
// writer; the runtime poller then makes reads wait for data, and a read
// deadline can interrupt them.
func openStream(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
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
