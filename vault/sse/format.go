package sse

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/wormvault/wormvault"
)

// Format constants of version 1. See the package documentation for the
// byte layout.
const (
	// KeySize is the size of a data key and of a key-encryption key.
	KeySize = 32
	// PackageSize is the number of plaintext bytes in every package but
	// the last.
	PackageSize = 64 << 10
	// TagSize is the GCM tag appended to every package.
	TagSize = 16
	// HeaderSize is the size of the stream header.
	HeaderSize = 76
	// MaxPackages is the most packages one stream may hold: the sequence
	// number is a uint32.
	MaxPackages = 1 << 32
	// MaxPlaintextSize is the largest plaintext one stream may hold (256 TiB).
	MaxPlaintextSize = MaxPackages * PackageSize
)

const (
	formatVersion   = 1
	cipherAES256GCM = 1

	saltSize     = 16
	prefixSize   = 8
	keyCheckSize = sha256.Size
	checksumSize = 8

	// Header field offsets.
	offVersion  = 6
	offCipher   = 7
	offPkgSize  = 8
	offSalt     = 12
	offPrefix   = offSalt + saltSize         // 28
	offKeyCheck = offPrefix + prefixSize     // 36
	offChecksum = offKeyCheck + keyCheckSize // 68

	sealedSize = PackageSize + TagSize

	infoPackageKey = "wormvault-sse v1 package key"
	infoKeyCheck   = "wormvault-sse v1 key check"
)

var magic = [6]byte{'W', 'V', 'S', 'S', 'E', 0}

// ErrWrongKey reports that a data key (or key-encryption key) is not the one
// the data was encrypted with. It wraps wormvault.ErrPermissionDenied: the
// caller presented a key that does not open the archive.
var ErrWrongKey = fmt.Errorf("%w: sse: wrong encryption key", wormvault.ErrPermissionDenied)

// header is a parsed stream header plus what is derived from it and the key.
type header struct {
	salt   [saltSize]byte
	prefix [prefixSize]byte
	raw    [HeaderSize]byte
	digest [sha256.Size]byte // SHA-256 of raw, bound into every package's AAD
}

// newHeader builds the header of a new stream and returns it with the
// package AEAD.
func newHeader(dataKey []byte, salt [saltSize]byte, prefix [prefixSize]byte) (*header, cipher.AEAD, error) {
	h := &header{salt: salt, prefix: prefix}
	b := h.raw[:]
	copy(b, magic[:])
	b[offVersion] = formatVersion
	b[offCipher] = cipherAES256GCM
	binary.BigEndian.PutUint32(b[offPkgSize:], PackageSize)
	copy(b[offSalt:], salt[:])
	copy(b[offPrefix:], prefix[:])
	aead, check, err := streamKeys(dataKey, salt[:], b[:offKeyCheck])
	if err != nil {
		return nil, nil, err
	}
	copy(b[offKeyCheck:], check)
	sum := sha256.Sum256(b[:offChecksum])
	copy(b[offChecksum:], sum[:checksumSize])
	h.digest = sha256.Sum256(b)
	return h, aead, nil
}

// parseHeader checks a header's structure and checksum; it does not need the
// key. Every failure wraps wormvault.ErrDataLoss.
func parseHeader(b []byte) (*header, error) {
	if len(b) < HeaderSize {
		return nil, fmt.Errorf("sse: header is %d bytes, want %d: %w", len(b), HeaderSize, wormvault.ErrDataLoss)
	}
	b = b[:HeaderSize]
	if !bytes.Equal(b[:len(magic)], magic[:]) {
		return nil, fmt.Errorf("sse: not an encrypted package stream (bad magic): %w", wormvault.ErrDataLoss)
	}
	sum := sha256.Sum256(b[:offChecksum])
	if !bytes.Equal(sum[:checksumSize], b[offChecksum:]) {
		return nil, fmt.Errorf("sse: header checksum mismatch: %w", wormvault.ErrDataLoss)
	}
	if v := b[offVersion]; v != formatVersion {
		return nil, fmt.Errorf("sse: unsupported format version %d: %w", v, wormvault.ErrDataLoss)
	}
	if c := b[offCipher]; c != cipherAES256GCM {
		return nil, fmt.Errorf("sse: unsupported cipher %d: %w", c, wormvault.ErrDataLoss)
	}
	if p := binary.BigEndian.Uint32(b[offPkgSize:]); p != PackageSize {
		return nil, fmt.Errorf("sse: package size %d, version 1 requires %d: %w", p, PackageSize, wormvault.ErrDataLoss)
	}
	h := &header{}
	copy(h.raw[:], b)
	copy(h.salt[:], b[offSalt:])
	copy(h.prefix[:], b[offPrefix:])
	h.digest = sha256.Sum256(b)
	return h, nil
}

// open checks dataKey against the header's key check and returns the
// package AEAD.
func (h *header) open(dataKey []byte) (cipher.AEAD, error) {
	aead, check, err := streamKeys(dataKey, h.salt[:], h.raw[:offKeyCheck])
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(check, h.raw[offKeyCheck:offChecksum]) {
		return nil, ErrWrongKey
	}
	return aead, nil
}

// streamKeys derives the package key and the key check of one stream.
func streamKeys(dataKey, salt, checked []byte) (cipher.AEAD, []byte, error) {
	if len(dataKey) != KeySize {
		return nil, nil, fmt.Errorf("sse: data key is %d bytes, want %d: %w", len(dataKey), KeySize, wormvault.ErrInvalidArgument)
	}
	pk, err := hkdf.Key(sha256.New, dataKey, salt, infoPackageKey, KeySize)
	if err != nil {
		return nil, nil, fmt.Errorf("sse: derive package key: %w", err)
	}
	ck, err := hkdf.Key(sha256.New, dataKey, salt, infoKeyCheck, KeySize)
	if err != nil {
		return nil, nil, fmt.Errorf("sse: derive key-check key: %w", err)
	}
	aead, err := newGCM(pk)
	if err != nil {
		return nil, nil, err
	}
	m := hmac.New(sha256.New, ck)
	m.Write(checked)
	return aead, m.Sum(nil), nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sse: %w", err)
	}
	return cipher.NewGCM(block)
}

// scratch holds the nonce and AAD of one package: kept in the Writer or
// RangeReader so passing them to the AEAD does not allocate.
type scratch struct {
	nonce [12]byte
	aad   [sha256.Size + 5]byte
}

// fill sets nonce = prefix || uint32(seq) and
// aad = header digest || uint32(seq) || final flag.
func (h *header) fill(s *scratch, seq uint32, final bool) {
	copy(s.nonce[:], h.prefix[:])
	binary.BigEndian.PutUint32(s.nonce[prefixSize:], seq)
	copy(s.aad[:], h.digest[:])
	binary.BigEndian.PutUint32(s.aad[sha256.Size:], seq)
	s.aad[sha256.Size+4] = 0
	if final {
		s.aad[sha256.Size+4] = 1
	}
}

// packages returns how many packages hold plainSize bytes: one at least.
func packages(plainSize int64) int64 {
	if plainSize == 0 {
		return 1
	}
	return (plainSize + PackageSize - 1) / PackageSize
}

// CiphertextSize returns the size of the encrypted stream of a plaintext of
// plainSize bytes: HeaderSize + plainSize + TagSize per package. It returns
// -1 if plainSize is negative or above MaxPlaintextSize.
func CiphertextSize(plainSize int64) int64 {
	if plainSize < 0 || plainSize > MaxPlaintextSize {
		return -1
	}
	return HeaderSize + plainSize + TagSize*packages(plainSize)
}

// errSize is returned for a ciphertext size no stream can have.
var errSize = errors.New("sse: ciphertext size matches no encrypted stream (truncated or extended)")

// PlaintextSize returns the plaintext size of an encrypted stream of
// cipherSize bytes, the inverse of CiphertextSize. A size no Writer can
// produce is an error wrapping wormvault.ErrDataLoss.
func PlaintextSize(cipherSize int64) (int64, error) {
	x := cipherSize - HeaderSize
	if cipherSize < HeaderSize+TagSize || cipherSize > CiphertextSize(MaxPlaintextSize) {
		return 0, fmt.Errorf("%w: %d bytes: %w", errSize, cipherSize, wormvault.ErrDataLoss)
	}
	full, rest := x/sealedSize, x%sealedSize
	switch {
	case rest == 0: // the last package is full
		return full * PackageSize, nil
	case rest > TagSize: // a short last package
		return full*PackageSize + rest - TagSize, nil
	case rest == TagSize && full == 0: // the empty stream
		return 0, nil
	}
	return 0, fmt.Errorf("%w: %d bytes: %w", errSize, cipherSize, wormvault.ErrDataLoss)
}
