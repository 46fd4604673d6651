package vault

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"
)

// Config configures a Store. The zero value is not valid; start from
// DefaultConfig.
type Config struct {
	// DataDir holds meta/ (the catalog), root.credentials and, unless Drives
	// is set, drives/d1..dN.
	DataDir string
	// Drives are the directories that hold shard files, one per shard. Empty
	// means DataShards+ParityShards directories under DataDir/drives.
	Drives []string
	// DataShards and ParityShards are the erasure geometry (default 4+2).
	DataShards, ParityShards int
	// BlockSize is the erasure stripe size in bytes (default 1 MiB).
	BlockSize int
	// InlineThreshold is the largest archive stored inline in the catalog
	// and the replicated journal instead of as shard files (0 disables).
	// Small archives then cost one group-committed journal write instead
	// of k+m files and fsyncs, and survive drive loss like shards do.
	InlineThreshold int
	// OrphanGrace is how old an uncommitted shard must be before the
	// background sweep removes it. The startup sweep, which runs before any
	// upload can be in flight, removes orphans of any age.
	OrphanGrace time.Duration
	// MaxClockSkew is how far the wall clock may run ahead of the trusted
	// clock's expectation before the server stops trusting it (default 5m).
	MaxClockSkew time.Duration
	// Wall and Elapsed replace the wall and monotonic clocks in tests; nil
	// means the real ones (see lock.ClockConfig).
	Wall    func() time.Time
	Elapsed func() time.Duration
	// Logger receives operational logs; nil discards them.
	Logger *slog.Logger
	// MasterKeyFile is the master key's file (see LoadMasterKey); empty
	// means DataDir/master.key, created on first start.
	MasterKeyFile string
	// CrashPoint, when set, is called at every crash point
	// (crashpoint.go) with its name. It exists for the crash harness,
	// which kills the process from it; nil (production) means nothing
	// happens there.
	CrashPoint func(name string)
	// KMSRequestsPerSecond is each KMS key's request quota: data keys
	// generated (uploads) and unwrapped (downloads) per second, with a
	// burst of one second's worth (at least 1). Default 1000; 0 means no
	// quota.
	KMSRequestsPerSecond float64
	// AllowUnencrypted lets uploads ask for ENCRYPTION_MODE_NONE (and
	// vaults default to it); off, such requests are invalid. For
	// measuring what encryption costs, not for production.
	AllowUnencrypted bool
}

// DefaultConfig returns the configuration `wormvault serve` starts with.
func DefaultConfig(dataDir string) Config {
	return Config{
		DataDir:         dataDir,
		DataShards:      4,
		ParityShards:    2,
		BlockSize:       1 << 20,
		InlineThreshold: 128 << 10,
		OrphanGrace:     time.Hour,
		MaxClockSkew:    5 * time.Minute,

		KMSRequestsPerSecond: 1000,
	}
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("vault: config: DataDir is empty")
	case c.DataShards < 1 || c.ParityShards < 1 || c.ParityShards > c.DataShards || c.DataShards+c.ParityShards > 16:
		return fmt.Errorf("vault: config: erasure geometry %d+%d: want 1 <= parity <= data and data+parity <= 16", c.DataShards, c.ParityShards)
	case len(c.Drives) != 0 && len(c.Drives) != c.DataShards+c.ParityShards:
		return fmt.Errorf("vault: config: %d drives given for %d+%d shards: want exactly %d", len(c.Drives), c.DataShards, c.ParityShards, c.DataShards+c.ParityShards)
	case c.BlockSize < 4096 || c.BlockSize > 64<<20:
		return fmt.Errorf("vault: config: block size %d: want 4 KiB to 64 MiB", c.BlockSize)
	case c.InlineThreshold < 0 || c.InlineThreshold > 1<<20:
		return errors.New("vault: config: InlineThreshold must be 0 to 1 MiB")
	case c.OrphanGrace < 0 || c.MaxClockSkew <= 0:
		return errors.New("vault: config: OrphanGrace must be >= 0 and MaxClockSkew > 0")
	case !(c.KMSRequestsPerSecond >= 0):
		return errors.New("vault: config: KMSRequestsPerSecond must be >= 0")
	}
	return nil
}

// drivePaths returns the configured drives or the defaults under DataDir.
func (c Config) drivePaths() []string {
	if len(c.Drives) > 0 {
		return c.Drives
	}
	paths := make([]string, c.DataShards+c.ParityShards)
	for i := range paths {
		paths[i] = filepath.Join(c.DataDir, "drives", fmt.Sprintf("d%d", i+1))
	}
	return paths
}
