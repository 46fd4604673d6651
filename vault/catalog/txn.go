package catalog

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

// Txn is one catalog transaction. Methods return errors wrapping the root
// package's sentinels (wormvault.ErrVaultNotFound, ...) so callers never see
// Badger's.
type Txn struct {
	t *badger.Txn
}

func (tx *Txn) get(k []byte, m proto.Message) (bool, error) {
	item, err := tx.t.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := item.Value(func(v []byte) error { return proto.Unmarshal(v, m) }); err != nil {
		return false, fmt.Errorf("catalog: decode %q: %w", k, err)
	}
	return true, nil
}

func (tx *Txn) put(k []byte, m proto.Message) error {
	v, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return err
	}
	return tx.t.Set(k, v)
}

// Vault returns the named vault or an error wrapping wormvault.ErrVaultNotFound.
func (tx *Txn) Vault(name string) (*recordv1.Vault, error) {
	v := new(recordv1.Vault)
	ok, err := tx.get(vaultKey(name), v)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %q", wormvault.ErrVaultNotFound, name)
	}
	return v, nil
}

// VaultExists reports whether the named vault exists.
func (tx *Txn) VaultExists(name string) (bool, error) {
	_, err := tx.t.Get(vaultKey(name))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// PutVault creates or replaces a vault record.
func (tx *Txn) PutVault(v *recordv1.Vault) error { return tx.put(vaultKey(v.GetName()), v) }

// DeleteVault removes a vault record.
func (tx *Txn) DeleteVault(name string) error { return tx.t.Delete(vaultKey(name)) }

// Vaults returns up to limit vaults with names greater than after.
func (tx *Txn) Vaults(after string, limit int) ([]*recordv1.Vault, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: vaultPrefix, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	start := vaultKey(after)
	if after != "" {
		start = append(start, 0)
	}
	var out []*recordv1.Vault
	for it.Seek(start); it.Valid() && len(out) < limit; it.Next() {
		v := new(recordv1.Vault)
		if err := it.Item().Value(func(b []byte) error { return proto.Unmarshal(b, v) }); err != nil {
			return nil, fmt.Errorf("catalog: decode vault %q: %w", it.Item().Key(), err)
		}
		out = append(out, v)
	}
	return out, nil
}

// HasVersions reports whether any version or delete marker is stored in vault.
func (tx *Txn) HasVersions(vault string) (bool, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: versionsOfVault(vault)})
	defer it.Close()
	it.Rewind()
	return it.Valid(), nil
}

// PutVersion stores a version record and its id index.
func (tx *Txn) PutVersion(v *recordv1.Version) error {
	id, err := uuid.Parse(v.GetVersionId())
	if err != nil {
		return fmt.Errorf("catalog: version id %q: %w", v.GetVersionId(), err)
	}
	if err := tx.put(versionKey(v.GetVault(), v.GetKey(), id), v); err != nil {
		return err
	}
	return tx.t.Set(vidKey(v.GetVersionId()), cat([]byte(v.GetVault()), []byte{0}, []byte(v.GetKey())))
}

// DeleteVersion removes a version record and its id index.
func (tx *Txn) DeleteVersion(v *recordv1.Version) error {
	id, err := uuid.Parse(v.GetVersionId())
	if err != nil {
		return fmt.Errorf("catalog: version id %q: %w", v.GetVersionId(), err)
	}
	if err := tx.t.Delete(versionKey(v.GetVault(), v.GetKey(), id)); err != nil {
		return err
	}
	return tx.t.Delete(vidKey(v.GetVersionId()))
}

// Version returns one version of vault/key. An empty versionID means the
// latest version (which may be a delete marker).
func (tx *Txn) Version(vault, key, versionID string) (*recordv1.Version, error) {
	if versionID == "" {
		return tx.latest(vault, key)
	}
	id, err := uuid.Parse(versionID)
	if err != nil {
		return nil, wormvault.InvalidArgument("version_id", "not a version id: %q", versionID)
	}
	v := new(recordv1.Version)
	ok, err := tx.get(versionKey(vault, key, id), v)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s/%s version %s", wormvault.ErrVersionNotFound, vault, key, versionID)
	}
	return v, nil
}

func (tx *Txn) latest(vault, key string) (*recordv1.Version, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: versionsOfKey(vault, key), PrefetchValues: false})
	defer it.Close()
	it.Rewind()
	if !it.Valid() {
		return nil, fmt.Errorf("%w: %s/%s", wormvault.ErrArchiveNotFound, vault, key)
	}
	v := new(recordv1.Version)
	if err := it.Item().Value(func(b []byte) error { return proto.Unmarshal(b, v) }); err != nil {
		return nil, fmt.Errorf("catalog: decode version %q: %w", it.Item().Key(), err)
	}
	return v, nil
}

// IsLatest reports whether v is the newest version of its key.
func (tx *Txn) IsLatest(v *recordv1.Version) (bool, error) {
	l, err := tx.latest(v.GetVault(), v.GetKey())
	if err != nil {
		return false, err
	}
	return l.GetVersionId() == v.GetVersionId(), nil
}

// VersionLocation returns the vault and key of a version id, or false when
// the catalog does not know it.
func (tx *Txn) VersionLocation(versionID string) (vault, key string, ok bool, err error) {
	item, err := tx.t.Get(vidKey(versionID))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, err
	}
	b, err := item.ValueCopy(nil)
	if err != nil {
		return "", "", false, err
	}
	vlt, k, found := bytes.Cut(b, []byte{0})
	if !found {
		return "", "", false, fmt.Errorf("catalog: corrupt version index for %s", versionID)
	}
	return string(vlt), string(k), true, nil
}

// Listed is one entry of a listing.
type Listed struct {
	Version  *recordv1.Version
	IsLatest bool
	cursor   []byte
}

// ListQuery selects versions of a vault.
type ListQuery struct {
	Vault       string
	Prefix      string
	AllVersions bool
	Limit       int
	// After is the cursor returned by a previous page; nil starts at the
	// beginning.
	After []byte
}

// List returns up to q.Limit entries in key order (versions newest first)
// and a cursor for the next page, nil when the listing is complete. Without
// AllVersions, only keys whose latest version is not a delete marker appear.
func (tx *Txn) List(q ListQuery) ([]Listed, []byte, error) {
	vp := versionsOfVault(q.Vault)
	scan := cat(vp, []byte(q.Prefix))
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: scan, PrefetchValues: true, PrefetchSize: 100})
	defer it.Close()
	var (
		out     []Listed
		lastKey string
		haveKey bool
	)
	start := scan
	if q.After != nil {
		key, _, ok := splitVersionKey(vp, q.After)
		if !ok || !bytes.HasPrefix(q.After, scan) {
			return nil, nil, wormvault.InvalidArgument("page_token", "token does not belong to this listing")
		}
		// The cursor is the last version key returned: entries of the
		// same archive key after it are older versions.
		start, lastKey, haveKey = q.After, key, true
	}
	for it.Seek(start); it.Valid(); it.Next() {
		k := it.Item().Key()
		if q.After != nil && bytes.Equal(k, q.After) {
			continue
		}
		key, _, ok := splitVersionKey(vp, k)
		if !ok {
			return nil, nil, fmt.Errorf("catalog: malformed version key %q", k)
		}
		latest := !haveKey || key != lastKey
		haveKey, lastKey = true, key
		if !latest && !q.AllVersions {
			continue
		}
		v := new(recordv1.Version)
		if err := it.Item().Value(func(b []byte) error { return proto.Unmarshal(b, v) }); err != nil {
			return nil, nil, fmt.Errorf("catalog: decode version %q: %w", k, err)
		}
		if !q.AllVersions && v.GetDeleteMarker() {
			continue
		}
		if len(out) == q.Limit {
			// A further entry exists, so the page is full and has a next.
			return out, out[len(out)-1].cursor, nil
		}
		out = append(out, Listed{Version: v, IsLatest: latest, cursor: it.Item().KeyCopy(nil)})
	}
	return out, nil, nil
}

// AccessKey returns an access key record, or false when unknown.
func (tx *Txn) AccessKey(keyID string) (*recordv1.AccessKey, bool, error) {
	k := new(recordv1.AccessKey)
	ok, err := tx.get(akeyKey(keyID), k)
	return k, ok, err
}

// PutAccessKey stores an access key record.
func (tx *Txn) PutAccessKey(k *recordv1.AccessKey) error { return tx.put(akeyKey(k.GetKeyId()), k) }

// AccessKeysOf returns the access keys of a principal.
func (tx *Txn) AccessKeysOf(principal string) ([]*recordv1.AccessKey, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: akeyPrefix, PrefetchValues: true})
	defer it.Close()
	var out []*recordv1.AccessKey
	for it.Rewind(); it.Valid(); it.Next() {
		k := new(recordv1.AccessKey)
		if err := it.Item().Value(func(b []byte) error { return proto.Unmarshal(b, k) }); err != nil {
			return nil, err
		}
		if k.GetPrincipal() == principal {
			out = append(out, k)
		}
	}
	return out, nil
}

// Meta returns a small named setting, or nil when unset.
func (tx *Txn) Meta(name string) ([]byte, error) {
	item, err := tx.t.Get(metaKey(name))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// PutMeta stores a small named setting.
func (tx *Txn) PutMeta(name string, value []byte) error { return tx.t.Set(metaKey(name), value) }

// EachVersion calls fn for every version of vault (every vault when vault is
// empty), in key order, until fn returns an error.
func (tx *Txn) EachVersion(vault string, fn func(*recordv1.Version) error) error {
	prefix := versionPrefix
	if vault != "" {
		prefix = versionsOfVault(vault)
	}
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 100})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		v := new(recordv1.Version)
		if err := it.Item().Value(func(b []byte) error { return proto.Unmarshal(b, v) }); err != nil {
			return fmt.Errorf("catalog: decode version %q: %w", it.Item().Key(), err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

// PutFixityReport appends a scrub report.
func (tx *Txn) PutFixityReport(r *recordv1.FixityReport) error {
	return tx.put(fixityKey(r.GetStartTime().AsTime().UnixNano()), r)
}

// FixityReports returns up to limit reports, newest first.
func (tx *Txn) FixityReports(limit int) ([]*recordv1.FixityReport, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: fixityPrefix, PrefetchValues: true})
	defer it.Close()
	var out []*recordv1.FixityReport
	for it.Rewind(); it.Valid() && len(out) < limit; it.Next() {
		r := new(recordv1.FixityReport)
		if err := it.Item().Value(func(b []byte) error { return proto.Unmarshal(b, r) }); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// DeleteAccessKey removes an access key record.
func (tx *Txn) DeleteAccessKey(keyID string) error { return tx.t.Delete(akeyKey(keyID)) }

// Principal returns a principal record, or false when unknown.
func (tx *Txn) Principal(name string) (*recordv1.Principal, bool, error) {
	p := new(recordv1.Principal)
	ok, err := tx.get(prinKey(name), p)
	return p, ok, err
}

// PutPrincipal stores a principal record.
func (tx *Txn) PutPrincipal(p *recordv1.Principal) error { return tx.put(prinKey(p.GetName()), p) }

// DeletePrincipal removes a principal record.
func (tx *Txn) DeletePrincipal(name string) error { return tx.t.Delete(prinKey(name)) }

// Principals returns up to limit principals named after `after`.
func (tx *Txn) Principals(after string, limit int) ([]*recordv1.Principal, error) {
	it := tx.t.NewIterator(badger.IteratorOptions{Prefix: prinPrefix, PrefetchValues: true})
	defer it.Close()
	start := prinKey(after)
	if after != "" {
		start = append(start, 0)
	}
	var out []*recordv1.Principal
	for it.Seek(start); it.Valid() && len(out) < limit; it.Next() {
		p := new(recordv1.Principal)
		if err := it.Item().Value(func(b []byte) error { return proto.Unmarshal(b, p) }); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// MFADevice returns an MFA device record, or false when unknown.
func (tx *Txn) MFADevice(name string) (*recordv1.MFADevice, bool, error) {
	d := new(recordv1.MFADevice)
	ok, err := tx.get(mfaKey(name), d)
	return d, ok, err
}

// PutMFADevice stores an MFA device record.
func (tx *Txn) PutMFADevice(d *recordv1.MFADevice) error { return tx.put(mfaKey(d.GetName()), d) }

// Blob returns the inline bytes of a version.
func (tx *Txn) Blob(versionID string) ([]byte, error) {
	item, err := tx.t.Get(blobKey(versionID))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("catalog: no inline bytes for %s", versionID)
	}
	if err != nil {
		return nil, err
	}
	b := new(recordv1.Blob)
	if err := item.Value(func(v []byte) error { return proto.Unmarshal(v, b) }); err != nil {
		return nil, err
	}
	return b.GetData(), nil
}

// PutBlob stores the inline bytes of a version.
func (tx *Txn) PutBlob(b *recordv1.Blob) error { return tx.put(blobKey(b.GetVersionId()), b) }

// DeleteBlob removes the inline bytes of a version, if any.
func (tx *Txn) DeleteBlob(versionID string) error { return tx.t.Delete(blobKey(versionID)) }
