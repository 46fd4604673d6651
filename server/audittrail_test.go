package server_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
	"github.com/wormvault/wormvault/vault"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/catalog"
)

// notProducedYet lists the audit kinds that vault/audit declares but no
// feature of this server produces yet, each with why. TestEveryAuditKind
// fails if a kind listed here shows up (so the list only shrinks) and if
// any kind not listed does not: whoever lands the feature adds its calls
// to the scenario below and removes the kind from this list.
var notProducedYet = map[string]string{}

// TestEveryAuditKind drives a real server through one change of every
// audited kind whose feature exists, then checks that every kind of
// audit.Kinds() was produced (or is listed in notProducedYet), that the
// trail verifies, and that it comes back identical from a catalog
// rebuild.
func TestEveryAuditKind(t *testing.T) {
	fc := newFakeClock()
	// The first start: RECEIPT_KEY_CREATE, ROOT_KEY_CREATE.
	s, c := startWithClock(t, fc)
	ids := wormvaultv1.NewIdentityServiceClient(c.cc)

	// Identity: PRINCIPAL_CREATE, PRINCIPAL_POLICY_SET, ACCESS_KEY_CREATE,
	// ACCESS_KEY_DELETE, PRINCIPAL_DELETE.
	newPrincipal(t, c, "clerk", `{"statements":[{"sid":"all","effect":"ALLOW","principals":["clerk"],"actions":["wormvault:*"],"resources":["*"]}]}`)
	k, err := ids.CreateAccessKey(c.ctx(), &wormvaultv1.CreateAccessKeyRequest{Principal: "clerk"})
	mustOK(t, err, "CreateAccessKey")
	_, err = ids.DeleteAccessKey(c.ctx(), &wormvaultv1.DeleteAccessKeyRequest{KeyId: k.GetKeyId()})
	mustOK(t, err, "DeleteAccessKey")
	_, err = ids.CreatePrincipal(c.ctx(), &wormvaultv1.CreatePrincipalRequest{Name: "temp"})
	mustOK(t, err, "CreatePrincipal")
	_, err = ids.DeletePrincipal(c.ctx(), &wormvaultv1.DeletePrincipalRequest{Name: "temp"})
	mustOK(t, err, "DeletePrincipal")

	// Vaults and versions: VAULT_CREATE, VAULT_UPDATE, RETENTION_SET and
	// LEGAL_HOLD_SET at upload and by change, LEGAL_HOLD_RELEASE,
	// GOVERNANCE_BYPASS, ACCESS_POLICY_SET, ACCESS_POLICY_DELETE,
	// VAULT_DELETE.
	const v = "kinds"
	c.createVault(v)
	_, err = c.updateVault(&wormvaultv1.Vault{Name: v, DefaultRetention: &wormvaultv1.DefaultRetention{Mode: gov, Days: 1}}, "default_retention")
	mustOK(t, err, "UpdateVault")
	a := c.putLocked(v, "held", retention(gov, fc.now().Add(time.Hour)), true, []byte("a"))
	_, err = c.setRetention(v, "held", a.GetVersionId(), retention(gov, fc.now().Add(2*time.Hour)), false)
	mustOK(t, err, "extend retention")
	_, err = c.setHold(v, "held", a.GetVersionId(), true, "case-1", "litigation")
	mustOK(t, err, "place hold")
	_, err = c.setHold(v, "held", a.GetVersionId(), false, "case-1", "")
	mustOK(t, err, "release hold")
	_, err = c.setRetention(v, "held", a.GetVersionId(), retention(gov, fc.now().Add(time.Minute)), true)
	mustOK(t, err, "shorten retention with bypass")
	mustOK(t, c.setAccessPolicy(v, denyDeletes(v, "policy")), "SetVaultAccessPolicy")
	mustOK(t, c.deleteAccessPolicy(v), "DeleteVaultAccessPolicy")
	c.createVault("kinds-empty")
	mustOK(t, c.deleteVault("kinds-empty"), "DeleteVault")

	// Access points: ACCESS_POINT_CREATE, ACCESS_POINT_POLICY_SET,
	// ACCESS_POINT_DELETE.
	aps := wormvaultv1.NewAccessPointServiceClient(c.cc)
	_, err = aps.CreateAccessPoint(c.ctx(), &wormvaultv1.CreateAccessPointRequest{Name: "kinds-door", Vault: v, NetworkOrigin: &wormvaultv1.NetworkOrigin{AllowedCidrs: []string{"127.0.0.0/8"}}})
	mustOK(t, err, "CreateAccessPoint")
	_, err = aps.UpdateAccessPointPolicy(c.ctx(), &wormvaultv1.UpdateAccessPointPolicyRequest{Name: "kinds-door", Policy: denyDeletes(v, "door")})
	mustOK(t, err, "UpdateAccessPointPolicy")
	_, err = aps.DeleteAccessPoint(c.ctx(), &wormvaultv1.DeleteAccessPointRequest{Name: "kinds-door"})
	mustOK(t, err, "DeleteAccessPoint")

	// Vault locks: VAULT_LOCK_INITIATE, _ABORT, _COMPLETE, _EXPIRE.
	c.mustInitiateLock(v, denyDeletes(v, "abort-me"))
	mustOK(t, c.abortLock(v), "AbortVaultLock")
	c.createVault("kinds-locked")
	mustOK(t, c.completeLock("kinds-locked", c.mustInitiateLock("kinds-locked", denyDeletes("kinds-locked", "forever")).GetLockId()), "CompleteVaultLock")
	c.createVault("kinds-expiring")
	expID := c.mustInitiateLock("kinds-expiring", denyDeletes("kinds-expiring", "late")).GetLockId()
	fc.advance(25 * time.Hour)
	wantStatus(t, c.completeLock("kinds-expiring", expID), codes.FailedPrecondition, "LOCK_EXPIRED")

	// Root: MFA_DEVICE_REGISTER, MFA_DEVICE_CONFIRM, MFA_DELETE_SET,
	// CLOCK_UNTRUSTED, CLOCK_ACKNOWLEDGED, ROOT_KEY_ROTATE, MASTER_KEY_ROTATE.
	reg, err := ids.RegisterMFADevice(c.ctx(), &wormvaultv1.RegisterMFADeviceRequest{Name: "phone"})
	mustOK(t, err, "RegisterMFADevice")
	_, err = ids.ConfirmMFADevice(c.ctx(), &wormvaultv1.ConfirmMFADeviceRequest{Name: "phone", Code: totpCode(t, reg.GetSecret(), fc.now())})
	mustOK(t, err, "ConfirmMFADevice")
	fc.advance(mfaStep)
	mustOK(t, setMFADelete(withMFA(c, "phone", totpCode(t, reg.GetSecret(), fc.now())), c, v, true), "enable MFA delete")
	// A wall clock 10 minutes ahead across a restart: CLOCK_UNTRUSTED, until
	// root acknowledges it.
	c = restart(t, s, func() { fc.setWall(fc.now().Add(10 * time.Minute)) })
	ids = wormvaultv1.NewIdentityServiceClient(c.cc)
	c.acknowledgeClock()
	rot, err := ids.RotateRootKey(c.ctx(), &wormvaultv1.RotateRootKeyRequest{})
	mustOK(t, err, "RotateRootKey")
	s.Token = rot.GetKeyId() + "." + rot.GetSecret()
	c = c.as(s.Token)
	// MASTER_KEY_ROTATE: with MFA, as a device is confirmed.
	fc.advance(mfaStep)
	_, err = c.admin.RotateMasterKey(withMFA(c, "phone", totpCode(t, reg.GetSecret(), fc.now())), &wormvaultv1.RotateMasterKeyRequest{})
	mustOK(t, err, "RotateMasterKey")

	// The built-in KMS: KMS_KEY_CREATE, KMS_GENERATE_DATA_KEY (upload),
	// KMS_DECRYPT (download), KMS_KEY_ROTATE, KMS_KEY_DISABLE,
	// KMS_KEY_ENABLE, KMS_KEY_SCHEDULE_DELETION, KMS_KEY_CANCEL_DELETION
	// and, once the pending window has passed, KMS_KEY_DELETED.
	keys := wormvaultv1.NewKeyServiceClient(c.cc)
	for _, name := range []string{"kinds-kms", "kinds-doomed"} {
		_, err = keys.CreateKey(c.ctx(), &wormvaultv1.CreateKeyRequest{Name: name})
		mustOK(t, err, "CreateKey "+name)
	}
	_, err = c.upload(&wormvaultv1.ArchiveHeader{Vault: v, Key: "kms", Encryption: &wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_KMS, KmsKey: "kinds-kms"}}, bytes.NewReader([]byte("sealed")), 1<<20)
	mustOK(t, err, "upload under a KMS key")
	if got := c.get(v, "kms", ""); string(got) != "sealed" {
		t.Fatalf("KMS download: %q", got)
	}
	_, err = keys.RotateKey(c.ctx(), &wormvaultv1.RotateKeyRequest{Name: "kinds-kms"})
	mustOK(t, err, "RotateKey")
	_, err = keys.DisableKey(c.ctx(), &wormvaultv1.DisableKeyRequest{Name: "kinds-kms", DisableDays: 1})
	mustOK(t, err, "DisableKey")
	_, err = keys.EnableKey(c.ctx(), &wormvaultv1.EnableKeyRequest{Name: "kinds-kms"})
	mustOK(t, err, "EnableKey")
	_, err = keys.ScheduleKeyDeletion(c.ctx(), &wormvaultv1.ScheduleKeyDeletionRequest{Name: "kinds-doomed", PendingDays: 7})
	mustOK(t, err, "ScheduleKeyDeletion")
	_, err = keys.CancelKeyDeletion(c.ctx(), &wormvaultv1.CancelKeyDeletionRequest{Name: "kinds-doomed"})
	mustOK(t, err, "CancelKeyDeletion")
	_, err = keys.ScheduleKeyDeletion(c.ctx(), &wormvaultv1.ScheduleKeyDeletionRequest{Name: "kinds-doomed", PendingDays: 7})
	mustOK(t, err, "ScheduleKeyDeletion again")
	fc.advance(8 * 24 * time.Hour)
	_, _ = keys.GetKey(c.ctx(), &wormvaultv1.GetKeyRequest{Name: "kinds-doomed"}) // settles the due deletion

	// The server itself: HEAL of a lost shard, FIXITY_REPORT.
	c.createVault("kinds-heal")
	c.put("kinds-heal", "big", randomBytes(9, 300<<10))
	shards := shardPaths(t, s.DataDir)
	if len(shards) == 0 {
		t.Fatal("no shard files")
	}
	if err := os.Remove(shards[0]); err != nil {
		t.Fatal(err)
	}
	healAll(t, c, "kinds-heal")
	_, err = c.admin.Scrub(c.ctx(), &wormvaultv1.ScrubRequest{})
	mustOK(t, err, "Scrub")

	// Losing meta/: the catalog is rebuilt (CATALOG_REBUILD), the trail
	// with it.
	before := listAudit(t, c, &wormvaultv1.ListAuditEventsRequest{PageSize: 1000})
	s.Stop()
	if err := os.RemoveAll(filepath.Join(s.DataDir, "meta")); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	c = dial(t, s).as(s.Token)
	all := listAudit(t, c, &wormvaultv1.ListAuditEventsRequest{PageSize: 1000})
	if len(all) < len(before) {
		t.Fatalf("%d events after the rebuild, %d before", len(all), len(before))
	}
	for i := range before {
		if !proto.Equal(before[i], all[i]) {
			t.Fatalf("event %d differs after the rebuild:\n%v\n%v", i+1, before[i], all[i])
		}
	}
	wantAuditOK(t, c, len(all))

	produced := map[string]int{}
	for _, ev := range all {
		produced[ev.GetKind()]++
	}
	var skipped []string
	for _, k := range audit.Kinds() {
		why, skip := notProducedYet[k]
		switch {
		case skip && produced[k] > 0:
			t.Errorf("%s is produced now: remove it from notProducedYet", k)
		case skip:
			skipped = append(skipped, k+" ("+why+")")
		case produced[k] == 0:
			t.Errorf("no scenario produced an audit event of kind %s", k)
		}
	}
	for k := range notProducedYet {
		if !audit.KnownKind(k) {
			t.Errorf("notProducedYet lists %s, which is not a kind", k)
		}
	}
	slices.Sort(skipped)
	t.Logf("kinds no feature produces yet:\n  %s", strings.Join(skipped, "\n  "))

	// The upload with an explicit retention and a hold produced one event
	// of each, naming its version.
	var atUpload []string
	for _, ev := range all {
		if ev.GetVersionId() == a.GetVersionId() && ev.GetDetails()["action"] == "UploadArchive" {
			atUpload = append(atUpload, ev.GetKind())
		}
	}
	if strings.Join(atUpload, ",") != audit.KindRetentionSet+","+audit.KindLegalHoldSet {
		t.Fatalf("events of the upload: %v", atUpload)
	}
}

// tamperAuditEvent edits the stored bytes of audit event seq with edit,
// directly in the stopped server's Badger catalog, through the catalog's
// test-only hook (it refuses to run outside a test binary).
func tamperAuditEvent(t *testing.T, s *servertest.Server, seq uint64, edit func([]byte) []byte) {
	t.Helper()
	st, err := vault.Open(context.Background(), s.Config().Vault)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Catalog().Update(context.Background(), func(tx *catalog.Txn) error {
		b, ok, err := tx.AuditEvent(seq)
		if err != nil || !ok {
			t.Fatalf("audit event %d: found %v, %v", seq, ok, err)
		}
		return tx.SetAuditEventForTest(seq, edit(bytes.Clone(b)))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAuditTamperFoundOverGRPC: a server records events and stops; one
// event's bytes are edited in Badger (a retention shortened behind
// wormvault's back); after a restart VerifyAuditTrail names exactly that
// sequence.
func TestAuditTamperFoundOverGRPC(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createVault("tampered")
	until := fc.now().Add(10 * 365 * 24 * time.Hour).UTC()
	a := c.putLocked("tampered", "evidence", retention(gov, until), false, []byte("evidence"))
	c.createVault("after")
	var target *wormvaultv1.AuditEvent
	all := listAudit(t, c, &wormvaultv1.ListAuditEventsRequest{})
	for _, ev := range all {
		if ev.GetKind() == audit.KindRetentionSet && ev.GetVersionId() == a.GetVersionId() {
			target = ev
		}
	}
	if target == nil || target.GetSequence() == uint64(len(all)) {
		t.Fatalf("no RETENTION_SET event of the upload before the last event: %v", all)
	}
	wantAuditOK(t, c, len(all))
	s.Stop()

	// Move the retain-until year back by a few years, in place.
	year := []byte(until.Format(time.RFC3339Nano)[:4])
	tamperAuditEvent(t, s, target.GetSequence(), func(b []byte) []byte {
		i := bytes.Index(b, year)
		if i < 0 {
			t.Fatalf("retain-until year %s not found in the stored event", year)
		}
		b[i+3] -= 5
		return b
	})

	s.Restart()
	c = dial(t, s)
	r, err := wormvaultv1.NewAuditServiceClient(c.cc).VerifyAuditTrail(c.ctx(), &wormvaultv1.VerifyAuditTrailRequest{})
	mustOK(t, err, "VerifyAuditTrail")
	if r.GetOk() || r.GetFirstBadSequence() != target.GetSequence() || r.GetReason() == "" {
		t.Fatalf("VerifyAuditTrail = %v, want first_bad_sequence %d", r, target.GetSequence())
	}
}

// TestNoRPCDeletesAuditEvents: deleting what events describe (a version,
// an access policy, an access key, a principal, a vault) leaves every
// earlier event listed, byte for byte; and no RPC of the API is one that
// could remove or rewrite an event.
func TestNoRPCDeletesAuditEvents(t *testing.T) {
	fc := newFakeClock()
	_, c := startWithClock(t, fc)
	ids := wormvaultv1.NewIdentityServiceClient(c.cc)
	const v = "ephemeral"
	c.createVault(v)
	mustOK(t, c.setAccessPolicy(v, denyDeletes(v, "for-now")), "SetVaultAccessPolicy")
	a := c.putLocked(v, "short", retention(gov, fc.now().Add(time.Minute)), false, []byte("short-lived"))
	newPrincipal(t, c, "leaver", "")
	keys, err := ids.ListAccessKeys(c.ctx(), &wormvaultv1.ListAccessKeysRequest{Principal: "leaver"})
	mustOK(t, err, "ListAccessKeys")

	deletes := []struct {
		name string
		call func() error
	}{
		{"DeleteVaultAccessPolicy", func() error { return c.deleteAccessPolicy(v) }},
		{"DeleteArchive (permanent)", func() error {
			fc.advance(2 * time.Minute)
			_, err := c.deleteArchive(v, "short", a.GetVersionId(), false)
			return err
		}},
		{"DeleteAccessKey", func() error {
			_, err := ids.DeleteAccessKey(c.ctx(), &wormvaultv1.DeleteAccessKeyRequest{KeyId: keys.GetAccessKeys()[0].GetKeyId()})
			return err
		}},
		{"DeletePrincipal", func() error {
			_, err := ids.DeletePrincipal(c.ctx(), &wormvaultv1.DeletePrincipalRequest{Name: "leaver"})
			return err
		}},
		{"DeleteVault", func() error { return c.deleteVault(v) }},
	}
	before := listAudit(t, c, &wormvaultv1.ListAuditEventsRequest{})
	for _, d := range deletes {
		mustOK(t, d.call(), d.name)
		after := listAudit(t, c, &wormvaultv1.ListAuditEventsRequest{})
		if len(after) < len(before) {
			t.Fatalf("%s: %d events after, %d before", d.name, len(after), len(before))
		}
		for i := range before {
			if !proto.Equal(before[i], after[i]) {
				t.Fatalf("%s changed event %d:\n%v\n%v", d.name, i+1, before[i], after[i])
			}
		}
		before = after
	}
	if evs := listAudit(t, c, &wormvaultv1.ListAuditEventsRequest{Vault: v}); len(evs) < 4 {
		t.Fatalf("the deleted vault's events: %v", evs)
	}
	wantAuditOK(t, c, len(before))

	// The API offers nothing that writes the trail: the audit service
	// only reads, and no other RPC names audit events.
	readOnly := map[string]bool{"ListAuditEvents": true, "VerifyAuditTrail": true, "GetReceiptKey": true}
	services := 0
	protoregistry.GlobalFiles.RangeFilesByPackage("wormvault.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			services++
			for j := range sd.Methods().Len() {
				m := string(sd.Methods().Get(j).Name())
				if (sd.Name() == "AuditService" || strings.Contains(m, "Audit")) && !readOnly[m] {
					t.Errorf("%s.%s may write the audit trail: an audit event must never be deleted or edited through the API", sd.Name(), m)
				}
			}
		}
		return true
	})
	if services < 6 {
		t.Fatalf("found only %d services in wormvault.v1", services)
	}
}
