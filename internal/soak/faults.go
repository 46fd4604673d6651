package soak

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	client "github.com/wormvault/wormvault/clients/go"
)

// The drives the faults hit (0-based): different ones, so that the
// unwritable and removed drives together break the write quorum.
const (
	unwritableIndex = 1
	removedIndex    = 2
	fullIndex       = 3
)

// The drive faults' names in the report.
const (
	unwritableName = "unwritable drive"
	removedName    = "removed drive"
	fullName       = "full drive"
)

// reconnectGrace is how long after a restarted server answers that clients
// may still fail UNAVAILABLE: a gRPC channel that failed to connect waits
// out its reconnect backoff (1 s, growing 1.6x) before trying again.
const reconnectGrace = 10 * time.Second

// driveFault is one way of taking a drive out of service and back.
type driveFault interface {
	apply() error
	repair() error
	String() string
}

// faultEvent is one line of the fault log in the report.
type faultEvent struct {
	at   time.Duration
	what string
}

// healReport is the result of one heal pass.
type healReport struct {
	at                                    time.Duration
	why                                   string
	checked, healed, rewritten, unrecover int64
	took                                  time.Duration
	err                                   error
	// interrupted: it failed because a later fault overlapped it.
	interrupted bool
}

// injector carries out the fault schedule against the server.
type injector struct {
	plan    Faults
	srv     *serverProc
	tl      *timeline
	control *client.Client
	start   time.Time

	healing sync.WaitGroup // heals running beside the schedule
	healMu  sync.Mutex     // one heal at a time

	mu      sync.Mutex
	events  []faultEvent
	heals   []healReport
	skipped []string
	errs    []error
	pending []driveFault // faults in force, repaired at cleanup
}

func (in *injector) logf(format string, args ...any) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.events = append(in.events, faultEvent{at: time.Since(in.start).Round(10 * time.Millisecond), what: fmt.Sprintf(format, args...)})
}

func (in *injector) fail(err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.errs = append(in.errs, err)
}

// step is one scheduled action.
type step struct {
	at  time.Duration
	run func(ctx context.Context)
}

// run executes the schedule: steps one at a time, in time order (late if
// one ran long, as a restart may); heals beside them. It returns once every
// step and heal is done.
func (in *injector) run(ctx context.Context) {
	var steps []step
	drive := func(w Window, name string, newFault func() (driveFault, error)) {
		if !w.Enabled() {
			return
		}
		var (
			f    driveFault
			m    mark
			live bool
		)
		steps = append(steps,
			step{w.At, func(ctx context.Context) {
				var err error
				if f, err = newFault(); err != nil {
					in.mu.Lock()
					in.skipped = append(in.skipped, fmt.Sprintf("%s: %v", name, err))
					in.mu.Unlock()
					return
				}
				m = in.tl.driveFault()
				if err := f.apply(); err != nil {
					m.applied()
					m.repairing()
					m.repaired(0)
					in.fail(fmt.Errorf("soak: %s: %w", f, err))
					return
				}
				m.applied()
				live = true
				in.mu.Lock()
				in.pending = append(in.pending, f)
				in.mu.Unlock()
				in.logf("%s", f)
			}},
			step{w.End(), func(ctx context.Context) {
				if !live {
					return
				}
				live = false
				m.repairing()
				err := f.repair()
				m.repaired(0)
				in.mu.Lock()
				in.pending = slices.DeleteFunc(in.pending, func(x driveFault) bool { return x == f })
				others := len(in.pending)
				in.mu.Unlock()
				if err != nil {
					in.fail(fmt.Errorf("soak: repair %s: %w", f, err))
					return
				}
				in.logf("%s repaired", name)
				// A heal cannot rewrite shards onto a drive still out: it
				// runs once the last drive fault is repaired, under load and
				// beside the schedule, which it must not delay.
				if others == 0 {
					in.healing.Go(func() { in.heal(ctx, "after "+name, true) })
				}
			}},
		)
	}
	drive(in.plan.Unwritable, unwritableName, func() (driveFault, error) { return newUnwritable(in.srv.drives[unwritableIndex]) })
	drive(in.plan.Remove, removedName, func() (driveFault, error) { return &removal{dir: in.srv.drives[removedIndex]}, nil })
	drive(in.plan.ENOSPC, fullName, func() (driveFault, error) { return newFullDrive(in.srv.drives[fullIndex]) })
	for _, k := range in.plan.Kill9 {
		steps = append(steps, step{k, in.kill9})
	}
	slices.SortStableFunc(steps, func(a, b step) int { return cmp.Compare(a.at, b.at) })
	for _, s := range steps {
		if wait := time.Until(in.start.Add(s.at)); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			return
		}
		s.run(ctx)
	}
	in.healing.Wait()
}

// repairAll undoes every fault still in force (the soak was cut short).
func (in *injector) repairAll() {
	in.mu.Lock()
	pending := in.pending
	in.pending = nil
	in.mu.Unlock()
	for _, f := range slices.Backward(pending) {
		if err := f.repair(); err != nil {
			in.fail(fmt.Errorf("soak: repairing a fault at cleanup: %w", err))
		}
	}
}

// kill9 kills the server with SIGKILL mid-load and restarts it over the
// same data and address.
func (in *injector) kill9(ctx context.Context) {
	m := in.tl.serverFault()
	in.srv.kill9()
	m.applied()
	in.logf("server killed with SIGKILL")
	m.repairing()
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	started := time.Now()
	err := in.srv.start(rctx)
	m.repaired(reconnectGrace)
	if err != nil {
		in.fail(fmt.Errorf("soak: restart after SIGKILL: %w", err))
		return
	}
	in.logf("server restarted, serving after %s", time.Since(started).Round(10*time.Millisecond))
}

// heal runs a heal of every vault and records it. A heal that finds an
// archive unrecoverable fails the soak, and so does one that fails, unless
// it ran beside the schedule (duringRun) and a later fault overlapped it: a
// heal cannot write to a drive that is out, nor finish across a SIGKILL.
// Heals run one at a time.
func (in *injector) heal(ctx context.Context, why string, duringRun bool) healReport {
	in.healMu.Lock()
	defer in.healMu.Unlock()
	r := healReport{at: time.Since(in.start).Round(10 * time.Millisecond), why: why}
	start := time.Now()
	hctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	for msg, err := range in.control.Heal(hctx, "") {
		if err != nil {
			r.err = err
			break
		}
		r.checked, r.healed, r.rewritten, r.unrecover = msg.GetArchivesChecked(), msg.GetArchivesHealed(), msg.GetShardsRewritten(), msg.GetArchivesUnrecoverable()
	}
	r.took = time.Since(start)
	if st := in.tl.during(start, time.Now()); r.err != nil && duringRun && (st.maxDrivesDown > 0 || st.serverDown) {
		r.interrupted = true
	}
	in.mu.Lock()
	in.heals = append(in.heals, r)
	in.mu.Unlock()
	switch {
	case r.err != nil && !r.interrupted:
		in.fail(fmt.Errorf("soak: heal %s: %w", why, r.err))
	case r.unrecover > 0:
		in.fail(fmt.Errorf("soak: heal %s: %d archives unrecoverable", why, r.unrecover))
	}
	return r
}

// removal renames the drive's directory away, as if the disk were pulled,
// and back.
type removal struct{ dir string }

func (r *removal) String() string {
	return "drive " + filepath.Base(r.dir) + " removed (directory renamed away)"
}
func (r *removal) apply() error  { return os.Rename(r.dir, r.dir+".removed") }
func (r *removal) repair() error { return os.Rename(r.dir+".removed", r.dir) }

// unwritable makes a drive refuse new files while its data stays readable.
// chmod does not stop root, so as root it is a read-only bind mount of the
// drive over itself; otherwise the drive's tmp/, where every new shard
// starts, is made read-only.
type unwritable struct {
	dir   string
	mount bool
	mode  os.FileMode
}

func newUnwritable(dir string) (driveFault, error) {
	if os.Geteuid() != 0 {
		fi, err := os.Stat(filepath.Join(dir, "tmp"))
		if err != nil {
			return nil, err
		}
		return &unwritable{dir: dir, mode: fi.Mode().Perm()}, nil
	}
	if !canMount() {
		return nil, errors.New("running as root, where chmod does not stop writes, without permission to mount a read-only bind")
	}
	return &unwritable{dir: dir, mount: true}, nil
}

func (u *unwritable) String() string {
	if u.mount {
		return "drive " + filepath.Base(u.dir) + " unwritable (read-only bind mount)"
	}
	return "drive " + filepath.Base(u.dir) + " unwritable (tmp/ chmod 0555)"
}

func (u *unwritable) apply() error {
	if u.mount {
		return bindReadOnly(u.dir)
	}
	return os.Chmod(filepath.Join(u.dir, "tmp"), 0o555)
}

func (u *unwritable) repair() error {
	if u.mount {
		return unmount(u.dir)
	}
	return os.Chmod(filepath.Join(u.dir, "tmp"), u.mode)
}

// fullDrive mounts a tiny tmpfs, filled to the last byte, over the drive's
// tmp/ directory: every new shard (and every heal's rewrite) is written
// there first and fails with ENOSPC, while the shards in place stay
// readable, as on a disk that filled up.
type fullDrive struct{ tmp string }

func newFullDrive(dir string) (driveFault, error) {
	if !canMount() {
		return nil, errors.New("mounting a tmpfs needs root (CAP_SYS_ADMIN) on Linux")
	}
	return &fullDrive{tmp: filepath.Join(dir, "tmp")}, nil
}

func (f *fullDrive) String() string {
	return "drive " + filepath.Base(filepath.Dir(f.tmp)) + " full (ENOSPC: full tmpfs over its tmp/)"
}

func (f *fullDrive) apply() error {
	if err := mountTmpfs(f.tmp, 64<<10); err != nil {
		return err
	}
	// Fill it: from now on every write to it fails with ENOSPC.
	b, err := os.Create(filepath.Join(f.tmp, ".ballast"))
	if err != nil {
		unmount(f.tmp)
		return err
	}
	defer b.Close()
	_, err = io.Copy(b, zeroReader{})
	if err == nil || !isENOSPC(err) {
		unmount(f.tmp)
		return fmt.Errorf("filling the tmpfs: %v, want ENOSPC", err)
	}
	return nil
}

func (f *fullDrive) repair() error { return unmount(f.tmp) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func isENOSPC(err error) bool { return errors.Is(err, syscall.ENOSPC) }
