package audit

import (
	"bytes"
	"fmt"

	"google.golang.org/protobuf/proto"

	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/catalog"
)

// Restore stores ev, an event as Append returned it (sequence and digests
// set), inside tx: a catalog rebuild replays the trail from the journal
// with it. The event must follow the head and its sha256 must match its
// bytes, so the restored trail verifies exactly as the original did.
// Errors wrap ErrTampered when the digest does not match.
func Restore(tx *catalog.Txn, ev *recordv1.AuditEvent) error {
	c := proto.Clone(ev).(*recordv1.AuditEvent)
	b, err := encodeEvent(c)
	if err != nil {
		return fmt.Errorf("audit.Restore %d: %w", ev.GetSequence(), err)
	}
	if !bytes.Equal(c.GetSha256(), ev.GetSha256()) {
		return fmt.Errorf("audit.Restore %d: %w: sha256 does not match the event", ev.GetSequence(), ErrTampered)
	}
	// Replaying a journal twice (a roll-forward from a marker a little
	// behind, see vault/rollforward.go) meets events already stored: the
	// same bytes are skipped, different ones are refused.
	if head, _, err := tx.AuditHead(); err != nil {
		return fmt.Errorf("audit.Restore %d: %w", ev.GetSequence(), err)
	} else if c.GetSequence() <= head {
		stored, ok, err := tx.AuditEvent(c.GetSequence())
		if err != nil {
			return fmt.Errorf("audit.Restore %d: %w", ev.GetSequence(), err)
		}
		if !ok || !bytes.Equal(stored, b) {
			return fmt.Errorf("audit.Restore %d: %w: the catalog holds a different event at this sequence", ev.GetSequence(), ErrTampered)
		}
		return nil
	}
	if err := tx.AppendAuditEvent(c.GetSequence(), b, c.GetSha256()); err != nil {
		return fmt.Errorf("audit.Restore %d: %w", ev.GetSequence(), err)
	}
	return nil
}
