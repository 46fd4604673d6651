package servertest

import (
	"sync"
	"time"

	"github.com/wormvault/wormvault/server"
)

// Clock is a clock a test moves by hand. A TOTP code is accepted once per
// 30-second step, so a test that spends several moves to the next step
// (Advance) instead of waiting for it.
type Clock struct {
	mu      sync.Mutex
	wall    time.Time
	elapsed time.Duration
}

// NewClock returns a clock whose wall time starts at start.
func NewClock(start time.Time) *Clock { return &Clock{wall: start} }

// Wall is the clock's wall time.
func (c *Clock) Wall() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall
}

// Elapsed is the clock's monotonic time since it started.
func (c *Clock) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.elapsed
}

// Advance moves both clocks forward by d, as time passing does.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wall, c.elapsed = c.wall.Add(d), c.elapsed+d
}

// SetWall moves the wall clock alone, as an attacker or a broken NTP
// would; the monotonic clock does not move.
func (c *Clock) SetWall(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wall = t
}

// WithClock makes the server read c instead of the system clocks.
func WithClock(c *Clock) Option {
	return func(cfg *server.Config) { cfg.Vault.Wall, cfg.Vault.Elapsed = c.Wall, c.Elapsed }
}
