package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

func newAdminCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Storage health, healing, fixity reports, the trusted clock, the root key and the master key",
	}
	cmd.AddCommand(newAdminStorageCmd(a), newAdminHealCmd(a), newAdminScrubCmd(a), newAdminFixityCmd(a), newAdminClockCmd(a), newAdminRotateRootCmd(a), newAdminRotateMasterKeyCmd(a), newRebuildCatalogCmd())
	return cmd
}

func newAdminStorageCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "storage",
		Short: "Show every drive's health",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			resp, err := c.StorageStatus(cmd.Context())
			if err != nil {
				return err
			}
			return a.output(resp, func(w io.Writer) error {
				fmt.Fprintf(w, "erasure coding: %d data + %d parity shards; heal queue: %d archives\n\n",
					resp.GetDataShards(), resp.GetParityShards(), resp.GetHealPending())
				tw := newTable(w)
				row(tw, "DRIVE", "ONLINE", "USED", "FREE", "MISSING", "CORRUPT", "READ ERRORS", "REBUILT", "HEALED", "ERROR")
				for _, d := range resp.GetDrives() {
					row(tw, d.GetPath(), yesNo(d.GetOnline()), humanBytes(d.GetUsedBytes()), humanBytes(d.GetFreeBytes()),
						fmt.Sprint(d.GetMissingShards()), fmt.Sprint(d.GetCorruptBlocksFound()), fmt.Sprint(d.GetReadErrors()),
						fmt.Sprint(d.GetRebuiltBlocks()), fmt.Sprint(d.GetBlocksHealed()), firstNonEmpty(d.GetError(), "-"))
				}
				return tw.Flush()
			})
		},
	}
}

func formatHeal(h *wormvaultv1.HealResponse) string {
	return fmt.Sprintf("checked %d, healed %d, shards rewritten %d, unrecoverable %d",
		h.GetArchivesChecked(), h.GetArchivesHealed(), h.GetShardsRewritten(), h.GetArchivesUnrecoverable())
}

func newAdminHealCmd(a *app) *cobra.Command {
	var vault string
	cmd := &cobra.Command{
		Use:   "heal",
		Short: "Rewrite missing or corrupt shards, printing progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			tty := isTerminal(a.stderr)
			last := &wormvaultv1.HealResponse{}
			for h, err := range c.Heal(cmd.Context(), vault) {
				if err != nil {
					if tty {
						fmt.Fprintln(a.stderr)
					}
					return err
				}
				last = h
				switch {
				case a.json:
					if err := writeJSONLine(a.stdout, h); err != nil {
						return err
					}
				case tty:
					fmt.Fprintf(a.stderr, "\r\033[K%s  %s", formatHeal(h), h.GetCurrentKey())
				default:
					fmt.Fprintf(a.stderr, "%s  %s\n", formatHeal(h), h.GetCurrentKey())
				}
			}
			if a.json {
				return nil
			}
			if tty {
				fmt.Fprint(a.stderr, "\r\033[K")
			}
			_, err = fmt.Fprintf(a.stdout, "heal done: %s\n", formatHeal(last))
			return err
		},
	}
	cmd.Flags().StringVar(&vault, "vault", "", "heal only this vault (default every vault)")
	return cmd
}

func newAdminFixityCmd(a *app) *cobra.Command {
	var limit int32
	cmd := &cobra.Command{
		Use:   "fixity",
		Short: "Show the latest scrub (fixity) reports, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			reports, err := c.FixityReports(cmd.Context(), limit)
			if err != nil {
				return err
			}
			if a.json {
				for _, r := range reports {
					if err := writeJSONLine(a.stdout, r); err != nil {
						return err
					}
				}
				return nil
			}
			if len(reports) == 0 {
				_, err := fmt.Fprintln(a.stdout, "no fixity reports yet")
				return err
			}
			tw := newTable(a.stdout)
			writeFixityHeader(tw)
			for _, r := range reports {
				writeFixityRow(tw, r)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().Int32Var(&limit, "limit", 0, "at most this many reports (default the server's)")
	return cmd
}

func writeFixityHeader(w io.Writer) {
	row(w, "STARTED", "ENDED", "ARCHIVES", "VERIFIED", "MISSING", "CORRUPT", "HEALED", "UNRECOVERABLE")
}

func writeFixityRow(w io.Writer, r *wormvaultv1.FixityReport) {
	unrec := "-"
	if u := slices.Concat(r.GetUnrecoverableArchives(), r.GetFailed()); len(u) > 0 {
		unrec = strings.Join(u, ", ")
	}
	row(w, formatTime(r.GetStartTime()), formatTime(r.GetEndTime()), fmt.Sprint(r.GetArchivesChecked()),
		humanBytes(r.GetBytesVerified()), fmt.Sprint(r.GetMissingShardsFound()), fmt.Sprint(r.GetCorruptBlocksFound()),
		fmt.Sprint(r.GetCorruptBlocksHealed()), unrec)
}

func newAdminScrubCmd(a *app) *cobra.Command {
	var rate int64
	cmd := &cobra.Command{
		Use:   "scrub",
		Short: "Verify every block of every archive now and heal what can be healed (root only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rate < 0 {
				return usagef("--rate must not be negative")
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			r, err := c.Scrub(cmd.Context(), rate)
			if err != nil {
				return err
			}
			return a.output(r, func(w io.Writer) error {
				tw := newTable(w)
				writeFixityHeader(tw)
				writeFixityRow(tw, r)
				return tw.Flush()
			})
		},
	}
	cmd.Flags().Int64Var(&rate, "rate", 0, "cap on shard `BYTES` read per second (0 unlimited)")
	return cmd
}

func (a *app) printClock(s *wormvaultv1.GetClockStatusResponse) error {
	return a.output(s, func(w io.Writer) error {
		return writeFields(w, [][2]string{
			{"state", strings.TrimPrefix(s.GetState().String(), "CLOCK_STATE_")},
			{"wall time", formatTime(s.GetWallTime())},
			{"trusted time", formatTime(s.GetTrustedTime())},
			{"high-water mark", formatTime(s.GetHighWaterMark())},
			{"reason", firstNonEmpty(s.GetReason(), "-")},
		})
	})
}

func newAdminClockCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "clock",
		Short: "Show whether the server trusts its clock",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			s, err := c.ClockStatus(cmd.Context())
			if err != nil {
				return err
			}
			return a.printClock(s)
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "ack",
		Short: "Accept the current wall-clock time after a forward jump (root only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			s, err := c.AcknowledgeClock(cmd.Context())
			if err != nil {
				return err
			}
			return a.printClock(s)
		},
	})
	return cmd
}
