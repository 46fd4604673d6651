package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	client "github.com/wormvault/wormvault/clients/go"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

func newKMSCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kms",
		Short: "Manage the server's built-in KMS keys",
		Long: `The built-in KMS keeps keys whose material never leaves the server.
"put --kms-key NAME" (or a vault created with --encryption kms:NAME) encrypts
an archive under one; reading it back needs the key enabled. Every use is in
the audit trail (KMS_GENERATE_DATA_KEY, KMS_DECRYPT).

A key that encrypts a version under retention or legal hold cannot be
scheduled for deletion, and can be disabled only for 1 to 30 days.`,
	}
	cmd.AddCommand(newKMSCreateCmd(a), newKMSGetCmd(a), newKMSLsCmd(a), newKMSDisableCmd(a), newKMSEnableCmd(a),
		newKMSRotateCmd(a), newKMSScheduleDeletionCmd(a), newKMSCancelDeletionCmd(a))
	return cmd
}

// keyStateName prints a key state as ENABLED, DISABLED, ...
func keyStateName(s wormvaultv1.KeyState) string { return strings.TrimPrefix(s.String(), "KEY_STATE_") }

func keyFields(k *wormvaultv1.Key) [][2]string {
	f := [][2]string{
		{"name", k.GetName()},
		{"state", keyStateName(k.GetState())},
		{"created", formatTime(k.GetCreateTime())},
		{"version", fmt.Sprintf("%d (of %d)", k.GetCurrentVersion(), k.GetVersionCount())},
	}
	if d := k.GetDescription(); d != "" {
		f = append(f, [2]string{"description", d})
	}
	if k.GetDisableUntil() != nil {
		f = append(f, [2]string{"disabled until", formatTime(k.GetDisableUntil())})
	}
	if k.GetDeletionTime() != nil {
		f = append(f, [2]string{"deletion time", formatTime(k.GetDeletionTime())})
	}
	return f
}

func (a *app) printKey(k *wormvaultv1.Key) error {
	return a.output(k, func(w io.Writer) error { return writeFields(w, keyFields(k)) })
}

// keyCmd is a command that takes one key name and prints the key after
// calling do.
func keyCmd(a *app, use, short string, do func(ctx context.Context, c *client.Client, name string) (*wormvaultv1.Key, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			k, err := do(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			return a.printKey(k)
		},
	}
}

func newKMSCreateCmd(a *app) *cobra.Command {
	var description string
	cmd := keyCmd(a, "create NAME", "Create an enabled KMS key", func(ctx context.Context, c *client.Client, name string) (*wormvaultv1.Key, error) {
		return c.CreateKey(ctx, name, description)
	})
	cmd.Flags().StringVar(&description, "description", "", "what the key is for")
	return cmd
}

func newKMSGetCmd(a *app) *cobra.Command {
	return keyCmd(a, "get NAME", "Show one KMS key", func(ctx context.Context, c *client.Client, name string) (*wormvaultv1.Key, error) {
		return c.GetKey(ctx, name)
	})
}

func newKMSLsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List KMS keys",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			tw := newTable(a.stdout)
			if !a.json {
				row(tw, "NAME", "STATE", "VERSION", "CREATED", "DESCRIPTION")
			}
			for k, err := range c.ListKeys(cmd.Context()) {
				if err != nil {
					return err
				}
				if a.json {
					if err := writeJSONLine(a.stdout, k); err != nil {
						return err
					}
					continue
				}
				row(tw, k.GetName(), keyStateName(k.GetState()), strconv.FormatUint(uint64(k.GetCurrentVersion()), 10), formatTime(k.GetCreateTime()), k.GetDescription())
			}
			return tw.Flush()
		},
	}
}

func newKMSDisableCmd(a *app) *cobra.Command {
	var days int32
	cmd := keyCmd(a, "disable NAME", "Disable a KMS key: its archives cannot be read until it is enabled again", func(ctx context.Context, c *client.Client, name string) (*wormvaultv1.Key, error) {
		return c.DisableKey(ctx, name, days)
	})
	cmd.Flags().Int32Var(&days, "days", 0, "enable the key again after this many days (0: only by `kms enable`; 1-30 while it encrypts a protected version)")
	return cmd
}

func newKMSEnableCmd(a *app) *cobra.Command {
	return keyCmd(a, "enable NAME", "Enable a disabled KMS key", func(ctx context.Context, c *client.Client, name string) (*wormvaultv1.Key, error) {
		return c.EnableKey(ctx, name)
	})
}

func newKMSRotateCmd(a *app) *cobra.Command {
	return keyCmd(a, "rotate NAME", "Give a KMS key new material for new uploads; older archives stay readable", func(ctx context.Context, c *client.Client, name string) (*wormvaultv1.Key, error) {
		return c.RotateKey(ctx, name)
	})
}

func newKMSScheduleDeletionCmd(a *app) *cobra.Command {
	var days int32
	cmd := keyCmd(a, "schedule-deletion NAME", "Make a KMS key unusable now and delete its material after --days", func(ctx context.Context, c *client.Client, name string) (*wormvaultv1.Key, error) {
		return c.ScheduleKeyDeletion(ctx, name, days)
	})
	cmd.Flags().Int32Var(&days, "days", 30, "pending window in days, 7 to 30")
	return cmd
}

func newKMSCancelDeletionCmd(a *app) *cobra.Command {
	return keyCmd(a, "cancel-deletion NAME", "Cancel a KMS key's scheduled deletion", func(ctx context.Context, c *client.Client, name string) (*wormvaultv1.Key, error) {
		return c.CancelKeyDeletion(ctx, name)
	})
}

// encryptionFields describe how an archive is encrypted at rest.
func encryptionFields(e *wormvaultv1.EncryptionInfo) [][2]string {
	if e == nil {
		return nil
	}
	return [][2]string{{"encryption", formatEncryption(e)}}
}

// formatEncryption prints "SERVICE", "KMS (key NAME)", "NONE".
func formatEncryption(e *wormvaultv1.EncryptionInfo) string {
	mode := strings.TrimPrefix(e.GetMode().String(), "ENCRYPTION_MODE_")
	if e.GetMode() == wormvaultv1.EncryptionMode_ENCRYPTION_MODE_UNSPECIFIED {
		mode = "SERVICE"
	}
	if k := e.GetKmsKey(); k != "" {
		return mode + " (key " + k + ")"
	}
	return mode
}

// parseEncryption reads --encryption: "service" or "kms:NAME".
func parseEncryption(spec string) (client.VaultOption, error) {
	switch mode, name, _ := strings.Cut(spec, ":"); strings.ToLower(mode) {
	case "service":
		if name == "" {
			return client.WithDefaultEncryptionService(), nil
		}
	case "kms":
		if name != "" {
			return client.WithDefaultEncryptionKMS(name), nil
		}
	}
	return nil, usagef("--encryption %q: want service or kms:KEY", spec)
}
