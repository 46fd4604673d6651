package crashtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/vault/accesslog"
)

// damage removes one or two shard files of each of the first
// damagedArchives setup archives, so the workload's heals rewrite them.
func damage(t *testing.T, data string, base *baseline, rng *rand.Rand) {
	t.Helper()
	for _, v := range base.setup[:damagedArchives] {
		files := shardFilesOf(t, data, v.id)
		if len(files) == 0 {
			t.Fatalf("damage: no shard files of %s", v)
		}
		rng.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
		for _, f := range files[:min(1+rng.IntN(2), len(files))] {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// driveFiles walks every drive's shards/ and tmp/.
func driveFiles(t *testing.T, data string) (shards map[string][]string, temps []string) {
	t.Helper()
	shards = map[string][]string{}
	root := filepath.Join(data, "drives")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		parts := strings.Split(rel, string(filepath.Separator))
		switch {
		case len(parts) > 1 && parts[1] == "tmp":
			temps = append(temps, rel)
		case len(parts) > 1 && parts[1] == "shards":
			shards[d.Name()] = append(shards[d.Name()], p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk drives: %v", err)
	}
	return shards, temps
}

func shardFilesOf(t *testing.T, data, id string) []string {
	shards, _ := driveFiles(t, data)
	return shards[id]
}

// check verifies the invariants about versions, locks and the audit trail
// against the restarted server c.
func (wl *workload) check(t *testing.T, ctx context.Context, c *client) {
	t.Helper()
	wl.checkLocks(t, ctx, c)
	wl.checkComplianceUndeletable(t, ctx, c)
	listed := wl.checkVersionsReadable(t, ctx, c)
	wl.checkModel(t, listed)
	checkAuditTrail(t, ctx, c)
}

// listEverything lists every version of every vault, by id.
func listEverything(t *testing.T, ctx context.Context, c *client) map[string]*wormvaultv1.Archive {
	t.Helper()
	rctx, cancel := c.ctx(ctx)
	vs, err := c.vaults.ListVaults(rctx, &wormvaultv1.ListVaultsRequest{PageSize: 1000})
	cancel()
	if err != nil {
		t.Fatalf("list vaults: %v", err)
	}
	listed := map[string]*wormvaultv1.Archive{}
	for _, v := range vs.GetVaults() {
		as, err := c.listAll(ctx, v.GetName(), "")
		if err != nil {
			t.Fatalf("list %s: %v", v.GetName(), err)
		}
		for _, a := range as {
			listed[a.GetVersionId()] = a
		}
	}
	return listed
}

// checkLocks: the completed lock and the policies are as before; a pending
// lock is LOCKED if its completion was acknowledged, IN_PROGRESS if it was
// never asked, either if the crash cut the completion off.
func (wl *workload) checkLocks(t *testing.T, ctx context.Context, c *client) {
	for _, v := range keysOf(wl.base.locks) {
		before := wl.base.locks[v]
		rctx, cancel := c.ctx(ctx)
		now, err := c.locks.GetVaultLock(rctx, &wormvaultv1.GetVaultLockRequest{Vault: v})
		cancel()
		if err != nil {
			t.Errorf("lock of %s: %v", v, err)
			continue
		}
		if now.GetPolicy() != before.GetPolicy() {
			t.Errorf("lock policy of %s changed:\nbefore %s\nafter  %s", v, before.GetPolicy(), now.GetPolicy())
		}
		allowed := []wormvaultv1.VaultLockState{before.GetState()}
		switch {
		case wl.lockAcked[v]:
			allowed = []wormvaultv1.VaultLockState{wormvaultv1.VaultLockState_VAULT_LOCK_STATE_LOCKED}
		case wl.lockPending[v]:
			allowed = append(allowed, wormvaultv1.VaultLockState_VAULT_LOCK_STATE_LOCKED)
		}
		if !slices.Contains(allowed, now.GetState()) {
			t.Errorf("lock of %s is %s, want one of %v (completion acknowledged %v, cut off %v)", v, now.GetState(), allowed, wl.lockAcked[v], wl.lockPending[v])
		}
	}
}

// checkComplianceUndeletable tries to delete every COMPLIANCE version known
// to exist; every attempt must fail (checkVersionsReadable then finds them).
func (wl *workload) checkComplianceUndeletable(t *testing.T, ctx context.Context, c *client) {
	var targets [][2]string
	for _, a := range wl.base.comply {
		targets = append(targets, [2]string{a.GetKey(), a.GetVersionId()})
	}
	for _, w := range wl.workers {
		for _, v := range w.versions {
			if v.vault == vaultComply {
				targets = append(targets, [2]string{v.key, v.id})
			}
		}
	}
	for _, kv := range targets {
		rctx, cancel := c.ctx(ctx)
		_, err := c.archives.DeleteArchive(rctx, &wormvaultv1.DeleteArchiveRequest{Vault: vaultComply, Key: kv[0], VersionId: kv[1], BypassGovernanceRetention: true})
		cancel()
		if err == nil {
			t.Errorf("COMPLIANCE version %s/%s@%s was deleted after the restart", vaultComply, kv[0], kv[1])
		}
	}
}

// checkVersionsReadable lists every version of every vault and reads each
// one fully against its SHA-256. It returns the versions by id.
func (wl *workload) checkVersionsReadable(t *testing.T, ctx context.Context, c *client) map[string]*wormvaultv1.Archive {
	listed := listEverything(t, ctx, c)
	for _, a := range listed {
		if a.GetDeleteMarker() {
			continue
		}
		got, data, err := c.download(ctx, a.GetVault(), a.GetKey(), a.GetVersionId())
		if err != nil {
			t.Errorf("partial archive: %s/%s@%s is listed but does not read: %v", a.GetVault(), a.GetKey(), a.GetVersionId(), err)
			continue
		}
		if sum := sha256.Sum256(data); int64(len(data)) != a.GetSizeBytes() || !bytes.Equal(sum[:], a.GetSha256()) || !bytes.Equal(got.GetSha256(), a.GetSha256()) {
			t.Errorf("partial archive: %s/%s@%s reads %d bytes with sha256 %x; listed as %d bytes, %x", a.GetVault(), a.GetKey(), a.GetVersionId(), len(data), sum, a.GetSizeBytes(), a.GetSha256())
		}
	}
	for _, a := range wl.base.comply {
		now, ok := listed[a.GetVersionId()]
		switch {
		case !ok:
			t.Errorf("setup COMPLIANCE version %s/%s@%s is gone", a.GetVault(), a.GetKey(), a.GetVersionId())
		case !proto.Equal(now.GetRetention(), a.GetRetention()):
			t.Errorf("setup COMPLIANCE version %s/%s@%s: retention %v, was %v", a.GetVault(), a.GetKey(), a.GetVersionId(), now.GetRetention(), a.GetRetention())
		}
	}
	for _, v := range wl.base.setup {
		if a, ok := listed[v.id]; !ok || !bytes.Equal(a.GetSha256(), v.sum[:]) {
			t.Errorf("setup archive %s is gone or changed", v)
		}
	}
	return listed
}

// checkModel compares each worker's acknowledged operations, and the one
// the crash cut off, with what the restarted server lists.
func (wl *workload) checkModel(t *testing.T, listed map[string]*wormvaultv1.Archive) {
	for _, w := range wl.workers {
		p := w.pending
		known := map[string]bool{}
		for _, v := range w.versions {
			known[v.id] = true
			a, ok := listed[v.id]
			cutOff := p != nil && p.v == v
			switch {
			case v.deleted && ok:
				t.Errorf("worker %d: %s was deleted (acknowledged) and is listed", w.id, v)
				continue
			case v.deleted:
				continue
			case !ok && cutOff && p.op == opDeleteVersion:
				continue
			case !ok:
				t.Errorf("worker %d: acknowledged %s is missing", w.id, v)
				continue
			}
			if a.GetDeleteMarker() != v.marker || a.GetKey() != v.key || a.GetVault() != v.vault {
				t.Errorf("worker %d: %s is listed as %s/%s marker=%v", w.id, v, a.GetVault(), a.GetKey(), a.GetDeleteMarker())
				continue
			}
			if v.marker {
				continue
			}
			if !bytes.Equal(a.GetSha256(), v.sum[:]) || a.GetSizeBytes() != int64(v.size) {
				t.Errorf("worker %d: %s lists %d bytes %x; uploaded %d bytes %x", w.id, v, a.GetSizeBytes(), a.GetSha256(), v.size, v.sum)
			}
			if r := retentionOf(a.GetRetention()); r != v.retention && !(cutOff && p.op == opRetention && r == p.retention) {
				t.Errorf("worker %d: %s has retention %s; acknowledged %s (cut off: %v)", w.id, v, r, v.retention, cutOff && p.op == opRetention)
			}
			if h := holdsOf(a); !slices.Equal(h, v.holds) && !(cutOff && p.op == opHold && slices.Equal(h, p.holds)) {
				t.Errorf("worker %d: %s has holds %v; acknowledged %v (cut off: %v)", w.id, v, h, v.holds, cutOff && p.op == opHold)
			}
		}
		// Versions of the worker's keys it was never told about: only the
		// cut-off upload or delete marker, whole.
		prefix := "w" + strconv.Itoa(w.id) + "/"
		var unknown []*wormvaultv1.Archive
		for id, a := range listed {
			if (a.GetVault() == vaultData || a.GetVault() == vaultComply) && strings.HasPrefix(a.GetKey(), prefix) && !known[id] {
				unknown = append(unknown, a)
			}
		}
		for _, a := range unknown {
			switch {
			case len(unknown) > 1:
				t.Errorf("worker %d: %d unacknowledged versions listed; at most the one cut off may be: %s/%s@%s", w.id, len(unknown), a.GetVault(), a.GetKey(), a.GetVersionId())
			case p == nil || a.GetVault() != p.vault || a.GetKey() != p.key:
				t.Errorf("worker %d: unacknowledged version %s/%s@%s is listed (cut off: %+v)", w.id, a.GetVault(), a.GetKey(), a.GetVersionId(), p)
			case p.op == opMarker && !a.GetDeleteMarker(), p.op == opUpload && !bytes.Equal(a.GetSha256(), p.sum[:]),
				p.op != opMarker && p.op != opUpload:
				t.Errorf("worker %d: unacknowledged version %s/%s@%s does not match the %s cut off", w.id, a.GetVault(), a.GetKey(), a.GetVersionId(), p.op)
			}
		}
	}
}

// checkDrives lists the objects on the drives of a stopped server and
// checks that no temp file is left: a crash's are removed at the next start,
// and the writes of a running server remove theirs when they end.
func checkDrives(t *testing.T, data string) map[string][]string {
	t.Helper()
	shards, temps := driveFiles(t, data)
	if len(temps) > 0 {
		t.Errorf("temp files left on the drives: %v", temps)
	}
	return shards
}

// checkNoOrphans: every object on the drives belongs to a listed version.
// The startup sweep removes the shards of uploads a crash cut off before
// their commit, and of deletes cut off after theirs.
func checkNoOrphans(t *testing.T, objects map[string][]string, listed map[string]*wormvaultv1.Archive) {
	t.Helper()
	for id, files := range objects {
		if _, ok := listed[id]; !ok {
			t.Errorf("orphan object %s on the drives: %v", id, files)
		}
	}
}

func checkAuditTrail(t *testing.T, ctx context.Context, c *client) {
	rctx, cancel := c.ctx(ctx)
	defer cancel()
	r, err := c.audit.VerifyAuditTrail(rctx, &wormvaultv1.VerifyAuditTrailRequest{})
	if err != nil {
		t.Errorf("verify audit trail: %v", err)
		return
	}
	if !r.GetOk() {
		t.Errorf("audit trail does not verify: first bad sequence %d: %s", r.GetFirstBadSequence(), r.GetReason())
	}
}

// checkAccessLogs waits until every acknowledged probe is delivered, then
// checks that no request was delivered twice and no probe the crash cut
// off more than once.
func (wl *workload) checkAccessLogs(t *testing.T, ctx context.Context, c *client) {
	want := map[string]bool{}
	cutOff := map[string]bool{}
	for _, w := range wl.workers {
		for _, k := range w.probes {
			want[k] = true
		}
		if w.pending != nil && w.pending.op == opProbe {
			cutOff[w.pending.probe] = true
		}
	}
	// A probe after the restart is a barrier: records are delivered in
	// order, so once it is, every record from before the crash is too.
	barrier := "probe/after-restart"
	rctx, cancel := c.ctx(ctx)
	_, err := c.archives.GetArchive(rctx, &wormvaultv1.GetArchiveRequest{Vault: vaultData, Key: barrier})
	cancel()
	if status.Code(err) != codes.NotFound {
		t.Errorf("barrier probe: %v", err)
	}
	want[barrier] = true
	deadline := time.Now().Add(30 * time.Second)
	for {
		requests, probes, err := deliveredLogs(ctx, c)
		if err != nil {
			t.Errorf("read delivered access logs: %v", err)
			return
		}
		missing := 0
		for k := range want {
			if probes[k] == 0 {
				missing++
			}
		}
		if missing > 0 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if missing > 0 {
			t.Errorf("access logs: %d of %d acknowledged probes never delivered", missing, len(want))
		}
		for id, n := range requests {
			if n > 1 {
				t.Errorf("access logs: request %s delivered %d times", id, n)
			}
		}
		for k, n := range probes {
			switch {
			case n > 1:
				t.Errorf("access logs: probe %s delivered %d times", k, n)
			case !want[k] && !cutOff[k]:
				t.Errorf("access logs: probe %s delivered, but never sent", k)
			}
		}
		return
	}
}

// deliveredLogs reads every access-log archive in vaultLogs and counts the
// records by request id and the probes by key.
func deliveredLogs(ctx context.Context, c *client) (requests, probes map[string]int, err error) {
	as, err := c.listAll(ctx, vaultLogs, logPrefix)
	if err != nil {
		return nil, nil, err
	}
	requests, probes = map[string]int{}, map[string]int{}
	for _, a := range as {
		_, data, err := c.download(ctx, a.GetVault(), a.GetKey(), a.GetVersionId())
		if err != nil {
			return nil, nil, err
		}
		for line := range bytes.Lines(data) {
			r, err := accesslog.Parse(line)
			if err != nil {
				return nil, nil, err
			}
			requests[r.RequestID]++
			if r.Vault == vaultData && strings.HasPrefix(r.Key, "probe/") && strings.HasSuffix(r.RPC, "/GetArchive") {
				probes[r.Key]++
			}
		}
	}
	return requests, probes, nil
}

// snapshot describes every version of every vault and every vault lock, in
// a form two servers can be compared by.
type snapshot struct {
	versions map[string]map[string]string // vault -> version id -> description
	locks    map[string]string            // vault -> lock state and policy
}

func takeSnapshot(t *testing.T, c *client) snapshot {
	t.Helper()
	ctx, cancel := c.ctx(context.Background())
	defer cancel()
	vs, err := c.vaults.ListVaults(ctx, &wormvaultv1.ListVaultsRequest{PageSize: 1000})
	if err != nil {
		t.Fatalf("list vaults: %v", err)
	}
	s := snapshot{versions: map[string]map[string]string{}, locks: map[string]string{}}
	for _, v := range vs.GetVaults() {
		as, err := c.listAll(ctx, v.GetName(), "")
		if err != nil {
			t.Fatalf("list %s: %v", v.GetName(), err)
		}
		m := map[string]string{}
		for _, a := range as {
			m[a.GetVersionId()] = fmt.Sprintf("%s marker=%v size=%d sha256=%x retention=%s holds=%v",
				a.GetKey(), a.GetDeleteMarker(), a.GetSizeBytes(), a.GetSha256(), retentionOf(a.GetRetention()), holdsOf(a))
		}
		s.versions[v.GetName()] = m
		l, err := c.locks.GetVaultLock(ctx, &wormvaultv1.GetVaultLockRequest{Vault: v.GetName()})
		if err == nil {
			s.locks[v.GetName()] = l.GetState().String() + " " + l.GetPolicy()
		}
	}
	return s
}

// checkRebuild: the journal on the drives tells the same story as the
// catalog the restart left. The catalog is moved aside and rebuilt from the
// journal; every vault must list the same versions with the same
// protection, and the locks must be the same. Access-log records not yet
// delivered are not journaled (vault/accesslogs.go), so delivery may have
// added log archives after the snapshot: the log vault must only hold at
// least what it held.
func checkRebuild(t *testing.T, before, after snapshot) {
	t.Helper()
	for _, v := range keysOf(before.versions) {
		b, a := before.versions[v], after.versions[v]
		if a == nil {
			t.Errorf("rebuild: vault %s is gone", v)
			continue
		}
		for id, desc := range b {
			if a[id] != desc {
				t.Errorf("rebuild: %s/%s was %q, the rebuilt catalog has %q", v, id, desc, a[id])
			}
		}
		if v == vaultLogs {
			continue
		}
		for id, desc := range a {
			if _, ok := b[id]; !ok {
				t.Errorf("rebuild: %s/%s %q appeared", v, id, desc)
			}
		}
	}
	for v := range after.versions {
		if before.versions[v] == nil {
			t.Errorf("rebuild: vault %s appeared", v)
		}
	}
	for v, l := range before.locks {
		if after.locks[v] != l {
			t.Errorf("rebuild: lock of %s was %q, is %q", v, l, after.locks[v])
		}
	}
}
