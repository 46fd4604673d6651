package catalog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/wormvault/wormvault"
)

// The audit tables (package vault/audit owns their encoding; the catalog
// stores bytes):
//
//	audit/<seq big-endian>     -> encoded recordv1.AuditEvent, in sequence order
//	auditcp/<seq big-endian>   -> encoded recordv1.AuditCheckpoint of the head at seq
//	auditmeta/head             -> seq (8 bytes big-endian) || sha256 of that event
//
// The trail is append-only: these methods add events and checkpoints and
// never overwrite or delete one. The only ways to change stored audit bytes
// are the ...ForTest methods below, which refuse to run outside a test
// binary.
var (
	auditPrefix   = []byte("audit/")
	auditCPPrefix = []byte("auditcp/")
	auditHeadKey  = []byte("auditmeta/head")
)

func auditKey(seq uint64) []byte   { return binary.BigEndian.AppendUint64(cat(auditPrefix), seq) }
func auditCPKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(cat(auditCPPrefix), seq) }

// errAuditCorrupt marks stored audit bytes that cannot be what the catalog
// wrote.
var errAuditCorrupt = fmt.Errorf("%w: audit trail", wormvault.ErrDataLoss)

// AuditHead returns the sequence and sha256 of the last audit event: 0 and
// nil when the trail is empty. A malformed head is an error wrapping
// wormvault.ErrDataLoss.
func (tx *Txn) AuditHead() (uint64, []byte, error) {
	item, err := tx.t.Get(auditHeadKey)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	b, err := item.ValueCopy(nil)
	if err != nil {
		return 0, nil, err
	}
	if len(b) != 8+32 {
		return 0, nil, fmt.Errorf("%w: head is %d bytes, want 40", errAuditCorrupt, len(b))
	}
	return binary.BigEndian.Uint64(b), b[8:], nil
}

// AppendAuditEvent stores the encoded event at seq, which must follow the
// head, and makes (seq, sha) the new head. Two transactions appending at
// once both read the head, so the later commit fails with a conflict and is
// retried.
func (tx *Txn) AppendAuditEvent(seq uint64, encoded, sha []byte) error {
	head, _, err := tx.AuditHead()
	if err != nil {
		return err
	}
	if seq != head+1 {
		return fmt.Errorf("catalog: audit event %d does not follow the head %d", seq, head)
	}
	if len(sha) != 32 {
		return fmt.Errorf("catalog: audit event %d: sha256 is %d bytes", seq, len(sha))
	}
	k := auditKey(seq)
	if _, err := tx.t.Get(k); err == nil {
		return fmt.Errorf("%w: audit event %d already stored", errAuditCorrupt, seq)
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	if err := tx.t.Set(k, encoded); err != nil {
		return err
	}
	return tx.t.Set(auditHeadKey, cat(binary.BigEndian.AppendUint64(nil, seq), sha))
}

// AuditEvent returns the stored bytes of event seq, or false when absent.
func (tx *Txn) AuditEvent(seq uint64) ([]byte, bool, error) {
	item, err := tx.t.Get(auditKey(seq))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	b, err := item.ValueCopy(nil)
	return b, err == nil, err
}

// EachAuditEvent calls fn with the sequence and stored bytes of every event
// after `after`, in sequence order, until fn returns false or an error. b is
// valid only during the call. Keys of the wrong length under audit/ cannot
// be events and are skipped.
func (tx *Txn) EachAuditEvent(after uint64, fn func(seq uint64, b []byte) (bool, error)) error {
	return tx.eachSeq(auditPrefix, after, fn)
}

// PutAuditCheckpoint stores an encoded checkpoint of the head at seq. A
// checkpoint is never replaced.
func (tx *Txn) PutAuditCheckpoint(seq uint64, encoded []byte) error {
	k := auditCPKey(seq)
	if _, err := tx.t.Get(k); err == nil {
		return fmt.Errorf("catalog: audit checkpoint %d already stored", seq)
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	return tx.t.Set(k, encoded)
}

// EachAuditCheckpoint calls fn with every stored checkpoint after `after`,
// in sequence order, until fn returns false or an error. b is valid only
// during the call.
func (tx *Txn) EachAuditCheckpoint(after uint64, fn func(seq uint64, b []byte) (bool, error)) error {
	return tx.eachSeq(auditCPPrefix, after, fn)
}

// LatestAuditCheckpoint returns the checkpoint with the highest sequence,
// or false when there is none.
func (tx *Txn) LatestAuditCheckpoint() (uint64, []byte, bool, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: auditCPPrefix, Reverse: true})
	defer it.Close()
	for it.Seek(auditCPKey(^uint64(0))); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) != len(auditCPPrefix)+8 {
			continue
		}
		b, err := it.Item().ValueCopy(nil)
		if err != nil {
			return 0, nil, false, err
		}
		return binary.BigEndian.Uint64(k[len(auditCPPrefix):]), b, true, nil
	}
	return 0, nil, false, nil
}

func (tx *Txn) eachSeq(prefix []byte, after uint64, fn func(uint64, []byte) (bool, error)) error {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 100})
	defer it.Close()
	if after == ^uint64(0) {
		return nil
	}
	start := cat(prefix)
	if after > 0 {
		start = binary.BigEndian.AppendUint64(start, after+1)
	}
	for it.Seek(start); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) != len(prefix)+8 {
			continue
		}
		seq := binary.BigEndian.Uint64(k[len(prefix):])
		var more bool
		err := it.Item().Value(func(b []byte) error {
			var err error
			more, err = fn(seq, b)
			return err
		})
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// errNotTest refuses the tamper hooks outside `go test`.
var errNotTest = errors.New("catalog: audit tamper hooks run only in tests")

// SetAuditEventForTest overwrites the stored bytes of audit event seq, or
// deletes it when b is nil. TEST-ONLY: it simulates tampering with the
// database behind wormvault's back, and returns an error outside a test
// binary, so no API can ever edit or delete an audit event.
func (tx *Txn) SetAuditEventForTest(seq uint64, b []byte) error {
	if !testing.Testing() {
		return errNotTest
	}
	if b == nil {
		return tx.t.Delete(auditKey(seq))
	}
	return tx.t.Set(auditKey(seq), b)
}

// SetAuditHeadForTest overwrites the audit head. TEST-ONLY, like
// SetAuditEventForTest.
func (tx *Txn) SetAuditHeadForTest(seq uint64, sha []byte) error {
	if !testing.Testing() {
		return errNotTest
	}
	return tx.t.Set(auditHeadKey, cat(binary.BigEndian.AppendUint64(nil, seq), sha))
}
