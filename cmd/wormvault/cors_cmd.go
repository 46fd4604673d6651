package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"

	client "github.com/wormvault/wormvault/clients/go"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// newVaultCorsCmd is `wormvault vault cors`: a vault's CORS rules, as the
// JSON of wormvault.v1.VaultCors.
func newVaultCorsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cors",
		Short: "Show or replace the web origins that may call a vault's REST routes from a browser",
		Long: `Show or replace a vault's CORS rules, as S3 defines them. They decide which
web origins a browser lets call the vault's REST routes
(/v1/vaults/NAME/... on serve --http-listen). The document is JSON:

  {"rules": [{"allowed_origins": ["https://app.example.com"],
              "allowed_methods": ["GET", "PUT"],
              "allowed_headers": ["authorization", "content-type"],
              "expose_headers": ["x-wormvault-version-id"],
              "max_age_seconds": 3600}]}

Origins are scheme://host[:port], compared exactly, with one * wildcard
each at most; at most 100 rules; the first rule that matches answers.`,
	}
	cmd.AddCommand(newVaultCorsSetCmd(a), newVaultCorsGetCmd(a), newVaultCorsRmCmd(a))
	return cmd
}

func newVaultCorsSetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "set NAME FILE",
		Short: "Replace a vault's CORS rules with those in FILE (- for stdin)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var (
				doc []byte
				err error
			)
			if args[1] == "-" {
				doc, err = io.ReadAll(a.stdin)
			} else {
				doc, err = os.ReadFile(args[1])
			}
			if err != nil {
				return err
			}
			var rules wormvaultv1.VaultCors
			if err := protojson.Unmarshal(doc, &rules); err != nil {
				return usagef("%s: not a CORS document: %v", args[1], err)
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			v, err := c.UpdateVault(cmd.Context(), args[0], client.WithCORS(rules.GetRules()...))
			if err != nil {
				return err
			}
			return a.printCORS(v)
		},
	}
}

func newVaultCorsGetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME",
		Short: "Show a vault's CORS rules",
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
			return a.printCORS(v)
		},
	}
}

func newVaultCorsRmCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"delete"},
		Short:   "Remove a vault's CORS rules: no origin may call its REST routes from a browser",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			v, err := c.UpdateVault(cmd.Context(), args[0], client.WithCORS())
			if err != nil {
				return err
			}
			return a.printCORS(v)
		},
	}
}

// printCORS prints the vault's rules as their JSON document either way:
// it is what `cors set` reads.
func (a *app) printCORS(v *wormvaultv1.Vault) error {
	rules := v.GetCors()
	if rules == nil {
		rules = &wormvaultv1.VaultCors{}
	}
	return a.output(rules, func(w io.Writer) error {
		if len(rules.GetRules()) == 0 {
			_, err := fmt.Fprintf(w, "vault %s has no CORS rules\n", v.GetName())
			return err
		}
		return writeJSON(w, rules)
	})
}
