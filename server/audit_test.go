package server_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/vault/audit"
)

// listAudit returns every audit event, page by page.
func listAudit(t *testing.T, c *conn, req *wormvaultv1.ListAuditEventsRequest) []*wormvaultv1.AuditEvent {
	t.Helper()
	audits := wormvaultv1.NewAuditServiceClient(c.cc)
	var out []*wormvaultv1.AuditEvent
	for {
		resp, err := audits.ListAuditEvents(c.ctx(), req)
		if err != nil {
			t.Fatalf("ListAuditEvents: %v", err)
		}
		out = append(out, resp.GetEvents()...)
		if resp.GetNextPageToken() == "" {
			return out
		}
		req = proto.CloneOf(req)
		req.PageToken = resp.GetNextPageToken()
	}
}

func wantAuditOK(t *testing.T, c *conn, events int) {
	t.Helper()
	r, err := wormvaultv1.NewAuditServiceClient(c.cc).VerifyAuditTrail(c.ctx(), &wormvaultv1.VerifyAuditTrailRequest{})
	if err != nil {
		t.Fatalf("VerifyAuditTrail: %v", err)
	}
	if !r.GetOk() || r.GetEventsChecked() != int64(events) {
		t.Fatalf("VerifyAuditTrail = %v, want ok over %d events", r, events)
	}
}

// TestAuditTrail performs one change of each audited kind through the
// server and finds each in the trail with who did it and to what; the trail
// verifies, and comes back identical after a catalog rebuild.
func TestAuditTrail(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	ids := wormvaultv1.NewIdentityServiceClient(c.cc)

	// PRINCIPAL_CREATE, PRINCIPAL_POLICY_SET, ACCESS_KEY_CREATE by root.
	officer := newPrincipal(t, c, "officer", `{"statements":[{"sid":"all","effect":"ALLOW","principals":["officer"],"actions":["wormvault:*"],"resources":["*"]}]}`)
	k, err := ids.CreateAccessKey(c.ctx(), &wormvaultv1.CreateAccessKeyRequest{Principal: "officer"})
	mustOK(t, err, "CreateAccessKey")
	_, err = ids.DeleteAccessKey(c.ctx(), &wormvaultv1.DeleteAccessKeyRequest{KeyId: k.GetKeyId()})
	mustOK(t, err, "DeleteAccessKey")
	_, err = ids.CreatePrincipal(c.ctx(), &wormvaultv1.CreatePrincipalRequest{Name: "temp"})
	mustOK(t, err, "CreatePrincipal")
	_, err = ids.DeletePrincipal(c.ctx(), &wormvaultv1.DeletePrincipalRequest{Name: "temp"})
	mustOK(t, err, "DeletePrincipal")

	// Vault and version changes by the officer.
	const v = "audited"
	officer.createVault(v)
	_, err = officer.updateVault(&wormvaultv1.Vault{Name: v, DefaultRetention: &wormvaultv1.DefaultRetention{Mode: gov, Days: 1}}, "default_retention")
	mustOK(t, err, "UpdateVault")
	a := officer.putLocked(v, "kept", retention(gov, fc.now().Add(time.Hour)), false, []byte("a"))
	_, err = officer.setRetention(v, "kept", a.GetVersionId(), retention(gov, fc.now().Add(2*time.Hour)), false)
	mustOK(t, err, "extend retention")
	_, err = officer.setHold(v, "kept", a.GetVersionId(), true, "case-1", "litigation")
	mustOK(t, err, "place hold")
	_, err = officer.setHold(v, "kept", a.GetVersionId(), false, "case-1", "")
	mustOK(t, err, "release hold")
	_, err = officer.setRetention(v, "kept", a.GetVersionId(), retention(gov, fc.now().Add(time.Minute)), true)
	mustOK(t, err, "shorten retention with bypass")
	gone := officer.putLocked(v, "gone", retention(gov, fc.now().Add(time.Hour)), false, []byte("b"))
	_, err = officer.deleteArchive(v, "gone", gone.GetVersionId(), true)
	mustOK(t, err, "delete with bypass")
	mustOK(t, officer.setAccessPolicy(v, denyDeletes(v, "policy")), "SetVaultAccessPolicy")
	mustOK(t, officer.deleteAccessPolicy(v), "DeleteVaultAccessPolicy")
	officer.mustInitiateLock(v, denyDeletes(v, "abort-me"))
	mustOK(t, officer.abortLock(v), "AbortVaultLock")
	const locked, expiring, empty = "audited-locked", "audited-expiring", "audited-empty"
	officer.createVault(locked)
	mustOK(t, officer.completeLock(locked, officer.mustInitiateLock(locked, denyDeletes(locked, "forever")).GetLockId()), "CompleteVaultLock")
	officer.createVault(expiring)
	expID := officer.mustInitiateLock(expiring, denyDeletes(expiring, "late")).GetLockId()
	officer.createVault(empty)
	_, err = officer.vaults.DeleteVault(officer.ctx(), &wormvaultv1.DeleteVaultRequest{Name: empty})
	mustOK(t, err, "DeleteVault")
	fc.advance(25 * time.Hour)
	wantStatus(t, officer.completeLock(expiring, expID), codes.FailedPrecondition, "LOCK_EXPIRED")

	// Root: MFA, MFA delete, the clock, the root key.
	reg, err := ids.RegisterMFADevice(c.ctx(), &wormvaultv1.RegisterMFADeviceRequest{Name: "phone"})
	mustOK(t, err, "RegisterMFADevice")
	_, err = ids.ConfirmMFADevice(c.ctx(), &wormvaultv1.ConfirmMFADeviceRequest{Name: "phone", Code: totpCode(t, reg.GetSecret(), fc.now())})
	mustOK(t, err, "ConfirmMFADevice")
	fc.advance(mfaStep)
	mustOK(t, setMFADelete(withMFA(c, "phone", totpCode(t, reg.GetSecret(), fc.now())), c, v, true), "enable MFA delete")
	c.acknowledgeClock()
	rot, err := ids.RotateRootKey(c.ctx(), &wormvaultv1.RotateRootKeyRequest{})
	mustOK(t, err, "RotateRootKey")
	s.Token = rot.GetKeyId() + "." + rot.GetSecret()
	c = c.as(s.Token)

	// The server: a heal that rebuilds a lost shard, a scrub.
	const healed = "audited-heal"
	c.createVault(healed)
	c.put(healed, "big", randomBytes(7, 300<<10))
	shards := shardPaths(t, s.DataDir)
	if len(shards) == 0 {
		t.Fatal("no shard files")
	}
	if err := os.Remove(shards[0]); err != nil {
		t.Fatal(err)
	}
	if h := healAll(t, c, healed); h.GetArchivesHealed() != 1 {
		t.Fatalf("heal reported %v, want 1 archive healed", h)
	}
	_, err = c.admin.Scrub(c.ctx(), &wormvaultv1.ScrubRequest{})
	mustOK(t, err, "Scrub")

	type want struct{ kind, principal, vault, key string }
	wants := []want{
		{audit.KindPrincipalCreate, "root", "", ""},
		{audit.KindPrincipalPolicySet, "root", "", ""},
		{audit.KindAccessKeyCreate, "root", "", ""},
		{audit.KindAccessKeyDelete, "root", "", ""},
		{audit.KindPrincipalDelete, "root", "", ""},
		{audit.KindVaultCreate, "officer", v, ""},
		{audit.KindVaultUpdate, "officer", v, ""},
		{audit.KindRetentionSet, "officer", v, "kept"},
		{audit.KindLegalHoldSet, "officer", v, "kept"},
		{audit.KindLegalHoldRelease, "officer", v, "kept"},
		{audit.KindGovernanceBypass, "officer", v, "kept"},
		{audit.KindGovernanceBypass, "officer", v, "gone"},
		{audit.KindAccessPolicySet, "officer", v, ""},
		{audit.KindAccessPolicyDelete, "officer", v, ""},
		{audit.KindVaultLockInitiate, "officer", v, ""},
		{audit.KindVaultLockAbort, "officer", v, ""},
		{audit.KindVaultLockComplete, "officer", locked, ""},
		{audit.KindVaultDelete, "officer", empty, ""},
		{audit.KindVaultLockExpire, "officer", expiring, ""},
		{audit.KindMFADeviceRegister, "root", "", ""},
		{audit.KindMFADeviceConfirm, "root", "", ""},
		{audit.KindMFADeleteSet, "root", v, ""},
		{audit.KindClockAcknowledged, "root", "", ""},
		{audit.KindRootKeyRotate, "root", "", ""},
		{audit.KindHeal, "", healed, "big"},
		{audit.KindFixityReport, "", "", ""},
	}
	all := listAudit(t, c, &wormvaultv1.ListAuditEventsRequest{PageSize: 7})
	next := 0 // wants appear in this order
	for _, ev := range all {
		if next < len(wants) {
			if w := wants[next]; ev.GetKind() == w.kind && ev.GetPrincipal() == w.principal && ev.GetVault() == w.vault && ev.GetKey() == w.key {
				next++
			}
		}
	}
	if next < len(wants) {
		for _, ev := range all {
			t.Logf("%d %s principal=%q vault=%q key=%q %v", ev.GetSequence(), ev.GetKind(), ev.GetPrincipal(), ev.GetVault(), ev.GetKey(), ev.GetDetails())
		}
		t.Fatalf("audit trail lacks %+v (or has it out of order)", wants[next])
	}
	for i, ev := range all {
		if ev.GetSequence() != uint64(i+1) || len(ev.GetSha256()) != 32 {
			t.Fatalf("event %d: sequence %d, sha256 %x", i, ev.GetSequence(), ev.GetSha256())
		}
	}
	// Retention details say old and new; filters work.
	// The two uploads with a retention ("kept", "gone") each have an
	// event of their own (action UploadArchive); the two changes follow.
	var rs []*wormvaultv1.AuditEvent
	uploads := 0
	for _, ev := range listAudit(t, c, &wormvaultv1.ListAuditEventsRequest{Vault: v, Kind: audit.KindRetentionSet}) {
		if ev.GetDetails()["action"] == "UploadArchive" {
			uploads++
			continue
		}
		rs = append(rs, ev)
	}
	if uploads != 2 || len(rs) != 2 || rs[0].GetDetails()["old_mode"] != "RETENTION_MODE_GOVERNANCE" || rs[0].GetDetails()["new_retain_until"] == "" {
		t.Fatalf("RETENTION_SET events = %v (and %d at upload)", rs, uploads)
	}
	wantAuditOK(t, c, len(all))

	// Catalog rebuild: the trail comes back from the journal, identical,
	// and still verifies.
	s.Stop()
	if err := os.RemoveAll(filepath.Join(s.DataDir, "meta")); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	c = dial(t, s)
	if s.Store().LastRebuild() == nil {
		t.Fatal("the server did not rebuild its catalog")
	}
	after := listAudit(t, c, &wormvaultv1.ListAuditEventsRequest{PageSize: 1000})
	// ... followed by the rebuild's own event.
	if len(after) != len(all)+1 {
		t.Fatalf("after the rebuild %d audit events, want %d", len(after), len(all)+1)
	}
	for i := range all {
		if !proto.Equal(all[i], after[i]) {
			t.Fatalf("event %d differs after the rebuild:\n%v\n%v", i+1, all[i], after[i])
		}
	}
	if ev := after[len(all)]; ev.GetKind() != audit.KindCatalogRebuild || ev.GetDetails()["clean"] != "true" {
		t.Fatalf("last event after the rebuild = %v, want a clean %s", ev, audit.KindCatalogRebuild)
	}
	wantAuditOK(t, c, len(all)+1)
	// Appending continues the restored chain.
	c.createVault("after-rebuild")
	wantAuditOK(t, c, len(all)+2)
}
