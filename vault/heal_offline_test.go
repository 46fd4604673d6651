package vault

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/wormvault/wormvault"
)

// A drive that is gone does not stop a heal pass: every archive is
// checked, the pass says it could not finish (UNAVAILABLE), and once the
// drive is back the next pass heals everything.
func TestHealAllContinuesPastAnOfflineDrive(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	defer s.Close()
	if _, err := s.CreateVault(ctx, root, "heal-offline", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if _, err := s.Upload(ctx, root, UploadRequest{Vault: "heal-offline", Key: k}, bytes.NewReader(make([]byte, 200<<10))); err != nil {
			t.Fatal(err)
		}
	}
	gone := s.cfg.drivePaths()[3]
	if err := os.RemoveAll(gone); err != nil {
		t.Fatal(err)
	}
	p, err := s.HealAll(ctx, "", nil)
	if !errors.Is(err, wormvault.ErrUnavailable) {
		t.Fatalf("heal with a drive gone: %v, want ErrUnavailable", err)
	}
	if p.Checked != 3 || p.Unrecoverable != 0 {
		t.Fatalf("heal with a drive gone: %+v, want all 3 checked and none unrecoverable", p)
	}

	if err := os.MkdirAll(gone, 0o750); err != nil {
		t.Fatal(err)
	}
	p, err = s.HealAll(ctx, "", nil)
	if err != nil || p.Healed != 3 {
		t.Fatalf("heal once the drive is back: %+v, %v; want 3 healed", p, err)
	}
}
