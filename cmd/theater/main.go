// Command theater runs and inspects Theater nodes and their actors.
//
// Every command has --help. The wit subcommands read, check, print and
// use WIT without any server; serve and run start a node, and spawn, ls,
// stop, send, request, state and nodes talk to one over NATS.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries a specific exit status out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// run executes the CLI with the given arguments and streams and returns
// the process exit status; tests call it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		// Errors of the shared vocabulary (package wire) already say
		// "theater: ".
		msg := err.Error()
		if !strings.HasPrefix(msg, "theater: ") {
			msg = "theater: " + msg
		}
		fmt.Fprintln(stderr, msg)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return 1
	}
	return 0
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "theater",
		Short: "Theater: WebAssembly actors with NATS mailboxes and verifiable histories",
		Long: `theater runs and inspects Theater nodes: every actor is a sandboxed
WebAssembly module with a NATS mailbox, talking in msgpack values typed by WIT.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newWitCmd(), newServeCmd(), newRunCmd(), newSpawnCmd(), newLsCmd(), newStopCmd(), newRmCmd(),
		newSendCmd(), newRequestCmd(), withStateAt(newStateCmd()), newNodesCmd(), newReplayCmd(),
		newEventsCmd(), newVerifyCmd(), newTreeCmd(), newDemoCmd())
	return root
}
