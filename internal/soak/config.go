package soak

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Geometry of the soaked server: six drives, 4 data + 2 parity shards. A
// write needs k+1 = 5 drives, so one drive down is tolerated and two break
// the write quorum (reads still need only 4).
const (
	dataShards   = 4
	parityShards = 2
	drives       = dataShards + parityShards
	writeQuorum  = dataShards + 1
	// quorumLost is how many drives down make writes of shards fail.
	quorumLost = drives - writeQuorum + 1
	// inlineThreshold is the largest archive the server stores inline in
	// its catalog (its default, passed explicitly): those need no drive
	// quorum.
	inlineThreshold = 128 << 10
)

// Config configures a soak run. Start from DefaultConfig or ShortConfig.
type Config struct {
	// Clients is the number of concurrent workers, each with its own
	// connection.
	Clients int
	// Duration is how long the workers run; faults are placed within it.
	Duration time.Duration
	// MinUploadSize and MaxUploadSize bound upload sizes in bytes.
	MinUploadSize, MaxUploadSize int64
	// Faults is the fault schedule; the zero value injects none.
	Faults Faults
	// WorkDir holds the server's data and drives; empty means a new
	// temporary directory, removed at the end unless Keep.
	WorkDir string
	Keep    bool
	// ServerBinary is a built cmd/wormvault; empty builds one into WorkDir.
	ServerBinary string
	// Seed makes the workload's choices repeatable (not its timing).
	Seed uint64
	// Progress receives a line every ProgressEvery while the soak runs;
	// nil discards them.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// DefaultConfig is `make soak`: 32 clients for 120 s, uploads of 4 KiB to
// 64 MiB, every fault.
func DefaultConfig() Config {
	c := Config{
		Clients:       32,
		Duration:      120 * time.Second,
		MinUploadSize: 4 << 10,
		MaxUploadSize: 64 << 20,
		ProgressEvery: 10 * time.Second,
		Seed:          1,
	}
	c.Faults = DefaultFaults(c.Duration)
	return c
}

// ShortConfig is the variant `make test` runs: 8 clients for 20 s, uploads
// capped at 4 MiB so that it finishes quickly under the race detector, and
// every fault.
func ShortConfig() Config {
	c := DefaultConfig()
	c.Clients = 8
	c.Duration = 20 * time.Second
	c.MaxUploadSize = 4 << 20
	c.ProgressEvery = 5 * time.Second
	c.Faults = DefaultFaults(c.Duration)
	return c
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case c.Clients < 1:
		return errors.New("soak: Clients must be at least 1")
	case c.Duration <= 0:
		return errors.New("soak: Duration must be positive")
	case c.MinUploadSize < 1 || c.MaxUploadSize < c.MinUploadSize:
		return errors.New("soak: want 1 <= MinUploadSize <= MaxUploadSize")
	case c.MaxUploadSize > 1<<30:
		return errors.New("soak: MaxUploadSize is at most 1 GiB (the content pool is held in memory)")
	}
	return c.Faults.validate(c.Duration)
}

// Window is a fault that starts At after the soak starts and lasts For. The
// zero Window is no fault.
type Window struct {
	At, For time.Duration
}

// Enabled reports whether w is a fault at all.
func (w Window) Enabled() bool { return w.For > 0 }

// End is when the fault is repaired.
func (w Window) End() time.Duration { return w.At + w.For }

func (w Window) String() string {
	if !w.Enabled() {
		return "off"
	}
	return fmt.Sprintf("%s+%s", w.At, w.For)
}

// ParseWindow parses "off", or "AT+FOR" with Go durations ("30s+15s").
func ParseWindow(s string) (Window, error) {
	if s == "" || s == "off" {
		return Window{}, nil
	}
	at, length, ok := strings.Cut(s, "+")
	if !ok {
		return Window{}, fmt.Errorf("fault window %q: want AT+FOR, e.g. 30s+15s, or off", s)
	}
	a, err1 := time.ParseDuration(at)
	f, err2 := time.ParseDuration(length)
	if err := errors.Join(err1, err2); err != nil || a < 0 || f <= 0 {
		return Window{}, fmt.Errorf("fault window %q: want AT+FOR with AT >= 0 and FOR > 0, e.g. 30s+15s", s)
	}
	return Window{At: a, For: f}, nil
}

// ParseOffsets parses "off", or comma-separated durations ("90s,100s").
func ParseOffsets(s string) ([]time.Duration, error) {
	if s == "" || s == "off" {
		return nil, nil
	}
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("offsets %q: want comma-separated durations, e.g. 90s,100s, or off", s)
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return out, nil
}

// Faults is the fault schedule. The drive faults hit different drives, so
// Unwritable and Remove overlapping break the write quorum on purpose.
type Faults struct {
	// Unwritable makes drive 2 read-only: as root a read-only bind mount
	// over it (chmod does not stop root), otherwise chmod of its tmp/.
	Unwritable Window
	// Remove renames drive 3's directory away and back.
	Remove Window
	// ENOSPC mounts a full tmpfs over drive 4's tmp/, where shards are
	// written before they are renamed into place: new shards fail with
	// ENOSPC while the drive's data stays readable. It needs root; without
	// it the fault is skipped and the report says so.
	ENOSPC Window
	// Kill9 are the times the server is killed with SIGKILL and restarted
	// over the same data.
	Kill9 []time.Duration
}

// DefaultFaults places every fault within a run of length d: SIGKILL at
// 8%, drive 2 unwritable from 15% to 42%, drive 3 removed from 28% to 42%
// (the overlap loses the write quorum), drive 4 full from 50% to 65%. The
// restart comes first so that the heals after the drive faults, which read
// every archive and take a while under load, can finish before the end.
func DefaultFaults(d time.Duration) Faults {
	at := func(f float64) time.Duration { return time.Duration(f * float64(d)).Round(100 * time.Millisecond) }
	return Faults{
		Kill9:      []time.Duration{at(0.08)},
		Unwritable: Window{At: at(0.15), For: at(0.42) - at(0.15)},
		Remove:     Window{At: at(0.28), For: at(0.42) - at(0.28)},
		ENOSPC:     Window{At: at(0.50), For: at(0.65) - at(0.50)},
	}
}

func (f Faults) validate(d time.Duration) error {
	for _, k := range f.Kill9 {
		if k >= d {
			return fmt.Errorf("soak: SIGKILL at %s is not within the %s run", k, d)
		}
		// A server started with a drive missing takes the empty path for a
		// replaced disk: that is a different test from a drive coming back.
		for _, w := range []Window{f.Unwritable, f.Remove, f.ENOSPC} {
			if w.Enabled() && k >= w.At && k < w.End() {
				return fmt.Errorf("soak: SIGKILL at %s falls in the drive fault %s; restart with a drive fault is not part of this soak", k, w)
			}
		}
	}
	return nil
}
