package audit

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/catalog"
)

func TestVerifyLongChain(t *testing.T) {
	f := newFixture(t)
	const n = 5000
	for lo := 0; lo < n; lo += 1000 {
		f.appendRange(t, lo, lo+1000)
		if _, err := f.trail.Checkpoint(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	r := f.verify(t)
	wantOK(t, r, n)
	if r.CheckpointsChecked != 5 {
		t.Errorf("CheckpointsChecked = %d, want 5", r.CheckpointsChecked)
	}
}

func TestVerifyEmpty(t *testing.T) {
	f := newFixture(t)
	wantOK(t, f.verify(t), 0)
	if cp, err := f.trail.Checkpoint(t.Context()); cp != nil || err != nil {
		t.Fatalf("Checkpoint of an empty trail = %v, %v", cp, err)
	}
}

// TestVerifyEditedEvent is the acceptance test: editing any byte of one
// stored event makes Verify report exactly that sequence.
func TestVerifyEditedEvent(t *testing.T) {
	for _, seq := range []uint64{1, 7, 20} {
		f := newFixture(t)
		f.appendN(t, 20)
		orig := f.raw(t, seq)
		for _, at := range []int{0, 5, len(orig) / 2, len(orig) - trailerLen, len(orig) - 1} {
			t.Run(fmt.Sprintf("event %d byte %d", seq, at), func(t *testing.T) {
				b := bytes.Clone(orig)
				b[at] ^= 0x01
				f.tamper(t, func(tx *catalog.Txn) error { return tx.SetAuditEventForTest(seq, b) })
				r := f.verify(t)
				wantBad(t, r, seq)
				if r.EventsChecked != int64(seq-1) {
					t.Errorf("EventsChecked = %d, want %d", r.EventsChecked, seq-1)
				}
			})
		}
		// Editing a field and re-encoding without fixing the digest.
		ev, err := DecodeEvent(orig)
		if err != nil {
			t.Fatal(err)
		}
		sum := ev.GetSha256()
		ev.Principal = "mallory"
		b, _ := encodeEvent(ev)
		b = append(b[:len(b)-32], sum...)
		f.tamper(t, func(tx *catalog.Txn) error { return tx.SetAuditEventForTest(seq, b) })
		wantBad(t, f.verify(t), seq)
		// Restored bytes verify again.
		f.tamper(t, func(tx *catalog.Txn) error { return tx.SetAuditEventForTest(seq, orig) })
		wantOK(t, f.verify(t), 20)
	}
}

func TestVerifyDeletedEvent(t *testing.T) {
	for _, seq := range []uint64{1, 7, 20} {
		t.Run(fmt.Sprint(seq), func(t *testing.T) {
			f := newFixture(t)
			f.appendN(t, 20)
			f.tamper(t, func(tx *catalog.Txn) error { return tx.SetAuditEventForTest(seq, nil) })
			wantBad(t, f.verify(t), seq)
		})
	}
	// Dropping the newest events and moving the head back to match is
	// caught by a checkpoint that covered them.
	t.Run("truncated", func(t *testing.T) {
		f := newFixture(t)
		f.appendN(t, 20)
		if _, err := f.trail.Checkpoint(t.Context()); err != nil {
			t.Fatal(err)
		}
		sha18 := must(DecodeEvent(f.raw(t, 18))).GetSha256()
		f.tamper(t, func(tx *catalog.Txn) error {
			for _, seq := range []uint64{19, 20} {
				if err := tx.SetAuditEventForTest(seq, nil); err != nil {
					return err
				}
			}
			return tx.SetAuditHeadForTest(18, sha18)
		})
		wantBad(t, f.verify(t), 19)
	})
}

func TestVerifyMovedEventAndHead(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 10)
	e3 := f.raw(t, 3)
	f.tamper(t, func(tx *catalog.Txn) error { return tx.SetAuditEventForTest(4, e3) })
	wantBad(t, f.verify(t), 4)
	f.tamper(t, func(tx *catalog.Txn) error { return tx.SetAuditEventForTest(4, nil) })
	f.tamper(t, func(tx *catalog.Txn) error { return tx.SetAuditEventForTest(3, nil) })
	wantBad(t, f.verify(t), 3)

	g := newFixture(t)
	g.appendN(t, 10)
	sha := must(DecodeEvent(g.raw(t, 10))).GetSha256()
	g.tamper(t, func(tx *catalog.Txn) error { return tx.SetAuditHeadForTest(10, make([]byte, 32)) })
	wantBad(t, g.verify(t), 10)
	g.tamper(t, func(tx *catalog.Txn) error { return tx.SetAuditHeadForTest(12, sha) })
	wantBad(t, g.verify(t), 11)
	g.tamper(t, func(tx *catalog.Txn) error { return tx.SetAuditHeadForTest(8, sha) })
	wantBad(t, g.verify(t), 9)
	g.tamper(t, func(tx *catalog.Txn) error { return tx.SetAuditHeadForTest(10, sha[:5]) })
	wantBad(t, g.verify(t), 1)
	// A corrupt head also stops appends rather than forking the chain.
	if err := g.trail.Record(t.Context(), sample(0)); !errors.Is(err, wormvault.ErrDataLoss) {
		t.Errorf("Record on a corrupt head = %v", err)
	}
	g.tamper(t, func(tx *catalog.Txn) error { return tx.SetAuditHeadForTest(10, sha) })
	wantOK(t, g.verify(t), 10)
}

// TestVerifyRecomputedDigest: an edited event whose digest was recomputed
// verifies alone; its successor's prev_sha256 catches it.
func TestVerifyRecomputedDigest(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 10)
	ev := must(DecodeEvent(f.raw(t, 5)))
	ev.Principal = "mallory"
	b, _ := encodeEvent(ev)
	f.tamper(t, func(tx *catalog.Txn) error { return tx.SetAuditEventForTest(5, b) })
	wantBad(t, f.verify(t), 6)
}

// TestVerifyWholesaleRewrite: recomputing the whole chain after an edit
// passes every chain check; the signed checkpoint catches it.
func TestVerifyWholesaleRewrite(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 20)
	cp, err := f.trail.Checkpoint(t.Context())
	if err != nil || cp.GetSequence() != 20 {
		t.Fatalf("Checkpoint = %v, %v", cp, err)
	}
	f.appendRange(t, 20, 30)
	if err := f.trail.VerifyCheckpoint(t.Context(), cp); err != nil {
		t.Fatal(err)
	}

	f.rewrite(t, 5, func(ev *recordv1.AuditEvent) { ev.Principal = "mallory" })
	unsigned := New(f.cat, Config{}) // sees only the chain: consistent
	if r := must(unsigned.Verify(t.Context())); r.OK || r.FirstBadSequence != 20 {
		// A trail without the key cannot check the HMAC, so the stored
		// checkpoint fails as unverifiable; the chain itself is fine.
		t.Fatalf("Verify without key = %+v", r)
	}
	r := f.verify(t)
	wantBad(t, r, 20)
	if r.EventsChecked != 19 {
		t.Errorf("EventsChecked = %d, want 19", r.EventsChecked)
	}
	if err := f.trail.VerifyCheckpoint(t.Context(), cp); !errors.Is(err, ErrTampered) {
		t.Errorf("VerifyCheckpoint after rewrite = %v", err)
	}

	// The attacker signs a checkpoint of the rewritten chain without the
	// key: it does not verify, and the genuine one still fails.
	g := newFixture(t)
	g.appendN(t, 20)
	if _, err := g.trail.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	g.rewrite(t, 20, func(ev *recordv1.AuditEvent) { ev.Details["i"] = "edited" })
	// Stack a forged checkpoint of the rewritten head on top.
	g.appendRange(t, 20, 21)
	forged := New(g.cat, Config{CheckpointKey: []byte("not the master-derived key......")})
	if _, err := forged.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantBad(t, g.verify(t), 20)
	if err := g.trail.VerifyCheckpoint(t.Context(), must(forged.Checkpoint(t.Context()))); !errors.Is(err, ErrTampered) {
		t.Errorf("VerifyCheckpoint(forged) = %v", err)
	}
	// A rewrite after the last checkpoint is not covered by it.
	h := newFixture(t)
	h.appendN(t, 10)
	if _, err := h.trail.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.appendRange(t, 10, 15)
	h.rewrite(t, 12, func(ev *recordv1.AuditEvent) { ev.Principal = "mallory" })
	wantOK(t, h.verify(t), 15)
}

func TestCheckpointKeys(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 5)
	cp1 := must(f.trail.Checkpoint(t.Context()))
	if again := must(f.trail.Checkpoint(t.Context())); again.GetSequence() != 5 || !bytes.Equal(again.GetHmac(), cp1.GetHmac()) {
		t.Fatalf("Checkpoint without new events = %v, want the stored one %v", again, cp1)
	}
	// After a master key rotation, new checkpoints use the new key and old
	// ones verify with the retired key.
	newKey := must(DeriveCheckpointKey([]byte("a brand new master key of 32 by.")))
	rotated := New(f.cat, Config{CheckpointKey: newKey, RetiredCheckpointKeys: [][]byte{testKey}})
	f.appendRange(t, 5, 8)
	cp2 := must(rotated.Checkpoint(t.Context()))
	if bytes.Equal(cp2.GetKeyId(), cp1.GetKeyId()) {
		t.Fatal("rotated checkpoint has the old key id")
	}
	r := must(rotated.Verify(t.Context()))
	wantOK(t, r, 8)
	if r.CheckpointsChecked != 2 {
		t.Errorf("CheckpointsChecked = %d", r.CheckpointsChecked)
	}
	// Without the retired key the old checkpoint cannot be verified.
	wantBad(t, must(New(f.cat, Config{CheckpointKey: newKey}).Verify(t.Context())), 5)
	if _, err := New(f.cat, Config{}).Checkpoint(t.Context()); err == nil {
		t.Error("Checkpoint without a key succeeded")
	}
	if _, err := DeriveCheckpointKey([]byte("short")); err == nil {
		t.Error("DeriveCheckpointKey accepted a short key")
	}
	k1, k2 := must(DeriveCheckpointKey(testKey)), must(DeriveCheckpointKey(testKey))
	if !bytes.Equal(k1, k2) || len(k1) != 32 || bytes.Equal(k1, testKey) {
		t.Errorf("DeriveCheckpointKey = %x, %x", k1, k2)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
