package vault

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/vault/accesslog"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/catalog"
)

func openLoggingStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), DefaultConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	for _, v := range []string{"src", "logs"} {
		if _, err := s.CreateVault(ctx, root, v, wormvault.DefaultRetention{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.UpdateVault(ctx, root, "src", VaultUpdate{Logging: &Logging{TargetVault: "logs", Prefix: "access/"}}); err != nil {
		t.Fatal(err)
	}
	return s
}

// record makes the access-log record of request i against vault.
func record(vault string, i int) accesslog.Record {
	return accesslog.Record{
		Time: time.Date(2026, 3, 1, 12, 0, 0, i, time.UTC), RequestID: fmt.Sprintf("req-%04d", i), Principal: "root",
		RPC: "/wormvault.v1.ArchiveService/GetArchive", Vault: vault, Key: fmt.Sprintf("k%d", i), Status: "OK",
	}
}

// recordAll records requests [from, to) of src concurrently.
func recordAll(t *testing.T, s *Store, from, to int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, to-from)
	for i := from; i < to; i++ {
		wg.Go(func() { errs <- s.RecordAccess(record("src", i)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// delivered reads every log archive in vault: request id -> how many
// times it appears, and the number of archives.
func delivered(t *testing.T, s *Store, vault string) (map[string]int, int) {
	t.Helper()
	ctx := context.Background()
	list, _, err := s.ListArchives(ctx, root, ListQuery{Vault: vault, AllVersions: true, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, a := range list {
		_, rc, err := s.Download(ctx, root, vault, a.Record.GetKey(), a.Record.GetVersionId(), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			r, err := accesslog.Parse(sc.Bytes())
			if err != nil {
				t.Fatalf("%s: %v", a.Record.GetKey(), err)
			}
			seen[r.RequestID]++
		}
	}
	return seen, len(list)
}

func pending(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	db, err := s.accessLogDB(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.View(func(tx *catalog.AccessLogTxn) error {
		gs, err := tx.Groups()
		for _, g := range gs {
			recs, err := tx.Records(g, 1<<30, 1<<30)
			if err != nil {
				return err
			}
			n += len(recs)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func assertExactlyOnce(t *testing.T, seen map[string]int, n int) {
	t.Helper()
	if len(seen) != n {
		t.Fatalf("%d distinct requests delivered, want %d", len(seen), n)
	}
	for i := range n {
		if c := seen[fmt.Sprintf("req-%04d", i)]; c != 1 {
			t.Fatalf("req-%04d delivered %d times", i, c)
		}
	}
}

func TestAccessLogGroupCommitAndDelivery(t *testing.T) {
	s := openLoggingStore(t)
	recordAll(t, s, 0, 300)
	// A vault without logging leaves no record.
	if err := s.RecordAccess(record("logs", 9999)); err != nil {
		t.Fatal(err)
	}
	if got := pending(t, s); got != 300 {
		t.Fatalf("%d records pending, want 300", got)
	}
	rep, err := s.DeliverAccessLogs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Archives != 1 || rep.Records != 300 {
		t.Fatalf("delivery %+v, want 1 archive of 300 records", rep)
	}
	seen, archives := delivered(t, s, "logs")
	assertExactlyOnce(t, seen, 300)
	if archives != 1 || pending(t, s) != 0 {
		t.Fatalf("%d archives and %d records pending after delivery", archives, pending(t, s))
	}
	// The archive is named after its first record and carries the batch.
	list, _, err := s.ListArchives(context.Background(), root, ListQuery{Vault: "logs", PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	a := list[0].Record
	if !strings.HasPrefix(a.GetKey(), "access/2026/03/01/12-00-00-") || !strings.HasSuffix(a.GetKey(), ".jsonl") {
		t.Fatalf("archive named %q", a.GetKey())
	}
	if a.GetContentType() != accesslog.ContentType || a.GetMetadata()[accesslog.MetaRecords] != "300" || a.GetMetadata()[accesslog.MetaSource] != "src" {
		t.Fatalf("archive content type %q metadata %v", a.GetContentType(), a.GetMetadata())
	}
	// Nothing is left to deliver, and nothing is delivered twice.
	if rep, err := s.DeliverAccessLogs(context.Background()); err != nil || rep.Archives != 0 {
		t.Fatalf("second delivery: %+v, %v", rep, err)
	}
}

// TestAccessLogDeliveryRetry crashes a delivery after its archive is
// committed and before its records are deleted, and once more halfway
// through the deletion, with new records arriving in between: the retry
// delivers each record exactly once.
func TestAccessLogDeliveryRetry(t *testing.T) {
	s := openLoggingStore(t)
	ctx := context.Background()
	recordAll(t, s, 0, 10)
	crash := errors.New("crash after upload")
	s.accessLogs.afterUpload = func() error { return crash }
	if _, err := s.DeliverAccessLogs(ctx); !errors.Is(err, crash) {
		t.Fatalf("delivery: %v, want the crash", err)
	}
	s.accessLogs.afterUpload = nil
	if got := pending(t, s); got != 10 {
		t.Fatalf("%d records pending after the crash, want 10", got)
	}
	// The deletion, last first, was interrupted halfway.
	db, err := s.accessLogDB(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(ctx, func(tx *catalog.AccessLogTxn) error {
		return tx.DeleteRecords(catalog.AccessLogGroup{Target: "logs", Source: "src"}, []uint64{6, 7, 8, 9, 10})
	}); err != nil {
		t.Fatal(err)
	}
	recordAll(t, s, 10, 15)

	rep, err := s.DeliverAccessLogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Archives != 1 || rep.Records != 10 {
		t.Fatalf("retry %+v: want the 5 records of the first archive found delivered and 1 new archive of 5", rep)
	}
	seen, archives := delivered(t, s, "logs")
	assertExactlyOnce(t, seen, 15)
	if archives != 2 || pending(t, s) != 0 {
		t.Fatalf("%d archives, %d records pending: want 2 and 0", archives, pending(t, s))
	}
}

// TestAccessLogSequenceSurvivesRestart: after every record was delivered
// and deleted, a restart continues the sequence, so a new batch never takes
// an old batch's id.
func TestAccessLogSequenceSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, v := range []string{"src", "logs"} {
		if _, err := s.CreateVault(ctx, root, v, wormvault.DefaultRetention{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.UpdateVault(ctx, root, "src", VaultUpdate{Logging: &Logging{TargetVault: "logs"}}); err != nil {
		t.Fatal(err)
	}
	recordAll(t, s, 0, 3)
	if _, err := s.DeliverAccessLogs(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if l, ok := s.AccessLogging("src"); !ok || l.TargetVault != "logs" {
		t.Fatalf("after restart logging of src is %+v, %v", l, ok)
	}
	if err := s.RecordAccess(record("src", 3)); err != nil {
		t.Fatal(err)
	}
	var seq uint64
	db, err := s.accessLogDB(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *catalog.AccessLogTxn) (err error) { seq, err = tx.Seq(); return err })
	if seq != 4 {
		t.Fatalf("sequence after restart is %d, want 4", seq)
	}
}

func TestLoggingSettings(t *testing.T) {
	s := openLoggingStore(t)
	ctx := context.Background()
	if _, err := s.CreateVault(ctx, root, "other", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	// ops may update "other" and nothing else.
	ops := Caller{Principal: "ops", identityPolicy: `{"statements":[{"sid":"ops","effect":"ALLOW","principals":["ops"],
		"actions":["wormvault:UpdateVault"],"resources":["vaults/other"]}]}`}
	var fe *wormvault.InvalidArgumentError
	for _, tc := range []struct {
		name   string
		caller Caller
		vault  string
		l      Logging
		want   error
		field  string
	}{
		{"into itself", root, "src", Logging{TargetVault: "src"}, wormvault.ErrInvalidArgument, "vault.logging.target_vault"},
		{"bad target name", root, "src", Logging{TargetVault: "No_Such"}, wormvault.ErrInvalidArgument, "vault.logging.target_vault"},
		{"prefix without target", root, "src", Logging{Prefix: "p/"}, wormvault.ErrInvalidArgument, "vault.logging.prefix"},
		{"prefix with NUL", root, "src", Logging{TargetVault: "logs", Prefix: "a\x00b"}, wormvault.ErrInvalidArgument, "vault.logging.prefix"},
		{"prefix too long", root, "src", Logging{TargetVault: "logs", Prefix: strings.Repeat("p", accesslog.MaxPrefixLen+1)}, wormvault.ErrInvalidArgument, "vault.logging.prefix"},
		{"missing target", root, "src", Logging{TargetVault: "nowhere"}, wormvault.ErrVaultNotFound, ""},
		{"no upload rights on the target", ops, "other", Logging{TargetVault: "logs"}, wormvault.ErrPermissionDenied, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.UpdateVault(ctx, tc.caller, tc.vault, VaultUpdate{Logging: &tc.l})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field) {
				t.Fatalf("err = %v, want field %s", err, tc.field)
			}
		})
	}
	// Nothing changed: src still logs into logs/access/.
	if l, _ := s.AccessLogging("src"); l != (Logging{TargetVault: "logs", Prefix: "access/"}) {
		t.Fatalf("logging of src is %+v", l)
	}
	v, err := s.GetVault(ctx, root, "src")
	if err != nil || v.Logging != (Logging{TargetVault: "logs", Prefix: "access/"}) {
		t.Fatalf("GetVault: %+v, %v", v, err)
	}

	// The target of a vault's logging cannot be deleted, nor while records
	// still wait for delivery into it.
	if err := s.DeleteVault(ctx, root, "logs"); !errors.Is(err, wormvault.ErrVaultIsLogTarget) || !strings.Contains(err.Error(), `"src"`) {
		t.Fatalf("DeleteVault of the target: %v, want ErrVaultIsLogTarget naming src", err)
	}
	if err := s.RecordAccess(record("src", 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateVault(ctx, root, "src", VaultUpdate{Logging: &Logging{}}); err != nil {
		t.Fatal(err)
	}
	if s.AccessLoggingOn() {
		t.Fatal("logging is still on after turning it off")
	}
	if err := s.DeleteVault(ctx, root, "logs"); !errors.Is(err, wormvault.ErrVaultIsLogTarget) {
		t.Fatalf("DeleteVault with records pending: %v, want ErrVaultIsLogTarget", err)
	}
	// Records taken while logging was on are still delivered.
	if rep, err := s.DeliverAccessLogs(ctx); err != nil || rep.Records != 1 {
		t.Fatalf("delivery after logging was turned off: %+v, %v", rep, err)
	}
	// The change is audited as a VAULT_UPDATE with old and new settings.
	evs, _, err := s.AuditTrail().List(ctx, audit.Filter{Vault: "src", Kind: audit.KindVaultUpdate})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].GetDetails()["new_logging"] != "logs/access/" ||
		evs[1].GetDetails()["old_logging"] != "logs/access/" || evs[1].GetDetails()["new_logging"] != "" {
		t.Fatalf("VAULT_UPDATE events of src: %v, want logging turned on then off", evs)
	}
}

// TestAccessLogKeyLost: when the catalog no longer holds the key of the
// access-log database (it was rebuilt), the waiting records are moved
// aside and logging goes on in a fresh database.
func TestAccessLogKeyLost(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"src", "logs"} {
		if _, err := s.CreateVault(ctx, root, v, wormvault.DefaultRetention{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.UpdateVault(ctx, root, "src", VaultUpdate{Logging: &Logging{TargetVault: "logs"}}); err != nil {
		t.Fatal(err)
	}
	recordAll(t, s, 0, 3)
	// What a rebuilt catalog holds: another key, or none.
	if err := s.catalog.Update(ctx, func(tx *catalog.Txn) error {
		return tx.PutMeta(metaAccessLogKey, bytes.Repeat([]byte{7}, 32))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(ctx, DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recordAll(t, s, 3, 5)
	if got := pending(t, s); got != 2 {
		t.Fatalf("%d records pending, want the 2 recorded after the key was lost", got)
	}
	aside, _ := filepath.Glob(filepath.Join(dir, "accesslog.lost-*"))
	if len(aside) != 1 {
		t.Fatalf("the unreadable database was not moved aside: %v", aside)
	}
}

// noted uploads key into vault with an access note, as the server does for
// a logged call, and returns the note.
func noted(t *testing.T, s *Store, vault, key string, i int) (*AccessNote, error) {
	t.Helper()
	n := &AccessNote{Record: func(a *Archive) accesslog.Record {
		r := record(a.Record.GetVault(), i)
		r.RPC, r.Key, r.VersionID = "/wormvault.v1.ArchiveService/UploadArchive", a.Record.GetKey(), a.Record.GetVersionId()
		return r
	}}
	_, err := s.Upload(WithAccessNote(context.Background(), n), root, UploadRequest{Vault: vault, Key: key}, strings.NewReader("data "+key))
	return n, err
}

// inboxLen is how many records wait in the catalog's inbox, and how many
// move markers the access-log database holds.
func inboxLen(t *testing.T, s *Store) (records, markers int) {
	t.Helper()
	if err := s.catalog.View(func(tx *catalog.Txn) error {
		in, err := tx.AccessLogInbox("", "\xff", 1<<30)
		records = len(in)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db, err := s.accessLogDB(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.View(func(tx *catalog.AccessLogTxn) error {
		ids, err := tx.MovedIDs(1 << 30)
		markers = len(ids)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return records, markers
}

// TestAccessLogInbox: an upload into a logged vault writes its record in
// its own commit; delivery moves it out of the catalog with the records
// group-committed in the request path, exactly once even when the move is
// interrupted at either step.
func TestAccessLogInbox(t *testing.T) {
	for _, crashAt := range []string{"", "moved", "cleared"} {
		t.Run("crash="+crashAt, func(t *testing.T) {
			s := openLoggingStore(t)
			ctx := context.Background()
			for i := range 5 {
				n, err := noted(t, s, "src", fmt.Sprintf("up/%d", i), i)
				if err != nil || !n.Committed() {
					t.Fatalf("upload %d: committed %t, %v", i, n.Committed(), err)
				}
			}
			// Not logged, or not committed: no record in the commit.
			if _, err := s.CreateVault(ctx, root, "other", wormvault.DefaultRetention{}); err != nil {
				t.Fatal(err)
			}
			if n, err := noted(t, s, "other", "x", 100); err != nil || n.Committed() {
				t.Fatalf("upload into an unlogged vault: committed %t, %v", n.Committed(), err)
			}
			if n, err := noted(t, s, "nosuchvault", "x", 101); err == nil || n.Committed() {
				t.Fatalf("upload into a missing vault: committed %t, %v", n.Committed(), err)
			}
			recordAll(t, s, 5, 10)
			if in, _ := inboxLen(t, s); in != 5 {
				t.Fatalf("%d records in the inbox, want 5", in)
			}
			// The target has records waiting in the inbox: not deletable.
			if _, err := s.UpdateVault(ctx, root, "src", VaultUpdate{Logging: &Logging{}}); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteVault(ctx, root, "logs"); !errors.Is(err, wormvault.ErrVaultIsLogTarget) {
				t.Fatalf("delete the target with records pending: %v", err)
			}

			records := 0
			if crashAt != "" {
				// The move fails at crashAt; the records already moved
				// are still delivered, the rest wait for the next run.
				crash := errors.New("crash at " + crashAt)
				s.accessLogs.moveHook = func(step string) error {
					if step == crashAt {
						return crash
					}
					return nil
				}
				rep, err := s.DeliverAccessLogs(ctx)
				if !errors.Is(err, crash) {
					t.Fatalf("delivery: %v, want the crash", err)
				}
				records += rep.Records
				s.accessLogs.moveHook = nil
			}
			rep, err := s.DeliverAccessLogs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if records += rep.Records; records != 10 {
				t.Fatalf("deliveries took %d records, want 10", records)
			}
			seen, _ := delivered(t, s, "logs")
			assertExactlyOnce(t, seen, 10)
			if in, markers := inboxLen(t, s); in != 0 || markers != 0 || pending(t, s) != 0 {
				t.Fatalf("after delivery: %d in the inbox, %d markers, %d pending", in, markers, pending(t, s))
			}
		})
	}
}

// TestAccessLogInboxUndecodable: an inbox entry that does not decode is set
// aside (aloglost/) and reported once; it stops neither the delivery of the
// others nor the deletion of a vault.
func TestAccessLogInboxUndecodable(t *testing.T) {
	s := openLoggingStore(t)
	ctx := context.Background()
	if err := s.catalog.Update(ctx, func(tx *catalog.Txn) error {
		return tx.PutAccessLogInboxRawForTest("00000000-bad0-7000-8000-000000000000", []byte{0xff, 0xff, 0xff})
	}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := noted(t, s, "src", fmt.Sprintf("up/%d", i), i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateVault(ctx, root, "unrelated", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteVault(ctx, root, "unrelated"); err != nil {
		t.Fatalf("delete a vault with an undecodable inbox entry about: %v", err)
	}
	rep, err := s.DeliverAccessLogs(ctx)
	if err == nil || !strings.Contains(err.Error(), "set aside") || rep.Records != 3 {
		t.Fatalf("delivery: %+v, %v; want the 3 records and the entry reported set aside", rep, err)
	}
	seen, _ := delivered(t, s, "logs")
	assertExactlyOnce(t, seen, 3)
	if rep, err := s.DeliverAccessLogs(ctx); err != nil || rep.Records != 0 {
		t.Fatalf("next delivery: %+v, %v", rep, err)
	}
	if in, markers := inboxLen(t, s); in != 0 || markers != 0 {
		t.Fatalf("%d in the inbox, %d markers", in, markers)
	}
}
