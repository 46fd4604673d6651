package crashtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wormvault/wormvault/server"
	"github.com/wormvault/wormvault/vault"
)

// The harness is steered by environment variables (`make crash` sets the
// first):
//
//	WORMVAULT_CRASH_RUNS    runs per crash point (default 2, 1 with -short;
//	                        `make crash` runs the acceptance criterion's 20)
//	WORMVAULT_CRASH_SEED    the seed of run 0; run i uses seed+i (default:
//	                        the time). A failing run prints its seed:
//	                        WORMVAULT_CRASH_SEED=<it> WORMVAULT_CRASH_RUNS=1
//	                        replays its choices (hit count, operations,
//	                        sizes); the interleaving of the concurrent
//	                        clients is the scheduler's.
//	WORMVAULT_CRASH_POINTS  comma-separated points to run (default: all)
const defaultRuns = 2

// points are the crash points the harness kills the server at, with the
// largest hit count it draws: the Nth hit of the point kills, N uniform in
// [1, maxHit], chosen so that the workload reaches it well within a run.
var points = []struct {
	name   string
	maxHit int
}{
	{vault.CrashAfterShardWrite, 10},
	{vault.CrashAfterJournalAppend, 30},
	{vault.CrashAfterCatalogCommit, 30},
	{server.CrashBeforeResponse, 20},
	{vault.CrashRetentionChange, 5},
	{vault.CrashLegalHoldChange, 5},
	{vault.CrashDeleteMarker, 4},
	{vault.CrashInlineUploadCommit, 10},
	{vault.CrashVaultLockComplete, pendingLocks},
	{vault.CrashHealMid, damagedArchives},
	{vault.CrashAccessLogDelivery, 4},
}

// workloadLimit bounds the workload of one run: the point must be hit
// before.
const workloadLimit = 30 * time.Second

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wormvault-crashtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary, err = buildServer(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func envInt(t *testing.T, name string, def uint64) uint64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

// TestCrashPointsKnown: every point the harness uses is one the server
// accepts, and there are at least eight.
func TestCrashPointsKnown(t *testing.T) {
	if len(points) < 8 {
		t.Fatalf("%d crash points, want at least 8", len(points))
	}
	for _, p := range points {
		if !slices.Contains(server.CrashPoints(), p.name) {
			t.Errorf("crash point %q is not one the server knows", p.name)
		}
	}
}

// TestCrashConsistency kills the server at each crash point during a random
// workload and checks the invariants after a restart (see doc.go).
func TestCrashConsistency(t *testing.T) {
	runs := uint64(defaultRuns)
	if testing.Short() {
		runs = 1
	}
	runs = envInt(t, "WORMVAULT_CRASH_RUNS", runs)
	seed := envInt(t, "WORMVAULT_CRASH_SEED", uint64(time.Now().UnixNano()))
	only := map[string]bool{}
	for _, p := range strings.Split(os.Getenv("WORMVAULT_CRASH_POINTS"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			only[p] = true
		}
	}
	t.Logf("crash harness: %d runs per point, WORMVAULT_CRASH_SEED=%d", runs, seed)
	for _, pt := range points {
		if len(only) > 0 && !only[pt.name] {
			continue
		}
		t.Run(pt.name, func(t *testing.T) {
			for i := range runs {
				s := seed + i
				t.Run(fmt.Sprintf("seed=%d", s), func(t *testing.T) {
					t.Cleanup(func() {
						if t.Failed() {
							t.Logf("replay: WORMVAULT_CRASH_SEED=%d WORMVAULT_CRASH_RUNS=1 WORMVAULT_CRASH_POINTS=%s go test ./internal/crashtest -run TestCrashConsistency", s, pt.name)
						}
					})
					crashRun(t, pt.name, pt.maxHit, s)
				})
			}
		})
	}
}

// crashRun is one run: set up a fresh data directory, run the workload on
// a server that kills itself at a random hit of point, restart without the
// crash point and check the invariants.
func crashRun(t *testing.T, point string, maxHit int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	data := t.TempDir()
	start := time.Now()

	p := startServer(t, binary, data)
	base := setup(t, dial(t, p, data), rng)
	p.stop(t)
	damage(t, data, base, rng)

	hit := 1 + rng.IntN(maxHit)
	p = launch(t, binary, data, "--crash-at", fmt.Sprintf("%s:%d", point, hit))
	wl := newWorkload(t, p, base, rng)
	crashed := true
	// A point can be hit while the server starts (access logs left by the
	// setup are delivered at once): then there is no workload.
	if err := p.waitServing(); err == nil {
		crashed = wl.run(dial(t, p, data), workloadLimit)
	} else if !errors.Is(err, errExited) {
		t.Fatal(err)
	}
	if !crashed {
		p.kill()
		t.Fatalf("crash point %s:%d was not reached within %v", point, hit, workloadLimit)
	}
	if !p.killedBySIGKILL() || !strings.Contains(p.stderr.String(), "crash point reached: killing the process\" point="+point+" ") {
		t.Fatalf("the server died (%v) but not at crash point %s:%d:\n%s", p.state, point, hit, p.stderr)
	}
	crashedAt := time.Since(start)

	ctx := context.Background()
	p = startServer(t, binary, data)
	c := dial(t, p, data)
	wl.check(t, ctx, c)
	wl.checkAccessLogs(t, ctx, c)
	before := takeSnapshot(t, c)
	p.stop(t)
	// The drives as the restarted server left them, with nothing running:
	// objects are checked against the catalog below.
	objects := checkDrives(t, data)

	// The journal must agree: rebuild the catalog from it and compare.
	// Deliveries are off so that nothing but reads happens meanwhile.
	if err := os.Rename(filepath.Join(data, "meta"), filepath.Join(data, "meta.lost")); err != nil {
		t.Fatal(err)
	}
	p = startServer(t, binary, data, quietFlags...)
	c = dial(t, p, data)
	listed := listEverything(t, ctx, c)
	checkNoOrphans(t, objects, listed)
	checkNoOrphans(t, checkDrives(t, data), listed)
	checkRebuild(t, before, takeSnapshot(t, c))
	wl.checkVersionsReadable(t, ctx, c)
	checkAuditTrail(t, ctx, c)
	p.stop(t)
	t.Logf("%s:%d after %v, checked after %v; acknowledged %v; cut off: %s", point, hit, crashedAt.Round(time.Millisecond),
		time.Since(start).Round(time.Millisecond), wl.acked(), wl.cutOff())
}

// acked sums the acknowledged operations of every worker.
func (wl *workload) acked() map[string]int {
	m := map[string]int{}
	for _, w := range wl.workers {
		for op, n := range w.acked {
			m[op] += n
		}
	}
	return m
}

// cutOff lists the operations the crash cut off.
func (wl *workload) cutOff() string {
	var ops []string
	for _, w := range wl.workers {
		if w.pending != nil {
			ops = append(ops, w.pending.op)
		}
	}
	return strings.Join(ops, ",")
}
