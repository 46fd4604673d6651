package audit

import (
	"errors"
	"testing"

	"github.com/wormvault/wormvault/vault/catalog"
)

// TestCatalogAppendOnly: the catalog's audit methods cannot skip, repeat or
// overwrite an event or a checkpoint.
func TestCatalogAppendOnly(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 3)
	sha := make([]byte, 32)
	for _, seq := range []uint64{0, 1, 3, 5} {
		err := f.cat.Update(t.Context(), func(tx *catalog.Txn) error { return tx.AppendAuditEvent(seq, []byte("x"), sha) })
		if err == nil {
			t.Errorf("AppendAuditEvent(%d) after head 3 succeeded", seq)
		}
	}
	if err := f.cat.Update(t.Context(), func(tx *catalog.Txn) error { return tx.AppendAuditEvent(4, []byte("x"), sha[:3]) }); err == nil {
		t.Error("AppendAuditEvent accepted a short sha256")
	}
	if _, err := f.trail.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	err := f.cat.Update(t.Context(), func(tx *catalog.Txn) error { return tx.PutAuditCheckpoint(3, []byte("forged")) })
	if err == nil {
		t.Error("PutAuditCheckpoint replaced a checkpoint")
	}
	wantOK(t, f.verify(t), 3)

	err = f.cat.View(func(tx *catalog.Txn) error {
		var seen []uint64
		each := func(seq uint64, _ []byte) (bool, error) { seen = append(seen, seq); return len(seen) < 2, nil }
		if err := tx.EachAuditEvent(1, each); err != nil || len(seen) != 2 || seen[0] != 2 || seen[1] != 3 {
			return errors.New("EachAuditEvent(after 1) did not give 2, 3")
		}
		seen = nil
		if err := tx.EachAuditEvent(^uint64(0), each); err != nil || seen != nil {
			return errors.New("EachAuditEvent(after max) gave events")
		}
		if seq, _, ok, err := tx.LatestAuditCheckpoint(); err != nil || !ok || seq != 3 {
			return errors.New("LatestAuditCheckpoint is not 3")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
