package lock_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/lock"
)

type principal int

const (
	root    principal = iota // every permission, bypass included
	officer                  // allowed wormvault:BypassGovernanceRetention
	user                     // plain user: not allowed to bypass
)

func (p principal) String() string { return [...]string{"root", "officer", "user"}[p] }

// world is a small reference model: a vault's versions, a trusted clock over
// a true timeline that an attacker's wall clock may stray from, and the
// vault's max_retention.
type world struct {
	base       time.Time     // true time at start
	mono       time.Duration // true time elapsed: the monotonic clock
	wallOffset time.Duration // how far the wall clock is ahead of true time
	accepted   time.Duration // the furthest ahead of true time root acknowledged
	clock      *lock.Clock
	lastNow    time.Time
	versions   []lock.Version // deleted versions are removed
	maxRet     time.Duration
}

func (w *world) trueNow() time.Time { return w.base.Add(w.mono) }

// decide reads the clock and checks rule 14: it never goes backwards, and is
// never further ahead of true time than the skew plus what root accepted.
func (w *world) decide(t *rapid.T) lock.Now {
	now, err := w.clock.Decide()
	if err != nil {
		t.Fatal(err)
	}
	if now.Time.Before(w.lastNow) {
		t.Fatalf("clock went back from %v to %v", w.lastNow, now.Time)
	}
	if limit := w.trueNow().Add(lock.DefaultClockSkew + w.accepted); now.Time.After(limit) {
		t.Fatalf("clock at %v, more than skew + accepted %v ahead of true time %v", now.Time, w.accepted, w.trueNow())
	}
	w.lastNow = now.Time
	return now
}

func drawPrincipal(t *rapid.T) (principal, bool) {
	p := rapid.SampledFrom([]principal{root, officer, user}).Draw(t, "principal")
	requested := rapid.Bool().Draw(t, "bypass_requested")
	return p, requested
}

func bypassOf(p principal, requested bool) lock.Bypass {
	return lock.Bypass{Requested: requested, Allowed: p != user}
}

func (w *world) pick(t *rapid.T) (int, bool) {
	if len(w.versions) == 0 {
		return 0, false
	}
	return rapid.IntRange(0, len(w.versions)-1).Draw(t, "version"), true
}

func drawMode(t *rapid.T, label string) wormvault.RetentionMode {
	return rapid.SampledFrom([]wormvault.RetentionMode{wormvault.RetentionGovernance, wormvault.RetentionCompliance}).Draw(t, label)
}

// drawUntil draws a retain-until around now and around old.
func drawUntil(t *rapid.T, now time.Time, old time.Time) time.Time {
	switch rapid.IntRange(0, 5).Draw(t, "until_kind") {
	case 0:
		if !old.IsZero() {
			return old
		}
	case 1:
		if !old.IsZero() {
			return old.Add(time.Duration(rapid.Int64Range(-3600, 3600).Draw(t, "near_old_s")) * time.Second)
		}
	case 2:
		return now.AddDate(100, 0, 0).Add(time.Duration(rapid.Int64Range(-1, 1).Draw(t, "near_100y_ns")))
	}
	return now.Add(time.Duration(rapid.Int64Range(-30*86400, 3*365*86400).Draw(t, "until_s")) * time.Second)
}

func (w *world) limit(now time.Time) time.Time {
	if w.maxRet < wormvault.MaxRetentionPeriod {
		return now.Add(w.maxRet)
	}
	return now.AddDate(100, 0, 0)
}

// expectValid is the reference for rule 3 and 13b.
func (w *world) expectValid(now time.Time, r wormvault.Retention) error {
	if r.Mode != wormvault.RetentionGovernance && r.Mode != wormvault.RetentionCompliance {
		return wormvault.ErrInvalidArgument
	}
	if !r.RetainUntil.After(now) || r.RetainUntil.After(w.limit(now)) {
		return wormvault.ErrInvalidArgument
	}
	return nil
}

// sameSentinel fails unless err is nil exactly when want is, and wraps want.
func sameSentinel(t *rapid.T, what string, err, want error) {
	if (err == nil) != (want == nil) || want != nil && !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

func (w *world) upload(t *rapid.T) {
	now := w.decide(t)
	var explicit wormvault.Retention
	if rapid.Bool().Draw(t, "explicit") {
		explicit = wormvault.Retention{Mode: drawMode(t, "mode"), RetainUntil: drawUntil(t, now.Time, time.Time{})}
	}
	var def wormvault.DefaultRetention
	if rapid.Bool().Draw(t, "has_default") {
		def.Mode = drawMode(t, "default_mode")
		if rapid.Bool().Draw(t, "years") {
			def.Years = rapid.Int32Range(1, 3).Draw(t, "default_years")
		} else {
			def.Days = rapid.Int32Range(1, 400).Draw(t, "default_days")
		}
	}
	got, err := lock.ResolveRetention(now, now.Time, explicit, def, w.maxRet)
	var want wormvault.Retention
	var wantErr error
	switch {
	case !explicit.IsZero():
		want, wantErr = explicit, w.expectValid(now.Time, explicit)
	case !def.IsZero():
		want = wormvault.Retention{Mode: def.Mode, RetainUntil: def.Until(now.Time), FromDefault: true}
		if want.RetainUntil.After(w.limit(now.Time)) {
			wantErr = wormvault.ErrInvalidArgument
		}
	}
	sameSentinel(t, "upload", err, wantErr)
	if err != nil {
		return
	}
	if got != want {
		t.Fatalf("upload: retention %+v, want %+v", got, want)
	}
	w.versions = append(w.versions, lock.Version{CreateTime: now.Time, Retention: got})
}

func (w *world) setRetention(t *rapid.T) {
	i, ok := w.pick(t)
	if !ok {
		return
	}
	p, requested := drawPrincipal(t)
	b := bypassOf(p, requested)
	v := w.versions[i]
	old := v.Retention
	now := w.decide(t)
	var newRet wormvault.Retention // removal
	if rapid.IntRange(0, 3).Draw(t, "remove") > 0 {
		newRet = wormvault.Retention{Mode: drawMode(t, "mode"), RetainUntil: drawUntil(t, now.Time, old.RetainUntil)}
	}
	err := lock.CheckSetRetention(now, v, newRet, b, w.maxRet)

	// The reference decision.
	var want error
	removal := newRet.IsZero()
	granted := old.Mode == wormvault.RetentionGovernance && requested && p != user
	extends := newRet.Mode == old.Mode && !newRet.RetainUntil.Before(old.RetainUntil)
	switch {
	case v.DeleteMarker:
		want = wormvault.ErrInvalidArgument
	case !removal && w.expectValid(now.Time, newRet) != nil:
		want = wormvault.ErrInvalidArgument
	case old.IsZero(), extends, granted:
	case old.ActiveAt(now.Time) && old.Mode == wormvault.RetentionCompliance:
		want = wormvault.ErrRetentionCompliance
	case old.ActiveAt(now.Time):
		want = wormvault.ErrRetentionGovernance
	case !now.Trusted:
		want = wormvault.ErrClockUntrusted
	}
	sameSentinel(t, fmt.Sprintf("%s sets retention %+v over %+v at %+v with %+v", p, newRet, old, now, b), err, want)
	if err != nil {
		return
	}

	// The invariant, stated on its own: protection is reduced only when no
	// active COMPLIANCE stands, active GOVERNANCE only with a granted bypass,
	// and an expired one only on a trusted clock (or a granted bypass).
	reduced := old.Mode != wormvault.RetentionNone &&
		(newRet.Mode != old.Mode || newRet.RetainUntil.Before(old.RetainUntil))
	if reduced {
		switch {
		case old.ActiveAt(now.Time) && old.Mode != wormvault.RetentionGovernance:
			t.Fatalf("%s reduced active COMPLIANCE %+v to %+v", p, old, newRet)
		case old.ActiveAt(now.Time) && !(requested && p != user):
			t.Fatalf("%s reduced active GOVERNANCE %+v to %+v without bypass (requested=%v)", p, old, newRet, requested)
		case !old.ActiveAt(now.Time) && !now.Trusted && !(old.Mode == wormvault.RetentionGovernance && requested && p != user):
			t.Fatalf("%s reduced expired %+v to %+v on an untrusted clock", p, old, newRet)
		}
	}
	if !removal && (!newRet.RetainUntil.After(now.Time) || newRet.RetainUntil.After(now.Time.AddDate(100, 0, 0))) {
		t.Fatalf("accepted retain-until %v at %v", newRet.RetainUntil, now.Time)
	}
	w.versions[i].Retention = newRet
}

var holdIDs = []string{"", "default", "case-7", "b", string(make([]byte, 65))}

func (w *world) placeHold(t *rapid.T) {
	i, ok := w.pick(t)
	if !ok {
		return
	}
	id := rapid.SampledFrom(holdIDs).Draw(t, "hold_id")
	v := w.versions[i]
	err := lock.CheckSetLegalHold(v, id)
	var want error
	if v.DeleteMarker || len(id) > 64 || id == holdIDs[4] {
		want = wormvault.ErrInvalidArgument
	}
	sameSentinel(t, "place hold", err, want)
	if err != nil {
		return
	}
	before := v.Holds
	after := lock.PlaceHold(before, wormvault.LegalHold{ID: id, SetBy: "model"})
	for _, h := range before {
		if !slices.ContainsFunc(after, func(x wormvault.LegalHold) bool { return x.ID == h.ID }) {
			t.Fatalf("placing %q dropped hold %q", id, h.ID)
		}
	}
	if !slices.ContainsFunc(after, func(x wormvault.LegalHold) bool { return x.ID == lock.HoldID(id) }) {
		t.Fatalf("placing %q: not standing in %+v", id, after)
	}
	w.versions[i].Holds = after
}

func (w *world) releaseHold(t *rapid.T) {
	i, ok := w.pick(t)
	if !ok {
		return
	}
	id := rapid.SampledFrom(holdIDs[:4]).Draw(t, "hold_id")
	before := w.versions[i].Holds
	after, released := lock.ReleaseHold(before, id)
	named := lock.HoldID(id)
	want := slices.DeleteFunc(slices.Clone(before), func(h wormvault.LegalHold) bool { return h.ID == named })
	if !slices.Equal(after, want) || released != (len(want) < len(before)) {
		t.Fatalf("releasing %q from %+v gave %+v (released=%v)", id, before, after, released)
	}
	w.versions[i].Holds = after
}

func (w *world) deleteVersion(t *rapid.T) {
	i, ok := w.pick(t)
	if !ok {
		return
	}
	p, requested := drawPrincipal(t)
	b := bypassOf(p, requested)
	v := w.versions[i]
	r := v.Retention
	now := w.decide(t)
	err := lock.CheckDelete(now, v, b)

	granted := r.Mode == wormvault.RetentionGovernance && requested && p != user
	var want error
	switch {
	case v.DeleteMarker:
	case len(v.Holds) > 0:
		want = wormvault.ErrLegalHoldActive
	case r.IsZero(), granted:
	case r.ActiveAt(now.Time) && r.Mode == wormvault.RetentionCompliance:
		want = wormvault.ErrRetentionCompliance
	case r.ActiveAt(now.Time):
		want = wormvault.ErrRetentionGovernance
	case !now.Trusted:
		want = wormvault.ErrClockUntrusted
	}
	sameSentinel(t, fmt.Sprintf("%s deletes %+v at %+v with %+v", p, v, now, b), err, want)

	// Rule 13c: Explain is empty exactly when nothing in the version stops it.
	if explained, plain := len(lock.Explain(now, v)) > 0, lock.CheckDelete(now, v, lock.Bypass{}) != nil; explained != plain {
		t.Fatalf("Explain %+v disagrees with CheckDelete (refused=%v) for %+v", lock.Explain(now, v), plain, v)
	}
	if err != nil {
		return
	}
	if !v.DeleteMarker {
		switch {
		case len(v.Holds) > 0:
			t.Fatalf("%s deleted a version under legal hold %+v", p, v.Holds)
		case r.ActiveAt(now.Time) && r.Mode != wormvault.RetentionGovernance:
			t.Fatalf("%s deleted a version under active COMPLIANCE %+v", p, r)
		case r.ActiveAt(now.Time) && !(requested && p != user):
			t.Fatalf("%s deleted a version under active GOVERNANCE without bypass", p)
		case !r.IsZero() && !r.ActiveAt(now.Time) && !now.Trusted && !granted:
			t.Fatalf("%s deleted a version whose retention expired only by an untrusted clock", p)
		}
	}
	w.versions = slices.Delete(w.versions, i, i+1)
}

func (w *world) setMaxRetention(t *rapid.T) {
	p := rapid.SampledFrom([]principal{root, officer, user}).Draw(t, "principal")
	newMax := rapid.SampledFrom([]time.Duration{-time.Hour, 0, 30 * day, 2 * 365 * day, 10 * 365 * day, wormvault.MaxRetentionPeriod, wormvault.MaxRetentionPeriod, wormvault.MaxRetentionPeriod + 1}).Draw(t, "max_retention")
	err := lock.CheckMaxRetentionChange(w.maxRet, newMax, p == root)
	var want error
	switch {
	case newMax <= 0 || newMax > wormvault.MaxRetentionPeriod:
		want = wormvault.ErrInvalidArgument
	case newMax > w.maxRet && p != root:
		want = wormvault.ErrPermissionDenied
	}
	sameSentinel(t, fmt.Sprintf("%s sets max_retention %v over %v", p, newMax, w.maxRet), err, want)
	if err == nil {
		w.maxRet = newMax
	}
}

// TestModel drives random sequences of lock decisions by random principals
// over a clock that advances, jumps and gets acknowledged, against a
// reference model, and checks that no protection is ever lost unlawfully.
func TestModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := &world{base: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), maxRet: wormvault.MaxRetentionPeriod}
		store := &memStore{}
		if rapid.Bool().Draw(t, "restart_after_downtime") {
			store.mark = w.base.Add(-time.Duration(rapid.Int64Range(0, 3600).Draw(t, "downtime_s")) * time.Second)
		}
		var err error
		w.clock, err = lock.NewClock(lock.ClockConfig{
			Store:   store,
			Wall:    func() time.Time { return w.base.Add(w.mono + w.wallOffset) },
			Elapsed: func() time.Duration { return w.mono },
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Repeat(map[string]func(*rapid.T){
			"upload":          w.upload,
			"setRetention":    w.setRetention,
			"placeHold":       w.placeHold,
			"releaseHold":     w.releaseHold,
			"delete":          w.deleteVersion,
			"setMaxRetention": w.setMaxRetention,
			"deleteMarker": func(t *rapid.T) {
				// Rule 9: always allowed; kept rarer than uploads so that most
				// versions can carry retention and holds.
				if rapid.IntRange(0, 3).Draw(t, "add_marker") == 0 {
					w.versions = append(w.versions, lock.Version{CreateTime: w.decide(t).Time, DeleteMarker: true})
				}
			},
			"advance": func(t *rapid.T) {
				w.mono += rapid.SampledFrom([]time.Duration{time.Second, 5 * time.Second, time.Minute, time.Hour, day, 30 * day, 400 * day}).Draw(t, "advance")
			},
			"jumpWall": func(t *rapid.T) {
				w.wallOffset += rapid.SampledFrom([]time.Duration{-day, -time.Hour, time.Minute, 4 * time.Minute, 6 * time.Minute, time.Hour, 30 * day, 2 * 365 * day}).Draw(t, "jump")
			},
			"tick": func(t *rapid.T) {
				if err := w.clock.Tick(); err != nil {
					t.Fatal(err)
				}
			},
			"acknowledge": func(t *rapid.T) {
				ack, err := w.clock.Acknowledge()
				if err != nil {
					t.Fatal(err)
				}
				w.accepted = max(w.accepted, ack.To.Sub(w.trueNow()))
				if now := w.decide(t); !now.Trusted {
					t.Fatalf("untrusted right after acknowledgement: %+v", now)
				}
			},
			"": func(t *rapid.T) {
				// Rule 15: the wall clock beyond skew of what the clock vouches
				// for is never trusted unless acknowledged.
				st := w.clock.Status()
				if st.State == lock.ClockTrusted && st.Wall.After(w.trueNow().Add(lock.DefaultClockSkew+w.accepted)) {
					t.Fatalf("trusted a wall clock %v ahead of true time %v (accepted %v)", st.Wall.Sub(w.trueNow()), w.trueNow(), w.accepted)
				}
			},
		})
	})
}
