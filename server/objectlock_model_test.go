package server_test

// A property test of the Object Lock rules through the real server: random
// sequences of uploads, retention and legal-hold changes, deletes, clock
// advances, forward jumps, setbacks and acknowledgements, by root, an officer
// allowed to bypass GOVERNANCE and a clerk who is not, checked after every
// step against a reference model of
// the versions, and against the WORM invariant itself, stated on what the
// server reports before and after the step: no version under active
// COMPLIANCE or a standing legal hold is ever removed or has its protection
// reduced, every reduction of active GOVERNANCE used bypass, and nothing
// expires by an untrusted clock.
//
// One server serves the whole test; each rapid iteration works in a fresh
// vault, and the fake clock only ever moves on.

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"pgregory.net/rapid"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// mVer is one version, as the model expects it or as the server reports it.
type mVer struct {
	id, key     string
	seq         int // creation order within the model
	marker      bool
	mode        wormvaultv1.RetentionMode // 0: no retention
	until       time.Time
	fromDefault bool
	holds       []string
	latest      bool // as observed
}

func (v *mVer) String() string {
	if v == nil {
		return "<none>"
	}
	if v.marker {
		return fmt.Sprintf("%s/%s marker", v.key, v.id)
	}
	return fmt.Sprintf("%s/%s %v until %s default=%v holds=%q", v.key, v.id, v.mode, v.until.Format(time.RFC3339Nano), v.fromDefault, v.holds)
}

// outcome is what a call should do: OK, or fail with code and reason.
type outcome struct {
	code   codes.Code
	reason string
}

var allowed = outcome{code: codes.OK}

func refusal(code codes.Code, reason string) outcome { return outcome{code, reason} }

// lockModel is the reference model of one vault.
type lockModel struct {
	c *conn
	// users are the principals the steps run as: root, an officer allowed
	// to bypass GOVERNANCE retention, and a clerk who is not.
	users   map[string]*conn
	fc      *fakeClock
	vault   string
	def     *wormvaultv1.DefaultRetention
	vers    map[string]*mVer
	gone    []*mVer // permanently deleted, as stale targets
	seq     int
	now     time.Time // the trusted time before the current step
	trusted bool
}

var modelKeys = []string{"k0", "k1", "k2"}

func (m *lockModel) latestOf(key string) *mVer {
	var l *mVer
	for _, v := range m.vers {
		if v.key == key && (l == nil || v.seq > l.seq) {
			l = v
		}
	}
	return l
}

// readClock records the trusted time decisions will be taken at: the fake
// clock does not move within a step.
func (m *lockModel) readClock(t *rapid.T) {
	st, err := m.c.admin.GetClockStatus(m.c.ctx(), &wormvaultv1.GetClockStatusRequest{})
	if err != nil {
		t.Fatalf("GetClockStatus: %v", err)
	}
	m.now, m.trusted = st.GetTrustedTime().AsTime(), st.GetState() == wormvaultv1.ClockState_CLOCK_STATE_TRUSTED
}

// observe lists every version the server holds in the vault.
func (m *lockModel) observe(t *rapid.T) map[string]*mVer {
	l, err := m.c.archives.ListArchives(m.c.ctx(), &wormvaultv1.ListArchivesRequest{Vault: m.vault, AllVersions: true, PageSize: 1000})
	if err != nil {
		t.Fatalf("ListArchives: %v", err)
	}
	if l.GetNextPageToken() != "" {
		t.Fatalf("more than 1000 versions")
	}
	out := map[string]*mVer{}
	for _, a := range l.GetArchives() {
		v := &mVer{id: a.GetVersionId(), key: a.GetKey(), marker: a.GetDeleteMarker(), latest: a.GetIsLatest(), holds: []string{}}
		if r := a.GetRetention(); r != nil {
			v.mode, v.until, v.fromDefault = r.GetMode(), r.GetRetainUntilTime().AsTime(), r.GetFromDefault()
		}
		for _, h := range a.GetLegalHolds() {
			v.holds = append(v.holds, h.GetHoldId())
		}
		if a.GetLegalHold() != (len(v.holds) > 0) {
			t.Fatalf("version %s: legal_hold=%v with holds %q", v.id, a.GetLegalHold(), v.holds)
		}
		out[v.id] = v
	}
	return out
}

// compare fails when what the server holds differs from the model.
func (m *lockModel) compare(t *rapid.T, obs map[string]*mVer) {
	for id, want := range m.vers {
		got := obs[id]
		if got == nil {
			t.Fatalf("version %v is gone from the server", want)
		}
		if got.key != want.key || got.marker != want.marker || got.mode != want.mode || !got.until.Equal(want.until) ||
			got.fromDefault != want.fromDefault || !slices.Equal(got.holds, want.holds) {
			t.Fatalf("server holds %v, model %v", got, want)
		}
		if isLatest := m.latestOf(want.key) == want; got.latest != isLatest {
			t.Fatalf("version %v: is_latest=%v, model says %v", got, got.latest, isLatest)
		}
	}
	for id, got := range obs {
		if m.vers[id] == nil {
			t.Fatalf("server holds %v, unknown to the model", got)
		}
	}
}

// step is one call: what it targets, for the invariant.
type step struct {
	name     string
	target   string // resolved version id, "" for none
	bypass   bool
	release  string // hold id a SetLegalHold(off) releases
	creates  bool   // may add one version
	clockOp  bool
	expected outcome
}

// run performs call, checks its outcome against the model's prediction, lets
// apply update the model on success, and checks the model and the invariant.
func (m *lockModel) run(t *rapid.T, s step, call func() error, apply func()) {
	before := m.observe(t)
	err := call()
	code, reason, _ := statusOf(err)
	if code != s.expected.code || (s.expected.reason != "" && reason != s.expected.reason) {
		t.Fatalf("%s on %s at %s (trusted=%v): got %v %s (%v), model expects %v %s", s.name, m.vers[s.target], m.now.Format(time.RFC3339Nano), m.trusted, code, reason, err, s.expected.code, s.expected.reason)
	}
	if err == nil && apply != nil {
		apply()
	}
	after := m.observe(t)
	m.compare(t, after)
	checkWORM(t, s, before, after, m.now, m.trusted)
}

// checkWORM is the invariant, on observations alone.
func checkWORM(t *rapid.T, s step, before, after map[string]*mVer, now time.Time, trusted bool) {
	added := 0
	for id := range after {
		if before[id] == nil {
			added++
		}
	}
	if added > 1 || (added == 1 && !s.creates) {
		t.Fatalf("%s added %d versions", s.name, added)
	}
	for id, b := range before {
		a := after[id]
		if a != nil && (a.key != b.key || a.marker != b.marker) {
			t.Fatalf("%s changed the identity of %v to %v", s.name, b, a)
		}
		if b.marker {
			continue
		}
		if a == nil && len(b.holds) > 0 {
			t.Fatalf("%s removed %v under legal hold", s.name, b)
		}
		if a != nil {
			for _, h := range b.holds {
				if !slices.Contains(a.holds, h) && (id != s.target || s.release != h) {
					t.Fatalf("%s released hold %q of %v", s.name, h, b)
				}
			}
		}
		if b.mode == 0 || (a != nil && a.mode == b.mode && !a.until.Before(b.until)) {
			continue // no retention, or not reduced
		}
		if s.clockOp {
			t.Fatalf("a clock change altered %v into %v", b, a)
		}
		active := !now.After(b.until)
		switch {
		case b.mode == comp && active:
			t.Fatalf("%s reduced active COMPLIANCE %v to %v", s.name, b, a)
		case b.mode == gov && active && !s.bypass:
			t.Fatalf("%s reduced active GOVERNANCE %v to %v without bypass", s.name, b, a)
		case !trusted && !(b.mode == gov && s.bypass):
			t.Fatalf("%s reduced %v to %v on an untrusted clock", s.name, b, a)
		}
	}
}

// The rules, restated for the model from the issue (not from package lock).

func (m *lockModel) validNew(mode wormvaultv1.RetentionMode, until time.Time) bool {
	return mode != 0 && until.After(m.now) && !until.After(m.now.AddDate(100, 0, 0))
}

func (m *lockModel) predictSetRetention(v *mVer, mode wormvaultv1.RetentionMode, until time.Time, bypass bool) outcome {
	switch {
	case v.marker:
		return refusal(codes.InvalidArgument, "INVALID_ARGUMENT")
	case mode != 0 && !m.validNew(mode, until):
		return refusal(codes.InvalidArgument, "INVALID_ARGUMENT")
	case v.mode == 0, mode == v.mode && !until.Before(v.until):
		return allowed // nothing to protect, or an extension
	}
	return m.predictLifted(v, bypass)
}

func (m *lockModel) predictDelete(v *mVer, bypass bool) outcome {
	switch {
	case v.marker:
		return allowed
	case len(v.holds) > 0:
		return refusal(codes.PermissionDenied, "LEGAL_HOLD_ACTIVE")
	case v.mode == 0:
		return allowed
	}
	return m.predictLifted(v, bypass)
}

// predictLifted decides whether v's retention stops standing in the way.
func (m *lockModel) predictLifted(v *mVer, bypass bool) outcome {
	switch {
	case v.mode == gov && bypass:
		return allowed
	case !m.now.After(v.until) && v.mode == gov:
		return refusal(codes.PermissionDenied, "RETENTION_GOVERNANCE_ACTIVE")
	case !m.now.After(v.until):
		return refusal(codes.PermissionDenied, "RETENTION_COMPLIANCE_ACTIVE")
	case !m.trusted:
		return refusal(codes.FailedPrecondition, "CLOCK_UNTRUSTED")
	}
	return allowed
}

// Drawing.

func drawMode(t *rapid.T, label string) wormvaultv1.RetentionMode {
	return rapid.SampledFrom([]wormvaultv1.RetentionMode{0, gov, comp}).Draw(t, label)
}

// drawUntil draws a retain-until around now or around old's.
func (m *lockModel) drawUntil(t *rapid.T, old *mVer) time.Time {
	if old != nil && old.mode != 0 && rapid.Bool().Draw(t, "near the old retain-until") {
		return old.until.Add(rapid.SampledFrom([]time.Duration{-time.Hour, -time.Nanosecond, 0, time.Nanosecond, time.Hour}).Draw(t, "offset"))
	}
	return m.now.Add(rapid.SampledFrom([]time.Duration{-time.Hour, 0, time.Nanosecond, time.Second, time.Hour, day, 30 * day, 2 * 365 * day, 101 * 365 * day}).Draw(t, "offset"))
}

// drawTarget picks a version by id (possibly a delete marker or a deleted
// one) or the latest of a key; v is nil when none exists.
func (m *lockModel) drawTarget(t *rapid.T, latestAllowed bool) (key, vid string, v *mVer) {
	ids := make([]string, 0, len(m.vers))
	for id := range m.vers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	choice := rapid.IntRange(0, 9).Draw(t, "target kind")
	switch {
	case choice <= 6 && len(ids) > 0:
		v = m.vers[rapid.SampledFrom(ids).Draw(t, "version")]
		return v.key, v.id, v
	case choice == 9 && len(m.gone) > 0:
		g := rapid.SampledFrom(m.gone).Draw(t, "deleted version")
		return g.key, g.id, nil
	case latestAllowed:
		key = rapid.SampledFrom(modelKeys).Draw(t, "key")
		return key, "", m.latestOf(key)
	}
	if len(ids) == 0 {
		return "k0", "01890a5d-ac96-774b-bcce-b302099a8057", nil
	}
	v = m.vers[rapid.SampledFrom(ids).Draw(t, "version")]
	return v.key, v.id, v
}

// missing is the refusal for a target that does not exist.
func missing(vid string) outcome {
	if vid == "" {
		return refusal(codes.NotFound, "ARCHIVE_NOT_FOUND")
	}
	return refusal(codes.NotFound, "VERSION_NOT_FOUND")
}

func (m *lockModel) add(v *mVer) {
	m.seq++
	v.seq = m.seq
	if v.holds == nil {
		v.holds = []string{}
	}
	m.vers[v.id] = v
}

// Actions.

func (m *lockModel) upload(t *rapid.T) {
	key := rapid.SampledFrom(modelKeys).Draw(t, "key")
	mode := drawMode(t, "mode")
	hold := rapid.Bool().Draw(t, "legal_hold")
	var r *wormvaultv1.Retention
	want := allowed
	if mode != 0 {
		r = retention(mode, m.drawUntil(t, nil))
		if !m.validNew(mode, r.GetRetainUntilTime().AsTime()) {
			want = refusal(codes.InvalidArgument, "INVALID_ARGUMENT")
		}
	}
	var a *wormvaultv1.Archive
	m.run(t, step{name: "upload", creates: true, expected: want}, func() (err error) {
		a, err = m.c.upload(&wormvaultv1.ArchiveHeader{Vault: m.vault, Key: key, Retention: r, LegalHold: hold}, bytes.NewReader([]byte(key)), 1<<20)
		return err
	}, func() {
		if !a.GetCreateTime().AsTime().Equal(m.now) {
			t.Fatalf("create_time %s, trusted time %s", a.GetCreateTime().AsTime(), m.now)
		}
		v := &mVer{id: a.GetVersionId(), key: key}
		switch {
		case r != nil:
			v.mode, v.until = r.GetMode(), r.GetRetainUntilTime().AsTime()
		case m.def != nil:
			v.mode, v.until, v.fromDefault = m.def.GetMode(), m.now.AddDate(0, 0, int(m.def.GetDays())), true
		}
		if hold {
			v.holds = []string{"default"}
		}
		m.add(v)
	})
}

func (m *lockModel) setRetention(t *rapid.T) {
	key, vid, v := m.drawTarget(t, true)
	mode := drawMode(t, "mode")
	var r *wormvaultv1.Retention
	var until time.Time
	if mode != 0 {
		until = m.drawUntil(t, v)
		r = retention(mode, until)
	}
	bypass := rapid.Bool().Draw(t, "bypass")
	who, c := m.drawUser(t)
	// The bypass counts only when asked for AND allowed.
	granted := bypass && who != "clerk"
	want := missing(vid)
	if v != nil {
		want = m.predictSetRetention(v, mode, until, granted)
	}
	m.run(t, step{name: fmt.Sprintf("%s: SetRetention(%v until %s, bypass %v)", who, mode, until.Format(time.RFC3339Nano), bypass), target: v.idOrEmpty(), bypass: granted, expected: want}, func() error {
		_, err := c.setRetention(m.vault, key, vid, r, bypass)
		return err
	}, func() {
		v.mode, v.until, v.fromDefault = mode, until, false
	})
}

// drawUser picks who runs a step.
func (m *lockModel) drawUser(t *rapid.T) (string, *conn) {
	who := rapid.SampledFrom([]string{"root", "officer", "clerk"}).Draw(t, "principal")
	return who, m.users[who]
}

// modelUsers creates the officer and the clerk on a fresh server.
func modelUsers(t *testing.T, c *conn) map[string]*conn {
	const officer = `{"statements":[{"sid":"officer","effect":"ALLOW","principals":["officer"],"actions":["wormvault:*"],"resources":["*"]}]}`
	// Not "wormvault:*Retention": that glob also matches
	// wormvault:BypassGovernanceRetention (this test found exactly that).
	const clerk = `{"statements":[{"sid":"clerk","effect":"ALLOW","principals":["clerk"],"actions":["wormvault:*Archive*","wormvault:SetRetention","wormvault:GetRetention","wormvault:*LegalHold","wormvault:ExplainProtection","wormvault:GetVault"],"resources":["*"]}]}`
	return map[string]*conn{"root": c, "officer": newPrincipal(t, c, "officer", officer), "clerk": newPrincipal(t, c, "clerk", clerk)}
}

func (v *mVer) idOrEmpty() string {
	if v == nil {
		return ""
	}
	return v.id
}

func (m *lockModel) setLegalHold(t *rapid.T) {
	key, vid, v := m.drawTarget(t, true)
	on := rapid.Bool().Draw(t, "on")
	id := rapid.SampledFrom([]string{"", "default", "case-1", "case-2"}).Draw(t, "hold_id")
	name := id
	if name == "" {
		name = "default"
	}
	want := missing(vid)
	switch {
	case v == nil:
	case v.marker:
		want = refusal(codes.InvalidArgument, "INVALID_ARGUMENT")
	case !on && !slices.Contains(v.holds, name):
		want = refusal(codes.NotFound, "NO_LEGAL_HOLD")
	default:
		want = allowed
	}
	s := step{name: fmt.Sprintf("SetLegalHold(%q, %v)", id, on), target: v.idOrEmpty(), expected: want}
	if !on {
		s.release = name
	}
	who, c := m.drawUser(t)
	s.name = who + ": " + s.name
	m.run(t, s, func() error {
		_, err := c.setHold(m.vault, key, vid, on, id, "")
		return err
	}, func() {
		if on {
			if !slices.Contains(v.holds, name) {
				v.holds = append(v.holds, name)
			}
			return
		}
		v.holds = slices.DeleteFunc(v.holds, func(h string) bool { return h == name })
	})
}

func (m *lockModel) deleteMarker(t *rapid.T) {
	key := rapid.SampledFrom(modelKeys).Draw(t, "key")
	var resp *wormvaultv1.DeleteArchiveResponse
	m.run(t, step{name: "DeleteArchive(no version)", creates: true, expected: allowed}, func() (err error) {
		_, c := m.drawUser(t)
		resp, err = c.deleteArchive(m.vault, key, "", rapid.Bool().Draw(t, "bypass"))
		return err
	}, func() {
		if !resp.GetDeleteMarker() {
			t.Fatalf("DeleteArchive without version: %v", resp)
		}
		m.add(&mVer{id: resp.GetVersionId(), key: key, marker: true})
	})
}

func (m *lockModel) deleteVersion(t *rapid.T) {
	key, vid, v := m.drawTarget(t, false)
	bypass := rapid.Bool().Draw(t, "bypass")
	who, c := m.drawUser(t)
	granted := bypass && who != "clerk"
	want := missing(vid)
	if v != nil {
		want = m.predictDelete(v, granted)
	}
	m.run(t, step{name: fmt.Sprintf("%s: DeleteArchive(version, bypass %v)", who, bypass), target: v.idOrEmpty(), bypass: granted, expected: want}, func() error {
		_, err := c.deleteArchive(m.vault, key, vid, bypass)
		return err
	}, func() {
		delete(m.vers, v.id)
		m.gone = append(m.gone, v)
	})
}

// explain checks ExplainProtection's deletable against the model.
func (m *lockModel) explain(t *rapid.T) {
	if len(m.vers) == 0 {
		t.Skip("no versions")
	}
	key, vid, v := m.drawTarget(t, false)
	if v == nil {
		t.Skip("no such version")
	}
	e, err := m.c.archives.ExplainProtection(m.c.ctx(), &wormvaultv1.ExplainProtectionRequest{Vault: m.vault, Key: key, VersionId: vid})
	if err != nil {
		t.Fatalf("ExplainProtection %v: %v", v, err)
	}
	if want := m.predictDelete(v, false) == allowed; e.GetDeletable() != want || (len(e.GetProtections()) == 0) != want {
		t.Fatalf("ExplainProtection %v at %s (trusted=%v): %v, model says deletable=%v", v, m.now, m.trusted, e, want)
	}
}

// clock changes the fake clock; no version may change.
func (m *lockModel) clock(t *rapid.T, name string, change func()) {
	m.run(t, step{name: name, clockOp: true, expected: allowed}, func() error { change(); return nil }, nil)
}

func (m *lockModel) actions() map[string]func(*rapid.T) {
	wrap := func(f func(*rapid.T)) func(*rapid.T) {
		return func(t *rapid.T) { m.readClock(t); f(t) }
	}
	return map[string]func(*rapid.T){
		"upload":        wrap(m.upload),
		"setRetention":  wrap(m.setRetention),
		"setLegalHold":  wrap(m.setLegalHold),
		"deleteMarker":  wrap(m.deleteMarker),
		"deleteVersion": wrap(m.deleteVersion),
		"explain":       wrap(m.explain),
		"advance": wrap(func(t *rapid.T) {
			d := rapid.SampledFrom([]time.Duration{time.Nanosecond, time.Second, time.Hour, day, 30 * day, 400 * day}).Draw(t, "advance")
			m.clock(t, "advance "+d.String(), func() { m.fc.advance(d) })
		}),
		"advanceToRetainUntil": wrap(func(t *rapid.T) {
			var untils []time.Time
			for _, v := range m.vers {
				if v.mode != 0 && !v.until.Before(m.now) {
					untils = append(untils, v.until)
				}
			}
			if len(untils) == 0 {
				t.Skip("no retention ahead")
			}
			slices.SortFunc(untils, time.Time.Compare)
			to := rapid.SampledFrom(untils).Draw(t, "retain-until").Add(rapid.SampledFrom([]time.Duration{0, time.Nanosecond}).Draw(t, "past it"))
			m.clock(t, "advance to "+to.Format(time.RFC3339Nano), func() { m.fc.advance(to.Sub(m.now)) })
		}),
		"jumpWallForward": wrap(func(t *rapid.T) {
			m.clock(t, "wall clock +1y", func() { m.fc.setWall(m.fc.now().AddDate(1, 0, 0)) })
		}),
		"setWallBack": wrap(func(t *rapid.T) {
			m.clock(t, "wall clock -30d", func() { m.fc.setWall(m.fc.now().Add(-30 * day)) })
		}),
		"acknowledgeClock": wrap(func(t *rapid.T) {
			m.clock(t, "AcknowledgeClock", func() {
				if _, err := m.c.admin.AcknowledgeClock(m.c.ctx(), &wormvaultv1.AcknowledgeClockRequest{}); err != nil {
					t.Fatalf("AcknowledgeClock: %v", err)
				}
			})
		}),
	}
}

// setRapidChecks runs n rapid checks unless -rapid.checks or RAPID_CHECKS
// asks for another number: every check drives a real server.
func setRapidChecks(t *testing.T, n int) {
	if _, ok := os.LookupEnv("RAPID_CHECKS"); ok {
		return
	}
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "rapid.checks" })
	f := flag.Lookup("rapid.checks")
	if explicit || f == nil {
		return
	}
	old := f.Value.String()
	f.Value.Set(strconv.Itoa(n))
	t.Cleanup(func() { f.Value.Set(old) })
}

func TestModelObjectLock(t *testing.T) {
	checks := 25
	if testing.Short() {
		checks = 8
	}
	setRapidChecks(t, checks)
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	users := modelUsers(t, c)
	iteration := 0
	rapid.Check(t, func(rt *rapid.T) {
		iteration++
		// The catalog stores times as int64 Unix nanoseconds, which end in
		// 2262: start over well before retentions could reach it.
		if fc.now().After(t0.AddDate(50, 0, 0)) {
			s.Stop()
			fc = newFakeClock()
			s, c = startWithClock(t, fc)
			users = modelUsers(t, c)
		}
		m := &lockModel{c: c, users: users, fc: fc, vault: fmt.Sprintf("model-%d", iteration), vers: map[string]*mVer{}}
		m.def = rapid.SampledFrom([]*wormvaultv1.DefaultRetention{nil, {Mode: gov, Days: 1}, {Mode: comp, Days: 1}}).Draw(rt, "default retention")
		if _, err := c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: m.vault, DefaultRetention: m.def}); err != nil {
			rt.Fatalf("CreateVault: %v", err)
		}
		rt.Repeat(m.actions())
	})
}
