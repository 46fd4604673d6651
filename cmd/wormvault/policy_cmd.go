package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

func newPolicyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Set, show or remove a vault's access policy",
	}
	cmd.AddCommand(newPolicySetCmd(a), newPolicyGetCmd(a), newPolicyRmCmd(a))
	return cmd
}

func newPolicySetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "set VAULT FILE|-",
		Short: "Replace a vault's access policy with a JSON document (- reads stdin)",
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
			if err := c.SetVaultAccessPolicy(cmd.Context(), args[0], doc); err != nil {
				return err
			}
			return a.output(&wormvaultv1.SetVaultAccessPolicyResponse{}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "set the access policy of vault %s\n", args[0])
				return err
			})
		},
	}
}

func newPolicyGetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "get VAULT",
		Short: "Print a vault's access policy document",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			doc, err := c.GetVaultAccessPolicy(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.output(&wormvaultv1.GetVaultAccessPolicyResponse{Policy: doc}, func(w io.Writer) error {
				_, err := io.WriteString(w, strings.TrimRight(doc, "\n")+"\n")
				return err
			})
		},
	}
}

func newPolicyRmCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "rm VAULT",
		Aliases: []string{"delete"},
		Short:   "Remove a vault's access policy",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeleteVaultAccessPolicy(cmd.Context(), args[0]); err != nil {
				return err
			}
			return a.output(&wormvaultv1.DeleteVaultAccessPolicyResponse{}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "removed the access policy of vault %s\n", args[0])
				return err
			})
		},
	}
}
