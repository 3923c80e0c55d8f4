//go:build !linux

package gitscan

import (
	"os"
	"os/exec"
)

func growPipe(*os.File) {}

func ownProcessGroup(*exec.Cmd) {}

func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}
