package client_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

// End-to-end tests against the real server on a loopback port.

func dial(t *testing.T, srv *servertest.Server, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.Dial(t.Context(), srv.Addr, append([]client.Option{client.WithToken(srv.Token)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestE2EVaults(t *testing.T) {
	srv := servertest.Start(t)
	c := dial(t, srv, client.WithPageSize(2))
	ctx := t.Context()

	names := []string{"alpha", "bravo", "charlie", "delta", "echo"}
	for _, n := range names {
		if _, err := c.CreateVault(ctx, n); err != nil {
			t.Fatalf("CreateVault %s: %v", n, err)
		}
	}
	v, err := c.CreateVault(ctx, "retained", client.WithDefaultRetention(wormvault.DefaultRetention{Mode: wormvault.RetentionGovernance, Days: 30}))
	if err != nil {
		t.Fatal(err)
	}
	if d := v.GetDefaultRetention(); d.GetMode() != wormvaultv1.RetentionMode_RETENTION_MODE_GOVERNANCE || d.GetDays() != 30 {
		t.Errorf("default retention = %v", d)
	}
	if _, err := c.CreateVault(ctx, "alpha"); !errors.Is(err, wormvault.ErrVaultExists) {
		t.Errorf("CreateVault twice: err = %v, want ErrVaultExists", err)
	}
	if _, err := c.GetVault(ctx, "nope-nope"); !errors.Is(err, wormvault.ErrVaultNotFound) {
		t.Errorf("GetVault missing: err = %v, want ErrVaultNotFound", err)
	}
	var got []string
	for v, err := range c.ListVaults(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v.GetName())
	}
	want := append(slices.Clone(names), "retained")
	if !slices.Equal(got, want) {
		t.Errorf("ListVaults (pages of 2) = %v, want %v", got, want)
	}

	v, err = c.UpdateVault(ctx, "retained", client.WithoutDefaultRetention(), client.WithMaxRetention(10*365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if v.GetDefaultRetention() != nil || v.GetMaxRetention().AsDuration() != 10*365*24*time.Hour {
		t.Errorf("after UpdateVault: default %v, max %v", v.GetDefaultRetention(), v.GetMaxRetention())
	}
	if _, err := c.UpdateVault(ctx, "retained"); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Errorf("UpdateVault with no change: err = %v", err)
	}

	if err := c.DeleteVault(ctx, "echo"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetVault(ctx, "echo"); !errors.Is(err, wormvault.ErrNotFound) {
		t.Errorf("GetVault after delete: err = %v", err)
	}
}

func TestE2EUploadDownload(t *testing.T) {
	srv := servertest.Start(t)
	c := dial(t, srv)
	ctx := t.Context()
	if _, err := c.CreateVault(ctx, "data"); err != nil {
		t.Fatal(err)
	}
	const mib = 1 << 20
	for _, size := range []int{0, 1, mib - 1, mib, mib + 1, 5 * mib} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			data := randomBytes(t, size)
			sum := sha256.Sum256(data)
			key := fmt.Sprintf("blob-%d", size)
			var lastProgress int64
			a, err := c.Upload(ctx, "data", key, bytes.NewReader(data),
				client.WithContentType("application/octet-stream"),
				client.WithMetadata(map[string]string{"size": fmt.Sprint(size)}),
				client.WithExpectedSHA256(sum[:]),
				client.WithProgress(func(n int64) { lastProgress = n }))
			if err != nil {
				t.Fatal(err)
			}
			if a.GetSizeBytes() != int64(size) || !bytes.Equal(a.GetSha256(), sum[:]) || a.GetVersionId() == "" {
				t.Fatalf("archive = size %d sha %x version %q", a.GetSizeBytes(), a.GetSha256(), a.GetVersionId())
			}
			if lastProgress != int64(size) {
				t.Errorf("last progress = %d, want %d", lastProgress, size)
			}

			meta, rc, err := c.Download(ctx, "data", key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("download differs: got %d bytes, want %d", len(got), len(data))
			}
			if meta.GetVersionId() != a.GetVersionId() || meta.GetMetadata()["size"] != fmt.Sprint(size) || meta.GetContentType() != "application/octet-stream" {
				t.Errorf("download metadata = %v", meta)
			}

			st, err := c.Stat(ctx, "data", key, "")
			if err != nil {
				t.Fatal(err)
			}
			if st.GetVersionId() != a.GetVersionId() || !st.GetIsLatest() {
				t.Errorf("Stat = %v", st)
			}

			if size < 10 {
				return
			}
			for _, r := range [][2]int64{{0, 1}, {1, 7}, {int64(size) / 2, 0}, {int64(size) - 3, 3}, {int64(size) / 3, int64(size) / 3}} {
				_, rc, err := c.Download(ctx, "data", key, client.WithVersion(a.GetVersionId()), client.WithRange(r[0], r[1]))
				if err != nil {
					t.Fatalf("range %v: %v", r, err)
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Fatalf("range %v: %v", r, err)
				}
				want := data[r[0]:]
				if r[1] > 0 {
					want = want[:r[1]]
				}
				if !bytes.Equal(got, want) {
					t.Errorf("range %v: got %d bytes, want %d", r, len(got), len(want))
				}
			}
		})
	}
}

func TestE2EListAndDeleteMarker(t *testing.T) {
	srv := servertest.Start(t)
	c := dial(t, srv, client.WithPageSize(2))
	ctx := t.Context()
	if _, err := c.CreateVault(ctx, "logs"); err != nil {
		t.Fatal(err)
	}
	keys := []string{"2026/01/a", "2026/01/b", "2026/02/a", "2026/02/b", "2026/02/c", "other"}
	for _, k := range keys {
		if _, err := c.Upload(ctx, "logs", k, bytes.NewReader([]byte(k))); err != nil {
			t.Fatal(err)
		}
	}
	second, err := c.Upload(ctx, "logs", "other", bytes.NewReader([]byte("v2")))
	if err != nil {
		t.Fatal(err)
	}
	list := func(prefix string, all bool) []*wormvaultv1.Archive {
		t.Helper()
		var out []*wormvaultv1.Archive
		for a, err := range c.List(ctx, "logs", prefix, all) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, a)
		}
		return out
	}
	keysOf := func(as []*wormvaultv1.Archive) []string {
		var ks []string
		for _, a := range as {
			ks = append(ks, a.GetKey())
		}
		return ks
	}
	if got := keysOf(list("", false)); !slices.Equal(got, keys) {
		t.Errorf("List = %v, want %v", got, keys)
	}
	if got := keysOf(list("2026/02/", false)); !slices.Equal(got, keys[2:5]) {
		t.Errorf("List 2026/02/ = %v", got)
	}
	if got := list("other", true); len(got) != 2 || got[0].GetVersionId() != second.GetVersionId() || !got[0].GetIsLatest() {
		t.Errorf("List other all versions = %v", got)
	}

	del, err := c.Delete(ctx, "logs", "2026/01/a", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if !del.GetDeleteMarker() || del.GetVersionId() == "" {
		t.Errorf("Delete = %v, want a delete marker", del)
	}
	if st, err := c.Stat(ctx, "logs", "2026/01/a", ""); err != nil || !st.GetDeleteMarker() || st.GetVersionId() != del.GetVersionId() {
		t.Errorf("Stat after delete = %v, %v; want the delete marker", st, err)
	}
	if _, _, err := c.Download(ctx, "logs", "2026/01/a"); !errors.Is(err, wormvault.ErrNotFound) {
		t.Errorf("Download after delete marker: err = %v, want ErrNotFound", err)
	}
	if got := keysOf(list("", false)); slices.Contains(got, "2026/01/a") {
		t.Errorf("List after delete still has the key: %v", got)
	}
	versions := list("2026/01/a", true)
	if len(versions) != 2 || !versions[0].GetDeleteMarker() {
		t.Errorf("versions after delete = %v, want marker first", versions)
	}
	// Permanently removing an unprotected version works.
	if _, err := c.Delete(ctx, "logs", "2026/01/a", versions[1].GetVersionId(), false); err != nil {
		t.Errorf("permanent delete: %v", err)
	}
	if err := c.DeleteVault(ctx, "logs"); !errors.Is(err, wormvault.ErrVaultNotEmpty) {
		t.Errorf("DeleteVault non-empty: err = %v, want ErrVaultNotEmpty", err)
	}
}

func TestE2EProtection(t *testing.T) {
	srv := servertest.Start(t)
	c := dial(t, srv)
	ctx := t.Context()
	if _, err := c.CreateVault(ctx, "legal"); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	a, err := c.Upload(ctx, "legal", "contract.pdf", bytes.NewReader([]byte("signed")),
		client.WithRetention(wormvault.RetentionCompliance, until), client.WithLegalHold())
	if err != nil {
		t.Fatal(err)
	}
	if r := client.RetentionFromProto(a.GetRetention()); r.Mode != wormvault.RetentionCompliance || !r.RetainUntil.Equal(until) {
		t.Errorf("retention = %+v", r)
	}
	_, err = c.Delete(ctx, "legal", "contract.pdf", a.GetVersionId(), true)
	if !errors.Is(err, wormvault.ErrRetentionCompliance) && !errors.Is(err, wormvault.ErrLegalHoldActive) {
		t.Errorf("delete protected version: err = %v", err)
	}
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Reason == "" {
		t.Errorf("error %v carries no reason", err)
	}
	if _, err := c.SetRetention(ctx, "legal", "contract.pdf", "", wormvault.Retention{}, true); !errors.Is(err, wormvault.ErrRetentionCompliance) {
		t.Errorf("remove compliance retention: err = %v, want ErrRetentionCompliance", err)
	}
	if ar, err := c.SetRetention(ctx, "legal", "contract.pdf", "", wormvault.Retention{Mode: wormvault.RetentionCompliance, RetainUntil: until.Add(time.Hour)}, false); err != nil {
		t.Errorf("extend compliance retention: %v", err)
	} else if !ar.GetRetention().GetRetainUntilTime().AsTime().Equal(until.Add(time.Hour)) {
		t.Errorf("extended retention = %v", ar.GetRetention())
	}
	gr, err := c.GetRetention(ctx, "legal", "contract.pdf", "")
	if err != nil || gr.GetVersionId() != a.GetVersionId() {
		t.Errorf("GetRetention = %v, %v", gr, err)
	}

	if _, err := c.SetLegalHold(ctx, "legal", "contract.pdf", "", true, "case-42", "litigation"); err != nil {
		t.Fatal(err)
	}
	lh, err := c.GetLegalHold(ctx, "legal", "contract.pdf", "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, h := range lh.GetHolds() {
		ids = append(ids, h.GetHoldId())
	}
	slices.Sort(ids)
	if !lh.GetLegalHold() || !slices.Equal(ids, []string{"case-42", wormvault.DefaultHoldID}) {
		t.Errorf("holds = %v", ids)
	}
	ex, err := c.ExplainProtection(ctx, "legal", "contract.pdf", "")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, p := range ex.GetProtections() {
		kinds[p.GetKind()]++
	}
	if ex.GetDeletable() || kinds["RETENTION"] != 1 || kinds["LEGAL_HOLD"] != 2 {
		t.Errorf("ExplainProtection = deletable %v, kinds %v", ex.GetDeletable(), kinds)
	}
	if _, err := c.SetLegalHold(ctx, "legal", "contract.pdf", "", false, "case-42", ""); err != nil {
		t.Errorf("release hold: %v", err)
	}

	cs, err := c.ClockStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cs.GetState() != wormvaultv1.ClockState_CLOCK_STATE_TRUSTED {
		t.Errorf("clock = %v", cs)
	}
}

func TestE2EErrors(t *testing.T) {
	srv := servertest.Start(t)
	ctx := t.Context()
	c := dial(t, srv)

	if _, err := c.Upload(ctx, "missing", "k", bytes.NewReader([]byte("x"))); !errors.Is(err, wormvault.ErrVaultNotFound) {
		t.Errorf("upload to missing vault: err = %v, want ErrVaultNotFound", err)
	}
	if _, err := c.CreateVault(ctx, "Bad_Name"); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Errorf("bad vault name: err = %v, want ErrInvalidArgument", err)
	}
	if _, err := c.CreateVault(ctx, "checks"); err != nil {
		t.Fatal(err)
	}
	wrong := sha256.Sum256([]byte("something else"))
	if _, err := c.Upload(ctx, "checks", "k", bytes.NewReader([]byte("x")), client.WithExpectedSHA256(wrong[:])); !errors.Is(err, wormvault.ErrChecksumMismatch) {
		t.Errorf("wrong expected sha: err = %v, want ErrChecksumMismatch", err)
	}
	if _, err := c.Stat(ctx, "checks", "k", ""); !errors.Is(err, wormvault.ErrNotFound) {
		t.Errorf("nothing stored after a checksum mismatch, but Stat err = %v", err)
	}

	for name, token := range map[string]string{"bad secret": "WVAAAA.wrong", "malformed": "nodot"} {
		bad, err := client.Dial(ctx, srv.Addr, client.WithToken(token))
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad.GetVault(ctx, "checks")
		bad.Close()
		var ce *client.Error
		if !errors.Is(err, wormvault.ErrUnauthenticated) || !errors.As(err, &ce) || ce.Code != codes.Unauthenticated {
			t.Errorf("%s token: err = %v, want ErrUnauthenticated", name, err)
		}
	}
	anon, err := client.Dial(ctx, srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	for _, err := range anon.ListVaults(ctx) {
		if !errors.Is(err, wormvault.ErrUnauthenticated) {
			t.Errorf("no token: err = %v, want ErrUnauthenticated", err)
		}
	}
}

func TestE2EAdmin(t *testing.T) {
	srv := servertest.Start(t)
	c := dial(t, srv)
	ctx := t.Context()
	if _, err := c.CreateVault(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upload(ctx, "ops", "k", bytes.NewReader(randomBytes(t, 300_000))); err != nil {
		t.Fatal(err)
	}
	st, err := c.StorageStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(st.GetDrives()); n == 0 || n != int(st.GetDataShards()+st.GetParityShards()) {
		t.Errorf("StorageStatus: %d drives for %d+%d shards", n, st.GetDataShards(), st.GetParityShards())
	}
	var last *wormvaultv1.HealResponse
	for h, err := range c.Heal(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		last = h
	}
	if !last.GetDone() || last.GetArchivesChecked() < 1 || last.GetArchivesUnrecoverable() != 0 {
		t.Errorf("last heal report = %v", last)
	}
	rep, err := c.Scrub(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.GetArchivesChecked() < 1 || rep.GetBytesVerified() == 0 {
		t.Errorf("Scrub report = %v", rep)
	}
	reports, err := c.FixityReports(ctx, 10)
	if err != nil || len(reports) == 0 {
		t.Errorf("FixityReports = %d reports, %v", len(reports), err)
	}
}

// testPolicy denies deleting archives younger than a year to everyone.
func testPolicy(vault string) string {
	return `{"statements":[{"sid":"no-young-deletes","effect":"DENY","principals":["*"],` +
		`"actions":["wormvault:DeleteArchive"],"resources":["vaults/` + vault + `/archives/*"],` +
		`"condition":"archive.age_days < 365"}]}`
}

func TestE2EVaultLock(t *testing.T) {
	srv := servertest.Start(t)
	c := dial(t, srv)
	ctx := t.Context()
	if _, err := c.CreateVault(ctx, "locked"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetVaultLock(ctx, "locked"); !errors.Is(err, wormvault.ErrVaultLockNotFound) {
		t.Errorf("GetVaultLock before initiate: err = %v, want ErrVaultLockNotFound", err)
	}
	allow := `{"statements":[{"sid":"a","effect":"ALLOW","principals":["*"],"actions":["wormvault:GetArchive"],"resources":["vaults/locked/archives/*"]}]}`
	if _, err := c.InitiateVaultLock(ctx, "locked", allow); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Errorf("InitiateVaultLock with an ALLOW statement: err = %v, want ErrInvalidArgument", err)
	}

	// Initiate, abort, initiate again.
	if _, err := c.InitiateVaultLock(ctx, "locked", testPolicy("locked")); err != nil {
		t.Fatal(err)
	}
	if err := c.AbortVaultLock(ctx, "locked"); err != nil {
		t.Fatalf("AbortVaultLock in progress: %v", err)
	}
	if _, err := c.GetVaultLock(ctx, "locked"); !errors.Is(err, wormvault.ErrVaultLockNotFound) {
		t.Errorf("GetVaultLock after abort: err = %v, want ErrVaultLockNotFound", err)
	}
	before := time.Now()
	init, err := c.InitiateVaultLock(ctx, "locked", testPolicy("locked"))
	if err != nil {
		t.Fatal(err)
	}
	if init.GetLockId() == "" || init.GetExpireTime().AsTime().Before(before.Add(23*time.Hour)) {
		t.Errorf("InitiateVaultLock = %v", init)
	}
	if _, err := c.InitiateVaultLock(ctx, "locked", testPolicy("locked")); !errors.Is(err, wormvault.ErrVaultLockInProgress) {
		t.Errorf("second InitiateVaultLock: err = %v, want ErrVaultLockInProgress", err)
	}
	l, err := c.GetVaultLock(ctx, "locked")
	if err != nil {
		t.Fatal(err)
	}
	if l.GetState() != wormvaultv1.VaultLockState_VAULT_LOCK_STATE_IN_PROGRESS || l.GetPolicy() != testPolicy("locked") ||
		l.GetCreateTime() == nil || !l.GetExpireTime().AsTime().Equal(init.GetExpireTime().AsTime()) {
		t.Errorf("GetVaultLock in progress = %v", l)
	}

	// An in-progress lock is already enforced, on root too.
	a, err := c.Upload(ctx, "locked", "k", bytes.NewReader([]byte("young")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(ctx, "locked", "k", a.GetVersionId(), false); !errors.Is(err, wormvault.ErrPolicyDenied) {
		t.Errorf("Delete under the in-progress lock: err = %v, want ErrPolicyDenied", err)
	}

	if err := c.CompleteVaultLock(ctx, "locked", "not-the-lock-id"); err == nil {
		t.Error("CompleteVaultLock with a wrong lock id succeeded")
	}
	if err := c.CompleteVaultLock(ctx, "locked", init.GetLockId()); err != nil {
		t.Fatal(err)
	}
	if l, err = c.GetVaultLock(ctx, "locked"); err != nil || l.GetState() != wormvaultv1.VaultLockState_VAULT_LOCK_STATE_LOCKED || l.GetPolicy() != testPolicy("locked") {
		t.Errorf("GetVaultLock after complete = %v, %v", l, err)
	}
	if err := c.AbortVaultLock(ctx, "locked"); !errors.Is(err, wormvault.ErrVaultLocked) {
		t.Errorf("AbortVaultLock of a LOCKED vault: err = %v, want ErrVaultLocked", err)
	}
	if _, err := c.InitiateVaultLock(ctx, "locked", testPolicy("locked")); !errors.Is(err, wormvault.ErrVaultLocked) {
		t.Errorf("InitiateVaultLock on a LOCKED vault: err = %v, want ErrVaultLocked", err)
	}
	var ce *client.Error
	if err := c.AbortVaultLock(ctx, "locked"); !errors.As(err, &ce) || ce.Reason != "VAULT_LOCKED" || ce.Code != codes.FailedPrecondition {
		t.Errorf("AbortVaultLock error = %#v", err)
	}
	if _, err := c.GetVaultLock(ctx, "nope-nope"); !errors.Is(err, wormvault.ErrVaultNotFound) {
		t.Errorf("GetVaultLock of a missing vault: err = %v, want ErrVaultNotFound", err)
	}
}

func TestE2EAccessPolicy(t *testing.T) {
	srv := servertest.Start(t)
	c := dial(t, srv)
	ctx := t.Context()
	if _, err := c.CreateVault(ctx, "guarded"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetVaultAccessPolicy(ctx, "guarded"); !errors.Is(err, wormvault.ErrNoAccessPolicy) || !errors.Is(err, wormvault.ErrNotFound) {
		t.Errorf("GetVaultAccessPolicy with none: err = %v, want ErrNoAccessPolicy", err)
	}
	if err := c.SetVaultAccessPolicy(ctx, "guarded", `{"statements":[{"effect":"MAYBE"}]}`); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Errorf("SetVaultAccessPolicy with a bad document: err = %v, want ErrInvalidArgument", err)
	}
	if err := c.SetVaultAccessPolicy(ctx, "guarded", testPolicy("guarded")); err != nil {
		t.Fatal(err)
	}
	doc, err := c.GetVaultAccessPolicy(ctx, "guarded")
	if err != nil || doc != testPolicy("guarded") {
		t.Errorf("GetVaultAccessPolicy = %q, %v", doc, err)
	}
	a, err := c.Upload(ctx, "guarded", "k", bytes.NewReader([]byte("young")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(ctx, "guarded", "k", a.GetVersionId(), false); !errors.Is(err, wormvault.ErrPolicyDenied) {
		t.Errorf("Delete under the access policy: err = %v, want ErrPolicyDenied", err)
	}
	if err := c.DeleteVaultAccessPolicy(ctx, "guarded"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetVaultAccessPolicy(ctx, "guarded"); !errors.Is(err, wormvault.ErrNoAccessPolicy) {
		t.Errorf("GetVaultAccessPolicy after delete: err = %v, want ErrNoAccessPolicy", err)
	}
	if err := c.DeleteVaultAccessPolicy(ctx, "guarded"); !errors.Is(err, wormvault.ErrNoAccessPolicy) {
		t.Errorf("DeleteVaultAccessPolicy twice: err = %v, want ErrNoAccessPolicy", err)
	}
	if _, err := c.Delete(ctx, "guarded", "k", a.GetVersionId(), false); err != nil {
		t.Errorf("Delete once the policy is gone: %v", err)
	}
}
