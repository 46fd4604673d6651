package main

import (
	"bufio"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault/vault/accesslog"
)

func newLogsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Query the access logs delivered into a log vault",
		Long: `A vault whose logging is on ("wormvault vault update V --log-to LOGVAULT
--log-prefix P") has a record of every request against it delivered into
LOGVAULT as JSON lines archives named P/YYYY/MM/DD/HH-MM-SS-<id>.jsonl (every
minute by default: "serve --access-log-interval"). The archives read directly
in DuckDB, jq or Athena-style engines; "logs query" downloads and filters them
for quick looks.`,
	}
	cmd.AddCommand(newLogsQueryCmd(a))
	return cmd
}

// logFilter selects access-log records.
type logFilter struct {
	since     time.Time
	principal string
	anonymous bool
	status    string
	source    string
}

func (f logFilter) match(r accesslog.Record) bool {
	switch {
	case !f.since.IsZero() && r.Time.Before(f.since):
		return false
	case f.principal != "" && r.Principal != f.principal:
		return false
	case f.anonymous && r.Principal != "":
		return false
	case f.status != "" && r.Status != f.status:
		return false
	case f.source != "" && r.Vault != f.source:
		return false
	}
	return true
}

// loggedRequest is one matching record and its line as stored.
type loggedRequest struct {
	rec  accesslog.Record
	line []byte
}

func newLogsQueryCmd(a *app) *cobra.Command {
	var (
		logVault, prefix, since string
		f                       logFilter
	)
	cmd := &cobra.Command{
		Use:   "query --vault LOGVAULT",
		Short: "Print the access-log records that match, oldest first",
		Long: `Print the access-log records in LOGVAULT that match the filters, oldest
first: a table, or with --json the JSON lines as stored.

Only archives written within --since are downloaded (a record is never newer
than the archive that holds it).`,
		Example: `  wormvault logs query --vault logs --since 1h --status PERMISSION_DENIED
  wormvault logs query --vault logs --prefix records/ --since 24h --principal auditor --json | jq .key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since != "" {
				d, err := parsePeriod(since)
				if err != nil {
					return usagef("--since: %w", err)
				}
				f.since = time.Now().Add(-d)
			}
			f.status = strings.ToUpper(strings.ReplaceAll(f.status, "-", "_"))
			if f.anonymous && f.principal != "" {
				return usagef("--principal and --anonymous exclude each other")
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			var found []loggedRequest
			for ar, err := range c.List(cmd.Context(), logVault, prefix, false) {
				if err != nil {
					return err
				}
				if !strings.HasSuffix(ar.GetKey(), ".jsonl") || (!f.since.IsZero() && ar.GetCreateTime().AsTime().Before(f.since)) {
					continue
				}
				_, rc, err := c.Download(cmd.Context(), logVault, ar.GetKey())
				if err != nil {
					return err
				}
				sc := bufio.NewScanner(rc)
				sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
				for n := 1; sc.Scan(); n++ {
					r, err := accesslog.Parse(sc.Bytes())
					if err != nil {
						rc.Close()
						return fmt.Errorf("%s/%s line %d: %w", logVault, ar.GetKey(), n, err)
					}
					if f.match(r) {
						found = append(found, loggedRequest{rec: r, line: slices.Clone(sc.Bytes())})
					}
				}
				err = sc.Err()
				rc.Close()
				if err != nil {
					return fmt.Errorf("%s/%s: %w", logVault, ar.GetKey(), err)
				}
			}
			slices.SortStableFunc(found, func(x, y loggedRequest) int { return x.rec.Time.Compare(y.rec.Time) })
			return a.printLoggedRequests(found)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&logVault, "vault", "", "the log `VAULT` the archives were delivered into")
	fl.StringVar(&prefix, "prefix", "", "only archives under this key prefix (the --log-prefix of the logged vault)")
	fl.StringVar(&since, "since", "", "only requests newer than this (15m, 1h, 30d)")
	fl.StringVar(&f.principal, "principal", "", "only requests by this principal")
	fl.BoolVar(&f.anonymous, "anonymous", false, "only requests that were not authenticated")
	fl.StringVar(&f.status, "status", "", "only requests that ended with this gRPC status (OK, PERMISSION_DENIED, UNAUTHENTICATED, ...)")
	fl.StringVar(&f.source, "source", "", "only requests against this logged `VAULT`")
	cmd.MarkFlagRequired("vault")
	return cmd
}

func (a *app) printLoggedRequests(found []loggedRequest) error {
	if a.json {
		for _, r := range found {
			if _, err := a.stdout.Write(append(r.line, '\n')); err != nil {
				return err
			}
		}
		return nil
	}
	tw := newTable(a.stdout)
	row(tw, "TIME", "STATUS", "PRINCIPAL", "RPC", "VAULT", "KEY", "REMOTE", "MS")
	for _, x := range found {
		r := x.rec
		key := r.Key
		if r.VersionID != "" {
			key += "@" + r.VersionID
		}
		rpc := r.RPC[strings.LastIndexByte(r.RPC, '/')+1:]
		status := r.Status
		if r.Reason != "" && r.Reason != r.Status {
			status += " (" + r.Reason + ")"
		}
		row(tw, formatTime(timestamppb.New(r.Time)), status, cmp.Or(r.Principal, "(anonymous)"), rpc, dash(r.Vault), dash(key), dash(r.RemoteAddr),
			strconv.FormatFloat(float64(r.Duration.Microseconds())/1000, 'f', 1, 64))
	}
	return tw.Flush()
}
