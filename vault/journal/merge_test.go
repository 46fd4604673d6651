package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestMergeRule checks ReadAll against a model of the merge rule: drives
// hold, lack, or hold a forged copy of each seq at random; the copy most
// holders agree on is read, ties stop the read, and the report names every
// drive that lacks a seq or disagrees.
func TestMergeRule(t *testing.T) {
	const (
		absent = -1
		good   = 0 // forged copies are 1 and 2
	)
	payload := func(seq, variant int) []byte {
		e := meta(seq)
		if variant != good {
			e.GetMetaPut().Value = fmt.Appendf(nil, "forged-%d", variant)
		}
		body, err := encodeBody(e)
		if err != nil {
			t.Fatal(err)
		}
		return encodeEntry(uint64(seq), 0, 1, body)
	}
	rapid.Check(t, func(rt *rapid.T) {
		drives := rapid.IntRange(1, 5).Draw(rt, "drives")
		seqs := rapid.IntRange(1, 12).Draw(rt, "seqs")
		state := make([][]int, drives) // state[d][seq-1]
		for d := range state {
			state[d] = rapid.SliceOfN(rapid.SampledFrom([]int{absent, good, good, good, 1, 2}), seqs, seqs).Draw(rt, fmt.Sprintf("drive%d", d))
		}
		dirs := make([]string, drives)
		root := t.TempDir()
		id := [16]byte{9}
		for d := range dirs {
			dirs[d] = filepath.Join(root, fmt.Sprint(d))
			os.MkdirAll(dirs[d], 0o750)
			var seg []byte
			first := 0
			for s, v := range state[d] {
				if v == absent {
					continue
				}
				if seg == nil {
					first = s + 1
					seg = header{id: id, first: uint64(first)}.appendTo(nil)
				}
				seg = appendFrame(seg, payload(s+1, v))
			}
			if seg != nil {
				os.WriteFile(filepath.Join(dirs[d], segmentName(uint64(first))), seg, 0o640)
			}
		}

		// The model.
		var (
			want     []string
			tieAt    int
			gaps     []SeqRange
			unacked  []SeqRange
			missing  = make([][]SeqRange, drives)
			disagree = make([][]uint64, drives)
		)
		for s := 1; s <= seqs && tieAt == 0; s++ {
			count := map[int]int{}
			for d := range drives {
				if v := state[d][s-1]; v != absent {
					count[v]++
				}
			}
			if len(count) == 0 {
				addSeq(&gaps, uint64(s))
				continue
			}
			holders := 0
			for _, n := range count {
				holders += n
			}
			if holders < drives/2+1 {
				// Fewer holders than the default quorum, every drive
				// readable: never acknowledged, skipped.
				addSeq(&unacked, uint64(s))
				for d := range drives {
					if state[d][s-1] == absent {
						addSeq(&missing[d], uint64(s))
					}
				}
				continue
			}
			win, best, tie := -1, 0, false
			for v, n := range count {
				switch {
				case n > best:
					win, best, tie = v, n, false
				case n == best:
					tie = true
				}
			}
			if tie {
				tieAt = s
				break
			}
			want = append(want, fmt.Sprintf("%d:%s", s, payloadValue(payload(s, win))))
			for d := range drives {
				switch v := state[d][s-1]; {
				case v == absent:
					addSeq(&missing[d], uint64(s))
				case v != win:
					disagree[d] = append(disagree[d], uint64(s))
				}
			}
		}
		// Gaps after the last seq any drive holds are not seen.
		for len(gaps) > 0 && !heldAfter(state, gaps[len(gaps)-1].Last) {
			gaps = gaps[:len(gaps)-1]
		}

		j, err := OpenConfig(Config{Dirs: dirs, ReadOnly: true})
		if err != nil {
			rt.Fatal(err)
		}
		defer j.Close()
		var got []string
		rep, err := j.ReadAll(context.Background(), func(e *Entry) error {
			got = append(got, fmt.Sprintf("%d:%s", e.GetSeq(), e.GetMetaPut().GetValue()))
			return nil
		})
		if tieAt != 0 {
			if !errors.Is(err, ErrNoMajority) || len(got) != 0 {
				rt.Fatalf("seq %d ties: ReadAll = %v, delivered %v", tieAt, err, got)
			}
			return
		}
		if err != nil {
			rt.Fatal(err)
		}
		if !slices.Equal(got, want) {
			rt.Fatalf("read %v\nwant %v", got, want)
		}
		if fmt.Sprint(rep.Unacknowledged) != fmt.Sprint(unacked) {
			rt.Fatalf("unacknowledged %v, want %v", rep.Unacknowledged, unacked)
		}
		if fmt.Sprint(rep.Gaps) != fmt.Sprint(gaps) {
			rt.Fatalf("gaps %v, want %v", rep.Gaps, gaps)
		}
		for d := range drives {
			if fmt.Sprint(rep.Drives[d].Missing) != fmt.Sprint(missing[d]) || fmt.Sprint(rep.Drives[d].Disagree) != fmt.Sprint(disagree[d]) {
				rt.Fatalf("drive %d: missing %v disagree %v, want %v %v", d, rep.Drives[d].Missing, rep.Drives[d].Disagree, missing[d], disagree[d])
			}
		}
	})
}

func payloadValue(p []byte) string {
	e, err := DecodeEntry(p)
	if err != nil {
		panic(err)
	}
	return string(e.GetMetaPut().GetValue())
}

// heldAfter reports whether any drive holds a seq after seq.
func heldAfter(state [][]int, seq uint64) bool {
	for _, s := range state {
		for i := int(seq); i < len(s); i++ {
			if s[i] != -1 {
				return true
			}
		}
	}
	return false
}
