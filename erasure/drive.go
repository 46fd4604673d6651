package erasure

import (
	"context"
	"io"
	"time"
)

// Drive is one storage location of a Set: a directory on a local disk
// (LocalDrive) or, later, a remote shard server. It stores at most one shard
// file per object id and knows nothing of erasure coding.
//
// Implementations must be safe for concurrent use. Errors for a missing
// shard wrap fs.ErrNotExist; Commit without replace of an id already present
// fails with an error wrapping fs.ErrExist.
type Drive interface {
	// Name identifies the drive in errors and Status, e.g. its path.
	Name() string
	// Create starts a new shard file for id in a temporary area. Nothing is
	// visible under id until the ShardWriter is committed.
	Create(ctx context.Context, id string) (ShardWriter, error)
	// Open opens the committed shard of id for random access.
	Open(ctx context.Context, id string) (ShardReader, error)
	// Remove durably removes the shard of id; a missing shard is not an error.
	Remove(ctx context.Context, id string) error
	// List returns the committed shards whose Bucket(id) is bucket, in no
	// particular order.
	List(ctx context.Context, bucket uint8) ([]ShardEntry, error)
	// CleanTemp removes every temporary file. It must not run concurrently
	// with writes to the drive.
	CleanTemp(ctx context.Context) error
	// Usage reports space on the drive; an error means the drive is offline.
	Usage(ctx context.Context) (DriveUsage, error)
}

// ShardWriter is a shard file being written. The Set writes it sequentially,
// then calls Sync and Commit, or Abort.
type ShardWriter interface {
	io.Writer
	// Sync makes the bytes written so far durable.
	Sync() error
	// Commit makes the shard visible under its id, durably (rename, then
	// fsync of the directory). Without replace it never overwrites an
	// existing shard and fails with an error wrapping fs.ErrExist instead.
	Commit(replace bool) error
	// Abort discards the temporary file. It is idempotent and does nothing
	// after a successful Commit.
	Abort() error
}

// ShardReader is a committed shard file open for random access.
type ShardReader interface {
	io.ReaderAt
	io.Closer
	// Size is the length of the file.
	Size() int64
}

// ShardEntry is one committed shard, as listed by Drive.List.
type ShardEntry struct {
	ID      string
	Size    int64
	ModTime time.Time
}

// DriveUsage is the space of the file system (or server) holding a drive.
type DriveUsage struct {
	TotalBytes uint64
	FreeBytes  uint64
}
