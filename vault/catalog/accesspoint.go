package catalog

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/protobuf/proto"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

// The access point table (see keys.go): ap/<name> holds each access
// point's record. Access points are few (a handful per vault), so the
// questions "which lead to this vault?" scan the table rather than keep an
// index that would have to be journaled and rebuilt with it.

func apKey(name string) []byte { return cat(apPrefix, []byte(name)) }

// AccessPoint returns the named access point or an error wrapping
// wormvault.ErrAccessPointNotFound.
func (tx *Txn) AccessPoint(name string) (*recordv1.AccessPoint, error) {
	ap := new(recordv1.AccessPoint)
	ok, err := tx.get(apKey(name), ap)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %q", wormvault.ErrAccessPointNotFound, name)
	}
	return ap, nil
}

// PutAccessPoint creates or replaces an access point's record.
func (tx *Txn) PutAccessPoint(ap *recordv1.AccessPoint) error {
	return tx.put(apKey(ap.GetName()), ap)
}

// DeleteAccessPoint removes an access point's record.
func (tx *Txn) DeleteAccessPoint(name string) error { return tx.t.Delete(apKey(name)) }

// AccessPoints returns up to limit access points named after `after`, in
// name order; with vault set, only those leading to it.
func (tx *Txn) AccessPoints(vault, after string, limit int) ([]*recordv1.AccessPoint, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: apPrefix, PrefetchValues: true})
	defer it.Close()
	start := apKey(after)
	if after != "" {
		start = append(start, 0)
	}
	var out []*recordv1.AccessPoint
	for it.Seek(start); it.Valid() && len(out) < limit; it.Next() {
		ap := new(recordv1.AccessPoint)
		if err := it.Item().Value(func(b []byte) error { return proto.Unmarshal(b, ap) }); err != nil {
			return nil, fmt.Errorf("catalog: decode access point %q: %w", it.Item().Key(), err)
		}
		if vault == "" || ap.GetVault() == vault {
			out = append(out, ap)
		}
	}
	return out, nil
}
