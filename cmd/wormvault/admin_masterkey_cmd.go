package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

func newAdminRotateMasterKeyCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-master-key",
		Short: "Replace the server's master key, re-wrapping every key under it (root only)",
		Long: `rotate-master-key makes the server create a new master key and re-wrap
under it everything the old one protected: the data keys of SERVICE-encrypted
archives, KMS key material, MFA secrets and the receipt signing key; the
catalog's own encryption is re-keyed too. No archive byte is rewritten.

The new key replaces master.key (or the --master-key-file of serve); the old
key is kept beside it as master.key.old-<time>, which this command prints.
Once no backup of the catalog or the drives still needs it, destroy that
file: journal entries written before the rotation stay readable with it.

Once root has a confirmed MFA device, a rotation also needs --mfa.

A rotation cut short (crash, restart) is finished when the server next
starts, or by running this command again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			rep, err := c.RotateMasterKey(cmd.Context())
			if err != nil {
				return err
			}
			return a.output(rep, func(w io.Writer) error {
				verb := "rotated"
				if rep.GetResumed() {
					verb = "finished rotating"
				}
				fmt.Fprintf(w, "%s the master key: %s -> %s\n", verb, rep.GetOldKeyId(), rep.GetNewKeyId())
				fmt.Fprintf(w, "re-wrapped %d archive versions, %d KMS keys, %d MFA devices\n",
					rep.GetRewrappedVersions(), rep.GetRewrappedKmsKeys(), rep.GetRewrappedMfaDevices())
				if s := rep.GetSkippedVersions(); len(s) > 0 {
					fmt.Fprintf(w, "left as they were (their key unwraps under no master key: damaged): %s\n", strings.Join(s, ", "))
				}
				_, err := fmt.Fprintf(w, "the old key is kept in %s (on the server): destroy it once no backup needs it\n", rep.GetOldKeyFile())
				return err
			})
		},
	}
}
