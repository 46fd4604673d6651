package server

import (
	"strings"
	"testing"

	"github.com/wormvault/wormvault/vault"
)

func TestCrashAtSpec(t *testing.T) {
	for _, tc := range []struct {
		spec, wantErr string
	}{
		{vault.CrashAfterShardWrite, ""},
		{CrashBeforeResponse + ":3", ""},
		{"no-such-point", "unknown"},
		{vault.CrashHealMid + ":0", "positive integer"},
		{vault.CrashHealMid + ":x", "positive integer"},
		{"", "unknown"},
	} {
		hook, err := CrashAt(tc.spec, nil)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tc.spec, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%q: error %v, want one saying %q", tc.spec, err, tc.wantErr)
		case tc.wantErr == "" && hook == nil:
			t.Errorf("%q: no hook", tc.spec)
		}
	}
}

// The hook lets every hit before the Nth, and every other point, pass (the
// Nth kills the process: internal/crashtest tests that).
func TestCrashAtCountsHitsOfItsPoint(t *testing.T) {
	hook, err := CrashAt(vault.CrashDeleteMarker+":3", nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		hook(vault.CrashAfterJournalAppend)
	}
	hook(vault.CrashDeleteMarker)
	hook(vault.CrashDeleteMarker)
}

// Every point the store declares is one the flag accepts, once.
func TestCrashPointsDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range CrashPoints() {
		if seen[p] {
			t.Errorf("crash point %q declared twice", p)
		}
		seen[p] = true
	}
	if len(seen) < 8 {
		t.Errorf("%d crash points, want at least 8", len(seen))
	}
}
