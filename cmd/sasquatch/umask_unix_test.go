//go:build unix

package main

import (
	"os"
	"path/filepath"
	"sync"
)

var umaskOnce = sync.OnceValue(func() os.FileMode {
	// The umask as the OS applies it: create a file asking for 0777.
	dir, err := os.MkdirTemp("", "umask")
	if err != nil {
		return 0o022
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "f")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o777)
	if err != nil {
		return 0o022
	}
	f.Close()
	fi, err := os.Stat(p)
	if err != nil {
		return 0o022
	}
	return 0o777 &^ fi.Mode().Perm()
})

func umask() os.FileMode { return umaskOnce() }
