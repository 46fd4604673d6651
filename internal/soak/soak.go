package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"google.golang.org/grpc/codes"

	client "github.com/wormvault/wormvault/clients/go"
)

// Run runs a soak and returns its report. An error means the soak could
// not be run (the server did not build or start); a soak that ran and
// found problems returns a report that does not pass.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	work := cfg.WorkDir
	if work == "" {
		dir, err := os.MkdirTemp("", "wormvault-soak-")
		if err != nil {
			return nil, err
		}
		work = dir
		if !cfg.Keep {
			defer os.RemoveAll(dir)
		}
	}
	if err := os.MkdirAll(work, 0o750); err != nil {
		return nil, err
	}
	bin := cfg.ServerBinary
	if bin == "" {
		var err error
		if bin, err = buildServer(ctx, work); err != nil {
			return nil, err
		}
	}
	srv, err := newServerProc(bin, work)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = srv.start(sctx)
	cancel()
	if err != nil {
		srv.stop()
		return nil, err
	}
	// From here on the server runs: stop it on every return.
	stopped := false
	defer func() {
		if !stopped {
			srv.stop()
		}
	}()
	dial := func() (*client.Client, error) {
		return client.Dial(ctx, srv.addr, client.WithToken(srv.token), client.WithInsecure())
	}
	control, err := dial()
	if err != nil {
		return nil, err
	}
	defer control.Close()
	if _, err := control.CreateVault(ctx, soakVault); err != nil {
		return nil, fmt.Errorf("soak: create vault: %w", err)
	}

	pool := newPool(cfg.Seed, cfg.MaxUploadSize)
	rec := newRecorder()
	tl := &timeline{}
	in := &injector{plan: cfg.Faults, srv: srv, tl: tl, control: control, start: rec.start}
	defer in.repairAll()

	bgctx, stopBackground := context.WithCancel(ctx)
	var bg sync.WaitGroup
	bg.Go(func() { srv.sampleHWMEvery(bgctx, 500*time.Millisecond) })
	if cfg.Progress != nil && cfg.ProgressEvery > 0 {
		bg.Go(func() { progress(bgctx, cfg, rec) })
	}

	deadline := rec.start.Add(cfg.Duration)
	injected := make(chan struct{})
	go func() { defer close(injected); in.run(ctx) }()
	var workers sync.WaitGroup
	for i := range cfg.Clients {
		c, err := dial()
		if err != nil {
			stopBackground()
			return nil, err
		}
		defer c.Close()
		w := &worker{id: i, cfg: &cfg, c: c, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i))), rec: rec, tl: tl, pool: pool}
		workers.Go(func() { w.run(ctx, deadline) })
	}
	workers.Wait()
	elapsed := time.Since(rec.start)
	// Faults still scheduled (a heal ran late) finish without load.
	<-injected
	in.repairAll()
	stopBackground()
	bg.Wait()

	rep := &Report{Config: cfg, Elapsed: elapsed}
	finalChecks(ctx, in, control, rep)
	verifyAll(ctx, control, rec.snapshot(), min(cfg.Clients, 8), rep)
	stopped = true
	if err := srv.stop(); err != nil {
		rep.fail("%v", err)
	}
	rep.collect(rec, in, srv)
	return rep, nil
}

// finalChecks heals twice (the second pass must find nothing to do) and
// checks that every drive is online.
func finalChecks(ctx context.Context, in *injector, control *client.Client, rep *Report) {
	in.heal(ctx, "final", false)
	if second := in.heal(ctx, "final, second pass", false); second.err == nil && (second.healed > 0 || second.rewritten > 0) {
		in.fail(fmt.Errorf("soak: a second heal still rewrote %d shards of %d archives", second.rewritten, second.healed))
	}
	st, err := control.StorageStatus(ctx)
	if err != nil {
		rep.fail("storage status: %v", err)
		return
	}
	for _, d := range st.GetDrives() {
		if !d.GetOnline() {
			rep.fail("drive %s is offline at the end: %s", d.GetPath(), d.GetError())
		}
	}
}

// verifyAll reads back every acknowledged upload and compares it with what
// was sent.
func verifyAll(ctx context.Context, c *client.Client, acked []*archive, parallel int, rep *Report) {
	start := time.Now()
	next := make(chan *archive)
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for range parallel {
		wg.Go(func() {
			for a := range next {
				vctx, cancel := timeout(ctx, a.size)
				corrupt, _, err := readBack(vctx, c, a)
				cancel()
				code, _ := codeAndReason(err)
				mu.Lock()
				switch {
				case corrupt:
					rep.Corrupt++
					rep.fail("corrupt: %v", err)
				case code == codes.NotFound || code == codes.DataLoss:
					rep.Lost++
					rep.fail("lost: %s/%s version %s: %v", a.vault, a.key, a.versionID, err)
				case err != nil:
					rep.fail("could not verify %s/%s version %s: %v", a.vault, a.key, a.versionID, err)
				default:
					rep.Verified++
				}
				mu.Unlock()
			}
		})
	}
	for _, a := range acked {
		next <- a
	}
	close(next)
	wg.Wait()
	rep.VerifyTook = time.Since(start)
}

// progress prints a line every cfg.ProgressEvery.
func progress(ctx context.Context, cfg Config, rec *recorder) {
	t := time.NewTicker(cfg.ProgressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rec.mu.Lock()
		ops, errs := 0, 0
		for _, k := range rec.kinds {
			ops += k.ok
			for _, n := range k.errs {
				errs += n
			}
		}
		acked, bytes, unexp := len(rec.acked), rec.ackBytes, rec.nUnexp
		rec.mu.Unlock()
		el := time.Since(rec.start)
		fmt.Fprintf(cfg.Progress, "soak %4.0fs: %d ops ok (%.0f/s), %d errors (%d unexpected), %d uploads acknowledged (%.0f MiB)\n",
			el.Seconds(), ops, float64(ops)/el.Seconds(), errs, unexp, acked, float64(bytes)/(1<<20))
	}
}
