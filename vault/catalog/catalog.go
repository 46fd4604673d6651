// Package catalog is wormvault's metadata store: vaults, versions and access
// keys in an embedded Badger database. Records are protobuf messages from
// proto/wormvault/record/v1; keys are ordered byte strings laid out so that a
// prefix scan answers every listing (see keys.go).
//
// Every write is one Badger transaction opened with synchronous writes: the
// commit of that transaction is the moment a change exists.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Catalog is an open metadata store.
type Catalog struct {
	// gate is entered by every use of db and held alone by Rekey and
	// Close, which close it (rekey.go).
	gate gate
	db   *badger.DB
	opts Options
}

// Options configure Open.
type Options struct {
	// Dir is the Badger directory; created if missing.
	Dir string
	// Logger receives Badger's warnings and errors; nil discards them.
	Logger *slog.Logger
	// EncryptionKey, when 32 bytes, turns on Badger's encryption at rest.
	EncryptionKey []byte
}

// Open opens (or creates) the catalog in opts.Dir.
func Open(opts Options) (*Catalog, error) {
	db, err := openDB(opts)
	if err != nil {
		return nil, err
	}
	return &Catalog{db: db, opts: opts}, nil
}

// openDB opens the Badger database of opts.
func openDB(opts Options) (*badger.DB, error) {
	bo := badger.DefaultOptions(opts.Dir).
		WithSyncWrites(true).
		WithLogger(badgerLogger{opts.Logger}).
		WithNumVersionsToKeep(1).
		// Metadata is small; keep the memory footprint modest so the whole
		// server stays well under its RSS budget.
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		// Inline archive bytes (up to 128 KiB) go to the value log, not
		// the LSM tree, so memtables stay small.
		WithValueThreshold(4 << 10).
		WithValueLogFileSize(64 << 20).
		WithBlockCacheSize(32 << 20).
		WithIndexCacheSize(16 << 20).
		WithNumCompactors(2)
	if len(opts.EncryptionKey) > 0 {
		bo = bo.WithEncryptionKey(opts.EncryptionKey)
	}
	db, err := badger.Open(bo)
	if errors.Is(err, badger.ErrEncryptionKeyMismatch) {
		return nil, fmt.Errorf("catalog: open %s: %w", opts.Dir, ErrEncryptionKey)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: open %s: %w", opts.Dir, err)
	}
	return db, nil
}

// ErrEncryptionKey means the catalog on disk is not encrypted with
// Options.EncryptionKey: it was written with another key, or without one.
var ErrEncryptionKey = errors.New("catalog: the catalog is not encrypted with this encryption key")

// Close flushes and closes the store; closing again does nothing.
func (c *Catalog) Close() error {
	c.gate.lock(context.Background())
	defer c.gate.unlock()
	if c.db == nil {
		return nil
	}
	err := c.db.Close()
	c.db = nil
	return err
}

// errClosed is what every call returns once the catalog is closed (or a
// Rekey could not reopen it).
var errClosed = errors.New("catalog: closed")

// use runs fn with the open database, shared with every other use and
// excluded from Rekey.
func (c *Catalog) use(fn func(db *badger.DB) error) error {
	c.gate.enter()
	defer c.gate.leave()
	if c.db == nil {
		return errClosed
	}
	return fn(c.db)
}

// RunGC reclaims value-log space; the server calls it periodically.
func (c *Catalog) RunGC() {
	c.use(func(db *badger.DB) error {
		for db.RunValueLogGC(0.5) == nil {
		}
		return nil
	})
}

// maxConflictRetries bounds how often Update retries a transaction that lost
// an optimistic-concurrency race with another writer.
const maxConflictRetries = 16

// Update runs fn in a read-write transaction and commits it durably,
// retrying when another transaction committed a conflicting write first. fn
// must be safe to run more than once.
func (c *Catalog) Update(ctx context.Context, fn func(*Txn) error) error {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := c.use(func(db *badger.DB) error {
			return db.Update(func(t *badger.Txn) error { return fn(&Txn{t: t}) })
		})
		if errors.Is(err, badger.ErrConflict) && attempt < maxConflictRetries {
			time.Sleep(time.Duration(attempt+1) * time.Millisecond)
			continue
		}
		return err
	}
}

// ErrConflict means a transaction lost an optimistic-concurrency race: it
// did not commit, and may be tried again.
var ErrConflict = errors.New("catalog: transaction conflict")

// Attempt runs fn in a read-write transaction and tries to commit it once.
// A lost race returns an error wrapping ErrConflict. Callers that must know
// whether a commit happened (to void a journal entry) use Attempt; others
// use Update.
func (c *Catalog) Attempt(fn func(*Txn) error) error {
	err := c.use(func(db *badger.DB) error {
		return db.Update(func(t *badger.Txn) error { return fn(&Txn{t: t}) })
	})
	if errors.Is(err, badger.ErrConflict) {
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}

// View runs fn in a read-only snapshot.
func (c *Catalog) View(fn func(*Txn) error) error {
	return c.use(func(db *badger.DB) error {
		return db.View(func(t *badger.Txn) error { return fn(&Txn{t: t}) })
	})
}

// badgerLogger forwards Badger's log lines to slog, dropping info/debug chatter.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	if b.l != nil {
		b.l.Error("badger", "msg", fmt.Sprintf(f, a...))
	}
}
func (b badgerLogger) Warningf(f string, a ...any) {
	if b.l != nil {
		b.l.Warn("badger", "msg", fmt.Sprintf(f, a...))
	}
}
func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
