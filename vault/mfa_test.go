package vault

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/lock"
	"github.com/wormvault/wormvault/vault/catalog"
)

// mfaT0 starts on a step boundary, so "now + n steps" is unambiguous.
var mfaT0 = time.Date(2031, time.March, 10, 9, 0, 0, 0, time.UTC)

// testClock is a fake wall clock and monotonic clock that move together.
type testClock struct {
	mu      sync.Mutex
	wall    time.Time
	elapsed time.Duration
}

func (c *testClock) Wall() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall
}

func (c *testClock) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.elapsed
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wall, c.elapsed = c.wall.Add(d), c.elapsed+d
}

func openStoreWithClock(t *testing.T, dir string, c *testClock) *Store {
	t.Helper()
	cfg := DefaultConfig(dir)
	cfg.BlockSize = 64 << 10
	cfg.Wall, cfg.Elapsed = c.Wall, c.Elapsed
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// codeAt is the device's code for the step that holds t.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestParseMFAHeader(t *testing.T) {
	for _, h := range []string{"phone 123456", "  phone   123456 ", "a.b_c-9 000000"} {
		if _, _, err := ParseMFAHeader(h); err != nil {
			t.Errorf("ParseMFAHeader(%q) = %v, want ok", h, err)
		}
	}
	for _, h := range []string{"", "phone", "123456", "phone 12345", "phone 1234567", "phone 12345a",
		"phone 123456 extra", "ph/one 123456", strings.Repeat("x", 65) + " 123456"} {
		if _, _, err := ParseMFAHeader(h); !errors.Is(err, wormvault.ErrMFAInvalid) {
			t.Errorf("ParseMFAHeader(%q) = %v, want ErrMFAInvalid", h, err)
		}
	}
}

func TestMatchMFACode(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := mfaT0.Add(10 * time.Second)
	cur := mfaStep(now)
	step := func(n int64) string { return codeAt(t, secret, time.Unix((cur+n)*30, 0)) }
	for _, tc := range []struct {
		name     string
		code     string
		lastUsed int64
		want     int64 // step matched, or -1 for refused
		replay   bool
	}{
		{"current step", step(0), 0, cur, false},
		{"one step behind", step(-1), 0, cur - 1, false},
		{"one step ahead", step(1), 0, cur + 1, false},
		{"two steps behind (expired)", step(-2), 0, -1, false},
		{"two steps ahead", step(2), 0, -1, false},
		{"used already", step(0), cur, -1, true},
		{"older than the last used", step(-1), cur, -1, true},
		{"newer than the last used", step(1), cur, cur + 1, false},
		{"not digits", "12a456", 0, -1, false},
	} {
		got, err := matchMFACode(secret, tc.code, now, tc.lastUsed)
		switch {
		case tc.want >= 0 && (err != nil || got != tc.want):
			t.Errorf("%s: got step %d, %v; want %d", tc.name, got, err, tc.want)
		case tc.want < 0 && !errors.Is(err, wormvault.ErrMFAInvalid):
			t.Errorf("%s: got step %d, %v; want ErrMFAInvalid", tc.name, got, err)
		case tc.want < 0 && tc.replay != strings.Contains(err.Error(), "already used"):
			t.Errorf("%s: %v; replay = %v", tc.name, err, tc.replay)
		}
	}
}

func mfaDevice(t *testing.T, s *Store, name string) (secret string, confirmed bool, lastUsed int64) {
	t.Helper()
	if err := s.catalog.View(func(tx *catalog.Txn) error {
		d, ok, err := tx.MFADevice(name)
		if err == nil && !ok {
			t.Fatalf("MFA device %q not in the catalog", name)
		}
		if err != nil {
			return err
		}
		if d.GetSecret() != "" {
			t.Fatalf("MFA device %q stores its secret in clear", name)
		}
		secret, err = s.mfaSecret(d)
		confirmed, lastUsed = d.GetConfirmed(), d.GetLastUsedStep()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return secret, confirmed, lastUsed
}

func TestMFADeviceLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := &testClock{wall: mfaT0}
	s := openStoreWithClock(t, dir, clk)
	alice := Caller{Principal: "alice"}

	if _, err := s.RegisterMFADevice(ctx, alice, "phone"); !errors.Is(err, wormvault.ErrPermissionDenied) {
		t.Fatalf("register as non-root: %v, want ErrPermissionDenied", err)
	}
	if _, err := s.RegisterMFADevice(ctx, root, "bad/name"); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Fatalf("register bad name: %v, want ErrInvalidArgument", err)
	}
	reg, err := s.RegisterMFADevice(ctx, root, "phone")
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(string(reg.OTPAuthURL))
	if err != nil || key.Secret() != string(reg.Secret) || key.Period() != 30 || key.Digits() != otp.DigitsSix || key.Issuer() != "wormvault" {
		t.Fatalf("otpauth URL %q does not describe the secret: %v", reg.OTPAuthURL, err)
	}
	secret := string(reg.Secret)

	// Not confirmed yet: its codes prove nothing.
	if err := s.VerifyMFA(ctx, "phone "+codeAt(t, secret, clk.Wall())); !errors.Is(err, wormvault.ErrMFAInvalid) {
		t.Fatalf("unconfirmed device: %v, want ErrMFAInvalid", err)
	}
	if err := s.ConfirmMFADevice(ctx, alice, "phone", codeAt(t, secret, clk.Wall())); !errors.Is(err, wormvault.ErrPermissionDenied) {
		t.Fatalf("confirm as non-root: %v, want ErrPermissionDenied", err)
	}
	if err := s.ConfirmMFADevice(ctx, root, "phone", codeAt(t, secret, clk.Wall().Add(-2*MFAPeriod))); !errors.Is(err, wormvault.ErrMFAInvalid) {
		t.Fatalf("confirm with an expired code: %v, want ErrMFAInvalid", err)
	}
	if err := s.ConfirmMFADevice(ctx, root, "nope", "123456"); !errors.Is(err, wormvault.ErrNotFound) {
		t.Fatalf("confirm unknown device: %v, want ErrNotFound", err)
	}
	if _, confirmed, _ := mfaDevice(t, s, "phone"); confirmed {
		t.Fatal("a refused confirmation confirmed the device")
	}
	confirmCode := codeAt(t, secret, clk.Wall())
	if err := s.ConfirmMFADevice(ctx, root, "phone", confirmCode); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegisterMFADevice(ctx, root, "phone"); !errors.Is(err, wormvault.ErrAlreadyExists) {
		t.Fatalf("register over a confirmed device: %v, want ErrAlreadyExists", err)
	}
	if got, _, _ := mfaDevice(t, s, "phone"); got != secret {
		t.Fatal("a refused registration replaced the secret")
	}

	// The confirming code is spent.
	if err := s.VerifyMFA(ctx, "phone "+confirmCode); !errors.Is(err, wormvault.ErrMFAInvalid) {
		t.Fatalf("reuse of the confirming code: %v, want ErrMFAInvalid", err)
	}
	clk.advance(MFAPeriod)
	code := codeAt(t, secret, clk.Wall())
	if err := s.VerifyMFA(ctx, "other "+code); !errors.Is(err, wormvault.ErrMFAInvalid) {
		t.Fatalf("unknown device: %v, want ErrMFAInvalid", err)
	}
	if err := s.VerifyMFA(ctx, "phone "+code); err != nil {
		t.Fatalf("fresh code: %v", err)
	}
	if err := s.VerifyMFA(ctx, "phone "+code); !errors.Is(err, wormvault.ErrMFAInvalid) {
		t.Fatalf("replayed code: %v, want ErrMFAInvalid", err)
	}
	_, _, lastUsed := mfaDevice(t, s, "phone")

	// A code not used in time expires after one step of skew.
	clk.advance(MFAPeriod)
	late := codeAt(t, secret, clk.Wall())
	clk.advance(2 * MFAPeriod)
	if err := s.VerifyMFA(ctx, "phone "+late); !errors.Is(err, wormvault.ErrMFAInvalid) {
		t.Fatalf("expired code: %v, want ErrMFAInvalid", err)
	}
	if _, _, got := mfaDevice(t, s, "phone"); got != lastUsed {
		t.Fatalf("refused codes moved last_used_step %d -> %d", lastUsed, got)
	}

	// Replay protection is journaled: it survives the loss of the catalog.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "meta")); err != nil {
		t.Fatal(err)
	}
	s = openStoreWithClock(t, dir, clk)
	defer s.Close()
	if s.lastRebuild == nil {
		t.Fatal("the catalog was not rebuilt from the journal")
	}
	if got, confirmed, used := mfaDevice(t, s, "phone"); got != secret || !confirmed || used != lastUsed {
		t.Fatalf("after rebuild: device confirmed=%v last_used_step=%d, want true %d", confirmed, used, lastUsed)
	}
	if err := s.VerifyMFA(ctx, "phone "+code); !errors.Is(err, wormvault.ErrMFAInvalid) {
		t.Fatalf("replayed code after rebuild: %v, want ErrMFAInvalid", err)
	}
	if err := s.VerifyMFA(ctx, "phone "+codeAt(t, secret, clk.Wall())); err != nil {
		t.Fatalf("fresh code after rebuild: %v", err)
	}
}

func TestMFADelete(t *testing.T) {
	ctx := context.Background()
	clk := &testClock{wall: mfaT0}
	s := openStoreWithClock(t, t.TempDir(), clk)
	defer s.Close()
	if _, err := s.CreateVault(ctx, root, "mfa-vault", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	a, err := s.Upload(ctx, root, UploadRequest{Vault: "mfa-vault", Key: "k"}, bytes.NewReader([]byte("data")))
	if err != nil {
		t.Fatal(err)
	}
	vid := a.Record.GetVersionId()
	on, off := true, false
	rootMFA := Caller{Principal: RootPrincipal, Root: true, MFAPresent: true}

	if _, err := s.UpdateVault(ctx, Caller{Principal: "alice", MFAPresent: true, identityPolicy: `{"statements":[{"sid":"all","effect":"ALLOW","principals":["alice"],"actions":["wormvault:*"],"resources":["*"]}]}`},
		"mfa-vault", VaultUpdate{MFADelete: &on}); !errors.Is(err, wormvault.ErrPermissionDenied) || errors.Is(err, wormvault.ErrMFARequired) {
		t.Fatalf("non-root enabling MFA delete: %v, want plain ErrPermissionDenied", err)
	}
	if _, err := s.UpdateVault(ctx, root, "mfa-vault", VaultUpdate{MFADelete: &on}); !errors.Is(err, wormvault.ErrMFARequired) {
		t.Fatalf("root enabling MFA delete without MFA: %v, want ErrMFARequired", err)
	}
	if v, err := s.GetVault(ctx, root, "mfa-vault"); err != nil || v.MFADelete {
		t.Fatalf("a refused update enabled MFA delete (%v)", err)
	}
	if v, err := s.UpdateVault(ctx, rootMFA, "mfa-vault", VaultUpdate{MFADelete: &on}); err != nil || !v.MFADelete {
		t.Fatalf("enable with MFA: %v", err)
	}

	_, prot, err := s.ExplainProtection(ctx, root, "mfa-vault", "k", vid)
	if err != nil || len(prot) != 1 || prot[0].Kind != lock.ProtectedByMFADelete {
		t.Fatalf("ExplainProtection without MFA = %v, %v; want MFA_DELETE", prot, err)
	}
	if _, prot, _ := s.ExplainProtection(ctx, rootMFA, "mfa-vault", "k", vid); len(prot) != 0 {
		t.Fatalf("ExplainProtection with MFA = %v, want nothing", prot)
	}
	if _, err := s.DeleteArchive(ctx, root, "mfa-vault", "k", vid, false); !errors.Is(err, wormvault.ErrMFARequired) {
		t.Fatalf("permanent delete without MFA: %v, want ErrMFARequired", err)
	}
	if _, err := s.GetArchive(ctx, root, "mfa-vault", "k", vid); err != nil {
		t.Fatalf("the refused delete removed the version: %v", err)
	}
	m, err := s.DeleteArchive(ctx, root, "mfa-vault", "k", "", false)
	if err != nil || !m.DeleteMarker {
		t.Fatalf("delete marker without MFA: %v", err)
	}
	if _, err := s.UpdateVault(ctx, root, "mfa-vault", VaultUpdate{MFADelete: &off}); !errors.Is(err, wormvault.ErrMFARequired) {
		t.Fatalf("disable without MFA: %v, want ErrMFARequired", err)
	}
	if _, err := s.DeleteArchive(ctx, rootMFA, "mfa-vault", "k", vid, false); err != nil {
		t.Fatalf("permanent delete with MFA: %v", err)
	}
	if v, err := s.UpdateVault(ctx, rootMFA, "mfa-vault", VaultUpdate{MFADelete: &off}); err != nil || v.MFADelete {
		t.Fatalf("disable with MFA: %v", err)
	}
	if _, err := s.DeleteArchive(ctx, root, "mfa-vault", "k", m.VersionID, false); err != nil {
		t.Fatalf("permanent delete once MFA delete is off: %v", err)
	}
}

// TestMFASecretNeverStoredInClear registers and confirms a device, then
// searches every file under the data directory (catalog, journal on every
// drive) for its TOTP secret.
func TestMFASecretNeverStoredInClear(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := &testClock{wall: mfaT0}
	s := openStoreWithClock(t, dir, clk)
	reg, err := s.RegisterMFADevice(ctx, root, "phone")
	if err != nil {
		t.Fatal(err)
	}
	secret := string(reg.Secret)
	if err := s.ConfirmMFADevice(ctx, root, "phone", codeAt(t, secret, clk.Wall())); err != nil {
		t.Fatal(err)
	}
	clk.advance(MFAPeriod)
	if err := s.VerifyMFA(ctx, "phone "+codeAt(t, secret, clk.Wall())); err != nil {
		t.Fatalf("a fresh code from the unwrapped secret: %v", err)
	}
	s.Close()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(secret)) {
			t.Errorf("the TOTP secret is stored in clear in %s", p)
		}
		return nil
	})
}
