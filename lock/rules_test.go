package lock_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/lock"
)

var (
	t0        = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	trusted   = lock.Now{Time: t0, Trusted: true}
	untrusted = lock.Now{Time: t0, Trusted: false}

	noBypass      = lock.Bypass{}
	bypass        = lock.Bypass{Requested: true, Allowed: true}
	askNotAllowed = lock.Bypass{Requested: true}
	allowedNotAsk = lock.Bypass{Allowed: true}
)

const day = 24 * time.Hour

func gov(until time.Time) wormvault.Retention {
	return wormvault.Retention{Mode: wormvault.RetentionGovernance, RetainUntil: until}
}

func comp(until time.Time) wormvault.Retention {
	return wormvault.Retention{Mode: wormvault.RetentionCompliance, RetainUntil: until}
}

func held(ids ...string) []wormvault.LegalHold {
	var hs []wormvault.LegalHold
	for _, id := range ids {
		hs = append(hs, wormvault.LegalHold{ID: id})
	}
	return hs
}

// check fails t unless err is nil when want is nil, or wraps want; a non-empty
// field is the InvalidArgumentError field expected.
func check(t *testing.T, err, want error, field string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
	if field != "" {
		var ia *wormvault.InvalidArgumentError
		if !errors.As(err, &ia) || ia.Field != field {
			t.Fatalf("got error %v, want invalid field %q", err, field)
		}
	}
}

// Rule 1: default retention validation.
func TestValidateDefaultRetention(t *testing.T) {
	const G, C = wormvault.RetentionGovernance, wormvault.RetentionCompliance
	for _, tc := range []struct {
		name  string
		d     wormvault.DefaultRetention
		field string // "" means valid
	}{
		{"removed", wormvault.DefaultRetention{}, ""},
		{"governance days", wormvault.DefaultRetention{Mode: G, Days: 30}, ""},
		{"compliance years", wormvault.DefaultRetention{Mode: C, Years: 7}, ""},
		{"100 years", wormvault.DefaultRetention{Mode: C, Years: 100}, ""},
		{"36500 days", wormvault.DefaultRetention{Mode: C, Days: 36500}, ""},
		{"no mode", wormvault.DefaultRetention{Days: 1}, "default_retention.mode"},
		{"bad mode", wormvault.DefaultRetention{Mode: 9, Days: 1}, "default_retention.mode"},
		{"both", wormvault.DefaultRetention{Mode: G, Days: 1, Years: 1}, "default_retention.years"},
		{"neither", wormvault.DefaultRetention{Mode: G}, "default_retention.days"},
		{"negative days", wormvault.DefaultRetention{Mode: G, Days: -1}, "default_retention.days"},
		{"negative years", wormvault.DefaultRetention{Mode: G, Years: -1}, "default_retention.years"},
		{"101 years", wormvault.DefaultRetention{Mode: C, Years: 101}, "default_retention.years"},
		{"36501 days", wormvault.DefaultRetention{Mode: C, Days: 36501}, "default_retention.days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := lock.ValidateDefaultRetention("default_retention", tc.d)
			if tc.field == "" {
				check(t, err, nil, "")
			} else {
				check(t, err, wormvault.ErrInvalidArgument, tc.field)
			}
		})
	}
}

// Rules 2, 3 and 13b at upload: explicit overrides default; default gives
// create_time + period.
func TestResolveRetention(t *testing.T) {
	def := wormvault.DefaultRetention{Mode: wormvault.RetentionCompliance, Years: 1}
	created := t0.Add(-time.Second)
	for _, tc := range []struct {
		name     string
		now      lock.Now
		explicit wormvault.Retention
		def      wormvault.DefaultRetention
		max      time.Duration
		want     wormvault.Retention
		field    string
	}{
		{"nothing", trusted, wormvault.Retention{}, wormvault.DefaultRetention{}, 0, wormvault.Retention{}, ""},
		{"default years", trusted, wormvault.Retention{}, def, 0,
			wormvault.Retention{Mode: wormvault.RetentionCompliance, RetainUntil: created.AddDate(1, 0, 0), FromDefault: true}, ""},
		{"default days", untrusted, wormvault.Retention{}, wormvault.DefaultRetention{Mode: wormvault.RetentionGovernance, Days: 3}, 0,
			wormvault.Retention{Mode: wormvault.RetentionGovernance, RetainUntil: created.AddDate(0, 0, 3), FromDefault: true}, ""},
		{"explicit earlier, other mode", trusted, gov(t0.Add(day)), def, 0, gov(t0.Add(day)), ""},
		{"explicit later", trusted, comp(t0.AddDate(5, 0, 0)), def, 0, comp(t0.AddDate(5, 0, 0)), ""},
		{"explicit FromDefault cleared", trusted, wormvault.Retention{Mode: wormvault.RetentionGovernance, RetainUntil: t0.Add(day), FromDefault: true}, def, 0, gov(t0.Add(day)), ""},
		{"explicit 100 years", trusted, comp(t0.AddDate(100, 0, 0)), def, 0, comp(t0.AddDate(100, 0, 0)), ""},
		{"explicit in the past", trusted, comp(t0.Add(-time.Second)), def, 0, wormvault.Retention{}, "retention.retain_until_time"},
		{"explicit now", trusted, comp(t0), def, 0, wormvault.Retention{}, "retention.retain_until_time"},
		{"explicit beyond 100 years", trusted, comp(t0.AddDate(100, 0, 0).Add(time.Nanosecond)), def, 0, wormvault.Retention{}, "retention.retain_until_time"},
		{"explicit without mode", trusted, wormvault.Retention{RetainUntil: t0.Add(day)}, def, 0, wormvault.Retention{}, "retention.mode"},
		{"explicit bad mode", trusted, wormvault.Retention{Mode: 7, RetainUntil: t0.Add(day)}, def, 0, wormvault.Retention{}, "retention.mode"},
		{"explicit beyond max_retention", trusted, comp(t0.Add(31 * day)), def, 30 * day, wormvault.Retention{}, "retention.retain_until_time"},
		{"explicit at max_retention", trusted, comp(t0.Add(30 * day)), def, 30 * day, comp(t0.Add(30 * day)), ""},
		{"default beyond max_retention", trusted, wormvault.Retention{}, def, 30 * day, wormvault.Retention{}, "default_retention"},
		{"invalid default", trusted, wormvault.Retention{}, wormvault.DefaultRetention{Mode: wormvault.RetentionGovernance, Days: -3}, 0, wormvault.Retention{}, "default_retention.days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lock.ResolveRetention(tc.now, created, tc.explicit, tc.def, tc.max)
			if tc.field != "" {
				check(t, err, wormvault.ErrInvalidArgument, tc.field)
				return
			}
			check(t, err, nil, "")
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

type setCase struct {
	name   string
	now    lock.Now
	v      lock.Version
	newRet wormvault.Retention
	bypass lock.Bypass
	want   error
	field  string
}

func runSet(t *testing.T, cases []setCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := lock.CheckSetRetention(tc.now, tc.v, tc.newRet, tc.bypass, 0)
			check(t, err, tc.want, tc.field)
		})
	}
}

// Rule 3 on PutRetention: the new retention must be valid.
func TestCheckSetRetentionValidates(t *testing.T) {
	v := lock.Version{}
	runSet(t, []setCase{
		{"past", trusted, v, gov(t0.Add(-day)), noBypass, wormvault.ErrInvalidArgument, "retention.retain_until_time"},
		{"now", trusted, v, gov(t0), noBypass, wormvault.ErrInvalidArgument, "retention.retain_until_time"},
		{"101 years", trusted, v, comp(t0.AddDate(101, 0, 0)), noBypass, wormvault.ErrInvalidArgument, "retention.retain_until_time"},
		{"no mode", trusted, v, wormvault.Retention{RetainUntil: t0.Add(day)}, noBypass, wormvault.ErrInvalidArgument, "retention.mode"},
		{"bad mode", trusted, v, wormvault.Retention{Mode: 3, RetainUntil: t0.Add(day)}, noBypass, wormvault.ErrInvalidArgument, "retention.mode"},
		{"delete marker", trusted, lock.Version{DeleteMarker: true}, gov(t0.Add(day)), noBypass, wormvault.ErrInvalidArgument, "version_id"},
		{"delete marker removal", trusted, lock.Version{DeleteMarker: true}, wormvault.Retention{}, noBypass, wormvault.ErrInvalidArgument, "version_id"},
		{"first retention", untrusted, v, comp(t0.Add(day)), noBypass, nil, ""},
		{"remove none", untrusted, v, wormvault.Retention{}, noBypass, nil, ""},
	})
}

// Rule 4: extending is always allowed, even on an untrusted clock.
func TestCheckSetRetentionExtends(t *testing.T) {
	until := t0.Add(10 * day)
	runSet(t, []setCase{
		{"governance later", trusted, lock.Version{Retention: gov(until)}, gov(until.Add(day)), noBypass, nil, ""},
		{"compliance later", trusted, lock.Version{Retention: comp(until)}, comp(until.Add(day)), noBypass, nil, ""},
		{"compliance same date", trusted, lock.Version{Retention: comp(until)}, comp(until), noBypass, nil, ""},
		{"untrusted clock", untrusted, lock.Version{Retention: comp(until)}, comp(until.Add(day)), noBypass, nil, ""},
		{"from default to explicit", trusted, lock.Version{Retention: wormvault.Retention{Mode: wormvault.RetentionCompliance, RetainUntil: until, FromDefault: true}}, comp(until.Add(day)), noBypass, nil, ""},
		{"held version", trusted, lock.Version{Retention: gov(until), Holds: held("a")}, gov(until.Add(day)), noBypass, nil, ""},
		{"expired, untrusted, later date", untrusted, lock.Version{Retention: comp(t0.Add(-day))}, comp(until), noBypass, nil, ""},
	})
}

// Rule 5: active COMPLIANCE cannot be reduced by anyone.
func TestCheckSetRetentionCompliance(t *testing.T) {
	until := t0.Add(10 * day)
	v := lock.Version{Retention: comp(until)}
	expired := lock.Version{Retention: comp(t0.Add(-time.Nanosecond))}
	runSet(t, []setCase{
		{"shorten", trusted, v, comp(until.Add(-day)), noBypass, wormvault.ErrRetentionCompliance, ""},
		{"shorten with bypass (root)", trusted, v, comp(until.Add(-day)), bypass, wormvault.ErrRetentionCompliance, ""},
		{"remove with bypass", trusted, v, wormvault.Retention{}, bypass, wormvault.ErrRetentionCompliance, ""},
		{"to governance later with bypass", trusted, v, gov(until.Add(day)), bypass, wormvault.ErrRetentionCompliance, ""},
		{"expired: to governance", trusted, expired, gov(t0.Add(time.Hour)), noBypass, nil, ""},
		{"expired: remove", trusted, expired, wormvault.Retention{}, noBypass, nil, ""},
		{"expired untrusted: remove", untrusted, expired, wormvault.Retention{}, bypass, wormvault.ErrClockUntrusted, ""},
		{"expired untrusted: to governance", untrusted, expired, gov(until), bypass, wormvault.ErrClockUntrusted, ""},
	})
}

// Rule 6: active GOVERNANCE needs a granted bypass for any reduction or mode change.
func TestCheckSetRetentionGovernance(t *testing.T) {
	until := t0.Add(10 * day)
	v := lock.Version{Retention: gov(until)}
	var cases []setCase
	for _, c := range []struct {
		name   string
		newRet wormvault.Retention
	}{
		{"shorten", gov(until.Add(-day))},
		{"remove", wormvault.Retention{}},
		{"to compliance later", comp(until.Add(day))},
		{"to compliance same date", comp(until)},
		{"to compliance earlier", comp(t0.Add(day))},
	} {
		cases = append(cases,
			setCase{c.name + " without bypass", trusted, v, c.newRet, noBypass, wormvault.ErrRetentionGovernance, ""},
			setCase{c.name + " asked, not allowed", trusted, v, c.newRet, askNotAllowed, wormvault.ErrRetentionGovernance, ""},
			setCase{c.name + " allowed, not asked", trusted, v, c.newRet, allowedNotAsk, wormvault.ErrRetentionGovernance, ""},
			setCase{c.name + " with bypass", trusted, v, c.newRet, bypass, nil, ""},
			setCase{c.name + " with bypass, untrusted clock", untrusted, v, c.newRet, bypass, nil, ""},
		)
	}
	expired := lock.Version{Retention: gov(t0.Add(-day))}
	cases = append(cases,
		setCase{"expired: remove", trusted, expired, wormvault.Retention{}, noBypass, nil, ""},
		setCase{"expired untrusted: remove", untrusted, expired, wormvault.Retention{}, noBypass, wormvault.ErrClockUntrusted, ""},
		setCase{"expired untrusted: remove with bypass", untrusted, expired, wormvault.Retention{}, bypass, nil, ""},
	)
	runSet(t, cases)
}

// Rule 7: no retention is NOT_FOUND.
func TestRetentionOf(t *testing.T) {
	_, err := lock.RetentionOf(lock.Version{})
	check(t, err, wormvault.ErrNoRetention, "")
	_, err = lock.RetentionOf(lock.Version{DeleteMarker: true})
	check(t, err, wormvault.ErrNoRetention, "")
	expired := gov(t0.Add(-day))
	got, err := lock.RetentionOf(lock.Version{Retention: expired})
	check(t, err, nil, "")
	if got != expired {
		t.Fatalf("got %+v, want %+v", got, expired)
	}
}

// Rules 8, 8a: holds are named, several stand, release only the named one.
func TestLegalHolds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		v     lock.Version
		id    string
		want  error
		field string
	}{
		{"default id", lock.Version{}, "", nil, ""},
		{"named", lock.Version{Retention: comp(t0.Add(day))}, "case-42", nil, ""},
		{"64 chars", lock.Version{}, strings.Repeat("x", 64), nil, ""},
		{"65 chars", lock.Version{}, strings.Repeat("x", 65), wormvault.ErrInvalidArgument, "hold_id"},
		{"control char", lock.Version{}, "a\nb", wormvault.ErrInvalidArgument, "hold_id"},
		{"delete marker", lock.Version{DeleteMarker: true}, "a", wormvault.ErrInvalidArgument, "version_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, lock.CheckSetLegalHold(tc.v, tc.id), tc.want, tc.field)
		})
	}

	var hs []wormvault.LegalHold
	hs = lock.PlaceHold(hs, wormvault.LegalHold{Reason: "first"})
	hs = lock.PlaceHold(hs, wormvault.LegalHold{ID: "b"})
	before := hs
	hs = lock.PlaceHold(hs, wormvault.LegalHold{ID: "default", Reason: "replaced"})
	if len(hs) != 2 || hs[0].ID != "default" || hs[0].Reason != "replaced" || hs[1].ID != "b" {
		t.Fatalf("after placing: %+v", hs)
	}
	if before[0].Reason != "first" {
		t.Fatalf("PlaceHold modified its input: %+v", before)
	}
	rest, ok := lock.ReleaseHold(hs, "zzz")
	if ok || len(rest) != 2 {
		t.Fatalf("releasing an absent hold: %+v %v", rest, ok)
	}
	rest, ok = lock.ReleaseHold(hs, "")
	if !ok || len(rest) != 1 || rest[0].ID != "b" || len(hs) != 2 || hs[0].ID != "default" {
		t.Fatalf("releasing the default hold: %+v %v (input %+v)", rest, ok, hs)
	}
}

// Rules 9, 10: delete by version id.
func TestCheckDelete(t *testing.T) {
	active, expired := t0.Add(day), t0.Add(-day)
	for _, tc := range []struct {
		name   string
		now    lock.Now
		v      lock.Version
		bypass lock.Bypass
		want   error
	}{
		{"unprotected", untrusted, lock.Version{}, noBypass, nil},
		{"delete marker", untrusted, lock.Version{DeleteMarker: true}, noBypass, nil},
		{"delete marker with stale fields", untrusted, lock.Version{DeleteMarker: true, Retention: comp(active), Holds: held("x")}, noBypass, nil},
		{"hold", trusted, lock.Version{Holds: held("x")}, noBypass, wormvault.ErrLegalHoldActive},
		{"hold with bypass", trusted, lock.Version{Holds: held("x"), Retention: gov(active)}, bypass, wormvault.ErrLegalHoldActive},
		{"hold and compliance", trusted, lock.Version{Holds: held("x"), Retention: comp(active)}, bypass, wormvault.ErrLegalHoldActive},
		{"hold and expired retention", trusted, lock.Version{Holds: held("x"), Retention: comp(expired)}, noBypass, wormvault.ErrLegalHoldActive},
		{"compliance", trusted, lock.Version{Retention: comp(active)}, noBypass, wormvault.ErrRetentionCompliance},
		{"compliance with bypass", trusted, lock.Version{Retention: comp(active)}, bypass, wormvault.ErrRetentionCompliance},
		{"governance", trusted, lock.Version{Retention: gov(active)}, noBypass, wormvault.ErrRetentionGovernance},
		{"governance asked, not allowed", trusted, lock.Version{Retention: gov(active)}, askNotAllowed, wormvault.ErrRetentionGovernance},
		{"governance allowed, not asked", trusted, lock.Version{Retention: gov(active)}, allowedNotAsk, wormvault.ErrRetentionGovernance},
		{"governance with bypass", untrusted, lock.Version{Retention: gov(active)}, bypass, nil},
		{"compliance expired", trusted, lock.Version{Retention: comp(expired)}, noBypass, nil},
		{"governance expired", trusted, lock.Version{Retention: gov(expired)}, noBypass, nil},
		{"compliance expired, untrusted", untrusted, lock.Version{Retention: comp(expired)}, bypass, wormvault.ErrClockUntrusted},
		{"governance expired, untrusted", untrusted, lock.Version{Retention: gov(expired)}, noBypass, wormvault.ErrClockUntrusted},
		{"governance expired, untrusted, bypass", untrusted, lock.Version{Retention: gov(expired)}, bypass, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, lock.CheckDelete(tc.now, tc.v, tc.bypass), tc.want, "")
		})
	}
}

// Rule 13a: the boundary instant is still locked.
func TestBoundaryInstant(t *testing.T) {
	v := lock.Version{Retention: comp(t0)}
	at := lock.Now{Time: t0, Trusted: true}
	after := lock.Now{Time: t0.Add(time.Nanosecond), Trusted: true}
	check(t, lock.CheckDelete(at, v, bypass), wormvault.ErrRetentionCompliance, "")
	check(t, lock.CheckSetRetention(at, v, wormvault.Retention{}, bypass, 0), wormvault.ErrRetentionCompliance, "")
	if len(lock.Explain(at, v)) != 1 {
		t.Fatalf("Explain at the boundary: %+v", lock.Explain(at, v))
	}
	check(t, lock.CheckDelete(after, v, noBypass), nil, "")
	check(t, lock.CheckSetRetention(after, v, wormvault.Retention{}, noBypass, 0), nil, "")
	if len(lock.Explain(after, v)) != 0 {
		t.Fatalf("Explain after the boundary: %+v", lock.Explain(after, v))
	}
}

// Rule 13b: max_retention caps new retain-until; only root raises it.
func TestMaxRetention(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new time.Duration
		root     bool
		want     error
	}{
		{"lower", 0, 365 * day, false, nil},
		{"lower from set", 365 * day, 30 * day, false, nil},
		{"same", 30 * day, 30 * day, false, nil},
		{"raise as user", 30 * day, 31 * day, false, wormvault.ErrPermissionDenied},
		{"raise as root", 30 * day, wormvault.MaxRetentionPeriod, true, nil},
		{"zero", 30 * day, 0, true, wormvault.ErrInvalidArgument},
		{"negative", 30 * day, -day, true, wormvault.ErrInvalidArgument},
		{"beyond 100 years", 30 * day, wormvault.MaxRetentionPeriod + 1, true, wormvault.ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			field := ""
			if tc.want == wormvault.ErrInvalidArgument {
				field = "max_retention"
			}
			check(t, lock.CheckMaxRetentionChange(tc.old, tc.new, tc.root), tc.want, field)
		})
	}
	check(t, lock.ValidateMaxRetention("vault.max_retention", 0), wormvault.ErrInvalidArgument, "vault.max_retention")

	v := lock.Version{Retention: gov(t0.Add(day))}
	check(t, lock.CheckSetRetention(trusted, v, gov(t0.Add(30*day)), noBypass, 30*day), nil, "")
	check(t, lock.CheckSetRetention(trusted, v, gov(t0.Add(30*day+1)), noBypass, 30*day), wormvault.ErrInvalidArgument, "retention.retain_until_time")
	// A version retained beyond a lowered cap keeps its retention.
	long := lock.Version{Retention: comp(t0.AddDate(50, 0, 0))}
	check(t, lock.CheckSetRetention(trusted, long, comp(t0.AddDate(50, 0, 0)), noBypass, 30*day), wormvault.ErrInvalidArgument, "retention.retain_until_time")
	check(t, lock.CheckDelete(trusted, long, bypass), wormvault.ErrRetentionCompliance, "")

	fits := []struct {
		d    wormvault.DefaultRetention
		max  time.Duration
		want error
	}{
		{wormvault.DefaultRetention{Mode: wormvault.RetentionGovernance, Days: 30}, 30 * day, nil},
		{wormvault.DefaultRetention{Mode: wormvault.RetentionGovernance, Days: 31}, 30 * day, wormvault.ErrInvalidArgument},
		{wormvault.DefaultRetention{Mode: wormvault.RetentionGovernance, Years: 1}, 366 * day, nil},
		{wormvault.DefaultRetention{Mode: wormvault.RetentionGovernance, Years: 1}, 365 * day, wormvault.ErrInvalidArgument},
		{wormvault.DefaultRetention{Mode: wormvault.RetentionCompliance, Years: 100}, wormvault.MaxRetentionPeriod, nil},
		{wormvault.DefaultRetention{Mode: wormvault.RetentionCompliance, Years: 100}, 0, nil},
	}
	for _, f := range fits {
		check(t, lock.CheckDefaultRetentionFits("default_retention", f.d, f.max), f.want, "")
		if f.want == nil {
			_, err := lock.ResolveRetention(trusted, t0, wormvault.Retention{}, f.d, f.max)
			check(t, err, nil, "")
		}
	}
}

// Rule 13c: Explain lists what stops a permanent delete, and when it ends.
func TestExplain(t *testing.T) {
	until := t0.Add(day)
	fromDefault := wormvault.Retention{Mode: wormvault.RetentionCompliance, RetainUntil: until, FromDefault: true}
	got := lock.Explain(trusted, lock.Version{Retention: fromDefault, Holds: []wormvault.LegalHold{{ID: "case-1", SetBy: "alice", Reason: "subpoena"}, {ID: "b"}}})
	if len(got) != 3 {
		t.Fatalf("got %d protections, want 3: %+v", len(got), got)
	}
	if p := got[0]; p.Kind != lock.ProtectedByRetention || p.Mode != wormvault.RetentionCompliance || !p.FromDefault || !p.Until.Equal(until) || p.Bypassable {
		t.Errorf("retention: %+v", p)
	}
	if p := got[1]; p.Kind != lock.ProtectedByLegalHold || p.HoldID != "case-1" || !p.Until.IsZero() || !strings.Contains(p.Reason, "subpoena") {
		t.Errorf("hold: %+v", p)
	}
	if p := got[2]; p.Kind != lock.ProtectedByLegalHold || p.HoldID != "b" {
		t.Errorf("hold: %+v", p)
	}

	g := lock.Explain(trusted, lock.Version{Retention: gov(until)})
	if len(g) != 1 || !g[0].Bypassable || g[0].FromDefault {
		t.Errorf("governance: %+v", g)
	}
	expired := lock.Version{Retention: comp(t0.Add(-day))}
	if g := lock.Explain(trusted, expired); len(g) != 0 {
		t.Errorf("expired, trusted: %+v", g)
	}
	if g := lock.Explain(untrusted, expired); len(g) != 1 || g[0].Kind != lock.ProtectedByUntrustedClock || !g[0].Until.IsZero() {
		t.Errorf("expired, untrusted: %+v", g)
	}
	if g := lock.Explain(trusted, lock.Version{DeleteMarker: true, Holds: held("x")}); len(g) != 0 {
		t.Errorf("delete marker: %+v", g)
	}
	for k, want := range map[lock.ProtectionKind]string{lock.ProtectedByPolicy: "POLICY", lock.ProtectedByMFADelete: "MFA_DELETE", lock.ProtectedByUntrustedClock: "CLOCK_UNTRUSTED"} {
		if k.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(k), k, want)
		}
	}
}

// Rule 15: on an untrusted clock every decision allowed only by an expiry is
// refused; every other still works.
func TestUntrustedClock(t *testing.T) {
	expired, active := t0.Add(-day), t0.Add(day)
	refused := []struct {
		name string
		err  error
	}{
		{"delete expired compliance", lock.CheckDelete(untrusted, lock.Version{Retention: comp(expired)}, noBypass)},
		{"delete expired governance", lock.CheckDelete(untrusted, lock.Version{Retention: gov(expired)}, allowedNotAsk)},
		{"remove expired compliance", lock.CheckSetRetention(untrusted, lock.Version{Retention: comp(expired)}, wormvault.Retention{}, bypass, 0)},
		{"remove expired governance", lock.CheckSetRetention(untrusted, lock.Version{Retention: gov(expired)}, wormvault.Retention{}, allowedNotAsk, 0)},
		{"expired governance to compliance", lock.CheckSetRetention(untrusted, lock.Version{Retention: gov(expired)}, comp(active), noBypass, 0)},
		{"expired compliance to governance", lock.CheckSetRetention(untrusted, lock.Version{Retention: comp(expired)}, gov(active), noBypass, 0)},
	}
	for _, r := range refused {
		t.Run(r.name, func(t *testing.T) { check(t, r.err, wormvault.ErrClockUntrusted, "") })
	}
	allowed := []struct {
		name string
		err  error
	}{
		{"extend active", lock.CheckSetRetention(untrusted, lock.Version{Retention: gov(active)}, gov(active.Add(day)), noBypass, 0)},
		{"extend expired", lock.CheckSetRetention(untrusted, lock.Version{Retention: comp(expired)}, comp(active), noBypass, 0)},
		{"first retention", lock.CheckSetRetention(untrusted, lock.Version{}, comp(active), noBypass, 0)},
		{"hold", lock.CheckSetLegalHold(lock.Version{Retention: comp(expired)}, "h")},
		{"delete never retained", lock.CheckDelete(untrusted, lock.Version{}, noBypass)},
		{"delete marker", lock.CheckDelete(untrusted, lock.Version{DeleteMarker: true}, noBypass)},
		{"bypass active governance", lock.CheckDelete(untrusted, lock.Version{Retention: gov(active)}, bypass)},
	}
	for _, r := range allowed {
		t.Run(r.name, func(t *testing.T) { check(t, r.err, nil, "") })
	}
	// Refusals for active retention are unchanged by the clock's state.
	check(t, lock.CheckDelete(untrusted, lock.Version{Retention: comp(active)}, bypass), wormvault.ErrRetentionCompliance, "")
}
