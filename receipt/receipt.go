package receipt

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/wormvault/wormvault"
)

// Domain starts every payload; it names the format and its version.
const Domain = "wormvault receipt v1"

// Algorithm is the signature algorithm of every receipt.
const Algorithm = "Ed25519"

// Operation is what committed the state a receipt describes.
type Operation string

// The operations that return a receipt.
const (
	OpUpload    Operation = "upload"
	OpRetention Operation = "retention"
	OpLegalHold Operation = "legal_hold"
)

// Errors. Each is returned wrapped with the detail that failed.
var (
	// ErrMalformed means the payload is not the canonical encoding of a
	// statement.
	ErrMalformed = errors.New("receipt: payload is not a valid wormvault receipt v1")
	// ErrSignature means the signature does not verify: the payload or
	// the signature was altered, or another key signed it.
	ErrSignature = errors.New("receipt: signature does not verify")
	// ErrWrongKey means the receipt names a signing key other than the
	// public key it is checked against.
	ErrWrongKey = errors.New("receipt: signed by another key")
)

// Statement is what a receipt says about one committed version.
type Statement struct {
	// KeyID names the key that signs the statement (KeyID of its public
	// key); Sign sets it.
	KeyID     string
	Operation Operation
	Vault     string
	Key       string
	VersionID string
	SizeBytes int64
	SHA256    []byte
	// RetentionMode is wormvault.RetentionNone when the version carries
	// no retention; RetainUntil is then zero.
	RetentionMode wormvault.RetentionMode
	RetainUntil   time.Time
	// LegalHolds are the ids of the holds standing on the version; the
	// encoding sorts them.
	LegalHolds []string
	// CommitTime is when the state was committed: the version's create
	// time for an upload, the change's time otherwise.
	CommitTime time.Time
}

// Signed is a signed receipt: the canonical payload, its Ed25519
// signature and the id of the signing key.
type Signed struct {
	Payload   []byte
	Signature []byte
	KeyID     string
}

// KeyID returns the id of a public key: the hex of the first 8 bytes of
// its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Sign encodes st, with its KeyID set to priv's, and signs it.
func Sign(priv ed25519.PrivateKey, st Statement) (Signed, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return Signed{}, fmt.Errorf("receipt: signing key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	st.KeyID = KeyID(priv.Public().(ed25519.PublicKey))
	payload, err := st.Marshal()
	if err != nil {
		return Signed{}, err
	}
	return Signed{Payload: payload, Signature: ed25519.Sign(priv, payload), KeyID: st.KeyID}, nil
}

// Verify checks r against pub and returns the statement it signs. Every
// failure wraps ErrWrongKey, ErrSignature or ErrMalformed.
func Verify(r Signed, pub ed25519.PublicKey) (Statement, error) {
	if len(pub) != ed25519.PublicKeySize {
		return Statement{}, fmt.Errorf("%w: public key is %d bytes, want %d", ErrWrongKey, len(pub), ed25519.PublicKeySize)
	}
	if id := KeyID(pub); r.KeyID != id {
		return Statement{}, fmt.Errorf("%w: the receipt names key %q, the public key given is %q", ErrWrongKey, r.KeyID, id)
	}
	if !ed25519.Verify(pub, r.Payload, r.Signature) {
		return Statement{}, fmt.Errorf("%w (key %s)", ErrSignature, r.KeyID)
	}
	st, err := Parse(r.Payload)
	if err != nil {
		// A valid signature over bytes that do not parse: the signer
		// wrote something that is not a receipt.
		return Statement{}, err
	}
	if st.KeyID != r.KeyID {
		return Statement{}, fmt.Errorf("%w: the payload names key %q, the receipt %q", ErrMalformed, st.KeyID, r.KeyID)
	}
	return st, nil
}

// pemType is the PEM block type of a public key file: PKIX, as openssl
// writes and reads it.
const pemType = "PUBLIC KEY"

// MarshalPublicKey returns pub as a PEM "PUBLIC KEY" block (PKIX), the
// form `openssl pkey -pubin` reads.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("receipt: public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der}), nil
}

// ParsePublicKey reads a public key written by MarshalPublicKey, or the
// 32 raw key bytes as base64 or hex.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	if block, _ := pem.Decode(b); block != nil {
		if block.Type != pemType {
			return nil, fmt.Errorf("receipt: PEM block is %q, want %q", block.Type, pemType)
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("receipt: public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("receipt: public key is %T, want an Ed25519 key", k)
		}
		return pub, nil
	}
	s := bytes.TrimSpace(b)
	for _, dec := range []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString} {
		if raw, err := dec(string(s)); err == nil && len(raw) == ed25519.PublicKeySize {
			return ed25519.PublicKey(raw), nil
		}
	}
	return nil, errors.New("receipt: not a public key (want PEM \"PUBLIC KEY\", or 32 bytes as hex or base64)")
}
