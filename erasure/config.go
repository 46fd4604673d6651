package erasure

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/minio/sha256-simd"
)

// Limits.
const (
	// MaxShards bounds data + parity shards of one object.
	MaxShards = 16
	// MaxBlockSize bounds Config.BlockSize.
	MaxBlockSize = 64 << 20
	// MaxMetaSize bounds the caller metadata stored in every shard.
	MaxMetaSize = 1 << 20
	// MaxIDLen bounds an object id.
	MaxIDLen = 128
	// MaxObjectSize bounds an object (64 PiB), keeping shard offsets far
	// from int64 overflow.
	MaxObjectSize = 1 << 56

	// DefaultDataShards, DefaultParityShards and DefaultBlockSize are the
	// zero-value defaults of Config.
	DefaultDataShards   = 4
	DefaultParityShards = 2
	DefaultBlockSize    = 1 << 20
)

// Errors. Callers test them with errors.Is; an unrecoverable stripe is
// reported with wormvault.ErrDataLoss.
var (
	// ErrNotFound means no readable shard set of the object exists. When some
	// shards exist but fewer than the data shard count, the error also wraps
	// wormvault.ErrDataLoss: the caller's catalog decides which it is.
	ErrNotFound = errors.New("erasure: object not found")
	// ErrExists means a shard of the object id is already in place; shards
	// are never overwritten by a write.
	ErrExists = errors.New("erasure: object already exists")
	// ErrWriteQuorum means fewer shards than the write quorum became durable;
	// nothing of the write is left behind.
	ErrWriteQuorum = errors.New("erasure: write quorum not reached")
	// ErrCorrupt means a shard file is damaged (bad trailer, wrong size,
	// bitrot hash mismatch).
	ErrCorrupt = errors.New("erasure: corrupt shard")
	// ErrUnsupported means a shard was written in a format this code does
	// not know (a newer format version, hash or code).
	ErrUnsupported = errors.New("erasure: unsupported shard format")
	// ErrInvalid means an argument is invalid: an unsafe object id, a bad
	// range, an oversized meta blob, a bad Config.
	ErrInvalid = errors.New("erasure: invalid argument")
	// ErrClosed means a Writer was used after Commit, Abort or a failure.
	ErrClosed = errors.New("erasure: writer closed")
)

// Config is the geometry of the objects a Set writes. Objects remember their
// own geometry, so changing it later leaves existing objects readable.
type Config struct {
	// DataShards (k) is the number of data shards per stripe; 0 means 4.
	DataShards int
	// ParityShards (m) is the number of parity shards per stripe, 1..k; 0
	// means 2. k+m must equal the number of drives and be at most 16.
	ParityShards int
	// BlockSize is the number of object bytes per stripe; 0 means 1 MiB.
	// Each shard block holds ceil(BlockSize/k) bytes.
	BlockSize int
	// OnDegraded, if set, is called with the id of an object that was found
	// (or written) with missing or corrupt shards, so the caller can queue a
	// Heal. It is called at most once per Open'ed Object and once per
	// degraded Commit, synchronously, from the reading or writing goroutine:
	// it must not block (a non-blocking channel send is the usual shape).
	OnDegraded func(id string)
}

// DefaultConfig returns the 4+2, 1 MiB configuration.
func DefaultConfig() Config {
	return Config{DataShards: DefaultDataShards, ParityShards: DefaultParityShards, BlockSize: DefaultBlockSize}
}

func (c Config) withDefaults() Config {
	if c.DataShards == 0 {
		c.DataShards = DefaultDataShards
	}
	if c.ParityShards == 0 {
		c.ParityShards = DefaultParityShards
	}
	if c.BlockSize == 0 {
		c.BlockSize = DefaultBlockSize
	}
	return c
}

// Validate checks the configuration after applying defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	if err := c.geometry().validate(); err != nil {
		return fmt.Errorf("%w: erasure config: %v", ErrInvalid, err)
	}
	return nil
}

func (c Config) geometry() geometry {
	return geometry{k: c.DataShards, m: c.ParityShards, blockSize: c.BlockSize}
}

// WriteQuorum is the number of shards that must be durable before Commit
// returns: k+1, or k when m is 1 (so a single failed drive never blocks
// writes).
func (c Config) WriteQuorum() int {
	c = c.withDefaults()
	if c.ParityShards == 1 {
		return c.DataShards
	}
	return c.DataShards + 1
}

// ValidateID checks that id is a safe file name: 1..128 bytes of ASCII
// letters, digits, '-', '_' and '.', not starting with '.'.
func ValidateID(id string) error {
	if len(id) == 0 || len(id) > MaxIDLen {
		return fmt.Errorf("%w: object id must be 1-%d bytes, got %d", ErrInvalid, MaxIDLen, len(id))
	}
	if id[0] == '.' {
		return fmt.Errorf("%w: object id %q must not start with '.'", ErrInvalid, id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%w: object id %q: byte %q at %d is not allowed", ErrInvalid, id, c, i)
		}
	}
	return nil
}

// Bucket is the fan-out directory of an id: the first byte of SHA-256(id).
// Drives store shards by bucket so that a listing (Set.Walk) proceeds one
// bucket at a time with bounded memory.
func Bucket(id string) uint8 {
	h := sha256.Sum256([]byte(id))
	return h[0]
}

// placementOffset rotates shard placement per object: shard i of id goes to
// drive (i + offset) mod n, offset = big-endian uint32 of SHA-256(id)[4:8]
// mod n.
func placementOffset(id string, n int) int {
	h := sha256.Sum256([]byte(id))
	return int(binary.BigEndian.Uint32(h[4:8]) % uint32(n))
}
