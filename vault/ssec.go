package vault

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/sse"
)

// Customer-provided keys (SSE-C, ENCRYPTION_MODE_CUSTOMER). The caller
// sends a 32-byte key with every request that writes or reads such a
// version; the server keeps none of it:
//
//   - the version's data key is wrapped under
//     sse.DeriveKey(customer key, "sse-c", vault, version id), so only the
//     same key, for the same version, unwraps it; the master key plays no
//     part (a master-key rotation has nothing to re-wrap);
//   - a salted HMAC of the customer key (customer_key_salt,
//     customer_key_hmac) lets a read tell a wrong key (PERMISSION_DENIED,
//     before any byte) from a damaged record (DATA_LOSS).
//
// The key crosses the network only over TLS: a key sent in clear is
// refused (and is to be considered exposed), and a CUSTOMER upload or
// read on a connection without TLS is refused even without the key. As in
// S3, reading a version's metadata (GetArchive) needs the key too; listing
// and the retention and legal-hold calls do not.
//
// CUSTOMER versions are never stored inline: the server cannot decrypt
// them, so the scrub can only verify their stored bytes through the
// bitrot hashes of shard files.

// The gRPC metadata that carry a customer key, both base64 (standard
// alphabet): the key and the SHA-256 of the key, which guards against a
// key garbled on the way.
const (
	CustomerKeyMetadata       = "x-wormvault-sse-c-key"
	CustomerKeySHA256Metadata = "x-wormvault-sse-c-key-sha256"
)

const (
	customerKeySaltSize   = 16
	customerKeyCheckLabel = "wormvault sse-c key check v1"
)

// CustomerKey is a caller's SSE-C key for one request. It never prints:
// fmt and slog show "REDACTED". Its zero value means no key was sent. It
// holds a pointer so that structs carrying it (UploadRequest, Encryption)
// stay comparable and copies share the bytes Wipe clears.
type CustomerKey struct{ b *[sse.KeySize]byte }

// LogValue implements slog.LogValuer.
func (CustomerKey) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// String implements fmt.Stringer.
func (CustomerKey) String() string { return "REDACTED" }

// GoString implements fmt.GoStringer.
func (CustomerKey) GoString() string { return "REDACTED" }

// IsZero reports whether no key was sent.
func (k CustomerKey) IsZero() bool { return k.b == nil }

// Wipe overwrites the key's bytes; every copy of k shares them, so a
// request wipes its key once, when it ends.
func (k CustomerKey) Wipe() {
	if k.b != nil {
		clear(k.b[:])
	}
}

// ParseCustomerKey decodes the SSE-C metadata: key is the base64 of a
// 32-byte key and sum the base64 of its SHA-256. Both empty is the zero
// key. Errors name the metadata at fault and never quote the key.
func ParseCustomerKey(key, sum string) (CustomerKey, error) {
	switch {
	case key == "" && sum == "":
		return CustomerKey{}, nil
	case key == "":
		return CustomerKey{}, wormvault.InvalidArgument(CustomerKeyMetadata, "required with %s", CustomerKeySHA256Metadata)
	case sum == "":
		return CustomerKey{}, wormvault.InvalidArgument(CustomerKeySHA256Metadata, "required with %s: the base64 of the key's SHA-256", CustomerKeyMetadata)
	}
	raw, err := decodeBase64(key)
	if err != nil || len(raw) != sse.KeySize {
		clear(raw)
		return CustomerKey{}, wormvault.InvalidArgument(CustomerKeyMetadata, "must be the base64 of a %d-byte key", sse.KeySize)
	}
	want, err := decodeBase64(sum)
	got := sha256.Sum256(raw)
	if err != nil || subtle.ConstantTimeCompare(got[:], want) != 1 {
		clear(raw)
		return CustomerKey{}, wormvault.InvalidArgument(CustomerKeySHA256Metadata, "is not the base64 of the SHA-256 of the key sent in %s", CustomerKeyMetadata)
	}
	k := CustomerKey{b: new([sse.KeySize]byte)}
	copy(k.b[:], raw)
	clear(raw)
	return k, nil
}

// decodeBase64 accepts standard base64 with or without padding.
func decodeBase64(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// NewCustomerKey returns a copy of raw as a customer key, for callers
// inside the process (tests, tools); raw must be 32 bytes.
func NewCustomerKey(raw []byte) (CustomerKey, error) {
	if len(raw) != sse.KeySize {
		return CustomerKey{}, wormvault.InvalidArgument(CustomerKeyMetadata, "must be a %d-byte key", sse.KeySize)
	}
	k := CustomerKey{b: new([sse.KeySize]byte)}
	copy(k.b[:], raw)
	return k, nil
}

// customerKeyCheck is the HMAC that recognises a customer key.
func customerKeyCheck(salt []byte, k CustomerKey) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(customerKeyCheckLabel))
	m.Write(k.b[:])
	return m.Sum(nil)
}

// customerKEK is the key-encryption key of one version's data key.
func customerKEK(k CustomerKey, vault, versionID string) []byte {
	return sse.DeriveKey(k.b[:], "sse-c", vault, versionID)
}

// isCustomer reports whether a version is encrypted with a customer key.
func isCustomer(rec *recordv1.Version) bool {
	return rec.GetEncryption().GetMode() == recordv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER
}

// checkCustomerUpload checks an upload's SSE-C facts before anything is
// read: a CUSTOMER upload needs TLS and the key, and the key comes only
// with mode CUSTOMER (asked explicitly, so policies on request.encryption
// see what is done).
func checkCustomerUpload(caller Caller, req UploadRequest) error {
	customer := req.Encryption == recordv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER
	switch {
	case !customer && !req.CustomerKey.IsZero():
		return wormvault.InvalidArgument("header.encryption.mode", "must be ENCRYPTION_MODE_CUSTOMER when %s is sent", CustomerKeyMetadata)
	case !customer:
		return nil
	case !caller.SecureTransport:
		return fmt.Errorf("%w: ENCRYPTION_MODE_CUSTOMER is accepted only over TLS", wormvault.ErrTLSRequired)
	case req.CustomerKey.IsZero():
		return wormvault.InvalidArgument(CustomerKeyMetadata, "required with header.encryption.mode ENCRYPTION_MODE_CUSTOMER (and %s)", CustomerKeySHA256Metadata)
	}
	return nil
}

// newCustomerEncryption returns a fresh data key for a new version and
// the record of it wrapped under the customer's key.
func newCustomerEncryption(k CustomerKey, vault, versionID string) ([]byte, *recordv1.Encryption, error) {
	if k.IsZero() {
		return nil, nil, wormvault.InvalidArgument(CustomerKeyMetadata, "required with ENCRYPTION_MODE_CUSTOMER")
	}
	key, err := sse.GenerateDataKey()
	if err != nil {
		return nil, nil, err
	}
	salt := make([]byte, customerKeySaltSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, nil, fmt.Errorf("vault: customer key salt: %w", err)
	}
	kek := customerKEK(k, vault, versionID)
	defer clear(kek)
	wrapped, err := sse.WrapKey(kek, key, []byte(versionID))
	if err != nil {
		return nil, nil, err
	}
	return key, &recordv1.Encryption{
		Mode:            recordv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER,
		WrappedKey:      wrapped,
		CustomerKeySalt: salt,
		CustomerKeyHmac: customerKeyCheck(salt, k),
	}, nil
}

// checkCustomerKey checks the key a read of rec (GetArchive or a
// download) came with: a CUSTOMER version needs TLS and its own key;
// other versions take no key.
func checkCustomerKey(caller Caller, rec *recordv1.Version, k CustomerKey) error {
	if !isCustomer(rec) {
		if !k.IsZero() {
			return wormvault.InvalidArgument(CustomerKeyMetadata, "version %s is not encrypted with a customer key: send no key", rec.GetVersionId())
		}
		return nil
	}
	enc := rec.GetEncryption()
	switch {
	case !caller.SecureTransport:
		return fmt.Errorf("%w: version %s is encrypted with a customer key (SSE-C), which travels only over TLS", wormvault.ErrTLSRequired, rec.GetVersionId())
	case k.IsZero():
		return wormvault.InvalidArgument(CustomerKeyMetadata, "version %s is encrypted with a customer key: send it (and %s)", rec.GetVersionId(), CustomerKeySHA256Metadata)
	case len(enc.GetCustomerKeySalt()) == 0 || len(enc.GetCustomerKeyHmac()) == 0:
		return fmt.Errorf("%w: version %s is recorded as CUSTOMER-encrypted without its key check", wormvault.ErrDataLoss, rec.GetVersionId())
	case !hmac.Equal(customerKeyCheck(enc.GetCustomerKeySalt(), k), enc.GetCustomerKeyHmac()):
		return fmt.Errorf("%w: version %s", wormvault.ErrCustomerKeyMismatch, rec.GetVersionId())
	}
	return nil
}

// customerDataKey unwraps a CUSTOMER version's data key with the caller's
// key, after checkCustomerKey. A key the HMAC recognises that does not
// unwrap means the record is damaged.
func customerDataKey(caller Caller, rec *recordv1.Version, k CustomerKey) ([]byte, error) {
	if err := checkCustomerKey(caller, rec, k); err != nil {
		return nil, err
	}
	kek := customerKEK(k, rec.GetVault(), rec.GetVersionId())
	defer clear(kek)
	key, err := sse.UnwrapKey(kek, rec.GetEncryption().GetWrappedKey(), []byte(rec.GetVersionId()))
	if err != nil {
		if errors.Is(err, wormvault.ErrDataLoss) || errors.Is(err, sse.ErrWrongKey) {
			return nil, fmt.Errorf("%w: the data key of %s does not unwrap under the customer key its record recognises (a damaged record): %v", wormvault.ErrDataLoss, rec.GetVersionId(), err)
		}
		return nil, err
	}
	return key, nil
}
