package main

import (
	"fmt"
	"os"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// accessLogBench appends the figure of small-archive uploads into a vault
// whose access logging is on, next to the same uploads with it off. Both
// run on the same server, in four pairs of runs of small uploads each,
// alternating which goes first, so the machine's drift hits both alike.
// With logging on every upload also commits its record durably
// (group-committed) before it is answered.
func accessLogBench(srv *server, c *client, small int, rows []row) ([]row, error) {
	fmt.Fprintf(os.Stderr, "== %d x 4 KiB uploads, 16 streams, access logging on vs off\n", small)
	for _, v := range []string{"alog-src", "alog-logs"} {
		if _, err := c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: v}); err != nil {
			return rows, err
		}
	}
	var on, off, cpuOn, cpuOff time.Duration
	// small uploads per run: a run of a few hundred lasts a fraction of a
	// second, and one scheduling hiccup then moves the ratio by more than
	// the margin it is judged on.
	n := max(small, 1)
	for round, order := range [][]bool{{false, true}, {true, false}, {false, true}, {true, false}} {
		for _, logging := range order {
			if err := c.setLogging("alog-src", "alog-logs", logging); err != nil {
				return rows, err
			}
			cpu := srv.cpu()
			d, err := timeIt(func() error {
				return parallel(n, 16, func(i int) error {
					return c.upload("alog-src", fmt.Sprintf("r%d/%t/%d", round, logging, i), 4096)
				})
			})
			if err != nil {
				return rows, err
			}
			cpu = srv.cpu() - cpu
			if logging {
				on, cpuOn = on+d, cpuOn+cpu
			} else {
				off, cpuOff = off+d, cpuOff+cpu
			}
		}
	}
	fmt.Fprintf(os.Stderr, "   server CPU per upload: %.0f µs with logging on, %.0f µs off\n",
		float64(cpuOn.Microseconds())/float64(4*n), float64(cpuOff.Microseconds())/float64(4*n))
	rows = append(rows, row{name: fmt.Sprintf("%d x 4 KiB upload, 16 streams, access logging on", 4*n), unit: "archives/s",
		ours: float64(4*n) / on.Seconds(), ref: float64(4*n) / off.Seconds(), refName: "same run, logging off (target >= 0.90x)"})

	// Reads have no commit of their own to carry their record: each waits
	// for a group commit of the access-log database. No target; shown so
	// the cost is known.
	fmt.Fprintf(os.Stderr, "== %d x 4 KiB downloads, 16 streams, access logging on vs off\n", 4*n)
	on, off = 0, 0
	for _, order := range [][]bool{{false, true}, {true, false}, {false, true}, {true, false}} {
		for _, logging := range order {
			if err := c.setLogging("alog-src", "alog-logs", logging); err != nil {
				return rows, err
			}
			d, err := timeIt(func() error {
				return parallel(n, 16, func(i int) error { return c.download("alog-src", fmt.Sprintf("r0/false/%d", i), 4096) })
			})
			if err != nil {
				return rows, err
			}
			if logging {
				on += d
			} else {
				off += d
			}
		}
	}
	if err := c.setLogging("alog-src", "alog-logs", false); err != nil {
		return rows, err
	}
	return append(rows, row{name: fmt.Sprintf("%d x 4 KiB download, 16 streams, access logging on", 4*n), unit: "archives/s",
		ours: float64(4*n) / on.Seconds(), ref: float64(4*n) / off.Seconds(), refName: "same run, logging off (no target)"}), nil
}

// setLogging turns vault's access logging into target on or off.
func (c *client) setLogging(vault, target string, on bool) error {
	v := &wormvaultv1.Vault{Name: vault}
	if on {
		v.Logging = &wormvaultv1.VaultLogging{TargetVault: target, Prefix: "bench/"}
	}
	_, err := c.vaults.UpdateVault(c.ctx(), &wormvaultv1.UpdateVaultRequest{Vault: v, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"logging"}}})
	return err
}

// runAccessLogOnly runs the access-log comparison alone on a fresh server
// (make bench's -only access-log), with the server's CPU time per mode, so
// a change to the logging path can be measured in a minute.
func runAccessLogOnly(small int) error {
	_, srv, c, done, err := freshServer()
	if err != nil {
		return err
	}
	defer done()
	rows, err := accessLogBench(srv, c, small, nil)
	if err != nil {
		return err
	}
	return printRows(rows)
}
