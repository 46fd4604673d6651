package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

func newPrincipalCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "principal",
		Short: "Create, list, inspect and delete principals and set their identity policies",
		Long: `A principal is an identity other than root. It starts with no access keys
("wormvault key create") and no identity policy, so it is denied everything
until "principal policy set" allows it some actions.`,
	}
	cmd.AddCommand(newPrincipalCreateCmd(a), newPrincipalGetCmd(a), newPrincipalLsCmd(a), newPrincipalRmCmd(a), newPrincipalPolicyCmd(a))
	return cmd
}

func principalFields(p *wormvaultv1.Principal) [][2]string {
	return [][2]string{
		{"name", p.GetName()},
		{"created", formatTime(p.GetCreateTime())},
	}
}

func (a *app) printPrincipal(p *wormvaultv1.Principal) error {
	return a.output(p, func(w io.Writer) error { return writeFields(w, principalFields(p)) })
}

func newPrincipalCreateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "create NAME",
		Short: "Create a principal with no keys and no policy",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			p, err := c.CreatePrincipal(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printPrincipal(p)
		},
	}
}

func newPrincipalGetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME",
		Short: "Show one principal",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			p, err := c.GetPrincipal(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printPrincipal(p)
		},
	}
}

func newPrincipalLsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List principals, root first",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			tw := newTable(a.stdout)
			if !a.json {
				row(tw, "NAME", "CREATED")
			}
			for p, err := range c.ListPrincipals(cmd.Context()) {
				if err != nil {
					return err
				}
				if a.json {
					if err := writeJSONLine(a.stdout, p); err != nil {
						return err
					}
					continue
				}
				row(tw, p.GetName(), formatTime(p.GetCreateTime()))
			}
			return tw.Flush()
		},
	}
}

func newPrincipalRmCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"delete"},
		Short:   "Delete a principal and all its access keys",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeletePrincipal(cmd.Context(), args[0]); err != nil {
				return err
			}
			return a.output(&wormvaultv1.DeletePrincipalResponse{}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "deleted principal %s and its access keys\n", args[0])
				return err
			})
		},
	}
}

func newPrincipalPolicyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Set, show or remove a principal's identity policy",
	}
	cmd.AddCommand(newPrincipalPolicySetCmd(a), newPrincipalPolicyGetCmd(a), newPrincipalPolicyRmCmd(a))
	return cmd
}

func newPrincipalPolicySetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "set NAME FILE|-",
		Short: "Replace a principal's identity policy with a JSON document (- reads stdin)",
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
			if err := c.SetPrincipalPolicy(cmd.Context(), args[0], doc); err != nil {
				return err
			}
			return a.output(&wormvaultv1.SetPrincipalPolicyResponse{}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "set the identity policy of principal %s\n", args[0])
				return err
			})
		},
	}
}

func newPrincipalPolicyGetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME",
		Short: "Print a principal's identity policy document",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			doc, err := c.GetPrincipalPolicy(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.output(&wormvaultv1.GetPrincipalPolicyResponse{Policy: doc}, func(w io.Writer) error {
				if doc == "" {
					// stdout stays empty, so "get > FILE" never captures the note.
					_, err := fmt.Fprintf(a.stderr, "principal %s has no identity policy: it is denied everything\n", args[0])
					return err
				}
				_, err := io.WriteString(w, strings.TrimRight(doc, "\n")+"\n")
				return err
			})
		},
	}
}

func newPrincipalPolicyRmCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"delete"},
		Short:   "Remove a principal's identity policy (it is then denied everything)",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.SetPrincipalPolicy(cmd.Context(), args[0], ""); err != nil {
				return err
			}
			return a.output(&wormvaultv1.SetPrincipalPolicyResponse{}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "removed the identity policy of principal %s\n", args[0])
				return err
			})
		},
	}
}
