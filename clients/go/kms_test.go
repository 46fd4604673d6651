package client_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

// TestE2EKMS: keys through the SDK, uploads under a key (asked for and by
// vault default), and the KMS errors as sentinels.
func TestE2EKMS(t *testing.T) {
	srv := servertest.Start(t)
	ctx := t.Context()
	c := dial(t, srv)
	if _, err := c.CreateKey(ctx, "sdk-key", "for the SDK"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateKey(ctx, "sdk-key", ""); !errors.Is(err, wormvault.ErrKMSKeyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	v, err := c.CreateVault(ctx, "sdk-kms", client.WithDefaultEncryptionKMS("sdk-key"))
	if err != nil || v.GetDefaultEncryption().GetKmsKey() != "sdk-key" {
		t.Fatalf("CreateVault: %v %v", v, err)
	}
	data := randomBytes(t, 100<<10)
	a, err := c.Upload(ctx, "sdk-kms", "by-default", bytes.NewReader(data))
	if err != nil || a.GetEncryption().GetMode() != wormvaultv1.EncryptionMode_ENCRYPTION_MODE_KMS {
		t.Fatalf("default upload: %v %v", a, err)
	}
	if v, err = c.UpdateVault(ctx, "sdk-kms", client.WithDefaultEncryptionService()); err != nil || v.GetDefaultEncryption().GetMode() != wormvaultv1.EncryptionMode_ENCRYPTION_MODE_SERVICE {
		t.Fatalf("UpdateVault: %v %v", v, err)
	}
	if a, err = c.Upload(ctx, "sdk-kms", "asked", bytes.NewReader(data), client.WithKMSKey("sdk-key")); err != nil || a.GetEncryption().GetKmsKey() != "sdk-key" {
		t.Fatalf("KMS upload: %v %v", a, err)
	}
	if _, err := c.Upload(ctx, "sdk-kms", "x", bytes.NewReader(data), client.WithKMSKey("no-such-key")); !errors.Is(err, wormvault.ErrKMSKeyNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	if k, err := c.RotateKey(ctx, "sdk-key"); err != nil || k.GetCurrentVersion() != 2 {
		t.Fatalf("RotateKey: %v %v", k, err)
	}
	if _, err := c.DisableKey(ctx, "sdk-key", 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Download(ctx, "sdk-kms", "asked"); !errors.Is(err, wormvault.ErrKMSKeyDisabled) {
		t.Fatalf("download while disabled: %v", err)
	}
	if _, err := c.EnableKey(ctx, "sdk-key"); err != nil {
		t.Fatal(err)
	}
	_, rc, err := c.Download(ctx, "sdk-kms", "by-default")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("download: %v", err)
	}
	if _, err := c.ScheduleKeyDeletion(ctx, "sdk-key", 3); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Fatalf("3 days: %v", err)
	}
	if k, err := c.ScheduleKeyDeletion(ctx, "sdk-key", 7); err != nil || k.GetState() != wormvaultv1.KeyState_KEY_STATE_PENDING_DELETION {
		t.Fatalf("schedule: %v %v", k, err)
	}
	if k, err := c.CancelKeyDeletion(ctx, "sdk-key"); err != nil || k.GetState() != wormvaultv1.KeyState_KEY_STATE_ENABLED {
		t.Fatalf("cancel: %v %v", k, err)
	}
	n := 0
	for k, err := range c.ListKeys(ctx) {
		if err != nil || k.GetName() != "sdk-key" {
			t.Fatalf("ListKeys: %v %v", k, err)
		}
		n++
	}
	if k, err := c.GetKey(ctx, "sdk-key"); n != 1 || err != nil || k.GetVersionCount() != 2 {
		t.Fatalf("GetKey: %v %v", k, err)
	}
}
