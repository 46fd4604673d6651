package vault

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/journal"
)

// A crash between the journal append and the catalog commit leaves
// journaled entries the catalog lacks; the next Open replays them, except
// an upload whose shards never made it to any drive.
func TestRollForwardReplaysCutOffCommits(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	if _, err := s.CreateVault(ctx, root, "kept", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ghost := &recordv1.Vault{Name: "ghost", CreateTime: timestamppb.New(now)}
	noShards := &recordv1.Version{Vault: "kept", Key: "lost", VersionId: "0192a1b2-0000-7000-8000-000000000001", ObjectId: "no-such-object", CreateTime: timestamppb.New(now)}
	// What commit() does up to the crash: the journal has them, the
	// catalog transaction never commits.
	if _, err := s.journal.Append(ctx, vaultPut(now, ghost), versionPut(now, noShards)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for round := range 2 { // the second open has nothing left to replay
		s = openStore(t, dir)
		if _, err := s.GetVault(ctx, root, "ghost"); err != nil {
			t.Fatalf("open %d: the journaled vault was not rolled forward: %v", round, err)
		}
		if _, err := s.GetArchive(ctx, root, "kept", "lost", ""); !errors.Is(err, wormvault.ErrNotFound) {
			t.Fatalf("open %d: a journaled upload without shards is visible: %v", round, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// An entry forged onto fewer drives than the write quorum (valid CRC,
// valid record) was never acknowledged: neither the roll-forward at open nor
// a rebuild from the journal applies it, and the rebuild reports it.
func TestForgedMinorityJournalEntryIgnored(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	if _, err := s.CreateVault(ctx, root, "records", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	drives := s.cfg.drivePaths()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Two of six drives (quorum is m+1 = 3) get an entry deleting the vault.
	forger, err := journal.Open([]string{filepath.Join(drives[0], "journal"), filepath.Join(drives[1], "journal")}, 2)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := forger.Append(ctx, vaultDelete(time.Now(), "records"))
	if err != nil {
		t.Fatal(err)
	}
	if err := forger.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, dir)
	if _, err := s.GetVault(ctx, root, "records"); err != nil {
		t.Fatalf("roll-forward applied a forged minority entry: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := MoveCatalogAside(dir); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer s.Close()
	if _, err := s.GetVault(ctx, root, "records"); err != nil {
		t.Fatalf("rebuild applied a forged minority entry: %v", err)
	}
	rep := s.LastRebuild()
	if rep == nil {
		t.Fatal("opening without meta/ did not rebuild")
	}
	var skipped []uint64
	for _, r := range rep.Journal.Unacknowledged {
		for q := r.First; q <= r.Last; q++ {
			skipped = append(skipped, q)
		}
	}
	if !slices.Contains(skipped, forged) {
		t.Fatalf("rebuild report does not name forged seq %d as unacknowledged: %s", forged, rep)
	}
}
