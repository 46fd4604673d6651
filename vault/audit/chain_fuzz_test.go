package audit

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wormvault/wormvault/vault/catalog"
)

// chainLen is the length of the fuzzed trail; checkpoints sign events 4
// and 8.
const chainLen = 8

var chainCheckpoints = map[uint64]bool{4: true, 8: true}

// chainState is what an attacker with write access to Badger made of the
// stored trail: the bytes at each sequence and the head.
type chainState struct {
	events  map[uint64][]byte
	headSeq uint64
	headSHA []byte
	// reencoded holds, per sequence, the bytes of the event edited and
	// re-encoded with a correct digest of its own.
	reencoded map[uint64][]byte
	// extended holds the well-formed event added at chainLen+1, chained
	// to event chainLen: in place, it verifies like an original.
	extended []byte
	// headCorrupt: the head does not decode.
	headCorrupt bool
}

// FuzzVerifyChain tampers with a real trail on Badger — bytes flipped,
// events deleted, swapped, copied elsewhere, edited with their digest
// recomputed, valid-looking events added past the head, the newest events
// cut off with the head moved back to match — and checks that Verify
// reports exactly the sequence the documented rules give (see
// expectFirstBad), and that the untouched trail verifies.
func FuzzVerifyChain(f *testing.F) {
	cat, err := catalog.Open(catalog.Options{Dir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { cat.Close() })
	clock := epoch
	trail := New(cat, Config{CheckpointKey: testKey, Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	ctx := context.Background()
	for i := range chainLen {
		if err := cat.Update(ctx, func(tx *catalog.Txn) error { return trail.Append(tx, sample(i)) }); err != nil {
			f.Fatal(err)
		}
		if chainCheckpoints[uint64(i+1)] {
			if _, err := trail.Checkpoint(ctx); err != nil {
				f.Fatal(err)
			}
		}
	}
	orig := map[uint64][]byte{}
	origSHA := map[uint64][]byte{}
	err = cat.View(func(tx *catalog.Txn) error {
		for seq := uint64(1); seq <= chainLen; seq++ {
			b, _, err := tx.AuditEvent(seq)
			if err != nil {
				return err
			}
			ev, err := DecodeEvent(b)
			if err != nil {
				return err
			}
			orig[seq], origSHA[seq] = bytes.Clone(b), ev.GetSha256()
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, ops []byte) {
		st := tamperChain(ops, orig, origSHA)
		err := cat.Update(ctx, func(tx *catalog.Txn) error {
			// Every sequence an op can reach is written, so this also
			// undoes the previous input.
			for seq := uint64(1); seq <= chainLen+2; seq++ {
				if err := tx.SetAuditEventForTest(seq, st.events[seq]); err != nil {
					return err
				}
			}
			return tx.SetAuditHeadForTest(st.headSeq, st.headSHA)
		})
		if err != nil {
			t.Fatal(err)
		}
		r, err := trail.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := expectFirstBad(st, orig, origSHA)
		if r.OK != (want == 0) || r.FirstBadSequence != want || r.OK == (r.Reason != "") {
			t.Fatalf("Verify = %+v, want first bad sequence %d (0: OK)", r, want)
		}
		if r.OK && (r.EventsChecked != chainLen || r.CheckpointsChecked != int64(len(chainCheckpoints))) {
			t.Fatalf("Verify = %+v, want %d events and %d checkpoints checked", r, chainLen, len(chainCheckpoints))
		}
	})
}

// tamperChain runs ops over the original trail. Each op is a byte, op%10
// choosing, followed by its arguments (missing ones read as zero); event
// arguments are taken mod chainLen and name sequences 1..chainLen:
//
//	0 e pos mask  flip bits (mask|1) of the byte pos from the end of event e
//	1 e           delete event e
//	2 e f         swap events e and f
//	3 e d         copy event e to sequence 1+d%(chainLen+2), maybe past the head
//	4 e           delete events e.. and move the head back to e-1
//	5 e x         edit event e's principal and recompute its digest
//	6 x           add a well-formed event at chainLen+1+x%2 chained to
//	              event chainLen, without moving the head
//	7 e n         cut event e to n bytes (mod its length)
//	8 x           move the head to sequence x%(chainLen+3), keeping its digest
//	9             cut the head's digest short: the head no longer decodes
func tamperChain(ops []byte, orig, origSHA map[uint64][]byte) chainState {
	st := chainState{events: map[uint64][]byte{}, headSeq: chainLen, headSHA: origSHA[chainLen], reencoded: map[uint64][]byte{}}
	for seq, b := range orig {
		st.events[seq] = b
	}
	arg := func(i *int) int {
		*i++
		if *i < len(ops) {
			return int(ops[*i])
		}
		return 0
	}
	event := func(i *int) uint64 { return 1 + uint64(arg(i))%chainLen }
	move := func(from, to uint64) {
		if b, ok := st.events[from]; ok {
			st.events[to] = b
		} else {
			delete(st.events, to)
		}
	}
	for i := 0; i < len(ops); i++ {
		switch ops[i] % 10 {
		case 0:
			e, pos, mask := event(&i), arg(&i), byte(arg(&i))|1
			if b, ok := st.events[e]; ok && len(b) > 0 {
				b = bytes.Clone(b)
				b[len(b)-1-pos%len(b)] ^= mask
				st.events[e] = b
			}
		case 1:
			delete(st.events, event(&i))
		case 2:
			e, g := event(&i), event(&i)
			be, okE := st.events[e]
			move(g, e)
			if okE {
				st.events[g] = be
			} else {
				delete(st.events, g)
			}
		case 3:
			e, d := event(&i), 1+uint64(arg(&i))%(chainLen+2)
			move(e, d)
		case 4:
			e := event(&i)
			for seq := e; seq <= chainLen+2; seq++ {
				delete(st.events, seq)
			}
			st.headSeq, st.headSHA, st.headCorrupt = e-1, origSHA[e-1], false
			if e == 1 {
				st.headSHA = make([]byte, 32) // the head names no event
			}
		case 5:
			e, x := event(&i), arg(&i)
			ev, err := DecodeEvent(orig[e])
			if err != nil {
				panic(err)
			}
			ev.Principal = fmt.Sprintf("mallory-%d", x)
			b, err := encodeEvent(ev)
			if err != nil {
				panic(err)
			}
			st.events[e], st.reencoded[e] = b, b
		case 6:
			x := uint64(arg(&i)) % 2
			ev := sample(int(x))
			ev.Sequence = chainLen + 1 + x
			ev.PrevSha256 = origSHA[chainLen]
			b, err := encodeEvent(ev)
			if err != nil {
				panic(err)
			}
			st.events[ev.Sequence] = b
			if x == 0 {
				st.extended = b
			}
		case 7:
			e, n := event(&i), arg(&i)
			if b, ok := st.events[e]; ok && len(b) > 0 {
				st.events[e] = b[:n%len(b)]
			}
		case 8:
			st.headSeq = uint64(arg(&i)) % (chainLen + 3)
		case 9:
			st.headSHA = st.headSHA[:5]
			st.headCorrupt = true
		}
	}
	return st
}

// expectFirstBad is the sequence Verify must report for st, by the rules
// of the trail (package doc and Report): the walk from 1 stops at the first
// event missing, altered, moved or out of place; an event edited with its
// digest recomputed verifies alone and is caught by the next event's link,
// or at itself by a checkpoint or the head that signed it; a head that does
// not decode fails the whole trail at 1; events past the
// head, a head past the events and checkpoints past the last event are
// caught after the walk.
func expectFirstBad(st chainState, orig, origSHA map[uint64][]byte) uint64 {
	if st.headCorrupt {
		return 1 // nothing can be trusted
	}
	var last uint64
	for seq := range st.events {
		last = max(last, seq)
	}
	for s := uint64(1); s <= last; s++ {
		b, ok := st.events[s]
		switch {
		case !ok:
			return s
		case bytes.Equal(b, orig[s]):
			continue
		case s == chainLen+1 && bytes.Equal(b, st.extended):
			continue
		case st.reencoded[s] != nil && bytes.Equal(b, st.reencoded[s]):
			if chainCheckpoints[s] {
				return s
			}
			if last > s || st.headSeq > s {
				return s + 1 // its successor's link, or its absence
			}
			if st.headSeq < s {
				return st.headSeq + 1
			}
			return s
		default:
			return s
		}
	}
	// Events 1..last verify: the original ones, maybe extended.
	switch {
	case st.headSeq > last:
		return last + 1
	case st.headSeq < last:
		return st.headSeq + 1
	case !bytes.Equal(st.headSHA, origSHA[last]):
		return max(last, 1)
	case last < chainLen:
		return last + 1 // the checkpoint at chainLen names no event
	}
	return 0
}
