package server_test

// Acceptance tests of the Object Lock rules through the real server: one
// test per rule, numbered as in the Object Lock issue (see lock/doc.go).
// Every refusal is checked for its code, its ErrorInfo reason and that
// nothing observable changed. Time is a fake wall clock plus a fake
// monotonic clock (fakeClock), so years pass instantly.

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // America/New_York for the daylight-saving test

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server"
	"github.com/wormvault/wormvault/server/servertest"
)

// t0 is where every fake clock starts.
var t0 = time.Date(2031, time.March, 10, 9, 0, 0, 0, time.UTC)

const (
	gov  = wormvaultv1.RetentionMode_RETENTION_MODE_GOVERNANCE
	comp = wormvaultv1.RetentionMode_RETENTION_MODE_COMPLIANCE
	day  = 24 * time.Hour
)

// fakeClock is the wall clock and the monotonic clock the server reads.
// advance lets time pass (both move: the server keeps trusting the wall
// clock); setWall moves the wall clock alone, as an attacker or a broken NTP
// would.
type fakeClock struct{ *servertest.Clock }

func newFakeClock() *fakeClock { return &fakeClock{servertest.NewClock(t0)} }

func (f *fakeClock) advance(d time.Duration) { f.Advance(d) }

func (f *fakeClock) setWall(t time.Time) { f.SetWall(t) }

func (f *fakeClock) now() time.Time { return f.Wall() }

// startWithClock starts a server that reads fc.
func startWithClock(t *testing.T, fc *fakeClock) (*servertest.Server, *conn) {
	t.Helper()
	s := servertest.Start(t, servertest.WithConfig(func(cfg *server.Config) {
		cfg.Vault.Wall, cfg.Vault.Elapsed = fc.Wall, fc.Elapsed
	}))
	return s, dial(t, s)
}

func retention(mode wormvaultv1.RetentionMode, until time.Time) *wormvaultv1.Retention {
	return &wormvaultv1.Retention{Mode: mode, RetainUntilTime: timestamppb.New(until)}
}

func (c *conn) createVaultWith(name string, def *wormvaultv1.DefaultRetention) *wormvaultv1.Vault {
	c.t.Helper()
	resp, err := c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: name, DefaultRetention: def})
	if err != nil {
		c.t.Fatalf("CreateVault %s: %v", name, err)
	}
	return resp.GetVault()
}

func (c *conn) updateVault(v *wormvaultv1.Vault, paths ...string) (*wormvaultv1.Vault, error) {
	resp, err := c.vaults.UpdateVault(c.ctx(), &wormvaultv1.UpdateVaultRequest{Vault: v, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
	return resp.GetVault(), err
}

// putLocked uploads data with an optional explicit retention and the
// upload-time legal hold.
func (c *conn) putLocked(vault, key string, r *wormvaultv1.Retention, hold bool, data []byte) *wormvaultv1.Archive {
	c.t.Helper()
	a, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: vault, Key: key, Retention: r, LegalHold: hold}, bytes.NewReader(data), 1<<20)
	if err != nil {
		c.t.Fatalf("upload %s/%s: %v", vault, key, err)
	}
	return a
}

func (c *conn) archive(vault, key, version string) *wormvaultv1.Archive {
	c.t.Helper()
	resp, err := c.archives.GetArchive(c.ctx(), &wormvaultv1.GetArchiveRequest{Vault: vault, Key: key, VersionId: version})
	if err != nil {
		c.t.Fatalf("GetArchive %s/%s@%s: %v", vault, key, version, err)
	}
	return resp.GetArchive()
}

func (c *conn) setRetention(vault, key, version string, r *wormvaultv1.Retention, bypass bool) (*wormvaultv1.Archive, error) {
	resp, err := c.archives.SetRetention(c.ctx(), &wormvaultv1.SetRetentionRequest{Vault: vault, Key: key, VersionId: version, Retention: r, BypassGovernanceRetention: bypass})
	return resp.GetArchive(), err
}

func (c *conn) setHold(vault, key, version string, on bool, id, reason string) (*wormvaultv1.Archive, error) {
	resp, err := c.archives.SetLegalHold(c.ctx(), &wormvaultv1.SetLegalHoldRequest{Vault: vault, Key: key, VersionId: version, LegalHold: on, HoldId: id, Reason: reason})
	return resp.GetArchive(), err
}

func (c *conn) deleteArchive(vault, key, version string, bypass bool) (*wormvaultv1.DeleteArchiveResponse, error) {
	return c.archives.DeleteArchive(c.ctx(), &wormvaultv1.DeleteArchiveRequest{Vault: vault, Key: key, VersionId: version, BypassGovernanceRetention: bypass})
}

func (c *conn) explain(vault, key, version string) *wormvaultv1.ExplainProtectionResponse {
	c.t.Helper()
	resp, err := c.archives.ExplainProtection(c.ctx(), &wormvaultv1.ExplainProtectionRequest{Vault: vault, Key: key, VersionId: version})
	if err != nil {
		c.t.Fatalf("ExplainProtection %s/%s@%s: %v", vault, key, version, err)
	}
	return resp
}

func (c *conn) clockStatus() *wormvaultv1.GetClockStatusResponse {
	c.t.Helper()
	st, err := c.admin.GetClockStatus(c.ctx(), &wormvaultv1.GetClockStatusRequest{})
	if err != nil {
		c.t.Fatalf("GetClockStatus: %v", err)
	}
	return st
}

func (c *conn) acknowledgeClock() *wormvaultv1.GetClockStatusResponse {
	c.t.Helper()
	resp, err := c.admin.AcknowledgeClock(c.ctx(), &wormvaultv1.AcknowledgeClockRequest{})
	if err != nil {
		c.t.Fatalf("AcknowledgeClock: %v", err)
	}
	return resp.GetStatus()
}

// mustOK fails the test when err is not nil.
func mustOK(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// statusOf returns err's code, ErrorInfo reason and invalid field.
func statusOf(err error) (code codes.Code, reason, field string) {
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return st.Code(), info.GetReason(), info.GetMetadata()["field"]
		}
	}
	return st.Code(), "", ""
}

// refused asserts that call fails with code and reason (and names field,
// when not empty) and that nothing observable changed.
func refused(t *testing.T, c *conn, s *servertest.Server, code codes.Code, reason, field string, call func() error) {
	t.Helper()
	before := snapshot(t, c, s.DataDir)
	err := call()
	md := wantStatus(t, err, code, reason)
	if field != "" && md["field"] != field {
		t.Fatalf("invalid argument names field %q, want %q (%v)", md["field"], field, err)
	}
	if after := snapshot(t, c, s.DataDir); after != before {
		t.Fatalf("refused call (%v) changed state:\nbefore:\n%s\nafter:\n%s", err, before, after)
	}
}

// wantLock asserts the retention and holds an Archive reports. A zero until
// means no retention.
func wantLock(t testing.TB, a *wormvaultv1.Archive, mode wormvaultv1.RetentionMode, until time.Time, fromDefault bool, holds ...string) {
	t.Helper()
	r := a.GetRetention()
	switch {
	case until.IsZero() && r != nil:
		t.Fatalf("version %s: retention %v, want none", a.GetVersionId(), r)
	case !until.IsZero() && (r.GetMode() != mode || !r.GetRetainUntilTime().AsTime().Equal(until) || r.GetFromDefault() != fromDefault):
		t.Fatalf("version %s: retention %v, want %v until %s from_default=%v", a.GetVersionId(), r, mode, until.UTC().Format(time.RFC3339Nano), fromDefault)
	}
	var ids []string
	for _, h := range a.GetLegalHolds() {
		ids = append(ids, h.GetHoldId())
	}
	if a.GetLegalHold() != (len(holds) > 0) || !slices.Equal(ids, holds) {
		t.Fatalf("version %s: legal_hold=%v holds %q, want %q", a.GetVersionId(), a.GetLegalHold(), ids, holds)
	}
}

// Rule 1: a default retention has a mode and exactly one of days or years,
// positive, at most 100 years, at CreateVault and UpdateVault; removing it is
// allowed; changing it never touches versions already stored.
func TestObjectLockRule1DefaultRetention(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createVaultWith("rule1", nil)
	bad := []struct {
		name  string
		def   *wormvaultv1.DefaultRetention
		field string
	}{
		{"no mode", &wormvaultv1.DefaultRetention{Days: 1}, "mode"},
		{"unknown mode", &wormvaultv1.DefaultRetention{Mode: 7, Days: 1}, "mode"},
		{"neither days nor years", &wormvaultv1.DefaultRetention{Mode: gov}, "days"},
		{"both days and years", &wormvaultv1.DefaultRetention{Mode: comp, Days: 1, Years: 1}, "years"},
		{"negative days", &wormvaultv1.DefaultRetention{Mode: gov, Days: -1}, "days"},
		{"negative years", &wormvaultv1.DefaultRetention{Mode: comp, Years: -1}, "years"},
		{"101 years", &wormvaultv1.DefaultRetention{Mode: comp, Years: 101}, "years"},
		{"36501 days", &wormvaultv1.DefaultRetention{Mode: gov, Days: 36501}, "days"},
	}
	for _, tc := range bad {
		t.Run("create/"+tc.name, func(t *testing.T) {
			refused(t, c, s, codes.InvalidArgument, "INVALID_ARGUMENT", "default_retention."+tc.field, func() error {
				_, err := c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: "rule1-bad", DefaultRetention: tc.def})
				return err
			})
		})
		t.Run("update/"+tc.name, func(t *testing.T) {
			refused(t, c, s, codes.InvalidArgument, "INVALID_ARGUMENT", "vault.default_retention."+tc.field, func() error {
				_, err := c.updateVault(&wormvaultv1.Vault{Name: "rule1", DefaultRetention: tc.def}, "default_retention")
				return err
			})
		})
	}
	for i, def := range []*wormvaultv1.DefaultRetention{
		{Mode: gov, Years: 100}, {Mode: comp, Days: 36500}, {Mode: comp, Days: 1}, {Mode: gov, Years: 1},
	} {
		name := "rule1-ok-" + string(rune('a'+i))
		if v := c.createVaultWith(name, def); v.GetDefaultRetention().GetYears() != def.GetYears() || v.GetDefaultRetention().GetDays() != def.GetDays() || v.GetDefaultRetention().GetMode() != def.GetMode() {
			t.Fatalf("CreateVault with %v reports default %v", def, v.GetDefaultRetention())
		}
		if v, err := c.updateVault(&wormvaultv1.Vault{Name: "rule1", DefaultRetention: def}, "default_retention"); err != nil || v.GetDefaultRetention().GetMode() != def.GetMode() {
			t.Fatalf("UpdateVault to %v: %v, %v", def, v, err)
		}
	}

	// Changing and removing the default never touches stored versions.
	_, err := c.updateVault(&wormvaultv1.Vault{Name: "rule1", DefaultRetention: &wormvaultv1.DefaultRetention{Mode: gov, Days: 10}}, "default_retention")
	mustOK(t, err, "set default")
	a := c.put("rule1", "k", []byte("stored under a 10-day default"))
	until := a.GetCreateTime().AsTime().AddDate(0, 0, 10)
	wantLock(t, a, gov, until, true)
	_, err = c.updateVault(&wormvaultv1.Vault{Name: "rule1", DefaultRetention: &wormvaultv1.DefaultRetention{Mode: comp, Years: 3}}, "default_retention")
	mustOK(t, err, "change default")
	wantLock(t, c.archive("rule1", "k", a.GetVersionId()), gov, until, true)
	v, err := c.updateVault(&wormvaultv1.Vault{Name: "rule1"}, "default_retention")
	mustOK(t, err, "remove default")
	if v.GetDefaultRetention() != nil {
		t.Fatalf("default retention after removal: %v", v.GetDefaultRetention())
	}
	wantLock(t, c.archive("rule1", "k", a.GetVersionId()), gov, until, true)
	wantLock(t, c.put("rule1", "k2", []byte("no default now")), 0, time.Time{}, false)
}

// Rule 2: a new version without explicit retention gets exactly create_time +
// the default period, from_default set; an explicit retention overrides the
// default in either mode, earlier or later.
func TestObjectLockRule2RetentionFromDefault(t *testing.T) {
	fc := newFakeClock()
	fc.advance(1234567891 * time.Nanosecond) // create times with nanoseconds
	_, c := startWithClock(t, fc)
	for _, tc := range []struct {
		vault string
		def   *wormvaultv1.DefaultRetention
		until func(time.Time) time.Time
	}{
		{"rule2-days", &wormvaultv1.DefaultRetention{Mode: gov, Days: 30}, func(t time.Time) time.Time { return t.Add(30 * day) }},
		{"rule2-years", &wormvaultv1.DefaultRetention{Mode: comp, Years: 2}, func(t time.Time) time.Time { return t.AddDate(2, 0, 0) }},
	} {
		c.createVaultWith(tc.vault, tc.def)
		a := c.put(tc.vault, "k", []byte("x"))
		if !a.GetCreateTime().AsTime().Equal(fc.now()) {
			t.Fatalf("%s: create_time %s, want the trusted time %s", tc.vault, a.GetCreateTime().AsTime(), fc.now())
		}
		wantLock(t, a, tc.def.GetMode(), tc.until(a.GetCreateTime().AsTime()), true)
		// Explicit retention overrides, either mode, earlier or later.
		for _, r := range []*wormvaultv1.Retention{
			retention(gov, fc.now().Add(time.Hour)),
			retention(comp, fc.now().Add(time.Hour)),
			retention(gov, fc.now().AddDate(5, 0, 0)),
			retention(comp, fc.now().AddDate(5, 0, 0)),
			{Mode: gov, RetainUntilTime: timestamppb.New(fc.now().Add(day)), FromDefault: true}, // a client cannot claim from_default
		} {
			wantLock(t, c.putLocked(tc.vault, "explicit", r, false, []byte("y")), r.GetMode(), r.GetRetainUntilTime().AsTime(), false)
		}
		fc.advance(200 * day)
	}

	// A day is 24 hours whatever the server's time zone: a default of one day
	// over a daylight-saving change still ends 24 hours after create_time.
	t.Run("daylight saving", func(t *testing.T) {
		ny, err := time.LoadLocation("America/New_York")
		if err != nil {
			t.Skip(err)
		}
		fc := &fakeClock{servertest.NewClock(time.Date(2031, time.March, 8, 12, 0, 0, 0, ny))} // DST starts 9 March 02:00
		_, c := startWithClock(t, fc)
		c.createVaultWith("rule2-dst", &wormvaultv1.DefaultRetention{Mode: gov, Days: 1})
		a := c.put("rule2-dst", "k", []byte("x"))
		wantLock(t, a, gov, a.GetCreateTime().AsTime().Add(day), true)
	})
}

// Rule 3: SetRetention validates retain_until (future, at most 100 years)
// and mode, naming the field; an empty version_id means the latest; a delete
// marker cannot carry retention.
func TestObjectLockRule3SetRetentionValidation(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createVault("rule3")
	v1 := c.put("rule3", "k", []byte("one"))
	now := fc.now()
	for _, tc := range []struct {
		name  string
		r     *wormvaultv1.Retention
		field string
	}{
		{"in the past", retention(comp, now.Add(-time.Second)), "retention.retain_until_time"},
		{"now", retention(gov, now), "retention.retain_until_time"},
		{"beyond 100 years", retention(comp, now.AddDate(100, 0, 0).Add(time.Nanosecond)), "retention.retain_until_time"},
		{"mode unset", &wormvaultv1.Retention{RetainUntilTime: timestamppb.New(now.Add(time.Hour))}, "retention.mode"},
		{"unknown mode", retention(9, now.Add(time.Hour)), "retention.mode"},
		{"no retain_until", &wormvaultv1.Retention{Mode: gov}, "retention.retain_until_time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, c, s, codes.InvalidArgument, "INVALID_ARGUMENT", tc.field, func() error {
				_, err := c.setRetention("rule3", "k", v1.GetVersionId(), tc.r, true)
				return err
			})
		})
	}
	// The edge of 100 years is allowed.
	a, err := c.setRetention("rule3", "k", v1.GetVersionId(), retention(gov, now.AddDate(100, 0, 0)), false)
	mustOK(t, err, "retain for exactly 100 years")
	wantLock(t, a, gov, now.AddDate(100, 0, 0), false)

	// Empty version_id means the latest version.
	v2 := c.put("rule3", "k", []byte("two"))
	a, err = c.setRetention("rule3", "k", "", retention(comp, now.Add(day)), false)
	mustOK(t, err, "SetRetention on latest")
	if a.GetVersionId() != v2.GetVersionId() || !a.GetIsLatest() {
		t.Fatalf("SetRetention without version_id changed %s (latest=%v), want the latest %s", a.GetVersionId(), a.GetIsLatest(), v2.GetVersionId())
	}
	got, err := c.archives.GetRetention(c.ctx(), &wormvaultv1.GetRetentionRequest{Vault: "rule3", Key: "k"})
	mustOK(t, err, "GetRetention latest")
	if got.GetVersionId() != v2.GetVersionId() || got.GetRetention().GetMode() != comp || !got.GetRetention().GetRetainUntilTime().AsTime().Equal(now.Add(day)) {
		t.Fatalf("GetRetention latest: %v", got)
	}

	// A delete marker cannot carry retention, by id or as the latest.
	del, err := c.deleteArchive("rule3", "k", "", false)
	mustOK(t, err, "add delete marker")
	for _, vid := range []string{"", del.GetVersionId()} {
		refused(t, c, s, codes.InvalidArgument, "INVALID_ARGUMENT", "version_id", func() error {
			_, err := c.setRetention("rule3", "k", vid, retention(gov, now.Add(day)), false)
			return err
		})
	}
	// Unknown versions and keys.
	refused(t, c, s, codes.NotFound, "VERSION_NOT_FOUND", "", func() error {
		_, err := c.setRetention("rule3", "k", "01890a5d-ac96-774b-bcce-b302099a8057", retention(gov, now.Add(day)), false)
		return err
	})
	refused(t, c, s, codes.NotFound, "ARCHIVE_NOT_FOUND", "", func() error {
		_, err := c.setRetention("rule3", "nothing-here", "", retention(gov, now.Add(day)), false)
		return err
	})
}

// Rule 4: extending (same mode, later or equal date) is always allowed,
// without bypass.
func TestObjectLockRule4Extend(t *testing.T) {
	fc := newFakeClock()
	_, c := startWithClock(t, fc)
	c.createVault("rule4")
	for _, mode := range []wormvaultv1.RetentionMode{gov, comp} {
		until := fc.now().Add(time.Hour)
		a := c.putLocked("rule4", mode.String(), retention(mode, until), false, []byte("x"))
		for _, later := range []time.Time{until, until.Add(time.Nanosecond), until.AddDate(1, 0, 0)} {
			got, err := c.setRetention("rule4", mode.String(), a.GetVersionId(), retention(mode, later), false)
			mustOK(t, err, "extend "+mode.String())
			wantLock(t, got, mode, later, false)
		}
	}
}

// Rule 5: active COMPLIANCE cannot be shortened, removed or switched to
// GOVERNANCE, nor its version deleted, even by root with bypass; once the
// retain-until has passed on a trusted clock, it can.
func TestObjectLockRule5Compliance(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createVault("rule5")
	until := fc.now().Add(time.Hour)
	a := c.putLocked("rule5", "k", retention(comp, until), false, []byte("kept"))
	b := c.putLocked("rule5", "k", retention(comp, until), false, []byte("kept too"))
	changes := map[string]*wormvaultv1.Retention{
		"shorten":                       retention(comp, until.Add(-time.Minute)),
		"remove":                        nil,
		"to GOVERNANCE, same date":      retention(gov, until),
		"to GOVERNANCE, later date":     retention(gov, until.AddDate(1, 0, 0)),
		"shorten to one nanosecond ago": retention(comp, until.Add(-time.Nanosecond)),
	}
	for _, r := range changes {
		for _, bypass := range []bool{false, true} {
			refused(t, c, s, codes.PermissionDenied, "RETENTION_COMPLIANCE_ACTIVE", "", func() error {
				_, err := c.setRetention("rule5", "k", a.GetVersionId(), r, bypass)
				return err
			})
		}
	}
	for _, bypass := range []bool{false, true} {
		refused(t, c, s, codes.PermissionDenied, "RETENTION_COMPLIANCE_ACTIVE", "", func() error {
			_, err := c.deleteArchive("rule5", "k", a.GetVersionId(), bypass)
			return err
		})
	}

	fc.advance(time.Hour + time.Second)
	_, err := c.deleteArchive("rule5", "k", a.GetVersionId(), false)
	mustOK(t, err, "delete after COMPLIANCE expired")
	_, err = c.archives.GetArchive(c.ctx(), &wormvaultv1.GetArchiveRequest{Vault: "rule5", Key: "k", VersionId: a.GetVersionId()})
	wantStatus(t, err, codes.NotFound, "VERSION_NOT_FOUND")
	// A new retention may be set, in another mode, without bypass.
	got, err := c.setRetention("rule5", "k", b.GetVersionId(), retention(gov, fc.now().Add(day)), false)
	mustOK(t, err, "new retention after expiry")
	wantLock(t, got, gov, fc.now().Add(day), false)
}

// Rule 6: active GOVERNANCE can be shortened, removed or change mode (to
// COMPLIANCE too) only with bypass_governance_retention.
func TestObjectLockRule6Governance(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createVault("rule6")
	until := fc.now().Add(time.Hour)
	for _, tc := range []struct {
		name string
		r    *wormvaultv1.Retention
	}{
		{"shorten", retention(gov, until.Add(-time.Minute))},
		{"remove", nil},
		{"to COMPLIANCE, same date", retention(comp, until)},
		{"to COMPLIANCE, later date", retention(comp, until.Add(day))},
		{"to COMPLIANCE, earlier date", retention(comp, until.Add(-time.Minute))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := c.putLocked("rule6", "k", retention(gov, until), false, []byte("x"))
			refused(t, c, s, codes.PermissionDenied, "RETENTION_GOVERNANCE_ACTIVE", "", func() error {
				_, err := c.setRetention("rule6", "k", a.GetVersionId(), tc.r, false)
				return err
			})
			got, err := c.setRetention("rule6", "k", a.GetVersionId(), tc.r, true)
			mustOK(t, err, tc.name+" with bypass")
			if tc.r == nil {
				wantLock(t, got, 0, time.Time{}, false)
			} else {
				wantLock(t, got, tc.r.GetMode(), tc.r.GetRetainUntilTime().AsTime(), false)
			}
			wantLock(t, c.archive("rule6", "k", a.GetVersionId()), got.GetRetention().GetMode(), got.GetRetention().GetRetainUntilTime().AsTime(), false)
		})
	}
}

// Rule 7: GetRetention of a version without retention is NOT_FOUND
// NO_RETENTION.
func TestObjectLockRule7NoRetention(t *testing.T) {
	fc := newFakeClock()
	_, c := startWithClock(t, fc)
	c.createVault("rule7")
	a := c.put("rule7", "k", []byte("x"))
	for _, vid := range []string{a.GetVersionId(), ""} {
		_, err := c.archives.GetRetention(c.ctx(), &wormvaultv1.GetRetentionRequest{Vault: "rule7", Key: "k", VersionId: vid})
		wantStatus(t, err, codes.NotFound, "NO_RETENTION")
	}
	// Also once removed (GOVERNANCE with bypass).
	_, err := c.setRetention("rule7", "k", a.GetVersionId(), retention(gov, fc.now().Add(time.Hour)), false)
	mustOK(t, err, "set")
	_, err = c.setRetention("rule7", "k", a.GetVersionId(), nil, true)
	mustOK(t, err, "remove with bypass")
	_, err = c.archives.GetRetention(c.ctx(), &wormvaultv1.GetRetentionRequest{Vault: "rule7", Key: "k", VersionId: a.GetVersionId()})
	wantStatus(t, err, codes.NotFound, "NO_RETENTION")
}

// Rules 8 and 8a: legal holds on and off, at upload, named, several
// standing; GetLegalHold lists them with set_by and set_time; a delete
// marker carries none; releasing a hold that does not stand is NOT_FOUND.
func TestObjectLockRule8LegalHolds(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createVault("rule8")
	a := c.putLocked("rule8", "k", nil, true, []byte("held"))
	wantLock(t, a, 0, time.Time{}, false, "default")
	if h := a.GetLegalHolds()[0]; h.GetSetBy() != "root" || !h.GetSetTime().AsTime().Equal(fc.now()) {
		t.Fatalf("upload-time hold: %v, want set by root at %s", h, fc.now())
	}
	vid := a.GetVersionId()

	fc.advance(time.Minute)
	got, err := c.setHold("rule8", "k", vid, true, "case-42", "litigation")
	mustOK(t, err, "place case-42")
	wantLock(t, got, 0, time.Time{}, false, "default", "case-42")
	fc.advance(time.Minute)
	got, err = c.setHold("rule8", "k", vid, true, "", "re-placed")
	mustOK(t, err, "re-place default")
	wantLock(t, got, 0, time.Time{}, false, "default", "case-42")

	lh, err := c.archives.GetLegalHold(c.ctx(), &wormvaultv1.GetLegalHoldRequest{Vault: "rule8", Key: "k", VersionId: vid})
	mustOK(t, err, "GetLegalHold")
	if !lh.GetLegalHold() || lh.GetVersionId() != vid || len(lh.GetHolds()) != 2 {
		t.Fatalf("GetLegalHold: %v", lh)
	}
	for _, h := range lh.GetHolds() {
		want := map[string]struct {
			reason string
			at     time.Time
		}{"default": {"re-placed", t0.Add(2 * time.Minute)}, "case-42": {"litigation", t0.Add(time.Minute)}}[h.GetHoldId()]
		if h.GetSetBy() != "root" || h.GetReason() != want.reason || !h.GetSetTime().AsTime().Equal(want.at) {
			t.Fatalf("hold %v: want set by root at %s with reason %q", h, want.at, want.reason)
		}
	}

	// Releasing one leaves the others.
	got, err = c.setHold("rule8", "k", vid, false, "default", "")
	mustOK(t, err, "release default")
	wantLock(t, got, 0, time.Time{}, false, "case-42")
	refused(t, c, s, codes.NotFound, "NO_LEGAL_HOLD", "", func() error {
		_, err := c.setHold("rule8", "k", vid, false, "", "")
		return err
	})
	refused(t, c, s, codes.NotFound, "NO_LEGAL_HOLD", "", func() error {
		_, err := c.setHold("rule8", "k", vid, false, "never-placed", "")
		return err
	})
	refused(t, c, s, codes.InvalidArgument, "INVALID_ARGUMENT", "hold_id", func() error {
		_, err := c.setHold("rule8", "k", vid, true, strings.Repeat("h", 65), "")
		return err
	})
	// Holds never expire.
	fc.advance(150 * 365 * day)
	refused(t, c, s, codes.PermissionDenied, "LEGAL_HOLD_ACTIVE", "", func() error {
		_, err := c.deleteArchive("rule8", "k", vid, true)
		return err
	})
	got, err = c.setHold("rule8", "k", vid, false, "case-42", "")
	mustOK(t, err, "release case-42")
	wantLock(t, got, 0, time.Time{}, false)
	lh, err = c.archives.GetLegalHold(c.ctx(), &wormvaultv1.GetLegalHoldRequest{Vault: "rule8", Key: "k", VersionId: vid})
	mustOK(t, err, "GetLegalHold")
	if lh.GetLegalHold() || len(lh.GetHolds()) != 0 {
		t.Fatalf("GetLegalHold after releasing all: %v", lh)
	}

	// A delete marker cannot carry a hold.
	del, err := c.deleteArchive("rule8", "k", "", false)
	mustOK(t, err, "add delete marker")
	for _, v := range []string{"", del.GetVersionId()} {
		for _, on := range []bool{true, false} {
			refused(t, c, s, codes.InvalidArgument, "INVALID_ARGUMENT", "version_id", func() error {
				_, err := c.setHold("rule8", "k", v, on, "", "")
				return err
			})
		}
		_, err := c.archives.GetLegalHold(c.ctx(), &wormvaultv1.GetLegalHoldRequest{Vault: "rule8", Key: "k", VersionId: v})
		wantField(t, err, "version_id")
	}
}

// Rule 9: deleting without version_id always succeeds, even under
// COMPLIANCE and a hold: it adds a delete marker and the data stays.
func TestObjectLockRule9DeleteMarker(t *testing.T) {
	fc := newFakeClock()
	_, c := startWithClock(t, fc)
	c.createVault("rule9")
	data := randomBytes(9, 3000)
	a := c.putLocked("rule9", "k", retention(comp, fc.now().AddDate(10, 0, 0)), true, data)
	for i := range 2 {
		del, err := c.deleteArchive("rule9", "k", "", false)
		mustOK(t, err, "delete without version")
		if !del.GetDeleteMarker() || del.GetVersionId() == "" || del.GetVersionId() == a.GetVersionId() {
			t.Fatalf("delete %d: %v, want a new delete marker", i, del)
		}
		latest := c.archive("rule9", "k", "")
		if !latest.GetDeleteMarker() || latest.GetVersionId() != del.GetVersionId() || !latest.GetIsLatest() {
			t.Fatalf("latest after delete: %v", latest)
		}
	}
	_, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "rule9", Key: "k"}, &bytes.Buffer{})
	wantStatus(t, err, codes.NotFound, "ARCHIVE_NOT_FOUND")
	if got := c.get("rule9", "k", a.GetVersionId()); !bytes.Equal(got, data) {
		t.Fatal("data of the protected version changed after a delete marker")
	}
	wantLock(t, c.archive("rule9", "k", a.GetVersionId()), comp, fc.now().AddDate(10, 0, 0), false, "default")
}

// Rule 10: deleting a version by id: a hold refuses (bypass or not),
// COMPLIANCE refuses, GOVERNANCE needs bypass; delete markers can always be
// removed.
func TestObjectLockRule10DeleteVersion(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createVault("rule10")
	later := fc.now().Add(day)
	for _, tc := range []struct {
		name   string
		r      *wormvaultv1.Retention
		hold   bool
		bypass bool
		reason string // "" means allowed
	}{
		{"hold", nil, true, false, "LEGAL_HOLD_ACTIVE"},
		{"hold, bypass", nil, true, true, "LEGAL_HOLD_ACTIVE"},
		{"hold and GOVERNANCE, bypass", retention(gov, later), true, true, "LEGAL_HOLD_ACTIVE"},
		{"COMPLIANCE", retention(comp, later), false, false, "RETENTION_COMPLIANCE_ACTIVE"},
		{"COMPLIANCE, bypass", retention(comp, later), false, true, "RETENTION_COMPLIANCE_ACTIVE"},
		{"GOVERNANCE", retention(gov, later), false, false, "RETENTION_GOVERNANCE_ACTIVE"},
		{"GOVERNANCE, bypass", retention(gov, later), false, true, ""},
		{"unprotected", nil, false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := c.putLocked("rule10", "k", tc.r, tc.hold, []byte(tc.name))
			if tc.reason != "" {
				refused(t, c, s, codes.PermissionDenied, tc.reason, "", func() error {
					_, err := c.deleteArchive("rule10", "k", a.GetVersionId(), tc.bypass)
					return err
				})
				return
			}
			del, err := c.deleteArchive("rule10", "k", a.GetVersionId(), tc.bypass)
			mustOK(t, err, "delete "+tc.name)
			if del.GetVersionId() != a.GetVersionId() || del.GetDeleteMarker() {
				t.Fatalf("delete response %v", del)
			}
			_, err = c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "rule10", Key: "k", VersionId: a.GetVersionId()}, &bytes.Buffer{})
			wantStatus(t, err, codes.NotFound, "VERSION_NOT_FOUND")
		})
	}
	t.Run("delete marker", func(t *testing.T) {
		c.createVault("rule10-marker")
		a := c.putLocked("rule10-marker", "k", retention(comp, later), true, []byte("x"))
		m, err := c.deleteArchive("rule10-marker", "k", "", false)
		mustOK(t, err, "add marker")
		del, err := c.deleteArchive("rule10-marker", "k", m.GetVersionId(), false)
		mustOK(t, err, "remove marker")
		if !del.GetDeleteMarker() || del.GetVersionId() != m.GetVersionId() {
			t.Fatalf("delete marker removal: %v", del)
		}
		if latest := c.archive("rule10-marker", "k", ""); latest.GetVersionId() != a.GetVersionId() || !latest.GetIsLatest() {
			t.Fatalf("after removing the marker the latest is %v, want %s", latest, a.GetVersionId())
		}
	})
}

// Rule 11: uploading to an existing key adds a version; the older one stays.
func TestObjectLockRule11NewVersion(t *testing.T) {
	fc := newFakeClock()
	_, c := startWithClock(t, fc)
	c.createVault("rule11")
	v1 := c.putLocked("rule11", "k", retention(comp, fc.now().Add(day)), false, []byte("first"))
	v2 := c.put("rule11", "k", []byte("second"))
	if v1.GetVersionId() == v2.GetVersionId() || !v2.GetIsLatest() {
		t.Fatalf("second upload %v", v2)
	}
	if old := c.archive("rule11", "k", v1.GetVersionId()); old.GetIsLatest() {
		t.Fatal("the older version still claims to be the latest")
	}
	if string(c.get("rule11", "k", v1.GetVersionId())) != "first" || string(c.get("rule11", "k", "")) != "second" {
		t.Fatal("versions do not read back")
	}
	l, err := c.archives.ListArchives(c.ctx(), &wormvaultv1.ListArchivesRequest{Vault: "rule11", AllVersions: true})
	mustOK(t, err, "list")
	if len(l.GetArchives()) != 2 || l.GetArchives()[0].GetVersionId() != v2.GetVersionId() || !l.GetArchives()[0].GetIsLatest() || l.GetArchives()[1].GetIsLatest() {
		t.Fatalf("list: %v", l)
	}
}

// Rule 12: a vault holding any version, even only delete markers, cannot be
// deleted.
func TestObjectLockRule12DeleteVault(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createVault("rule12")
	a := c.put("rule12", "k", []byte("x"))
	deleteVault := func() error {
		_, err := c.vaults.DeleteVault(c.ctx(), &wormvaultv1.DeleteVaultRequest{Name: "rule12"})
		return err
	}
	refused(t, c, s, codes.FailedPrecondition, "VAULT_NOT_EMPTY", "", deleteVault)
	m, err := c.deleteArchive("rule12", "k", "", false)
	mustOK(t, err, "add marker")
	_, err = c.deleteArchive("rule12", "k", a.GetVersionId(), false)
	mustOK(t, err, "remove the version")
	refused(t, c, s, codes.FailedPrecondition, "VAULT_NOT_EMPTY", "", deleteVault) // only a delete marker left
	_, err = c.deleteArchive("rule12", "k", m.GetVersionId(), false)
	mustOK(t, err, "remove the marker")
	// A marker on a key that never existed counts too.
	m, err = c.deleteArchive("rule12", "never-uploaded", "", false)
	mustOK(t, err, "marker on a new key")
	refused(t, c, s, codes.FailedPrecondition, "VAULT_NOT_EMPTY", "", deleteVault)
	_, err = c.deleteArchive("rule12", "never-uploaded", m.GetVersionId(), false)
	mustOK(t, err, "remove the marker")
	mustOK(t, deleteVault(), "delete the empty vault")
}

// Rule 13: every RPC returning an Archive reports its retention and holds.
func TestObjectLockRule13ArchiveReportsLock(t *testing.T) {
	fc := newFakeClock()
	_, c := startWithClock(t, fc)
	c.createVault("rule13")
	until := fc.now().Add(day)
	up := c.putLocked("rule13", "k", retention(comp, until), true, []byte("x"))
	vid := up.GetVersionId()
	check := func(rpc string, a *wormvaultv1.Archive, until time.Time, holds ...string) {
		t.Helper()
		if a.GetVersionId() != vid {
			t.Fatalf("%s returned version %s, want %s", rpc, a.GetVersionId(), vid)
		}
		wantLock(t, a, comp, until, false, holds...)
	}
	check("UploadArchive", up, until, "default")
	check("GetArchive", c.archive("rule13", "k", vid), until, "default")
	check("GetArchive latest", c.archive("rule13", "k", ""), until, "default")
	l, err := c.archives.ListArchives(c.ctx(), &wormvaultv1.ListArchivesRequest{Vault: "rule13"})
	mustOK(t, err, "ListArchives")
	check("ListArchives", l.GetArchives()[0], until, "default")
	l, err = c.archives.ListArchives(c.ctx(), &wormvaultv1.ListArchivesRequest{Vault: "rule13", AllVersions: true})
	mustOK(t, err, "ListArchives all versions")
	check("ListArchives all versions", l.GetArchives()[0], until, "default")
	d, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "rule13", Key: "k", VersionId: vid}, &bytes.Buffer{})
	mustOK(t, err, "DownloadArchive")
	check("DownloadArchive", d, until, "default")
	a, err := c.setRetention("rule13", "k", vid, retention(comp, until.Add(day)), false)
	mustOK(t, err, "SetRetention")
	check("SetRetention", a, until.Add(day), "default")
	a, err = c.setHold("rule13", "k", vid, true, "audit", "")
	mustOK(t, err, "SetLegalHold")
	check("SetLegalHold", a, until.Add(day), "default", "audit")
	if h := a.GetLegalHolds()[1]; h.GetSetBy() != "root" || h.GetSetTime() == nil {
		t.Fatalf("SetLegalHold reports hold %v", h)
	}
}

// Rule 13b: max_retention can be lowered; a new retain-until beyond it is
// refused; it never affects stored versions; root may raise it. (Only root
// exists yet: that a non-root principal cannot raise it is tested in lock.)
func TestObjectLockRule13bMaxRetention(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createVault("rule13b")
	long := c.putLocked("rule13b", "long", retention(gov, fc.now().AddDate(2, 0, 0)), false, []byte("x"))
	a := c.put("rule13b", "k", []byte("y"))
	setMax := func(d time.Duration) (*wormvaultv1.Vault, error) {
		return c.updateVault(&wormvaultv1.Vault{Name: "rule13b", MaxRetention: durationpb.New(d)}, "max_retention")
	}
	v, err := setMax(30 * day)
	mustOK(t, err, "lower max_retention")
	if v.GetMaxRetention().AsDuration() != 30*day {
		t.Fatalf("max_retention %v after lowering to 30 days", v.GetMaxRetention())
	}
	now := fc.now()
	refused(t, c, s, codes.InvalidArgument, "INVALID_ARGUMENT", "retention.retain_until_time", func() error {
		_, err := c.setRetention("rule13b", "k", a.GetVersionId(), retention(gov, now.Add(30*day+time.Nanosecond)), false)
		return err
	})
	refused(t, c, s, codes.InvalidArgument, "INVALID_ARGUMENT", "retention.retain_until_time", func() error {
		_, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: "rule13b", Key: "k", Retention: retention(comp, now.Add(31*day))}, bytes.NewReader([]byte("z")), 1<<20)
		return err
	})
	refused(t, c, s, codes.InvalidArgument, "INVALID_ARGUMENT", "vault.default_retention", func() error {
		_, err := c.updateVault(&wormvaultv1.Vault{Name: "rule13b", DefaultRetention: &wormvaultv1.DefaultRetention{Mode: gov, Days: 31}}, "default_retention")
		return err
	})
	got, err := c.setRetention("rule13b", "k", a.GetVersionId(), retention(gov, now.Add(30*day)), false)
	mustOK(t, err, "retain up to max_retention")
	wantLock(t, got, gov, now.Add(30*day), false)
	// Stored versions keep their retention, even beyond the new cap.
	wantLock(t, c.archive("rule13b", "long", long.GetVersionId()), gov, now.AddDate(2, 0, 0), false)

	// Lowering below the default retention is refused.
	_, err = c.updateVault(&wormvaultv1.Vault{Name: "rule13b", DefaultRetention: &wormvaultv1.DefaultRetention{Mode: gov, Days: 20}}, "default_retention")
	mustOK(t, err, "default within max")
	refused(t, c, s, codes.InvalidArgument, "INVALID_ARGUMENT", "vault.default_retention", func() error {
		_, err := setMax(10 * day)
		return err
	})
	for _, bad := range []time.Duration{0, -time.Hour, 100*365*day + time.Nanosecond} {
		refused(t, c, s, codes.InvalidArgument, "INVALID_ARGUMENT", "vault.max_retention", func() error {
			_, err := setMax(bad)
			return err
		})
	}
	// Root raises it again.
	v, err = setMax(60 * day)
	mustOK(t, err, "root raises max_retention")
	if v.GetMaxRetention().AsDuration() != 60*day {
		t.Fatalf("max_retention %v after raising to 60 days", v.GetMaxRetention())
	}
	got, err = c.setRetention("rule13b", "k", a.GetVersionId(), retention(gov, now.Add(60*day)), false)
	mustOK(t, err, "extend up to the raised max_retention")
	wantLock(t, got, gov, now.Add(60*day), false)
}

// Rule 13c: ExplainProtection lists the retention and each hold; a version
// without protection is deletable.
func TestObjectLockRule13cExplain(t *testing.T) {
	fc := newFakeClock()
	_, c := startWithClock(t, fc)
	c.createVaultWith("rule13c", &wormvaultv1.DefaultRetention{Mode: gov, Days: 7})
	until := fc.now().Add(day)
	a := c.putLocked("rule13c", "k", retention(comp, until), true, []byte("x"))
	_, err := c.setHold("rule13c", "k", a.GetVersionId(), true, "case-1", "subpoena")
	mustOK(t, err, "hold")
	e := c.explain("rule13c", "k", a.GetVersionId())
	if e.GetDeletable() || e.GetVersionId() != a.GetVersionId() || len(e.GetProtections()) != 3 {
		t.Fatalf("explain: %v", e)
	}
	p := e.GetProtections()
	if p[0].GetKind() != "RETENTION" || p[0].GetRetentionMode() != comp || !p[0].GetEndTime().AsTime().Equal(until) || p[0].GetFromDefault() || p[0].GetDescription() == "" {
		t.Fatalf("retention protection: %v", p[0])
	}
	for i, id := range []string{"default", "case-1"} {
		if h := p[i+1]; h.GetKind() != "LEGAL_HOLD" || h.GetHoldId() != id || h.GetEndTime() != nil || h.GetDescription() == "" {
			t.Fatalf("hold protection %d: %v, want hold %q without an end time", i, h, id)
		}
	}
	d := c.put("rule13c", "d", []byte("default retention"))
	e = c.explain("rule13c", "d", "")
	if e.GetDeletable() || len(e.GetProtections()) != 1 || !e.GetProtections()[0].GetFromDefault() || e.GetProtections()[0].GetRetentionMode() != gov ||
		!e.GetProtections()[0].GetEndTime().AsTime().Equal(d.GetCreateTime().AsTime().AddDate(0, 0, 7)) {
		t.Fatalf("explain default retention: %v", e)
	}
	_, err = c.updateVault(&wormvaultv1.Vault{Name: "rule13c"}, "default_retention")
	mustOK(t, err, "remove default")
	c.put("rule13c", "free", []byte("nothing"))
	if e := c.explain("rule13c", "free", ""); !e.GetDeletable() || len(e.GetProtections()) != 0 {
		t.Fatalf("explain unprotected: %v", e)
	}
	// Once the retention ends and the holds go, the locked version is deletable.
	fc.advance(day + time.Nanosecond)
	for _, id := range []string{"default", "case-1"} {
		_, err := c.setHold("rule13c", "k", a.GetVersionId(), false, id, "")
		mustOK(t, err, "release "+id)
	}
	if e := c.explain("rule13c", "k", a.GetVersionId()); !e.GetDeletable() || len(e.GetProtections()) != 0 {
		t.Fatalf("explain after expiry and release: %v", e)
	}
	_, err = c.deleteArchive("rule13c", "k", a.GetVersionId(), false)
	mustOK(t, err, "delete a deletable version")
}
