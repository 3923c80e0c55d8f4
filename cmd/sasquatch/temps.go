package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// tempSet is the temporary report files this process has open.
type tempSet struct {
	mu    sync.Mutex
	names map[string]bool
}

// temps are this process's temporary --output files.
var temps tempSet

func (t *tempSet) add(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.names == nil {
		t.names = map[string]bool{}
	}
	t.names[name] = true
}

func (t *tempSet) remove(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.names, name)
}

// removeAll deletes every registered temporary file (on a second signal,
// the process is about to end without renaming it into place).
func (t *tempSet) removeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for name := range t.names {
		os.Remove(name)
		delete(t.names, name)
	}
}

// removeStaleTemps deletes the ".sasquatch-PID-*.tmp" files in dir whose
// process no longer exists: what a killed run left behind, which may hold
// revealed tokens. Files of a live process (another run writing to the same
// directory) are left alone.
func removeStaleTemps(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, ".sasquatch-*-*.tmp"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), ".sasquatch-")
		pid, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, '-'), 0)])
		if err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		os.Remove(m)
	}
}
