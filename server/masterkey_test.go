package server_test

// Master-key rotation through AdminService.RotateMasterKey on the real
// server: root only, every archive still reads, the old key no longer
// starts the server, and a catalog rebuilt from the drives after the
// rotation (meta/ deleted, restart) holds exactly what it held.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server"
	"github.com/wormvault/wormvault/server/servertest"
	"github.com/wormvault/wormvault/vault/audit"
)

// rotateMasterKey rotates as c and checks the report's shape.
func rotateMasterKey(t *testing.T, c *conn) *wormvaultv1.RotateMasterKeyResponse {
	t.Helper()
	rep, err := c.admin.RotateMasterKey(c.ctx(), &wormvaultv1.RotateMasterKeyRequest{})
	if err != nil {
		t.Fatalf("RotateMasterKey: %v", err)
	}
	if rep.GetOldKeyId() == "" || rep.GetOldKeyId() == rep.GetNewKeyId() || rep.GetOldKeyFile() == "" || rep.GetResumed() || len(rep.GetSkippedVersions()) != 0 {
		t.Fatalf("RotateMasterKey report %v", rep)
	}
	return rep
}

// checkTrail verifies the audit trail and returns its MASTER_KEY_ROTATE
// events.
func checkTrail(t *testing.T, c *conn) []*wormvaultv1.AuditEvent {
	t.Helper()
	v, err := wormvaultv1.NewAuditServiceClient(c.cc).VerifyAuditTrail(c.ctx(), &wormvaultv1.VerifyAuditTrailRequest{})
	if err != nil || !v.GetOk() {
		t.Fatalf("VerifyAuditTrail: %v %v", v, err)
	}
	return listAudit(t, c, &wormvaultv1.ListAuditEventsRequest{Kind: audit.KindMasterKeyRotate})
}

// TestCatalogRebuildAfterMasterKeyRotation is TestCatalogRebuild's "meta
// lost" case after a rotation: the journal's latest entries carry the new
// wrappings, so the rebuilt catalog reads everything under the new key.
func TestCatalogRebuildAfterMasterKeyRotation(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	p := populate(t, c)
	receiptKey, err := wormvaultv1.NewAuditServiceClient(c.cc).GetReceiptKey(c.ctx(), &wormvaultv1.GetReceiptKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	rep := rotateMasterKey(t, c)
	// SERVICE versions of populate: three in evidence, three in ledger
	// (the delete marker has no key); two KMS keys.
	if rep.GetRewrappedVersions() != 6 || rep.GetRewrappedKmsKeys() != 2 {
		t.Fatalf("RotateMasterKey report %v", rep)
	}
	p.verify(t, c)
	before := dump(t, c)
	s.Stop()
	if err := os.RemoveAll(filepath.Join(s.DataDir, "meta")); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	c = dial(t, s)
	if s.Store().LastRebuild() == nil {
		t.Fatal("the server did not rebuild its catalog")
	}
	if after := dump(t, c); after != before {
		t.Fatalf("state differs after the rebuild:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	p.verify(t, c)
	if evs := checkTrail(t, c); len(evs) != 1 || evs[0].GetDetails()["new_key_id"] != rep.GetNewKeyId() {
		t.Fatalf("%s events: %v", audit.KindMasterKeyRotate, evs)
	}
	rk, err := wormvaultv1.NewAuditServiceClient(c.cc).GetReceiptKey(c.ctx(), &wormvaultv1.GetReceiptKeyRequest{})
	if err != nil || rk.GetKeyId() != receiptKey.GetKeyId() {
		t.Fatalf("receipt key %v (%v), want %v", rk, err, receiptKey)
	}
}

// TestRotateMasterKey: only root rotates; afterwards and after a restart
// every archive reads, the old key file is kept 0600 beside the new one,
// and a server given the old key does not start.
func TestRotateMasterKey(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	c.createVault("rot")
	data := map[string][]byte{"small": randomBytes(1, 1000), "big": randomBytes(2, 3<<20+5)}
	for k, b := range data {
		c.put("rot", k, b)
	}
	clerk := newPrincipal(t, c, "clerk", `{"statements":[{"sid":"all","effect":"ALLOW","principals":["clerk"],"actions":["wormvault:*"],"resources":["*"]}]}`)
	_, err := clerk.admin.RotateMasterKey(clerk.ctx(), &wormvaultv1.RotateMasterKeyRequest{})
	wantStatus(t, err, codes.PermissionDenied, "")

	rep := rotateMasterKey(t, c)
	if rep.GetRewrappedVersions() != 2 || filepath.Dir(rep.GetOldKeyFile()) != s.DataDir || !strings.HasPrefix(filepath.Base(rep.GetOldKeyFile()), "master.key.old-") {
		t.Fatalf("RotateMasterKey report %v", rep)
	}
	check := func() {
		t.Helper()
		for k, want := range data {
			if got := c.get("rot", k, ""); string(got) != string(want) {
				t.Fatalf("%s: %d bytes differ from the %d uploaded", k, len(got), len(want))
			}
		}
	}
	check()
	s.Restart()
	c = dial(t, s)
	check()
	if evs := checkTrail(t, c); len(evs) != 1 || evs[0].GetPrincipal() != "root" {
		t.Fatalf("%s events: %v", audit.KindMasterKeyRotate, evs)
	}
	if fi, err := os.Stat(rep.GetOldKeyFile()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("old key file: %v %v", fi, err)
	}
	s.Stop()
	cfg := s.Config()
	cfg.Listen = "127.0.0.1:0"
	cfg.Vault.MasterKeyFile = rep.GetOldKeyFile()
	if srv, err := server.New(context.Background(), cfg); err == nil {
		srv.Shutdown()
		t.Fatal("the old master key still starts the server")
	}
}
