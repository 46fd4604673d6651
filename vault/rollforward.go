package vault

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/journal"
)

// markerJournalApplied holds, big-endian, the last journal seq whose
// catalog transaction committed. Every commit writes it in its own
// transaction, so after a crash the catalog knows which journal entries it
// may lack: those journaled (durable on a quorum) whose transaction never
// committed. Concurrent upload commits may leave it a little behind the
// truth; replay from it is idempotent, so that only costs a few re-puts.
const markerJournalApplied = "journal-applied"

func putApplied(tx *catalog.Txn, seq uint64) error {
	return tx.PutMeta(markerJournalApplied, binary.BigEndian.AppendUint64(nil, seq))
}

// appliedMark decides the marker each commit writes. Upload commits run
// concurrently, so one holding later seqs can commit before one holding
// earlier seqs; had it recorded its last seq, a crash before the other
// committed would leave the earlier entries out of the replay (the crash
// harness found this: internal/crashtest). So a commit records its last
// seq only up to the seqs of the commits still in flight: the marker then
// says only that everything up to it committed. Its zero value is ready.
type appliedMark struct {
	mu   sync.Mutex
	next uint64
	// floors maps each commit in flight to the lowest seq it can append.
	floors map[uint64]uint64
}

// begin registers a commit whose entries will get seqs of at least floor
// (the journal's last seq + 1 before it appends) and returns its id for
// mark and end.
func (m *appliedMark) begin(floor uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.floors == nil {
		m.floors = map[uint64]uint64{}
	}
	m.next++
	m.floors[m.next] = floor
	return m.next
}

// mark is the marker for commit id, which appended up to last: last, or
// just below the lowest seq another commit in flight may hold.
func (m *appliedMark) mark(id, last uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	for other, floor := range m.floors {
		if other != id {
			last = min(last, floor-1)
		}
	}
	return last
}

// end removes commit id, committed or not.
func (m *appliedMark) end(id uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.floors, id)
}

// RollForwardReport says what opening the store replayed from the journal.
type RollForwardReport struct {
	// From is the applied seq the catalog recorded; Entries how many
	// entries after it were replayed.
	From    uint64
	Entries int
	// Skipped are versions whose journaled upload has no shards on any
	// drive: an upload that failed after journaling whose void was lost.
	Skipped []string
	Journal journal.Report
}

// rollForward applies the journal entries after the catalog's applied
// marker: the changes a crash cut off between the journal append and the
// catalog commit (step 2 and 3 in journaling.go). They were durable on a
// quorum, so they are part of the store's history; the caller was never
// told so, which is allowed (an unacknowledged change may or may not have
// happened), while the reverse (losing an acknowledged one) is not.
func (s *Store) rollForward(ctx context.Context) (*RollForwardReport, error) {
	var applied []byte
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		applied, err = tx.Meta(markerJournalApplied)
		return err
	}); err != nil {
		return nil, err
	}
	last := s.journal.LastSeq()
	if applied == nil {
		// A catalog from before the marker existed: it cannot tell, so it
		// starts counting now.
		return nil, s.catalog.Update(ctx, func(tx *catalog.Txn) error { return putApplied(tx, last) })
	}
	if len(applied) != 8 {
		return nil, fmt.Errorf("vault: catalog marker %s is %d bytes, want 8", markerJournalApplied, len(applied))
	}
	from := binary.BigEndian.Uint64(applied)
	if from >= last {
		return nil, nil
	}
	rep := &RollForwardReport{From: from}
	var entries []*journal.Entry
	jrep, err := s.journal.ReadFrom(ctx, from, func(e *journal.Entry) error {
		entries = append(entries, e)
		return nil
	})
	rep.Journal = jrep
	if err != nil {
		return rep, fmt.Errorf("vault: read journal after seq %d: %w", from, err)
	}
	var objects map[string]bool
	for _, e := range entries {
		if id := e.GetVersionPut().GetObjectId(); id != "" && objects == nil {
			objects = map[string]bool{}
			if err := s.set.Walk(ctx, func(id string, _ time.Time) error { objects[id] = true; return nil }); err != nil {
				return rep, fmt.Errorf("vault: scan drives: %w", err)
			}
		}
	}
	err = s.catalog.Update(ctx, func(tx *catalog.Txn) error {
		rep.Entries, rep.Skipped = 0, nil
		for _, e := range entries {
			if v := e.GetVersionPut(); v.GetObjectId() != "" && !objects[v.GetObjectId()] {
				rep.Skipped = append(rep.Skipped, v.GetVault()+"/"+v.GetKey()+"@"+v.GetVersionId())
				continue
			}
			if err := applyEntry(tx, e); err != nil {
				return fmt.Errorf("journal seq %d: %w", e.GetSeq(), err)
			}
			rep.Entries++
		}
		return putApplied(tx, max(last, jrep.Last))
	})
	return rep, err
}
