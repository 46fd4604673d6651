// Command soak is `make soak`: it runs internal/soak against a freshly built
// server and prints the report. It exits 1 if anything acknowledged was
// lost or corrupted or any error was unexpected, 2 if the soak could not
// run.
//
//	go run ./internal/soak/cmd/soak -clients 32 -duration 120s
//
// Faults default to every one, placed within the run (soak.DefaultFaults);
// each flag takes AT+FOR (e.g. 30s+15s) or off, and -fault-kill9 takes
// offsets (90s,100s) or off.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/wormvault/wormvault/internal/soak"
)

func main() {
	cfg := soak.DefaultConfig()
	flag.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent clients, each with its own connection")
	flag.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long the clients run")
	flag.Int64Var(&cfg.MinUploadSize, "min-size", cfg.MinUploadSize, "smallest upload in bytes")
	flag.Int64Var(&cfg.MaxUploadSize, "max-size", cfg.MaxUploadSize, "largest upload in bytes")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the workload's choices")
	flag.StringVar(&cfg.WorkDir, "work", "", "directory for the server's data and drives (default: a temporary one, removed afterwards)")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep the temporary work directory")
	flag.StringVar(&cfg.ServerBinary, "server", "", "a built wormvault binary (default: build ./cmd/wormvault)")
	unwritable := flag.String("fault-unwritable-drive", "auto", "drive d2 unwritable: AT+FOR, auto or off")
	remove := flag.String("fault-remove-drive", "auto", "drive d3 removed: AT+FOR, auto or off")
	enospc := flag.String("fault-enospc", "auto", "drive d4 full (ENOSPC; needs root): AT+FOR, auto or off")
	kill9 := flag.String("fault-kill9", "auto", "SIGKILL and restart the server at these offsets: 90s,100s, auto or off")
	flag.Parse()

	auto := soak.DefaultFaults(cfg.Duration)
	var errs []error
	set := func(dst *soak.Window, flagValue string, def soak.Window) {
		if flagValue == "auto" {
			*dst = def
			return
		}
		w, err := soak.ParseWindow(flagValue)
		*dst, errs = w, append(errs, err)
	}
	set(&cfg.Faults.Unwritable, *unwritable, auto.Unwritable)
	set(&cfg.Faults.Remove, *remove, auto.Remove)
	set(&cfg.Faults.ENOSPC, *enospc, auto.ENOSPC)
	cfg.Faults.Kill9 = auto.Kill9
	if *kill9 != "auto" {
		var err error
		cfg.Faults.Kill9, err = soak.ParseOffsets(*kill9)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	cfg.Progress = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := soak.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	rep.Print(os.Stdout)
	if !rep.Passed() {
		os.Exit(1)
	}
}
