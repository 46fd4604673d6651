package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

func newKeyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Create, list and delete principals' access keys",
		Long: `An access key is the bearer token KEYID.SECRET a principal authenticates
with (--token or $` + envToken + `). The server keeps only a hash of the
secret, so "key create" shows the token once and never again.`,
	}
	cmd.AddCommand(newKeyCreateCmd(a), newKeyLsCmd(a), newKeyRmCmd(a))
	return cmd
}

// tokenResponse splits a token back into the key id and secret the server
// sent, for --json.
func tokenResponse(token string) (keyID, secret string) {
	keyID, secret, _ = strings.Cut(token, ".")
	return keyID, secret
}

func newKeyCreateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "create PRINCIPAL",
		Short: "Create an access key; prints its token KEYID.SECRET, shown only this once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			_, token, err := c.CreateAccessKey(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			id, secret := tokenResponse(token)
			return a.output(&wormvaultv1.CreateAccessKeyResponse{KeyId: id, Secret: secret}, func(w io.Writer) error {
				// The token alone on stdout, so TOKEN=$(wormvault key create P) works.
				fmt.Fprintf(a.stderr, "access key %s for principal %s; its token is shown only this once, store it now:\n", id, args[0])
				_, err := fmt.Fprintln(w, token)
				return err
			})
		},
	}
}

func newKeyLsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "ls PRINCIPAL",
		Aliases: []string{"list"},
		Short:   "List a principal's access keys (never their secrets)",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			keys, err := c.ListAccessKeys(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json {
				for _, k := range keys {
					if err := writeJSONLine(a.stdout, k); err != nil {
						return err
					}
				}
				return nil
			}
			tw := newTable(a.stdout)
			row(tw, "KEY ID", "PRINCIPAL", "CREATED")
			for _, k := range keys {
				row(tw, k.GetKeyId(), k.GetPrincipal(), formatTime(k.GetCreateTime()))
			}
			return tw.Flush()
		},
	}
}

func newKeyRmCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "rm KEY_ID",
		Aliases: []string{"delete"},
		Short:   "Delete an access key; its token is refused from then on",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keyID := args[0]
			if strings.Contains(keyID, ".") {
				return usagef("give the key id only, not the token KEYID.SECRET")
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeleteAccessKey(cmd.Context(), keyID); err != nil {
				return err
			}
			return a.output(&wormvaultv1.DeleteAccessKeyResponse{}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "deleted access key %s\n", keyID)
				return err
			})
		},
	}
}

func newAdminRotateRootCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-root",
		Short: "Replace root's access keys with a new one and print its token (root only)",
		Long: `rotate-root creates a new root access key and deletes every other one: the
old root token stops working at once. The new token is printed once; the
server also rewrites root.credentials in its data directory
(` + credentialsFile + ` by default) with it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			token, err := c.RotateRootKey(cmd.Context())
			if err != nil {
				return err
			}
			id, secret := tokenResponse(token)
			return a.output(&wormvaultv1.RotateRootKeyResponse{KeyId: id, Secret: secret}, func(w io.Writer) error {
				fmt.Fprintf(a.stderr, "rotated the root access key: the old root token is refused from now on.\n"+
					"The server also rewrote root.credentials in its data directory (%s by default)\n"+
					"with the new root token:\n", credentialsFile)
				_, err := fmt.Fprintln(w, token)
				return err
			})
		},
	}
}
