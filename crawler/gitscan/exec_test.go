package gitscan

import (
	"os/exec"

	"github.com/sasquatch-sec/sasquatch/fixtures/history"
)

func execGit(b *history.Builder, args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = b.Dir
	cmd.Env = b.Env()
	return cmd
}
