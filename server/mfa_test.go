package server_test

// MFA through the real server: TOTP devices, the x-wormvault-mfa metadata,
// and MFA delete. Time is the fake clock of objectlock_test.go, which the
// TOTP validation reads too (t0 is on a 30-second step boundary).

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

const mfaStep = 30 * time.Second

// totpCode is the code of secret for the step that holds at.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// withMFA is c's context carrying x-wormvault-mfa.
func withMFA(c *conn, device, code string) context.Context {
	return metadata.AppendToOutgoingContext(c.ctx(), "x-wormvault-mfa", device+" "+code)
}

func setMFADelete(ctx context.Context, c *conn, vault string, on bool) error {
	_, err := c.vaults.UpdateVault(ctx, &wormvaultv1.UpdateVaultRequest{
		Vault: &wormvaultv1.Vault{Name: vault, MfaDelete: on}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"mfa_delete"}},
	})
	return err
}

func TestMFA(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	ids := wormvaultv1.NewIdentityServiceClient(c.cc)
	alice := newPrincipal(t, c, "alice", `{"statements":[{"sid":"all","effect":"ALLOW","principals":["alice"],"actions":["wormvault:*"],"resources":["*"]}]}`)
	aliceIDs := wormvaultv1.NewIdentityServiceClient(alice.cc)

	// Register and confirm: root only.
	_, err := aliceIDs.RegisterMFADevice(alice.ctx(), &wormvaultv1.RegisterMFADeviceRequest{Name: "phone"})
	wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
	_, err = ids.RegisterMFADevice(c.ctx(), &wormvaultv1.RegisterMFADeviceRequest{Name: "no/slash"})
	wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
	reg, err := ids.RegisterMFADevice(c.ctx(), &wormvaultv1.RegisterMFADeviceRequest{Name: "phone"})
	mustOK(t, err, "RegisterMFADevice")
	secret := reg.GetSecret()
	if !strings.HasPrefix(reg.GetOtpauthUrl(), "otpauth://totp/wormvault:phone?") || !strings.Contains(reg.GetOtpauthUrl(), "secret="+secret) {
		t.Fatalf("otpauth_url = %q", reg.GetOtpauthUrl())
	}
	// An unconfirmed device proves nothing.
	_, err = c.vaults.GetVault(withMFA(c, "phone", totpCode(t, secret, fc.now())), &wormvaultv1.GetVaultRequest{Name: "none"})
	wantStatus(t, err, codes.PermissionDenied, "MFA_INVALID")
	_, err = ids.ConfirmMFADevice(c.ctx(), &wormvaultv1.ConfirmMFADeviceRequest{Name: "phone", Code: totpCode(t, secret, fc.now().Add(-2*mfaStep))})
	wantStatus(t, err, codes.PermissionDenied, "MFA_INVALID")
	_, err = aliceIDs.ConfirmMFADevice(alice.ctx(), &wormvaultv1.ConfirmMFADeviceRequest{Name: "phone", Code: totpCode(t, secret, fc.now())})
	wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
	_, err = ids.ConfirmMFADevice(c.ctx(), &wormvaultv1.ConfirmMFADeviceRequest{Name: "phone", Code: totpCode(t, secret, fc.now())})
	mustOK(t, err, "ConfirmMFADevice")
	_, err = ids.RegisterMFADevice(c.ctx(), &wormvaultv1.RegisterMFADeviceRequest{Name: "phone"})
	wantStatus(t, err, codes.AlreadyExists, "ALREADY_EXISTS")

	const v = "mfa-vault"
	c.createVault(v)
	a := c.put(v, "k", []byte("keep me"))
	vid := a.GetVersionId()
	code := func() string { return totpCode(t, secret, fc.now()) }

	// The confirming code is spent; each refusal below changes nothing.
	refused(t, c, s, codes.PermissionDenied, "MFA_INVALID", "", func() error {
		return setMFADelete(withMFA(c, "phone", code()), c, v, true)
	})
	fc.advance(mfaStep)
	refused(t, c, s, codes.PermissionDenied, "MFA_REQUIRED", "", func() error { return setMFADelete(c.ctx(), c, v, true) })
	wrong := "000000"
	if wrong == code() {
		wrong = "111111"
	}
	refused(t, c, s, codes.PermissionDenied, "MFA_INVALID", "", func() error {
		return setMFADelete(withMFA(c, "phone", wrong), c, v, true)
	})
	refused(t, c, s, codes.PermissionDenied, "MFA_INVALID", "", func() error {
		return setMFADelete(withMFA(c, "phone", totpCode(t, secret, fc.now().Add(-2*mfaStep))), c, v, true)
	})
	refused(t, c, s, codes.PermissionDenied, "MFA_INVALID", "", func() error {
		return setMFADelete(withMFA(c, "laptop", code()), c, v, true)
	})
	refused(t, c, s, codes.PermissionDenied, "MFA_INVALID", "", func() error {
		ctx := metadata.AppendToOutgoingContext(c.ctx(), "x-wormvault-mfa", "phone")
		return setMFADelete(ctx, c, v, true)
	})
	// Non-root, even with a valid code, may not change MFA delete.
	refused(t, c, s, codes.PermissionDenied, "PERMISSION_DENIED", "", func() error {
		return setMFADelete(withMFA(alice, "phone", code()), alice, v, true)
	})

	// Root with a valid code enables it; the code cannot be used again.
	fc.advance(mfaStep)
	enableCode := code()
	mustOK(t, setMFADelete(withMFA(c, "phone", enableCode), c, v, true), "enable MFA delete")
	got, err := c.vaults.GetVault(c.ctx(), &wormvaultv1.GetVaultRequest{Name: v})
	if err != nil || !got.GetVault().GetMfaDelete() {
		t.Fatalf("GetVault after enabling: %v, %v", got, err)
	}
	refused(t, c, s, codes.PermissionDenied, "MFA_INVALID", "", func() error {
		_, err := c.vaults.GetVault(withMFA(c, "phone", enableCode), &wormvaultv1.GetVaultRequest{Name: v})
		return err
	})

	// Permanent deletes need MFA; ExplainProtection says so.
	refused(t, c, s, codes.PermissionDenied, "MFA_REQUIRED", "", func() error {
		_, err := c.deleteArchive(v, "k", vid, false)
		return err
	})
	if p := c.explain(v, "k", vid).GetProtections(); len(p) != 1 || p[0].GetKind() != "MFA_DELETE" {
		t.Fatalf("ExplainProtection = %v, want MFA_DELETE", p)
	}
	refused(t, c, s, codes.PermissionDenied, "MFA_REQUIRED", "", func() error { return setMFADelete(c.ctx(), c, v, false) })

	// Delete markers and listing versions do not.
	m, err := c.deleteArchive(v, "k", "", false)
	if err != nil || !m.GetDeleteMarker() {
		t.Fatalf("delete marker without MFA: %v, %v", m, err)
	}
	l, err := c.archives.ListArchives(c.ctx(), &wormvaultv1.ListArchivesRequest{Vault: v, AllVersions: true})
	if err != nil || len(l.GetArchives()) != 2 {
		t.Fatalf("ListArchives without MFA: %v, %v", l, err)
	}

	// With a fresh code the version goes; with another, MFA delete is off.
	fc.advance(mfaStep)
	_, err = c.archives.DeleteArchive(withMFA(c, "phone", code()), &wormvaultv1.DeleteArchiveRequest{Vault: v, Key: "k", VersionId: vid})
	mustOK(t, err, "permanent delete with MFA")
	fc.advance(mfaStep)
	mustOK(t, setMFADelete(withMFA(c, "phone", code()), c, v, false), "disable MFA delete")
	if _, err := c.deleteArchive(v, "k", m.GetVersionId(), false); err != nil {
		t.Fatalf("permanent delete with MFA delete off: %v", err)
	}
}

// TestMFAPolicyCondition: request.mfa_present reaches policy conditions.
func TestMFAPolicyCondition(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	ids := wormvaultv1.NewIdentityServiceClient(c.cc)
	reg, err := ids.RegisterMFADevice(c.ctx(), &wormvaultv1.RegisterMFADeviceRequest{Name: "key-1"})
	mustOK(t, err, "RegisterMFADevice")
	_, err = ids.ConfirmMFADevice(c.ctx(), &wormvaultv1.ConfirmMFADeviceRequest{Name: "key-1", Code: totpCode(t, reg.GetSecret(), fc.now())})
	mustOK(t, err, "ConfirmMFADevice")

	const v = "mfa-policy"
	c.createVault(v)
	mustOK(t, c.setAccessPolicy(v, `{"statements":[{"sid":"needs-mfa","effect":"DENY","principals":["*"],
		"actions":["wormvault:GetVault"],"resources":["vaults/mfa-policy"],"condition":"!request.mfa_present"}]}`), "set policy")
	refused(t, c, s, codes.PermissionDenied, "POLICY_DENIED", "", func() error {
		_, err := c.vaults.GetVault(c.ctx(), &wormvaultv1.GetVaultRequest{Name: v})
		return err
	})
	fc.advance(mfaStep)
	_, err = c.vaults.GetVault(withMFA(c, "key-1", totpCode(t, reg.GetSecret(), fc.now())), &wormvaultv1.GetVaultRequest{Name: v})
	mustOK(t, err, "GetVault with MFA")
}

// TestRotateMasterKeyNeedsMFA: once root has a confirmed MFA device,
// rotating the master key takes a valid code too, as turning MFA delete
// off does: a stolen root key alone cannot drive key management.
func TestRotateMasterKeyNeedsMFA(t *testing.T) {
	fc := newFakeClock()
	_, c := startWithClock(t, fc)
	ids := wormvaultv1.NewIdentityServiceClient(c.cc)
	reg, err := ids.RegisterMFADevice(c.ctx(), &wormvaultv1.RegisterMFADeviceRequest{Name: "phone"})
	mustOK(t, err, "RegisterMFADevice")
	// Registered, not confirmed: nothing to prove yet.
	_, err = c.admin.RotateMasterKey(c.ctx(), &wormvaultv1.RotateMasterKeyRequest{})
	mustOK(t, err, "RotateMasterKey before any device is confirmed")
	_, err = ids.ConfirmMFADevice(c.ctx(), &wormvaultv1.ConfirmMFADeviceRequest{Name: "phone", Code: totpCode(t, reg.GetSecret(), fc.now())})
	mustOK(t, err, "ConfirmMFADevice")
	fc.advance(mfaStep)
	_, err = c.admin.RotateMasterKey(c.ctx(), &wormvaultv1.RotateMasterKeyRequest{})
	wantStatus(t, err, codes.PermissionDenied, "MFA_REQUIRED")
	_, err = c.admin.RotateMasterKey(withMFA(c, "phone", totpCode(t, reg.GetSecret(), fc.now())), &wormvaultv1.RotateMasterKeyRequest{})
	mustOK(t, err, "RotateMasterKey with MFA")
}

// TestMFAEnrolmentNeedsMFA: once a device is confirmed, registering or
// confirming another takes a code from a confirmed one, so a stolen root
// key cannot enrol a device of its own and then pass every MFA check.
func TestMFAEnrolmentNeedsMFA(t *testing.T) {
	fc := newFakeClock()
	_, c := startWithClock(t, fc)
	ids := wormvaultv1.NewIdentityServiceClient(c.cc)
	phone, err := ids.RegisterMFADevice(c.ctx(), &wormvaultv1.RegisterMFADeviceRequest{Name: "phone"})
	mustOK(t, err, "RegisterMFADevice phone")
	// Registered before phone was confirmed, so confirming it is the test.
	early, err := ids.RegisterMFADevice(c.ctx(), &wormvaultv1.RegisterMFADeviceRequest{Name: "early"})
	mustOK(t, err, "RegisterMFADevice early")
	_, err = ids.ConfirmMFADevice(c.ctx(), &wormvaultv1.ConfirmMFADeviceRequest{Name: "phone", Code: totpCode(t, phone.GetSecret(), fc.now())})
	mustOK(t, err, "ConfirmMFADevice phone")

	fc.advance(mfaStep)
	_, err = ids.RegisterMFADevice(c.ctx(), &wormvaultv1.RegisterMFADeviceRequest{Name: "laptop"})
	wantStatus(t, err, codes.PermissionDenied, "MFA_REQUIRED")
	_, err = ids.ConfirmMFADevice(c.ctx(), &wormvaultv1.ConfirmMFADeviceRequest{Name: "early", Code: totpCode(t, early.GetSecret(), fc.now())})
	wantStatus(t, err, codes.PermissionDenied, "MFA_REQUIRED")
	laptop, err := ids.RegisterMFADevice(withMFA(c, "phone", totpCode(t, phone.GetSecret(), fc.now())), &wormvaultv1.RegisterMFADeviceRequest{Name: "laptop"})
	mustOK(t, err, "RegisterMFADevice laptop with MFA")
	fc.advance(mfaStep)
	_, err = ids.ConfirmMFADevice(withMFA(c, "phone", totpCode(t, phone.GetSecret(), fc.now())),
		&wormvaultv1.ConfirmMFADeviceRequest{Name: "laptop", Code: totpCode(t, laptop.GetSecret(), fc.now())})
	mustOK(t, err, "ConfirmMFADevice laptop with MFA")
}
