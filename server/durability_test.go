package server_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
	"github.com/wormvault/wormvault/vault/audit"
)

// dump renders everything a caller can observe about the store's
// protection state: every vault, its lock and access policy, every version
// with its retention and holds.
func dump(t *testing.T, c *conn) string {
	t.Helper()
	var b strings.Builder
	locks := wormvaultv1.NewLockServiceClient(c.cc)
	vs, err := c.vaults.ListVaults(c.ctx(), &wormvaultv1.ListVaultsRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ids := wormvaultv1.NewIdentityServiceClient(c.cc)
	ps, err := ids.ListPrincipals(c.ctx(), &wormvaultv1.ListPrincipalsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps.GetPrincipals() {
		fmt.Fprintln(&b, "principal:", protojson.Format(p))
		keys, err := ids.ListAccessKeys(c.ctx(), &wormvaultv1.ListAccessKeysRequest{Principal: p.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, "keys:", protojson.Format(keys))
		if p.GetName() != "root" {
			pol, err := ids.GetPrincipalPolicy(c.ctx(), &wormvaultv1.GetPrincipalPolicyRequest{Principal: p.GetName()})
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, "identity policy:", pol.GetPolicy())
		}
	}
	for _, v := range vs.GetVaults() {
		fmt.Fprintln(&b, protojson.Format(v))
		if l, err := locks.GetVaultLock(c.ctx(), &wormvaultv1.GetVaultLockRequest{Vault: v.GetName()}); err == nil {
			fmt.Fprintln(&b, "lock:", protojson.Format(l))
		}
		if p, err := c.vaults.GetVaultAccessPolicy(c.ctx(), &wormvaultv1.GetVaultAccessPolicyRequest{Vault: v.GetName()}); err == nil {
			fmt.Fprintln(&b, "policy:", p.GetPolicy())
		}
		l, err := c.archives.ListArchives(c.ctx(), &wormvaultv1.ListArchivesRequest{Vault: v.GetName(), AllVersions: true, PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range l.GetArchives() {
			fmt.Fprintln(&b, protojson.Format(a))
		}
	}
	keys, err := wormvaultv1.NewKeyServiceClient(c.cc).ListKeys(c.ctx(), &wormvaultv1.ListKeysRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(&b, "kms keys:", protojson.Format(keys))
	aps, err := wormvaultv1.NewAccessPointServiceClient(c.cc).ListAccessPoints(c.ctx(), &wormvaultv1.ListAccessPointsRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(&b, "access points:", protojson.Format(aps))
	return b.String()
}

type populated struct {
	data       map[string][]byte // "vault/key@version" -> bytes
	compliance *wormvaultv1.Archive
	robot      *conn // a principal's key, which must still work
}

// populate stores what the catalog must never lose: archives under
// COMPLIANCE and GOVERNANCE retention (some extended after upload), named
// legal holds, delete markers, a LOCKED vault lock and an access policy.
func populate(t *testing.T, c *conn) populated {
	t.Helper()
	p := populated{data: map[string][]byte{}}
	put := func(vault, key string, size int, ret *wormvaultv1.Retention, hold bool) *wormvaultv1.Archive {
		data := randomBytes(uint64(len(p.data)+1), size)
		a, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: vault, Key: key, Retention: ret, LegalHold: hold}, strings.NewReader(string(data)), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		p.data[vault+"/"+key+"@"+a.GetVersionId()] = data
		return a
	}
	ret := func(mode wormvaultv1.RetentionMode, d time.Duration) *wormvaultv1.Retention {
		return &wormvaultv1.Retention{Mode: mode, RetainUntilTime: timestamppb.New(time.Now().Add(d).Truncate(time.Second))}
	}
	const (
		gov  = wormvaultv1.RetentionMode_RETENTION_MODE_GOVERNANCE
		comp = wormvaultv1.RetentionMode_RETENTION_MODE_COMPLIANCE
	)
	if _, err := c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: "ledger", DefaultRetention: &wormvaultv1.DefaultRetention{Mode: gov, Days: 30}}); err != nil {
		t.Fatal(err)
	}
	c.createVault("evidence")
	p.compliance = put("evidence", "case-1/scan.pdf", 3<<20+7, ret(comp, 24*time.Hour), false)
	ext := put("evidence", "case-1/mail.eml", 1000, ret(comp, time.Hour), false)
	if _, err := c.archives.SetRetention(c.ctx(), &wormvaultv1.SetRetentionRequest{Vault: "evidence", Key: "case-1/mail.eml", VersionId: ext.GetVersionId(), Retention: ret(comp, 90*24*time.Hour)}); err != nil {
		t.Fatal(err)
	}
	held := put("evidence", "case-2/notes.txt", 10, nil, true)
	for _, id := range []string{"case-2", "case-3"} {
		if _, err := c.archives.SetLegalHold(c.ctx(), &wormvaultv1.SetLegalHoldRequest{Vault: "evidence", Key: "case-2/notes.txt", VersionId: held.GetVersionId(), LegalHold: true, HoldId: id, Reason: "litigation " + id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.archives.SetLegalHold(c.ctx(), &wormvaultv1.SetLegalHoldRequest{Vault: "evidence", Key: "case-2/notes.txt", VersionId: held.GetVersionId(), LegalHold: false, HoldId: "case-3"}); err != nil {
		t.Fatal(err)
	}
	put("ledger", "2026/q1.csv", 1<<20, nil, false)
	g := put("ledger", "2026/q2.csv", 5000, ret(gov, 48*time.Hour), false)
	if _, err := c.archives.SetRetention(c.ctx(), &wormvaultv1.SetRetentionRequest{Vault: "ledger", Key: "2026/q2.csv", VersionId: g.GetVersionId(), Retention: ret(gov, 72*time.Hour)}); err != nil {
		t.Fatal(err)
	}
	put("ledger", "2026/q2.csv", 6000, nil, false) // a second version
	if _, err := c.archives.DeleteArchive(c.ctx(), &wormvaultv1.DeleteArchiveRequest{Vault: "ledger", Key: "2026/q1.csv"}); err != nil {
		t.Fatal(err)
	}
	gone := put("ledger", "scratch.tmp", 10, ret(gov, time.Hour), false)
	if _, err := c.archives.DeleteArchive(c.ctx(), &wormvaultv1.DeleteArchiveRequest{Vault: "ledger", Key: "scratch.tmp", VersionId: gone.GetVersionId(), BypassGovernanceRetention: true}); err != nil {
		t.Fatal(err)
	}
	delete(p.data, "ledger/scratch.tmp@"+gone.GetVersionId())
	locks := wormvaultv1.NewLockServiceClient(c.cc)
	policyDoc := `{"statements":[{"sid":"keep-a-year","effect":"DENY","principals":["*"],"actions":["wormvault:DeleteArchive"],"resources":["vaults/evidence/archives/*"],"condition":"archive.age_days < 365"}]}`
	init, err := locks.InitiateVaultLock(c.ctx(), &wormvaultv1.InitiateVaultLockRequest{Vault: "evidence", Policy: policyDoc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := locks.CompleteVaultLock(c.ctx(), &wormvaultv1.CompleteVaultLockRequest{Vault: "evidence", LockId: init.GetLockId()}); err != nil {
		t.Fatal(err)
	}
	access := `{"statements":[{"sid":"no-plain-uploads","effect":"DENY","principals":["*"],"actions":["wormvault:UploadArchive"],"resources":["vaults/ledger/archives/secret/*"]}]}`
	if _, err := c.vaults.SetVaultAccessPolicy(c.ctx(), &wormvaultv1.SetVaultAccessPolicyRequest{Vault: "ledger", Policy: access}); err != nil {
		t.Fatal(err)
	}
	// KMS keys and archives encrypted under them (one per key version,
	// inline and sharded; one held, which the rebuilt kmsuse index must
	// still find), and a disabled key.
	keys := wormvaultv1.NewKeyServiceClient(c.cc)
	for _, name := range []string{"ledger-key", "spare-key"} {
		if _, err := keys.CreateKey(c.ctx(), &wormvaultv1.CreateKeyRequest{Name: name, Description: "populated"}); err != nil {
			t.Fatal(err)
		}
	}
	putKMS := func(key string, size int, hold bool) {
		data := randomBytes(uint64(len(p.data)+1), size)
		h := &wormvaultv1.ArchiveHeader{Vault: "ledger", Key: key, LegalHold: hold, Encryption: &wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_KMS, KmsKey: "ledger-key"}}
		a, err := c.upload(h, strings.NewReader(string(data)), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		p.data["ledger/"+key+"@"+a.GetVersionId()] = data
	}
	putKMS("kms/held.bin", 700, true)
	if _, err := keys.RotateKey(c.ctx(), &wormvaultv1.RotateKeyRequest{Name: "ledger-key"}); err != nil {
		t.Fatal(err)
	}
	putKMS("kms/big.bin", 300<<10, false)
	if _, err := keys.DisableKey(c.ctx(), &wormvaultv1.DisableKeyRequest{Name: "spare-key"}); err != nil {
		t.Fatal(err)
	}
	// Access points: one kept (its policy changed after creation), one
	// deleted.
	aps := wormvaultv1.NewAccessPointServiceClient(c.cc)
	for _, name := range []string{"ledger-door", "gone-door"} {
		if _, err := aps.CreateAccessPoint(c.ctx(), &wormvaultv1.CreateAccessPointRequest{Name: name, Vault: "ledger", NetworkOrigin: &wormvaultv1.NetworkOrigin{AllowedCidrs: []string{"127.0.0.0/8"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := aps.UpdateAccessPointPolicy(c.ctx(), &wormvaultv1.UpdateAccessPointPolicyRequest{Name: "ledger-door", Policy: auditorPolicy}); err != nil {
		t.Fatal(err)
	}
	if _, err := aps.DeleteAccessPoint(c.ctx(), &wormvaultv1.DeleteAccessPointRequest{Name: "gone-door"}); err != nil {
		t.Fatal(err)
	}
	p.robot = newPrincipal(t, c, "auditor", auditorPolicy)
	newPrincipal(t, c, "gone", "")
	if _, err := wormvaultv1.NewIdentityServiceClient(c.cc).DeletePrincipal(c.ctx(), &wormvaultv1.DeletePrincipalRequest{Name: "gone"}); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p populated) verify(t *testing.T, c *conn) {
	t.Helper()
	for name, data := range p.data {
		vk, version, _ := strings.Cut(name, "@")
		vault, key, _ := strings.Cut(vk, "/")
		if got := c.get(vault, key, version); string(got) != string(data) {
			t.Fatalf("%s: reads %d bytes that differ from the %d stored", name, len(got), len(data))
		}
	}
	_, err := c.archives.DeleteArchive(c.ctx(), &wormvaultv1.DeleteArchiveRequest{Vault: "evidence", Key: p.compliance.GetKey(), VersionId: p.compliance.GetVersionId(), BypassGovernanceRetention: true})
	wantStatus(t, err, codes.PermissionDenied, "")
	// The KMS key still knows the held version it encrypts.
	_, err = wormvaultv1.NewKeyServiceClient(c.cc).ScheduleKeyDeletion(c.ctx(), &wormvaultv1.ScheduleKeyDeletionRequest{Name: "ledger-key", PendingDays: 7})
	wantStatus(t, err, codes.FailedPrecondition, "KMS_KEY_PROTECTS_LOCKED_VERSIONS")
	// The principal's key and identity policy came back with the catalog.
	robot := c.as(p.robot.token)
	if _, err := robot.vaults.ListVaults(robot.ctx(), &wormvaultv1.ListVaultsRequest{}); err != nil {
		t.Fatalf("the auditor's key or policy did not survive the rebuild: %v", err)
	}
	// The access point came back with its changed policy, and works.
	if _, err := robot.archives.ListArchives(robot.ctx(), &wormvaultv1.ListArchivesRequest{Vault: "ap/ledger-door"}); err != nil {
		t.Fatalf("the access point did not survive the rebuild: %v", err)
	}
}

func TestCatalogRebuild(t *testing.T) {
	for _, tc := range []struct {
		name string
		harm func(t *testing.T, dataDir string)
		// wantReported is true when the rebuild must report a journal drive
		// out of line with the majority.
		wantReported bool
	}{
		{"meta lost", func(t *testing.T, dir string) {}, false},
		{"meta and one drive lost", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "drives", "d3")); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"meta lost and one journal edited", func(t *testing.T, dir string) {
			segs, _ := filepath.Glob(filepath.Join(dir, "drives", "d2", "journal", "*"))
			if len(segs) == 0 {
				t.Fatal("no journal segment on d2")
			}
			b, err := os.ReadFile(segs[0])
			if err != nil {
				t.Fatal(err)
			}
			// Change a byte in the middle of the journal (inside a record).
			b[len(b)/2] ^= 0xff
			if err := os.WriteFile(segs[0], b, 0o600); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"meta lost and one journal forged with valid checksums", func(t *testing.T, dir string) {
			// A careful attacker, not bit rot: every record naming case-2
			// (its key, its holds) is rewritten and its frame checksum
			// recomputed, so the drive reads clean. The majority wins.
			segs, _ := filepath.Glob(filepath.Join(dir, "drives", "d2", "journal", "*"))
			if len(segs) == 0 {
				t.Fatal("no journal segment on d2")
			}
			if n := forgeJournalSegment(t, segs[0], "case-2", "case-X"); n == 0 {
				t.Fatal("no journal record on d2 names case-2")
			}
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t)
			c := dial(t, s)
			p := populate(t, c)
			before := dump(t, c)
			s.Stop()
			if err := os.RemoveAll(filepath.Join(s.DataDir, "meta")); err != nil {
				t.Fatal(err)
			}
			tc.harm(t, s.DataDir)
			s.Restart()
			c = dial(t, s)
			rep := s.Store().LastRebuild()
			if rep == nil {
				t.Fatal("the server did not rebuild its catalog")
			}
			t.Logf("rebuild report: %s", rep)
			if after := dump(t, c); after != before {
				t.Fatalf("state differs after the rebuild:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if len(rep.Mismatches) != 0 || len(rep.Unreadable) != 0 {
				t.Fatalf("rebuild found shard problems: %s", rep)
			}
			if reported := !rep.Journal.Clean(); reported != tc.wantReported {
				t.Fatalf("journal reported out of line: %v, want %v (%s)", reported, tc.wantReported, rep)
			}
			// The rebuild is in the audit trail, disagreements included.
			evs := listAudit(t, c, &wormvaultv1.ListAuditEventsRequest{Kind: audit.KindCatalogRebuild})
			if len(evs) != 1 || evs[0].GetDetails()["clean"] != fmt.Sprint(!tc.wantReported) {
				t.Fatalf("%s events after the rebuild: %v", audit.KindCatalogRebuild, evs)
			}
			p.verify(t, c)
		})
	}
}

// forgeJournalSegment replaces old with new (same length) inside every
// journal record of the segment file at path and recomputes each frame's
// CRC-32C, as vault/journal/doc.go lays frames out: a 48-byte segment
// header, then frames of [u32 length][u32 crc32c(length bytes, payload)]
// [payload]. It returns how many records it changed.
func forgeJournalSegment(t *testing.T, path, old, new string) int {
	t.Helper()
	if len(old) != len(new) {
		t.Fatal("forgeJournalSegment: old and new must have the same length")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	table := crc32.MakeTable(crc32.Castagnoli)
	changed := 0
	for off := 48; off+8 <= len(b); {
		size := int(binary.LittleEndian.Uint32(b[off:]))
		if size == 0 || off+8+size > len(b) {
			break
		}
		payload := b[off+8 : off+8+size]
		if bytes.Contains(payload, []byte(old)) {
			copy(payload, bytes.ReplaceAll(payload, []byte(old), []byte(new)))
			crc := crc32.Update(crc32.Checksum(b[off:off+4], table), table, payload)
			binary.LittleEndian.PutUint32(b[off+4:], crc)
			changed++
		}
		off += 8 + size
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return changed
}
