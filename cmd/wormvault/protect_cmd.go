package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

func newRetentionCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "retention",
		Short: "Set or show a version's retention",
	}
	cmd.AddCommand(newRetentionSetCmd(a), newRetentionGetCmd(a))
	return cmd
}

func newRetentionSetCmd(a *app) *cobra.Command {
	var (
		version, mode, until string
		bypass, remove       bool
	)
	cmd := &cobra.Command{
		Use:   "set VAULT KEY [MODE:PERIOD]",
		Short: "Set, extend, shorten or remove a version's retention",
		Long: `Set a version's retention, either as MODE:PERIOD (retain until now + period,
e.g. compliance:7y) or with --mode MODE --until RFC3339. --remove removes it.
Shortening or removing GOVERNANCE retention needs --bypass-governance;
COMPLIANCE retention can only be extended.`,
		Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec := ""
			if len(args) == 3 {
				spec = args[2]
			}
			var r wormvault.Retention
			if remove {
				if spec != "" || mode != "" || until != "" {
					return usagef("--remove takes no retention")
				}
			} else {
				var set bool
				var err error
				if r, set, err = parseRetention(spec, mode, until, time.Now()); err != nil {
					return err
				}
				if !set {
					return usagef("give MODE:PERIOD, --mode with --until, or --remove")
				}
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			ar, err := c.SetRetention(cmd.Context(), args[0], args[1], version, r, bypass)
			if err != nil {
				return err
			}
			return a.output(ar, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "%s/%s version %s: retention %s\n", ar.GetVault(), ar.GetKey(), ar.GetVersionId(), formatRetention(ar.GetRetention()))
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&version, "version", "", "version id (default the latest)")
	f.StringVar(&mode, "mode", "", "retention `MODE`: governance or compliance")
	f.StringVar(&until, "until", "", "retain-until `TIME` in RFC 3339")
	f.BoolVar(&bypass, "bypass-governance", false, "bypass GOVERNANCE retention (needs the permission)")
	f.BoolVar(&remove, "remove", false, "remove the retention (GOVERNANCE only, with --bypass-governance)")
	return cmd
}

func newRetentionGetCmd(a *app) *cobra.Command {
	var version string
	cmd := &cobra.Command{
		Use:   "get VAULT KEY",
		Short: "Show a version's retention",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			resp, err := c.GetRetention(cmd.Context(), args[0], args[1], version)
			if err != nil {
				return err
			}
			return a.output(resp, func(w io.Writer) error {
				r := resp.GetRetention()
				if r == nil || r.GetMode() == wormvaultv1.RetentionMode_RETENTION_MODE_UNSPECIFIED {
					_, err := fmt.Fprintf(w, "version %s has no retention\n", resp.GetVersionId())
					return err
				}
				return writeFields(w, [][2]string{
					{"version", resp.GetVersionId()},
					{"mode", modeName(r.GetMode())},
					{"retain until", formatTime(r.GetRetainUntilTime())},
					{"from vault default", yesNo(r.GetFromDefault())},
				})
			})
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "version id (default the latest)")
	return cmd
}

func newHoldCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hold",
		Short: "Place, release or show legal holds",
	}
	cmd.AddCommand(newHoldSetCmd(a, true), newHoldSetCmd(a, false), newHoldGetCmd(a))
	return cmd
}

func newHoldSetCmd(a *app, on bool) *cobra.Command {
	var version, id, reason string
	use, short, verb := "on", "Place a legal hold on a version", "placed"
	if !on {
		use, short, verb = "off", "Release a legal hold", "released"
	}
	cmd := &cobra.Command{
		Use:   use + " VAULT KEY",
		Short: short,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			ar, err := c.SetLegalHold(cmd.Context(), args[0], args[1], version, on, id, reason)
			if err != nil {
				return err
			}
			return a.output(ar, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "%s legal hold %s on %s/%s version %s; holds now: %s\n",
					verb, firstNonEmpty(id, wormvault.DefaultHoldID), ar.GetVault(), ar.GetKey(), ar.GetVersionId(), formatHolds(ar))
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&version, "version", "", "version id (default the latest)")
	f.StringVar(&id, "id", "", "hold `ID` (default \""+wormvault.DefaultHoldID+"\")")
	if on {
		f.StringVar(&reason, "reason", "", "why the hold is placed")
	}
	return cmd
}

func newHoldGetCmd(a *app) *cobra.Command {
	var version string
	cmd := &cobra.Command{
		Use:   "get VAULT KEY",
		Short: "List the legal holds on a version",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			resp, err := c.GetLegalHold(cmd.Context(), args[0], args[1], version)
			if err != nil {
				return err
			}
			return a.output(resp, func(w io.Writer) error {
				if !resp.GetLegalHold() {
					_, err := fmt.Fprintf(w, "version %s has no legal hold\n", resp.GetVersionId())
					return err
				}
				tw := newTable(w)
				row(tw, "HOLD", "SET BY", "SET", "REASON")
				for _, h := range resp.GetHolds() {
					row(tw, h.GetHoldId(), h.GetSetBy(), formatTime(h.GetSetTime()), h.GetReason())
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "version id (default the latest)")
	return cmd
}

func newWhyCmd(a *app) *cobra.Command {
	var version string
	cmd := &cobra.Command{
		Use:   "why VAULT KEY",
		Short: "Explain what stops a version from being deleted, and until when",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			resp, err := c.ExplainProtection(cmd.Context(), args[0], args[1], version)
			if err != nil {
				return err
			}
			return a.output(resp, func(w io.Writer) error { return writeProtection(w, args[0], args[1], resp) })
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "version id (default the latest)")
	return cmd
}

func writeProtection(w io.Writer, vault, key string, resp *wormvaultv1.ExplainProtectionResponse) error {
	if len(resp.GetProtections()) == 0 {
		verdict := "nothing protects it"
		if !resp.GetDeletable() {
			verdict = "not deletable, though the server named no protection"
		}
		_, err := fmt.Fprintf(w, "%s/%s version %s: %s\n", vault, key, resp.GetVersionId(), verdict)
		return err
	}
	verdict := "protected; a permanent delete is refused now"
	if resp.GetDeletable() {
		verdict = "deletable now, subject to"
	}
	fmt.Fprintf(w, "%s/%s version %s: %s\n\n", vault, key, resp.GetVersionId(), verdict)
	tw := newTable(w)
	row(tw, "KIND", "ENDS", "DETAIL", "DESCRIPTION")
	for _, p := range resp.GetProtections() {
		ends := "until someone acts"
		if p.GetEndTime() != nil {
			ends = formatTime(p.GetEndTime())
		}
		row(tw, p.GetKind(), ends, protectionDetail(p), p.GetDescription())
	}
	return tw.Flush()
}

func protectionDetail(p *wormvaultv1.Protection) string {
	switch {
	case p.GetRetentionMode() != wormvaultv1.RetentionMode_RETENTION_MODE_UNSPECIFIED:
		s := modeName(p.GetRetentionMode())
		if p.GetFromDefault() {
			s += " (vault default)"
		}
		return s
	case p.GetHoldId() != "":
		return "hold " + p.GetHoldId()
	case p.GetStatementSid() != "":
		return "statement " + p.GetStatementSid()
	}
	return "-"
}
