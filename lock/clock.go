package lock

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultClockSkew is how far the wall clock may run ahead of the time the
// Clock can vouch for before the Clock stops trusting it.
const DefaultClockSkew = 5 * time.Minute

// MarkStore persists the clock's high-water mark. LoadMark returns the zero
// time when no mark was ever saved. The vault implements it on its catalog.
type MarkStore interface {
	LoadMark() (time.Time, error)
	SaveMark(time.Time) error
}

// ClockConfig configures a Clock. Only Store is required.
type ClockConfig struct {
	// Store persists the high-water mark.
	Store MarkStore
	// Wall reads the wall clock. Nil means time.Now. Any monotonic reading is
	// stripped: the wall clock is what an attacker can move.
	Wall func() time.Time
	// Elapsed reads a monotonic clock: the time elapsed since some fixed
	// instant, which only moves forward at the pace of real time. Nil means
	// time.Since of the instant NewClock ran, which Go measures on the
	// monotonic clock.
	Elapsed func() time.Duration
	// Skew is how far the wall clock may run ahead of the time the Clock can
	// vouch for. Zero means DefaultClockSkew.
	Skew time.Duration
}

// ClockState says whether the Clock trusts the wall clock.
type ClockState int

const (
	// ClockTrusted: decisions that depend on an expiry are allowed.
	ClockTrusted ClockState = iota + 1
	// ClockUntrusted: the wall clock jumped forward; decisions that depend on
	// an expiry are refused until root acknowledges the clock.
	ClockUntrusted
)

func (s ClockState) String() string {
	switch s {
	case ClockTrusted:
		return "TRUSTED"
	case ClockUntrusted:
		return "UNTRUSTED"
	}
	return fmt.Sprintf("ClockState(%d)", int(s))
}

// ClockStatus is what GetClockStatus reports.
type ClockStatus struct {
	State ClockState
	// Wall is the wall clock now; TrustedTime is the time decisions are taken
	// at (see Clock.Now); Mark is the last persisted high-water mark.
	Wall, TrustedTime, Mark time.Time
	// Reason says why the clock is untrusted; empty while trusted.
	Reason string
	// Since is the trusted time at which the clock entered State.
	Since time.Time
	// Skew is the allowed skew.
	Skew time.Duration
}

// ClockAck records a root acknowledgement of the clock, for the audit trail.
type ClockAck struct {
	// WasUntrusted and Reason describe the state before.
	WasUntrusted bool
	Reason       string
	// From is the trusted time just before; To the time decisions are taken
	// at from now on (the wall clock, unless it is behind the mark); Jump is
	// To - From, the time root accepted.
	From, To time.Time
	Jump     time.Duration
}

// Clock is the trusted clock (rules 14, 15). It never goes backwards: it
// returns the latest of the wall clock, the persisted high-water mark and the
// time it can vouch for by the monotonic clock, and the mark is saved by Tick
// (every few seconds) and Decide (every retention decision). So setting the
// system clock back neither extends nor shortens anything.
//
// A forward jump is the attack: it would make retentions expire early. The
// Clock anchors a trusted instant to a monotonic reading (at startup and at
// each acknowledgement) and vouches for anchor + monotonic elapsed. When the
// wall clock runs ahead of that by more than the skew, the Clock becomes
// untrusted: it keeps running on the vouched time, which is never ahead of real
// time, and reports Trusted = false, so decisions that depend on an expiry are
// refused until root calls Acknowledge. The wall clock's lead is measured
// against the anchor, not the last reading, so many small steps add up.
//
// At startup the downtime cannot be measured: the persisted mark is the
// anchor, and a wall clock ahead of it by more than the skew makes the Clock
// start untrusted. A restart after a downtime longer than the skew (or a host
// suspend: the monotonic clock stops) therefore needs root to acknowledge the
// clock; that is the price of not trusting an unverifiable jump.
//
// A Clock is safe for concurrent use.
type Clock struct {
	store   MarkStore
	wall    func() time.Time
	elapsed func() time.Duration
	skew    time.Duration

	mu         sync.Mutex
	anchor     time.Time     // a trusted instant ...
	anchorMono time.Duration // ... and the monotonic reading at it
	high       time.Time     // the latest time returned (in-memory mark)
	saved      time.Time     // the last mark persisted
	trusted    bool
	reason     string
	since      time.Time
}

// NewClock loads the persisted mark and decides whether the wall clock can be
// trusted at startup. On a first start (no mark) it is trusted and the mark
// saved.
func NewClock(cfg ClockConfig) (*Clock, error) {
	if cfg.Store == nil {
		return nil, errors.New("lock.NewClock: no MarkStore")
	}
	c := &Clock{store: cfg.Store, wall: cfg.Wall, elapsed: cfg.Elapsed, skew: cfg.Skew}
	if c.wall == nil {
		c.wall = time.Now
	}
	if c.elapsed == nil {
		start := time.Now()
		c.elapsed = func() time.Duration { return time.Since(start) }
	}
	if c.skew <= 0 {
		c.skew = DefaultClockSkew
	}
	mark, err := c.store.LoadMark()
	if err != nil {
		return nil, fmt.Errorf("lock.NewClock: loading the clock mark: %w", err)
	}
	mark = mark.Round(0)
	wall, mono := c.wall().Round(0), c.elapsed()
	c.saved, c.anchorMono = mark, mono
	switch {
	case mark.IsZero():
		c.anchor, c.trusted = wall, true
	case wall.After(mark.Add(c.skew)):
		c.anchor = mark
		c.reason = fmt.Sprintf("at startup the wall clock %s is %s ahead of the persisted mark %s (allowed skew %s); the downtime cannot be verified",
			stamp(wall), wall.Sub(mark), stamp(mark), c.skew)
	default:
		c.anchor, c.trusted = later(wall, mark), true
	}
	c.high, c.since = c.anchor, c.anchor
	if err := c.persist(); err != nil {
		return nil, fmt.Errorf("lock.NewClock: %w", err)
	}
	return c, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// observe reads both clocks, detects a forward jump, and returns the time
// decisions are taken at, which never goes backwards. c.mu is held.
func (c *Clock) observe() (now Now, wall time.Time) {
	wall = c.wall().Round(0)
	vouched := c.anchor.Add(c.elapsed() - c.anchorMono)
	if c.trusted && wall.After(vouched.Add(c.skew)) {
		c.trusted = false
		c.since = later(vouched, c.high)
		c.reason = fmt.Sprintf("the wall clock %s ran %s ahead of the %s that elapsed since %s (allowed skew %s)",
			stamp(wall), wall.Sub(vouched), vouched.Sub(c.anchor), stamp(c.anchor), c.skew)
	}
	t := vouched
	if c.trusted {
		t = later(wall, vouched)
	}
	c.high = later(t, c.high)
	return Now{Time: c.high, Trusted: c.trusted}, wall
}

// persist saves the in-memory mark if it moved. c.mu is held.
func (c *Clock) persist() error {
	if !c.high.After(c.saved) {
		return nil
	}
	if err := c.store.SaveMark(c.high); err != nil {
		return fmt.Errorf("saving the clock mark: %w", err)
	}
	c.saved = c.high
	return nil
}

// Now returns the time decisions are taken at and whether it is trusted,
// without persisting it. Use Decide for a retention decision.
func (c *Clock) Now() Now {
	c.mu.Lock()
	defer c.mu.Unlock()
	now, _ := c.observe()
	return now
}

// Decide returns the time a retention decision is taken at, after persisting
// it as the high-water mark. On error the decision must not be taken.
func (c *Clock) Decide() (Now, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now, _ := c.observe()
	if err := c.persist(); err != nil {
		return Now{}, fmt.Errorf("lock.Clock.Decide: %w", err)
	}
	return now, nil
}

// Tick checks the clocks and persists the mark. The server calls it every
// few seconds.
func (c *Clock) Tick() error {
	_, err := c.Decide()
	return err
}

// Status reports the clock's state (GetClockStatus).
func (c *Clock) Status() ClockStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	now, wall := c.observe()
	st := ClockStatus{State: ClockTrusted, Wall: wall, TrustedTime: now.Time, Mark: c.saved, Reason: c.reason, Since: c.since, Skew: c.skew}
	if !now.Trusted {
		st.State = ClockUntrusted
	}
	return st
}

// Acknowledge is root accepting the wall clock as it reads now
// (AcknowledgeClock): the Clock trusts it again, anchored at the wall clock
// (or at the mark, if the wall clock is behind it), and persists that as the
// mark. The caller audits the returned ClockAck. On error nothing changes.
func (c *Clock) Acknowledge() (ClockAck, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	before, wall := c.observe()
	mono := c.elapsed()
	to := later(wall, before.Time)
	if to.After(c.saved) {
		if err := c.store.SaveMark(to); err != nil {
			return ClockAck{}, fmt.Errorf("lock.Clock.Acknowledge: saving the clock mark: %w", err)
		}
		c.saved = to
	}
	ack := ClockAck{WasUntrusted: !before.Trusted, Reason: c.reason, From: before.Time, To: to, Jump: to.Sub(before.Time)}
	c.anchor, c.anchorMono, c.high = to, mono, to
	c.trusted, c.reason, c.since = true, "", to
	return ack, nil
}
