package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

func newVaultCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vault",
		Short: "Create, list, inspect, update and delete vaults",
	}
	cmd.AddCommand(newVaultCreateCmd(a), newVaultLsCmd(a), newVaultGetCmd(a), newVaultRmCmd(a), newVaultUpdateCmd(a), newVaultCorsCmd(a))
	return cmd
}

func (a *app) printVault(v *wormvaultv1.Vault) error {
	return a.output(v, func(w io.Writer) error {
		return writeFields(w, append(vaultFields(v), [2]string{"default encryption", formatEncryption(v.GetDefaultEncryption())}))
	})
}

func newVaultCreateCmd(a *app) *cobra.Command {
	var retention, encryption string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an empty vault",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts []client.VaultOption
			if retention != "" {
				d, err := wormvault.ParseRetentionSpec(retention)
				if err != nil {
					return usagef("--retention: %w", err)
				}
				opts = append(opts, client.WithDefaultRetention(d))
			}
			if encryption != "" {
				o, err := parseEncryption(encryption)
				if err != nil {
					return err
				}
				opts = append(opts, o)
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			v, err := c.CreateVault(cmd.Context(), args[0], opts...)
			if err != nil {
				return err
			}
			return a.printVault(v)
		},
	}
	cmd.Flags().StringVar(&retention, "retention", "", "default retention of new versions, `MODE:PERIOD` such as governance:30d or compliance:7y")
	cmd.Flags().StringVar(&encryption, "encryption", "", "default encryption of new versions: `service` (the default) or kms:KEY")
	return cmd
}

func newVaultLsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List vaults",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			tw := newTable(a.stdout)
			if !a.json {
				row(tw, "NAME", "CREATED", "DEFAULT RETENTION", "MAX RETENTION")
			}
			for v, err := range c.ListVaults(cmd.Context()) {
				if err != nil {
					return err
				}
				if a.json {
					if err := writeJSONLine(a.stdout, v); err != nil {
						return err
					}
					continue
				}
				row(tw, v.GetName(), formatTime(v.GetCreateTime()), formatDefaultRetention(v.GetDefaultRetention()), formatMaxRetention(v))
			}
			return tw.Flush()
		},
	}
}

func newVaultGetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME",
		Short: "Show one vault",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			v, err := c.GetVault(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printVault(v)
		},
	}
}

func newVaultRmCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"delete"},
		Short:   "Delete a vault that holds no versions",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeleteVault(cmd.Context(), args[0]); err != nil {
				return err
			}
			return a.output(&wormvaultv1.DeleteVaultResponse{}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "deleted vault %s\n", args[0])
				return err
			})
		},
	}
}

func newVaultUpdateCmd(a *app) *cobra.Command {
	var (
		retention, maxRetention string
		noRetention, mfaDelete  bool
		logTo, logPrefix        string
		noLog                   bool
		encryption              string
	)
	cmd := &cobra.Command{
		Use:   "update NAME",
		Short: "Change a vault's default retention, maximum retention or MFA delete",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts []client.VaultOption
			switch {
			case retention != "":
				d, err := wormvault.ParseRetentionSpec(retention)
				if err != nil {
					return usagef("--retention: %w", err)
				}
				opts = append(opts, client.WithDefaultRetention(d))
			case noRetention:
				opts = append(opts, client.WithoutDefaultRetention())
			}
			if maxRetention != "" {
				d, err := parsePeriod(maxRetention)
				if err != nil {
					return err
				}
				opts = append(opts, client.WithMaxRetention(d))
			}
			if cmd.Flags().Changed("mfa-delete") {
				opts = append(opts, client.WithMFADelete(mfaDelete))
			}
			switch {
			case logTo != "":
				opts = append(opts, client.WithLogging(logTo, logPrefix))
			case noLog:
				opts = append(opts, client.WithoutLogging())
			case logPrefix != "":
				return usagef("--log-prefix needs --log-to")
			}
			if encryption != "" {
				o, err := parseEncryption(encryption)
				if err != nil {
					return err
				}
				opts = append(opts, o)
			}
			if len(opts) == 0 {
				return usagef("nothing to change: give --retention, --no-retention, --max-retention, --mfa-delete, --log-to or --no-log")
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			v, err := c.UpdateVault(cmd.Context(), args[0], opts...)
			if err != nil {
				return err
			}
			return a.printVault(v)
		},
	}
	f := cmd.Flags()
	f.StringVar(&retention, "retention", "", "new default retention, `MODE:PERIOD` such as governance:30d or compliance:7y")
	f.BoolVar(&noRetention, "no-retention", false, "remove the default retention")
	f.StringVar(&maxRetention, "max-retention", "", "cap on new retain-until times, `PERIOD` such as 10y or 30d")
	f.BoolVar(&mfaDelete, "mfa-delete", false, "require MFA for permanent deletes (--mfa-delete=false turns it off); root only, with --mfa")
	f.StringVar(&logTo, "log-to", "", "deliver a record of every request against this vault into `VAULT` (JSON lines archives)")
	f.StringVar(&logPrefix, "log-prefix", "", "key prefix of the log archives in the --log-to vault, such as access/")
	f.BoolVar(&noLog, "no-log", false, "turn access logging off")
	f.StringVar(&encryption, "encryption", "", "new default encryption of new versions: `service` or kms:KEY")
	cmd.MarkFlagsMutuallyExclusive("retention", "no-retention")
	cmd.MarkFlagsMutuallyExclusive("log-to", "no-log")
	return cmd
}
