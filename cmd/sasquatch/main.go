// Command sasquatch finds leaked Azure Storage SAS tokens and account keys in
// files, git history and GitHub organisations, and says how dangerous each is.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, the default handling returns: a second Ctrl-C
	// ends the process even while the findings so far are being written.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
