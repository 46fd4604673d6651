package vault

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/lock"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/receipt"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/journal"
	"github.com/wormvault/wormvault/vault/sse"
)

// The receipt key signs the receipts of committed states (package
// receipt). It is an Ed25519 key created on the first start, kept in the
// catalog's meta table as its seed wrapped under a key derived from the
// master key, and journaled as a meta_put entry in the same commit, so a
// catalog rebuild restores the very same key: receipts issued before the
// rebuild still verify after it. Its creation is an audit event carrying
// the public key, so the trail shows which key the server has been
// signing with since when.

// metaReceiptKey names the wrapped seed in the meta table; it is also the
// wrapping's associated data.
const metaReceiptKey = "receipt-key"

// receiptKey is the loaded signing key.
type receiptKey struct {
	priv ed25519.PrivateKey
	id   string
}

func newReceiptKey(seed []byte) *receiptKey {
	priv := ed25519.NewKeyFromSeed(seed)
	return &receiptKey{priv: priv, id: receipt.KeyID(priv.Public().(ed25519.PublicKey))}
}

// openReceiptKey loads the receipt key, creating it on the first start.
// It runs in Open, after any rebuild, before the store serves calls.
func (s *Store) openReceiptKey(ctx context.Context) error {
	kek := s.master.derive("receipt")
	var wrapped []byte
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		wrapped, err = tx.Meta(metaReceiptKey)
		return err
	}); err != nil {
		return fmt.Errorf("vault: receipt key: %w", err)
	}
	if wrapped != nil {
		seed, err := sse.UnwrapKey(kek, wrapped, []byte(metaReceiptKey))
		if err != nil || len(seed) != ed25519.SeedSize {
			return fmt.Errorf("%w: vault: the receipt key does not unwrap under this master key (%d bytes): %v", wormvault.ErrDataLoss, len(seed), err)
		}
		s.receipts = newReceiptKey(seed)
		return nil
	}
	seed, err := sse.GenerateDataKey() // 32 random bytes, an Ed25519 seed
	if err != nil {
		return fmt.Errorf("vault: receipt key: %w", err)
	}
	if wrapped, err = sse.WrapKey(kek, seed, []byte(metaReceiptKey)); err != nil {
		return fmt.Errorf("vault: receipt key: %w", err)
	}
	key := newReceiptKey(seed)
	now := s.clock.Now().Time
	err = s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		e := entryAt(now)
		e.Change = &recordv1.JournalEntry_MetaPut{MetaPut: &recordv1.JournalMetaPut{Name: metaReceiptKey, Value: wrapped}}
		ev := auditEvent(audit.KindReceiptKeyCreate, Caller{}, "", "", "", map[string]string{
			"key_id":     key.id,
			"algorithm":  receipt.Algorithm,
			"public_key": hex.EncodeToString(key.priv.Public().(ed25519.PublicKey)),
		})
		return s.audited(tx, []*journal.Entry{e}, tx.PutMeta(metaReceiptKey, wrapped), ev)
	})
	if err != nil {
		return fmt.Errorf("vault: create receipt key: %w", err)
	}
	s.receipts = key
	s.log.Info("created the receipt signing key", "key_id", key.id)
	return nil
}

// ReceiptKey returns the public key that signs receipts and its id.
func (s *Store) ReceiptKey() (ed25519.PublicKey, string) {
	return s.receipts.priv.Public().(ed25519.PublicKey), s.receipts.id
}

// Receipt signs the receipt of the state a describes, as op committed it:
// a is what Upload (op receipt.OpUpload), SetRetention (OpRetention) or
// SetLegalHold (OpLegalHold) returned. It reads nothing from the catalog,
// so it states exactly what that call committed.
func (s *Store) Receipt(op receipt.Operation, a *Archive) (receipt.Signed, error) {
	rec := a.Record
	if rec.GetDeleteMarker() {
		return receipt.Signed{}, fmt.Errorf("vault.Receipt %s/%s: %w", rec.GetVault(), rec.GetKey(), wormvault.InvalidArgument("version_id", "a delete marker has no receipt"))
	}
	at := a.CommitTime
	if at.IsZero() {
		at = rec.GetCreateTime().AsTime()
	}
	ret := retentionFromRecord(rec.GetRetention())
	st := receipt.Statement{
		Operation:     op,
		Vault:         rec.GetVault(),
		Key:           rec.GetKey(),
		VersionID:     rec.GetVersionId(),
		SizeBytes:     rec.GetSizeBytes(),
		SHA256:        rec.GetSha256(),
		RetentionMode: ret.Mode,
		LegalHolds:    holdIDs(rec.GetLegalHolds()),
		CommitTime:    at,
	}
	if ret.Mode != wormvault.RetentionNone {
		st.RetainUntil = ret.RetainUntil
	}
	r, err := receipt.Sign(s.receipts.priv, st)
	if err != nil {
		return receipt.Signed{}, fmt.Errorf("vault.Receipt %s/%s@%s: %w", rec.GetVault(), rec.GetKey(), rec.GetVersionId(), err)
	}
	return r, nil
}

// holdIDs returns the ids of the holds standing on a version.
func holdIDs(hs []*recordv1.LegalHold) []string {
	out := make([]string, 0, len(hs))
	for _, h := range hs {
		out = append(out, lock.HoldID(h.GetHoldId()))
	}
	return out
}
