package client_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
	"github.com/wormvault/wormvault/server/servertest"
)

// mfaDevice registers and confirms an MFA device as root, on a server that
// reads clk, and returns a function giving its code at clk's time. Once a
// device is confirmed, enrolling another takes a code of a confirmed one:
// by, when not nil, gives it (and each code is accepted once, so the clock
// moves to the next TOTP step before each use).
func mfaDevice(t *testing.T, c *client.Client, clk *servertest.Clock, name string, by func() (string, string)) func() string {
	t.Helper()
	ctx := func() context.Context {
		if by == nil {
			return t.Context()
		}
		clk.Advance(30 * time.Second)
		device, code := by()
		return client.ContextWithMFA(t.Context(), device, code)
	}
	reg, err := c.RegisterMFADevice(ctx(), name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(reg.GetOtpauthUrl(), "otpauth://totp/") || reg.GetSecret() == "" {
		t.Fatalf("RegisterMFADevice = %v", reg)
	}
	code := func() string {
		s, err := totp.GenerateCode(reg.GetSecret(), clk.Wall())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	confirmCtx := ctx()
	if err := c.ConfirmMFADevice(confirmCtx, name, code()); err != nil {
		t.Fatal(err)
	}
	return code
}

func TestE2EMFA(t *testing.T) {
	clk := servertest.NewClock(time.Now())
	srv := servertest.Start(t, servertest.WithClock(clk))
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
	stale, _ := totp.GenerateCode(reg.GetSecret(), clk.Wall().Add(-time.Hour))
	if err := root.ConfirmMFADevice(ctx, "unconfirmed", stale); !errors.Is(err, wormvault.ErrMFAInvalid) {
		t.Errorf("ConfirmMFADevice with an hour-old code: err = %v, want ErrMFAInvalid", err)
	}

	a := mfaDevice(t, root, clk, "phone", nil)
	if err := root.ConfirmMFADevice(ctx, "phone", a()); !errors.Is(err, wormvault.ErrFailedPrecondition) {
		t.Errorf("ConfirmMFADevice twice: err = %v, want ErrFailedPrecondition", err)
	}
	// A second device: only with MFA from the first.
	if _, err := root.RegisterMFADevice(ctx, "yubikey"); !errors.Is(err, wormvault.ErrMFARequired) {
		t.Errorf("RegisterMFADevice of a second device without MFA: err = %v, want ErrMFARequired", err)
	}
	b := mfaDevice(t, root, clk, "yubikey", func() (string, string) { return "phone", a() })
	clk.Advance(30 * time.Second)

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
	mctx := client.ContextWithMFA(ctx, "phone", a())
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
	once := dial(t, srv, client.WithMFA("yubikey", b()))
	if _, err := once.Delete(ctx, "sealed", "k", ar.GetVersionId(), false); err != nil {
		t.Errorf("permanent delete with MFA: %v", err)
	}
	if _, err := root.Stat(ctx, "sealed", "k", ar.GetVersionId()); !errors.Is(err, wormvault.ErrNotFound) {
		t.Errorf("Stat after the permanent delete: err = %v, want ErrNotFound", err)
	}
}
