// Command wormvault is the wormvault server and its command-line client.
//
// Every client command is a thin layer over the Go SDK (clients/go): flags
// become SDK calls, responses become tables or, with --json, protojson.
//
// Exit codes: 0 success; 1 the server refused or the operation failed; 2 the
// command line was wrong.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	client "github.com/wormvault/wormvault/clients/go"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run executes one command line and returns its exit code. It is main
// without the process: tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	defer a.close()
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	code := exitCode(err)
	if err != nil {
		reportError(stderr, cmd, code, err)
	}
	return code
}

// exitError carries the exit code of a failed command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usagef reports a command line that cannot be run: exit code 2.
func usagef(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// exitCode maps the error a command returned to the process exit code.
// Errors that did not come from a command's RunE come from cobra itself
// (unknown command, bad flag, wrong number of arguments): usage errors.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	if ee := (*exitError)(nil); errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}

// reportError prints err the way users see it: a server refusal as
// "wormvault: CODE: MESSAGE (reason REASON)", a usage error with a pointer to
// --help.
func reportError(w io.Writer, cmd *cobra.Command, code int, err error) {
	if ce := (*client.Error)(nil); errors.As(err, &ce) {
		fmt.Fprintln(w, ce.Error())
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "wormvault") {
		msg = "wormvault: " + msg
	}
	fmt.Fprintln(w, msg)
	if code == exitUsage && cmd != nil {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
}

// newRootCmd builds the whole command tree.
func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "wormvault",
		Short:         "WORM archival vault: server and client",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usagef("%w", err) })
	a.addGlobalFlags(root)
	root.AddCommand(
		newVaultCmd(a),
		newPutCmd(a),
		newGetCmd(a),
		newBatchCmd(a),
		newLsCmd(a),
		newStatCmd(a),
		newRmCmd(a),
		newRetentionCmd(a),
		newHoldCmd(a),
		newWhyCmd(a),
		newLockCmd(a),
		newPolicyCmd(a),
		newAPCmd(a),
		newAuditCmd(a),
		newReceiptCmd(a),
		newLogsCmd(a),
		newPrincipalCmd(a),
		newKeyCmd(a),
		newKMSCmd(a),
		newClientKeyCmd(a),
		newMFACmd(a),
		newAdminCmd(a),
		newServeCmd(),
	)
	groupCmds(root)
	markRunErrors(root)
	return root
}

// groupCmds makes every command that only groups subcommands print its help when
// called bare and refuse an unknown subcommand as a usage error (cobra would
// print help and succeed).
func groupCmds(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		groupCmds(sub)
	}
	if cmd.Runnable() || !cmd.HasSubCommands() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usagef("unknown command %q for %q", args[0], c.CommandPath())
		}
		return c.Help()
	}
}

// markRunErrors makes every error a command's RunE returns an exit-1 error
// unless the command already chose a code, so cobra's own errors are the
// only ones left unmarked.
func markRunErrors(cmd *cobra.Command) {
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			err := run(c, args)
			if err == nil {
				return nil
			}
			if ee := (*exitError)(nil); errors.As(err, &ee) {
				return err
			}
			return &exitError{code: exitFailure, err: err}
		}
	}
	for _, sub := range cmd.Commands() {
		markRunErrors(sub)
	}
}
