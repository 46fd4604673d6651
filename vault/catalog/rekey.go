package catalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/protobuf/proto"

	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

// Re-keying. Badger encrypts its tables and value log with data keys that
// live in its key registry (the KEYREGISTRY file), itself encrypted with
// Options.EncryptionKey; no other file depends on that key. Changing it is
// therefore one rewrite of the registry under the new key, which Badger
// does as temporary file, sync, rename, directory sync
// (badger.WriteKeyRegistry, what `badger rotate` runs): a crash leaves the
// registry under the old key or the new one, never torn, so the caller
// opens with either (the store tries both while its rotation is
// unfinished). The registry cannot be rewritten under an open database,
// which appends new data keys to it (every EncryptionKeyRotationDuration),
// so Rekey closes the database, rewrites the registry and reopens it.

// Rekey re-encrypts the catalog's key registry under newKey and reopens
// the catalog with it. Every other use of the catalog waits meanwhile;
// Rekey waits for the uses in progress to end, bounded by ctx. Re-keying
// to the key in use does nothing.
func (c *Catalog) Rekey(ctx context.Context, newKey []byte) error {
	if err := c.gate.lock(ctx); err != nil {
		return fmt.Errorf("catalog: rekey: %w", err)
	}
	defer c.gate.unlock()
	if c.db == nil {
		return fmt.Errorf("catalog: rekey: %w", errClosed)
	}
	if bytes.Equal(newKey, c.opts.EncryptionKey) {
		return nil
	}
	err := c.db.Close()
	c.db = nil
	if err == nil {
		err = rewriteKeyRegistry(c.opts.Dir, c.opts.EncryptionKey, newKey)
	}
	if err == nil {
		c.opts.EncryptionKey = newKey
	}
	// Reopen under whichever key the registry is now encrypted with.
	db, oerr := openDB(c.opts)
	if oerr != nil {
		return fmt.Errorf("catalog: rekey: %w", errors.Join(err, oerr))
	}
	c.db = db
	if err != nil {
		return fmt.Errorf("catalog: rekey: %w", err)
	}
	return nil
}

// rewriteKeyRegistry re-encrypts dir's key registry from oldKey to newKey.
func rewriteKeyRegistry(dir string, oldKey, newKey []byte) error {
	kr, err := badger.OpenKeyRegistry(badger.KeyRegistryOptions{Dir: dir, ReadOnly: true, EncryptionKey: oldKey})
	if errors.Is(err, badger.ErrEncryptionKeyMismatch) {
		return fmt.Errorf("%w: %w", ErrEncryptionKey, err)
	}
	if err != nil {
		return err
	}
	return badger.WriteKeyRegistry(kr, badger.KeyRegistryOptions{Dir: dir, EncryptionKey: newKey})
}

// gate lets many uses of the database run at once and one closer (Rekey,
// Close) wait for them to end while new ones wait for it. Uses may nest
// (a commit saves the clock mark in a transaction of its own inside the
// commit's), so a closer cannot simply block new uses until the running
// ones end: a nested use would wait for itself. Instead a closer that has
// not seen the uses end within drainPatience lets the waiting ones in,
// backs off, and tries again. The zero value is open.
type gate struct {
	mu     sync.Mutex
	active int
	// blocked, while a closer drains or holds the gate, is closed when it
	// lets uses in again.
	blocked chan struct{}
	// idle, while a closer drains, is closed when the last use leaves.
	idle chan struct{}
}

// drainPatience bounds how long new uses wait for a closer.
const drainPatience = 500 * time.Millisecond

func (g *gate) enter() {
	for {
		g.mu.Lock()
		b := g.blocked
		if b == nil {
			g.active++
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		<-b
	}
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.active--
	if g.active == 0 && g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
}

// lock waits, bounded by ctx, until no use runs and holds the gate alone.
func (g *gate) lock(ctx context.Context) error {
	backoff := 10 * time.Millisecond
	for {
		g.mu.Lock()
		for g.blocked != nil { // another closer: wait for it
			b := g.blocked
			g.mu.Unlock()
			select {
			case <-b:
			case <-ctx.Done():
				return ctx.Err()
			}
			g.mu.Lock()
		}
		g.blocked = make(chan struct{})
		if g.active == 0 {
			g.mu.Unlock()
			return nil
		}
		idle := make(chan struct{})
		g.idle = idle
		g.mu.Unlock()
		t := time.NewTimer(drainPatience)
		select {
		case <-idle:
			t.Stop()
			return nil
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		g.mu.Lock()
		if g.idle == nil && g.active == 0 {
			// The last use left just now: the gate is ours.
			g.mu.Unlock()
			return nil
		}
		g.idle = nil
		g.unlockLocked()
		g.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return err
		}
		t = time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		backoff = min(2*backoff, time.Second)
	}
}

// unlock lets uses in again.
func (g *gate) unlock() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.unlockLocked()
}

func (g *gate) unlockLocked() {
	close(g.blocked)
	g.blocked = nil
}

// VersionsAfter returns up to limit versions of every vault in key order,
// starting after the version whose key is after (nil: from the first),
// and the key to continue after, nil once there are no more.
func (tx *Txn) VersionsAfter(after []byte, limit int) ([]*recordv1.Version, []byte, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: versionPrefix, PrefetchValues: true, PrefetchSize: 100})
	defer it.Close()
	if after == nil {
		it.Rewind()
	} else {
		it.Seek(append(bytes.Clone(after), 0))
	}
	var (
		out  []*recordv1.Version
		last []byte
	)
	for ; it.Valid(); it.Next() {
		if len(out) == limit {
			return out, last, nil
		}
		v := new(recordv1.Version)
		if err := it.Item().Value(func(b []byte) error { return proto.Unmarshal(b, v) }); err != nil {
			return nil, nil, fmt.Errorf("catalog: decode version %q: %w", it.Item().Key(), err)
		}
		out, last = append(out, v), it.Item().KeyCopy(last[:0])
	}
	return out, nil, nil
}

// MFADevices returns every MFA device in name order.
func (tx *Txn) MFADevices() ([]*recordv1.MFADevice, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: mfaPrefix, PrefetchValues: true})
	defer it.Close()
	var out []*recordv1.MFADevice
	for it.Rewind(); it.Valid(); it.Next() {
		d := new(recordv1.MFADevice)
		if err := it.Item().Value(func(b []byte) error { return proto.Unmarshal(b, d) }); err != nil {
			return nil, fmt.Errorf("catalog: decode MFA device %q: %w", it.Item().Key(), err)
		}
		out = append(out, d)
	}
	return out, nil
}

// MetaWithPrefix returns the meta settings whose names start with prefix,
// by name.
func (tx *Txn) MetaWithPrefix(prefix string) (map[string][]byte, error) {
	p := metaKey(prefix)
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true})
	defer it.Close()
	out := map[string][]byte{}
	for it.Rewind(); it.Valid(); it.Next() {
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return nil, err
		}
		out[string(it.Item().Key()[len(metaPrefix):])] = v
	}
	return out, nil
}
