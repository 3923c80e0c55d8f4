//go:build !linux

package gitscan

import "os"

func growPipe(*os.File) {}
