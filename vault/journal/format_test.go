package journal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fuzz seed corpus in testdata")

func TestFrame(t *testing.T) {
	good := appendFrame(nil, []byte("payload"))
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 1; return b }
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"good", good, nil},
		{"good with trailing bytes", append(bytes.Clone(good), 1, 2, 3), nil},
		{"empty", nil, errShortFrame},
		{"short header", good[:7], errShortFrame},
		{"short payload", good[:len(good)-1], errShortFrame},
		{"zero length", appendFrame(nil, nil), errFrameSize},
		{"huge length", binary.LittleEndian.AppendUint32(nil, MaxEntrySize+1), errShortFrame},
		{"flipped payload", flip(len(good) - 1), errChecksum},
		{"flipped crc", flip(5), errChecksum},
		{"flipped length", flip(0), errChecksum},
		{"all zeros", make([]byte, 64), errFrameSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "huge length" {
				tt.in = append(tt.in, make([]byte, 12)...)
				tt.want = errFrameSize
			}
			p, n, err := decodeFrame(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("decodeFrame err = %v, want %v", err, tt.want)
			}
			if err == nil && (string(p) != "payload" || n != len(good)) {
				t.Fatalf("decodeFrame = %q, %d", p, n)
			}
			// The streaming reader agrees.
			p, err = readFrame(bufio.NewReader(bytes.NewReader(tt.in)))
			if tt.in == nil {
				if err == nil || err.Error() != "EOF" {
					t.Fatalf("readFrame(empty) = %v, want EOF", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || (err == nil && string(p) != "payload") {
				t.Fatalf("readFrame = %q, %v, want %v", p, err, tt.want)
			}
		})
	}
}

func TestHeader(t *testing.T) {
	h := header{id: [16]byte{1, 2, 3}, first: 42}
	b := h.appendTo(nil)
	if len(b) != headerSize {
		t.Fatalf("header is %d bytes", len(b))
	}
	if got, err := decodeHeader(b); err != nil || got != h {
		t.Fatalf("decodeHeader = %+v, %v", got, err)
	}
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 0x80
		if _, err := decodeHeader(c); err == nil {
			t.Errorf("flipping byte %d went unnoticed", i)
		}
	}
	// A future version is refused as unsupported, not as corrupt.
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint16(c[8:], 2)
	binary.LittleEndian.PutUint32(c[44:], frameCRC(nil, c[:44]))
	if _, err := decodeHeader(c); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("version 2: %v", err)
	}
	for _, tc := range []struct {
		name string
		seq  uint64
		ok   bool
	}{{segmentName(1), 1, true}, {segmentName(1<<63 + 5), 1<<63 + 5, true}, {"00000000000000000000.wvj", 0, false},
		{"1.wvj", 0, false}, {"0000000000000000001x.wvj", 0, false}, {segmentName(7) + ".tmp", 0, false}} {
		if seq, ok := parseSegmentName(tc.name); seq != tc.seq || ok != tc.ok {
			t.Errorf("parseSegmentName(%q) = %d, %v", tc.name, seq, ok)
		}
	}
}

// TestEncodeEntry checks the prefix trick: the journal's fields prefixed to
// an entry encoded without them give the deterministic encoding of the
// whole entry.
func TestEncodeEntry(t *testing.T) {
	for i, e := range goldenEntries() {
		body, err := encodeBody(proto.Clone(e).(*Entry))
		if err != nil {
			t.Fatal(err)
		}
		for _, batch := range []struct {
			seq, first uint64
			size       uint32
		}{{7, 0, 1}, {300, 299, 2}, {1 << 40, 1<<40 - 5, 9}} {
			got := encodeEntry(batch.seq, batch.first, batch.size, body)
			whole := proto.Clone(e).(*Entry)
			whole.Seq = batch.seq
			if batch.size > 1 {
				whole.BatchSeq, whole.BatchSize = batch.first, batch.size
			}
			want, _ := proto.MarshalOptions{Deterministic: true}.Marshal(whole)
			if !bytes.Equal(got, want) {
				t.Fatalf("entry %d seq %d: prefixed encoding differs\n got %x\nwant %x", i, batch.seq, got, want)
			}
			in, err := peek(got)
			if err != nil || in.seq != batch.seq || in.batched() != (batch.size > 1) {
				t.Fatalf("peek = %+v, %v", in, err)
			}
		}
	}
	bad := []struct {
		name string
		e    *Entry
	}{
		{"no seq", &Entry{}},
		{"outside batch", &Entry{Seq: 10, BatchSeq: 2, BatchSize: 3}},
		{"future void", &Entry{Seq: 10, Change: &recordv1.JournalEntry_Void{Void: &recordv1.JournalVoid{FirstSeq: 5, LastSeq: 10}}}},
		{"empty void", &Entry{Seq: 10, Change: &recordv1.JournalEntry_Void{Void: &recordv1.JournalVoid{}}}},
	}
	for _, tc := range bad {
		b, _ := proto.Marshal(tc.e)
		if _, err := DecodeEntry(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: DecodeEntry err = %v", tc.name, err)
		}
	}
}

var (
	goldenTime = time.Date(2026, 11, 27, 12, 0, 0, 123456789, time.UTC)
	goldenID   = [16]byte{0x77, 0x76, 0x6a, 0x01, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
)

// goldenEntries are fixed forever: their encoding in a segment is pinned
// by testdata/golden/v1-segment.wvj.
func goldenEntries() []*Entry {
	ts := timestamppb.New(goldenTime)
	version := &recordv1.Version{
		Vault: "golden", Key: "2026/q3/report.pdf", VersionId: "019ac5c2-0d2b-7c3e-8a1b-0123456789ab",
		SizeBytes: 5 << 20, Sha256: bytes.Repeat([]byte{0xab}, 32), TreeSha256: bytes.Repeat([]byte{0xcd}, 32),
		ContentType: "application/pdf", Metadata: map[string]string{"case": "42", "dept": "legal"},
		CreateTime: ts,
		Retention:  &recordv1.Retention{Mode: recordv1.RetentionMode_RETENTION_MODE_COMPLIANCE, RetainUntilTime: timestamppb.New(goldenTime.AddDate(7, 0, 0))},
		LegalHolds: []*recordv1.LegalHold{{HoldId: "case-42", Reason: "litigation", SetBy: "root", SetTime: ts}},
		ObjectId:   "019ac5c2-0d2b-7c3e-8a1b-0123456789ab",
	}
	return []*Entry{
		{Time: ts, Change: &recordv1.JournalEntry_VaultPut{VaultPut: &recordv1.Vault{Name: "golden", CreateTime: ts,
			DefaultRetention: &recordv1.DefaultRetention{Mode: recordv1.RetentionMode_RETENTION_MODE_GOVERNANCE, Days: 30}}}},
		{Time: ts, Change: &recordv1.JournalEntry_VersionPut{VersionPut: version}},
		{Time: ts, Change: &recordv1.JournalEntry_MetaPut{MetaPut: &recordv1.JournalMetaPut{Name: "clock-mark", Value: []byte("2026-11-27T12:00:00Z")}}},
		{Time: ts, Change: &recordv1.JournalEntry_AccessKeyPut{AccessKeyPut: &recordv1.AccessKey{KeyId: "AK1", Principal: "root", SecretSha256: bytes.Repeat([]byte{1}, 32), CreateTime: ts}}},
		{Time: ts, Change: &recordv1.JournalEntry_VersionDelete{VersionDelete: &recordv1.JournalVersionDelete{Vault: "golden", Key: "old", VersionId: "019ac5c2-0d2b-7c3e-8a1b-0123456789ac"}}},
		{Time: ts, Change: &recordv1.JournalEntry_VaultDelete{VaultDelete: &recordv1.JournalVaultDelete{Name: "scratch"}}},
	}
}

const goldenSegment = "testdata/golden/v1-segment.wvj"

// writeGolden appends the golden entries to a fresh journal in dirs: the
// first alone, the next two as one batch, the rest alone, then voids seq 6.
func writeGolden(t testing.TB, dirs []string) []*Entry {
	j, err := OpenConfig(Config{Dirs: dirs, Quorum: len(dirs)})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	j.id = goldenID // no segment exists yet
	es := goldenEntries()
	ctx := context.Background()
	for _, batch := range [][]*Entry{es[:1], es[1:3], es[3:4], es[4:5], es[5:6]} {
		if _, err := j.Append(ctx, batch...); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Void(ctx, SeqRange{6, 6}); err != nil {
		t.Fatal(err)
	}
	return es[:5]
}

func TestGoldenSegment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	writeGolden(t, []string{dir})
	got, err := os.ReadFile(filepath.Join(dir, segmentName(1)))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		os.MkdirAll(filepath.Dir(goldenSegment), 0o755)
		if err := os.WriteFile(goldenSegment, got, 0o644); err != nil {
			t.Fatal(err)
		}
		writeSeeds(t, got)
	}
	want, err := os.ReadFile(goldenSegment)
	if err != nil {
		t.Fatalf("%v (run go test -update once to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the journal segment differs from %s: the on-disk format changed; bump formatVersion and keep a reader for v1\n got %x\nwant %x", goldenSegment, got, want)
	}
}

// TestGoldenRead reads the committed v1 segment back from three drives,
// read-only and read-write, with one drive missing it.
func TestGoldenRead(t *testing.T) {
	seg, err := os.ReadFile(goldenSegment)
	if err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{true, false} {
		t.Run(fmt.Sprintf("readonly=%v", ro), func(t *testing.T) {
			dirs := tempDirs(t, 3)
			for _, d := range dirs[:2] {
				os.MkdirAll(d, 0o750)
				os.WriteFile(filepath.Join(d, segmentName(1)), seg, 0o640)
			}
			j, err := OpenConfig(Config{Dirs: dirs, Quorum: 2, ReadOnly: ro})
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			got, rep := readAll(t, j)
			want := goldenEntries()[:5]
			if len(got) != len(want) {
				t.Fatalf("read %d entries, want %d", len(got), len(want))
			}
			for i := range want {
				w := proto.Clone(want[i]).(*Entry)
				w.Seq = uint64(i + 1)
				if i == 1 || i == 2 {
					w.BatchSeq, w.BatchSize = 2, 2
				}
				if !proto.Equal(got[i], w) {
					t.Fatalf("entry %d = %v, want %v", i, got[i], w)
				}
			}
			if fmt.Sprint(rep.Voided) != "[6]" || fmt.Sprint(rep.Drives[2].Missing) != "[1-7]" || !rep.Drives[0].InLine() {
				t.Fatalf("report = %+v", rep)
			}
		})
	}
}

func writeSeeds(t *testing.T, seg []byte) {
	seed := func(target, name string, b []byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seed("FuzzSegment", "golden", seg)
	seed("FuzzSegment", "torn", seg[:len(seg)-3])
	seed("FuzzSegment", "header-only", seg[:headerSize])
	seed("FuzzSegment", "empty", nil)
	mid := bytes.Clone(seg)
	mid[headerSize+20] ^= 0xff
	seed("FuzzSegment", "corrupt-first-frame", mid)
	off := headerSize
	for i := 0; off < len(seg); i++ {
		p, n, err := decodeFrame(seg[off:])
		if err != nil {
			t.Fatal(err)
		}
		seed("FuzzDecodeEntry", fmt.Sprintf("golden-%d", i), p)
		off += n
	}
	seed("FuzzDecodeEntry", "empty", nil)
}

// FuzzDecodeEntry: the entry decoder never panics, and what it accepts
// re-encodes (journal fields prefixed) to an equal entry.
func FuzzDecodeEntry(f *testing.F) {
	for _, e := range goldenEntries() {
		body, _ := encodeBody(e)
		f.Add(encodeEntry(3, 2, 2, body))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEntry(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		seq, bs, bn := e.GetSeq(), e.GetBatchSeq(), e.GetBatchSize()
		body, err := encodeBody(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeEntry(encodeEntry(seq, bs, bn, body))
		if bn <= 1 {
			bs, bn = 0, 0
		}
		e.Seq, e.BatchSeq, e.BatchSize = seq, bs, bn
		if err != nil || !proto.Equal(back, e) {
			t.Fatalf("round trip: %v\n got %v\nwant %v", err, back, e)
		}
	})
}

// FuzzSegment: any bytes as a drive's only segment, beside a good drive,
// never panic opening (read-only and read-write, which cuts torn tails) or
// reading, and the good drive's entries are always read.
func FuzzSegment(f *testing.F) {
	seg, err := os.ReadFile(goldenSegment)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seg)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, ro := range []bool{true, false} {
			dirs := tempDirs(t, 2)
			os.MkdirAll(dirs[0], 0o750)
			os.MkdirAll(dirs[1], 0o750)
			os.WriteFile(filepath.Join(dirs[0], segmentName(1)), seg, 0o640)
			os.WriteFile(filepath.Join(dirs[1], segmentName(1)), b, 0o640)
			j, err := OpenConfig(Config{Dirs: dirs, Quorum: 1, ReadOnly: ro})
			if err != nil {
				continue // e.g. the fuzzed drive names another journal: a tie
			}
			rep, err := j.ReadAll(context.Background(), func(*Entry) error { return nil })
			if err == nil && rep.Drives[0].Entries != 7 {
				t.Fatalf("readonly=%v: read %d entries of the good drive", ro, rep.Drives[0].Entries)
			}
			if err != nil && !errors.Is(err, ErrNoMajority) {
				t.Fatalf("readonly=%v: ReadAll: %v", ro, err)
			}
			j.Close()
		}
	})
}
