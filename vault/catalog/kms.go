package catalog

import (
	"bytes"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/protobuf/proto"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

// The KMS tables (see keys.go): kms/<name> holds each key's record, never
// deleted; kmsuse/<kms key>/<vault>/<version-id> indexes the versions
// encrypted under a key, written with the version, so "does this key
// encrypt anything under retention or legal hold?" reads that key's
// versions and nothing else. Key and vault names cannot contain '/'.

func kmsKeyKey(name string) []byte { return cat(kmsKeyPrefix, []byte(name)) }

func kmsUsesOf(key string) []byte { return cat(kmsUsePrefix, []byte(key), []byte{'/'}) }

func kmsUseKey(key, vault, versionID string) []byte {
	return cat(kmsUsesOf(key), []byte(vault), []byte{'/'}, []byte(versionID))
}

// KMSKey returns a KMS key's record or an error wrapping
// wormvault.ErrKMSKeyNotFound.
func (tx *Txn) KMSKey(name string) (*recordv1.KMSKey, error) {
	k := new(recordv1.KMSKey)
	ok, err := tx.get(kmsKeyKey(name), k)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %q", wormvault.ErrKMSKeyNotFound, name)
	}
	return k, nil
}

// PutKMSKey creates or replaces a KMS key's record.
func (tx *Txn) PutKMSKey(k *recordv1.KMSKey) error { return tx.put(kmsKeyKey(k.GetName()), k) }

// KMSKeys returns up to limit KMS keys named after `after`, in name order.
func (tx *Txn) KMSKeys(after string, limit int) ([]*recordv1.KMSKey, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: kmsKeyPrefix, PrefetchValues: true})
	defer it.Close()
	start := kmsKeyKey(after)
	if after != "" {
		start = append(start, 0)
	}
	var out []*recordv1.KMSKey
	for it.Seek(start); it.Valid() && len(out) < limit; it.Next() {
		k := new(recordv1.KMSKey)
		if err := it.Item().Value(func(b []byte) error { return proto.Unmarshal(b, k) }); err != nil {
			return nil, fmt.Errorf("catalog: decode kms key %q: %w", it.Item().Key(), err)
		}
		out = append(out, k)
	}
	return out, nil
}

// PutKMSUse records that a version is encrypted under a KMS key. Entries
// are never removed with their version: a reader skips versions that no
// longer exist (version ids are never reused).
func (tx *Txn) PutKMSUse(key, vault, versionID string) error {
	return tx.t.Set(kmsUseKey(key, vault, versionID), nil)
}

// EachKMSUse calls fn with the vault and version id of every version
// recorded as encrypted under key, until fn returns false or an error.
func (tx *Txn) EachKMSUse(key string, fn func(vault, versionID string) (bool, error)) error {
	prefix := kmsUsesOf(key)
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		vault, id, ok := bytes.Cut(it.Item().Key()[len(prefix):], []byte{'/'})
		if !ok {
			return fmt.Errorf("catalog: malformed kms use key %q", it.Item().Key())
		}
		more, err := fn(string(vault), string(id))
		if err != nil || !more {
			return err
		}
	}
	return nil
}
