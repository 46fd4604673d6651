package vault

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/journal"
)

// A crash cuts a delete marker's commit off after its journal append,
// while an upload that appended later entries commits. The next Open must
// still replay the marker: the applied marker the upload wrote must not
// claim the marker's seq (the crash harness, internal/crashtest, found it
// did, and a catalog rebuild then disagreed with the catalog).
func TestRollForwardAfterOutOfOrderCommits(t *testing.T) {
	ctx := context.Background()
	cfg := DefaultConfig(t.TempDir())
	cfg.BlockSize = 64 << 10
	reached, release := make(chan struct{}), make(chan struct{})
	cfg.CrashPoint = func(point string) {
		if point == CrashDeleteMarker {
			close(reached)
			<-release
			// The process dies here: the transaction never commits and
			// nothing after the point runs.
			runtime.Goexit()
		}
	}
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateVault(ctx, root, "vee", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Upload(ctx, root, UploadRequest{Vault: "vee", Key: "hidden"}, bytes.NewReader([]byte("first"))); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.DeleteArchive(ctx, root, "vee", "hidden", "", false) })
	<-reached
	if _, err := s.Upload(ctx, root, UploadRequest{Vault: "vee", Key: "later"}, bytes.NewReader([]byte("second"))); err != nil {
		t.Fatal(err)
	}
	close(release)
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	cfg.CrashPoint = nil
	s, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := s.GetArchive(ctx, root, "vee", "hidden", "")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Record.GetDeleteMarker() {
		t.Fatal("the journaled delete marker was not rolled forward: the latest version of vee/hidden is the upload")
	}
	if _, err := s.GetArchive(ctx, root, "vee", "later", ""); err != nil {
		t.Fatalf("the acknowledged upload: %v", err)
	}
}

// The applied marker a commit writes never passes the lowest seq another
// commit in flight may hold.
func TestAppliedMark(t *testing.T) {
	var m appliedMark
	a := m.begin(5) // will append 5..6
	b := m.begin(5) // appended after a: 7..8
	if got := m.mark(b, 8); got != 4 {
		t.Errorf("b commits first while a is in flight: mark %d, want 4", got)
	}
	m.end(b)
	if got := m.mark(a, 6); got != 6 {
		t.Errorf("a commits alone: mark %d, want 6", got)
	}
	m.end(a)
	c := m.begin(9)
	if got := m.mark(c, 9); got != 9 {
		t.Errorf("c alone: mark %d, want 9", got)
	}
}

func TestJournalCrashPoint(t *testing.T) {
	ev := func(kind, action string) *journal.Entry {
		e := &journal.Entry{}
		d := map[string]string{}
		if action != "" {
			d["action"] = action
		}
		e.Change = &recordv1.JournalEntry_AuditEvent{AuditEvent: &recordv1.AuditEvent{Kind: kind, Details: d}}
		return e
	}
	put := func(v *recordv1.Version) *journal.Entry {
		return &journal.Entry{Change: &recordv1.JournalEntry_VersionPut{VersionPut: v}}
	}
	blob := &journal.Entry{Change: &recordv1.JournalEntry_BlobPut{BlobPut: &recordv1.Blob{}}}
	for _, tc := range []struct {
		name    string
		entries []*journal.Entry
		want    string
	}{
		{"set retention", []*journal.Entry{put(&recordv1.Version{}), ev(audit.KindRetentionSet, "")}, CrashRetentionChange},
		{"release hold", []*journal.Entry{put(&recordv1.Version{}), ev(audit.KindLegalHoldRelease, "")}, CrashLegalHoldChange},
		{"complete vault lock", []*journal.Entry{ev(audit.KindVaultLockComplete, "")}, CrashVaultLockComplete},
		{"delete marker", []*journal.Entry{put(&recordv1.Version{DeleteMarker: true})}, CrashDeleteMarker},
		{"inline upload with retention", []*journal.Entry{put(&recordv1.Version{Inline: true}), blob, ev(audit.KindRetentionSet, "UploadArchive")}, CrashInlineUploadCommit},
		{"erasure upload", []*journal.Entry{put(&recordv1.Version{ObjectId: "x"})}, ""},
		{"vault create", []*journal.Entry{ev(audit.KindVaultCreate, "")}, ""},
	} {
		if got := journalCrashPoint(tc.entries); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
