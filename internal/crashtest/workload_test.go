package crashtest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// The vaults of a run.
const (
	// vaultData takes most of the workload; its access logs go to vaultLogs
	// under logPrefix.
	vaultData = "data"
	vaultLogs = "logs"
	logPrefix = "access/"
	// vaultComply gives new versions COMPLIANCE retention for a day.
	vaultComply = "comply"
	// vaultLocked has a completed vault lock from the setup.
	vaultLocked = "locked"
	// pendingLocks vaults lock-0.. have a vault lock IN_PROGRESS that the
	// workload completes.
	pendingLocks = 3
	// setupArchives are uploaded into vaultData by the setup (all erasure
	// coded); the first damagedArchives lose shards before the crash run.
	setupArchives   = 5
	damagedArchives = 3
	// holdID is the legal hold the workload places and releases.
	holdID = "crash"
)

func lockVault(i int) string { return fmt.Sprintf("lock-%d", i) }

func lockPolicy(vault string) string {
	return fmt.Sprintf(`{"statements": [{"sid": "keep", "effect": "DENY", "principals": ["*"], "actions": ["wormvault:DeleteArchive"], "resources": ["vaults/%s/archives/*"]}]}`, vault)
}

// retention is a version's retention as the model keeps it.
type retention struct {
	mode  wormvaultv1.RetentionMode
	until int64 // unix seconds
}

func retentionOf(r *wormvaultv1.Retention) retention {
	if r.GetMode() == wormvaultv1.RetentionMode_RETENTION_MODE_UNSPECIFIED {
		return retention{}
	}
	return retention{r.GetMode(), r.GetRetainUntilTime().GetSeconds()}
}

func (r retention) String() string {
	if r.mode == wormvaultv1.RetentionMode_RETENTION_MODE_UNSPECIFIED {
		return "none"
	}
	return fmt.Sprintf("%s until %s", r.mode, time.Unix(r.until, 0).UTC().Format(time.RFC3339))
}

// version is what the workload was told about one version.
type version struct {
	vault, key, id string
	sum            [32]byte
	size           int
	marker         bool
	retention      retention
	holds          []string // sorted hold ids
	deleted        bool     // permanently deleted
}

func (v *version) String() string { return v.vault + "/" + v.key + "@" + v.id }

func holdsOf(a *wormvaultv1.Archive) []string {
	var ids []string
	for _, h := range a.GetLegalHolds() {
		ids = append(ids, h.GetHoldId())
	}
	slices.Sort(ids)
	return ids
}

// Operations of the workload.
const (
	opUpload        = "upload"
	opMarker        = "delete-marker"
	opRetention     = "set-retention"
	opHold          = "set-legal-hold"
	opDeleteVersion = "delete-version"
	opProbe         = "probe"
	opDownload      = "download"
	opHeal          = "heal"
	opCompleteLock  = "complete-lock"
)

// pending is an operation the crash cut off: it may or may not have
// happened, but nothing else may have.
type pending struct {
	op         string
	vault, key string
	sum        [32]byte  // opUpload: the bytes sent
	v          *version  // opRetention, opHold, opDeleteVersion: the target
	retention  retention // opRetention: the retention asked for
	holds      []string  // opHold: the holds asked for
	probe      string    // opProbe: the key probed
	lockVault  string    // opCompleteLock
}

// worker runs operations one after the other on keys of its own, so its
// model is exact but for at most one pending operation.
type worker struct {
	id       int
	rng      *rand.Rand
	keys     int
	versions []*version // acknowledged, markers included
	probes   []string   // acknowledged probe keys
	pending  *pending
	acked    map[string]int // per operation
}

// baseline is the state the setup left, before the crash run.
type baseline struct {
	locks   map[string]*wormvaultv1.GetVaultLockResponse
	lockIDs map[string]string // lockVault(i) -> its IN_PROGRESS lock id
	comply  []*wormvaultv1.Archive
	setup   []*version // vaultData's setup archives
}

// setup creates the run's vaults and archives on a fresh server.
func setup(t *testing.T, c *client, rng *rand.Rand) *baseline {
	t.Helper()
	ctx, cancel := c.ctx(context.Background())
	defer cancel()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("setup: %s: %v", what, err)
		}
	}
	vaults := []*wormvaultv1.CreateVaultRequest{
		{Name: vaultLogs}, {Name: vaultData}, {Name: vaultLocked},
		{Name: vaultComply, DefaultRetention: &wormvaultv1.DefaultRetention{Mode: wormvaultv1.RetentionMode_RETENTION_MODE_COMPLIANCE, Days: 1}},
	}
	for i := range pendingLocks {
		vaults = append(vaults, &wormvaultv1.CreateVaultRequest{Name: lockVault(i)})
	}
	for _, v := range vaults {
		_, err := c.vaults.CreateVault(ctx, v)
		must("create vault "+v.GetName(), err)
	}
	_, err := c.vaults.UpdateVault(ctx, &wormvaultv1.UpdateVaultRequest{
		Vault:      &wormvaultv1.Vault{Name: vaultData, Logging: &wormvaultv1.VaultLogging{TargetVault: vaultLogs, Prefix: logPrefix}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"logging"}},
	})
	must("turn logging on", err)
	base := &baseline{locks: map[string]*wormvaultv1.GetVaultLockResponse{}, lockIDs: map[string]string{}}
	for i := range setupArchives {
		data := randomBytes(rng, 20<<10+rng.IntN(100<<10))
		a, err := c.upload(ctx, &wormvaultv1.ArchiveHeader{Vault: vaultData, Key: fmt.Sprintf("setup/%d", i)}, data)
		must("upload", err)
		base.setup = append(base.setup, &version{vault: vaultData, key: a.GetKey(), id: a.GetVersionId(), sum: sha256.Sum256(data), size: len(data)})
	}
	for i := range 3 {
		data := randomBytes(rng, rng.IntN(40<<10))
		a, err := c.upload(ctx, &wormvaultv1.ArchiveHeader{Vault: vaultComply, Key: fmt.Sprintf("setup/%d", i)}, data)
		must("upload", err)
		base.comply = append(base.comply, a)
	}
	r, err := c.locks.InitiateVaultLock(ctx, &wormvaultv1.InitiateVaultLockRequest{Vault: vaultLocked, Policy: lockPolicy(vaultLocked)})
	must("initiate lock", err)
	_, err = c.locks.CompleteVaultLock(ctx, &wormvaultv1.CompleteVaultLockRequest{Vault: vaultLocked, LockId: r.GetLockId()})
	must("complete lock", err)
	for i := range pendingLocks {
		r, err := c.locks.InitiateVaultLock(ctx, &wormvaultv1.InitiateVaultLockRequest{Vault: lockVault(i), Policy: lockPolicy(lockVault(i))})
		must("initiate lock", err)
		base.lockIDs[lockVault(i)] = r.GetLockId()
	}
	for _, v := range append([]string{vaultLocked}, keysOf(base.lockIDs)...) {
		l, err := c.locks.GetVaultLock(ctx, &wormvaultv1.GetVaultLockRequest{Vault: v})
		must("get lock", err)
		base.locks[v] = l
	}
	return base
}

func keysOf[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := rng.Uint64()
		for j := i; j < min(n, i+8); j++ {
			b[j] = byte(v)
			v >>= 8
		}
	}
	return b
}

// workload is the concurrent clients of one crash run.
type workload struct {
	t       *testing.T
	c       *client
	p       *process
	base    *baseline
	workers []*worker

	mu          sync.Mutex
	lockNext    int
	lockAcked   map[string]bool
	lockPending map[string]bool
}

const workers = 4

func newWorkload(t *testing.T, p *process, base *baseline, rng *rand.Rand) *workload {
	wl := &workload{t: t, p: p, base: base, lockAcked: map[string]bool{}, lockPending: map[string]bool{}}
	for i := range workers {
		wl.workers = append(wl.workers, &worker{id: i, rng: rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())), acked: map[string]int{}})
	}
	return wl
}

// run runs the workers against c until the server dies or limit passes,
// and reports whether the server died.
func (wl *workload) run(c *client, limit time.Duration) bool {
	wl.c = c
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var wg sync.WaitGroup
	for _, w := range wl.workers {
		wg.Go(func() {
			for ctx.Err() == nil && !wl.p.dead(0) {
				if !wl.step(ctx, w) {
					return
				}
			}
		})
	}
	wg.Wait()
	return wl.p.dead(0)
}

// step runs one random operation and reports whether the worker goes on.
func (wl *workload) step(ctx context.Context, w *worker) bool {
	ops := []struct {
		op     string
		weight int
	}{
		{opUpload, 30}, {opMarker, 6}, {opRetention, 10}, {opHold, 10}, {opDeleteVersion, 6},
		{opProbe, 15}, {opDownload, 8}, {opHeal, 3}, {opCompleteLock, 3},
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	n := w.rng.IntN(total)
	op := ops[0].op
	for _, o := range ops {
		if n < o.weight {
			op = o.op
			break
		}
		n -= o.weight
	}
	p, err := wl.do(ctx, w, op)
	if p == nil {
		return true
	}
	if err == nil {
		w.acked[p.op]++
		return true
	}
	// Either the crash cut the operation off, or the server refused it
	// while alive: the latter is a bug in the server or the workload.
	if ctx.Err() != nil || wl.p.dead(5*time.Second) {
		w.pending = p
		return false
	}
	wl.t.Errorf("worker %d: %s %s/%s failed with the server alive: %v", w.id, p.op, p.vault, p.key, err)
	return true
}

// do runs op and returns what it was about (nil when there was nothing to
// do it on) and its error. The model is updated only on success.
func (wl *workload) do(ctx context.Context, w *worker, op string) (*pending, error) {
	c := wl.c
	rctx, cancel := c.ctx(ctx)
	defer cancel()
	switch op {
	case opUpload:
		return wl.upload(ctx, w)
	case opMarker:
		v := w.pick(func(v *version) bool { return v.vault == vaultData && !v.marker && !v.deleted })
		if v == nil {
			return nil, nil
		}
		p := &pending{op: op, vault: v.vault, key: v.key}
		resp, err := c.archives.DeleteArchive(rctx, &wormvaultv1.DeleteArchiveRequest{Vault: v.vault, Key: v.key})
		if err == nil {
			w.versions = append(w.versions, &version{vault: v.vault, key: v.key, id: resp.GetVersionId(), marker: true})
		}
		return p, err
	case opRetention:
		v := w.pick(func(v *version) bool {
			return v.vault == vaultData && !v.marker && !v.deleted && v.retention.mode != wormvaultv1.RetentionMode_RETENTION_MODE_COMPLIANCE
		})
		if v == nil {
			return nil, nil
		}
		// Only ever extended, so no bypass is needed.
		until := max(v.retention.until, time.Now().Unix()) + int64(1+w.rng.IntN(30))*86400
		r := retention{wormvaultv1.RetentionMode_RETENTION_MODE_GOVERNANCE, until}
		p := &pending{op: op, vault: v.vault, key: v.key, v: v, retention: r}
		resp, err := c.archives.SetRetention(rctx, &wormvaultv1.SetRetentionRequest{Vault: v.vault, Key: v.key, VersionId: v.id,
			Retention: &wormvaultv1.Retention{Mode: r.mode, RetainUntilTime: &timestamppb.Timestamp{Seconds: r.until}}})
		if err == nil {
			v.retention = retentionOf(resp.GetArchive().GetRetention())
		}
		return p, err
	case opHold:
		v := w.pick(func(v *version) bool { return !v.marker && !v.deleted })
		if v == nil {
			return nil, nil
		}
		on := !slices.Contains(v.holds, holdID)
		want := slices.DeleteFunc(slices.Clone(v.holds), func(h string) bool { return h == holdID })
		if on {
			want = append(want, holdID)
			slices.Sort(want)
		}
		p := &pending{op: op, vault: v.vault, key: v.key, v: v, holds: want}
		resp, err := c.archives.SetLegalHold(rctx, &wormvaultv1.SetLegalHoldRequest{Vault: v.vault, Key: v.key, VersionId: v.id, LegalHold: on, HoldId: holdID, Reason: "crash test"})
		if err == nil {
			v.holds = holdsOf(resp.GetArchive())
		}
		return p, err
	case opDeleteVersion:
		v := w.pick(func(v *version) bool {
			return v.vault == vaultData && !v.marker && !v.deleted && v.retention.mode == wormvaultv1.RetentionMode_RETENTION_MODE_UNSPECIFIED && len(v.holds) == 0
		})
		if v == nil {
			return nil, nil
		}
		p := &pending{op: op, vault: v.vault, key: v.key, v: v}
		_, err := c.archives.DeleteArchive(rctx, &wormvaultv1.DeleteArchiveRequest{Vault: v.vault, Key: v.key, VersionId: v.id})
		if err == nil {
			v.deleted = true
		}
		return p, err
	case opProbe:
		// A request against the logged vault with a key of its own, so
		// its access-log record can be counted.
		key := fmt.Sprintf("probe/%d/%d", w.id, len(w.probes))
		p := &pending{op: op, vault: vaultData, key: key, probe: key}
		_, err := c.archives.GetArchive(rctx, &wormvaultv1.GetArchiveRequest{Vault: vaultData, Key: key})
		if status.Code(err) == codes.NotFound {
			w.probes = append(w.probes, key)
			return p, nil
		}
		if err == nil {
			err = fmt.Errorf("probe %s exists", key)
		}
		return p, err
	case opDownload:
		v := w.pick(func(v *version) bool { return !v.marker && !v.deleted })
		if w.rng.IntN(3) == 0 || v == nil {
			// The setup's archives, some damaged: a read queues a heal.
			v = wl.base.setup[w.rng.IntN(len(wl.base.setup))]
		}
		p := &pending{op: op, vault: v.vault, key: v.key}
		_, data, err := c.download(ctx, v.vault, v.key, v.id)
		if err == nil && sha256.Sum256(data) != v.sum {
			wl.t.Errorf("download %s: %d bytes that differ from the %d uploaded", v, len(data), v.size)
		}
		return p, err
	case opHeal:
		return &pending{op: op, vault: vaultData}, c.heal(ctx, vaultData)
	case opCompleteLock:
		wl.mu.Lock()
		if wl.lockNext == pendingLocks {
			wl.mu.Unlock()
			return nil, nil
		}
		vault := lockVault(wl.lockNext)
		wl.lockNext++
		wl.lockPending[vault] = true
		wl.mu.Unlock()
		_, err := c.locks.CompleteVaultLock(rctx, &wormvaultv1.CompleteVaultLockRequest{Vault: vault, LockId: wl.base.lockIDs[vault]})
		wl.mu.Lock()
		if err == nil {
			delete(wl.lockPending, vault)
			wl.lockAcked[vault] = true
		}
		wl.mu.Unlock()
		return &pending{op: op, vault: vault, lockVault: vault}, err
	}
	panic("unknown op " + op)
}

// upload uploads random bytes, inline or erasure coded, into vaultData or
// vaultComply, under a new key or a new version of one of the worker's.
func (wl *workload) upload(ctx context.Context, w *worker) (*pending, error) {
	vault := vaultData
	if w.rng.IntN(6) == 0 {
		vault = vaultComply
	}
	key := fmt.Sprintf("w%d/%d", w.id, w.keys)
	if old := w.pick(func(v *version) bool { return v.vault == vault }); old != nil && w.rng.IntN(4) == 0 {
		key = old.key
	} else {
		w.keys++
	}
	size := w.rng.IntN(16 << 10) // inline
	if w.rng.IntN(2) == 0 {
		size = 16<<10 + 1 + w.rng.IntN(140<<10) // erasure coded
	}
	data := randomBytes(w.rng, size)
	h := &wormvaultv1.ArchiveHeader{Vault: vault, Key: key, LegalHold: w.rng.IntN(10) == 0}
	if vault == vaultData && w.rng.IntN(6) == 0 {
		h.Retention = &wormvaultv1.Retention{Mode: wormvaultv1.RetentionMode_RETENTION_MODE_GOVERNANCE,
			RetainUntilTime: &timestamppb.Timestamp{Seconds: time.Now().Unix() + int64(1+w.rng.IntN(30))*86400}}
	}
	p := &pending{op: opUpload, vault: vault, key: key, sum: sha256.Sum256(data)}
	a, err := wl.c.upload(ctx, h, data)
	if err != nil {
		return p, err
	}
	w.versions = append(w.versions, &version{vault: vault, key: key, id: a.GetVersionId(), sum: p.sum, size: size,
		retention: retentionOf(a.GetRetention()), holds: holdsOf(a)})
	return p, nil
}

// pick returns a random version of the worker's that ok accepts, or nil.
func (w *worker) pick(ok func(*version) bool) *version {
	var vs []*version
	for _, v := range w.versions {
		if ok(v) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return nil
	}
	return vs[w.rng.IntN(len(vs))]
}
