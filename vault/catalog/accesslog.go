package catalog

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/protobuf/proto"

	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

// AccessLogDB holds access-log records until they are delivered into their
// target vault. It is a Badger database of its own, beside the catalog,
// because Badger syncs its log once per transaction on a single writer:
// the records of every request would otherwise queue behind (and delay)
// every catalog commit. Its layout:
//
//	alog/<target>\x00<source>\x00<seq big-endian> -> recordv1.AccessLogRecord
//	seq                                            -> the last seq assigned (8 bytes big-endian)
//	moved/<inbox id>                               -> empty: the record was moved from the catalog's inbox
//
// Keys group the records by target vault, then by source vault, in
// sequence order: a delivery reads one source's records in order with one
// scan, and whether any record still waits for delivery into a vault is one
// seek. Vault names cannot contain NUL, so "\x00" ends each name.
type AccessLogDB struct {
	db *badger.DB
}

var (
	alogPrefix      = []byte("alog/")
	alogSeqKey      = []byte("seq")
	alogMovedPrefix = []byte("moved/")
)

// MaxAccessLogTxnBytes bounds the encoded records one transaction of the
// access-log database may write.
const MaxAccessLogTxnBytes = 128 << 10

// OpenAccessLog opens (or creates) the access-log database in dir,
// encrypted with key (32 bytes). A database encrypted with another key
// fails with an error wrapping ErrEncryptionKey.
func OpenAccessLog(dir string, key []byte, log *slog.Logger) (*AccessLogDB, error) {
	bo := badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithLogger(badgerLogger{log}).
		WithNumVersionsToKeep(1).
		// Records are small and short-lived: a small footprint, every
		// value in the LSM tree. A transaction may hold up to 15% of a
		// memtable (MaxAccessLogTxnBytes).
		WithMemTableSize(2 << 20).
		WithNumMemtables(2).
		WithValueThreshold(16 << 10).
		WithValueLogFileSize(8 << 20).
		WithBlockCacheSize(2 << 20).
		WithIndexCacheSize(1 << 20).
		WithNumCompactors(2).
		// Writers never read what they change (records are only added,
		// and deleted once read in an earlier snapshot): no conflicts to
		// detect.
		WithDetectConflicts(false).
		WithEncryptionKey(key)
	db, err := badger.Open(bo)
	if errors.Is(err, badger.ErrEncryptionKeyMismatch) {
		return nil, fmt.Errorf("catalog: open access log %s: %w", dir, ErrEncryptionKey)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: open access log %s: %w", dir, err)
	}
	return &AccessLogDB{db: db}, nil
}

// Close flushes and closes the database.
func (d *AccessLogDB) Close() error { return d.db.Close() }

// Update runs fn in a read-write transaction and commits it durably.
func (d *AccessLogDB) Update(ctx context.Context, fn func(*AccessLogTxn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.db.Update(func(t *badger.Txn) error { return fn(&AccessLogTxn{t: t}) })
}

// View runs fn in a read-only snapshot.
func (d *AccessLogDB) View(fn func(*AccessLogTxn) error) error {
	return d.db.View(func(t *badger.Txn) error { return fn(&AccessLogTxn{t: t}) })
}

// AccessLogTxn is one transaction of the access-log database.
type AccessLogTxn struct {
	t *badger.Txn
}

// AccessLogGroup is the records of one source vault waiting for delivery
// into one target vault.
type AccessLogGroup struct {
	Target, Source string
}

func alogGroupPrefix(target, source string) []byte {
	return cat(alogPrefix, []byte(target), []byte{0}, []byte(source), []byte{0})
}

func alogKey(target, source string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(alogGroupPrefix(target, source), seq)
}

// Seq returns the last sequence assigned (0 for none). It never goes back,
// even when every record has been delivered and deleted, so a batch id
// (derived from its first sequence) is not reused.
func (tx *AccessLogTxn) Seq() (uint64, error) {
	item, err := tx.t.Get(alogSeqKey)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	b, err := item.ValueCopy(nil)
	if err != nil {
		return 0, err
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("catalog: access-log seq is %d bytes, want 8", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// PutRecords stores records (their seq set, above Seq) and makes the
// highest seq the last assigned. A record moved from the catalog's inbox
// (inbox_id set) leaves a marker under its inbox id.
func (tx *AccessLogTxn) PutRecords(recs []*recordv1.AccessLogRecord) error {
	var last uint64
	for _, r := range recs {
		if r.GetSeq() == 0 || r.GetTargetVault() == "" || r.GetVault() == "" {
			return errors.New("catalog: access-log record without seq, vault or target")
		}
		v, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
		if err != nil {
			return err
		}
		if err := tx.t.Set(alogKey(r.GetTargetVault(), r.GetVault(), r.GetSeq()), v); err != nil {
			return err
		}
		if id := r.GetInboxId(); id != "" {
			if err := tx.t.Set(cat(alogMovedPrefix, []byte(id)), nil); err != nil {
				return err
			}
		}
		last = max(last, r.GetSeq())
	}
	if last == 0 {
		return nil
	}
	return tx.t.Set(alogSeqKey, binary.BigEndian.AppendUint64(nil, last))
}

// Groups returns every (target, source) pair with records waiting, in key
// order.
func (tx *AccessLogTxn) Groups() ([]AccessLogGroup, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: alogPrefix})
	defer it.Close()
	var out []AccessLogGroup
	for it.Rewind(); it.Valid(); {
		rest := it.Item().Key()[len(alogPrefix):]
		target, rest, ok1 := bytes.Cut(rest, []byte{0})
		source, seq, ok2 := bytes.Cut(rest, []byte{0})
		if !ok1 || !ok2 || len(seq) != 8 {
			return nil, fmt.Errorf("catalog: malformed access-log key %q", it.Item().Key())
		}
		g := AccessLogGroup{Target: string(target), Source: string(source)}
		out = append(out, g)
		// The group's keys all start with its prefix, which ends in NUL:
		// the same prefix ending in 0x01 is the first key after them.
		next := alogGroupPrefix(g.Target, g.Source)
		next[len(next)-1] = 1
		it.Seek(next)
	}
	return out, nil
}

// Records returns the first records of a group in sequence order: at most
// limit of them, and no more once their encoded sizes reach maxBytes (at
// least one when the group has any).
func (tx *AccessLogTxn) Records(g AccessLogGroup, limit, maxBytes int) ([]*recordv1.AccessLogRecord, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: alogGroupPrefix(g.Target, g.Source), PrefetchValues: true, PrefetchSize: 256})
	defer it.Close()
	var (
		out  []*recordv1.AccessLogRecord
		size int
	)
	for it.Rewind(); it.Valid() && len(out) < limit && (len(out) == 0 || size < maxBytes); it.Next() {
		r := new(recordv1.AccessLogRecord)
		if err := it.Item().Value(func(b []byte) error { size += len(b); return proto.Unmarshal(b, r) }); err != nil {
			return nil, fmt.Errorf("catalog: decode access-log record %q: %w", it.Item().Key(), err)
		}
		out = append(out, r)
	}
	return out, nil
}

// DeleteRecords removes delivered records of a group.
func (tx *AccessLogTxn) DeleteRecords(g AccessLogGroup, seqs []uint64) error {
	for _, seq := range seqs {
		if err := tx.t.Delete(alogKey(g.Target, g.Source, seq)); err != nil {
			return err
		}
	}
	return nil
}

// PendingInto returns a source vault whose records still wait for delivery
// into target, or false when none do.
func (tx *AccessLogTxn) PendingInto(target string) (string, bool, error) {
	prefix := cat(alogPrefix, []byte(target), []byte{0})
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	it.Rewind()
	if !it.Valid() {
		return "", false, nil
	}
	source, _, ok := bytes.Cut(it.Item().Key()[len(prefix):], []byte{0})
	if !ok {
		return "", false, errors.New("catalog: malformed access-log key")
	}
	return string(source), true, nil
}

// Moved reports whether the record of inbox id was moved here.
func (tx *AccessLogTxn) Moved(id string) (bool, error) {
	_, err := tx.t.Get(cat(alogMovedPrefix, []byte(id)))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// MovedIDs returns up to limit inbox ids with a marker.
func (tx *AccessLogTxn) MovedIDs(limit int) ([]string, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: alogMovedPrefix})
	defer it.Close()
	var out []string
	for it.Rewind(); it.Valid() && len(out) < limit; it.Next() {
		out = append(out, string(bytes.TrimPrefix(it.Item().Key(), alogMovedPrefix)))
	}
	return out, nil
}

// DeleteMoved removes the markers of inbox ids no longer in the inbox.
func (tx *AccessLogTxn) DeleteMoved(ids []string) error {
	for _, id := range ids {
		if err := tx.t.Delete(cat(alogMovedPrefix, []byte(id))); err != nil {
			return err
		}
	}
	return nil
}
