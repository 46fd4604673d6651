package vault

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/receipt"
	"github.com/wormvault/wormvault/vault/audit"
)

// auditEvents lists every event of kind (all kinds when empty).
func auditEvents(t *testing.T, s *Store, kind string) []*recordv1.AuditEvent {
	t.Helper()
	var out []*recordv1.AuditEvent
	f := audit.Filter{Kind: kind, Limit: audit.MaxPageSize}
	for {
		evs, next, err := s.AuditTrail().List(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, evs...)
		if next == 0 {
			return out
		}
		f.After = next
	}
}

func verifyTrail(t *testing.T, s *Store) {
	t.Helper()
	r, err := s.AuditTrail().Verify(context.Background())
	if err != nil || !r.OK {
		t.Fatalf("audit trail: %+v, %v", r, err)
	}
}

// TestReceiptKeySurvivesRestartAndRebuild: the key is created once, on
// the first start (with its audit event), and is the same key after a
// restart and after a catalog rebuild from the drives.
func TestReceiptKeySurvivesRestartAndRebuild(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	pub, id := s.ReceiptKey()
	if len(pub) != ed25519.PublicKeySize || id != receipt.KeyID(pub) {
		t.Fatalf("receipt key %x, id %q", pub, id)
	}
	s.Close()

	s = openStore(t, dir)
	if got, _ := s.ReceiptKey(); !got.Equal(pub) {
		t.Fatal("the receipt key changed across a restart")
	}
	s.Close()

	if _, err := MoveCatalogAside(dir); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer s.Close()
	if s.LastRebuild() == nil {
		t.Fatal("no rebuild ran")
	}
	if got, _ := s.ReceiptKey(); !got.Equal(pub) {
		t.Fatal("the receipt key changed across a catalog rebuild")
	}
	evs := auditEvents(t, s, audit.KindReceiptKeyCreate)
	if len(evs) != 1 || evs[0].GetDetails()["key_id"] != id || evs[0].GetDetails()["algorithm"] != receipt.Algorithm ||
		!strings.EqualFold(evs[0].GetDetails()["public_key"], fmt.Sprintf("%x", []byte(pub))) {
		t.Fatalf("RECEIPT_KEY_CREATE events: %v", evs)
	}
	verifyTrail(t, s)
}

// TestUploadProtectionAudited: an upload that places retention (explicit
// or the vault default) or a legal hold appends RETENTION_SET or
// LEGAL_HOLD_SET in its commit; one that places nothing appends nothing.
// Both storage paths (inline and shards), and every receipt verifies and
// states what was committed.
func TestUploadProtectionAudited(t *testing.T) {
	ctx := context.Background()
	for _, inline := range []int{0, 1 << 10} {
		t.Run(fmt.Sprintf("inline=%d", inline), func(t *testing.T) {
			s := openEncStore(t, t.TempDir(), inline)
			defer s.Close()
			pub, _ := s.ReceiptKey()
			if _, err := s.CreateVault(ctx, root, "plain", wormvault.DefaultRetention{}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateVault(ctx, root, "defaulted", wormvault.DefaultRetention{Mode: wormvault.RetentionGovernance, Days: 1}); err != nil {
				t.Fatal(err)
			}
			until := s.Clock().Now().Time.Add(time.Hour).UTC()
			tests := []struct {
				name, vault  string
				ret          wormvault.Retention
				hold         bool
				wantKinds    string
				wantFromDflt string
			}{
				{"nothing", "plain", wormvault.Retention{}, false, "", ""},
				{"explicit retention", "plain", wormvault.Retention{Mode: wormvault.RetentionCompliance, RetainUntil: until}, false, "RETENTION_SET", "false"},
				{"default retention", "defaulted", wormvault.Retention{}, false, "RETENTION_SET", "true"},
				{"legal hold", "plain", wormvault.Retention{}, true, "LEGAL_HOLD_SET", ""},
				{"both", "plain", wormvault.Retention{Mode: wormvault.RetentionGovernance, RetainUntil: until}, true, "RETENTION_SET,LEGAL_HOLD_SET", "false"},
			}
			for _, tt := range tests {
				key := strings.ReplaceAll(tt.name, " ", "-")
				before := len(auditEvents(t, s, ""))
				a, err := s.Upload(ctx, root, UploadRequest{Vault: tt.vault, Key: key, Retention: tt.ret, LegalHold: tt.hold}, strings.NewReader("bytes of "+key))
				if err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				var kinds []string
				for _, ev := range auditEvents(t, s, "")[before:] {
					if ev.GetVersionId() != a.Record.GetVersionId() || ev.GetPrincipal() != RootPrincipal || ev.GetDetails()["action"] != "UploadArchive" {
						t.Fatalf("%s: event %v", tt.name, ev)
					}
					if ev.GetKind() == audit.KindRetentionSet && ev.GetDetails()["from_default"] != tt.wantFromDflt {
						t.Fatalf("%s: from_default in %v", tt.name, ev.GetDetails())
					}
					kinds = append(kinds, ev.GetKind())
				}
				if got := strings.Join(kinds, ","); got != tt.wantKinds {
					t.Fatalf("%s: events %q, want %q", tt.name, got, tt.wantKinds)
				}

				r, err := s.Receipt(receipt.OpUpload, a)
				if err != nil {
					t.Fatal(err)
				}
				st, err := receipt.Verify(r, pub)
				if err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				rec := a.Record
				if st.Operation != receipt.OpUpload || st.Vault != tt.vault || st.Key != key || st.VersionID != rec.GetVersionId() ||
					st.SizeBytes != rec.GetSizeBytes() || !bytes.Equal(st.SHA256, rec.GetSha256()) ||
					st.RetentionMode != retentionFromRecord(rec.GetRetention()).Mode ||
					!st.RetainUntil.Equal(retentionFromRecord(rec.GetRetention()).RetainUntil) ||
					!st.CommitTime.Equal(rec.GetCreateTime().AsTime()) || (len(st.LegalHolds) == 1) != tt.hold {
					t.Fatalf("%s: receipt states %+v for %v", tt.name, st, rec)
				}
			}
			verifyTrail(t, s)
		})
	}
}

// TestChangeReceipts: retention and hold changes sign the state after the
// change, at the change's time.
func TestChangeReceipts(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	defer s.Close()
	pub, _ := s.ReceiptKey()
	if _, err := s.CreateVault(ctx, root, "changes", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	up, err := s.Upload(ctx, root, UploadRequest{Vault: "changes", Key: "k"}, strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	until := s.Clock().Now().Time.Add(48 * time.Hour)
	a, err := s.SetRetention(ctx, root, "changes", "k", "", wormvault.Retention{Mode: wormvault.RetentionGovernance, RetainUntil: until}, false)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Receipt(receipt.OpRetention, a)
	if err != nil {
		t.Fatal(err)
	}
	st, err := receipt.Verify(r, pub)
	if err != nil {
		t.Fatal(err)
	}
	if st.Operation != receipt.OpRetention || st.RetentionMode != wormvault.RetentionGovernance || !st.RetainUntil.Equal(until) ||
		a.CommitTime.IsZero() || !st.CommitTime.Equal(a.CommitTime) || st.CommitTime.Before(up.Record.GetCreateTime().AsTime()) {
		t.Fatalf("retention receipt %+v (commit time %v)", st, a.CommitTime)
	}
	a, err = s.SetLegalHold(ctx, root, "changes", "k", "", true, "case-9", "litigation")
	if err != nil {
		t.Fatal(err)
	}
	r, err = s.Receipt(receipt.OpLegalHold, a)
	if err != nil {
		t.Fatal(err)
	}
	if st, err = receipt.Verify(r, pub); err != nil {
		t.Fatal(err)
	}
	if st.Operation != receipt.OpLegalHold || strings.Join(st.LegalHolds, ",") != "case-9" || st.RetentionMode != wormvault.RetentionGovernance {
		t.Fatalf("legal hold receipt %+v", st)
	}
	marker, err := s.DeleteArchive(ctx, root, "changes", "k", "", false)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetArchive(ctx, root, "changes", "k", marker.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Receipt(receipt.OpUpload, m); err == nil {
		t.Fatal("a delete marker got a receipt")
	}
}

// TestConcurrentAuditedUploads: uploads into a vault with a default
// retention each append an event; run at once they all commit (no
// conflict exhausts the retries), each exactly once, and the trail
// verifies.
func TestConcurrentAuditedUploads(t *testing.T) {
	ctx := context.Background()
	s := openEncStore(t, t.TempDir(), 1<<10)
	defer s.Close()
	if _, err := s.CreateVault(ctx, root, "busy", wormvault.DefaultRetention{Mode: wormvault.RetentionCompliance, Days: 1}); err != nil {
		t.Fatal(err)
	}
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := s.Upload(ctx, root, UploadRequest{Vault: "busy", Key: fmt.Sprintf("k%02d", i)}, strings.NewReader("small"))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, ev := range auditEvents(t, s, audit.KindRetentionSet) {
		if seen[ev.GetKey()] {
			t.Fatalf("two events for %s", ev.GetKey())
		}
		seen[ev.GetKey()] = true
	}
	if len(seen) != n {
		t.Fatalf("%d RETENTION_SET events, want %d", len(seen), n)
	}
	verifyTrail(t, s)
}
