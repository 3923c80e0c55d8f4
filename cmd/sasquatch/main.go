// Command sasquatch finds leaked Azure Storage SAS tokens and account keys in
// files, git history and GitHub organisations, and says how dangerous each is.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(mainCode()) }

// mainCode is the whole program but for os.Exit: it handles signals and
// returns the exit code (tests run it in child processes).
func mainCode() int {
	limitProcs = bindProcs
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, func() {
		// The first signal stops the scan; the findings made so far are
		// still written. A second one ends the process at once, but never
		// leaves a temporary report (which may hold revealed tokens) behind.
		// The second handler is in place before the first is removed, so no
		// signal falls between them to the default action.
		second, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		context.AfterFunc(second, func() {
			temps.removeAll()
			os.Exit(exitError)
		})
		stop()
	})
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	return code
}
