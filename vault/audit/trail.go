package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/catalog"
)

// Config configures a Trail. The zero value is usable but cannot make or
// verify checkpoints.
type Config struct {
	// CheckpointKey signs new checkpoints and verifies checkpoints it
	// signed; derive it with DeriveCheckpointKey. Nil: Checkpoint fails and
	// Verify reports any stored checkpoint as unverifiable.
	CheckpointKey []byte
	// RetiredCheckpointKeys verify checkpoints signed before a master key
	// rotation. Keep every retired key: a checkpoint whose key is unknown
	// fails Verify, so dropping its key cannot hide a rewrite.
	RetiredCheckpointKeys [][]byte
	// Now is the trusted clock, used for events without a time and for
	// checkpoints. Nil means time.Now.
	Now func() time.Time
}

// Trail is the audit trail stored in a catalog.
type Trail struct {
	cat  *catalog.Catalog
	now  func() time.Time
	sign []byte            // current checkpoint key, nil when none
	keys map[string][]byte // key id -> checkpoint key, for Verify

	// mu serialises Record and Checkpoint within this process so they do
	// not conflict with each other; they still conflict with Append in
	// callers' transactions, and retry.
	mu sync.Mutex
}

// New returns the trail stored in c.
func New(c *catalog.Catalog, cfg Config) *Trail {
	t := &Trail{cat: c, now: cfg.Now, keys: map[string][]byte{}}
	if t.now == nil {
		t.now = time.Now
	}
	if len(cfg.CheckpointKey) > 0 {
		t.sign = bytes.Clone(cfg.CheckpointKey)
		t.keys[string(keyID(t.sign))] = t.sign
	}
	for _, k := range cfg.RetiredCheckpointKeys {
		if len(k) > 0 {
			t.keys[string(keyID(k))] = bytes.Clone(k)
		}
	}
	return t
}

// Append adds ev to the trail inside the caller's transaction, so the event
// commits exactly when the change it describes does. It sets ev's
// sequence, prev_sha256 and sha256 (and its time from the trusted clock
// when unset); the caller fills in kind and the rest. A concurrent append
// makes the transaction fail with a conflict, to be retried; Append may run
// again in the retry.
func (t *Trail) Append(tx *catalog.Txn, ev *recordv1.AuditEvent) error {
	if !KnownKind(ev.GetKind()) {
		return wormvault.InvalidArgument("kind", "unknown audit event kind %q", ev.GetKind())
	}
	head, headSHA, err := tx.AuditHead()
	if err != nil {
		return fmt.Errorf("audit.Append: %w", err)
	}
	ev.Sequence = head + 1
	ev.PrevSha256 = headSHA
	if ev.Time == nil {
		ev.Time = timestamppb.New(t.now())
	}
	b, err := encodeEvent(ev)
	if err != nil {
		return fmt.Errorf("audit.Append %s: %w", ev.GetKind(), err)
	}
	if err := tx.AppendAuditEvent(ev.Sequence, b, ev.Sha256); err != nil {
		return fmt.Errorf("audit.Append %s: %w", ev.GetKind(), err)
	}
	return nil
}

// Record adds ev to the trail in a transaction of its own, retrying lost
// races until ctx ends. Use it for events that change nothing else in the
// catalog. Like Append, it sets ev's sequence and digests.
func (t *Trail) Record(ctx context.Context, ev *recordv1.AuditEvent) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.retry(ctx, func(tx *catalog.Txn) error { return t.Append(tx, ev) })
}

// maxAttempts bounds retry; each lost race means another event committed,
// so running out takes sustained contention.
const maxAttempts = 200

// retry runs fn in a transaction until it commits without a conflict.
func (t *Trail) retry(ctx context.Context, fn func(*catalog.Txn) error) error {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := t.cat.Attempt(fn)
		if !errors.Is(err, catalog.ErrConflict) || attempt == maxAttempts-1 {
			return err
		}
		backoff := min(time.Millisecond<<min(attempt, 6), 50*time.Millisecond)
		timer := time.NewTimer(rand.N(backoff) + time.Millisecond)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// Filter selects events for List.
type Filter struct {
	// Since (inclusive) and Until (exclusive) bound the event time; zero
	// means unbounded.
	Since, Until time.Time
	// Vault and Kind, when set, must match exactly.
	Vault, Kind string
	// After is the sequence to continue after: 0 for the first page, then
	// the next value List returned.
	After uint64
	// Limit is the most events returned: 0 means DefaultPageSize, and more
	// than MaxPageSize means MaxPageSize.
	Limit int
}

// Page sizes for List.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// scanBudget is how many events one List call examines at most, so a
// selective filter over a long trail costs bounded work per page.
var scanBudget = 10000

// List returns events matching f in sequence order, and the After value for
// the next page: 0 when the trail has no more events. A page may hold fewer
// than Limit events (even none) while next is not 0, when the scan budget
// ran out first. Stored bytes are decoded without checking digests (Verify
// does that); bytes that do not decode are an error wrapping ErrTampered.
func (t *Trail) List(ctx context.Context, f Filter) ([]*recordv1.AuditEvent, uint64, error) {
	if f.Kind != "" && !KnownKind(f.Kind) {
		return nil, 0, wormvault.InvalidArgument("kind", "unknown audit event kind %q", f.Kind)
	}
	if f.Limit < 0 {
		return nil, 0, wormvault.InvalidArgument("page_size", "must not be negative")
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return nil, 0, wormvault.InvalidArgument("until", "must be after since")
	}
	limit := f.Limit
	if limit == 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	var (
		out     []*recordv1.AuditEvent
		next    uint64
		scanned int
	)
	err := t.cat.View(func(tx *catalog.Txn) error {
		out, next, scanned = nil, 0, 0
		return tx.EachAuditEvent(f.After, func(seq uint64, b []byte) (bool, error) {
			if scanned%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return false, err
				}
			}
			scanned++
			ev, _, err := parseEvent(b)
			if err != nil {
				return false, fmt.Errorf("audit event %d: %w", seq, err)
			}
			if f.matches(ev) {
				if len(out) == limit {
					next = out[len(out)-1].GetSequence()
					return false, nil
				}
				out = append(out, ev)
			}
			if scanned == scanBudget {
				next = seq
				return false, nil
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, 0, fmt.Errorf("audit.List: %w", err)
	}
	return out, next, nil
}

func (f *Filter) matches(ev *recordv1.AuditEvent) bool {
	if f.Vault != "" && ev.GetVault() != f.Vault || f.Kind != "" && ev.GetKind() != f.Kind {
		return false
	}
	at := ev.GetTime().AsTime()
	return (f.Since.IsZero() || !at.Before(f.Since)) && (f.Until.IsZero() || at.Before(f.Until))
}
