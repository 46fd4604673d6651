package vault

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/kms"
	"github.com/wormvault/wormvault/vault/sse"
)

// The keyring holds the master key and, during and after a rotation
// (masterkey_rotate.go), the keys it replaced: everything new is wrapped
// under the current key, and a wrapping is opened under whichever key made
// it. AES-GCM authenticates, so a wrapping that does not open under the
// current key is tried under the older ones; nothing records which key
// made it.

// errNoMasterKey means a wrapped key opens under none of the master keys
// the store holds.
var errNoMasterKey = errors.New("vault: unwraps under no master key this server holds")

// isZero reports whether k holds no key.
func (k MasterKey) isZero() bool { return len(k.b) == 0 }

// id names k without revealing it: 16 hex digits of a derived key.
func (k MasterKey) id() string {
	if k.isZero() {
		return ""
	}
	return hex.EncodeToString(k.derive("key-id")[:8])
}

// keyState is the keyring's content; it is replaced, never modified.
type keyState struct {
	// current wraps everything new.
	current MasterKey
	// previous is the key a rotation under way re-wraps from.
	previous MasterKey
	// retired are the keys earlier rotations of this process replaced,
	// newest first: a wrapping made under one just before its rotation
	// switched keys may still reach a commit (rewrapStale).
	retired []MasterKey
}

// keyring holds the master key and, during and after a rotation, the keys
// it replaces. Reads never block.
type keyring struct {
	state atomic.Pointer[keyState]
	// rotation serializes rotations.
	rotation sync.Mutex
	// batch is how many versions one commit of step 3 re-wraps; 0 means
	// rewrapBatch. Tests lower it to cut a rotation between batches.
	batch int
}

func newKeyring(current, previous MasterKey) *keyring {
	r := &keyring{}
	r.state.Store(&keyState{current: current, previous: previous})
	return r
}

// derive derives from the current key (see MasterKey.derive).
func (r *keyring) derive(purpose string, context ...string) []byte {
	return r.state.Load().current.derive(purpose, context...)
}

func (r *keyring) current() MasterKey  { return r.state.Load().current }
func (r *keyring) previous() MasterKey { return r.state.Load().previous }

// rotating reports whether a rotation is under way.
func (r *keyring) rotating() bool { return !r.state.Load().previous.isZero() }

// older returns the keys before the current one, newest first.
func (r *keyring) older() []MasterKey {
	st := r.state.Load()
	if st.previous.isZero() {
		return st.retired
	}
	return append([]MasterKey{st.previous}, st.retired...)
}

// begin makes next the current key, the current one previous. Beginning
// with the current key does nothing (a resumed rotation).
func (r *keyring) begin(next MasterKey) {
	st := r.state.Load()
	if bytes.Equal(st.current.b, next.b) {
		return
	}
	r.state.Store(&keyState{current: next, previous: st.current, retired: st.retired})
}

// finish retires the previous key.
func (r *keyring) finish() {
	st := r.state.Load()
	if st.previous.isZero() {
		return
	}
	r.state.Store(&keyState{current: st.current, retired: append([]MasterKey{st.previous}, st.retired...)})
}

// unwrap unwraps a key wrapped under the key derived for purpose and
// context from the current master key or, failing that, an older one. The
// error is the current key's.
func (r *keyring) unwrap(wrapped, aad []byte, purpose string, context ...string) ([]byte, error) {
	key, err := sse.UnwrapKey(r.derive(purpose, context...), wrapped, aad)
	if err == nil || !errors.Is(err, sse.ErrWrongKey) {
		return key, err
	}
	for _, k := range r.older() {
		if key, oerr := sse.UnwrapKey(k.derive(purpose, context...), wrapped, aad); oerr == nil {
			return key, nil
		}
	}
	return nil, err
}

// rewrap returns wrapped re-wrapped under the current key when an older
// key wrapped it (changed), as is when the current one did, and
// errNoMasterKey when none did.
func (r *keyring) rewrap(wrapped, aad []byte, purpose string, context ...string) (out []byte, changed bool, err error) {
	cur := r.derive(purpose, context...)
	if _, err := sse.UnwrapKey(cur, wrapped, aad); err == nil {
		return wrapped, false, nil
	}
	for _, k := range r.older() {
		key, err := sse.UnwrapKey(k.derive(purpose, context...), wrapped, aad)
		if err != nil {
			continue
		}
		out, err = sse.WrapKey(cur, key, aad)
		clear(key)
		if err != nil {
			return wrapped, false, err
		}
		return out, true, nil
	}
	return wrapped, false, errNoMasterKey
}

// openCatalog opens the catalog under the current key's Badger key or,
// while a rotation is unfinished, the previous key's: step 5 re-keys the
// catalog last.
func (r *keyring) openCatalog(opts catalog.Options) (*catalog.Catalog, error) {
	st := r.state.Load()
	opts.EncryptionKey = st.current.derive("badger")
	c, err := catalog.Open(opts)
	if errors.Is(err, catalog.ErrEncryptionKey) && !st.previous.isZero() {
		opts.EncryptionKey = st.previous.derive("badger")
		return catalog.Open(opts)
	}
	return c, err
}

// kmsMaterialAAD is the associated data of a KMS key version's wrapped
// material. It must equal kms.materialAAD: the rotation tests read
// KMS-encrypted archives after a rotation, which fails if they differ.
func kmsMaterialAAD(name string, version uint32) []byte {
	return []byte(name + "/" + strconv.FormatUint(uint64(version), 10))
}

// kmsKEKFor is the key-encryption key that unwraps a version of a KMS
// key's material: the current key's unless a rotation has not re-wrapped
// it yet.
func (s *Store) kmsKEKFor(k kms.Key, version uint32) []byte {
	cur := s.kmsKEK(k.Name)
	older := s.master.older()
	if len(older) == 0 {
		return cur
	}
	for _, v := range k.Versions {
		if v.Number != version || v.Wrapped == nil {
			continue
		}
		aad := kmsMaterialAAD(k.Name, version)
		if _, err := sse.UnwrapKey(cur, v.Wrapped, aad); err == nil {
			return cur
		}
		for _, o := range older {
			kek := o.derive("kms", k.Name)
			if _, err := sse.UnwrapKey(kek, v.Wrapped, aad); err == nil {
				return kek
			}
		}
	}
	return cur
}
