//go:build !linux

package gitscan

import (
	"os"
	"os/exec"
)

func growPipe(*os.File) {}

func ownProcessGroup(*exec.Cmd) {}
