package server_test

// Acceptance tests of Vault Lock through the real server: initiate, the
// 24-hour IN_PROGRESS window (enforced, abortable), complete (LOCKED
// forever, across restarts), expiry, lock-policy validation, and the
// Glacier "no deletes of archives younger than a year" example. Every
// refusal is checked for its code, its ErrorInfo reason and that nothing
// changed: neither what snapshot sees nor the vault's lock and access
// policy (policyState). Time is the fakeClock of objectlock_test.go.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

const (
	inProgress = wormvaultv1.VaultLockState_VAULT_LOCK_STATE_IN_PROGRESS
	locked     = wormvaultv1.VaultLockState_VAULT_LOCK_STATE_LOCKED
)

func lockClient(c *conn) wormvaultv1.LockServiceClient { return wormvaultv1.NewLockServiceClient(c.cc) }

// denyDeletes is a lock policy denying every permanent delete (and delete
// marker) in vault to everyone.
func denyDeletes(vault, sid string) string {
	return fmt.Sprintf(`{"statements":[{"sid":%q,"effect":"DENY","principals":["*"],`+
		`"actions":["wormvault:DeleteArchive"],"resources":["vaults/%s/archives/*"]}]}`, sid, vault)
}

func (c *conn) initiateLock(vault, doc string) (*wormvaultv1.InitiateVaultLockResponse, error) {
	return lockClient(c).InitiateVaultLock(c.ctx(), &wormvaultv1.InitiateVaultLockRequest{Vault: vault, Policy: doc})
}

func (c *conn) mustInitiateLock(vault, doc string) *wormvaultv1.InitiateVaultLockResponse {
	c.t.Helper()
	r, err := c.initiateLock(vault, doc)
	if err != nil {
		c.t.Fatalf("InitiateVaultLock %s: %v", vault, err)
	}
	if r.GetLockId() == "" {
		c.t.Fatalf("InitiateVaultLock %s: empty lock id", vault)
	}
	return r
}

func (c *conn) completeLock(vault, id string) error {
	_, err := lockClient(c).CompleteVaultLock(c.ctx(), &wormvaultv1.CompleteVaultLockRequest{Vault: vault, LockId: id})
	return err
}

func (c *conn) abortLock(vault string) error {
	_, err := lockClient(c).AbortVaultLock(c.ctx(), &wormvaultv1.AbortVaultLockRequest{Vault: vault})
	return err
}

func (c *conn) getLock(vault string) (*wormvaultv1.GetVaultLockResponse, error) {
	return lockClient(c).GetVaultLock(c.ctx(), &wormvaultv1.GetVaultLockRequest{Vault: vault})
}

func (c *conn) deleteVault(name string) error {
	_, err := c.vaults.DeleteVault(c.ctx(), &wormvaultv1.DeleteVaultRequest{Name: name})
	return err
}

// wantVaultLock asserts GetVaultLock: state, policy text, and
// expire_time = create_time + 24h with create_time = created.
func wantVaultLock(t testing.TB, c *conn, vault string, state wormvaultv1.VaultLockState, doc string, created time.Time) *wormvaultv1.GetVaultLockResponse {
	t.Helper()
	l, err := c.getLock(vault)
	mustOK(t, err, "GetVaultLock "+vault)
	ct, et := l.GetCreateTime().AsTime(), l.GetExpireTime().AsTime()
	if l.GetState() != state || l.GetPolicy() != doc || !ct.Equal(created) || !et.Equal(ct.Add(24*time.Hour)) {
		t.Fatalf("GetVaultLock %s: %v, want %v created %s expiring 24h later, policy %s", vault, l, state, created.Format(time.RFC3339Nano), doc)
	}
	return l
}

func wantNoVaultLock(t testing.TB, c *conn, vault string) {
	t.Helper()
	_, err := c.getLock(vault)
	wantStatus(t, err, codes.NotFound, "VAULT_LOCK_NOT_FOUND")
}

// wantPolicyDenied asserts a denial by the policy statement sid.
func wantPolicyDenied(t testing.TB, err error, sid string) {
	t.Helper()
	wantStatus(t, err, codes.PermissionDenied, "POLICY_DENIED")
	if !strings.Contains(err.Error(), fmt.Sprintf("%q", sid)) {
		t.Fatalf("denial %v does not name statement %q", err, sid)
	}
}

// policyState renders each vault's lock and access policy, or the error
// reading it, for nothing-changed checks (snapshot shows neither).
func policyState(t testing.TB, c *conn, vaults ...string) string {
	t.Helper()
	var b strings.Builder
	for _, v := range vaults {
		l, err := c.getLock(v)
		if code, reason, _ := statusOf(err); err != nil {
			fmt.Fprintf(&b, "%s lock: %v %s\n", v, code, reason)
		} else {
			fmt.Fprintf(&b, "%s lock: %s\n", v, protojson.Format(l))
		}
		p, err := c.vaults.GetVaultAccessPolicy(c.ctx(), &wormvaultv1.GetVaultAccessPolicyRequest{Vault: v})
		if code, reason, _ := statusOf(err); err != nil {
			fmt.Fprintf(&b, "%s access policy: %v %s\n", v, code, reason)
		} else {
			fmt.Fprintf(&b, "%s access policy: %s\n", v, p.GetPolicy())
		}
	}
	return b.String()
}

// refusedPolicy is refused plus a check that the lock and access policy of
// vaults did not change either. It returns the error.
func refusedPolicy(t *testing.T, c *conn, s *servertest.Server, vaults []string, code codes.Code, reason, field string, call func() error) error {
	t.Helper()
	before := policyState(t, c, vaults...)
	var err error
	refused(t, c, s, code, reason, field, func() error { err = call(); return err })
	if after := policyState(t, c, vaults...); after != before {
		t.Fatalf("refused call (%v) changed a lock or policy:\nbefore:\n%s\nafter:\n%s", err, before, after)
	}
	return err
}

// 1. An initiated lock is IN_PROGRESS for 24 hours, enforced as if locked
// (root included), and abortable; after the abort it is gone.
func TestVaultLockInitiateEnforceAbort(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	const v = "vl-abort"
	c.createVault(v)
	a := c.put(v, "k", []byte("to be deleted"))
	wantNoVaultLock(t, c, v)

	doc := denyDeletes(v, "no-deletes")
	r := c.mustInitiateLock(v, doc)
	if !r.GetExpireTime().AsTime().Equal(fc.now().Add(24 * time.Hour)) {
		t.Fatalf("initiate expire_time %s, want now + 24h = %s", r.GetExpireTime().AsTime(), fc.now().Add(24*time.Hour))
	}
	l := wantVaultLock(t, c, v, inProgress, doc, fc.now())
	if !l.GetExpireTime().AsTime().Equal(r.GetExpireTime().AsTime()) {
		t.Fatalf("GetVaultLock expire_time %s, initiate said %s", l.GetExpireTime().AsTime(), r.GetExpireTime().AsTime())
	}

	// Enforced while in progress: root's permanent delete and a delete
	// marker are both denied, naming the statement.
	err := refusedPolicy(t, c, s, []string{v}, codes.PermissionDenied, "POLICY_DENIED", "", func() error {
		_, err := c.deleteArchive(v, "k", a.GetVersionId(), false)
		return err
	})
	wantPolicyDenied(t, err, "no-deletes")
	err = refusedPolicy(t, c, s, []string{v}, codes.PermissionDenied, "POLICY_DENIED", "", func() error {
		_, err := c.deleteArchive(v, "k", "", false)
		return err
	})
	wantPolicyDenied(t, err, "no-deletes")
	// Reads are not touched by it.
	if string(c.get(v, "k", a.GetVersionId())) != "to be deleted" {
		t.Fatal("read under an in-progress lock")
	}

	mustOK(t, c.abortLock(v), "AbortVaultLock")
	wantNoVaultLock(t, c, v)
	refusedPolicy(t, c, s, []string{v}, codes.NotFound, "VAULT_LOCK_NOT_FOUND", "", func() error { return c.abortLock(v) })

	del, err := c.deleteArchive(v, "k", a.GetVersionId(), false)
	mustOK(t, err, "delete after abort")
	if del.GetVersionId() != a.GetVersionId() || del.GetDeleteMarker() {
		t.Fatalf("delete response %v", del)
	}
}

// 2. A completed lock is LOCKED forever: completing again with its id is a
// no-op, a wrong id is denied, an access policy cannot override it, it
// cannot be aborted or replaced, the vault cannot be deleted, and all of
// that survives a restart and the passing of time.
func TestVaultLockCompleteIsForever(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	const v, empty = "vl-locked", "vl-locked-empty"
	c.createVault(v)
	c.createVault(empty)
	a := c.put(v, "k", []byte("kept forever"))
	doc := denyDeletes(v, "no-deletes")
	created := fc.now()
	id := c.mustInitiateLock(v, doc).GetLockId()
	fc.advance(time.Hour)
	mustOK(t, c.completeLock(v, id), "CompleteVaultLock")
	wantVaultLock(t, c, v, locked, doc, created)

	emptyDoc, emptyCreated := denyDeletes(empty, "no-deletes"), fc.now()
	mustOK(t, c.completeLock(empty, c.mustInitiateLock(empty, emptyDoc).GetLockId()), "lock the empty vault")
	vaults := []string{v, empty}

	mustOK(t, c.completeLock(v, id), "CompleteVaultLock again with the same id")
	wantVaultLock(t, c, v, locked, doc, created)
	refusedPolicy(t, c, s, vaults, codes.PermissionDenied, "PERMISSION_DENIED", "", func() error { return c.completeLock(v, id+"0") })
	refusedPolicy(t, c, s, vaults, codes.PermissionDenied, "PERMISSION_DENIED", "", func() error { return c.completeLock(v, "") })

	// The access policy is still the owner's to change, but an ALLOW there
	// never outweighs the lock's DENY.
	allow := fmt.Sprintf(`{"statements":[{"sid":"allow-deletes","effect":"ALLOW","principals":["*"],"actions":["wormvault:DeleteArchive"],"resources":["vaults/%s/archives/*"]}]}`, v)
	_, err := c.vaults.SetVaultAccessPolicy(c.ctx(), &wormvaultv1.SetVaultAccessPolicyRequest{Vault: v, Policy: allow})
	mustOK(t, err, "SetVaultAccessPolicy on a locked vault")
	deleteIt := func() error { _, err := c.deleteArchive(v, "k", a.GetVersionId(), false); return err }
	wantPolicyDenied(t, refusedPolicy(t, c, s, vaults, codes.PermissionDenied, "POLICY_DENIED", "", deleteIt), "no-deletes")

	refusedPolicy(t, c, s, vaults, codes.FailedPrecondition, "VAULT_LOCKED", "", func() error { return c.abortLock(v) })
	refusedPolicy(t, c, s, vaults, codes.FailedPrecondition, "VAULT_LOCKED", "", func() error {
		_, err := c.initiateLock(v, denyDeletes(v, "other"))
		return err
	})
	refusedPolicy(t, c, s, vaults, codes.FailedPrecondition, "VAULT_LOCKED", "", func() error { return c.deleteVault(v) })
	refusedPolicy(t, c, s, vaults, codes.FailedPrecondition, "VAULT_LOCKED", "", func() error { return c.deleteVault(empty) })

	// Restart, and let years pass: still LOCKED, still enforced.
	s.Restart()
	c = dial(t, s)
	fc.advance(3 * 365 * day)
	wantVaultLock(t, c, v, locked, doc, created)
	wantVaultLock(t, c, empty, locked, emptyDoc, emptyCreated)
	wantPolicyDenied(t, refusedPolicy(t, c, s, vaults, codes.PermissionDenied, "POLICY_DENIED", "", deleteIt), "no-deletes")
	mustOK(t, c.completeLock(v, id), "CompleteVaultLock with the same id after restart")
	refusedPolicy(t, c, s, vaults, codes.FailedPrecondition, "VAULT_LOCKED", "", func() error { return c.abortLock(v) })
	refusedPolicy(t, c, s, vaults, codes.FailedPrecondition, "VAULT_LOCKED", "", func() error { return c.deleteVault(empty) })
	if string(c.get(v, "k", a.GetVersionId())) != "kept forever" {
		t.Fatal("locked archive does not read back")
	}
}

// 3. While a lock is in progress a second initiate is refused and a wrong
// lock id is an invalid argument; the vault cannot be deleted; and the lock
// RPCs on vaults without locks, or without vaults, say so.
func TestVaultLockInProgressRefusals(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	const v = "vl-pending"
	c.createVault(v)
	doc := denyDeletes(v, "no-deletes")
	created := fc.now()
	id := c.mustInitiateLock(v, doc).GetLockId()
	fc.advance(time.Minute)

	refusedPolicy(t, c, s, []string{v}, codes.FailedPrecondition, "VAULT_LOCK_IN_PROGRESS", "", func() error {
		_, err := c.initiateLock(v, denyDeletes(v, "replacement"))
		return err
	})
	for _, wrong := range []string{id + "0", "", strings.ToUpper(id)} {
		refusedPolicy(t, c, s, []string{v}, codes.InvalidArgument, "INVALID_ARGUMENT", "lock_id", func() error { return c.completeLock(v, wrong) })
	}
	// The vault is empty: what stops the delete is the lock in progress.
	refusedPolicy(t, c, s, []string{v}, codes.FailedPrecondition, "VAULT_LOCK_IN_PROGRESS", "", func() error { return c.deleteVault(v) })
	wantVaultLock(t, c, v, inProgress, doc, created)

	// A restart keeps the lock in progress, with its id.
	s.Restart()
	c = dial(t, s)
	wantVaultLock(t, c, v, inProgress, doc, created)
	mustOK(t, c.completeLock(v, id), "complete with the right id")
	wantVaultLock(t, c, v, locked, doc, created)

	const bare = "vl-bare"
	c.createVault(bare)
	refusedPolicy(t, c, s, []string{bare}, codes.NotFound, "VAULT_LOCK_NOT_FOUND", "", func() error { return c.completeLock(bare, id) })
	refusedPolicy(t, c, s, []string{bare}, codes.NotFound, "VAULT_LOCK_NOT_FOUND", "", func() error { return c.abortLock(bare) })
	for name, call := range map[string]func() error{
		"initiate": func() error { _, err := c.initiateLock("vl-missing", denyDeletes("vl-missing", "x")); return err },
		"complete": func() error { return c.completeLock("vl-missing", id) },
		"abort":    func() error { return c.abortLock("vl-missing") },
		"get":      func() error { _, err := c.getLock("vl-missing"); return err },
	} {
		t.Run(name, func(t *testing.T) {
			refused(t, c, s, codes.NotFound, "VAULT_NOT_FOUND", "", call)
		})
	}
	refused(t, c, s, codes.InvalidArgument, "INVALID_ARGUMENT", "vault", func() error { _, err := c.getLock("Not A Vault"); return err })
}

// 4. A lock not completed within 24 hours expires: completing it then fails
// with LOCK_EXPIRED and removes it, its policy stops applying at
// expire_time, and a new lock can be initiated.
func TestVaultLockExpires(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	const v, w = "vl-expire", "vl-expire-abort"
	c.createVault(v)
	c.createVault(w)
	a := c.put(v, "k", []byte("x"))
	b := c.put(w, "k", []byte("y"))
	doc, docW := denyDeletes(v, "no-deletes"), denyDeletes(w, "no-deletes")
	created := fc.now()
	id := c.mustInitiateLock(v, doc).GetLockId()
	c.mustInitiateLock(w, docW)

	// The last instant of the window: still in progress, still enforced.
	fc.advance(24*time.Hour - time.Nanosecond)
	wantVaultLock(t, c, v, inProgress, doc, created)
	wantPolicyDenied(t, refusedPolicy(t, c, s, []string{v}, codes.PermissionDenied, "POLICY_DENIED", "", func() error {
		_, err := c.deleteArchive(v, "k", a.GetVersionId(), false)
		return err
	}), "no-deletes")

	fc.advance(2 * time.Nanosecond) // expire_time + 1ns
	before := snapshot(t, c, s.DataDir)
	wantStatus(t, c.completeLock(v, id), codes.FailedPrecondition, "LOCK_EXPIRED")
	if after := snapshot(t, c, s.DataDir); after != before {
		t.Fatalf("expired complete changed state:\n%s\n%s", before, after)
	}
	wantNoVaultLock(t, c, v)
	// The expired lock is gone: completing again finds nothing.
	refusedPolicy(t, c, s, []string{v}, codes.NotFound, "VAULT_LOCK_NOT_FOUND", "", func() error { return c.completeLock(v, id) })

	// Expired without anyone completing it: not shown, not enforced, not
	// abortable, and replaceable.
	wantNoVaultLock(t, c, w)
	refusedPolicy(t, c, s, []string{w}, codes.NotFound, "VAULT_LOCK_NOT_FOUND", "", func() error { return c.abortLock(w) })
	_, err := c.deleteArchive(w, "k", b.GetVersionId(), false)
	mustOK(t, err, "delete once the unfinished lock expired")

	_, err = c.deleteArchive(v, "k", a.GetVersionId(), false)
	mustOK(t, err, "delete once the lock expired")

	for _, name := range []string{v, w} {
		doc2 := denyDeletes(name, "second-try")
		r := c.mustInitiateLock(name, doc2)
		if r.GetLockId() == id {
			t.Fatal("a new lock reused the expired lock's id")
		}
		wantVaultLock(t, c, name, inProgress, doc2, fc.now())
		mustOK(t, c.completeLock(name, r.GetLockId()), "complete the second lock")
	}
}

// 5. The Glacier example: no permanent delete of an archive younger than a
// year, by anyone, forever.
func TestVaultLockGlacierExample(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	const v = "glacier"
	c.createVault(v)
	doc := `{"statements":[{"sid":"deny-young-deletes","effect":"DENY","principals":["*"],` +
		`"actions":["wormvault:DeleteArchive"],"resources":["vaults/glacier/archives/*"],` +
		`"condition":"archive.age_days < 365"}]}`
	mustOK(t, c.completeLock(v, c.mustInitiateLock(v, doc).GetLockId()), "lock")
	wantVaultLock(t, c, v, locked, doc, fc.now())

	young := c.put(v, "young", []byte("ten days old"))
	old := c.put(v, "old", []byte("four hundred days old"))
	fc.advance(10 * day)
	deleteVersion := func(a *wormvaultv1.Archive) func() error {
		return func() error { _, err := c.deleteArchive(v, a.GetKey(), a.GetVersionId(), false); return err }
	}
	wantPolicyDenied(t, refusedPolicy(t, c, s, []string{v}, codes.PermissionDenied, "POLICY_DENIED", "", deleteVersion(young)), "deny-young-deletes")

	// age_days counts whole days: 364 days and 23:59:59.999999999 is 364.
	fc.advance(355*day - time.Nanosecond)
	wantPolicyDenied(t, refusedPolicy(t, c, s, []string{v}, codes.PermissionDenied, "POLICY_DENIED", "", deleteVersion(old)), "deny-young-deletes")
	fc.advance(time.Nanosecond + 35*day) // 400 days
	del, err := c.deleteArchive(v, "old", old.GetVersionId(), false)
	mustOK(t, err, "permanent delete of a 400-day-old archive")
	if del.GetVersionId() != old.GetVersionId() || del.GetDeleteMarker() {
		t.Fatalf("delete response %v", del)
	}

	// Delete markers. The condition sees the version the marker would hide
	// (the latest): a marker on a 400-day-old archive is allowed, one on a
	// fresh archive is denied.
	if _, err := c.deleteArchive(v, "young", "", false); err != nil {
		t.Fatalf("delete marker over a 400-day-old archive: %v", err)
	}
	fresh := c.put(v, "fresh", []byte("new"))
	wantPolicyDenied(t, refusedPolicy(t, c, s, []string{v}, codes.PermissionDenied, "POLICY_DENIED", "", func() error {
		_, err := c.deleteArchive(v, "fresh", "", false)
		return err
	}), "deny-young-deletes")

	// New uploads are not affected, and a fresh one is protected in turn.
	wantPolicyDenied(t, refusedPolicy(t, c, s, []string{v}, codes.PermissionDenied, "POLICY_DENIED", "", deleteVersion(fresh)), "deny-young-deletes")
	_, err = c.deleteArchive(v, "young", young.GetVersionId(), false)
	mustOK(t, err, "the once young archive, now 400 days old")
}

// 6. A lock policy is validated at initiate: DENY statements only, never
// one locking every reader out, and a well-formed document; nothing is
// stored when it is refused.
func TestVaultLockPolicyValidation(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	const v = "vl-valid"
	c.createVault(v)
	c.put(v, "k", []byte("x"))
	stmt := func(effect, actions, resources, cond string) string {
		return fmt.Sprintf(`{"statements":[{"sid":"s1","effect":%q,"principals":["*"],"actions":[%s],"resources":[%s],"condition":%q}]}`, effect, actions, resources, cond)
	}
	for _, tc := range []struct{ name, doc string }{
		{"allow statement", stmt("ALLOW", `"wormvault:GetArchive"`, `"vaults/vl-valid/archives/*"`, "")},
		{"allow beside a deny", `{"statements":[` +
			`{"effect":"DENY","principals":["*"],"actions":["wormvault:DeleteArchive"],"resources":["*"]},` +
			`{"effect":"ALLOW","principals":["*"],"actions":["wormvault:DeleteArchive"],"resources":["*"]}]}`},
		{"deny downloads to everyone", stmt("DENY", `"wormvault:DownloadArchive"`, `"vaults/vl-valid/archives/*"`, "")},
		{"deny GetArchive on everything", stmt("DENY", `"wormvault:GetArchive"`, `"*"`, "")},
		{"deny all actions on every vault's archives", stmt("DENY", `"wormvault:*"`, `"vaults/vl-*/archives/*"`, "")},
		{"deny downloads, condition true", stmt("DENY", `"wormvault:DownloadArchive"`, `"vaults/vl-valid/archives/*"`, "true")},
		{"malformed JSON", `{"statements":[{"sid":"s1","effect":"DENY"`},
		{"empty document", ``},
		{"no statements", `{"statements":[]}`},
		{"unknown field", `{"statements":[{"effect":"DENY","principals":["*"],"actions":["wormvault:DeleteArchive"],"resources":["*"],"notes":"x"}]}`},
		{"unknown action", stmt("DENY", `"wormvault:ShredEverything"`, `"*"`, "")},
		{"CEL type error", stmt("DENY", `"wormvault:DeleteArchive"`, `"*"`, `archive.age_days < "365"`)},
		{"CEL not bool", stmt("DENY", `"wormvault:DeleteArchive"`, `"*"`, `archive.age_days`)},
		{"CEL unknown variable", stmt("DENY", `"wormvault:DeleteArchive"`, `"*"`, `archive.colour == "red"`)},
		{"CEL syntax error", stmt("DENY", `"wormvault:DeleteArchive"`, `"*"`, `archive.age_days <`)},
		{"bad resource", stmt("DENY", `"wormvault:DeleteArchive"`, `"buckets/x"`, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refusedPolicy(t, c, s, []string{v}, codes.InvalidArgument, "INVALID_ARGUMENT", "policy", func() error {
				_, err := c.initiateLock(v, tc.doc)
				return err
			})
			wantNoVaultLock(t, c, v)
		})
	}
	refusedPolicy(t, c, s, []string{v}, codes.InvalidArgument, "INVALID_ARGUMENT", "vault", func() error {
		_, err := c.initiateLock("Bad_Name", denyDeletes(v, "x"))
		return err
	})

	// Read denials that leave someone a way in are accepted.
	for _, doc := range []string{
		stmt("DENY", `"wormvault:DownloadArchive"`, `"vaults/vl-valid/archives/*"`, "archive.legal_hold"),
		stmt("DENY", `"wormvault:GetArchive"`, `"vaults/vl-valid/archives/secret/*"`, ""),
		stmt("DENY", `"wormvault:DownloadArchive"`, `"vaults/other/archives/*"`, ""),
	} {
		r := c.mustInitiateLock(v, doc)
		wantVaultLock(t, c, v, inProgress, doc, r.GetExpireTime().AsTime().Add(-24*time.Hour))
		mustOK(t, c.abortLock(v), "abort")
	}
}

// 8. ExplainProtection reports a lock statement that denies the delete as
// a POLICY protection naming the statement; the version is not deletable.
func TestVaultLockExplainProtection(t *testing.T) {
	fc := newFakeClock()
	_, c := startWithClock(t, fc)
	const v = "vl-explain"
	c.createVault(v)
	a := c.put(v, "k", []byte("x"))
	if e := c.explain(v, "k", a.GetVersionId()); !e.GetDeletable() || len(e.GetProtections()) != 0 {
		t.Fatalf("explain before the lock: %v", e)
	}
	doc := `{"statements":[{"sid":"keep-a-year","effect":"DENY","principals":["*"],` +
		`"actions":["wormvault:DeleteArchive"],"resources":["vaults/vl-explain/archives/*"],"condition":"archive.age_days < 365"}]}`
	id := c.mustInitiateLock(v, doc).GetLockId()
	wantPolicyProtection := func(what string) {
		t.Helper()
		e := c.explain(v, "k", a.GetVersionId())
		if e.GetDeletable() || e.GetVersionId() != a.GetVersionId() || len(e.GetProtections()) != 1 {
			t.Fatalf("explain %s: %v, want one protection", what, e)
		}
		p := e.GetProtections()[0]
		if p.GetKind() != "POLICY" || p.GetStatementSid() != "keep-a-year" || p.GetEndTime() != nil || !strings.Contains(p.GetDescription(), "keep-a-year") {
			t.Fatalf("explain %s: protection %v, want POLICY by keep-a-year", what, p)
		}
	}
	wantPolicyProtection("in progress")
	mustOK(t, c.completeLock(v, id), "complete")
	wantPolicyProtection("locked")
	fc.advance(365 * day)
	if e := c.explain(v, "k", a.GetVersionId()); !e.GetDeletable() || len(e.GetProtections()) != 0 {
		t.Fatalf("explain at 365 days: %v", e)
	}
	_, err := c.deleteArchive(v, "k", a.GetVersionId(), false)
	mustOK(t, err, "delete at 365 days")
}

// The in-progress lock binds the lock RPCs too: a lock policy that denies
// AbortVaultLock (or CompleteVaultLock) to everyone cannot be aborted (or
// completed) by root; it goes only by expiring after 24 hours. Root's
// standing right over the access policy does not extend to the lock: a
// lock statement denying SetVaultAccessPolicy binds root.
func TestVaultLockPolicyBindsLockAndPolicyAdmin(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	const v = "vl-self"
	c.createVault(v)
	doc := `{"statements":[{"sid":"stuck","effect":"DENY","principals":["*"],` +
		`"actions":["wormvault:AbortVaultLock","wormvault:CompleteVaultLock","wormvault:SetVaultAccessPolicy"],"resources":["vaults/vl-self"]}]}`
	id := c.mustInitiateLock(v, doc).GetLockId()
	vs := []string{v}
	wantPolicyDenied(t, refusedPolicy(t, c, s, vs, codes.PermissionDenied, "POLICY_DENIED", "", func() error { return c.abortLock(v) }), "stuck")
	wantPolicyDenied(t, refusedPolicy(t, c, s, vs, codes.PermissionDenied, "POLICY_DENIED", "", func() error { return c.completeLock(v, id) }), "stuck")
	wantPolicyDenied(t, refusedPolicy(t, c, s, vs, codes.PermissionDenied, "POLICY_DENIED", "", func() error {
		return c.setAccessPolicy(v, denyDeletes(v, "x"))
	}), "stuck")
	refusedPolicy(t, c, s, vs, codes.NotFound, "NO_ACCESS_POLICY", "", func() error { _, err := c.getAccessPolicy(v); return err })

	fc.advance(24 * time.Hour)
	wantNoVaultLock(t, c, v)
	mustOK(t, c.setAccessPolicy(v, denyDeletes(v, "x")), "set the access policy once the lock expired")
	refusedPolicy(t, c, s, vs, codes.NotFound, "VAULT_LOCK_NOT_FOUND", "", func() error { return c.abortLock(v) })
}
