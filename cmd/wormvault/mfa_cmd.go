package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

func newMFACmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mfa",
		Short: "Register and confirm TOTP MFA devices (root only)",
		Long: `An MFA device is a TOTP authenticator (RFC 6238: 6 digits every 30 s).
"mfa register" prints its otpauth:// URL and secret once; add it to an
authenticator app, then "mfa confirm" it with a current code. From then on
a command proves MFA with --mfa "DEVICE CODE" (or $` + envMFA + `), as
permanent deletes in a vault with MFA delete need; each code works once.`,
	}
	cmd.AddCommand(newMFARegisterCmd(a), newMFAConfirmCmd(a))
	return cmd
}

func newMFARegisterCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "register NAME",
		Short: "Create an unconfirmed TOTP device; prints its otpauth URL and secret, shown only this once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			resp, err := c.RegisterMFADevice(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.output(resp, func(w io.Writer) error {
				if err := writeFields(w, [][2]string{
					{"device", args[0]},
					{"otpauth url", resp.GetOtpauthUrl()},
					{"secret", resp.GetSecret()},
				}); err != nil {
					return err
				}
				_, err := fmt.Fprintf(w, "\nthe secret is shown only this once: add it to an authenticator app, then confirm with:\n  wormvault mfa confirm %s CODE\n", args[0])
				return err
			})
		},
	}
}

func newMFAConfirmCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "confirm NAME CODE",
		Short: "Activate a registered device with a current code from it",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := args[1]; code == "" || strings.Trim(code, "0123456789") != "" {
				return usagef("code %q: want the digits the device shows", code)
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.ConfirmMFADevice(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			return a.output(&wormvaultv1.ConfirmMFADeviceResponse{}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "confirmed MFA device %s; prove MFA with --mfa \"%s CODE\"\n", args[0], args[0])
				return err
			})
		},
	}
}
