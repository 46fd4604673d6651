package soak

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestDriveFaults applies each drive fault to a drive-shaped directory and
// checks what the server would see: no new shard can start in tmp/ (and for
// a full drive, no byte can be written there), the shards in place stay
// readable except on a removed drive, and after the repair all is as before.
func TestDriveFaults(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fault    func(dir string) (driveFault, error)
		readable bool // shards stay readable during the fault
	}{
		{"unwritable", newUnwritable, true},
		{"removed", func(dir string) (driveFault, error) { return &removal{dir: dir}, nil }, false},
		{"full", newFullDrive, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d1")
			for _, sub := range []string{"shards/00", "tmp"} {
				if err := os.MkdirAll(filepath.Join(dir, sub), 0o750); err != nil {
					t.Fatal(err)
				}
			}
			shard := filepath.Join(dir, "shards/00/s")
			if err := os.WriteFile(shard, []byte("shard"), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := tc.fault(dir)
			if err != nil {
				t.Skipf("this machine cannot inject it: %v", err)
			}
			if err := f.apply(); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			repaired := false
			defer func() {
				if !repaired {
					f.repair()
				}
			}()
			// A new shard starts as a temp file, written, then renamed.
			err = os.WriteFile(filepath.Join(dir, "tmp/new"), []byte("new shard"), 0o600)
			if err == nil {
				t.Fatalf("%s: a new shard could be written", f)
			}
			if tc.name == "full" && !isENOSPC(err) {
				t.Fatalf("%s: writing failed with %v, want ENOSPC", f, err)
			}
			b, err := os.ReadFile(shard)
			if tc.readable && (err != nil || string(b) != "shard") {
				t.Fatalf("%s: shard in place unreadable: %q, %v", f, b, err)
			}
			if !tc.readable && !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s: shard still there: %v", f, err)
			}
			repaired = true
			if err := f.repair(); err != nil {
				t.Fatalf("repair %s: %v", f, err)
			}
			if err := os.WriteFile(filepath.Join(dir, "tmp/new"), []byte("new shard"), 0o600); err != nil {
				t.Fatalf("after repairing %s: %v", f, err)
			}
			if b, err := os.ReadFile(shard); err != nil || string(b) != "shard" {
				t.Fatalf("after repairing %s: shard %q, %v", f, b, err)
			}
		})
	}
}
