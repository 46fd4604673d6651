package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/receipt"
)

// Receipt is what the server signs for a committed upload, retention
// change or legal-hold change: the canonical bytes of what was stored and
// how it is protected (package receipt documents them), an Ed25519
// signature, and the signing key's id. Check it offline with VerifyReceipt
// against the key ReceiptKey returns; keep it as JSON (it marshals to
// ReceiptJSON) to check it years later.
type Receipt struct {
	Payload   []byte
	Signature []byte
	KeyID     string
}

// IsZero reports whether r is empty: the server sent no receipt (a server
// older than receipts).
func (r Receipt) IsZero() bool { return len(r.Payload) == 0 && len(r.Signature) == 0 && r.KeyID == "" }

// Signed returns r in package receipt's terms.
func (r Receipt) Signed() receipt.Signed {
	return receipt.Signed{Payload: r.Payload, Signature: r.Signature, KeyID: r.KeyID}
}

// ReceiptFromProto converts a receipt from the API; nil gives the zero
// Receipt.
func ReceiptFromProto(p *wormvaultv1.Receipt) Receipt {
	return Receipt{Payload: bytes.Clone(p.GetPayload()), Signature: bytes.Clone(p.GetSignature()), KeyID: p.GetKeyId()}
}

// VerifyReceipt checks r's signature with publicKey (32 raw Ed25519 bytes,
// as ReceiptKey returns them, or receipt.ParsePublicKey reads them from a
// file) and returns what r states. It needs no server. Errors wrap
// receipt.ErrWrongKey, receipt.ErrSignature or receipt.ErrMalformed.
func VerifyReceipt(r Receipt, publicKey []byte) (receipt.Statement, error) {
	if r.IsZero() {
		return receipt.Statement{}, fmt.Errorf("%w: the receipt is empty", receipt.ErrMalformed)
	}
	return receipt.Verify(r.Signed(), ed25519.PublicKey(publicKey))
}

// ReceiptKey is the public key that signs the server's receipts.
type ReceiptKey struct {
	PublicKey ed25519.PublicKey
	// KeyID is receipt.KeyID(PublicKey); receipts name it.
	KeyID string
	// Algorithm is receipt.Algorithm, "Ed25519".
	Algorithm string
}

// ReceiptKey fetches the public key that signs the server's receipts. Any
// authenticated caller may fetch it. To verify receipts without trusting
// the server later, fetch it once and keep it (or compare it with the
// RECEIPT_KEY_CREATE event of the audit trail).
func (c *Client) ReceiptKey(ctx context.Context) (*ReceiptKey, error) {
	resp, err := retry(ctx, c, func(ctx context.Context) (*wormvaultv1.GetReceiptKeyResponse, error) {
		return c.audits.GetReceiptKey(ctx, &wormvaultv1.GetReceiptKeyRequest{})
	})
	if err != nil {
		return nil, err
	}
	pub := ed25519.PublicKey(resp.GetPublicKey())
	if len(pub) != ed25519.PublicKeySize || resp.GetAlgorithm() != receipt.Algorithm {
		return nil, errorf("receipt key: the server sent a %d-byte %q key, want a %d-byte %s key", len(pub), resp.GetAlgorithm(), ed25519.PublicKeySize, receipt.Algorithm)
	}
	if id := receipt.KeyID(pub); id != resp.GetKeyId() {
		return nil, errorf("receipt key: the server names its key %q, but that key's id is %q", resp.GetKeyId(), id)
	}
	return &ReceiptKey{PublicKey: pub, KeyID: resp.GetKeyId(), Algorithm: resp.GetAlgorithm()}, nil
}

// WithReceipt stores the server's receipt of the upload in *dst once the
// upload succeeds (the zero Receipt if the server sent none).
func WithReceipt(dst *Receipt) UploadOption {
	return func(o *uploadOptions) { o.receipt = dst }
}

// ChangeOption configures SetRetention and SetLegalHold.
type ChangeOption func(*changeOptions)

type changeOptions struct {
	receipt *Receipt
}

// WithChangeReceipt stores the server's receipt of a retention or
// legal-hold change in *dst once the change succeeds.
func WithChangeReceipt(dst *Receipt) ChangeOption {
	return func(o *changeOptions) { o.receipt = dst }
}

// keepReceipt hands a response's receipt to the options that asked for it.
func keepReceipt(opts []ChangeOption, p *wormvaultv1.Receipt) {
	var o changeOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.receipt != nil {
		*o.receipt = ReceiptFromProto(p)
	}
}

// ReceiptJSON is the JSON form of a receipt: what `wormvault put --receipt`
// writes and batch receipts embed.
//
//	{
//	  "payload":   base64 of the canonical bytes that were signed,
//	  "signature": base64 of the Ed25519 signature,
//	  "key_id":    the signing key's id (16 hex digits),
//	  "decoded":   the payload spelled out for people (DecodedReceipt)
//	}
//
// Only payload, signature and key_id are evidence; decoded is a
// convenience that Verify checks against the payload, so an edited
// decoded section is caught like an edited payload.
type ReceiptJSON struct {
	Payload   []byte          `json:"payload"`
	Signature []byte          `json:"signature"`
	KeyID     string          `json:"key_id"`
	Decoded   *DecodedReceipt `json:"decoded,omitempty"`
}

// DecodedReceipt is a receipt's statement in JSON: times RFC 3339 UTC with
// nanoseconds, sha256 in hex, retention fields empty without retention.
type DecodedReceipt struct {
	Operation     string   `json:"operation"`
	Vault         string   `json:"vault"`
	Key           string   `json:"key"`
	VersionID     string   `json:"version_id"`
	SizeBytes     int64    `json:"size_bytes"`
	SHA256        string   `json:"sha256"`
	RetentionMode string   `json:"retention_mode"`
	RetainUntil   string   `json:"retain_until"`
	LegalHolds    []string `json:"legal_holds"`
	CommitTime    string   `json:"commit_time"`
	KeyID         string   `json:"key_id"`
}

// DecodeStatement spells a statement out as DecodedReceipt.
func DecodeStatement(st receipt.Statement) DecodedReceipt {
	d := DecodedReceipt{
		Operation:  string(st.Operation),
		Vault:      st.Vault,
		Key:        st.Key,
		VersionID:  st.VersionID,
		SizeBytes:  st.SizeBytes,
		SHA256:     hex.EncodeToString(st.SHA256),
		LegalHolds: slices.Sorted(slices.Values(st.LegalHolds)),
		CommitTime: st.CommitTime.UTC().Format(time.RFC3339Nano),
		KeyID:      st.KeyID,
	}
	if d.LegalHolds == nil {
		d.LegalHolds = []string{}
	}
	if st.RetentionMode != 0 {
		d.RetentionMode = st.RetentionMode.String()
		d.RetainUntil = st.RetainUntil.UTC().Format(time.RFC3339Nano)
	}
	return d
}

// JSON returns r's JSON form, with the payload decoded (without checking
// the signature) when it parses.
func (r Receipt) JSON() ReceiptJSON {
	j := ReceiptJSON{Payload: r.Payload, Signature: r.Signature, KeyID: r.KeyID}
	if st, err := receipt.Parse(r.Payload); err == nil {
		d := DecodeStatement(st)
		j.Decoded = &d
	}
	return j
}

// MarshalJSON writes r as ReceiptJSON.
func (r Receipt) MarshalJSON() ([]byte, error) { return json.Marshal(r.JSON()) }

// UnmarshalJSON reads ReceiptJSON; the decoded section is not evidence and
// is dropped (ReceiptJSON.Verify checks it).
func (r *Receipt) UnmarshalJSON(b []byte) error {
	var j ReceiptJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = j.Receipt()
	return nil
}

// Receipt returns the evidence of j.
func (j ReceiptJSON) Receipt() Receipt {
	return Receipt{Payload: j.Payload, Signature: j.Signature, KeyID: j.KeyID}
}

// Verify checks j's signature with publicKey, as VerifyReceipt does, and
// that its decoded section (when present) says what the signed payload
// says.
func (j ReceiptJSON) Verify(publicKey []byte) (receipt.Statement, error) {
	st, err := VerifyReceipt(j.Receipt(), publicKey)
	if err != nil {
		return receipt.Statement{}, err
	}
	if j.Decoded != nil {
		want, _ := json.Marshal(DecodeStatement(st))
		got, _ := json.Marshal(j.Decoded)
		if !bytes.Equal(got, want) {
			return receipt.Statement{}, fmt.Errorf("%w: the decoded section disagrees with the signed payload (the payload says %s)", receipt.ErrMalformed, want)
		}
	}
	return st, nil
}
