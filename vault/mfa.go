package vault

// MFA: the TOTP devices (RFC 6238) root registers, and the check of the code
// a request carries in metadata x-wormvault-mfa: "<device> <code>". A code
// is accepted within one 30-second step of the trusted clock, and only once:
// each device remembers the last step whose code it accepted, journaled like
// every other catalog change, so a replayed code stays refused across
// restarts and catalog rebuilds.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/lock"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/journal"
	"github.com/wormvault/wormvault/vault/sse"
)

// TOTP parameters: those every authenticator app defaults to.
const (
	// MaxMFADeviceNameLen bounds MFA device names.
	MaxMFADeviceNameLen = 64
	// MFAPeriod is the length of one TOTP step.
	MFAPeriod = 30 * time.Second
	// mfaSkew is how many steps before or after the current one a code may
	// be for (clock drift between the device and the server).
	mfaSkew   = 1
	mfaDigits = otp.DigitsSix
	mfaIssuer = "wormvault"
)

// ValidateMFADeviceName checks a device name: 1-64 letters, digits and "._-".
func ValidateMFADeviceName(field, name string) error {
	if len(name) == 0 || len(name) > MaxMFADeviceNameLen {
		return wormvault.InvalidArgument(field, "MFA device name must be 1-%d characters", MaxMFADeviceNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return wormvault.InvalidArgument(field, "MFA device name may contain only letters, digits and ._-, found %q", c)
		}
	}
	return nil
}

// validMFACode reports whether code has the shape of a TOTP code.
func validMFACode(code string) bool {
	if len(code) != mfaDigits.Length() {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// ParseMFAHeader splits the x-wormvault-mfa value "<device> <code>". A
// malformed value is an error wrapping wormvault.ErrMFAInvalid.
func ParseMFAHeader(header string) (device, code string, err error) {
	f := strings.Fields(header)
	if len(f) != 2 || ValidateMFADeviceName("x-wormvault-mfa", f[0]) != nil || !validMFACode(f[1]) {
		return "", "", fmt.Errorf("%w: x-wormvault-mfa must be \"<device> <6-digit code>\"", wormvault.ErrMFAInvalid)
	}
	return f[0], f[1], nil
}

// mfaStep is the TOTP step (counter) at t.
func mfaStep(t time.Time) int64 { return t.Unix() / int64(MFAPeriod/time.Second) }

// matchMFACode returns the step whose code code is, among the steps within
// mfaSkew of now and after lastUsed, trying the oldest first so a later
// code of the same device stays usable. It is totp.ValidateCustom with skew
// mfaSkew, except that it learns which step matched. A code that matches
// only used steps is a replay; both refusals wrap wormvault.ErrMFAInvalid.
func matchMFACode(secret, code string, now time.Time, lastUsed int64) (int64, error) {
	if !validMFACode(code) {
		return 0, fmt.Errorf("%w: the code must be %d digits", wormvault.ErrMFAInvalid, mfaDigits.Length())
	}
	opts := totp.ValidateOpts{Period: uint(MFAPeriod / time.Second), Skew: 0, Digits: mfaDigits, Algorithm: otp.AlgorithmSHA1}
	cur := mfaStep(now)
	replayed := false
	for step := cur - mfaSkew; step <= cur+mfaSkew; step++ {
		ok, err := totp.ValidateCustom(code, secret, time.Unix(step*int64(MFAPeriod/time.Second), 0), opts)
		if err != nil {
			return 0, fmt.Errorf("vault: validate TOTP code: %w", err)
		}
		switch {
		case ok && step <= lastUsed:
			replayed = true
		case ok:
			return step, nil
		}
	}
	if replayed {
		return 0, fmt.Errorf("%w: that code was already used", wormvault.ErrMFAInvalid)
	}
	return 0, fmt.Errorf("%w: wrong or expired code", wormvault.ErrMFAInvalid)
}

func mfaDevicePut(now time.Time, d *recordv1.MFADevice) *journal.Entry {
	e := entryAt(now)
	e.Change = &recordv1.JournalEntry_MfaDevicePut{MfaDevicePut: d}
	return e
}

// MFARegistration is what registering a device returns, once. Both fields
// carry the TOTP secret, so both redact themselves in logs.
type MFARegistration struct {
	// OTPAuthURL is the otpauth://totp/ URL authenticator apps import.
	OTPAuthURL Secret
	// Secret is the base32 TOTP secret.
	Secret Secret
}

// RegisterMFADevice creates an unconfirmed TOTP device and returns its
// secret. Registering again before confirmation replaces the secret; a
// confirmed device is never replaced. Root only.
func (s *Store) RegisterMFADevice(ctx context.Context, caller Caller, name string) (MFARegistration, error) {
	if err := ValidateMFADeviceName("name", name); err != nil {
		return MFARegistration{}, err
	}
	if !caller.Root {
		return MFARegistration{}, fmt.Errorf("vault.RegisterMFADevice %s: %w: only root may register MFA devices", name, wormvault.ErrPermissionDenied)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: mfaIssuer, AccountName: name, Period: uint(MFAPeriod / time.Second), Digits: mfaDigits, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return MFARegistration{}, fmt.Errorf("vault.RegisterMFADevice %s: %w", name, err)
	}
	wrapped, err := sse.WrapKey(s.master.derive("mfa-device"), []byte(key.Secret()), []byte(name))
	if err != nil {
		return MFARegistration{}, fmt.Errorf("vault.RegisterMFADevice %s: %w", name, err)
	}
	rec := &recordv1.MFADevice{Name: name, WrappedSecret: wrapped}
	err = s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		now := s.clock.Now().Time
		if _, err := s.authorize(caller, access{action: "RegisterMFADevice"}, now); err != nil {
			return nil, err
		}
		if err := checkMFADeviceChange(tx, caller, name); err != nil {
			return nil, err
		}
		if old, ok, err := tx.MFADevice(name); err != nil || ok && old.GetConfirmed() {
			if err == nil {
				err = fmt.Errorf("%w: MFA device %q is confirmed", wormvault.ErrAlreadyExists, name)
			}
			return nil, err
		}
		rec.CreateTime = timestamppb.New(now)
		return s.audited(tx, []*journal.Entry{mfaDevicePut(now, rec)}, tx.PutMFADevice(rec),
			auditEvent(audit.KindMFADeviceRegister, caller, "", "", "", map[string]string{"device": name}))
	})
	if err != nil {
		return MFARegistration{}, fmt.Errorf("vault.RegisterMFADevice %s: %w", name, err)
	}
	return MFARegistration{OTPAuthURL: Secret(key.URL()), Secret: Secret(key.Secret())}, nil
}

// ConfirmMFADevice activates a registered device with a current code from
// it; that code counts as used. Root only.
func (s *Store) ConfirmMFADevice(ctx context.Context, caller Caller, name, code string) error {
	if err := ValidateMFADeviceName("name", name); err != nil {
		return err
	}
	if !validMFACode(code) {
		return wormvault.InvalidArgument("code", "must be %d digits", mfaDigits.Length())
	}
	if !caller.Root {
		return fmt.Errorf("vault.ConfirmMFADevice %s: %w: only root may confirm MFA devices", name, wormvault.ErrPermissionDenied)
	}
	err := s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		now := s.clock.Now().Time
		if _, err := s.authorize(caller, access{action: "ConfirmMFADevice"}, now); err != nil {
			return nil, err
		}
		if err := checkMFADeviceChange(tx, caller, name); err != nil {
			return nil, err
		}
		d, ok, err := tx.MFADevice(name)
		switch {
		case err != nil:
			return nil, err
		case !ok:
			return nil, fmt.Errorf("%w: MFA device %q", wormvault.ErrNotFound, name)
		case d.GetConfirmed():
			return nil, fmt.Errorf("%w: MFA device %q is already confirmed", wormvault.ErrFailedPrecondition, name)
		}
		secret, err := s.mfaSecret(d)
		if err != nil {
			return nil, err
		}
		step, err := matchMFACode(secret, code, now, d.GetLastUsedStep())
		if err != nil {
			return nil, err
		}
		d.Confirmed, d.LastUsedStep = true, step
		return s.audited(tx, []*journal.Entry{mfaDevicePut(now, d)}, tx.PutMFADevice(d),
			auditEvent(audit.KindMFADeviceConfirm, caller, "", "", "", map[string]string{"device": name}))
	})
	if err != nil {
		return fmt.Errorf("vault.ConfirmMFADevice %s: %w", name, err)
	}
	return nil
}

// VerifyMFA checks the x-wormvault-mfa value "<device> <code>" against a
// confirmed device at the trusted clock's time and marks the code used, so
// it is never accepted again. Any refusal wraps wormvault.ErrMFAInvalid.
func (s *Store) VerifyMFA(ctx context.Context, header string) error {
	name, code, err := ParseMFAHeader(header)
	if err != nil {
		return fmt.Errorf("vault.VerifyMFA: %w", err)
	}
	check := func(tx *catalog.Txn, now time.Time) (*recordv1.MFADevice, error) {
		d, ok, err := tx.MFADevice(name)
		if err != nil {
			return nil, err
		}
		if !ok || !d.GetConfirmed() {
			return nil, fmt.Errorf("%w: no confirmed MFA device %q", wormvault.ErrMFAInvalid, name)
		}
		secret, err := s.mfaSecret(d)
		if err != nil {
			return nil, err
		}
		d.LastUsedStep, err = matchMFACode(secret, code, now, d.GetLastUsedStep())
		return d, err
	}
	// Wrong codes are refused on a read, without taking the mutation lock
	// every change waits for; a right one is checked again as it is spent.
	if err := s.catalog.View(func(tx *catalog.Txn) error {
		_, err := check(tx, s.clock.Now().Time)
		return err
	}); err != nil {
		return fmt.Errorf("vault.VerifyMFA %s: %w", name, err)
	}
	err = s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		now := s.clock.Now().Time
		d, err := check(tx, now)
		if err != nil {
			return nil, err
		}
		return []*journal.Entry{mfaDevicePut(now, d)}, tx.PutMFADevice(d)
	})
	if err != nil {
		return fmt.Errorf("vault.VerifyMFA %s: %w", name, err)
	}
	return nil
}

// checkMFADeviceChange applies lock's rule for registering or confirming
// device name, against the devices this transaction reads.
func checkMFADeviceChange(tx *catalog.Txn, caller Caller, name string) error {
	ds, err := tx.MFADevices()
	if err != nil {
		return err
	}
	other := false
	for _, d := range ds {
		other = other || d.GetConfirmed() && d.GetName() != name
	}
	return lock.CheckMFADeviceChange(caller.Root, other, caller.MFAPresent)
}

// checkMFADeleteChange applies lock's rule for turning MFA delete on or off.
func checkMFADeleteChange(caller Caller) error {
	return lock.CheckMFADeleteChange(caller.Root, caller.MFAPresent)
}

// mfaSecret unwraps a device's TOTP secret.
func (s *Store) mfaSecret(d *recordv1.MFADevice) (string, error) {
	b, err := s.master.unwrap(d.GetWrappedSecret(), []byte(d.GetName()), "mfa-device")
	if err != nil {
		return "", fmt.Errorf("vault: MFA device %q: unwrapping its secret: %w", d.GetName(), err)
	}
	return string(b), nil
}
