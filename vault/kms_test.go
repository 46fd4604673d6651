package vault

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/kms"
)

const kmsDay = 24 * time.Hour

// kmsStore opens a store on a fake clock with a KMS key "key1" and a vault
// "kvault".
func kmsStore(t *testing.T, dir string, clk *testClock) *Store {
	t.Helper()
	s := openStoreWithClock(t, dir, clk)
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if _, err := s.CreateKMSKey(ctx, root, "key1", "test key"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateVault(ctx, root, "kvault", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	return s
}

func kmsUpload(t *testing.T, s *Store, key string, data []byte, ret wormvault.Retention) *Archive {
	t.Helper()
	a, err := s.Upload(context.Background(), root, UploadRequest{Vault: "kvault", Key: key, Encryption: recordv1.EncryptionMode_ENCRYPTION_MODE_KMS, KMSKey: "key1", Retention: ret}, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("upload %s: %v", key, err)
	}
	return a
}

func kmsEvents(t *testing.T, s *Store, kind string) []*recordv1.AuditEvent {
	t.Helper()
	evs, _, err := s.AuditTrail().List(context.Background(), audit.Filter{Kind: kind, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestKMSDeletionWaitsForProtection: a key encrypting a version under
// retention cannot be scheduled for deletion; once it can, a legal hold
// placed during the window keeps the material past the deletion time until
// it is released.
func TestKMSDeletionWaitsForProtection(t *testing.T) {
	ctx := context.Background()
	clk := &testClock{wall: mfaT0}
	s := kmsStore(t, t.TempDir(), clk)
	data := encData(1, 1000)
	a := kmsUpload(t, s, "doc", data, wormvault.Retention{Mode: wormvault.RetentionCompliance, RetainUntil: mfaT0.Add(10 * kmsDay)})
	name := "kvault/doc@" + a.Record.GetVersionId()

	_, err := s.ScheduleKMSKeyDeletion(ctx, root, "key1", 7)
	if !errors.Is(err, wormvault.ErrKMSKeyProtectsLocked) || !strings.Contains(err.Error(), name) {
		t.Fatalf("schedule under retention: %v", err)
	}
	if _, err := s.DisableKMSKey(ctx, root, "key1", 0); !errors.Is(err, wormvault.ErrKMSKeyProtectsLocked) || !strings.Contains(err.Error(), name) {
		t.Fatalf("disable indefinitely under retention: %v", err)
	}

	clk.advance(10*kmsDay + time.Second)
	k, err := s.ScheduleKMSKeyDeletion(ctx, root, "key1", 7)
	if err != nil || k.State != kms.StatePendingDeletion {
		t.Fatalf("schedule after retention: %v %v", k.State, err)
	}
	if _, err := s.SetLegalHold(ctx, root, "kvault", "doc", "", true, "case-9", "litigation"); err != nil {
		t.Fatal(err)
	}
	clk.advance(8 * kmsDay)
	if k, err := s.GetKMSKey(ctx, root, "key1"); err != nil || k.State != kms.StatePendingDeletion || k.Versions[0].Wrapped == nil {
		t.Fatalf("deletion due under a legal hold: %v %v", k.State, err)
	}
	if n := len(kmsEvents(t, s, audit.KindKMSKeyDeleted)); n != 0 {
		t.Fatalf("%d KMS_KEY_DELETED events while held", n)
	}
	if _, err := s.SetLegalHold(ctx, root, "kvault", "doc", "", false, "case-9", ""); err != nil {
		t.Fatal(err)
	}
	k, err = s.GetKMSKey(ctx, root, "key1")
	if err != nil || k.State != kms.StateDeleted {
		t.Fatalf("after the hold: %v %v", k.State, err)
	}
	for _, v := range k.Versions {
		if v.Wrapped != nil {
			t.Fatal("a deleted key keeps its material")
		}
	}
	if n := len(kmsEvents(t, s, audit.KindKMSKeyDeleted)); n != 1 {
		t.Fatalf("%d KMS_KEY_DELETED events, want 1", n)
	}
	if _, _, err := s.Download(ctx, root, "kvault", "doc", "", 0, 0); !errors.Is(err, wormvault.ErrKMSKeyDeleted) || !strings.Contains(err.Error(), `"key1"`) {
		t.Fatalf("download under a deleted key: %v", err)
	}
	if _, err := s.CreateKMSKey(ctx, root, "key1", ""); !errors.Is(err, wormvault.ErrKMSKeyExists) {
		t.Fatalf("a deleted key's name was reused: %v", err)
	}
	if _, err := s.CancelKMSKeyDeletion(ctx, root, "key1"); !errors.Is(err, wormvault.ErrKMSKeyDeleted) {
		t.Fatalf("cancel after deletion: %v", err)
	}
}

// TestKMSTimedDisable: a key protecting a version may be disabled for at
// most 30 days and enables itself when they end.
func TestKMSTimedDisable(t *testing.T) {
	ctx := context.Background()
	clk := &testClock{wall: mfaT0}
	s := kmsStore(t, t.TempDir(), clk)
	data := encData(2, 200<<10) // sharded
	kmsUpload(t, s, "big", data, wormvault.Retention{Mode: wormvault.RetentionGovernance, RetainUntil: mfaT0.Add(365 * kmsDay)})
	if _, err := s.DisableKMSKey(ctx, root, "key1", 31); !errors.Is(err, wormvault.ErrKMSKeyProtectsLocked) {
		t.Fatalf("31 days: %v", err)
	}
	k, err := s.DisableKMSKey(ctx, root, "key1", 30)
	if err != nil || k.State != kms.StateDisabled || !k.DisableUntil.Equal(mfaT0.Add(30*kmsDay)) {
		t.Fatalf("30 days: %+v %v", k, err)
	}
	if _, err := readArchive(t, s, "kvault", "big", 0, 0); !errors.Is(err, wormvault.ErrKMSKeyDisabled) {
		t.Fatalf("read while disabled: %v", err)
	}
	clk.advance(30 * kmsDay)
	if k, err := s.GetKMSKey(ctx, root, "key1"); err != nil || k.State != kms.StateEnabled {
		t.Fatalf("after the window: %v %v", k.State, err)
	}
	if got, err := readArchive(t, s, "kvault", "big", 0, 0); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after the window: %v", err)
	}
}

// TestKMSIndexSurvivesRebuild: the kmsuse index comes back with the
// versions when meta/ is rebuilt from the journal, so protection still
// refuses the deletion.
func TestKMSIndexSurvivesRebuild(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := &testClock{wall: mfaT0}
	s := openStoreWithClock(t, dir, clk)
	if _, err := s.CreateKMSKey(ctx, root, "key1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateVaultWith(ctx, root, NewVault{Name: "kvault", DefaultEncryption: Encryption{Mode: recordv1.EncryptionMode_ENCRYPTION_MODE_KMS, KMSKey: "key1"}}); err != nil {
		t.Fatal(err)
	}
	data := encData(3, 5000)
	a, err := s.Upload(ctx, root, UploadRequest{Vault: "kvault", Key: "held", LegalHold: true}, bytes.NewReader(data))
	if err != nil || a.Record.GetEncryption().GetKmsKey() != "key1" {
		t.Fatalf("default KMS upload: %v %v", a, err)
	}
	s.Close()
	if err := os.RemoveAll(filepath.Join(dir, "meta")); err != nil {
		t.Fatal(err)
	}
	s = openStoreWithClock(t, dir, clk)
	defer s.Close()
	if s.LastRebuild() == nil {
		t.Fatal("no rebuild")
	}
	if _, err := s.ScheduleKMSKeyDeletion(ctx, root, "key1", 7); !errors.Is(err, wormvault.ErrKMSKeyProtectsLocked) {
		t.Fatalf("after rebuild: %v", err)
	}
	if got, err := readArchive(t, s, "kvault", "held", 0, 0); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after rebuild: %v", err)
	}
}

// TestKMSScrub: the scrub verifies KMS-encrypted inline archives without
// spending quota or appending KMS_DECRYPT events.
func TestKMSScrub(t *testing.T) {
	ctx := context.Background()
	clk := &testClock{wall: mfaT0}
	s := kmsStore(t, t.TempDir(), clk)
	kmsUpload(t, s, "small", encData(4, 100), wormvault.Retention{})
	if _, err := s.DisableKMSKey(ctx, root, "key1", 0); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Scrub(ctx, 0)
	if err != nil || len(rep.GetUnrecoverable()) != 0 || rep.GetArchivesChecked() != 1 {
		t.Fatalf("scrub: %v %v", rep, err)
	}
	if n := len(kmsEvents(t, s, audit.KindKMSDecrypt)); n != 0 {
		t.Fatalf("the scrub appended %d KMS_DECRYPT events", n)
	}
}

// TestUnencryptedMode: ENCRYPTION_MODE_NONE only when the server allows it,
// asked for or as a vault default; its bytes are stored as they are.
func TestUnencryptedMode(t *testing.T) {
	ctx := context.Background()
	none := Encryption{Mode: recordv1.EncryptionMode_ENCRYPTION_MODE_NONE}
	s := openEncStore(t, t.TempDir(), 128<<10)
	defer s.Close()
	s.CreateVault(ctx, root, "plain", wormvault.DefaultRetention{})
	if _, err := s.Upload(ctx, root, UploadRequest{Vault: "plain", Key: "k", Encryption: none.Mode}, strings.NewReader("x")); !errors.Is(err, wormvault.ErrInvalidArgument) || !strings.Contains(err.Error(), "header.encryption.mode") {
		t.Fatalf("NONE refused: %v", err)
	}
	if _, err := s.CreateVaultWith(ctx, root, NewVault{Name: "plain2", DefaultEncryption: none}); !errors.Is(err, wormvault.ErrInvalidArgument) || !strings.Contains(err.Error(), "default_encryption.mode") {
		t.Fatalf("NONE default refused: %v", err)
	}
	s.Close()

	dir := t.TempDir()
	cfg := DefaultConfig(dir)
	cfg.BlockSize = 64 << 10
	cfg.AllowUnencrypted = true
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateVaultWith(ctx, root, NewVault{Name: "plain", DefaultEncryption: none}); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, 1, 1000, 200 << 10} {
		data := encData(uint64(size), size)
		key := "k" + strings.Repeat("x", size%7)
		a, err := s.Upload(ctx, root, UploadRequest{Vault: "plain", Key: key}, bytes.NewReader(data))
		if err != nil || a.Record.GetEncryption().GetMode() != recordv1.EncryptionMode_ENCRYPTION_MODE_NONE || encrypted(a.Record) {
			t.Fatalf("size %d: %v %v", size, a, err)
		}
		_, rc, err := s.Download(ctx, root, "plain", key, a.Record.GetVersionId(), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read back %d bytes, %v", size, len(got), err)
		}
	}
}

// TestVaultDefaultEncryption: a vault's default is validated (a KMS key
// must exist), reported, and changeable.
func TestVaultDefaultEncryption(t *testing.T) {
	ctx := context.Background()
	clk := &testClock{wall: mfaT0}
	s := kmsStore(t, t.TempDir(), clk)
	kmsDefault := Encryption{Mode: recordv1.EncryptionMode_ENCRYPTION_MODE_KMS, KMSKey: "key1"}
	for _, tc := range []struct {
		e    Encryption
		want error
		text string
	}{
		{Encryption{Mode: recordv1.EncryptionMode_ENCRYPTION_MODE_KMS, KMSKey: "nope"}, wormvault.ErrKMSKeyNotFound, "default_encryption.kms_key"},
		{Encryption{Mode: recordv1.EncryptionMode_ENCRYPTION_MODE_KMS}, wormvault.ErrInvalidArgument, "default_encryption.kms_key"},
		{Encryption{Mode: recordv1.EncryptionMode_ENCRYPTION_MODE_SERVICE, KMSKey: "key1"}, wormvault.ErrInvalidArgument, "default_encryption.kms_key"},
		{Encryption{Mode: recordv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER}, wormvault.ErrInvalidArgument, "default_encryption.mode"},
	} {
		if _, err := s.CreateVaultWith(ctx, root, NewVault{Name: "bad", DefaultEncryption: tc.e}); !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%+v: %v, want %v naming %s", tc.e, err, tc.want, tc.text)
		}
	}
	v, err := s.GetVault(ctx, root, "kvault")
	if err != nil || v.DefaultEncryption.Mode != recordv1.EncryptionMode_ENCRYPTION_MODE_SERVICE {
		t.Fatalf("new vault default: %+v %v", v, err)
	}
	if v, err = s.UpdateVault(ctx, root, "kvault", VaultUpdate{DefaultEncryption: &kmsDefault}); err != nil || v.DefaultEncryption != kmsDefault {
		t.Fatalf("update: %+v %v", v, err)
	}
	a := kmsUpload(t, s, "explicit", []byte("x"), wormvault.Retention{})
	b, err := s.Upload(ctx, root, UploadRequest{Vault: "kvault", Key: "default"}, strings.NewReader("y"))
	if err != nil || b.Record.GetEncryption().GetKmsKey() != "key1" || a.Record.GetEncryption().GetKmsKeyVersion() != 1 {
		t.Fatalf("default upload: %v %v", b, err)
	}
	if n := len(kmsEvents(t, s, audit.KindKMSGenerateDataKey)); n != 2 {
		t.Fatalf("%d KMS_GENERATE_DATA_KEY events, want 2", n)
	}
	if v, err = s.UpdateVault(ctx, root, "kvault", VaultUpdate{DefaultEncryption: &Encryption{}}); err != nil || v.DefaultEncryption.Mode != recordv1.EncryptionMode_ENCRYPTION_MODE_SERVICE {
		t.Fatalf("back to SERVICE: %+v %v", v, err)
	}
}
