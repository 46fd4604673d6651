package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/catalog"
)

// Report is the outcome of Verify.
type Report struct {
	// EventsChecked counts the events that verified before the walk
	// stopped (all of them when OK).
	EventsChecked      int64
	CheckpointsChecked int64
	OK                 bool
	// FirstBadSequence is the first sequence at which the walk failed: an
	// event that was edited, moved or deleted, the event after one edited
	// with its digest recomputed, or the checkpoint a wholesale rewrite
	// contradicts. Zero when OK.
	FirstBadSequence uint64
	// Reason says what failed, for the operator.
	Reason string
}

// Verify walks the whole trail from sequence 1 in one consistent snapshot:
// it recomputes every event's digest, checks every prev_sha256 link and that
// sequences have no gaps, that the head is the last event, and that every
// checkpoint's HMAC verifies and its digest is still the event's at its
// sequence. A broken trail is a Report with OK false, not an error; errors
// are failures to read.
func (t *Trail) Verify(ctx context.Context) (Report, error) {
	var r Report
	err := t.cat.View(func(tx *catalog.Txn) error {
		r = Report{}
		bad := func(seq uint64, format string, args ...any) (bool, error) {
			r.FirstBadSequence, r.Reason = seq, fmt.Sprintf(format, args...)
			return false, nil
		}

		// Checkpoints are few (one per period); hold them while walking.
		type stored struct {
			seq uint64
			b   []byte
		}
		var cps []stored
		if err := tx.EachAuditCheckpoint(0, func(seq uint64, b []byte) (bool, error) {
			cps = append(cps, stored{seq, bytes.Clone(b)})
			return true, nil
		}); err != nil {
			return err
		}
		checkCP := func(c stored, ev *recordv1.AuditEvent) (bool, error) {
			cp := new(recordv1.AuditCheckpoint)
			if err := proto.Unmarshal(c.b, cp); err != nil {
				return bad(c.seq, "checkpoint at %d does not decode: %v", c.seq, err)
			}
			if cp.GetSequence() != c.seq {
				return bad(c.seq, "checkpoint stored at %d names sequence %d", c.seq, cp.GetSequence())
			}
			if err := t.checkCheckpoint(cp); err != nil {
				return bad(c.seq, "%s", reason(err))
			}
			if !bytes.Equal(cp.GetHeadSha256(), ev.GetSha256()) {
				return bad(c.seq, "event %d differs from its signed checkpoint: the trail was rewritten at or before it", c.seq)
			}
			r.CheckpointsChecked++
			return true, nil
		}

		head, headSHA, err := tx.AuditHead()
		if errors.Is(err, wormvault.ErrDataLoss) {
			_, err = bad(1, "%v", err)
			return err
		}
		if err != nil {
			return err
		}

		var (
			last uint64
			prev []byte
		)
		err = tx.EachAuditEvent(0, func(seq uint64, b []byte) (bool, error) {
			if r.EventsChecked%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return false, err
				}
			}
			if want := last + 1; seq != want {
				return bad(want, "event %d is missing", want)
			}
			ev, err := DecodeEvent(b)
			if err != nil {
				return bad(seq, "event %d: %s", seq, reason(err))
			}
			if ev.GetSequence() != seq {
				return bad(seq, "event stored at %d says it is %d", seq, ev.GetSequence())
			}
			if !bytes.Equal(ev.GetPrevSha256(), prev) {
				return bad(seq, "event %d: prev_sha256 does not match event %d", seq, seq-1)
			}
			for len(cps) > 0 && cps[0].seq <= seq {
				if cps[0].seq < seq { // only a checkpoint at 0 can get here
					return bad(seq, "checkpoint at %d names no event", cps[0].seq)
				}
				if ok, err := checkCP(cps[0], ev); !ok {
					return false, err
				}
				cps = cps[1:]
			}
			prev, last = ev.GetSha256(), seq
			r.EventsChecked++
			return true, nil
		})
		if err != nil || r.Reason != "" {
			return err
		}
		switch {
		case head > last:
			bad(last+1, "event %d is missing: the head is at %d", last+1, head)
		case head < last && head == 0:
			bad(1, "the trail head is missing while %d events are stored", last)
		case head < last:
			bad(head+1, "event %d is past the head at %d", head+1, head)
		case !bytes.Equal(headSHA, prev) && last == 0:
			// A head at 0 with a digest: every event, from the first, is gone
			// (an empty trail has no head). Sequence 0 would read as OK.
			bad(1, "event 1 is missing: the head names sequence 0 with a digest")
		case !bytes.Equal(headSHA, prev):
			bad(last, "the head's sha256 does not match event %d", last)
		case len(cps) > 0:
			bad(last+1, "checkpoint at %d is past the last event %d: events were removed", cps[0].seq, last)
		}
		return nil
	})
	if err != nil {
		return Report{}, fmt.Errorf("audit.Verify: %w", err)
	}
	r.OK = r.Reason == ""
	return r, nil
}
