package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/protobuf/proto"

	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

// The access-log inbox: the records of operations that commit to the
// catalog anyway (uploads), written in that same transaction so the
// operation's own sync makes its record durable, instead of a second sync
// in the access-log database before the response.
//
//	alogin/<id>   -> recordv1.AccessLogRecord, seq unset
//	aloglost/<id> -> the bytes of an inbox entry that did not decode, set aside
//
// id is unique per operation (an upload's version id). Delivery moves the
// records into the access-log database, where they get their sequence,
// then deletes them here (vault.moveAccessLogInbox). Like the records in
// that database they are not journaled.
var (
	alogInboxPrefix = []byte("alogin/")
	alogLostPrefix  = []byte("aloglost/")
)

func alogInboxKey(id string) []byte { return cat(alogInboxPrefix, []byte(id)) }

// InboxRecord is an access-log record waiting in the inbox.
type InboxRecord struct {
	ID     string
	Record *recordv1.AccessLogRecord
}

// PutAccessLogInbox stores r under id in the inbox.
func (tx *Txn) PutAccessLogInbox(id string, r *recordv1.AccessLogRecord) error {
	if id == "" || r.GetTargetVault() == "" || r.GetVault() == "" {
		return errors.New("catalog: access-log inbox record without id, vault or target")
	}
	return tx.put(alogInboxKey(id), r)
}

// AccessLogInbox returns up to limit inbox records with ids after after
// and up to upTo, in id order. A record that does not decode comes with a
// nil Record, so one bad entry cannot stop the others.
func (tx *Txn) AccessLogInbox(after, upTo string, limit int) ([]InboxRecord, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: alogInboxPrefix, PrefetchValues: true, PrefetchSize: 256})
	defer it.Close()
	var out []InboxRecord
	for it.Seek(alogInboxKey(after)); it.Valid() && len(out) < limit; it.Next() {
		id := string(bytes.TrimPrefix(it.Item().Key(), alogInboxPrefix))
		if id <= after {
			continue
		}
		if id > upTo {
			break
		}
		b, err := it.Item().ValueCopy(nil)
		if err != nil {
			return nil, fmt.Errorf("catalog: read access-log inbox record %q: %w", id, err)
		}
		r := new(recordv1.AccessLogRecord)
		if proto.Unmarshal(b, r) != nil {
			r = nil
		}
		out = append(out, InboxRecord{ID: id, Record: r})
	}
	return out, nil
}

// LastAccessLogInboxID returns the highest id in the inbox, "" when empty.
func (tx *Txn) LastAccessLogInboxID() (string, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: alogInboxPrefix, Reverse: true})
	defer it.Close()
	it.Seek(cat(alogInboxPrefix, []byte{0xff}))
	if !it.Valid() {
		return "", nil
	}
	return string(bytes.TrimPrefix(it.Item().Key(), alogInboxPrefix)), nil
}

// InAccessLogInbox reports whether the inbox holds id.
func (tx *Txn) InAccessLogInbox(id string) (bool, error) {
	_, err := tx.t.Get(alogInboxKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// SetAsideAccessLogInbox moves inbox entries that do not decode out of the
// inbox, their bytes kept under aloglost/ for an operator to inspect.
func (tx *Txn) SetAsideAccessLogInbox(ids []string) error {
	for _, id := range ids {
		item, err := tx.t.Get(alogInboxKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		b, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		if err := tx.t.Set(cat(alogLostPrefix, []byte(id)), b); err != nil {
			return err
		}
		if err := tx.t.Delete(alogInboxKey(id)); err != nil {
			return err
		}
	}
	return nil
}

// DeleteAccessLogInbox removes moved records from the inbox.
func (tx *Txn) DeleteAccessLogInbox(ids []string) error {
	for _, id := range ids {
		if err := tx.t.Delete(alogInboxKey(id)); err != nil {
			return err
		}
	}
	return nil
}

// AccessLogInboxInto returns a source vault whose inbox records are to be
// delivered into target, or false when none are. The inbox is short (a
// delivery interval's uploads), so it is scanned.
func (tx *Txn) AccessLogInboxInto(target string) (string, bool, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: alogInboxPrefix, PrefetchValues: true})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		b, err := it.Item().ValueCopy(nil)
		if err != nil {
			return "", false, fmt.Errorf("catalog: read access-log inbox record %q: %w", it.Item().Key(), err)
		}
		// One that does not decode names no target; the next delivery
		// sets it aside.
		r := new(recordv1.AccessLogRecord)
		if proto.Unmarshal(b, r) == nil && r.GetTargetVault() == target {
			return r.GetVault(), true, nil
		}
	}
	return "", false, nil
}

// PutAccessLogInboxRawForTest stores b as the inbox entry id, bytes that
// need not decode. TEST-ONLY: it returns an error outside a test binary.
func (tx *Txn) PutAccessLogInboxRawForTest(id string, b []byte) error {
	if !testing.Testing() {
		return errNotTest
	}
	return tx.t.Set(alogInboxKey(id), b)
}
