package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/receipt"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/catalog"
)

// rotConfig is the store configuration of the rotation tests: small
// blocks, inline archives up to 128 KiB; clk, when set, is the clock.
func rotConfig(dir string, clk *testClock) Config {
	cfg := DefaultConfig(dir)
	cfg.BlockSize = 64 << 10
	cfg.InlineThreshold = 128 << 10
	if clk != nil {
		cfg.Wall, cfg.Elapsed = clk.Wall, clk.Elapsed
	}
	return cfg
}

func openRotStore(t *testing.T, dir string, clk *testClock) *Store {
	t.Helper()
	s, err := Open(context.Background(), rotConfig(dir, clk))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rotFixture is what a store holds before a rotation and must hold after.
type rotFixture struct {
	data       map[string][]byte // archive key -> bytes
	ck         CustomerKey
	mfaSecret  string
	receipt    receipt.Signed
	receiptPub []byte
	checkpoint *recordv1.AuditCheckpoint
}

// populate fills s with archives of every kind (SERVICE, KMS, CUSTOMER;
// inline and sharded), a KMS key, a confirmed MFA device, a receipt and an
// audit checkpoint. now is the time MFA codes are made for.
func populate(t *testing.T, s *Store, now time.Time) *rotFixture {
	t.Helper()
	ctx := context.Background()
	f := &rotFixture{data: map[string][]byte{}}
	if _, err := s.CreateVault(ctx, root, "enc", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateKMSKey(ctx, root, "rot-key", "rotation test"); err != nil {
		t.Fatal(err)
	}
	f.ck, _ = testCustomerKey(t, 8)
	kinds := []struct {
		key  string
		size int
		req  UploadRequest
	}{
		{"svc-empty", 0, UploadRequest{}},
		{"svc-small", 1000, UploadRequest{}},
		{"svc-big", 300 << 10, UploadRequest{}},
		{"kms-small", 2000, UploadRequest{Encryption: recordv1.EncryptionMode_ENCRYPTION_MODE_KMS, KMSKey: "rot-key"}},
		{"kms-big", 200 << 10, UploadRequest{Encryption: recordv1.EncryptionMode_ENCRYPTION_MODE_KMS, KMSKey: "rot-key"}},
		{"customer", 70 << 10, UploadRequest{Encryption: recordv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER, CustomerKey: f.ck}},
	}
	for i := range 5 {
		kinds = append(kinds, struct {
			key  string
			size int
			req  UploadRequest
		}{fmt.Sprintf("svc-%d", i), 100 * i, UploadRequest{}})
	}
	for i, k := range kinds {
		f.data[k.key] = encData(uint64(200+i), k.size)
		k.req.Vault, k.req.Key = "enc", k.key
		a, err := s.Upload(ctx, overTLS, k.req, bytes.NewReader(f.data[k.key]))
		if err != nil {
			t.Fatalf("upload %s: %v", k.key, err)
		}
		if k.key == "svc-big" {
			if f.receipt, err = s.Receipt(receipt.OpUpload, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	pub, _ := s.ReceiptKey()
	f.receiptPub = pub
	reg, err := s.RegisterMFADevice(ctx, root, "phone")
	if err != nil {
		t.Fatal(err)
	}
	f.mfaSecret = string(reg.Secret)
	if err := s.ConfirmMFADevice(ctx, root, "phone", codeAt(t, f.mfaSecret, now)); err != nil {
		t.Fatal(err)
	}
	if f.checkpoint, err = s.AuditTrail().Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// check reads every archive back bit-exact and checks the MFA secret, the
// receipt key, the audit trail with its old checkpoint, and a scrub.
func (f *rotFixture) check(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	for key, want := range f.data {
		got, err := readCustomer(s, overTLS, func() CustomerKey {
			if key == "customer" {
				return f.ck
			}
			return CustomerKey{}
		}(), key, 0, 0)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: read %d bytes (%v), want the %d uploaded", key, len(got), err, len(want))
		}
	}
	if secret, _, _ := mfaDevice(t, s, "phone"); secret != f.mfaSecret {
		t.Fatal("the MFA secret changed")
	}
	pub, _ := s.ReceiptKey()
	if !bytes.Equal(pub, f.receiptPub) {
		t.Fatal("the receipt signing key changed")
	}
	if _, err := receipt.Verify(f.receipt, pub); err != nil {
		t.Fatalf("a receipt signed before: %v", err)
	}
	rep, err := s.AuditTrail().Verify(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("audit verify: %+v %v", rep, err)
	}
	if err := s.AuditTrail().VerifyCheckpoint(ctx, f.checkpoint); err != nil {
		t.Fatalf("a checkpoint signed before the rotation: %v", err)
	}
	if _, err := s.AuditTrail().Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.AuditTrail().Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("audit verify with a checkpoint of the new key: %+v %v", rep, err)
	}
	if rep, err := s.Scrub(ctx, 0); err != nil || len(rep.GetUnrecoverable()) > 0 || len(rep.GetFailed()) > 0 {
		t.Fatalf("scrub: %v %v", rep, err)
	}
}

// rotationEvents returns the MASTER_KEY_ROTATE events of the trail.
func rotationEvents(t *testing.T, s *Store) []*recordv1.AuditEvent {
	t.Helper()
	evs, _, err := s.AuditTrail().List(context.Background(), audit.Filter{Kind: audit.KindMasterKeyRotate})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// checkKeyFiles checks the key files after a finished rotation away from
// old: master.key holds another key, no master.key.next is left, and one
// master.key.old-* keeps old, which no longer opens the store.
func checkKeyFiles(t *testing.T, dir string, old []byte) {
	t.Helper()
	path := filepath.Join(dir, MasterKeyFileName)
	if b, err := os.ReadFile(path); err != nil || bytes.Equal(b, old) {
		t.Fatalf("master.key still holds the old key (%v)", err)
	}
	if _, err := os.Stat(path + ".next"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("master.key.next left behind: %v", err)
	}
	kept, _ := filepath.Glob(path + ".old-*")
	if len(kept) != 1 {
		t.Fatalf("old key files %v, want one", kept)
	}
	if b, err := os.ReadFile(kept[0]); err != nil || !bytes.Equal(b, old) {
		t.Fatalf("%s does not keep the old key (%v)", kept[0], err)
	}
	if fi, err := os.Stat(kept[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v", kept[0], fi, err)
	}
	cfg := rotConfig(dir, nil)
	cfg.MasterKeyFile = kept[0]
	if s, err := Open(context.Background(), cfg); err == nil {
		s.Close()
		t.Fatal("the old master key still opens the store")
	} else if !errors.Is(err, catalog.ErrEncryptionKey) {
		t.Fatalf("opening with the old key: %v, want catalog.ErrEncryptionKey", err)
	}
}

// TestMasterKeyRotation: after a rotation every archive of every kind
// reads bit-exact without any archive byte rewritten, MFA, receipts and
// audit checkpoints (old and new) still verify, the old key is kept aside
// and no longer opens the store, and all of it holds after a restart and
// after a second rotation.
// rootWithMFA is root proving MFA: populate confirms an MFA device, and
// from then on rotating the master key needs one
// (lock.CheckMasterKeyRotation).
var rootWithMFA = Caller{Principal: RootPrincipal, Root: true, MFAPresent: true}

func TestMasterKeyRotation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := &testClock{wall: mfaT0}
	s := openRotStore(t, dir, clk)
	defer func() { s.Close() }()
	f := populate(t, s, clk.Wall())
	shardsBefore := shardFileStamps(t, dir)
	old, _ := os.ReadFile(filepath.Join(dir, MasterKeyFileName))

	if _, err := s.RotateMasterKey(ctx, Caller{Principal: "alice"}); !errors.Is(err, wormvault.ErrPermissionDenied) {
		t.Fatalf("rotation by a non-root caller: %v", err)
	}
	if _, err := s.RotateMasterKey(ctx, root); !errors.Is(err, wormvault.ErrMFARequired) {
		t.Fatalf("rotation by root without MFA while a device is confirmed: %v", err)
	}
	rep, err := s.RotateMasterKey(ctx, rootWithMFA)
	if err != nil {
		t.Fatal(err)
	}
	// SERVICE: svc-empty, svc-small, svc-big and svc-0..4.
	if rep.RewrappedVersions != 8 || rep.RewrappedKMSKeys != 1 || rep.RewrappedMFADevices != 1 || len(rep.SkippedVersions) != 0 ||
		rep.Resumed || rep.OldKeyID == "" || rep.OldKeyID == rep.NewKeyID || filepath.Dir(rep.OldKeyFile) != dir {
		t.Fatalf("rotation report %+v", rep)
	}
	f.check(t, s)
	if rep, err := s.AuditTrail().Verify(ctx); err != nil || !rep.OK || rep.CheckpointsChecked != 2 {
		t.Fatalf("audit verify of checkpoints by both keys: %+v %v", rep, err)
	}
	clk.advance(MFAPeriod)
	if err := s.VerifyMFA(ctx, "phone "+codeAt(t, f.mfaSecret, clk.Wall())); err != nil {
		t.Fatalf("MFA after the rotation: %v", err)
	}
	if evs := rotationEvents(t, s); len(evs) != 1 || evs[0].GetDetails()["new_key_id"] != rep.NewKeyID || evs[0].GetDetails()["rewrapped_versions"] != "8" {
		t.Fatalf("MASTER_KEY_ROTATE events %v", evs)
	}
	// Uploads after the rotation, of each kind.
	f.data["after"] = encData(300, 5000)
	if _, err := s.Upload(ctx, root, UploadRequest{Vault: "enc", Key: "after"}, bytes.NewReader(f.data["after"])); err != nil {
		t.Fatal(err)
	}
	f.data["kms-after"] = encData(301, 150<<10)
	if _, err := s.Upload(ctx, root, UploadRequest{Vault: "enc", Key: "kms-after", Encryption: recordv1.EncryptionMode_ENCRYPTION_MODE_KMS, KMSKey: "rot-key"}, bytes.NewReader(f.data["kms-after"])); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if after := shardFileStamps(t, dir); !stampsKept(shardsBefore, after) {
		t.Fatal("the rotation rewrote shard files")
	}
	checkKeyFiles(t, dir, old)

	s = openRotStore(t, dir, clk)
	f.check(t, s)
	clk.advance(MFAPeriod)
	if err := s.VerifyMFA(ctx, "phone "+codeAt(t, f.mfaSecret, clk.Wall())); err != nil {
		t.Fatalf("MFA after a restart: %v", err)
	}
	// A second rotation: checkpoints of both earlier keys still verify.
	rep2, err := s.RotateMasterKey(ctx, rootWithMFA)
	if err != nil || rep2.OldKeyID != rep.NewKeyID || rep2.RewrappedVersions != 9 {
		t.Fatalf("second rotation: %+v %v", rep2, err)
	}
	s.Close()
	s = openRotStore(t, dir, clk)
	f.check(t, s)
	if evs := rotationEvents(t, s); len(evs) != 2 {
		t.Fatalf("%d MASTER_KEY_ROTATE events, want 2", len(evs))
	}
}

// shardFileStamps maps every shard file under dir to its size and mtime.
func shardFileStamps(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(filepath.Join(dir, "drives"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.Contains(p, string(filepath.Separator)+"shards"+string(filepath.Separator)) {
			out[p] = fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
		}
		return nil
	})
	return out
}

// stampsKept reports whether every file of before is in after unchanged.
func stampsKept(before, after map[string]string) bool {
	for p, st := range before {
		if after[p] != st {
			return false
		}
	}
	return len(before) > 0
}

// TestMasterKeyRotationRebuild: a catalog rebuilt from the journal after a
// rotation reads everything under the new key alone.
func TestMasterKeyRotationRebuild(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openRotStore(t, dir, nil)
	f := populate(t, s, time.Now())
	if _, err := s.RotateMasterKey(ctx, rootWithMFA); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := MoveCatalogAside(dir); err != nil {
		t.Fatal(err)
	}
	s = openRotStore(t, dir, nil)
	defer s.Close()
	if s.LastRebuild() == nil {
		t.Fatal("the catalog was not rebuilt")
	}
	f.check(t, s)
}

// TestMasterKeyRotationLateUpload: an upload that wrapped its data key
// under the old key and commits after the rotation is re-wrapped at its
// commit, so it reads after a restart that knows only the new key.
func TestMasterKeyRotationLateUpload(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openRotStore(t, dir, nil)
	defer func() { s.Close() }()
	s.CreateVault(ctx, root, "enc", wormvault.DefaultRetention{})
	data := encData(400, 200<<10)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := s.Upload(ctx, root, UploadRequest{Vault: "enc", Key: "late"}, pr)
		done <- err
	}()
	head := s.cfg.InlineThreshold + 1
	// The upload reads its head, then makes its data key, then reads on:
	// once the second write is taken, the key exists, under the old
	// master key.
	if _, err := pw.Write(data[:head]); err != nil {
		t.Fatal(err)
	}
	if _, err := pw.Write(data[head : head+1]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotateMasterKey(ctx, rootWithMFA); err != nil {
		t.Fatal(err)
	}
	pw.Write(data[head+1:])
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openRotStore(t, dir, nil)
	if got, err := readArchive(t, s, "enc", "late", 0, 0); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("late upload: %d bytes, %v", len(got), err)
	}
}

// Crash tests: a child process runs the rotation and is killed with
// SIGKILL at a crash point; the parent reopens the store, which finishes
// the rotation, and checks everything.
const (
	envCrashDir   = "WORMVAULT_ROTATE_CRASH_DIR"
	envCrashPoint = "WORMVAULT_ROTATE_CRASH_POINT"
	envCrashHit   = "WORMVAULT_ROTATE_CRASH_HIT"
)

// TestMasterKeyRotationCrashChild is the child: it runs only when the
// parent starts it.
func TestMasterKeyRotationCrashChild(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		t.Skip("run by TestMasterKeyRotationCrash")
	}
	point := os.Getenv(envCrashPoint)
	hit, _ := strconv.Atoi(os.Getenv(envCrashHit))
	var armed atomic.Bool
	var hits atomic.Int32
	cfg := rotConfig(dir, nil)
	cfg.CrashPoint = func(name string) {
		if armed.Load() && name == point && int(hits.Add(1)) == hit {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.master.batch = 2
	armed.Store(true)
	_, err = s.RotateMasterKey(context.Background(), rootWithMFA)
	t.Fatalf("the rotation ended (%v) without reaching crash point %s #%d (hit %d times)", err, point, hit, hits.Load())
}

func TestMasterKeyRotationCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, tc := range []struct {
		point string
		hit   int
	}{
		{CrashMasterKeyNextWritten, 1},
		{CrashAfterJournalAppend, 1}, // step 2 journaled, not committed
		{CrashMasterKeyRewrapBatch, 1},
		{CrashAfterJournalAppend, 3}, // a batch journaled, not committed
		{CrashMasterKeyRewrapBatch, 4},
		{CrashAfterCatalogCommit, 6}, // the event committed
		{CrashMasterKeyCatalogRekeyed, 1},
	} {
		t.Run(fmt.Sprintf("%s#%d", tc.point, tc.hit), func(t *testing.T) {
			dir := t.TempDir()
			s := openRotStore(t, dir, nil)
			f := populate(t, s, time.Now())
			s.Close()
			old, _ := os.ReadFile(filepath.Join(dir, MasterKeyFileName))

			cmd := exec.Command(os.Args[0], "-test.run=^TestMasterKeyRotationCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), envCrashDir+"="+dir, envCrashPoint+"="+tc.point, envCrashHit+"="+strconv.Itoa(tc.hit))
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child: %v\n%s", err, out)
			}
			if _, err := os.Stat(filepath.Join(dir, MasterKeyFileName+".next")); err != nil {
				t.Fatalf("no master.key.next after the crash: %v", err)
			}

			s = openRotStore(t, dir, nil)
			f.check(t, s)
			if evs := rotationEvents(t, s); len(evs) != 1 {
				t.Fatalf("%d MASTER_KEY_ROTATE events, want 1", len(evs))
			}
			s.Close()
			checkKeyFiles(t, dir, old)
		})
	}
}
