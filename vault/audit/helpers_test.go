package audit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/catalog"
)

var (
	testKey    = []byte("0123456789abcdef0123456789abcdef")
	epoch      = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	testKindsN = len(kinds)
)

// fixture is a trail on real Badger in a temp dir, with a clock that moves
// one second per reading.
type fixture struct {
	cat   *catalog.Catalog
	trail *Trail
	clock time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c, err := catalog.Open(catalog.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f := &fixture{cat: c, clock: epoch}
	f.trail = New(c, Config{CheckpointKey: testKey, Now: f.now})
	return f
}

// now is not safe for concurrent use; concurrent tests set event times.
func (f *fixture) now() time.Time {
	f.clock = f.clock.Add(time.Second)
	return f.clock
}

// sample is the i-th event of a test trail: kinds and vaults rotate.
func sample(i int) *recordv1.AuditEvent {
	return &recordv1.AuditEvent{
		Kind:      kinds[i%testKindsN],
		Principal: "alice",
		Vault:     fmt.Sprintf("v%d", i%3),
		Key:       fmt.Sprintf("k%d", i),
		RequestId: fmt.Sprintf("req-%d", i),
		Details:   map[string]string{"i": fmt.Sprint(i)},
	}
}

// appendN adds events sample(0..n-1) in transactions of up to 500.
func (f *fixture) appendN(t *testing.T, n int) {
	t.Helper()
	f.appendRange(t, 0, n)
}

func (f *fixture) appendRange(t *testing.T, from, to int) {
	t.Helper()
	for lo := from; lo < to; lo += 500 {
		err := f.cat.Update(t.Context(), func(tx *catalog.Txn) error {
			for i := lo; i < min(lo+500, to); i++ {
				if err := f.trail.Append(tx, sample(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) verify(t *testing.T) Report {
	t.Helper()
	r, err := f.trail.Verify(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantOK(t *testing.T, r Report, events int64) {
	t.Helper()
	if !r.OK || r.EventsChecked != events || r.FirstBadSequence != 0 || r.Reason != "" {
		t.Fatalf("Verify = %+v, want OK over %d events", r, events)
	}
}

func wantBad(t *testing.T, r Report, seq uint64) {
	t.Helper()
	if r.OK || r.FirstBadSequence != seq || r.Reason == "" {
		t.Fatalf("Verify = %+v, want first bad sequence %d", r, seq)
	}
	t.Logf("reported: %d: %s", r.FirstBadSequence, r.Reason)
}

// raw returns the stored bytes of event seq.
func (f *fixture) raw(t *testing.T, seq uint64) []byte {
	t.Helper()
	var b []byte
	err := f.cat.View(func(tx *catalog.Txn) error {
		var ok bool
		var err error
		b, ok, err = tx.AuditEvent(seq)
		if err == nil && !ok {
			err = fmt.Errorf("event %d missing", seq)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tamper runs fn in a transaction, as an attacker with write access to
// the Badger directory would.
func (f *fixture) tamper(t *testing.T, fn func(tx *catalog.Txn) error) {
	t.Helper()
	if err := f.cat.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// rewrite is the wholesale rewrite: edit event `from`, then recompute its
// digest and every prev_sha256 and digest after it, and the head. The
// result is a self-consistent chain that only a checkpoint can contradict.
func (f *fixture) rewrite(t *testing.T, from uint64, edit func(*recordv1.AuditEvent)) {
	t.Helper()
	f.tamper(t, func(tx *catalog.Txn) error {
		head, _, err := tx.AuditHead()
		if err != nil {
			return err
		}
		var prev []byte
		if from > 1 {
			b, _, err := tx.AuditEvent(from - 1)
			if err != nil {
				return err
			}
			ev, err := DecodeEvent(b)
			if err != nil {
				return err
			}
			prev = ev.GetSha256()
		}
		for seq := from; seq <= head; seq++ {
			b, _, err := tx.AuditEvent(seq)
			if err != nil {
				return err
			}
			ev, err := DecodeEvent(b)
			if err != nil {
				return err
			}
			if seq == from {
				edit(ev)
			}
			ev.PrevSha256 = prev
			if b, err = encodeEvent(ev); err != nil {
				return err
			}
			if err := tx.SetAuditEventForTest(seq, b); err != nil {
				return err
			}
			prev = ev.GetSha256()
		}
		return tx.SetAuditHeadForTest(head, prev)
	})
}

func ts(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }
