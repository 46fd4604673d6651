package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	client "github.com/wormvault/wormvault/clients/go"
)

func newAuditCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "List, verify or export the tamper-evident audit trail",
		Long: `The audit trail is a hash-chained log of every lock-relevant and
security-relevant change: vaults, retention, legal holds, governance bypasses,
Vault Lock, access policies, principals and keys, MFA, the clock, heals and
fixity reports.

"audit ls" lists events, "audit verify" has the server check the whole chain
and its signed checkpoints, "audit export" writes events as JSON lines.`,
	}
	cmd.AddCommand(newAuditLsCmd(a), newAuditVerifyCmd(a), newAuditExportCmd(a))
	return cmd
}

// auditFilter builds a filter from --vault, --kind and --since.
func auditFilter(vault, kind, since string) (client.AuditFilter, error) {
	f := client.AuditFilter{Vault: vault, Kind: strings.ToUpper(kind)}
	if since != "" {
		d, err := parsePeriod(since)
		if err != nil {
			return f, err
		}
		f.Since = time.Now().Add(-d)
	}
	return f, nil
}

// formatDetails prints details as sorted key=value pairs.
func formatDetails(d map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(d)) {
		if d[k] != "" {
			parts = append(parts, k+"="+d[k])
		}
	}
	return strings.Join(parts, " ")
}

func newAuditLsCmd(a *app) *cobra.Command {
	var vault, kind, since string
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List audit events, oldest first",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := auditFilter(vault, kind, since)
			if err != nil {
				return err
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			tw := newTable(a.stdout)
			if !a.json {
				row(tw, "SEQ", "TIME", "KIND", "PRINCIPAL", "VAULT", "KEY", "DETAILS")
			}
			for ev, err := range c.ListAuditEvents(cmd.Context(), f) {
				if err != nil {
					return err
				}
				if a.json {
					if err := writeJSONLine(a.stdout, ev); err != nil {
						return err
					}
					continue
				}
				key := ev.GetKey()
				if ev.GetVersionId() != "" {
					key += "@" + ev.GetVersionId()
				}
				row(tw, fmt.Sprint(ev.GetSequence()), formatTime(ev.GetTime()), ev.GetKind(), dash(ev.GetPrincipal()), dash(ev.GetVault()), dash(key), formatDetails(ev.GetDetails()))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&vault, "vault", "", "only events of this vault")
	cmd.Flags().StringVar(&kind, "kind", "", "only events of this kind (VAULT_CREATE, RETENTION_SET, ...)")
	cmd.Flags().StringVar(&since, "since", "", "only events newer than this (24h, 30d, 1y)")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newAuditVerifyCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Verify the whole audit trail; exits 1 when it does not verify",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			r, err := c.VerifyAuditTrail(cmd.Context())
			if err != nil {
				return err
			}
			if err := a.output(r, func(w io.Writer) error {
				if r.GetOk() {
					_, err := fmt.Fprintf(w, "audit trail OK: %d events verified\n", r.GetEventsChecked())
					return err
				}
				_, err := fmt.Fprintf(w, "audit trail DOES NOT VERIFY at sequence %d: %s (%d events verified before it)\n",
					r.GetFirstBadSequence(), r.GetReason(), r.GetEventsChecked())
				return err
			}); err != nil {
				return err
			}
			if !r.GetOk() {
				return &exitError{code: exitFailure, err: fmt.Errorf("the audit trail does not verify at sequence %d", r.GetFirstBadSequence())}
			}
			return nil
		},
	}
}

func newAuditExportCmd(a *app) *cobra.Command {
	var vault, kind, since string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write audit events to stdout as JSON lines, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := auditFilter(vault, kind, since)
			if err != nil {
				return err
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			for ev, err := range c.ListAuditEvents(cmd.Context(), f) {
				if err != nil {
					return err
				}
				if err := writeJSONLine(a.stdout, ev); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "only events newer than this (24h, 30d, 1y)")
	cmd.Flags().StringVar(&vault, "vault", "", "only events of this vault")
	cmd.Flags().StringVar(&kind, "kind", "", "only events of this kind")
	return cmd
}
