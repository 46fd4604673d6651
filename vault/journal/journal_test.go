package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

func TestAppendRead(t *testing.T) {
	tests := []struct {
		drives, quorum int
		batches        []int // entries per Append
	}{
		{1, 1, []int{1}},
		{3, 2, []int{1, 1, 1}},
		{6, 3, []int{1, 4, 1, 2}},
		{6, 0, []int{3}},
		{16, 9, []int{2, 1}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d-drives/q%d/%v", tt.drives, tt.quorum, tt.batches), func(t *testing.T) {
			dirs := tempDirs(t, tt.drives)
			cfg := Config{Dirs: dirs, Quorum: tt.quorum}
			j, err := OpenConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			n := 0
			for _, size := range tt.batches {
				var es []*Entry
				for range size {
					es = append(es, meta(n))
					n++
				}
				last, err := j.Append(ctx, es...)
				if err != nil || last != uint64(n) {
					t.Fatalf("Append = %d, %v, want %d", last, err, n)
				}
				for i, e := range es {
					if e.GetSeq() != uint64(n-size+i+1) || (size > 1) != (e.GetBatchSize() == uint32(size)) {
						t.Fatalf("entry %d: seq %d batch %d+%d", i, e.GetSeq(), e.GetBatchSeq(), e.GetBatchSize())
					}
				}
			}
			got, rep := readAll(t, j)
			if names(t, got) != seqNames(0, n) || !rep.Clean() || rep.Entries != n || rep.First != 1 || rep.Last != uint64(n) {
				t.Fatalf("read %s, report %+v", names(t, got), rep)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			// Reopened, it reads the same and continues the seqs.
			j = open(t, cfg)
			if j.LastSeq() != uint64(n) {
				t.Fatalf("LastSeq after reopen = %d", j.LastSeq())
			}
			if last, err := j.Append(ctx, meta(n)); err != nil || last != uint64(n+1) {
				t.Fatalf("Append after reopen = %d, %v", last, err)
			}
			got, rep = readAll(t, j)
			if names(t, got) != seqNames(0, n+1) || !rep.Clean() {
				t.Fatalf("after reopen read %s, report %+v", names(t, got), rep)
			}
		})
	}
}

func TestAppendRefuses(t *testing.T) {
	j := open(t, Config{Dirs: tempDirs(t, 1)})
	ctx := context.Background()
	big := &Entry{Change: &recordv1.JournalEntry_MetaPut{MetaPut: &recordv1.JournalMetaPut{Value: make([]byte, MaxEntrySize)}}}
	void := &Entry{Change: &recordv1.JournalEntry_Void{Void: &recordv1.JournalVoid{FirstSeq: 1, LastSeq: 1}}}
	for name, es := range map[string][]*Entry{"none": nil, "no change": {{}}, "too large": {big}, "void": {void}} {
		if _, err := j.Append(ctx, es...); !errors.Is(err, wormvault.ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := j.Void(ctx, SeqRange{1, 1}); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Errorf("void of an unassigned seq: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := j.Append(cancelled, meta(0)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	j.Close()
	if _, err := j.Append(ctx, meta(0)); !errors.Is(err, ErrClosed) {
		t.Errorf("closed: %v", err)
	}
	if err := (Config{Dirs: []string{"a", "a/"}}).Validate(); err == nil {
		t.Error("a directory given twice is accepted")
	}
	if err := (Config{Dirs: []string{"a"}, Quorum: 2}).Validate(); err == nil {
		t.Error("quorum above the drive count is accepted")
	}
}

func TestSegmentRoll(t *testing.T) {
	dirs := tempDirs(t, 3)
	cfg := Config{Dirs: dirs, Quorum: 3, SegmentSize: 200}
	j := open(t, cfg)
	appendN(t, j, 0, 40)
	j.Close()
	for _, d := range dirs {
		segs := segments(t, d)
		if len(segs) < 5 {
			t.Fatalf("%s: %d segments for 40 entries of ~30 bytes at 200 bytes each", d, len(segs))
		}
		for _, s := range segs {
			hdr, ps := frames(t, s)
			h, _ := decodeHeader(hdr)
			first, _ := peek(ps[0])
			if segmentName(h.first) != filepath.Base(s) || first.seq != h.first {
				t.Fatalf("%s: header first %d, first entry %d", s, h.first, first.seq)
			}
		}
	}
	j = open(t, cfg)
	appendN(t, j, 40, 10)
	got, rep := readAll(t, j)
	if names(t, got) != seqNames(0, 50) || !rep.Clean() {
		t.Fatalf("read %s, %+v", names(t, got), rep)
	}
	// ReadFrom starts in the middle.
	var from []*Entry
	if _, err := j.ReadFrom(context.Background(), 33, func(e *Entry) error { from = append(from, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if names(t, from) != seqNames(33, 17) {
		t.Fatalf("ReadFrom(33) = %s", names(t, from))
	}
}

// TestQuorum fails drives at each stage of a write: Append succeeds while
// a quorum holds the batch and fails with ErrQuorum below it.
func TestQuorum(t *testing.T) {
	stages := map[string]func(*faultDir){
		"create": func(d *faultDir) { d.failCreate.Store(true) },
		"write":  func(d *faultDir) { d.failWrite.Store(true) },
		"sync":   func(d *faultDir) { d.failSync.Store(true) },
	}
	for _, tt := range []struct{ drives, quorum, failures int }{
		{6, 3, 0}, {6, 3, 2}, {6, 3, 3}, {6, 3, 4}, {6, 4, 2}, {6, 4, 3}, {3, 2, 1}, {3, 2, 2}, {1, 1, 1},
	} {
		for stage, inject := range stages {
			ok := tt.drives-tt.failures >= tt.quorum
			t.Run(fmt.Sprintf("%d-of-%d-q%d/%s", tt.failures, tt.drives, tt.quorum, stage), func(t *testing.T) {
				dirs := tempDirs(t, tt.drives)
				cfg, fds := faulty(dirs, tt.quorum)
				cfg.SegmentSize = 1 // every write starts a segment, so create is exercised
				j := open(t, cfg)
				appendN(t, j, 0, 2)
				for _, d := range fds[:tt.failures] {
					inject(d)
				}
				_, err := j.Append(context.Background(), meta(2))
				if ok != (err == nil) || (err != nil && !errors.Is(err, ErrQuorum)) {
					t.Fatalf("Append with %d of %d drives failing: %v", tt.failures, tt.drives, err)
				}
				if _, err := j.quiesce(context.Background()); err != nil {
					t.Fatal(err)
				}
				offline := 0
				for _, st := range j.Drives() {
					if st.Err != nil {
						offline++
					}
				}
				if offline != tt.failures {
					t.Fatalf("%d drives offline, want %d", offline, tt.failures)
				}
				// Still writable above quorum; below, refused without consuming seqs.
				last, err := j.Append(context.Background(), meta(3))
				if ok != (err == nil) || (!ok && last != 0) {
					t.Fatalf("second Append = %d, %v", last, err)
				}
				j.Close()
				if !ok {
					return
				}
				// Reopened with the faults gone: every acknowledged entry is there.
				j = open(t, Config{Dirs: dirs, Quorum: tt.quorum})
				got, rep := readAll(t, j)
				if names(t, got) != seqNames(0, 4) || rep.Entries != 4 {
					t.Fatalf("read %s, %+v", names(t, got), rep)
				}
				for i, d := range rep.Drives {
					if (i < tt.failures) == d.InLine() {
						t.Fatalf("drive %d report %+v", i, d)
					}
				}
			})
		}
	}
}

func TestOpenNeedsDrives(t *testing.T) {
	dirs := tempDirs(t, 6)
	j := open(t, Config{Dirs: dirs, Quorum: 3})
	appendN(t, j, 0, 3)
	j.Close()
	// Three readable drives are a write quorum but could all have missed
	// the last acknowledged entry: opening for writes needs four.
	cfg := Config{Dirs: dirs, Quorum: 3}
	for _, d := range dirs[:3] {
		os.Rename(d, d+".away")
	}
	for _, d := range dirs[:3] {
		os.WriteFile(d, nil, 0o640) // a file where the directory should be
	}
	if _, err := OpenConfig(cfg); !errors.Is(err, ErrQuorum) {
		t.Fatalf("open with 3 of 6 drives: %v", err)
	}
	ro := open(t, Config{Dirs: dirs, Quorum: 3, ReadOnly: true})
	got, rep := readAll(t, ro)
	if names(t, got) != seqNames(0, 3) || rep.Drives[0].Err == nil {
		t.Fatalf("read-only: %s, %+v", names(t, got), rep)
	}
}

// TestMajority edits one drive's copy of a seq into another valid entry: the
// majority copy is read and the drive reported; Repair puts it back.
func TestMajority(t *testing.T) {
	dirs := tempDirs(t, 3)
	cfg := Config{Dirs: dirs, Quorum: 2}
	j := open(t, cfg)
	appendN(t, j, 0, 4)
	j.Close()
	seg := segments(t, dirs[1])[0]
	hdr, ps := frames(t, seg)
	ps[1] = reencode(t, ps[1], func(e *Entry) { e.GetMetaPut().Value = []byte("forged") })
	writeFrames(t, seg, hdr, ps)

	j = open(t, cfg)
	got, rep := readAll(t, j)
	if names(t, got) != seqNames(0, 4) || string(got[1].GetMetaPut().GetValue()) != "1" {
		t.Fatalf("read %v", got)
	}
	if fmt.Sprint(rep.Drives[1].Disagree) != "[2]" || !rep.Drives[0].InLine() || !rep.Drives[2].InLine() || rep.Clean() {
		t.Fatalf("report %+v", rep)
	}
	rep, err := j.Repair(context.Background())
	if err != nil || fmt.Sprint(rep.Drives[1].Disagree) != "[2]" {
		t.Fatalf("Repair = %+v, %v", rep, err)
	}
	got, rep = readAll(t, j)
	if names(t, got) != seqNames(0, 4) || !rep.Clean() {
		t.Fatalf("after repair: %s, %+v", names(t, got), rep)
	}

	// One drive against one: no majority, and nothing is delivered.
	dirs = tempDirs(t, 2)
	j = open(t, Config{Dirs: dirs, Quorum: 2})
	appendN(t, j, 0, 3)
	j.Close()
	seg = segments(t, dirs[0])[0]
	hdr, ps = frames(t, seg)
	ps[2] = reencode(t, ps[2], func(e *Entry) { e.GetMetaPut().Value = []byte("forged") })
	writeFrames(t, seg, hdr, ps)
	j = open(t, Config{Dirs: dirs, Quorum: 2})
	n := 0
	_, err = j.ReadAll(context.Background(), func(*Entry) error { n++; return nil })
	if !errors.Is(err, ErrNoMajority) || !errors.Is(err, wormvault.ErrDataLoss) || n != 0 {
		t.Fatalf("tie: %v after %d entries", err, n)
	}
	t.Logf("tie: %v", err)
	if _, err := j.Repair(context.Background()); !errors.Is(err, ErrNoMajority) {
		t.Fatalf("Repair of a tie: %v", err)
	}
}

// TestDrivesMissing loses two of five drives entirely (replaced with empty
// disks): the journal opens, reads everything, reports them, writes to
// them, and Repair fills them.
func TestDrivesMissing(t *testing.T) {
	dirs := tempDirs(t, 5)
	cfg := Config{Dirs: dirs, Quorum: 3}
	j := open(t, cfg)
	appendN(t, j, 0, 10)
	j.Close()
	os.RemoveAll(filepath.Dir(dirs[1]))
	os.RemoveAll(dirs[3])
	j = open(t, cfg)
	for _, st := range j.Drives() {
		if st.Err != nil {
			t.Fatalf("drive offline: %+v", st)
		}
	}
	got, rep := readAll(t, j)
	if names(t, got) != seqNames(0, 10) {
		t.Fatalf("read %s", names(t, got))
	}
	for _, i := range []int{1, 3} {
		if d := rep.Drives[i]; fmt.Sprint(d.Missing) != "[1-10]" || d.Err != nil {
			t.Fatalf("drive %d: %+v", i, d)
		}
	}
	appendN(t, j, 10, 2)
	_, rep = readAll(t, j)
	if d := rep.Drives[1]; fmt.Sprint(d.Missing) != "[1-10]" || d.Entries != 2 {
		t.Fatalf("after append, drive 1: %+v", d)
	}
	if _, err := j.Repair(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, rep = readAll(t, j)
	if names(t, got) != seqNames(0, 12) || !rep.Clean() {
		t.Fatalf("after repair: %s, %+v", names(t, got), rep)
	}
	appendN(t, j, 12, 1)
	j.Close()
	j = open(t, cfg)
	if got, rep := readAll(t, j); names(t, got) != seqNames(0, 13) || !rep.Clean() {
		t.Fatalf("after reopen: %s, %+v", names(t, got), rep)
	}
}

func TestForeignDrive(t *testing.T) {
	dirs := tempDirs(t, 3)
	other := tempDirs(t, 1)
	j := open(t, Config{Dirs: other})
	appendN(t, j, 100, 1)
	j.Close()
	j = open(t, Config{Dirs: dirs})
	appendN(t, j, 0, 2)
	j.Close()
	os.RemoveAll(dirs[2])
	os.Rename(other[0], dirs[2])
	j = open(t, Config{Dirs: dirs})
	if err := j.Drives()[2].Err; !errors.Is(err, ErrCorrupt) {
		t.Fatalf("foreign drive: %v", err)
	}
	got, rep := readAll(t, j)
	if names(t, got) != seqNames(0, 2) || rep.Drives[2].Err == nil || rep.Drives[2].Entries != 0 {
		t.Fatalf("read %s, %+v", names(t, got), rep.Drives[2])
	}
	if _, err := j.Repair(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, rep := readAll(t, j); !rep.Clean() {
		t.Fatalf("after repair %+v", rep)
	}
}

// TestVoid: an Append whose caller gives up is voided by the next write, as
// is one voided explicitly; neither is read back.
func TestVoid(t *testing.T) {
	dirs := tempDirs(t, 3)
	cfg, fds := faulty(dirs, 2)
	j := open(t, cfg)
	ctx := context.Background()
	appendN(t, j, 0, 1)
	var holds []chan struct{}
	for _, d := range fds {
		holds = append(holds, d.holdSyncs())
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := j.Append(short, meta(1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("abandoned Append: %v", err)
	}
	for i, d := range fds {
		d.mu.Lock()
		d.hold = nil
		d.mu.Unlock()
		close(holds[i])
	}
	// Wait for the abandoned write to land (seq 2 durable, void pending).
	for j.LastSeq() < 2 {
		time.Sleep(time.Millisecond)
	}
	// The abandoned entry (seq 2) is written but voided.
	if last, err := j.Append(ctx, meta(2)); err != nil || last != 4 {
		t.Fatalf("Append after abandon = %d, %v (want seq 4: after the void at 3)", last, err)
	}
	if err := j.Void(ctx, SeqRange{4, 4}); err != nil {
		t.Fatal(err)
	}
	appendN(t, j, 3, 1)
	for _, jj := range []*Journal{j, nil} {
		if jj == nil {
			j.Close()
			jj = open(t, Config{Dirs: dirs, ReadOnly: true})
		}
		got, rep := readAll(t, jj)
		if names(t, got) != "[k0 k3]" || fmt.Sprint(rep.Voided) != "[2 4]" || !rep.Clean() {
			t.Fatalf("read %s, report %+v", names(t, got), rep)
		}
	}
}

// TestHungDrive: a drive whose fsync never returns holds up nobody while a
// quorum remains; reads wait for it only as long as their context allows.
func TestHungDrive(t *testing.T) {
	cfg, fds := faulty(tempDirs(t, 3), 2)
	j := open(t, cfg)
	appendN(t, j, 0, 1)
	if _, err := j.quiesce(context.Background()); err != nil {
		t.Fatal(err)
	}
	hold := fds[0].holdSyncs()
	defer close(hold)
	done := make(chan struct{})
	go func() {
		defer close(done)
		appendN(t, j, 1, 20)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Appends wait for a hung drive")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := j.ReadAll(ctx, func(*Entry) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadAll with a hung drive: %v", err)
	}
	if st := j.Drives(); st[0].Err != nil || st[1].LastSeq != 21 {
		t.Fatalf("drives %+v", st)
	}
}

// TestIncompleteBatch tears a three-entry batch on every drive: none of it
// is read, and seqs continue after it.
func TestIncompleteBatch(t *testing.T) {
	dirs := tempDirs(t, 3)
	cfg := Config{Dirs: dirs, Quorum: 2}
	j := open(t, cfg)
	appendN(t, j, 0, 1)
	if _, err := j.Append(context.Background(), meta(1), meta(2), meta(3)); err != nil {
		t.Fatal(err)
	}
	j.Close()
	for _, d := range dirs {
		seg := segments(t, d)[0]
		_, ps := frames(t, seg)
		truncBy(t, seg, int64(frameHeaderSize+len(ps[3])+1)) // last entry gone, third torn
	}
	j = open(t, cfg)
	got, rep := readAll(t, j)
	if names(t, got) != "[k0]" || fmt.Sprint(rep.Incomplete) != "[2]" {
		t.Fatalf("read %s, report %+v", names(t, got), rep)
	}
	if last, err := j.Append(context.Background(), meta(4)); err != nil || last != 5 {
		t.Fatalf("Append after a torn batch = %d, %v: want seq 5, after the batch's reserved seqs", last, err)
	}
	got, rep = readAll(t, j)
	if names(t, got) != "[k0 k4]" || fmt.Sprint(rep.Incomplete) != "[2]" || fmt.Sprint(rep.Gaps) != "[3-4]" {
		t.Fatalf("read %s, report %+v", names(t, got), rep)
	}
}

func TestRepairSwapRecovery(t *testing.T) {
	for _, state := range []string{"tmp written", "dir moved aside", "tmp moved in"} {
		t.Run(state, func(t *testing.T) {
			dirs := tempDirs(t, 3)
			cfg := Config{Dirs: dirs, Quorum: 2}
			j := open(t, cfg)
			appendN(t, j, 0, 3)
			j.Close()
			d := dirs[0]
			os.RemoveAll(d)
			if err := os.CopyFS(d+".repair", os.DirFS(dirs[1])); err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(d+".old", 0o750)
			switch state {
			case "tmp written":
				os.MkdirAll(d, 0o750) // the old, empty journal
			case "dir moved aside":
			case "tmp moved in":
				os.Rename(d+".repair", d)
			}
			j = open(t, cfg)
			got, rep := readAll(t, j)
			want := "[1-3]"
			if state != "tmp written" {
				want = "[]"
			}
			if names(t, got) != seqNames(0, 3) || fmt.Sprint(rep.Drives[0].Missing) != want {
				t.Fatalf("read %s, %+v", names(t, got), rep.Drives[0])
			}
			for _, p := range []string{d + ".repair", d + ".old"} {
				if _, err := os.Stat(p); err == nil {
					t.Fatalf("%s left behind", p)
				}
			}
		})
	}
}

// TestConcurrentAppend: 16 goroutines append 200 entries each; seqs are
// unique and gapless and every entry reads back under its seq.
func TestConcurrentAppend(t *testing.T) {
	const workers, each = 16, 200
	dirs := tempDirs(t, 6)
	j := open(t, Config{Dirs: dirs, Quorum: 3, SegmentSize: 64 << 10})
	seqs := make([][]uint64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				n := w*each + i
				var (
					last uint64
					err  error
				)
				if i%10 == 9 { // some batches, so they interleave with singles
					last, err = j.Append(context.Background(), meta(n), meta(-n-1))
					if err == nil {
						seqs[w] = append(seqs[w], last-1)
					}
				} else {
					last, err = j.Append(context.Background(), meta(n))
				}
				if err != nil {
					t.Error(err)
					return
				}
				seqs[w] = append(seqs[w], last)
			}
		})
	}
	wg.Wait()
	var all []uint64
	for _, s := range seqs {
		all = append(all, s...)
	}
	slices.Sort(all)
	for i, s := range all {
		if s != uint64(i+1) {
			t.Fatalf("seq %d at position %d: seqs are not unique and gapless", s, i)
		}
	}
	got, rep := readAll(t, j)
	if len(got) != len(all) || !rep.Clean() {
		t.Fatalf("read %d of %d entries, %+v", len(got), len(all), rep)
	}
	seen := map[string]bool{}
	for i, e := range got {
		if e.GetSeq() != uint64(i+1) || seen[metaName(e)] {
			t.Fatalf("entry %d: seq %d name %s", i, e.GetSeq(), metaName(e))
		}
		seen[metaName(e)] = true
	}
}
