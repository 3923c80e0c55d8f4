package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestStaleTempsRemoved is issue 10 item 8: a temporary report left by a
// killed run (its PID is gone) is removed by the next run writing to the same
// directory; one of a live process is left alone.
func TestStaleTempsRemoved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A PID that is surely gone: a child that has exited.
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(dir, ".sasquatch-"+strconv.Itoa(c.Process.Pid)+"-abc.tmp")
	live := filepath.Join(dir, ".sasquatch-"+strconv.Itoa(os.Getpid())+"-def.tmp")
	for _, p := range []string{dead, live} {
		write(t, p, "token=secret\n")
	}
	src := t.TempDir()
	write(t, filepath.Join(src, "a.txt"), "nothing\n")
	if _, stderr, code := runCLI(t, "", "scan", "-o", filepath.Join(dir, "out.jsonl"), "--format", "jsonl", src); code != exitClean {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("stale temporary file of a dead process kept: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("temporary file of a live process removed: %v", err)
	}
}

// TestSecondSignalRemovesTemp is issue 10 item 8: two SIGTERMs during a run
// writing a revealed report end it without leaving the temporary file.
func TestSecondSignalRemovesTemp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "scan", "--reveal", "-o", filepath.Join(dir, "out.jsonl"), "--format", "jsonl", "-")
	cmd.Env = append(os.Environ(), "SASQUATCH_TEST_MAIN=1")
	stdin, err := cmd.StdinPipe() // kept open: the scan waits on it
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the temporary report exists: the run is under way.
	for i := 0; ; i++ {
		m, _ := filepath.Glob(filepath.Join(dir, ".sasquatch-*.tmp"))
		if len(m) > 0 {
			break
		}
		if i > 1000 {
			cmd.Process.Kill()
			t.Fatal("no temporary report appeared")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	// The second signal must find the first one handled (two signals sent
	// at once can merge into one): not a timing check, only an order.
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute): // a hang guard, not a timing check
		cmd.Process.Kill()
		t.Fatal("the process did not end after two signals")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".sasquatch-*.tmp")); len(m) != 0 {
		t.Errorf("temporary report left behind: %v", m)
	}
}
