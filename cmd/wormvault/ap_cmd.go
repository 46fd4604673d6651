package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

func newAPCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "ap",
		Aliases: []string{"access-point"},
		Short:   "Manage access points: named doors to a vault with their own policy and network origin",
		Long: `An access point is a named entry point to one vault, with its own policy
and the CIDRs its requests must come from. Every archive command takes
ap/NAME wherever it takes a vault:

  wormvault put ap/payroll 2026/03.csv ./03.csv

The request then acts on the access point's vault, only from an address in
--allow-cidr (else PERMISSION_DENIED, reason NETWORK_ORIGIN), and only if
no policy denies it (vault lock, vault access policy, identity policy,
access point policy), the access point's policy allows it (root excepted)
and the vault's access policy or the caller's identity policy allows it
(root excepted). Retention, legal holds and the vault lock bind it exactly
as a direct request.`,
	}
	cmd.AddCommand(newAPCreateCmd(a), newAPGetCmd(a), newAPLsCmd(a), newAPSetPolicyCmd(a), newAPRmCmd(a))
	return cmd
}

// apName accepts an access point as NAME or ap/NAME.
func apName(arg string) string {
	if name, ok := wormvault.AccessPointOf(arg); ok {
		return name
	}
	return arg
}

func apFields(ap *wormvaultv1.AccessPoint) [][2]string {
	policy := "(none: only root may use it)"
	if ap.GetPolicy() != "" {
		policy = strings.TrimRight(formatPolicy(ap.GetPolicy()), "\n")
	}
	return [][2]string{
		{"name", wormvault.AccessPointPrefix + ap.GetName()},
		{"vault", ap.GetVault()},
		{"allowed cidrs", strings.Join(ap.GetNetworkOrigin().GetAllowedCidrs(), ", ")},
		{"created", formatTime(ap.GetCreateTime())},
		{"policy", policy},
	}
}

func (a *app) printAccessPoint(ap *wormvaultv1.AccessPoint) error {
	return a.output(ap, func(w io.Writer) error { return writeFields(w, apFields(ap)) })
}

func newAPCreateCmd(a *app) *cobra.Command {
	var (
		vault, policyFile string
		cidrs             []string
	)
	cmd := &cobra.Command{
		Use:   "create NAME --vault VAULT --allow-cidr CIDR... [--policy FILE|-]",
		Short: "Create an access point to a vault",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if vault == "" {
				return usagef("--vault is required")
			}
			if len(cidrs) == 0 {
				return usagef("--allow-cidr is required: the CIDRs requests through the access point may come from (0.0.0.0/0 and ::/0 for anywhere)")
			}
			doc := ""
			if policyFile != "" {
				var err error
				if doc, err = a.readPolicy(policyFile); err != nil {
					return err
				}
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			ap, err := c.CreateAccessPoint(cmd.Context(), apName(args[0]), vault, doc, cidrs)
			if err != nil {
				return err
			}
			return a.printAccessPoint(ap)
		},
	}
	f := cmd.Flags()
	f.StringVar(&vault, "vault", "", "the `VAULT` the access point leads to")
	f.StringArrayVar(&cidrs, "allow-cidr", nil, "`CIDR` requests through the access point may come from (repeatable; at least one)")
	f.StringVar(&policyFile, "policy", "", "the access point's policy, a JSON `FILE` (- reads stdin); none: only root may use it")
	return cmd
}

// apCmd is a command that takes one access point and prints it after do.
func apCmd(a *app, use, short string, do func(ctx context.Context, c *client.Client, name string) (*wormvaultv1.AccessPoint, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			ap, err := do(cmd.Context(), c, apName(args[0]))
			if err != nil {
				return err
			}
			return a.printAccessPoint(ap)
		},
	}
}

func newAPGetCmd(a *app) *cobra.Command {
	return apCmd(a, "get NAME", "Show one access point", func(ctx context.Context, c *client.Client, name string) (*wormvaultv1.AccessPoint, error) {
		return c.GetAccessPoint(ctx, name)
	})
}

func newAPSetPolicyCmd(a *app) *cobra.Command {
	var none bool
	cmd := &cobra.Command{
		Use:   "set-policy NAME (FILE|- | --none)",
		Short: "Replace an access point's policy with a JSON document (- reads stdin)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc := ""
			switch {
			case none && len(args) == 2:
				return usagef("give a policy FILE or --none, not both")
			case !none && len(args) == 1:
				return usagef("give a policy FILE (- reads stdin), or --none")
			case !none:
				var err error
				if doc, err = a.readPolicy(args[1]); err != nil {
					return err
				}
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			ap, err := c.UpdateAccessPointPolicy(cmd.Context(), apName(args[0]), doc)
			if err != nil {
				return err
			}
			return a.printAccessPoint(ap)
		},
	}
	cmd.Flags().BoolVar(&none, "none", false, "remove the policy: only root may use the access point")
	return cmd
}

func newAPLsCmd(a *app) *cobra.Command {
	var vault string
	cmd := &cobra.Command{
		Use:     "ls [--vault VAULT]",
		Aliases: []string{"list"},
		Short:   "List access points",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			tw := newTable(a.stdout)
			if !a.json {
				row(tw, "NAME", "VAULT", "ALLOWED CIDRS", "POLICY", "CREATED")
			}
			for ap, err := range c.ListAccessPoints(cmd.Context(), vault) {
				if err != nil {
					return err
				}
				if a.json {
					if err := writeJSONLine(a.stdout, ap); err != nil {
						return err
					}
					continue
				}
				policy := "none"
				if ap.GetPolicy() != "" {
					policy = fmt.Sprintf("%d bytes", len(ap.GetPolicy()))
				}
				row(tw, wormvault.AccessPointPrefix+ap.GetName(), ap.GetVault(), strings.Join(ap.GetNetworkOrigin().GetAllowedCidrs(), ","), policy, formatTime(ap.GetCreateTime()))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&vault, "vault", "", "only the access points of this `VAULT`")
	return cmd
}

func newAPRmCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"delete"},
		Short:   "Delete an access point (its vault and archives stay)",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			name := apName(args[0])
			if err := c.DeleteAccessPoint(cmd.Context(), name); err != nil {
				return err
			}
			return a.output(&wormvaultv1.DeleteAccessPointResponse{}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "deleted access point %s%s\n", wormvault.AccessPointPrefix, name)
				return err
			})
		},
	}
}
