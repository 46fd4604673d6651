package kms

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/vault/sse"
)

var (
	t0  = time.Date(2031, time.March, 10, 9, 0, 0, 0, time.UTC)
	kek = bytes.Repeat([]byte{7}, sse.KeySize)
)

func newKey(t *testing.T) Key {
	t.Helper()
	k, err := New(kek, "ledger-key", "for the ledger", t0)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		name, desc, field string
	}{
		{"ab", "", "name"},
		{"Upper", "", "name"},
		{"-lead", "", "name"},
		{"has/slash", "", "name"},
		{strings.Repeat("a", 64), "", "name"},
		{"okay", strings.Repeat("d", MaxDescriptionLen+1), "description"},
		{"okay", "\xff", "description"},
	} {
		_, err := New(kek, tc.name, tc.desc, t0)
		var ie *wormvault.InvalidArgumentError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("New(%q, %q): %v, want invalid %s", tc.name, tc.desc, err, tc.field)
		}
	}
	k := newKey(t)
	if k.State != StateEnabled || k.Current().Number != 1 || len(k.Versions) != 1 || k.Usable(t0) != nil {
		t.Fatalf("new key: %+v", k)
	}
}

// TestStateMachine drives every transition from every state.
func TestStateMachine(t *testing.T) {
	enabled := newKey(t)
	disabled := must(enabled.Disable(t0, 0, ""))(t)
	timed := must(enabled.Disable(t0, 3, ""))(t)
	pending := must(enabled.ScheduleDeletion(t0, 7, ""))(t)
	pendingFromDisabled := must(disabled.ScheduleDeletion(t0, 7, ""))(t)
	deleted := pending.Delete()
	later := t0.Add(time.Hour)
	type op func(Key) (Key, error)
	for _, tc := range []struct {
		name    string
		from    Key
		op      op
		want    State
		wantErr error
	}{
		{"enabled: disable indefinitely", enabled, func(k Key) (Key, error) { return k.Disable(later, 0, "") }, StateDisabled, nil},
		{"enabled: disable 30 days, protected", enabled, func(k Key) (Key, error) { return k.Disable(later, 30, "v/k@1") }, StateDisabled, nil},
		{"enabled: disable indefinitely, protected", enabled, func(k Key) (Key, error) { return k.Disable(later, 0, "v/k@1") }, 0, wormvault.ErrKMSKeyProtectsLocked},
		{"enabled: disable 31 days, protected", enabled, func(k Key) (Key, error) { return k.Disable(later, 31, "v/k@1") }, 0, wormvault.ErrKMSKeyProtectsLocked},
		{"enabled: disable 31 days", enabled, func(k Key) (Key, error) { return k.Disable(later, 31, "") }, StateDisabled, nil},
		{"enabled: disable -1 days", enabled, func(k Key) (Key, error) { return k.Disable(later, -1, "") }, 0, wormvault.ErrInvalidArgument},
		{"enabled: enable", enabled, func(k Key) (Key, error) { return k.Enable(later) }, StateEnabled, nil},
		{"enabled: rotate", enabled, func(k Key) (Key, error) { return k.Rotate(kek, later) }, StateEnabled, nil},
		{"enabled: schedule 7", enabled, func(k Key) (Key, error) { return k.ScheduleDeletion(later, 7, "") }, StatePendingDeletion, nil},
		{"enabled: schedule 30", enabled, func(k Key) (Key, error) { return k.ScheduleDeletion(later, 30, "") }, StatePendingDeletion, nil},
		{"enabled: schedule 6", enabled, func(k Key) (Key, error) { return k.ScheduleDeletion(later, 6, "") }, 0, wormvault.ErrInvalidArgument},
		{"enabled: schedule 31", enabled, func(k Key) (Key, error) { return k.ScheduleDeletion(later, 31, "") }, 0, wormvault.ErrInvalidArgument},
		{"enabled: schedule, protected", enabled, func(k Key) (Key, error) { return k.ScheduleDeletion(later, 7, "v/k@1") }, 0, wormvault.ErrKMSKeyProtectsLocked},
		{"enabled: cancel", enabled, func(k Key) (Key, error) { return k.CancelDeletion(later) }, 0, wormvault.ErrFailedPrecondition},

		{"disabled: enable", disabled, func(k Key) (Key, error) { return k.Enable(later) }, StateEnabled, nil},
		{"disabled: rotate", disabled, func(k Key) (Key, error) { return k.Rotate(kek, later) }, 0, wormvault.ErrKMSKeyDisabled},
		{"disabled: disable again", disabled, func(k Key) (Key, error) { return k.Disable(later, 2, "") }, StateDisabled, nil},
		{"disabled: schedule", disabled, func(k Key) (Key, error) { return k.ScheduleDeletion(later, 10, "") }, StatePendingDeletion, nil},
		{"timed disable over: rotate", timed, func(k Key) (Key, error) { return k.Rotate(kek, t0.Add(3*day)) }, StateEnabled, nil},

		{"pending: enable", pending, func(k Key) (Key, error) { return k.Enable(later) }, 0, wormvault.ErrKMSKeyPendingDeletion},
		{"pending: disable", pending, func(k Key) (Key, error) { return k.Disable(later, 1, "") }, 0, wormvault.ErrKMSKeyPendingDeletion},
		{"pending: rotate", pending, func(k Key) (Key, error) { return k.Rotate(kek, later) }, 0, wormvault.ErrKMSKeyPendingDeletion},
		{"pending: schedule again", pending, func(k Key) (Key, error) { return k.ScheduleDeletion(later, 7, "") }, 0, wormvault.ErrKMSKeyPendingDeletion},
		{"pending: cancel", pending, func(k Key) (Key, error) { return k.CancelDeletion(later) }, StateEnabled, nil},
		{"pending from disabled: cancel", pendingFromDisabled, func(k Key) (Key, error) { return k.CancelDeletion(later) }, StateDisabled, nil},

		{"deleted: enable", deleted, func(k Key) (Key, error) { return k.Enable(later) }, 0, wormvault.ErrKMSKeyDeleted},
		{"deleted: cancel", deleted, func(k Key) (Key, error) { return k.CancelDeletion(later) }, 0, wormvault.ErrKMSKeyDeleted},
		{"deleted: rotate", deleted, func(k Key) (Key, error) { return k.Rotate(kek, later) }, 0, wormvault.ErrKMSKeyDeleted},
		{"deleted: schedule", deleted, func(k Key) (Key, error) { return k.ScheduleDeletion(later, 7, "") }, 0, wormvault.ErrKMSKeyDeleted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(tc.from.Versions)
			got, err := tc.op(tc.from)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), "ledger-key") && !errors.Is(err, wormvault.ErrInvalidArgument) {
					t.Fatalf("error does not name the key: %v", err)
				}
				return
			}
			if err != nil || got.State != tc.want {
				t.Fatalf("got %v %v, want state %v", got.State, err, tc.want)
			}
			if len(tc.from.Versions) != before {
				t.Fatal("the receiver changed")
			}
		})
	}
}

func TestProtectedRefusalNamesVersion(t *testing.T) {
	k := newKey(t)
	_, err := k.ScheduleDeletion(t0, 7, "evidence/scan.pdf@0190")
	if !errors.Is(err, wormvault.ErrKMSKeyProtectsLocked) || !strings.Contains(err.Error(), "evidence/scan.pdf@0190") {
		t.Fatalf("got %v", err)
	}
	_, err = k.Disable(t0, 0, "evidence/scan.pdf@0190")
	if !errors.Is(err, wormvault.ErrKMSKeyProtectsLocked) || !strings.Contains(err.Error(), "evidence/scan.pdf@0190") {
		t.Fatalf("got %v", err)
	}
}

func TestUsable(t *testing.T) {
	k := newKey(t)
	timed := must(k.Disable(t0, 2, ""))(t)
	forever := must(k.Disable(t0, 0, ""))(t)
	pending := must(k.ScheduleDeletion(t0, 7, ""))(t)
	for _, tc := range []struct {
		name string
		k    Key
		at   time.Time
		want error
	}{
		{"enabled", k, t0, nil},
		{"timed disable, inside", timed, t0.Add(2*day - time.Nanosecond), wormvault.ErrKMSKeyDisabled},
		{"timed disable, at its end", timed, t0.Add(2 * day), nil},
		{"indefinite disable", forever, t0.Add(1000 * day), wormvault.ErrKMSKeyDisabled},
		{"pending", pending, t0.Add(day), wormvault.ErrKMSKeyPendingDeletion},
		{"pending, past deletion time", pending, t0.Add(8 * day), wormvault.ErrKMSKeyPendingDeletion},
		{"deleted", pending.Delete(), t0, wormvault.ErrKMSKeyDeleted},
	} {
		err := tc.k.Usable(tc.at)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if err != nil && !strings.Contains(err.Error(), `"ledger-key"`) {
			t.Errorf("%s: %v does not name the key", tc.name, err)
		}
	}
}

func TestDeletionDue(t *testing.T) {
	k := newKey(t)
	p, _ := k.ScheduleDeletion(t0, 7, "")
	if p.DeletionDue(t0.Add(7*day-time.Nanosecond)) || !p.DeletionDue(t0.Add(7*day)) || k.DeletionDue(t0.Add(1000*day)) {
		t.Fatal("DeletionDue")
	}
	c, err := p.CancelDeletion(t0.Add(day))
	if err != nil || c.DeletionDue(t0.Add(100*day)) || !c.DeletionTime.IsZero() {
		t.Fatalf("cancelled: %+v %v", c, err)
	}
}

// TestWrapRotateDelete: rotation wraps new data keys under the new version
// and keeps old versions unwrapping; deletion drops every version.
func TestWrapRotateDelete(t *testing.T) {
	k := newKey(t)
	dk1 := bytes.Repeat([]byte{1}, sse.KeySize)
	w1, v1, err := k.WrapDataKey(kek, dk1, []byte("ver-1"))
	if err != nil || v1 != 1 {
		t.Fatal(v1, err)
	}
	k2, err := k.Rotate(kek, t0.Add(day))
	if err != nil || k2.Current().Number != 2 || len(k.Versions) != 1 {
		t.Fatal(err)
	}
	dk2 := bytes.Repeat([]byte{2}, sse.KeySize)
	w2, v2, err := k2.WrapDataKey(kek, dk2, []byte("ver-2"))
	if err != nil || v2 != 2 {
		t.Fatal(v2, err)
	}
	for _, tc := range []struct {
		v       uint32
		wrapped []byte
		aad     string
		want    []byte
	}{{1, w1, "ver-1", dk1}, {2, w2, "ver-2", dk2}} {
		got, err := k2.UnwrapDataKey(kek, tc.v, tc.wrapped, []byte(tc.aad))
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Fatalf("version %d: %v", tc.v, err)
		}
	}
	if _, err := k2.UnwrapDataKey(kek, 1, w1, []byte("ver-2")); !errors.Is(err, wormvault.ErrDataLoss) {
		t.Fatalf("wrong aad: %v", err)
	}
	if _, err := k2.UnwrapDataKey(kek, 2, w1, []byte("ver-1")); !errors.Is(err, wormvault.ErrDataLoss) {
		t.Fatalf("wrong version: %v", err)
	}
	if _, err := k2.UnwrapDataKey(kek, 3, w1, []byte("ver-1")); !errors.Is(err, wormvault.ErrDataLoss) {
		t.Fatalf("unknown version: %v", err)
	}
	other := bytes.Repeat([]byte{8}, sse.KeySize)
	if _, err := k2.UnwrapDataKey(other, 1, w1, []byte("ver-1")); !errors.Is(err, wormvault.ErrDataLoss) {
		t.Fatalf("other master: %v", err)
	}
	gone := k2.Delete()
	for _, v := range gone.Versions {
		if v.Wrapped != nil {
			t.Fatal("deleted key keeps material")
		}
	}
	if gone.Current().Number != 2 || k2.Versions[0].Wrapped == nil {
		t.Fatal("Delete lost version numbers or changed its receiver")
	}
	if _, err := gone.UnwrapDataKey(kek, 1, w1, []byte("ver-1")); !errors.Is(err, wormvault.ErrKMSKeyDeleted) {
		t.Fatalf("deleted: %v", err)
	}
	if _, _, err := gone.WrapDataKey(kek, dk1, nil); !errors.Is(err, wormvault.ErrKMSKeyDeleted) {
		t.Fatalf("deleted: %v", err)
	}
}

func TestValidatePendingDays(t *testing.T) {
	for days, ok := range map[int]bool{-1: false, 0: false, 6: false, 7: true, 15: true, 30: true, 31: false} {
		err := ValidatePendingDays("pending_days", days)
		if (err == nil) != ok {
			t.Errorf("%d days: %v", days, err)
		}
	}
}

// must fails the test when a setup step of the code under test fails.
func must(k Key, err error) func(t *testing.T) Key {
	return func(t *testing.T) Key {
		t.Helper()
		if err != nil {
			t.Fatalf("setup: %v", err)
		}
		return k
	}
}
