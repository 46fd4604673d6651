package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

// TestTornTail damages the last write of one drive as a crash would: the
// drive opens online with the damage cut away, and the others supply what
// it lost.
func TestTornTail(t *testing.T) {
	lastFrame := func(path string) int64 {
		_, ps := frames(t, path)
		return int64(frameHeaderSize + len(ps[len(ps)-1]))
	}
	tests := []struct {
		name    string
		roll    bool // the last write started a new segment
		damage  func(t *testing.T, path string)
		missing string // seqs the damaged drive lacks afterwards
	}{
		{"cut one byte", false, func(t *testing.T, p string) { truncBy(t, p, 1) }, "[5]"},
		{"cut into frame header", false, func(t *testing.T, p string) { truncBy(t, p, lastFrame(p)-3) }, "[5]"},
		{"garbage appended", false, func(t *testing.T, p string) { appendBytes(t, p, []byte("\x10\x00\x00\x00garbage")) }, "[]"},
		{"zeros appended", false, func(t *testing.T, p string) { appendBytes(t, p, make([]byte, 4096)) }, "[]"},
		{"last frame zeroed", false, func(t *testing.T, p string) {
			n := lastFrame(p)
			truncBy(t, p, n)
			appendBytes(t, p, make([]byte, n))
		}, "[5]"},
		{"last payload flipped", false, func(t *testing.T, p string) { flipAt(t, p, -2) }, "[5]"},
		{"new segment cut in its header", true, func(t *testing.T, p string) { truncTo(t, p, 20) }, "[5]"},
		{"new segment cut after its header", true, func(t *testing.T, p string) { truncTo(t, p, headerSize) }, "[5]"},
		{"new segment cut in its frame", true, func(t *testing.T, p string) { truncBy(t, p, 2) }, "[5]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dirs := tempDirs(t, 3)
			// Quorum 3: every drive has each write before the next, so no
			// drive coalesces two Appends into one write.
			cfg := Config{Dirs: dirs, Quorum: 3}
			if tt.roll {
				cfg.SegmentSize = 1 // every write starts a segment
			}
			j := open(t, cfg)
			appendN(t, j, 0, 5)
			j.Close()
			segs := segments(t, dirs[1])
			last := segs[len(segs)-1]
			tt.damage(t, last)

			// Read-only opening leaves the damage in place but does not read it.
			before, _ := os.ReadFile(last)
			ro := open(t, Config{Dirs: dirs, ReadOnly: true})
			got, rep := readAll(t, ro)
			if names(t, got) != seqNames(0, 5) || fmt.Sprint(rep.Drives[1].Missing) != tt.missing || rep.Drives[1].Err != nil {
				t.Fatalf("read-only: %s, %+v", names(t, got), rep)
			}
			if after, _ := os.ReadFile(last); !bytes.Equal(before, after) {
				t.Fatal("read-only open changed a segment")
			}

			j = open(t, cfg)
			st := j.Drives()[1]
			if st.Err != nil || st.TornBytes == 0 {
				t.Fatalf("drive status %+v", st)
			}
			got, rep = readAll(t, j)
			if names(t, got) != seqNames(0, 5) || fmt.Sprint(rep.Drives[1].Missing) != tt.missing || !rep.Drives[0].InLine() {
				t.Fatalf("read %s, %+v", names(t, got), rep)
			}
			// The drive takes new writes after the cut.
			appendN(t, j, 5, 2)
			got, rep = readAll(t, j)
			if names(t, got) != seqNames(0, 7) || fmt.Sprint(rep.Drives[1].Missing) != tt.missing || rep.Drives[1].Entries < 6 {
				t.Fatalf("after append: %s, %+v", names(t, got), rep)
			}
			j.Close()
			if j := open(t, cfg); j.Drives()[1].TornBytes != 0 {
				t.Fatal("the cut did not last")
			}
		})
	}
}

// TestCorruption damages bytes that are not the last write: the drive is
// reported corrupt, never silently cut, and the others supply the entries.
func TestCorruption(t *testing.T) {
	t.Run("earlier segment", func(t *testing.T) {
		dirs := tempDirs(t, 3)
		cfg := Config{Dirs: dirs, Quorum: 2, SegmentSize: 100}
		j := open(t, cfg)
		appendN(t, j, 0, 10)
		j.Close()
		segs := segments(t, dirs[2])
		flipAt(t, segs[1], -2)
		j = open(t, cfg)
		got, rep := readAll(t, j)
		d := rep.Drives[2]
		if names(t, got) != seqNames(0, 10) || !errors.Is(d.Err, ErrCorrupt) || len(d.Missing) == 0 || d.Entries == 0 {
			t.Fatalf("read %s, drive report %+v", names(t, got), d)
		}
		t.Logf("reported: %v; missing %v", d.Err, d.Missing)
	})
	t.Run("far from the end of the last segment", func(t *testing.T) {
		dirs := tempDirs(t, 3)
		cfg := Config{Dirs: dirs, Quorum: 2}
		j := open(t, cfg)
		appendN(t, j, 0, 3)
		big := make([]byte, 3<<20)
		for i := range 3 {
			e := &Entry{Change: &recordv1.JournalEntry_MetaPut{MetaPut: &recordv1.JournalMetaPut{Name: fmt.Sprintf("big%d", i), Value: big}}}
			if _, err := j.Append(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
		j.Close()
		seg := segments(t, dirs[0])[0]
		flipAt(t, seg, headerSize+frameHeaderSize+1) // in the first frame
		size := fileSize(t, seg)
		j = open(t, cfg)
		if err := j.Drives()[0].Err; !errors.Is(err, ErrCorrupt) {
			t.Fatalf("drive 0 status: %v", err)
		}
		if fileSize(t, seg) != size {
			t.Fatal("corruption was cut away as if torn")
		}
		got, rep := readAll(t, j)
		if len(got) != 6 || !errors.Is(rep.Drives[0].Err, ErrCorrupt) || fmt.Sprint(rep.Drives[0].Missing) != "[1-6]" {
			t.Fatalf("read %d, report %+v", len(got), rep.Drives[0])
		}
		// New writes go to the healthy drives only.
		appendN(t, j, 3, 1)
		if st := j.Drives(); st[0].LastSeq != 0 || st[1].LastSeq != 7 {
			t.Fatalf("drives %+v", st)
		}
	})
	t.Run("header names another seq", func(t *testing.T) {
		dirs := tempDirs(t, 3)
		cfg := Config{Dirs: dirs, Quorum: 3, SegmentSize: 1} // one segment per Append
		j := open(t, cfg)
		appendN(t, j, 0, 3)
		j.Close()
		segs := segments(t, dirs[1])
		hdr, ps := frames(t, segs[2])
		h, _ := decodeHeader(hdr)
		h.first = 2
		writeFrames(t, segs[2], h.appendTo(nil), ps)
		cfg.Quorum = 2
		j = open(t, cfg)
		if err := j.Drives()[1].Err; !errors.Is(err, ErrCorrupt) {
			t.Fatalf("drive 1 status: %v", err)
		}
		if _, err := os.Stat(segs[2]); err != nil {
			t.Fatal("a segment with a readable header was removed as torn")
		}
		got, rep := readAll(t, j)
		if names(t, got) != seqNames(0, 3) || !errors.Is(rep.Drives[1].Err, ErrCorrupt) || fmt.Sprint(rep.Drives[1].Missing) != "[3]" {
			t.Fatalf("read %s, %+v", names(t, got), rep.Drives[1])
		}
	})
	t.Run("seq out of order at the tail", func(t *testing.T) {
		dirs := tempDirs(t, 3)
		cfg := Config{Dirs: dirs, Quorum: 2}
		j := open(t, cfg)
		appendN(t, j, 0, 4)
		j.Close()
		seg := segments(t, dirs[1])[0]
		hdr, ps := frames(t, seg)
		ps[3] = reencode(t, ps[3], func(e *Entry) { e.Seq = 2 })
		writeFrames(t, seg, hdr, ps)
		j = open(t, cfg)
		if err := j.Drives()[1].Err; !errors.Is(err, ErrCorrupt) {
			t.Fatalf("drive 1 status: %v", err)
		}
		got, rep := readAll(t, j)
		if names(t, got) != seqNames(0, 4) || !errors.Is(rep.Drives[1].Err, ErrCorrupt) {
			t.Fatalf("read %s, %+v", names(t, got), rep.Drives[1])
		}
	})
}

func truncTo(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func truncBy(t *testing.T, path string, n int64) { truncTo(t, path, fileSize(t, path)-n) }

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

// flipAt flips a byte; a negative offset counts from the end.
func flipAt(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 {
		off += int64(len(b))
	}
	b[off] ^= 0xff
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
}
