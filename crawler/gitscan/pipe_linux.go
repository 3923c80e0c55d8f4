package gitscan

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// blobPipe returns the pipe that cat-file --batch writes blob content
// into. With a 1 MiB pipe buffer (F_SETPIPE_SZ), its read end is read
// without the runtime's poller: a read that finds it empty sleeps
// pipePoll and tries again. git fills a pipe far slower than the scan
// empties it, so a poller-driven reader would wake, and wake the Go
// scheduler's threads, once for every object git writes (about five
// context switches each, the largest CPU cost of this process in a
// history scan); polling wakes once per pipePoll whatever the objects.
// The pipe holds more than git writes in pipePoll, so git never waits
// for it. Without the larger buffer it is an ordinary pipe (os.Pipe).
func blobPipe() (io.ReadCloser, *os.File, error) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, fmt.Errorf("pipe: %w", err)
	}
	const fSetPipeSz = 1031
	size, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fds[0]), fSetPipeSz, 1<<20)
	r, w := os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1")
	if errno == 0 && size >= 1<<20 {
		// NewFile leaves a blocking descriptor out of the poller; made
		// non-blocking afterwards, its reads return EAGAIN to us.
		if err := syscall.SetNonblock(fds[0], true); err == nil {
			return &pollingReader{f: r}, w, nil
		}
	}
	r.Close()
	w.Close()
	return os.Pipe()
}

// pipePoll is how long a read of an empty blob pipe sleeps before trying
// again. 1 MiB of pipe lasts git about 4 ms at its inflate speed.
const pipePoll = time.Millisecond

type pollingReader struct{ f *os.File }

func (p *pollingReader) Read(b []byte) (int, error) {
	for {
		n, err := p.f.Read(b)
		if n == 0 && errors.Is(err, syscall.EAGAIN) {
			time.Sleep(pipePoll)
			continue
		}
		return n, err
	}
}

func (p *pollingReader) Close() error { return p.f.Close() }

// ownProcessGroup starts cmd in a new process group.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills cmd's process group (cmd leads it): git and its helpers.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		return cmd.Process.Kill()
	}
	return nil
}
