package client_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
	"github.com/wormvault/wormvault/server/servertest"
)

// mfaDevice registers and confirms an MFA device as root and returns a
// function giving its code for the TOTP step n steps after the one the
// confirmation spent. The server accepts one step either side of the
// current one, and each step once, so n is 1 within the next 30 s.
func mfaDevice(t *testing.T, c *client.Client, name string) func(n int) string {
	t.Helper()
	reg, err := c.RegisterMFADevice(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(reg.GetOtpauthUrl(), "otpauth://totp/") || reg.GetSecret() == "" {
		t.Fatalf("RegisterMFADevice = %v", reg)
	}
	base := time.Now()
	code := func(n int) string {
		s, err := totp.GenerateCode(reg.GetSecret(), base.Add(time.Duration(n)*30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if err := c.ConfirmMFADevice(t.Context(), name, code(0)); err != nil {
		t.Fatal(err)
	}
	return code
}

func TestE2EMFA(t *testing.T) {
	srv := servertest.Start(t)
	root := dial(t, srv)
	ctx := t.Context()

	// Confirmation needs a well-formed, current code.
	reg, err := root.RegisterMFADevice(ctx, "unconfirmed")
	if err != nil {
		t.Fatal(err)
	}
	if err := root.ConfirmMFADevice(ctx, "unconfirmed", "12ab"); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Errorf("ConfirmMFADevice with a malformed code: err = %v, want ErrInvalidArgument", err)
	}
	stale, _ := totp.GenerateCode(reg.GetSecret(), time.Now().Add(-time.Hour))
	if err := root.ConfirmMFADevice(ctx, "unconfirmed", stale); !errors.Is(err, wormvault.ErrMFAInvalid) {
		t.Errorf("ConfirmMFADevice with an hour-old code: err = %v, want ErrMFAInvalid", err)
	}

	a := mfaDevice(t, root, "phone")
	b := mfaDevice(t, root, "yubikey")
	if err := root.ConfirmMFADevice(ctx, "phone", a(1)); !errors.Is(err, wormvault.ErrFailedPrecondition) {
		t.Errorf("ConfirmMFADevice twice: err = %v, want ErrFailedPrecondition", err)
	}

	// Turning MFA delete on needs MFA: ContextWithMFA on the one call.
	if _, err := root.CreateVault(ctx, "sealed"); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateVault(ctx, "x", client.WithMFADelete(true)); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Errorf("CreateVault WithMFADelete: err = %v, want ErrInvalidArgument", err)
	}
	if _, err := root.UpdateVault(ctx, "sealed", client.WithMFADelete(true)); !errors.Is(err, wormvault.ErrMFARequired) {
		t.Errorf("UpdateVault WithMFADelete without MFA: err = %v, want ErrMFARequired", err)
	}
	mctx := client.ContextWithMFA(ctx, "phone", a(1))
	v, err := root.UpdateVault(mctx, "sealed", client.WithMFADelete(true))
	if err != nil || !v.GetMfaDelete() {
		t.Fatalf("UpdateVault WithMFADelete with MFA = %v, %v", v, err)
	}
	// Each code is accepted once.
	if _, err := root.GetVault(mctx, "sealed"); !errors.Is(err, wormvault.ErrMFAInvalid) {
		t.Errorf("replayed MFA code: err = %v, want ErrMFAInvalid", err)
	}

	// A permanent delete in the vault needs MFA: WithMFA on a one-shot client.
	ar, err := root.Upload(ctx, "sealed", "k", bytes.NewReader([]byte("x")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Delete(ctx, "sealed", "k", ar.GetVersionId(), false); !errors.Is(err, wormvault.ErrMFARequired) {
		t.Errorf("permanent delete without MFA: err = %v, want ErrMFARequired", err)
	}
	once := dial(t, srv, client.WithMFA("yubikey", b(1)))
	if _, err := once.Delete(ctx, "sealed", "k", ar.GetVersionId(), false); err != nil {
		t.Errorf("permanent delete with MFA: %v", err)
	}
	if _, err := root.Stat(ctx, "sealed", "k", ar.GetVersionId()); !errors.Is(err, wormvault.ErrNotFound) {
		t.Errorf("Stat after the permanent delete: err = %v, want ErrNotFound", err)
	}
}
