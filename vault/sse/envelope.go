package sse

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/wormvault/wormvault"
)

const (
	wrapVersion   = 1
	wrapNonceSize = 12
	// maxWrappedKey bounds the key a wrapped blob may hold.
	maxWrappedKey = 1024

	deriveLabel = "wormvault derive-key v1"
)

// GenerateDataKey returns a fresh random KeySize-byte data key.
func GenerateDataKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("sse: generate data key: %w", err)
	}
	return k, nil
}

// WrapKey encrypts dataKey under the KeySize-byte key-encryption key kek with
// AES-256-GCM and a random nonce, binding aad (for example the vault, key and
// version the data key belongs to): UnwrapKey needs the same aad. The result
// is self-describing: version byte, nonce, sealed key (see the package
// documentation).
func WrapKey(kek, dataKey, aad []byte) ([]byte, error) {
	var nonce [wrapNonceSize]byte
	rand.Read(nonce[:])
	return wrapKey(kek, dataKey, aad, nonce)
}

// wrapKey is WrapKey with a given nonce: the test hook for golden files.
func wrapKey(kek, dataKey, aad []byte, nonce [wrapNonceSize]byte) ([]byte, error) {
	if len(kek) != KeySize {
		return nil, fmt.Errorf("sse: key-encryption key is %d bytes, want %d: %w", len(kek), KeySize, wormvault.ErrInvalidArgument)
	}
	if len(dataKey) == 0 || len(dataKey) > maxWrappedKey {
		return nil, fmt.Errorf("sse: cannot wrap a key of %d bytes: %w", len(dataKey), wormvault.ErrInvalidArgument)
	}
	aead, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+wrapNonceSize, 1+wrapNonceSize+len(dataKey)+TagSize)
	out[0] = wrapVersion
	copy(out[1:], nonce[:])
	return aead.Seal(out, nonce[:], dataKey, wrapAAD(out[0], aad)), nil
}

// UnwrapKey reverses WrapKey. A malformed blob fails with an error wrapping
// wormvault.ErrDataLoss; a blob that does not authenticate under kek and aad
// fails with ErrWrongKey (GCM cannot tell a wrong key from a forged blob).
func UnwrapKey(kek, wrapped, aad []byte) ([]byte, error) {
	if len(kek) != KeySize {
		return nil, fmt.Errorf("sse: key-encryption key is %d bytes, want %d: %w", len(kek), KeySize, wormvault.ErrInvalidArgument)
	}
	if len(wrapped) < 1+wrapNonceSize+1+TagSize || len(wrapped) > 1+wrapNonceSize+maxWrappedKey+TagSize {
		return nil, fmt.Errorf("sse: wrapped key is %d bytes: %w", len(wrapped), wormvault.ErrDataLoss)
	}
	if wrapped[0] != wrapVersion {
		return nil, fmt.Errorf("sse: unsupported wrapped-key version %d: %w", wrapped[0], wormvault.ErrDataLoss)
	}
	aead, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	key, err := aead.Open(nil, wrapped[1:1+wrapNonceSize], wrapped[1+wrapNonceSize:], wrapAAD(wrapped[0], aad))
	if err != nil {
		return nil, fmt.Errorf("sse: unwrap key (wrong key-encryption key or context, or corrupt blob): %w", ErrWrongKey)
	}
	return key, nil
}

func wrapAAD(version byte, aad []byte) []byte {
	return append([]byte{version}, aad...)
}

// DeriveKey derives a KeySize-byte key from master for one purpose and
// context with HKDF-SHA256 (no salt; info = "wormvault derive-key v1"
// followed by purpose and each context string, each preceded by its length
// as a big-endian uint32, so ("a", "bc") and ("ab", "c") differ). Use it for
// per-vault keys, Badger's key, the audit HMAC key, key-encryption keys:
// distinct purposes give independent keys. It panics if master or purpose
// is empty, a programming error.
func DeriveKey(master []byte, purpose string, context ...string) []byte {
	if len(master) == 0 || purpose == "" {
		panic("sse: DeriveKey needs a master key and a purpose")
	}
	info := []byte(deriveLabel)
	for _, s := range append([]string{purpose}, context...) {
		info = binary.BigEndian.AppendUint32(info, uint32(len(s)))
		info = append(info, s...)
	}
	k, err := hkdf.Key(sha256.New, master, nil, string(info), KeySize)
	if err != nil {
		panic("sse: DeriveKey: " + err.Error())
	}
	return k
}
