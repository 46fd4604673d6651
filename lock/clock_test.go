package lock_test

import (
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/lock"
)

// memStore is a MarkStore in memory that can be told to fail.
type memStore struct {
	mu    sync.Mutex
	mark  time.Time
	saves int
	fail  error
}

func (s *memStore) LoadMark() (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mark, s.fail
}

func (s *memStore) SaveMark(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	if t.Before(s.mark) {
		panic("mark saved backwards")
	}
	s.mark, s.saves = t, s.saves+1
	return nil
}

func (s *memStore) get() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mark
}

// fakeWall is a wall clock that reads the bubble's time plus an offset the
// test moves: a system clock someone sets.
type fakeWall struct {
	mu     sync.Mutex
	offset time.Duration
}

func (w *fakeWall) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return time.Now().Add(w.offset)
}

func (w *fakeWall) jump(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.offset += d
}

func newClock(t *testing.T, store *memStore, wall *fakeWall) *lock.Clock {
	t.Helper()
	c, err := lock.NewClock(lock.ClockConfig{Store: store, Wall: wall.now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustDecide(t *testing.T, c *lock.Clock) lock.Now {
	t.Helper()
	now, err := c.Decide()
	if err != nil {
		t.Fatal(err)
	}
	return now
}

// Rule 14: a first start trusts the wall clock and persists it.
func TestClockFirstStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &memStore{}
		c := newClock(t, store, &fakeWall{})
		now := c.Now()
		if !now.Trusted || !now.Time.Equal(time.Now()) || !store.get().Equal(time.Now()) {
			t.Fatalf("first start: now %+v at %v, mark %v", now, time.Now(), store.get())
		}
		if st := c.Status(); st.State != lock.ClockTrusted || st.Reason != "" || st.Skew != lock.DefaultClockSkew {
			t.Fatalf("status %+v", st)
		}
	})
}

// Rule 14: setting the clock back neither extends nor shortens anything.
func TestClockNeverGoesBackwards(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, wall := &memStore{}, &fakeWall{}
		c := newClock(t, store, wall)
		start := time.Now()
		soon := lock.Version{Retention: comp(start.Add(5 * time.Second))}
		later := lock.Version{Retention: comp(start.Add(time.Hour))}

		time.Sleep(time.Second)
		n1 := mustDecide(t, c)
		wall.jump(-24 * time.Hour)
		n2 := mustDecide(t, c)
		if n2.Time.Before(n1.Time) || !n2.Trusted {
			t.Fatalf("clock went back: %+v then %+v", n1, n2)
		}
		time.Sleep(10 * time.Second)
		n3 := mustDecide(t, c)
		if !n3.Time.Equal(start.Add(11 * time.Second)) {
			t.Fatalf("after setting the clock back a day, now is %v, want %v", n3.Time, start.Add(11*time.Second))
		}
		check(t, lock.CheckDelete(n3, soon, noBypass), nil, "")
		check(t, lock.CheckDelete(n3, later, bypass), wormvault.ErrRetentionCompliance, "")
		if !store.get().Equal(n3.Time) {
			t.Fatalf("mark %v, want %v", store.get(), n3.Time)
		}
		// The wall clock set right again is trusted and used.
		wall.jump(24*time.Hour + 2*time.Minute)
		if n4 := c.Now(); !n4.Trusted || !n4.Time.Equal(time.Now().Add(2*time.Minute)) {
			t.Fatalf("wall clock within skew: %+v", n4)
		}
	})
}

// Rule 15: a forward jump while running makes the clock untrusted; the
// clock keeps vouched time; root acknowledges.
func TestClockForwardJumpWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, wall := &memStore{}, &fakeWall{}
		c := newClock(t, store, wall)
		start := time.Now()
		expiresSoon := lock.Version{Retention: comp(start.Add(time.Minute))}
		expired := lock.Version{Retention: comp(start.Add(-time.Minute))}

		time.Sleep(time.Second)
		wall.jump(10 * time.Minute)
		now := mustDecide(t, c)
		if now.Trusted || !now.Time.Equal(time.Now()) {
			t.Fatalf("after a 10 min jump: %+v, want untrusted at %v", now, time.Now())
		}
		check(t, lock.CheckDelete(now, expiresSoon, noBypass), wormvault.ErrRetentionCompliance, "")
		check(t, lock.CheckDelete(now, expired, noBypass), wormvault.ErrClockUntrusted, "")
		check(t, lock.CheckSetRetention(now, expiresSoon, comp(start.Add(time.Hour)), noBypass, 0), nil, "")
		check(t, lock.CheckDelete(now, lock.Version{}, noBypass), nil, "")

		st := c.Status()
		if st.State != lock.ClockUntrusted || st.Reason == "" || !st.Wall.Equal(time.Now().Add(10*time.Minute)) || !st.TrustedTime.Equal(time.Now()) || !st.Since.Equal(time.Now()) {
			t.Fatalf("status %+v", st)
		}
		// Setting the clock right is not enough: root must acknowledge.
		wall.jump(-10 * time.Minute)
		time.Sleep(time.Minute)
		if now := c.Now(); now.Trusted {
			t.Fatalf("trusted again without acknowledgement: %+v", now)
		}
		wall.jump(10 * time.Minute)

		ack, err := c.Acknowledge()
		if err != nil {
			t.Fatal(err)
		}
		if !ack.WasUntrusted || ack.Jump != 10*time.Minute || ack.Reason == "" || !ack.To.Equal(time.Now().Add(10*time.Minute)) {
			t.Fatalf("ack %+v", ack)
		}
		now = c.Now()
		if !now.Trusted || !now.Time.Equal(ack.To) || !store.get().Equal(ack.To) {
			t.Fatalf("after acknowledgement: %+v, mark %v", now, store.get())
		}
		check(t, lock.CheckDelete(now, expired, noBypass), nil, "")
		if st := c.Status(); st.State != lock.ClockTrusted || st.Reason != "" || !st.Since.Equal(ack.To) {
			t.Fatalf("status after ack %+v", st)
		}
	})
}

// Rule 15: many steps each within the skew add up and are caught.
func TestClockCreepingSteps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		wall := &fakeWall{}
		c := newClock(t, &memStore{}, wall)
		for i := range 3 {
			time.Sleep(5 * time.Second)
			wall.jump(3 * time.Minute)
			now := mustDecide(t, c)
			if wantTrusted := i < 1; now.Trusted != wantTrusted {
				t.Fatalf("after %d steps of 3 min: trusted=%v", i+1, now.Trusted)
			}
		}
	})
}

// Rule 15 at startup: the downtime cannot be verified.
func TestClockStartup(t *testing.T) {
	for _, tc := range []struct {
		name        string
		markAgo     time.Duration
		wantTrusted bool
		wantNow     time.Duration // relative to the wall clock
	}{
		{"quick restart", time.Minute, true, 0},
		{"within skew", lock.DefaultClockSkew, true, 0},
		{"long downtime", time.Hour, false, -time.Hour},
		{"clock set back while down", -time.Hour, true, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store := &memStore{mark: time.Now().Add(-tc.markAgo)}
				c := newClock(t, store, &fakeWall{})
				now := c.Now()
				if now.Trusted != tc.wantTrusted || !now.Time.Equal(time.Now().Add(tc.wantNow)) {
					t.Fatalf("got %+v, want trusted=%v at %v", now, tc.wantTrusted, time.Now().Add(tc.wantNow))
				}
				if tc.wantTrusted {
					return
				}
				// Untrusted, time still moves on at the monotonic pace.
				time.Sleep(time.Minute)
				if now := mustDecide(t, c); now.Trusted || !now.Time.Equal(time.Now().Add(tc.wantNow)) || !store.get().Equal(now.Time) {
					t.Fatalf("a minute later: %+v, mark %v", now, store.get())
				}
				ack, err := c.Acknowledge()
				if err != nil || ack.Jump != tc.markAgo {
					t.Fatalf("ack %+v, %v", ack, err)
				}
				if now := c.Now(); !now.Trusted || !now.Time.Equal(time.Now()) {
					t.Fatalf("after ack: %+v", now)
				}
			})
		})
	}
}

// Rule 14: Tick and Decide persist the mark; Now does not.
func TestClockPersists(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &memStore{}
		c := newClock(t, store, &fakeWall{})
		start := time.Now()
		time.Sleep(time.Second)
		c.Now()
		if !store.get().Equal(start) {
			t.Fatalf("Now persisted the mark")
		}
		done := make(chan struct{})
		defer close(done)
		go func() {
			tick := time.NewTicker(5 * time.Second)
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
					if err := c.Tick(); err != nil {
						t.Error(err)
					}
				case <-done:
					return
				}
			}
		}()
		time.Sleep(time.Minute)
		synctest.Wait()
		if want := time.Now(); !store.get().Equal(want) || store.saves != 13 {
			t.Fatalf("mark %v after ticking a minute (%d saves), want %v", store.get(), store.saves, want)
		}
		now := mustDecide(t, c)
		if !store.get().Equal(now.Time) {
			t.Fatalf("Decide did not persist: mark %v, now %v", store.get(), now.Time)
		}
	})
}

// The clock's store failing is an error, and acknowledging leaves the state.
func TestClockStoreErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		broken := errors.New("disk on fire")
		if _, err := lock.NewClock(lock.ClockConfig{Store: &memStore{fail: broken}}); !errors.Is(err, broken) {
			t.Fatalf("NewClock with a failing store: %v", err)
		}
		if _, err := lock.NewClock(lock.ClockConfig{}); err == nil {
			t.Fatal("NewClock without a store succeeded")
		}
		store := &memStore{mark: time.Now().Add(-time.Hour)}
		c := newClock(t, store, &fakeWall{})
		time.Sleep(time.Second)
		store.fail = broken
		if _, err := c.Decide(); !errors.Is(err, broken) {
			t.Fatalf("Decide: %v", err)
		}
		if err := c.Tick(); !errors.Is(err, broken) {
			t.Fatalf("Tick: %v", err)
		}
		if _, err := c.Acknowledge(); !errors.Is(err, broken) {
			t.Fatalf("Acknowledge: %v", err)
		}
		if c.Now().Trusted {
			t.Fatal("a failed acknowledgement trusted the clock")
		}
	})
}

// Rule 13a over time: a year of COMPLIANCE passes in an instant.
func TestRetentionExpiresWithTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClock(t, &memStore{}, &fakeWall{})
		now := mustDecide(t, c)
		ret, err := lock.ResolveRetention(now, now.Time, wormvault.Retention{}, wormvault.DefaultRetention{Mode: wormvault.RetentionCompliance, Days: 365}, 0)
		if err != nil {
			t.Fatal(err)
		}
		v := lock.Version{CreateTime: now.Time, Retention: ret}
		time.Sleep(365 * day)
		check(t, lock.CheckDelete(mustDecide(t, c), v, bypass), wormvault.ErrRetentionCompliance, "")
		time.Sleep(time.Nanosecond)
		check(t, lock.CheckDelete(mustDecide(t, c), v, noBypass), nil, "")
	})
}

// The clock is safe for concurrent use and never goes backwards for anyone.
func TestClockConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		wall := &fakeWall{}
		c := newClock(t, &memStore{}, wall)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				var last time.Time
				for i := range 50 {
					time.Sleep(time.Duration(g+1) * time.Millisecond)
					if g == 0 && i%10 == 0 {
						wall.jump(-time.Second)
					}
					now := mustDecide(t, c)
					if now.Time.Before(last) {
						t.Errorf("went back from %v to %v", last, now.Time)
					}
					last = now.Time
					_ = c.Status()
				}
			})
		}
		wg.Wait()
	})
}
