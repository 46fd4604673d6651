package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

func newLockCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lock",
		Short: "Initiate, complete, abort or show a vault's Vault Lock",
		Long: `Vault Lock attaches a policy of DENY statements to a vault for good.

"lock initiate" attaches it IN_PROGRESS for 24 hours, enforced at once so it
can be tested; "lock complete" with the lock id makes it LOCKED, after which
nobody, root included, can change or remove it; "lock abort" removes a lock
that is still IN_PROGRESS.`,
	}
	cmd.AddCommand(newLockInitiateCmd(a), newLockCompleteCmd(a), newLockAbortCmd(a), newLockGetCmd(a))
	return cmd
}

// readPolicy reads a policy document from path, or from stdin when path is
// "-". An empty document is a usage error.
func (a *app) readPolicy(path string) (string, error) {
	var (
		b   []byte
		err error
	)
	if path == "-" {
		b, err = io.ReadAll(a.stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		if path == "-" {
			return "", usagef("the policy on stdin is empty")
		}
		return "", usagef("policy file %s is empty", path)
	}
	return string(b), nil
}

// formatPolicy indents a JSON policy document for reading; a document that
// is not JSON is returned as it is. The result ends in a newline.
func formatPolicy(doc string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(strings.TrimSpace(doc)), "", "  "); err != nil {
		return strings.TrimRight(doc, "\n") + "\n"
	}
	buf.WriteByte('\n')
	return buf.String()
}

// lockStateName prints a lock state as IN_PROGRESS / LOCKED.
func lockStateName(s wormvaultv1.VaultLockState) string {
	return strings.TrimPrefix(s.String(), "VAULT_LOCK_STATE_")
}

func newLockInitiateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "initiate VAULT POLICY.json|-",
		Short: "Attach a lock policy IN_PROGRESS (DENY statements only); prints the lock id",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := a.readPolicy(args[1])
			if err != nil {
				return err
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			resp, err := c.InitiateVaultLock(cmd.Context(), args[0], doc)
			if err != nil {
				return err
			}
			return a.output(resp, func(w io.Writer) error {
				if err := writeFields(w, [][2]string{
					{"lock id", resp.GetLockId()},
					{"expires", formatTime(resp.GetExpireTime())},
				}); err != nil {
					return err
				}
				_, err := fmt.Fprintf(w, "\nthe policy is enforced now; make it permanent with:\n  wormvault lock complete %s %s\n", args[0], resp.GetLockId())
				return err
			})
		},
	}
}

func newLockCompleteCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "complete VAULT LOCK_ID",
		Short: "Make an in-progress lock LOCKED: immutable forever",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.CompleteVaultLock(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			return a.output(&wormvaultv1.CompleteVaultLockResponse{}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "vault %s is LOCKED; its lock policy can never be changed or removed\n", args[0])
				return err
			})
		},
	}
}

func newLockAbortCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "abort VAULT",
		Short: "Remove a lock that is still IN_PROGRESS",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.AbortVaultLock(cmd.Context(), args[0]); err != nil {
				return err
			}
			return a.output(&wormvaultv1.AbortVaultLockResponse{}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "aborted the vault lock of %s\n", args[0])
				return err
			})
		},
	}
}

func newLockGetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "get VAULT",
		Short: "Show a vault's lock: state, times and policy",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			resp, err := c.GetVaultLock(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.output(resp, func(w io.Writer) error { return writeVaultLock(w, resp) })
		},
	}
}

// writeVaultLock prints a lock's state and times, then its policy. A LOCKED
// lock never expires.
func writeVaultLock(w io.Writer, l *wormvaultv1.GetVaultLockResponse) error {
	expires := formatTime(l.GetExpireTime())
	if l.GetState() == wormvaultv1.VaultLockState_VAULT_LOCK_STATE_LOCKED {
		expires = "never (locked)"
	}
	if err := writeFields(w, [][2]string{
		{"state", lockStateName(l.GetState())},
		{"created", formatTime(l.GetCreateTime())},
		{"expires", expires},
	}); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\npolicy:\n%s", formatPolicy(l.GetPolicy()))
	return err
}
