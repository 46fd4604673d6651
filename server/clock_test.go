package server_test

// Acceptance tests of the trusted clock through the real server (rules 13a,
// 14, 15) and of locks across restarts. The server reads a fakeClock: advance
// moves the wall and monotonic clocks together (real time passing), setWall
// moves the wall clock alone (someone setting the system clock).

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
	"github.com/wormvault/wormvault/vault/audit"
)

// wantClock asserts the clock's state and trusted time.
func wantClock(t *testing.T, st *wormvaultv1.GetClockStatusResponse, state wormvaultv1.ClockState, trusted time.Time) {
	t.Helper()
	if st.GetState() != state || !st.GetTrustedTime().AsTime().Equal(trusted) {
		t.Fatalf("clock %v at %s (wall %s, mark %s, reason %q), want %v at %s", st.GetState(), st.GetTrustedTime().AsTime(),
			st.GetWallTime().AsTime(), st.GetHighWaterMark().AsTime(), st.GetReason(), state, trusted)
	}
	if (state == wormvaultv1.ClockState_CLOCK_STATE_UNTRUSTED) != (st.GetReason() != "") {
		t.Fatalf("clock %v with reason %q", st.GetState(), st.GetReason())
	}
}

// restart stops s, runs between (to move the clock while it is down),
// starts it over the same data and dials it again.
func restart(t *testing.T, s *servertest.Server, between func()) *conn {
	t.Helper()
	s.Stop()
	between()
	s.Restart()
	return dial(t, s)
}

// Rule 13a: at now == retain_until the version is still locked; one
// nanosecond later it is not.
func TestClockRule13aBoundaryInstant(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createVault("rule13a")
	until := fc.now().Add(time.Hour).Add(123 * time.Nanosecond)
	a := c.putLocked("rule13a", "c", retention(comp, until), false, []byte("c"))
	b := c.putLocked("rule13a", "g", retention(gov, until), false, []byte("g"))

	fc.advance(until.Sub(fc.now()))
	wantClock(t, c.clockStatus(), wormvaultv1.ClockState_CLOCK_STATE_TRUSTED, until)
	refused(t, c, s, codes.PermissionDenied, "RETENTION_COMPLIANCE_ACTIVE", "", func() error {
		_, err := c.deleteArchive("rule13a", "c", a.GetVersionId(), true)
		return err
	})
	refused(t, c, s, codes.PermissionDenied, "RETENTION_COMPLIANCE_ACTIVE", "", func() error {
		_, err := c.setRetention("rule13a", "c", a.GetVersionId(), nil, true)
		return err
	})
	refused(t, c, s, codes.PermissionDenied, "RETENTION_GOVERNANCE_ACTIVE", "", func() error {
		_, err := c.deleteArchive("rule13a", "g", b.GetVersionId(), false)
		return err
	})
	if e := c.explain("rule13a", "c", a.GetVersionId()); e.GetDeletable() || len(e.GetProtections()) != 1 {
		t.Fatalf("explain at the boundary: %v", e)
	}

	fc.advance(time.Nanosecond)
	if e := c.explain("rule13a", "c", a.GetVersionId()); !e.GetDeletable() {
		t.Fatalf("explain one nanosecond after: %v", e)
	}
	_, err := c.deleteArchive("rule13a", "c", a.GetVersionId(), false)
	mustOK(t, err, "delete COMPLIANCE one nanosecond after")
	_, err = c.deleteArchive("rule13a", "g", b.GetVersionId(), false)
	mustOK(t, err, "delete GOVERNANCE one nanosecond after, without bypass")
}

// Rule 14: setting the wall clock back neither shortens nor extends: the
// server keeps time by the monotonic clock from its high-water mark, and a
// COMPLIANCE version is protected until exactly its real expiry.
func TestClockRule14WallSetBack(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createVault("rule14")
	until := fc.now().Add(10 * day)
	a := c.putLocked("rule14", "k", retention(comp, until), false, []byte("x"))

	fc.setWall(t0.AddDate(-1, 0, 0))
	st := c.clockStatus()
	wantClock(t, st, wormvaultv1.ClockState_CLOCK_STATE_TRUSTED, t0)
	if !st.GetWallTime().AsTime().Equal(t0.AddDate(-1, 0, 0)) || st.GetHighWaterMark().AsTime().After(t0) {
		t.Fatalf("clock status %v: want the wall clock reported as set, a mark not after %s", st, t0)
	}
	// New versions and retention checks use the trusted time, not the wall.
	b := c.put("rule14", "k2", []byte("y"))
	if !b.GetCreateTime().AsTime().Equal(t0) {
		t.Fatalf("create_time %s, want the trusted %s", b.GetCreateTime().AsTime(), t0)
	}
	refused(t, c, s, codes.InvalidArgument, "INVALID_ARGUMENT", "retention.retain_until_time", func() error {
		_, err := c.setRetention("rule14", "k2", b.GetVersionId(), retention(gov, fc.now().Add(time.Hour)), false)
		return err
	})
	wantLock(t, c.archive("rule14", "k", a.GetVersionId()), comp, until, false)

	fc.advance(10*day - time.Second) // the wall clock still reads a year ago
	refused(t, c, s, codes.PermissionDenied, "RETENTION_COMPLIANCE_ACTIVE", "", func() error {
		_, err := c.deleteArchive("rule14", "k", a.GetVersionId(), true)
		return err
	})
	fc.advance(2 * time.Second)
	wantClock(t, c.clockStatus(), wormvaultv1.ClockState_CLOCK_STATE_TRUSTED, until.Add(time.Second))
	_, err := c.deleteArchive("rule14", "k", a.GetVersionId(), false)
	mustOK(t, err, "delete at the real expiry though the wall clock is a year behind")
}

// Rule 15: a forward jump of the wall clock while running makes the clock
// untrusted: what would be allowed only because a retention expired is
// refused CLOCK_UNTRUSTED, the jump itself expires nothing, and what does not
// depend on an expiry still works; AcknowledgeClock restores trust.
func TestClockRule15ForwardJump(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createVault("rule15")
	expired := c.putLocked("rule15", "expired", retention(comp, fc.now().Add(time.Hour)), false, []byte("a"))
	expiredGov := c.putLocked("rule15", "expired-gov", retention(gov, fc.now().Add(time.Hour)), false, []byte("b"))
	active := c.putLocked("rule15", "active", retention(comp, fc.now().Add(30*day)), false, []byte("c"))
	plain := c.put("rule15", "plain", []byte("d"))
	fc.advance(2 * time.Hour)
	trusted := fc.now()
	wantClock(t, c.clockStatus(), wormvaultv1.ClockState_CLOCK_STATE_TRUSTED, trusted)

	fc.setWall(fc.now().AddDate(1, 0, 0))
	st := c.clockStatus()
	wantClock(t, st, wormvaultv1.ClockState_CLOCK_STATE_UNTRUSTED, trusted)
	if !st.GetWallTime().AsTime().Equal(fc.now()) {
		t.Fatalf("clock status reports wall %s, want %s", st.GetWallTime().AsTime(), fc.now())
	}
	refused(t, c, s, codes.FailedPrecondition, "CLOCK_UNTRUSTED", "", func() error {
		_, err := c.deleteArchive("rule15", "expired", expired.GetVersionId(), false)
		return err
	})
	refused(t, c, s, codes.FailedPrecondition, "CLOCK_UNTRUSTED", "", func() error {
		_, err := c.setRetention("rule15", "expired", expired.GetVersionId(), nil, false)
		return err
	})
	refused(t, c, s, codes.FailedPrecondition, "CLOCK_UNTRUSTED", "", func() error {
		_, err := c.deleteArchive("rule15", "expired-gov", expiredGov.GetVersionId(), false)
		return err
	})
	// The jump expired nothing: by the trusted time this is still active.
	refused(t, c, s, codes.PermissionDenied, "RETENTION_COMPLIANCE_ACTIVE", "", func() error {
		_, err := c.deleteArchive("rule15", "active", active.GetVersionId(), false)
		return err
	})
	if e := c.explain("rule15", "expired", expired.GetVersionId()); e.GetDeletable() || len(e.GetProtections()) != 1 || e.GetProtections()[0].GetKind() != "CLOCK_UNTRUSTED" {
		t.Fatalf("explain an expiry on an untrusted clock: %v", e)
	}
	// What does not depend on an expiry still works.
	_, err := c.deleteArchive("rule15", "expired-gov", expiredGov.GetVersionId(), true) // bypass lifts GOVERNANCE, expired or not
	mustOK(t, err, "delete GOVERNANCE with bypass on an untrusted clock")
	_, err = c.setRetention("rule15", "active", active.GetVersionId(), retention(comp, trusted.Add(60*day)), false)
	mustOK(t, err, "extend on an untrusted clock")
	_, err = c.setHold("rule15", "plain", plain.GetVersionId(), true, "", "")
	mustOK(t, err, "hold on an untrusted clock")
	_, err = c.setHold("rule15", "plain", plain.GetVersionId(), false, "", "")
	mustOK(t, err, "release on an untrusted clock")
	_, err = c.deleteArchive("rule15", "plain", plain.GetVersionId(), false)
	mustOK(t, err, "delete a never-retained version on an untrusted clock")
	u := c.put("rule15", "new", []byte("e"))
	if !u.GetCreateTime().AsTime().Equal(trusted) {
		t.Fatalf("create_time %s on an untrusted clock, want the trusted %s", u.GetCreateTime().AsTime(), trusted)
	}

	wantClock(t, c.acknowledgeClock(), wormvaultv1.ClockState_CLOCK_STATE_TRUSTED, fc.now())
	wantClock(t, c.clockStatus(), wormvaultv1.ClockState_CLOCK_STATE_TRUSTED, fc.now())
	_, err = c.deleteArchive("rule15", "expired", expired.GetVersionId(), false)
	mustOK(t, err, "delete after AcknowledgeClock")
	// Root accepted the year: the 60-day retention has now expired too.
	_, err = c.deleteArchive("rule15", "active", active.GetVersionId(), false)
	mustOK(t, err, "delete a retention expired by the acknowledged time")
}

// Retention and holds survive a restart, and still bind.
func TestClockRestartKeepsLocks(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createVaultWith("restart", &wormvaultv1.DefaultRetention{Mode: gov, Days: 30})
	until := fc.now().Add(day)
	a := c.putLocked("restart", "a", retention(comp, until), true, []byte("a"))
	b := c.put("restart", "b", []byte("b"))
	for _, id := range []string{"x", "y"} {
		_, err := c.setHold("restart", "b", b.GetVersionId(), true, id, "reason "+id)
		mustOK(t, err, "hold "+id)
	}
	_, err := c.deleteArchive("restart", "c", "", false)
	mustOK(t, err, "delete marker")
	before := snapshot(t, c, s.DataDir)

	c = restart(t, s, func() {})
	if after := snapshot(t, c, s.DataDir); after != before {
		t.Fatalf("restart changed state:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	wantClock(t, c.clockStatus(), wormvaultv1.ClockState_CLOCK_STATE_TRUSTED, fc.now())
	wantLock(t, c.archive("restart", "a", a.GetVersionId()), comp, until, false, "default")
	wantLock(t, c.archive("restart", "b", ""), gov, b.GetCreateTime().AsTime().AddDate(0, 0, 30), true, "x", "y")
	refused(t, c, s, codes.PermissionDenied, "LEGAL_HOLD_ACTIVE", "", func() error {
		_, err := c.deleteArchive("restart", "a", a.GetVersionId(), true)
		return err
	})
	_, err = c.setHold("restart", "a", a.GetVersionId(), false, "", "")
	mustOK(t, err, "release")
	refused(t, c, s, codes.PermissionDenied, "RETENTION_COMPLIANCE_ACTIVE", "", func() error {
		_, err := c.deleteArchive("restart", "a", a.GetVersionId(), true)
		return err
	})
	refused(t, c, s, codes.PermissionDenied, "RETENTION_GOVERNANCE_ACTIVE", "", func() error {
		_, err := c.setRetention("restart", "b", b.GetVersionId(), nil, false)
		return err
	})
	_, err = c.setHold("restart", "b", b.GetVersionId(), false, "x", "")
	mustOK(t, err, "release x")
	refused(t, c, s, codes.PermissionDenied, "LEGAL_HOLD_ACTIVE", "", func() error {
		_, err := c.deleteArchive("restart", "b", b.GetVersionId(), true)
		return err
	})
}

// A wall clock moved back across a restart changes nothing: the server
// resumes from the time it had reached, which it persisted at shutdown.
func TestClockRestartWallSetBack(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createVault("restart-back")
	short := c.putLocked("restart-back", "short", retention(comp, t0.Add(5*day)), false, []byte("a"))
	long := c.putLocked("restart-back", "long", retention(comp, t0.Add(20*day)), false, []byte("b"))
	fc.advance(10 * day)
	reached := fc.now()
	wantClock(t, c.clockStatus(), wormvaultv1.ClockState_CLOCK_STATE_TRUSTED, reached)

	c = restart(t, s, func() { fc.setWall(t0) })
	wantClock(t, c.clockStatus(), wormvaultv1.ClockState_CLOCK_STATE_TRUSTED, reached)
	_, err := c.deleteArchive("restart-back", "short", short.GetVersionId(), false)
	mustOK(t, err, "delete a retention that expired before the restart")
	fc.advance(10*day - time.Second)
	refused(t, c, s, codes.PermissionDenied, "RETENTION_COMPLIANCE_ACTIVE", "", func() error {
		_, err := c.deleteArchive("restart-back", "long", long.GetVersionId(), false)
		return err
	})
	fc.advance(2 * time.Second)
	_, err = c.deleteArchive("restart-back", "long", long.GetVersionId(), false)
	mustOK(t, err, "delete at the real expiry")
}

// A wall clock moved forward across a restart by more than the allowed skew
// (5 minutes) beyond the persisted mark leaves the server untrusted until
// root acknowledges it; within the skew it is trusted.
func TestClockRestartForwardJump(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createVault("restart-fwd")
	a := c.putLocked("restart-fwd", "a", retention(comp, fc.now().Add(time.Hour)), false, []byte("a"))
	b := c.putLocked("restart-fwd", "b", retention(comp, fc.now().Add(10*time.Hour)), false, []byte("b"))
	fc.advance(2 * time.Hour)

	c = restart(t, s, func() { fc.setWall(fc.now().Add(4 * time.Minute)) })
	wantClock(t, c.clockStatus(), wormvaultv1.ClockState_CLOCK_STATE_TRUSTED, fc.now())

	mark := fc.now()
	c = restart(t, s, func() { fc.setWall(fc.now().Add(5*time.Minute + time.Second)) })
	wantClock(t, c.clockStatus(), wormvaultv1.ClockState_CLOCK_STATE_UNTRUSTED, mark)
	refused(t, c, s, codes.FailedPrecondition, "CLOCK_UNTRUSTED", "", func() error {
		_, err := c.deleteArchive("restart-fwd", "a", a.GetVersionId(), false)
		return err
	})
	refused(t, c, s, codes.PermissionDenied, "RETENTION_COMPLIANCE_ACTIVE", "", func() error {
		_, err := c.deleteArchive("restart-fwd", "b", b.GetVersionId(), false)
		return err
	})
	if evs := listAudit(t, c, &wormvaultv1.ListAuditEventsRequest{Kind: audit.KindClockUntrusted}); len(evs) != 1 || evs[0].GetDetails()["reason"] == "" {
		t.Fatalf("%s events after the jump: %v", audit.KindClockUntrusted, evs)
	}
	// Still untrusted after another restart with no further jump.
	c = restart(t, s, func() {})
	wantClock(t, c.clockStatus(), wormvaultv1.ClockState_CLOCK_STATE_UNTRUSTED, mark)

	wantClock(t, c.acknowledgeClock(), wormvaultv1.ClockState_CLOCK_STATE_TRUSTED, fc.now())
	_, err := c.deleteArchive("restart-fwd", "a", a.GetVersionId(), false)
	mustOK(t, err, "delete after AcknowledgeClock")
	c = restart(t, s, func() {})
	wantClock(t, c.clockStatus(), wormvaultv1.ClockState_CLOCK_STATE_TRUSTED, fc.now())
}
