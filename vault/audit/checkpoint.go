package audit

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/minio/sha256-simd"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/catalog"
)

// DeriveCheckpointKey derives the checkpoint HMAC key from the master key
// (HKDF-SHA256, info "wormvault audit checkpoint v1"), so it is never the
// master key itself and never stored.
func DeriveCheckpointKey(masterKey []byte) ([]byte, error) {
	if len(masterKey) < 16 {
		return nil, errors.New("audit: master key shorter than 16 bytes")
	}
	return hkdf.Key(sha256.New, masterKey, nil, "wormvault audit checkpoint v1", 32)
}

// keyID names a checkpoint key without revealing it.
func keyID(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("wormvault audit checkpoint key id"))
	return m.Sum(nil)[:8]
}

// checkpointMAC is the HMAC of a checkpoint, as recordv1.AuditCheckpoint
// documents.
func checkpointMAC(key []byte, cp *recordv1.AuditCheckpoint) []byte {
	m := hmac.New(sha256.New, key)
	b := []byte("wormvault audit checkpoint v1\x00")
	b = binary.BigEndian.AppendUint64(b, cp.GetSequence())
	b = append(b, cp.GetHeadSha256()...)
	b = binary.BigEndian.AppendUint64(b, uint64(cp.GetTime().GetSeconds()))
	b = binary.BigEndian.AppendUint32(b, uint32(cp.GetTime().GetNanos()))
	m.Write(b)
	return m.Sum(nil)
}

// Checkpoint signs the current head and stores the checkpoint; it returns
// it so the operator can also keep it elsewhere. When no event was added
// since the latest checkpoint it returns that one and stores nothing; on
// an empty trail it returns nil. The server calls it periodically.
func (t *Trail) Checkpoint(ctx context.Context) (*recordv1.AuditCheckpoint, error) {
	if t.sign == nil {
		return nil, errors.New("audit.Checkpoint: no checkpoint key configured")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var cp *recordv1.AuditCheckpoint
	err := t.retry(ctx, func(tx *catalog.Txn) error {
		cp = nil
		head, headSHA, err := tx.AuditHead()
		if err != nil || head == 0 {
			return err
		}
		if seq, b, ok, err := tx.LatestAuditCheckpoint(); err != nil {
			return err
		} else if ok && seq == head {
			cp = new(recordv1.AuditCheckpoint)
			return proto.Unmarshal(b, cp)
		}
		cp = &recordv1.AuditCheckpoint{
			Sequence:   head,
			HeadSha256: headSHA,
			Time:       timestamppb.New(t.now()),
			KeyId:      keyID(t.sign),
		}
		cp.Hmac = checkpointMAC(t.sign, cp)
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(cp)
		if err != nil {
			return err
		}
		return tx.PutAuditCheckpoint(head, b)
	})
	if err != nil {
		return nil, fmt.Errorf("audit.Checkpoint: %w", err)
	}
	return cp, nil
}

// checkCheckpoint verifies a checkpoint's key and HMAC (not the chain).
func (t *Trail) checkCheckpoint(cp *recordv1.AuditCheckpoint) error {
	key, ok := t.keys[string(cp.GetKeyId())]
	if !ok {
		return fmt.Errorf("%w: checkpoint at %d is signed by unknown key %x", ErrTampered, cp.GetSequence(), cp.GetKeyId())
	}
	if !hmac.Equal(checkpointMAC(key, cp), cp.GetHmac()) {
		return fmt.Errorf("%w: checkpoint at %d: HMAC does not verify", ErrTampered, cp.GetSequence())
	}
	return nil
}

// VerifyCheckpoint checks a checkpoint kept outside the catalog against the
// stored trail: its HMAC, and that the event at its sequence still has the
// digest it signed. With Verify reporting OK, this proves the trail up to
// cp's sequence is the one that was checkpointed. Errors wrap ErrTampered
// when the trail does not match.
func (t *Trail) VerifyCheckpoint(ctx context.Context, cp *recordv1.AuditCheckpoint) error {
	if err := t.checkCheckpoint(cp); err != nil {
		return fmt.Errorf("audit.VerifyCheckpoint: %w", err)
	}
	var b []byte
	var ok bool
	if err := t.cat.View(func(tx *catalog.Txn) (err error) {
		b, ok, err = tx.AuditEvent(cp.GetSequence())
		return err
	}); err != nil {
		return fmt.Errorf("audit.VerifyCheckpoint: %w", err)
	}
	if !ok {
		return fmt.Errorf("audit.VerifyCheckpoint: %w: event %d is missing", ErrTampered, cp.GetSequence())
	}
	ev, err := DecodeEvent(b)
	if err != nil {
		return fmt.Errorf("audit.VerifyCheckpoint: %w", err)
	}
	if !bytes.Equal(ev.GetSha256(), cp.GetHeadSha256()) {
		return fmt.Errorf("audit.VerifyCheckpoint: %w: event %d differs from the checkpoint: trail rewritten", ErrTampered, cp.GetSequence())
	}
	return nil
}
