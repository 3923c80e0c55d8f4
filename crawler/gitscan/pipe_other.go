//go:build !linux

package gitscan

import (
	"io"
	"os"
	"os/exec"
)

// blobPipe is an ordinary pipe here (see pipe_linux.go).
func blobPipe() (io.ReadCloser, *os.File, error) { return os.Pipe() }

func ownProcessGroup(*exec.Cmd) {}

func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}
