package lock_test

import (
	"errors"
	"testing"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/lock"
)

func TestMFADeleteRules(t *testing.T) {
	for _, tc := range []struct {
		name           string
		root, mfa      bool
		enabled        bool
		change, delete error
	}{
		{"root with MFA", true, true, true, nil, nil},
		{"root without MFA", true, false, true, wormvault.ErrMFARequired, wormvault.ErrMFARequired},
		{"non-root with MFA", false, true, true, wormvault.ErrPermissionDenied, nil},
		{"non-root without MFA", false, false, true, wormvault.ErrPermissionDenied, wormvault.ErrMFARequired},
		{"MFA delete off", false, false, false, wormvault.ErrPermissionDenied, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := lock.CheckMFADeleteChange(tc.root, tc.mfa); !is(err, tc.change) {
				t.Errorf("CheckMFADeleteChange = %v, want %v", err, tc.change)
			}
			if err := lock.CheckMFADelete(tc.enabled, tc.mfa); !is(err, tc.delete) {
				t.Errorf("CheckMFADelete = %v, want %v", err, tc.delete)
			}
		})
	}
}

func is(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

func TestRootWithMFARules(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		root, confirmed, mfa bool
		want                 error
	}{
		{"root, no MFA device", true, false, false, nil},
		{"root, device, with MFA", true, true, true, nil},
		{"root, device, without MFA", true, true, false, wormvault.ErrMFARequired},
		{"non-root with MFA", false, true, true, wormvault.ErrPermissionDenied},
		{"non-root, no device", false, false, false, wormvault.ErrPermissionDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := lock.CheckMasterKeyRotation(tc.root, tc.confirmed, tc.mfa); !is(err, tc.want) {
				t.Errorf("CheckMasterKeyRotation = %v, want %v", err, tc.want)
			}
			if err := lock.CheckMFADeviceChange(tc.root, tc.confirmed, tc.mfa); !is(err, tc.want) {
				t.Errorf("CheckMFADeviceChange = %v, want %v", err, tc.want)
			}
		})
	}
}
